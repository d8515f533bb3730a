"""PNG charts of the forecasts (fan charts, survival curves, share forecast, backtest scores) as
bytes, for the Dagster UI metadata and the outlook report."""

from __future__ import annotations

import base64
import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np
import pandas as pd
from matplotlib.layout_engine import TightLayoutEngine

#: Figures are drawn at the resolution they are saved at, so the layout pass (tight_layout) and the
#: saved drawing measure text once at one resolution.
DPI = 80
#: Fixed PNG metadata so the same figure gives the same bytes run after run.
PNG_METADATA = {"Software": None}


def png(fig, **layout) -> bytes:
    """The figure laid out as ``Figure.tight_layout(**layout)`` lays it out, as PNG bytes without
    a timestamp or software tag, then closed.

    The layout runs once and leaves no engine on the figure: ``tight_layout`` leaves a placeholder
    engine, and with any engine set ``savefig`` draws the whole figure one extra time before
    saving, about a tenth of a chart's time for the same bytes."""
    TightLayoutEngine(**layout).execute(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata=PNG_METADATA)
    plt.close(fig)
    return buf.getvalue()


def year_ticks(ax, most: int = 7) -> None:
    """Date ticks every year (every few years, so at most ``most`` labels) and decade log ticks
    without minor ticks: what a reader needs of the axes, and far cheaper to lay out than
    matplotlib's automatic date and log-minor locators."""
    low, high = ax.get_xlim()
    span_years = (high - low) / 365.25
    ax.xaxis.set_major_locator(mdates.YearLocator(base=max(1, math.ceil(span_years / most))))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    if ax.get_yscale() == "log":
        ax.yaxis.set_minor_locator(ticker.NullLocator())


def markdown_image(png: bytes, alt: str) -> str:
    """The PNG embedded in Markdown as a base64 data URI (what the Dagster UI renders)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"


def price_fan_chart(
    grid: pd.DataFrame,
    forecast: pd.DataFrame,
    side: str = "input",
    model: str = "baseline_last_value",
) -> bytes:
    """One panel per tier: observed prices as points (months with a price row; a faint step
    shows the list price in force between them) and the model's median with 80 %/95 % bands
    from the last observation. Bands are cut at a tenth of the cheapest price ever observed in
    the series, and months whose median falls below it (``below_floor``) are not drawn."""
    tiers = ["frontier", "gpt4_class", "small"]
    fig, axes = plt.subplots(1, 3, dpi=DPI, figsize=(13, 4), sharey=True)
    colors = {"US": "tab:blue", "CN": "tab:red"}
    for ax, tier in zip(axes, tiers, strict=True):
        for region, color in colors.items():
            g = grid[
                (grid["tier"] == tier) & (grid["region"] == region) & (grid["price_side"] == side)
            ]
            floor = 0.1 * float(g["price_usd_per_mtok"].min()) if len(g) else 0.0
            if len(g):
                ax.step(g["month"], g["price_usd_per_mtok"], where="post", color=color, alpha=0.3)
                seen = g[g["n_observations"] > 0]
                ax.plot(
                    seen["month"],
                    seen["price_usd_per_mtok"],
                    "o",
                    ms=4,
                    color=color,
                    label=f"{region} observed",
                )
            f = forecast[
                (forecast["tier"] == tier)
                & (forecast["region"] == region)
                & (forecast["price_side"] == side)
                & (forecast["model"] == model)
                & (forecast["status"] == "ok")
            ]
            if "below_floor" in f.columns:
                f = f[~f["below_floor"].astype(bool)]
            if len(f):
                for lo, hi, alpha in (
                    ("lower_95", "upper_95", 0.12),
                    ("lower_80", "upper_80", 0.25),
                ):
                    ax.fill_between(
                        f["target_month"],
                        f[f"{lo}_usd_per_mtok"].clip(lower=floor),
                        f[f"{hi}_usd_per_mtok"],
                        color=color,
                        alpha=alpha,
                    )
                ax.plot(
                    f["target_month"],
                    f["median_usd_per_mtok"],
                    color=color,
                    ls="--",
                    label=f"{region} median",
                )
        ax.set_yscale("log")
        year_ticks(ax)
        ax.set_title(f"{tier} ({side})")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("USD per 1M tokens (log)")
    handles: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(list(handles.values()), list(handles), fontsize=7, loc="lower center", ncol=4)
    ages = (
        forecast.loc[forecast["model"] == model, "data_age_days"]
        if "data_age_days" in forecast
        else []
    )
    age = f", data {int(min(ages))}-{int(max(ages))} days old" if len(ages) else ""
    fig.suptitle(
        f"API price: cheapest at or above tier, {model} from the last observation{age}, 80/95 % bands"
    )
    return png(fig, rect=(0, 0.08, 1, 1))


def max_age_years(table: pd.DataFrame) -> float:
    """The oldest company age any cohort's curve reaches (a shared x-axis for every cohort)."""
    ages = table.loc[table["status"] == "ok", "age_years"].dropna()
    return float(ages.max()) if len(ages) else 1.0


def survival_chart(table: pd.DataFrame, cohort: str = "all", max_age: float | None = None) -> bytes:
    """Kaplan-Meier survival (independent) with its 95 % band, and cumulative incidence of each
    exit type, against company age; both panels (and every cohort's chart) share the age axis."""
    t = table[(table["cohort"] == cohort) & (table["status"] == "ok")]
    max_age = max_age_years(table) if max_age is None else max_age
    fig, (a1, a2) = plt.subplots(1, 2, dpi=DPI, figsize=(11, 4), sharex=True)
    km = t[t["quantity"] == "survival_independent"].sort_values("age_years")
    if len(km):
        x = np.concatenate([[0.0], km["age_years"].to_numpy()])
        a1.step(
            x,
            np.concatenate([[1.0], km["value"].to_numpy()]),
            where="post",
            color="k",
            label="still independent (95 % band shaded)",
        )
        a1.fill_between(
            x,
            np.concatenate([[1.0], km["lower_95"].to_numpy()]),
            np.concatenate([[1.0], km["upper_95"].to_numpy()]),
            step="post",
            alpha=0.2,
            color="k",
        )
    a1.set_ylim(0, 1.02)
    a1.set_xlabel("company age (years)")
    a1.set_ylabel("P(still independent)")
    a1.set_title(f"Kaplan-Meier, cohort {cohort}")
    for q, color in (("shutdown", "tab:red"), ("acquisition", "tab:blue"), ("pivot", "tab:green")):
        c = t[t["quantity"] == f"cumulative_incidence_{q}"].sort_values("age_years")
        if len(c):
            a2.step(
                np.concatenate([[0.0], c["age_years"].to_numpy()]),
                np.concatenate([[0.0], c["value"].to_numpy()]),
                where="post",
                color=color,
                label=q,
            )
    a2.set_ylim(0, 1.02)
    a2.set_xlabel("company age (years)")
    a2.set_ylabel("cumulative incidence")
    a2.set_title("Competing exits")
    a2.legend(fontsize=8)
    if len(km):
        a1.legend(fontsize=8, loc="lower left")
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
        ax.set_xlim(0, max_age * 1.02)
    fig.suptitle(f"AI-model startups, cohort {cohort}: survival and exits by company age")
    return png(fig)


def share_chart(table: pd.DataFrame) -> bytes:
    """Source figures by basis and kind, and each fitted model's median with 80 %/95 % bands."""
    fig, ax = plt.subplots(dpi=DPI, figsize=(8, 4.5))
    pts = table[table["model"] == "source_figure"]
    markers = {
        ("units", "actual"): "o",
        ("revenue", "actual"): "s",
        ("units", "forecast"): "^",
        ("revenue", "forecast"): "v",
    }
    for (basis, kind), grp in pts.groupby(["basis", "kind_of_figure"], sort=True):
        ax.scatter(
            grp["t_year"],
            grp["median_share_pct"],
            marker=markers.get((basis, kind), "x"),
            facecolors="none" if kind == "forecast" else "k",
            edgecolors="k" if markers.get((basis, kind), "x") != "x" else None,
            label=f"{basis}, {kind}",
        )
    for model, color in (
        ("logit_ols_actuals_only", "tab:purple"),
        ("glm_fractional_logit", "tab:orange"),
    ):
        f = table[(table["model"] == model) & (table["status"] == "ok")].sort_values("t_year")
        if len(f):
            ax.fill_between(
                f["t_year"],
                f["lower_95_share_pct"],
                f["upper_95_share_pct"],
                color=color,
                alpha=0.12,
            )
            ax.fill_between(
                f["t_year"],
                f["lower_80_share_pct"],
                f["upper_80_share_pct"],
                color=color,
                alpha=0.25,
            )
            ax.plot(f["t_year"], f["median_share_pct"], color=color, label=model)
    ax.axhspan(30, 40, color="grey", alpha=0.15, label="claim: 30-40 % by 2028")
    ax.set_ylim(0, 100)
    ax.set_xlabel("year")
    ax.set_ylabel("domestic share of China's AI-accelerator market (%)")
    ax.set_title("Domestic chips' share of China's AI-accelerator market: figures and forecasts")
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    return png(fig)


def backtest_chart(
    scores: pd.DataFrame, metric: str = "mae_log", series: str = "all/all/all"
) -> bytes:
    """A backtest metric by horizon for each model (one series, e.g. all price series pooled)."""
    fig, ax = plt.subplots(dpi=DPI, figsize=(7, 4))
    s = scores[(scores["series"] == series) & (scores["status"] == "ok")]
    styles = ("-", "--", ":", "-.")
    markers = ("o", "s", "^", "D", "v", "x")
    models = sorted(s["model"].unique())
    # Lines that coincide stay visible: each model has its own dash, marker and a small x offset.
    for i, model in enumerate(models):
        grp = s[s["model"] == model].sort_values("horizon_months")
        offset = (i - (len(models) - 1) / 2) * 0.15
        ax.plot(
            grp["horizon_months"] + offset,
            grp[metric],
            linestyle=styles[i % len(styles)],
            marker=markers[i % len(markers)],
            markerfacecolor="none",
            linewidth=1.5,
            label=model,
        )
    ax.set_xlabel("horizon (months; models offset slightly so none hides another)")
    ax.set_ylabel(f"{metric} (lower is better; unitless)")
    ax.set_title(f"Backtest {metric} by horizon, series {series}")
    ax.grid(alpha=0.3)
    if len(s):
        ax.legend(fontsize=7)
    return png(fig)
