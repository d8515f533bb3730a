"""Checks a claimed cluster power (MW for N GPUs) against sourced per-GPU watts and PUE."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from assets.report.findings import CONSISTENT, CONTRADICTED, OPEN, Finding, cite, fmt

RULE = "cluster_power"
#: Facility figures are rough (utilisation, cooling, networking share); ±10 % around the sourced
#: range keeps a claim that is only a rounding away from it.
POWER_TOLERANCE_PCT = 10.0
W_PER_MW = 1_000_000.0


def _for_chip(obs: pd.DataFrame, metric: str, chip_id: str) -> pd.DataFrame:
    """Rows of one metric about the chip; facility-wide rows (no chip) when the chip has none."""
    rows = obs[obs["metric"] == metric]
    chip = rows[rows["chip_id"] == chip_id]
    return chip if len(chip) else rows[rows["chip_id"].isna() | (rows["chip_id"] == "")]


def _range(rows: pd.DataFrame) -> tuple[float, float]:
    """Lowest value and highest (value_high, else value) of the rows."""
    high = rows["value_high"].where(rows["value_high"].notna(), rows["value"])
    return float(rows["value"].min()), float(high.max())


def all_in_watts_per_gpu(
    obs: pd.DataFrame, chip_id: str
) -> tuple[float, float, float, pd.DataFrame]:
    """All-in (facility, incl. PUE) watts per GPU as (low, central, high, rows used): the sourced
    all-in figures and server watts per GPU times the sourced PUE range, whichever exist."""
    all_in = _for_chip(obs, "all_in_w_per_gpu", chip_id)
    server = _for_chip(obs, "server_w_per_gpu", chip_id)
    pue = obs[obs["metric"] == "pue"]
    lows, highs, points, used = [], [], [], []
    if len(all_in):
        lo, hi = _range(all_in)
        lows.append(lo)
        highs.append(hi)
        points += list((all_in["value"] + all_in["value_high"].fillna(all_in["value"])) / 2)
        used.append(all_in)
    if len(server) and len(pue):
        s_lo, s_hi = _range(server)
        p_lo, p_hi = _range(pue)
        lows.append(s_lo * p_lo)
        highs.append(s_hi * p_hi)
        points.append((s_lo + s_hi) / 2 * float(pue["value"].median()))
        used += [server, pue]
    if not used:
        return np.nan, np.nan, np.nan, obs.iloc[0:0]
    rows = pd.concat(used).sort_values("obs_id", kind="mergesort")
    return min(lows), float(np.median(points)), max(highs), rows


def check_cluster_power(
    n_gpus: float, claimed_mw: float, chip_id: str, power_observations: pd.DataFrame
) -> Finding:
    """MW = GPUs x all-in watts per GPU / 1e6 over the sourced range; the claim is consistent
    inside that range widened by ±10 %, contradicted outside it."""
    tol = f"claim within the sourced MW range ±{POWER_TOLERANCE_PCT:g}%"
    lo_w, mid_w, hi_w, rows = all_in_watts_per_gpu(power_observations, chip_id)
    if rows.empty:
        return Finding(
            OPEN,
            f"no all_in_w_per_gpu, or server_w_per_gpu with pue, in power_observations for {chip_id}",
            RULE,
            tol,
        )
    lo_mw, mid_mw, hi_mw = (n_gpus * w / W_PER_MW for w in (lo_w, mid_w, hi_w))
    implied_w = claimed_mw * W_PER_MW / n_gpus
    inside = (
        lo_mw * (1 - POWER_TOLERANCE_PCT / 100)
        <= claimed_mw
        <= hi_mw * (1 + POWER_TOLERANCE_PCT / 100)
    )
    reason = (
        f"{fmt(claimed_mw)} MW for {fmt(n_gpus)} GPUs implies {fmt(implied_w)} W per GPU all-in; "
        f"sources give {fmt(lo_w)}-{fmt(hi_w)} W per GPU all-in, i.e. {fmt(lo_mw)}-{fmt(hi_mw)} MW"
    )
    return Finding(
        CONSISTENT if inside else CONTRADICTED,
        reason,
        RULE,
        tol,
        evidence="power_observations: " + cite(rows, "obs_id"),
        pipeline_value=mid_mw,
        pipeline_value_low=lo_mw,
        pipeline_value_high=hi_mw,
        pipeline_unit="MW",
    )


def with_modelled_power(
    found: Finding, chip_id: str, n_gpus: float, datacenter_power: pd.DataFrame | None
) -> Finding:
    """The finding with rust_core's all-in megawatts for the same cluster added to its reason and
    evidence (the verdict stays with the sourced observations)."""
    if datacenter_power is None:
        return found
    rows = datacenter_power[
        (datacenter_power["chip_id"] == chip_id) & (datacenter_power["chips"] == n_gpus)
    ]
    if rows.empty:
        return found
    r = rows.iloc[0]
    return replace(
        found,
        reason=f"{found.reason}; datacenter_power models {fmt(r['facility_mw'])} MW "
        f"(5-95%: {fmt(r['facility_mw_p5'])}-{fmt(r['facility_mw_p95'])} MW)",
        evidence=f"{found.evidence} | datacenter_power: {r['scenario_id']}",
    )
