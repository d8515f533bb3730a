"""Report pieces of the constant-capability price index: its chart, its decline table beside the
published estimates, and the headline sentence that replaces the vendor-tier rate."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from forecasts import report as forecast_report
from forecasts.charts import DPI, png, year_ticks
from forecasts.price_index import BLEND_NOTE, reconcile, series_label

#: The threshold the headline speaks of: GPT-4 level on MMLU (GPT-4 scored 86.4, a16z used 83).
HEADLINE = ("mmlu", 80.0)


def index_chart(index: pd.DataFrame, region: str = "world") -> bytes:
    """Cheapest qualifying blended price per observed month, one line per threshold, log scale:
    frontier months (the fitted points) filled, other observed months hollow."""
    fig, ax = plt.subplots(dpi=DPI, figsize=(8, 4.5))
    pts = index[index["region"] == region]
    for i, ((bench, thr), s) in enumerate(pts.groupby(["benchmark", "threshold"], sort=True)):
        colour = f"C{i}"
        front = s[s["is_frontier"]]
        ax.plot(
            front["month"],
            front["blended_usd_per_mtok"],
            "o-",
            color=colour,
            label=f"{bench.upper()} >= {thr:g}",
        )
        rest = s[~s["is_frontier"]]
        ax.plot(rest["month"], rest["blended_usd_per_mtok"], "o", mfc="none", color=colour)
    ax.set_yscale("log")
    year_ticks(ax)
    ax.set_ylabel("USD per 1M tokens (3:1 blend)")
    ax.set_title(f"Cheapest price at constant capability ({region}); hollow: not a new low")
    if len(pts):
        ax.legend(fontsize=8)
    return png(fig)


def decline_rows(decline: pd.DataFrame) -> pd.DataFrame:
    """The decline table as the report shows it: measured rows with HAC intervals and n, then
    the published estimates."""
    if decline is None or decline.empty:
        return pd.DataFrame()
    d = decline.copy()
    d["interval_80_x_per_year"] = _span(d, 80)
    d["interval_95_x_per_year"] = _span(d, 95)
    cols = [
        "estimate_by",
        "scope",
        "region",
        "decline_x_per_year",
        "interval_80_x_per_year",
        "interval_95_x_per_year",
        "n_points",
        "n_months_observed",
        "status",
        "reason",
    ]
    return d[cols]


def _span(d: pd.DataFrame, level: int) -> pd.Series:
    lo, hi = d[f"decline_x_per_year_low_{level}"], d[f"decline_x_per_year_high_{level}"]
    ok = lo.notna() & hi.notna()
    return pd.Series(
        np.where(ok, lo.round(1).astype(str) + "-" + hi.round(1).astype(str), ""), index=d.index
    )


def headline_line(decline: pd.DataFrame | None) -> str | None:
    """One sentence with the world rate at the headline threshold, its HAC interval and n, the
    range over all thresholds, and the published estimates beside it."""
    if decline is None or decline.empty:
        return None
    ok = decline[(decline["status"] == "ok") & (decline["region"] == "world")]
    bench, thr = HEADLINE
    r = ok[(ok["benchmark"] == bench) & (ok["threshold"] == thr)]
    if r.empty:
        return None
    r = r.iloc[0]
    pub = decline[decline["status"] == "published"]
    epoch = pub[pub["estimate_by"].str.contains("Epoch", na=False)]["decline_x_per_year"].dropna()
    a16z = pub[pub["estimate_by"].str.contains("a16z", na=False)]["decline_x_per_year"].dropna()
    return (
        f"API prices at constant capability ({bench.upper()} >= {thr:g}, world, {BLEND_NOTE}): "
        f"falling {r['decline_x_per_year']:.1f}x per year (95% HAC CI "
        f"{r['decline_x_per_year_low_95']:.1f}-{r['decline_x_per_year_high_95']:.1f}x, "
        f"{int(r['n_points'])} months setting a new low); "
        f"{ok['decline_x_per_year'].min():.1f}-{ok['decline_x_per_year'].max():.1f}x across "
        f"{len(ok)} world thresholds, against Epoch AI's "
        f"{_range(epoch)}x and a16z's {_range(a16z)}x per year."
    )


def _range(values: pd.Series) -> str:
    if values.empty:
        return "n/a"
    lo, hi = values.min(), values.max()
    return f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"


def reconciliation(decline: pd.DataFrame) -> str:
    """The measured rates reconciled in words with the published rows of the same table."""
    pub = decline[decline["status"] == "published"]
    published = pd.DataFrame(
        {
            "publisher": pub["estimate_by"].str.replace("published: ", "", regex=False),
            "decline_factor_per_year": pub["decline_x_per_year"],
            "scope": pub["scope"],
        }
    )
    return reconcile(decline[decline["status"] != "published"], published)


def level_forecast_section(forecast: pd.DataFrame | None, region: str = "world") -> str:
    """The level forecast of the headline threshold in ``region``: the model its backtest chose,
    the verdict, and its median and intervals 12 and 24 months after the last observation with
    the observation's date and age (the vendor-tier table's layout)."""
    if forecast is None or forecast.empty:
        return "_(not materialized)_"
    bench, thr = HEADLINE
    rows = forecast[(forecast["tier"] == series_label(bench, thr)) & (forecast["region"] == region)]
    if rows.empty:
        return f"_(no series at {bench.upper()} >= {thr:g}, {region})_"
    return forecast_report.price_forecast_section(rows)
