"""Evidence from Epoch AI's tables for the ledger: site power per H100e for a cluster-power claim,
the observed domestic share for the share prediction, and Epoch's chip specs where the curated
sheet has no value."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from assets.report.chip_claims import unit_of
from assets.report.findings import CONSISTENT, CONTRADICTED, OPEN, Finding, fmt, within_pct

#: Epoch's facility (reported) power per H100e at existing clusters of this chip family is the
#: comparison for a claim about H100 clusters; the 10th-90th percentile is the range.
HOPPER = "NVIDIA Hopper"
FACILITY_REPORTED = "facility (reported)"
RANGE_QUANTILES = (0.1, 0.9)
TOLERANCE_PCT = 10.0
SPEC_TOLERANCE_PCT = 5.0
COMPARISON_SPECS = ("bf16_dense_tflops", "fp8_dense_tflops", "int8_dense_tops", "memory_gb")
COMPARISON_SPECS += ("memory_bw_gbps", "tdp_w")


def hopper_facility_kw(intensity: pd.DataFrame) -> pd.DataFrame:
    """Existing clusters of NVIDIA Hopper chips with a reported facility power."""
    return intensity[
        (intensity["basis"] == "gpu_clusters")
        & (intensity["power_kind"] == FACILITY_REPORTED)
        & (intensity["chip_family"] == HOPPER)
        & (intensity["status"] == "Existing")
    ]


def with_site_intensity(
    found: Finding, n_gpus: float, claimed_mw: float, intensity: pd.DataFrame | None
) -> Finding:
    """The cluster-power finding judged also against Epoch's reported facility kW per H100e at
    existing Hopper clusters (10th-90th percentile, ±10 %): when both agree the verdict stands,
    when they differ it becomes open with both reasons."""
    if intensity is None:
        return found
    rows = hopper_facility_kw(intensity)
    if rows.empty:
        return replace(found, reason=f"{found.reason}; cluster_power_intensity has no Hopper site")
    lo, hi = (float(rows["kw_per_h100e"].quantile(q)) for q in RANGE_QUANTILES)
    med = float(rows["kw_per_h100e"].median())
    implied_kw = claimed_mw * 1000.0 / n_gpus
    inside = lo * (1 - TOLERANCE_PCT / 100) <= implied_kw <= hi * (1 + TOLERANCE_PCT / 100)
    epoch_verdict = CONSISTENT if inside else CONTRADICTED
    text = (
        f"Epoch AI's {len(rows)} existing Hopper clusters with reported facility power draw "
        f"{fmt(lo)}-{fmt(hi)} kW per H100e (10th-90th percentile, median {fmt(med)}), i.e. "
        f"{fmt(n_gpus * lo / 1000)}-{fmt(n_gpus * hi / 1000)} MW for {fmt(n_gpus)} GPUs, against "
        f"the claim's {fmt(implied_kw)} kW"
    )
    verdict = found.verdict if found.verdict == epoch_verdict else OPEN
    evidence = "cluster_power_intensity: " + "; ".join(
        f"{s} <{(u or '').split(' ')[0]}>" if u else str(s)
        for s, u in zip(rows["site"], rows["row_links"], strict=True)
    )
    return replace(
        found,
        verdict=verdict,
        reason=f"{found.reason}; {text}"
        + ("" if verdict != OPEN else "; the two sources disagree, so the claim stays open"),
        evidence=f"{found.evidence} | {evidence}" if found.evidence else evidence,
    )


def observed_share_text(observed: pd.DataFrame | None) -> str:
    """The observed domestic share per year with its range, as ledger words."""
    if observed is None or observed.empty:
        return ""
    parts = [
        f"{int(r.year)} {fmt(r.domestic_share_pct)}% "
        f"({fmt(r.domestic_share_pct_low)}-{fmt(r.domestic_share_pct_high)}%)"
        for r in observed.sort_values("year").itertuples()
    ]
    return (
        "observed domestic share of H100e sold into China (Epoch AI chip sales, China-market "
        "chips only, complete years): " + ", ".join(parts)
    )


def with_observed_share(found: Finding, observed: pd.DataFrame | None) -> Finding:
    """The share-prediction finding with the observed series beside it in reason and evidence."""
    text = observed_share_text(observed)
    if not text:
        return found
    years = ", ".join(str(int(y)) for y in sorted(observed["year"]))
    evidence = f"domestic_share_observed: years {years} <{observed['source_url'].iloc[0]}>"
    return replace(
        found,
        reason=f"{found.reason}; {text}",
        evidence=f"{found.evidence} | {evidence}" if found.evidence else evidence,
    )


def with_epoch_spec(
    found: Finding, chip_id: str, column: str, claimed: float, comparison: pd.DataFrame | None
) -> Finding:
    """Where the curated sheet gives no value (open finding without a pipeline value), the claim
    is checked against Epoch AI's ML hardware value for the chip (±5 %)."""
    if comparison is None or found.verdict != OPEN or found.pipeline_value == found.pipeline_value:
        return found
    if column not in COMPARISON_SPECS:
        return found
    rows = comparison[(comparison["chip_id"] == chip_id) & comparison[column].notna()]
    if rows.empty:
        return found
    r = rows.iloc[0]
    value = float(r[column])
    ok = within_pct(claimed, value, SPEC_TOLERANCE_PCT)
    return Finding(
        CONSISTENT if ok else CONTRADICTED,
        f"{found.reason}; Epoch AI's ML hardware gives {r['hardware_name']} {column} {fmt(value)}"
        f", {'matching' if ok else 'not'} the claimed {fmt(claimed)}",
        found.rule,
        f"±{SPEC_TOLERANCE_PCT:g}% of Epoch AI's value",
        evidence=f"chip_comparison: {r['hardware_name']} <{r['row_links'] or r['source_url']}>",
        pipeline_value=value,
        pipeline_value_low=value,
        pipeline_value_high=value,
        pipeline_unit=found.pipeline_unit or unit_of(column),
    )
