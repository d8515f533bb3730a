"""The report's China compute section: compute stock, domestic share of chip supply with intervals,
power per H100e beside the article's claim, and every accelerator compared (Epoch AI, CC BY 4.0)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from assets.china.chips import compute_by_origin
from assets.china.sites import article_kw_per_h100e, intensity_summary
from assets.report.charts import ChartJob
from assets.report.findings import fmt
from forecasts.charts import DPI, png, year_ticks

#: The tables the section reads (derived assets); absent ones leave their part out, said so.
TABLES = (
    "compute_stock",
    "china_chip_supply",
    "domestic_share_observed",
    "cluster_power_intensity",
    "chip_comparison",
    "training_compute_trend",
    "china_model_hardware",
    "spec_conflicts",
)
CREDIT = (
    "Data: Epoch AI, 'Data on AI Chip Sales', 'Data on GPU Clusters', 'AI Data Centers', 'Data on "
    "Machine Learning Hardware' and 'Data on AI Models', published online at epoch.ai "
    "(https://epoch.ai/data), CC BY 4.0."
)
GROUPS = ("China", "United States", "Rest of world")
COLORS = {"China": "tab:red", "United States": "tab:blue", "Rest of world": "tab:gray"}


def _md(df: pd.DataFrame) -> str:
    return df.to_markdown(index=False) if len(df) else "_(no rows)_"


def _latest_stock(stock: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for basis, b in stock.groupby("basis"):
        last = b["quarter_end"].max()
        cur = b[b["quarter_end"] == last].set_index("country_group")
        rows.append(
            {
                "basis": basis,
                "quarter": b.loc[b["quarter_end"] == last, "quarter"].iloc[0],
                **{g: fmt(cur["h100e"].get(g, float("nan"))) for g in GROUPS},
                "China sites": int(cur["sites"].get("China", 0)),
            }
        )
    return pd.DataFrame(rows)


def _share_rows(share: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": share["year"].astype(int),
            "domestic share % (median)": share["domestic_share_pct"].map(fmt),
            "range %": [
                f"{fmt(lo)}-{fmt(hi)}"
                for lo, hi in zip(
                    share["domestic_share_pct_low"], share["domestic_share_pct_high"], strict=True
                )
            ],
            "domestic H100e": share["domestic_h100e"].map(fmt),
            "total H100e": share["total_h100e"].map(fmt),
        }
    )


def _supply_rows(supply: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": supply["year"].astype(int),
            "designer": supply["designer"],
            "segment": supply["segment"],
            "chips": supply["chip_types"],
            "quarters": supply["quarters"],
            "H100e (median)": supply["h100e"].map(fmt),
            "H100e (5th-95th)": [
                f"{fmt(lo)}-{fmt(hi)}"
                for lo, hi in zip(supply["h100e_low"], supply["h100e_high"], strict=True)
            ],
        }
    )


def _power_rows(intensity: pd.DataFrame) -> pd.DataFrame:
    s = intensity_summary(intensity)
    keep = s[(s["power_kind"] != "facility (Epoch calculated)") & (s["sites"] >= 1)]
    return pd.DataFrame(
        {
            "power": keep["power_kind"],
            "country": keep["country_group"],
            "chips": keep["chip_family"],
            "sites": keep["sites"],
            "median kW/H100e": keep["median_kw_per_h100e"].map(fmt),
            "25th-75th": [
                f"{fmt(a)}-{fmt(b)}"
                for a, b in zip(keep["p25_kw_per_h100e"], keep["p75_kw_per_h100e"], strict=True)
            ],
        }
    )


def _chinese_chips(comparison: pd.DataFrame, n: int = 12) -> pd.DataFrame:
    c = comparison[
        (comparison["designer_country"] == "China") & comparison["bf16_dense_tflops"].notna()
    ].sort_values("bf16_dense_tflops", ascending=False)
    return pd.DataFrame(
        {
            "chip": c["hardware_name"],
            "released": c["release_date"].dt.strftime("%Y-%m").fillna(""),
            "BF16 TFLOPS": c["bf16_dense_tflops"].map(fmt),
            "memory GB": c["memory_gb"].map(fmt),
            "GB/s": c["memory_bw_gbps"].map(fmt),
            "TFLOPS/W": c["bf16_tflops_per_w"].map(fmt),
        }
    ).head(n)


def _image(charts: dict[str, str], name: str, alt: str) -> str:
    return f"![{alt}]({charts[name]})\n" if name in charts else ""


def china_compute_markdown(tables: dict[str, pd.DataFrame], charts: dict[str, str]) -> str:
    """The section's Markdown: each part from its table, Epoch's caveats beside the figures."""
    missing = [t for t in TABLES if tables.get(t) is None]
    out = ["## China's AI compute (Epoch AI data)", "", CREDIT, ""]
    stock = tables.get("compute_stock")
    if stock is not None and len(stock):
        out += [
            "### Compute stock: operational H100-equivalents by country",
            _image(charts, "china_stock", "operational H100e by quarter and country"),
            _md(_latest_stock(stock)),
            "",
            "Two bases, never added: clusters Epoch includes in its standard analysis (its Chinese "
            "clusters are anonymised and carry no chip type; the file stops at its newest "
            "first-operational date) and Epoch's frontier data-center timelines (few Chinese sites; "
            "projections after the snapshot left out).",
            "",
        ]
    share = tables.get("domestic_share_observed")
    supply = tables.get("china_chip_supply")
    if share is not None and len(share):
        out += [
            "### Domestic share of China's accelerator supply",
            _image(charts, "china_share", "domestic share of H100e sold into China"),
            _md(_share_rows(share)),
            "",
            f"Basis: {share['basis'].iloc[0]}. Caveats: {share['note'].iloc[0]}.",
            "",
        ]
    if supply is not None and len(supply):
        out += ["#### H100e sold into China by designer", _md(_supply_rows(supply)), ""]
    intensity = tables.get("cluster_power_intensity")
    if intensity is not None and len(intensity):
        out += [
            "### Power per H100-equivalent",
            _image(charts, "power_intensity", "kW per H100e by country and chip"),
            f"The article's 175 MW for 50,000 H100 is {fmt(article_kw_per_h100e())} kW per GPU. "
            "Data-center figures are IT power (no cooling overhead); cluster figures are facility "
            "power where a source reports it (existing clusters and current sites only).",
            "",
            _md(_power_rows(intensity)),
            "",
        ]
    comparison = tables.get("chip_comparison")
    if comparison is not None and len(comparison):
        n_cn = int((comparison["designer_country"] == "China").sum())
        out += [
            "### Every accelerator compared",
            _image(charts, "chip_comparison", "dense BF16 TFLOPS per chip over time"),
            f"{len(comparison)} accelerators in Epoch's ML hardware, {n_cn} of Chinese design. "
            "The strongest Chinese designs by dense BF16:",
            "",
            _md(_chinese_chips(comparison)),
            "",
        ]
    conflicts = tables.get("spec_conflicts")
    if conflicts is not None:
        out += [
            f"Spec conflicts over 5 % between Epoch and the curated sheet: {len(conflicts)} "
            "(`warehouse/derived/spec_conflicts.parquet`).",
            "",
        ]
    trend = tables.get("training_compute_trend")
    models = tables.get("china_model_hardware")
    if trend is not None and len(trend):
        recent = trend[trend["quarter"].isin(sorted(trend["quarter"].unique())[-4:])]
        out += [
            "### Largest training runs by quarter",
            _md(
                pd.DataFrame(
                    {
                        "quarter": recent["quarter"],
                        "country": recent["country_group"],
                        "model": recent["model"],
                        "FLOP": recent["training_compute_flop"].map(lambda v: f"{v:.2e}"),
                    }
                )
            ),
            "",
        ]
    if models is not None and len(models):
        dom = models[models["hardware_origin"].isin(["domestic", "mixed"])]
        known = int((models["hardware_origin"] != "unknown").sum())
        out += [
            f"Notable Chinese models trained at least partly on Chinese chips: {len(dom)} of "
            f"{known} with recorded hardware ({len(models)} in all): "
            + ", ".join(
                f"{m} ({h})" for m, h in zip(dom["model"], dom["training_hardware"], strict=True)
            )
            + ".",
            "",
        ]
    if missing:
        out += [f"_Not materialized: {', '.join(missing)}._", ""]
    return "\n".join(out)


def stock_chart(stock: pd.DataFrame) -> bytes:
    """Operational H100e by quarter and country, one panel per basis."""
    bases = sorted(stock["basis"].unique())
    fig, axes = plt.subplots(1, len(bases), dpi=DPI, figsize=(5 * len(bases), 3.5), squeeze=False)
    for ax, basis in zip(axes[0], bases, strict=True):
        b = stock[stock["basis"] == basis]
        for group in GROUPS:
            g = b[b["country_group"] == group].sort_values("quarter_end")
            if len(g):
                ax.plot(g["quarter_end"], g["h100e"], label=group, color=COLORS[group])
        ax.set_yscale("log")
        year_ticks(ax)
        ax.set_title(f"Operational H100e ({basis})")
        ax.legend(fontsize=7)
    fig.text(0.01, 0.01, "Source: Epoch AI (CC BY 4.0)", fontsize=7)
    return png(fig)


def share_chart(share: pd.DataFrame) -> bytes:
    """Domestic share of H100e sold into China per year with its range."""
    fig, ax = plt.subplots(dpi=DPI, figsize=(5, 3.5))
    lo = share["domestic_share_pct"] - share["domestic_share_pct_low"]
    hi = share["domestic_share_pct_high"] - share["domestic_share_pct"]
    ax.errorbar(share["year"], share["domestic_share_pct"], yerr=[lo, hi], fmt="o", capsize=4)
    ax.set_xticks(share["year"].astype(int))
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of H100e sold into China")
    ax.set_title("Domestic share (Huawei, Cambricon)")
    fig.text(0.01, 0.01, "Source: Epoch AI chip sales (CC BY 4.0)", fontsize=7)
    return png(fig)


def power_chart(intensity: pd.DataFrame) -> bytes:
    """kW per H100e at current data centers (IT) by country and chip, with the article's 3.5 kW."""
    dc = intensity[intensity["basis"] == "data_centers"]
    labels = sorted({(c, f) for c, f in zip(dc["country_group"], dc["chip_family"], strict=True)})
    fig, ax = plt.subplots(dpi=DPI, figsize=(7, 3.5))
    for i, (country, family) in enumerate(labels):
        v = dc[(dc["country_group"] == country) & (dc["chip_family"] == family)]["kw_per_h100e"]
        ax.scatter([i] * len(v), v, color=COLORS.get(country, "tab:gray"), s=12)
    ax.axhline(article_kw_per_h100e(), color="black", linestyle="--", label="article: 3.5 kW")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels([f"{c}\n{f}" for c, f in labels], fontsize=6, rotation=30, ha="right")
    ax.set_ylabel("kW IT power per H100e")
    ax.legend(fontsize=7)
    fig.text(0.01, 0.01, "Source: Epoch AI data centers (CC BY 4.0)", fontsize=7)
    return png(fig)


def comparison_chart(comparison: pd.DataFrame) -> bytes:
    """Dense BF16 TFLOPS of every accelerator by release date, Chinese vs US designs."""
    fig, ax = plt.subplots(dpi=DPI, figsize=(6, 3.5))
    for country in ("United States", "China"):
        c = comparison[
            (comparison["designer_country"] == country)
            & comparison["bf16_dense_tflops"].notna()
            & comparison["release_date"].notna()
        ]
        ax.scatter(
            c["release_date"], c["bf16_dense_tflops"], s=10, label=country, color=COLORS[country]
        )
    best = compute_by_origin(comparison)
    for country, b in best.groupby("designer_country"):
        ax.plot(
            pd.to_datetime(b["year"].astype(str) + "-07-01"),
            b["bf16_dense_tflops"],
            color=COLORS[country],
            alpha=0.5,
            drawstyle="steps-post",
        )
    ax.set_yscale("log")
    year_ticks(ax)
    ax.set_ylabel("dense BF16 TFLOPS per chip")
    ax.set_title("Every accelerator (line: best released so far)")
    ax.legend(fontsize=7)
    fig.text(0.01, 0.01, "Source: Epoch AI ML hardware (CC BY 4.0)", fontsize=7)
    return png(fig)


def chart_jobs(tables: dict[str, pd.DataFrame]) -> list[ChartJob]:
    """The section's charts to draw (only those whose table is present)."""
    makers = {
        "china_stock": ("compute_stock", stock_chart),
        "china_share": ("domestic_share_observed", share_chart),
        "power_intensity": ("cluster_power_intensity", power_chart),
        "chip_comparison": ("chip_comparison", comparison_chart),
    }
    jobs = []
    for name, (table, make) in makers.items():
        df = tables.get(table)
        if df is not None and len(df):
            jobs.append((name, make, (df,)))
    return jobs
