"""Checks MFU, cluster-equivalence, inference-cost, speculative-decoding and training-cost claims
against the rust_core scenario tables (training_scenarios, cluster_equivalence, inference_costs)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from assets.report.findings import CONSISTENT, CONTRADICTED, OPEN, Finding, cite, fmt
from assets.report.wording import directional, directional_range

#: The precision of MFU comparisons: every chip in the article's table has BF16 (the 910B has no FP8).
MFU_PRECISION = "bf16"
#: A model MFU judges a claim only where each chip's compute efficiency is fitted on at least this
#: many published runs: one run fixes the constant exactly (no check of it), and an unfitted family
#: borrows another chip's constant, so the model's figure is shown but the claim stays open.
MIN_EFFICIENCY_RUNS = 2
#: How the reason of such an open claim begins (the report quotes what follows).
THIN_EVIDENCE = "open because "
#: "Comparable" cost: within a factor of two either way.
COMPARABLE_FACTOR = 2.0


def fitted_runs(chip_id: str) -> list[str] | None:
    """Ids of the published runs the chip's BF16 compute efficiency is fitted on (None: the
    efficiency is an assumption, borrowed from another family), from the embedded constants."""
    import rust_core

    family = rust_core.efficiency_family(chip_id, MFU_PRECISION)
    basis = rust_core.calibration()["compute_efficiency_basis"].get(family, "") if family else ""
    if not basis.startswith("fitted"):
        return None
    return basis.split(": ", 1)[1].split(", ")


def model_caveat(chip_id: str) -> str:
    """What the calibrated model's figure for this chip rests on (from the embedded constants)."""
    import rust_core

    n = len(rust_core.calibration()["rows"])
    runs = fitted_runs(chip_id)
    if runs is None:
        return (
            f"model calibrated on {n} published runs; none on this chip, whose compute efficiency "
            "is an assumption"
        )
    if len(runs) == 1:
        return (
            f"model calibrated on {n} published runs; this chip's efficiency rests on one "
            f"published run ({runs[0]})"
        )
    return f"model calibrated on {n} published runs, {', '.join(runs)} on this chip family"


def efficiency_runs(chip_id: str) -> int:
    """How many published runs the chip's BF16 compute efficiency is fitted on (0: an assumption)."""
    return len(fitted_runs(chip_id) or [])


def _too_thin(chips: tuple[str, ...], runs_of: Callable[[str], int]) -> str | None:
    """Why the model cannot judge a claim on these chips (None when every chip is fitted on
    enough runs)."""
    thin = {c: runs_of(c) for c in chips if runs_of(c) < MIN_EFFICIENCY_RUNS}
    if not thin:
        return None
    said = ", ".join(f"{c} ({n} run{'s' if n != 1 else ''})" for c, n in thin.items())
    return (
        f"{THIN_EVIDENCE}the model's compute efficiency rests on fewer than {MIN_EFFICIENCY_RUNS} "
        f"published runs for {said}, so its MFU there is not a test of the claim"
    )


def _overlap(a_lo: float, a_hi: float, b_lo: float, b_hi: float) -> bool:
    return a_lo <= b_hi and b_lo <= a_hi


def _band(row: pd.Series, column: str) -> tuple[float, float, float]:
    """(central, low, high) of a scenario column and its Monte Carlo band, the central value
    included in the range (it is computed at the calibrated constants, not the band median)."""
    mid = float(row[column])
    lo = np.nanmin([mid, float(row.get(f"{column}_p5", np.nan))])
    hi = np.nanmax([mid, float(row.get(f"{column}_p95", np.nan))])
    return mid, float(lo), float(hi)


def training_row(
    training_scenarios: pd.DataFrame, chip_id: str, params_b: float, chips: int
) -> pd.Series | None:
    """The feasible dense BF16 scenario of the chip whose model has ``params_b`` (±5 %) and whose
    cluster is ``chips`` (None when the grid has none)."""
    t = training_scenarios
    rows = t[
        (t["chip_id"] == chip_id)
        & (t["precision"] == MFU_PRECISION)
        & (t["chips"] == chips)
        & t["feasible"].astype(bool)
        & ((t["params_b"] - params_b).abs() <= 0.05 * params_b)
        & (t["active_params_b"] == t["params_b"])
    ]
    return None if rows.empty else rows.sort_values("scenario_id", kind="mergesort").iloc[0]


def check_mfu(
    chip_id: str,
    low_pct: float,
    high_pct: float,
    training_scenarios: pd.DataFrame,
    params_b: float,
    chips: int,
    tolerance_pp: float,
    runs_of: Callable[[str], int] = efficiency_runs,
) -> Finding:
    """A claimed MFU range against the predicted MFU and its band at the cluster size, widened by
    the model's calibration error: consistent when they overlap, contradicted when not."""
    rule = "training_mfu"
    tol = f"claimed range overlaps the predicted band ±{tolerance_pp:g} pp (calibration MAE)"
    row = training_row(training_scenarios, chip_id, params_b, chips)
    if row is None:
        return Finding(
            OPEN,
            f"training_scenarios has no feasible {MFU_PRECISION} scenario for {chip_id} with a "
            f"{fmt(params_b)}B dense model on {fmt(chips)} chips",
            rule,
            tol,
        )
    mid, lo, hi = _band(row, "mfu_pct")
    agree = _overlap(low_pct, high_pct, lo - tolerance_pp, hi + tolerance_pp)
    thin = _too_thin((chip_id,), runs_of)
    return Finding(
        OPEN if thin else CONSISTENT if agree else CONTRADICTED,
        f"predicted MFU of {row['model_id']} on {fmt(chips)} {chip_id} ({MFU_PRECISION}): "
        f"{fmt(mid)}% (band {fmt(lo)}-{fmt(hi)}%) vs claimed {fmt(low_pct)}-{fmt(high_pct)}%; "
        f"{model_caveat(chip_id)}" + (f"; {thin}" if thin else ""),
        rule,
        tol,
        evidence=f"training_scenarios: {row['scenario_id']}",
        pipeline_value=mid,
        pipeline_value_low=lo,
        pipeline_value_high=hi,
        pipeline_unit="% MFU (Monte Carlo band)",
    )


def check_mfu_gap(
    chip_id: str,
    reference_chip: str,
    low_pct: float,
    high_pct: float,
    training_scenarios: pd.DataFrame,
    params_b: float,
    chips: int,
    runs_of: Callable[[str], int] = efficiency_runs,
) -> Finding:
    """A claimed relative MFU shortfall of ``chip_id`` against ``reference_chip`` at the same
    cluster size: 100 x (1 - MFU_chip / MFU_ref), with the range spanned by both bands."""
    rule = "training_mfu_gap"
    tol = "claimed range overlaps the predicted gap range"
    row_b = training_row(training_scenarios, chip_id, params_b, chips)
    row_a = training_row(training_scenarios, reference_chip, params_b, chips)
    if row_a is None or row_b is None:
        missing = reference_chip if row_a is None else chip_id
        return Finding(
            OPEN,
            f"training_scenarios has no scenario for {missing} on {fmt(chips)} chips",
            rule,
            tol,
        )
    b_mid, b_lo, b_hi = _band(row_b, "mfu_pct")
    a_mid, a_lo, a_hi = _band(row_a, "mfu_pct")
    gap = 100 * (1 - b_mid / a_mid)
    gap_lo, gap_hi = 100 * (1 - b_hi / a_lo), 100 * (1 - b_lo / a_hi)
    gap_lo, gap_hi = min(gap_lo, gap), max(gap_hi, gap)
    agree = _overlap(low_pct, high_pct, gap_lo, gap_hi)
    said = f"{directional(gap, '% lower')} (band {directional_range(gap_lo, gap_hi, 'lower')})"
    thin = _too_thin((chip_id, reference_chip), runs_of)
    return Finding(
        OPEN if thin else CONSISTENT if agree else CONTRADICTED,
        f"on {fmt(chips)} chips ({row_a['model_id']}, {MFU_PRECISION}) the model predicts MFU "
        f"{fmt(b_mid)}% for {chip_id} vs {fmt(a_mid)}% for {reference_chip}: {said}; claimed "
        f"{fmt(low_pct)}-{fmt(high_pct)}% lower; {model_caveat(chip_id)}"
        + (f"; {thin}" if thin else ""),
        rule,
        tol,
        evidence=f"training_scenarios: {row_b['scenario_id']}; {row_a['scenario_id']}",
        pipeline_value=gap,
        pipeline_value_low=gap_lo,
        pipeline_value_high=gap_hi,
        pipeline_unit="% lower MFU than the reference",
    )


def check_equivalence(
    chip_id: str,
    reference_chip: str,
    claimed_per_ref: float,
    cluster_equivalence: pd.DataFrame,
    runs_of: Callable[[str], int] = efficiency_runs,
) -> Finding:
    """ "N_B chips of B deliver less than N_A of A" as a lower bound N_B / N_A on chips of B per
    chip of A: consistent when the solved chips needed per A chip, over the band, exceed it.
    Open, as the MFU claims, when either chip's compute efficiency rests on too few runs: the
    solved ratio follows the two efficiencies."""
    rule = "cluster_equivalence"
    tol = "claimed ratio is a lower bound: the solved ratio's band must stay above it"
    e = cluster_equivalence
    rows = e[(e["chip_a"] == reference_chip) & (e["chip_b"] == chip_id)]
    # the scenario whose N_B / N_A is the claimed ratio (e.g. 10,000 vs 4,000)
    rows = rows[(rows["chips_b_eval"] / rows["chips_a"] - claimed_per_ref).abs() < 1e-9]
    if "batch_basis" in rows:
        rows = rows[rows["batch_basis"] != "grown batch"]
    if rows.empty:
        return Finding(
            OPEN,
            f"cluster_equivalence has no {chip_id} vs {reference_chip} scenario at "
            f"{fmt(claimed_per_ref)} chips per reference chip",
            rule,
            tol,
        )
    r = rows.sort_values("scenario_id", kind="mergesort").iloc[0]
    n_a = float(r["chips_a"])
    needed = r["chips_b_needed"]
    ratio = float(needed) / n_a if pd.notna(needed) else np.inf
    p5, p95 = r.get("chips_b_needed_p5"), r.get("chips_b_needed_p95")
    lo = min(ratio, float(p5) / n_a) if pd.notna(p5) else ratio
    hi = max(ratio, float(p95) / n_a) if pd.notna(p95) else ratio
    tp_lo = min(
        float(r["throughput_ratio_b_eval_vs_a"]), float(r.get("throughput_ratio_p5", np.nan))
    )
    tp_hi = max(
        float(r["throughput_ratio_b_eval_vs_a"]), float(r.get("throughput_ratio_p95", np.nan))
    )
    verdict = CONSISTENT if lo > claimed_per_ref else CONTRADICTED if hi < claimed_per_ref else OPEN
    thin = _too_thin((chip_id, reference_chip), runs_of)
    return Finding(
        OPEN if thin else verdict,
        f"{fmt(r['chips_b_eval'])} {chip_id} deliver {fmt(tp_lo)}-{fmt(tp_hi)}x the training "
        f"throughput of {fmt(n_a)} {reference_chip} ({r['model_id']}); matching them takes "
        f"{fmt(needed)} chips ({fmt(ratio)} per {reference_chip}, band {fmt(lo)}-{fmt(hi)}) "
        f"at an equal global batch{_other_bases(e, r)}; {model_caveat(chip_id)}"
        + (f"; {thin}" if thin else ""),
        rule,
        tol,
        evidence=f"cluster_equivalence: {r['scenario_id']}",
        pipeline_value=ratio,
        pipeline_value_low=lo,
        pipeline_value_high=hi,
        pipeline_unit=f"{chip_id} chips per {reference_chip} (band)",
    )


def _other_bases(equivalence: pd.DataFrame, row: pd.Series) -> str:
    """The same comparison at equal chip counts and with each side at its own grown batch, where
    the table has them, so the reader sees which effect drives the chip ratio."""
    e = equivalence
    pair = e[(e["chip_a"] == row["chip_a"]) & (e["chip_b"] == row["chip_b"])]
    pair = pair[pair["chips_a"] == row["chips_a"]]
    parts = []
    basis = pair["batch_basis"] if "batch_basis" in pair else pd.Series("", index=pair.index)
    same = pair[(pair["chips_b_eval"] == pair["chips_a"]) & (basis != "grown batch")]
    if not same.empty:
        s = same.iloc[0]
        parts.append(
            f"; at equal chip counts {fmt(s['chips_a'])} {row['chip_b']} deliver "
            f"{fmt(s['throughput_ratio_b_eval_vs_a'])}x the throughput"
        )
    grown = pair[(basis == "grown batch") & (pair["chips_b_eval"] == row["chips_b_eval"])]
    if not grown.empty and pd.notna(grown.iloc[0]["chips_b_needed"]):
        g = grown.iloc[0]
        parts.append(
            f"; with each cluster at its own grown batch it takes {fmt(g['chips_b_needed'])} "
            f"({fmt(float(g['chips_b_needed']) / float(g['chips_a']))} per {row['chip_a']})"
        )
    return "".join(parts)


def check_moe_cost_ratio(claimed: float, params_b: float, inference_costs: pd.DataFrame) -> Finding:
    """ "A {params_b}B MoE costs about as much to serve as a 7B dense model": the ratio of output
    cost per token over the dense 7B on the same chip, bits and regime; comparable within 2x."""
    rule = "inference_cost"
    tol = f"'comparable': ratio within {COMPARABLE_FACTOR:g}x either way of {fmt(claimed)}"
    i = inference_costs
    moe = i[
        (i["experts"] > 1)
        & ((i["params_b"] - params_b).abs() <= 0.05 * params_b)
        & i["cost_ratio_vs_dense_7b"].notna()
        & (i["draft_model_id"].fillna("") == "")
    ]
    if moe.empty:
        return Finding(OPEN, f"inference_costs has no {fmt(params_b)}B MoE scenario", rule, tol)
    ratios = moe["cost_ratio_vs_dense_7b"].astype(float)
    median, lo, hi = float(ratios.median()), float(ratios.min()), float(ratios.max())
    band_lo, band_hi = claimed / COMPARABLE_FACTOR, claimed * COMPARABLE_FACTOR
    if band_lo <= lo and hi <= band_hi:
        verdict = CONSISTENT
    elif hi < band_lo or lo > band_hi:
        verdict = CONTRADICTED
    else:
        verdict = CONSISTENT if band_lo <= median <= band_hi else OPEN
    dense = i[
        (i["experts"] <= 1)
        & ((i["params_b"] - params_b).abs() <= 0.05 * params_b)
        & i["cost_ratio_vs_dense_7b"].notna()
    ]["cost_ratio_vs_dense_7b"]
    dense_text = f"; a dense {fmt(params_b)}B costs {fmt(dense.median())}x" if len(dense) else ""
    return Finding(
        verdict,
        f"{len(moe)} MoE scenarios ({', '.join(sorted(set(moe['model_id'])))}) serve at "
        f"{fmt(lo)}-{fmt(hi)}x the output cost of the dense 7B (median {fmt(median)}x){dense_text}; "
        "roofline decode (no measured serving run), so costs are lower bounds",
        rule,
        tol,
        evidence="inference_costs: "
        + ", ".join(sorted(moe["scenario_id"])[:6])
        + (f" and {len(moe) - 6} more" if len(moe) > 6 else ""),
        pipeline_value=median,
        pipeline_value_low=lo,
        pipeline_value_high=hi,
        pipeline_unit="x the dense 7B's output cost per token",
    )


def check_spec_speedup(low_x: float, high_x: float, inference_costs: pd.DataFrame) -> Finding:
    """A claimed latency speed-up of speculative decoding against the latency-regime (batch 1)
    sweep over acceptance rates: consistent when the ranges overlap."""
    rule = "speculative_decoding"
    tol = "claimed range overlaps the batch-1 speed-ups over the acceptance-rate sweep"
    i = inference_costs
    spec = i[(i["draft_model_id"].fillna("") != "") & (i["max_batch"] == 1)]
    if spec.empty:
        return Finding(
            OPEN, "inference_costs has no speculative-decoding latency scenario", rule, tol
        )
    s = spec["spec_speedup"].astype(float)
    lo, hi = float(s.min()), float(s.max())
    reach = spec[(s >= low_x) & (s <= high_x)]["acceptance_rate"]
    throughput = i[(i["draft_model_id"].fillna("") != "") & (i["max_batch"] > 1)]["spec_speedup"]
    return Finding(
        CONSISTENT if _overlap(low_x, high_x, lo, hi) else CONTRADICTED,
        f"batch-1 speed-up {fmt(lo)}-{fmt(hi)}x over acceptance rates "
        f"{fmt(spec['acceptance_rate'].min())}-{fmt(spec['acceptance_rate'].max())}"
        + (
            f"; {fmt(low_x)}-{fmt(high_x)}x needs acceptance {fmt(reach.min())}-{fmt(reach.max())}"
            if len(reach)
            else ""
        )
        + (
            f"; at large batch the draft slows decoding ({fmt(throughput.min())}-{fmt(throughput.max())}x)"
            if len(throughput)
            else ""
        ),
        rule,
        tol,
        evidence=f"inference_costs: {len(spec)} spec-* scenarios at batch 1",
        pipeline_value=float(s.median()),
        pipeline_value_low=lo,
        pipeline_value_high=hi,
        pipeline_unit="x decode speed (batch 1)",
    )


def check_training_cost(
    claimed_usd: float, chip_id: str, params_b: float, chips: int, training_scenarios: pd.DataFrame
) -> Finding:
    """A claimed training-run cost against the predicted rental cost of the run and its band."""
    rule = "training_cost"
    tol = "claim inside the predicted cost band"
    row = training_row(training_scenarios, chip_id, params_b, chips)
    if row is None or pd.isna(row["cost_usd"]):
        return Finding(
            OPEN,
            f"no costed {fmt(params_b)}B scenario for {chip_id} on {fmt(chips)} chips",
            rule,
            tol,
        )
    mid, lo, hi = _band(row, "cost_usd")
    return Finding(
        CONSISTENT if lo <= claimed_usd <= hi else CONTRADICTED,
        f"{row['model_id']} on {fmt(chips)} {chip_id} ({fmt(row['training_tokens'])} tokens, "
        f"{fmt(row['days_to_train'])} days) costs {fmt(mid)} USD at "
        f"{fmt(row['price_usd_per_chip_hour'])} USD/chip-hour (band {fmt(lo)}-{fmt(hi)})",
        rule,
        tol,
        evidence=f"training_scenarios: {row['scenario_id']}; price: {row.get('price_basis', '')}",
        pipeline_value=mid,
        pipeline_value_low=lo,
        pipeline_value_high=hi,
        pipeline_unit="USD per run (band)",
    )


def check_training_cost_change(
    claimed_pct: float,
    start: pd.Timestamp,
    end: pd.Timestamp,
    chip_id: str,
    gpu_rental_prices: pd.DataFrame,
) -> Finding:
    """A claimed change in the cost of the same training run: with the hardware and model fixed
    the cost moves with the rental price, so the change of the chip's rental price per market
    (latest observation on or before each date) is the pipeline's measure."""
    rule = "training_cost_change"
    tol = "claimed change within the range of rental-price changes ±5 pp"
    g = gpu_rental_prices[gpu_rental_prices["chip_id"] == chip_id]
    g = g[g["date"].notna()].sort_values(["date", "rental_id"], kind="mergesort")
    rows = []
    for region, grp in g.groupby("region", sort=True):
        before, after = grp[grp["date"] <= start], grp[grp["date"] <= end]
        if (
            before.empty
            or after.empty
            or before.iloc[-1]["rental_id"] == after.iloc[-1]["rental_id"]
        ):
            continue
        b, a = before.iloc[-1], after.iloc[-1]
        rows.append((region, b, a, 100 * (a["usd_per_gpu_hour"] / b["usd_per_gpu_hour"] - 1)))
    if not rows:
        return Finding(
            OPEN,
            f"no {chip_id} rental prices on or before both {start.date()} and {end.date()}",
            rule,
            tol,
        )
    changes = [r[3] for r in rows]
    lo, hi = min(changes), max(changes)
    agree = lo - 5 <= claimed_pct <= hi + 5
    used = pd.DataFrame([r[1] for r in rows] + [r[2] for r in rows])
    return Finding(
        CONSISTENT if agree else CONTRADICTED,
        "at fixed hardware and model a run's cost moves with the rental price: "
        + "; ".join(
            f"{region} {fmt(b['usd_per_gpu_hour'])} ({b['date'].date()}) -> "
            f"{fmt(a['usd_per_gpu_hour'])} USD/GPU-hour ({a['date'].date()}), {c:+.0f}%"
            for region, b, a, c in rows
        )
        + ("" if agree else f"; the claimed {claimed_pct:+.0f}% lies outside that range"),
        rule,
        tol,
        evidence="gpu_rental_prices: " + cite(used, "rental_id"),
        pipeline_value=float(np.median(changes)),
        pipeline_value_low=lo,
        pipeline_value_high=hi,
        pipeline_unit="% change of the rental price (median; range)",
    )
