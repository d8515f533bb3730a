"""The claims ledger: every claim of the article with the pipeline's own number and a verdict."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from assets.ingest.schema import normalise_alias
from assets.report.china_claims import with_epoch_spec, with_observed_share, with_site_intensity
from assets.report.chip_claims import check_chip_spec
from assets.report.findings import OPEN, Finding, needs
from assets.report.market_claims import (
    check_count_change,
    check_count_level,
    check_funding,
    check_price_change,
    check_price_level,
    quarter_end,
)
from assets.report.power_claims import check_cluster_power, with_modelled_power
from assets.report.prediction_claims import check_share_prediction, check_survival_prediction
from assets.report.scenario_claims import (
    check_equivalence,
    check_mfu,
    check_mfu_gap,
    check_moe_cost_ratio,
    check_spec_speedup,
    check_training_cost,
    check_training_cost_change,
)

SPEC_COLUMNS = (
    "bf16_dense_tflops",
    "bf16_sparse_tflops",
    "fp8_dense_tflops",
    "fp8_sparse_tflops",
    "int8_dense_tops",
    "memory_gb",
    "memory_bw_gbps",
    "scale_up_gbps",
    "scale_out_gbps",
    "tdp_w",
)
FINDING_COLUMNS = {
    "pipeline_value": "float64",
    "pipeline_value_low": "float64",
    "pipeline_value_high": "float64",
    "pipeline_unit": "string",
    "tolerance": "string",
    "verdict": "string",
    "probability": "float64",
    "evidence": "string",
    "rule": "string",
    "reason": "string",
}
_QUARTER = r"Q([1-4])\s*(\d{4})"
_PERIOD = re.compile(_QUARTER + r"\s*(?:->|→|to)\s*" + _QUARTER)
_LEVEL = re.compile(_QUARTER + r"\s+value")
_YEARS = re.compile(r"\b(20\d\d)\s*(?:-|–|to)\s*(20\d\d)\b")
_EARLY = re.compile(r"early\s+(\d{4})", re.IGNORECASE)
_COUNT = re.compile(r"(\d{1,3}(?:,\d{3})+|\d{2,})\s+[A-Za-z]")
_PARAMS = re.compile(r"(\d+(?:\.\d+)?)\s*B\b", re.IGNORECASE)
_CLUSTER = re.compile(r"cluster of\s+(\d{1,3}(?:,\d{3})+|\d+)", re.IGNORECASE)
#: Where a claim names no workload, cluster or chip: the article's chip table is about LLaMA-70B
#: training, its MFU comparison uses 1,024-chip clusters, and its reference chip is the H100.
REFERENCE_PARAMS_B = 70.0
REFERENCE_CLUSTER_CHIPS = 1024
REFERENCE_CHIP = "H100"
_RATIO = re.compile(r"^(?P<prec>bf16|fp8|int8)_(?P<unit>tflops|tops)_ratio_to_(?P<ref>.+)$")


@dataclass(frozen=True)
class LedgerInputs:
    """The tables the verdicts draw on; an absent optional table leaves its claims open."""

    claims: pd.DataFrame
    hardware_specs: pd.DataFrame
    chip_aliases: pd.DataFrame
    chip_specs: pd.DataFrame | None = None
    power_observations: pd.DataFrame | None = None
    api_prices: pd.DataFrame | None = None
    price_decline_estimates: pd.DataFrame | None = None
    model_counts: pd.DataFrame | None = None
    china_share_forecast: pd.DataFrame | None = None
    startup_survival: pd.DataFrame | None = None
    training_scenarios: pd.DataFrame | None = None
    inference_costs: pd.DataFrame | None = None
    cluster_equivalence: pd.DataFrame | None = None
    datacenter_power: pd.DataFrame | None = None
    gpu_rental_prices: pd.DataFrame | None = None
    startup_events: pd.DataFrame | None = None
    cluster_power_intensity: pd.DataFrame | None = None
    domestic_share_observed: pd.DataFrame | None = None
    chip_comparison: pd.DataFrame | None = None
    #: MFU claims are compared with the predicted band widened by the model's calibration error.
    mfu_tolerance_pp: float = 2.0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every input table's name (the asset it comes from)."""
        return tuple(f.name for f in fields(cls))


def _text(claim: dict, key: str) -> str:
    v = claim.get(key)
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v)


def _num(claim: dict, key: str) -> float:
    v = claim.get(key)
    return float("nan") if v is None or v is pd.NA or pd.isna(v) else float(v)


def claim_words(claim: dict) -> str:
    """Unit, note and text of a claim joined: where its period and counts are written."""
    return " ".join(_text(claim, k) for k in ("unit", "note", "text"))


def claim_period(claim: dict) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The (start, end) quarter ends of a 'Q1 2024 -> Q1 2025' claim, or None."""
    m = _PERIOD.search(claim_words(claim))
    if m is None:
        return None
    q0, y0, q1, y1 = (int(g) for g in m.groups())
    return quarter_end(y0, q0), quarter_end(y1, q1)


def claim_date(claim: dict) -> pd.Timestamp | None:
    """The date a level claim speaks of ('Q1 2024 value' in its note), or None."""
    m = _LEVEL.search(claim_words(claim))
    return quarter_end(int(m.group(2)), int(m.group(1))) if m else None


def chip_lookup(inputs: LedgerInputs) -> dict[str, str]:
    """Normalised alias or chip id -> chip id."""
    a = inputs.chip_aliases
    out = {normalise_alias(c): c for c in inputs.hardware_specs["chip_id"]}
    out.update({normalise_alias(c): c for c in a["chip_id"]})
    out.update(zip(a["alias"].map(normalise_alias), a["chip_id"], strict=True))
    return out


def _vendor(inputs: LedgerInputs, chip_id: str) -> str:
    rows = inputs.hardware_specs[inputs.hardware_specs["chip_id"] == chip_id]
    return str(rows["vendor"].iloc[0]) if len(rows) else ""


def _chip_spec(claim: dict, inputs: LedgerInputs) -> Finding:
    chip = chip_lookup(inputs).get(normalise_alias(_text(claim, "subject")))
    if chip is None:
        return Finding(
            OPEN,
            f"'{_text(claim, 'subject')}' is not a chip in chip_aliases or hardware_specs: no sourced spec",
            "chip_spec",
        )
    found = check_chip_spec(
        chip,
        claim["metric"],
        _num(claim, "value"),
        inputs.hardware_specs,
        inputs.chip_specs,
        _vendor(inputs, chip),
    )
    return with_epoch_spec(
        found, chip, claim["metric"], _num(claim, "value"), inputs.chip_comparison
    )


def _spec_ratio(claim: dict, inputs: LedgerInputs) -> Finding:
    """'<chip> matches <ref> in FP8' as a ratio: the claimed figure is ratio x the reference
    chip's sourced dense figure at that precision, then checked like any spec."""
    m = _RATIO.match(claim["metric"])
    lookup = chip_lookup(inputs)
    chip = lookup.get(normalise_alias(_text(claim, "subject")))
    ref = lookup.get(normalise_alias(m.group("ref")))
    column = f"{m.group('prec')}_dense_{m.group('unit')}"
    if chip is None or ref is None:
        return Finding(
            OPEN,
            f"unknown chip in '{_text(claim, 'subject')}' / '{m.group('ref')}'",
            "chip_spec_ratio",
        )
    ref_rows = inputs.hardware_specs[
        (inputs.hardware_specs["chip_id"] == ref) & (inputs.hardware_specs["kind"] != "claim")
    ]
    ref_value = ref_rows.loc[ref_rows["is_default"].fillna(False).astype(bool), column].dropna()
    if ref_value.empty:
        return Finding(OPEN, f"no sourced {column} for the reference chip {ref}", "chip_spec_ratio")
    claimed = _num(claim, "value") * float(ref_value.iloc[0])
    f = check_chip_spec(
        chip, column, claimed, inputs.hardware_specs, inputs.chip_specs, _vendor(inputs, chip)
    )
    return Finding(
        f.verdict,
        f"claimed {_num(claim, 'value'):g} x {ref} {column} {ref_value.iloc[0]:g} = {claimed:g}: {f.reason}",
        "chip_spec_ratio",
        f.tolerance,
        f.evidence,
        f.pipeline_value,
        f.pipeline_value_low,
        f.pipeline_value_high,
        f.pipeline_unit,
    )


def _cluster_power(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.power_observations is None:
        return needs("power_observations", "cluster_power")
    m = _COUNT.search(_text(claim, "unit") + " " + _text(claim, "text"))
    chip = chip_lookup(inputs).get(normalise_alias(_text(claim, "subject")))
    if m is None or chip is None:
        return Finding(OPEN, "the claim states no GPU count or chip", "cluster_power")
    n_gpus = float(m.group(1).replace(",", ""))
    found = check_cluster_power(n_gpus, _num(claim, "value"), chip, inputs.power_observations)
    found = with_site_intensity(found, n_gpus, _num(claim, "value"), inputs.cluster_power_intensity)
    return with_modelled_power(found, chip, n_gpus, inputs.datacenter_power)


def _region_tier(claim: dict) -> tuple[str | None, tuple[str, ...]]:
    words = (claim_words(claim) + " " + _text(claim, "subject")).lower()
    region = "CN" if "china" in words or "chinese" in words else None
    tier = (
        ("gpt4_class",)
        if "gpt-4 class" in words or "gpt4_class" in words
        else ("small", "gpt4_class", "frontier")
    )
    return region, tier


def _price_level(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.api_prices is None:
        return needs("api_prices", "api_price_level")
    date = claim_date(claim)
    if date is None:
        return Finding(OPEN, "the claim states no date for its price", "api_price_level")
    region, tiers = _region_tier(claim)
    return check_price_level(
        _num(claim, "value"), date, inputs.api_prices, tiers[0] if len(tiers) == 1 else None, region
    )


def _price_change(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.api_prices is None or inputs.price_decline_estimates is None:
        return needs("api_prices and price_decline_estimates", "api_price_change")
    period = claim_period(claim)
    sign = -1.0 if "decline" in claim["metric"] else 1.0
    lo = sign * _num(claim, "value")
    hi = sign * _num(claim, "value_high") if not np.isnan(_num(claim, "value_high")) else lo
    if period is None:
        early = _EARLY.search(claim_words(claim))
        if early is None:
            return Finding(OPEN, "the claim states no period", "api_price_change")
        dates = pd.to_datetime(inputs.api_prices["effective_date"], errors="coerce")
        period = (pd.Timestamp(f"{early.group(1)}-01-31"), dates.max())
    region, tiers = _region_tier(claim)
    return check_price_change(
        lo,
        hi,
        period[0],
        period[1],
        inputs.api_prices,
        inputs.price_decline_estimates,
        tiers,
        region or "US",
    )


def _count_change(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.model_counts is None:
        return needs("model_counts", "startup_count_change")
    period = claim_period(claim)
    if period is None:
        return Finding(OPEN, "the claim states no period", "startup_count_change")
    return check_count_change(_num(claim, "value"), period[0], period[1], inputs.model_counts)


def _count_level(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.model_counts is None:
        return needs("model_counts", "startup_count_level")
    date = claim_date(claim)
    if date is None:
        return Finding(OPEN, "the claim states no date for its count", "startup_count_level")
    return check_count_level(_num(claim, "value"), date, inputs.model_counts)


def _share(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.china_share_forecast is None:
        found = needs(
            "china_share_forecast", "share_forecast", "domestic share by year with intervals"
        )
        return with_observed_share(found, inputs.domestic_share_observed)
    hi = _num(claim, "value_high")
    horizon = pd.Timestamp(claim["horizon"])
    found = check_share_prediction(
        _num(claim, "value"),
        hi if not np.isnan(hi) else _num(claim, "value"),
        horizon.year,
        inputs.china_share_forecast,
    )
    return with_observed_share(found, inputs.domestic_share_observed)


def _survival(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.startup_survival is None:
        return needs("startup_survival", "survival_forecast", "share of startups gone by the date")
    return check_survival_prediction(
        _num(claim, "value") / 100, pd.Timestamp(claim["horizon"]), inputs.startup_survival
    )


def _params_b(claim: dict, sizes: pd.Series, default: float = REFERENCE_PARAMS_B) -> float:
    """Model size in billions named in the claim ('LLaMA-70B', 'deepseek-moe-67b') among the
    ``sizes`` the scenario table models (so '910B' of a chip name is passed over), else the default."""
    words = _text(claim, "subject") + " " + claim_words(claim)
    known = sizes.dropna().astype(float).unique()
    for m in _PARAMS.finditer(words):
        size = float(m.group(1))
        if any(abs(size - k) <= 0.05 * k for k in known):
            return size
    return default


def _cluster_chips(claim: dict) -> int:
    """Cluster size named in the claim ('a cluster of 1,024 ...'), else the reference size."""
    m = _CLUSTER.search(claim_words(claim))
    return int(m.group(1).replace(",", "")) if m else REFERENCE_CLUSTER_CHIPS


def _mentioned_chip(claim: dict, inputs: LedgerInputs, exclude: str | None) -> str | None:
    """The first chip other than ``exclude`` whose alias appears in the claim's metric or words
    (the excluded chip's own spellings are removed first, so 'Ascend 910B' never reads as '910')."""
    words = normalise_alias(claim["metric"] + " " + claim_words(claim))
    lookup = chip_lookup(inputs)
    by_length = sorted(lookup, key=lambda a: (-len(a), a))
    for alias in by_length:
        if lookup[alias] == exclude:
            words = words.replace(alias, "|")
    for alias in by_length:
        if len(alias) >= 4 and alias in words and lookup[alias] != exclude:
            return lookup[alias]
    return None


def _subject_chip(claim: dict, inputs: LedgerInputs) -> str | None:
    return chip_lookup(inputs).get(normalise_alias(_text(claim, "subject")))


def _reference_chip(inputs: LedgerInputs) -> str:
    return chip_lookup(inputs).get(normalise_alias(REFERENCE_CHIP), REFERENCE_CHIP)


def _mfu(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.training_scenarios is None:
        return needs("training_scenarios", "training_mfu", "MFU by chip, cluster and model")
    chip = _subject_chip(claim, inputs) or _text(claim, "subject")
    hi = _num(claim, "value_high")
    return check_mfu(
        chip,
        _num(claim, "value"),
        hi if not np.isnan(hi) else _num(claim, "value"),
        inputs.training_scenarios,
        _params_b(claim, inputs.training_scenarios["params_b"]),
        _cluster_chips(claim),
        inputs.mfu_tolerance_pp,
    )


def _mfu_gap(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.training_scenarios is None:
        return needs("training_scenarios", "training_mfu_gap", "MFU by chip and cluster")
    chip = _subject_chip(claim, inputs) or _text(claim, "subject")
    ref = _mentioned_chip(claim, inputs, chip) or _reference_chip(inputs)
    hi = _num(claim, "value_high")
    return check_mfu_gap(
        chip,
        ref,
        _num(claim, "value"),
        hi if not np.isnan(hi) else _num(claim, "value"),
        inputs.training_scenarios,
        _params_b(claim, inputs.training_scenarios["params_b"]),
        _cluster_chips(claim),
    )


def _equivalence(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.cluster_equivalence is None:
        return needs("cluster_equivalence", "cluster_equivalence", "chips matching N H100s")
    chip = _subject_chip(claim, inputs) or _text(claim, "subject")
    ref = _mentioned_chip(claim, inputs, chip) or _reference_chip(inputs)
    return check_equivalence(chip, ref, _num(claim, "value"), inputs.cluster_equivalence)


def _moe_cost(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.inference_costs is None:
        return needs("inference_costs", "inference_cost", "MoE vs dense cost per token")
    return check_moe_cost_ratio(
        _num(claim, "value"),
        _params_b(claim, inputs.inference_costs["params_b"]),
        inputs.inference_costs,
    )


def _spec_decoding(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.inference_costs is None:
        return needs("inference_costs", "speculative_decoding", "speed-up with a draft model")
    hi = _num(claim, "value_high")
    return check_spec_speedup(
        _num(claim, "value"),
        hi if not np.isnan(hi) else _num(claim, "value"),
        inputs.inference_costs,
    )


def _training_cost(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.training_scenarios is None:
        return needs("training_scenarios", "training_cost", "cost of a training run")
    chip = _subject_chip(claim, inputs) or _reference_chip(inputs)
    return check_training_cost(
        _num(claim, "value"),
        chip,
        _params_b(claim, inputs.training_scenarios["params_b"]),
        _cluster_chips(claim),
        inputs.training_scenarios,
    )


def _training_cost_change(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.gpu_rental_prices is None:
        return needs("gpu_rental_prices", "training_cost_change", "rental prices over time")
    period = claim_period(claim)
    if period is None:
        return Finding(OPEN, "the claim states no period", "training_cost_change")
    chip = _subject_chip(claim, inputs) or _reference_chip(inputs)
    return check_training_cost_change(
        _num(claim, "value"), period[0], period[1], chip, inputs.gpu_rental_prices
    )


def _funding(claim: dict, inputs: LedgerInputs) -> Finding:
    if inputs.startup_events is None:
        return needs("startup_events", "funding_raised", "dated funding rounds")
    m = _YEARS.search(claim_words(claim))
    if m is None:
        return Finding(OPEN, "the claim states no period", "funding_raised")
    start = pd.Timestamp(f"{m.group(1)}-01-01")
    end = pd.Timestamp(f"{m.group(2)}-12-31")
    return check_funding(
        _num(claim, "value"), _text(claim, "subject"), start, end, inputs.startup_events
    )


#: (test on the claim, check) in order: the first test that holds picks the check.
RULES = (
    (lambda c: c["metric"] in SPEC_COLUMNS, _chip_spec),
    (lambda c: _RATIO.match(c["metric"]) is not None, _spec_ratio),
    (lambda c: c["metric"] == "mfu_pct", _mfu),
    (lambda c: c["metric"] == "mfu_gap_pct", _mfu_gap),
    (lambda c: c["metric"] == "training_cost_usd", _training_cost),
    (lambda c: c["metric"] == "training_cost_change_pct", _training_cost_change),
    (lambda c: c["metric"].startswith("chips_per_") and "equivalent" in c["metric"], _equivalence),
    (lambda c: c["metric"] == "inference_cost_ratio", _moe_cost),
    (lambda c: c["metric"] == "latency_speedup_x", _spec_decoding),
    (lambda c: c["metric"] == "cluster_mw", _cluster_power),
    (lambda c: c["metric"] == "api_price_usd_per_mtok", _price_level),
    (
        lambda c: c["metric"].startswith("api_price_") and c["metric"].endswith("_pct"),
        _price_change,
    ),
    (lambda c: c["metric"] == "startup_count_change_pct", _count_change),
    (lambda c: c["metric"] == "startup_count", _count_level),
    (lambda c: c["metric"] == "funding_raised_usd", _funding),
    (lambda c: c["metric"] == "startup_exit_pct" and pd.notna(c.get("horizon")), _survival),
    (lambda c: c["metric"] == "domestic_share_pct" and pd.notna(c.get("horizon")), _share),
)


def finding_for(claim: dict, inputs: LedgerInputs) -> Finding:
    """The finding of one claim: the first rule that applies, or open when no dataset speaks to it."""
    for test, check in RULES:
        if test(claim):
            return check(claim, inputs)
    what = "a qualitative statement" if claim["metric"] == "qualitative" else f"'{claim['metric']}'"
    return Finding(OPEN, f"no dataset in the pipeline measures {what}", "no_data")


def claims_ledger(inputs: LedgerInputs) -> pd.DataFrame:
    """Every claims row with the pipeline's value, tolerance, verdict, evidence, probability and
    reason beside it, in claim order."""
    claims = inputs.claims.sort_values("claim_id", kind="mergesort").reset_index(drop=True)
    found = [finding_for(c, inputs).as_dict() for c in claims.to_dict("records")]
    table = pd.DataFrame(found, columns=list(FINDING_COLUMNS))
    out = pd.concat([claims, table], axis=1)
    for name, dtype in FINDING_COLUMNS.items():
        out[name] = out[name].astype(dtype)
    return out
