"""PNG charts of the claims ledger (article vs datasheet, verdicts, cluster power) as bytes."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from assets.report.findings import CONSISTENT, CONTRADICTED, OPEN
from forecasts.charts import DPI, png
from pipelines import chart_memo

VERDICT_COLORS = {CONSISTENT: "tab:green", CONTRADICTED: "tab:red", OPEN: "tab:gray"}


#: A chart to draw: its name, the function that returns its PNG bytes (or None when it has no
#: data), and the function's arguments.
ChartJob = tuple[str, Callable[..., bytes | None], tuple]


@contextmanager
def drawing(jobs: list[ChartJob]) -> Iterator[Callable[[], dict[str, bytes]]]:
    """Starts drawing the charts and yields a function that waits for them and returns every
    chart's PNG bytes by name, in job order, leaving out those that return None; the caller works
    while they are drawn.

    A chart an earlier asset of the same command-line run drew from the same data (a forecast's
    fan, share or survival chart, `pipelines.chart_memo`) is taken as drawn. The others are
    independent and each takes 0.1-0.4 s of matplotlib, so on Linux they are drawn by worker
    processes forked from this one (one per core, at most two: fork copies the loaded modules and
    fonts, so a worker starts in milliseconds); each worker only draws and returns bytes, the same
    bytes as drawing here. Elsewhere, or for a single chart, they are drawn here when the function
    is called.
    """
    known = [chart_memo.stored(make, args) for _, make, args in jobs]
    to_draw = [job for job, png in zip(jobs, known, strict=True) if png is None]

    def named(drawn: list) -> dict[str, bytes]:
        fresh = iter(drawn)
        every = [png if png is not None else next(fresh) for png in known]
        return {
            name: data for (name, _, _), data in zip(jobs, every, strict=True) if data is not None
        }

    workers = min(len(to_draw), os.cpu_count() or 1, 2)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield lambda: named([make(*args) for _, make, args in to_draw])
        return
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(make, *args) for _, make, args in to_draw]
        yield lambda: named([future.result() for future in futures])


def chip_rows(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger's chip-table cells (spec figures checked against hardware_specs)."""
    rows = ledger[ledger["rule"].isin(["chip_spec", "chip_spec_ratio"])]
    return rows.sort_values("claim_id", kind="mergesort").reset_index(drop=True)


def chip_claims_chart(ledger: pd.DataFrame) -> bytes:
    """Article figure / sourced figure per chip-table cell on a log scale (1 = agreement),
    coloured by verdict; cells without any sourced figure are marked on the axis."""
    rows = chip_rows(ledger)
    fig, ax = plt.subplots(dpi=DPI, figsize=(8, max(2.5, 0.35 * len(rows) + 1)))
    labels = [f"{r.claim_id} {r.subject} {r.metric}" for r in rows.itertuples()]
    ratio = (rows["value"] / rows["pipeline_value"]).to_numpy(dtype=float)
    y = np.arange(len(rows))
    logs = np.log2(np.where(ratio > 0, ratio, np.nan))
    for i, r in enumerate(rows.itertuples()):
        color = VERDICT_COLORS.get(r.verdict, "tab:gray")
        if np.isfinite(logs[i]):
            ax.plot([0, logs[i]], [i, i], color=color, linewidth=2)
            ax.plot(logs[i], i, "o", color=color, markersize=7)
        else:
            ax.plot(0, i, marker="x", color=color, markersize=8, markeredgewidth=2)
    span = max(1.5, float(np.nanmax(np.abs(logs), initial=0.0)) + 0.5)
    ax.set_xlim(-span, span)
    ticks = np.arange(-np.floor(span), np.floor(span) + 1)
    ax.set_xticks(ticks, [f"{2**t:g}x" if t >= 0 else f"1/{2**-t:g}x" for t in ticks])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("article / sourced value, log scale   (x: no sourced value)")
    ax.set_title("Chip table: article vs sourced specs")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in VERDICT_COLORS.values()]
    ax.legend(handles, list(VERDICT_COLORS), fontsize=7, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return png(fig)


def verdict_chart(ledger: pd.DataFrame) -> bytes:
    """Claims per article section, stacked by verdict."""
    counts = (
        ledger.groupby(["section", "verdict"], sort=True).size().unstack("verdict", fill_value=0)
    )
    counts = counts.reindex(columns=list(VERDICT_COLORS), fill_value=0)
    fig, ax = plt.subplots(dpi=DPI, figsize=(8, 3.5))
    left = np.zeros(len(counts))
    for verdict, color in VERDICT_COLORS.items():
        ax.barh(counts.index, counts[verdict], left=left, color=color, label=verdict)
        left += counts[verdict].to_numpy()
    ax.invert_yaxis()
    ax.set_xlabel("claims")
    ax.set_title("Verdicts by article section")
    ax.legend(fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    return png(fig)


def power_chart(ledger: pd.DataFrame, datacenter_power: pd.DataFrame | None = None) -> bytes | None:
    """The article's cluster megawatts against the sourced all-in range of the same cluster, and
    beside it the modelled all-in megawatts of that many chips of every other kind (5th-95th
    percentile bars); None when the ledger has no power row."""
    rows = ledger[(ledger["rule"] == "cluster_power") & ledger["pipeline_value"].notna()]
    if rows.empty:
        return None
    claim = rows.iloc[0]
    size = re.search(r"-n(\d+)", str(claim["evidence"]))
    bands = pd.DataFrame()
    if datacenter_power is not None and size is not None:
        bands = datacenter_power[datacenter_power["chips"] == int(size.group(1))]
        bands = bands.sort_values("facility_mw", kind="mergesort")
    labels = [f"{r.claim_id} {r.subject}: sourced range" for r in rows.itertuples()]
    labels += [f"{c} (model)" for c in bands.get("chip_id", [])]
    fig, ax = plt.subplots(dpi=DPI, figsize=(8, 1.2 + 0.32 * len(labels)))
    for i, r in enumerate(rows.itertuples()):
        ax.barh(
            i,
            r.pipeline_value_high - r.pipeline_value_low,
            left=r.pipeline_value_low,
            color="tab:blue",
            alpha=0.6,
            label="sourced range (observed W per GPU x PUE)" if i == 0 else None,
        )
        ax.plot(r.value, i, "D", color=VERDICT_COLORS.get(r.verdict, "tab:gray"), markersize=8)
    for j, b in enumerate(bands.itertuples(), start=len(rows)):
        ax.barh(
            j,
            b.facility_mw_p95 - b.facility_mw_p5,
            left=b.facility_mw_p5,
            color="tab:gray",
            alpha=0.5,
            label="modelled all-in MW, 5th-95th pct" if j == len(rows) else None,
        )
        ax.plot(b.facility_mw, j, "|", color="black", markersize=10)
    ax.axvline(
        claim["value"], color="tab:red", linestyle="--", label=f"article: {claim['value']:g} MW"
    )
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    chips = f"{int(size.group(1)):,}-chip" if size is not None else "cluster"
    ax.set_title(f"All-in power of a {chips} cluster: the article against sourced figures")
    ax.set_xlabel("facility power, MW (IT load x PUE)")
    ax.set_xlim(left=0)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="center right")
    return png(fig)


def mfu_gap_chart(ledger: pd.DataFrame, training_scenarios: pd.DataFrame) -> bytes | None:
    """Modelled MFU (with its 5th-95th percentile band) of the two clusters the article's MFU-gap
    claim compares, and the MFU the claim implies for the second one; None without that claim."""
    rows = ledger[(ledger["rule"] == "training_mfu_gap") & ledger["pipeline_value"].notna()]
    if rows.empty:
        return None
    claim = rows.iloc[0]
    ids = re.findall(r"train-[\w.-]+", str(claim["evidence"]))
    table = training_scenarios.set_index("scenario_id")
    ids = [i for i in ids if i in table.index]
    if len(ids) != 2:
        return None
    chip, reference = table.loc[ids[0]], table.loc[ids[1]]
    fig, ax = plt.subplots(dpi=DPI, figsize=(7, 2.8))
    for i, r in enumerate((reference, chip)):
        ax.barh(
            i,
            r["mfu_pct_p95"] - r["mfu_pct_p5"],
            left=r["mfu_pct_p5"],
            color="tab:blue",
            alpha=0.4,
            label="model, 5th-95th pct" if i == 0 else None,
        )
        ax.plot(r["mfu_pct"], i, "o", color="tab:blue", label="model, central" if i == 0 else None)
    low = reference["mfu_pct"] * (1 - claim["value_high"] / 100)
    high = reference["mfu_pct"] * (1 - claim["value"] / 100)
    ax.plot(
        [low, high],
        [1, 1],
        color=VERDICT_COLORS.get(claim["verdict"], "tab:gray"),
        linewidth=5,
        alpha=0.8,
        label=f"article: {claim['value']:g}-{claim['value_high']:g}% lower than the H100 cluster",
    )
    ax.set_yticks(
        [0, 1],
        [
            f"{reference['chip_id']} x{int(reference['chips']):,}",
            f"{chip['chip_id']} x{int(chip['chips']):,}",
        ],
        fontsize=8,
    )
    ax.set_xlabel(f"MFU, % ({chip['model_id']}, {chip['precision']})")
    ax.set_xlim(left=0)
    ax.set_title("Model FLOPs utilisation of the two clusters the article compares")
    ax.grid(axis="x", alpha=0.3)
    ax.set_ylim(-0.6, 2.2)
    ax.legend(fontsize=7, loc="upper left")
    return png(fig)
