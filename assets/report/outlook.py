"""Building blocks of the report pages: Markdown tables of the ledger's verdicts, the chip table,
predictions, forecasts with intervals, backtest scores and data gaps (pages.py lays them out)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assets.report.charts import chip_rows
from assets.report.findings import CONSISTENT, CONTRADICTED, OPEN, fmt
from assets.report.wording import OPPOSITE, directional, directional_range
from forecasts import report as forecast_report
from forecasts.price_index_report import headline_line as capability_line

HEADLINE_TIERS = (("gpt4_class", "US"), ("gpt4_class", "CN"), ("frontier", "US"), ("small", "CN"))
SHARE_MODEL = "logit_ols_actuals_only"
SHARE_YEARS = (2026, 2028, 2030)


@dataclass(frozen=True)
class Forecasts:
    """The latest vintage of each forecast table the page speaks of (None when not materialized)."""

    api_price_forecast: pd.DataFrame | None = None
    api_price_decline: pd.DataFrame | None = None
    api_price_backtest: pd.DataFrame | None = None
    startup_survival: pd.DataFrame | None = None
    startup_survival_backtest: pd.DataFrame | None = None
    china_share_forecast: pd.DataFrame | None = None
    china_share_backtest: pd.DataFrame | None = None
    capability_price_index: pd.DataFrame | None = None
    capability_price_decline: pd.DataFrame | None = None
    capability_price_backtest: pd.DataFrame | None = None
    capability_price_forecast: pd.DataFrame | None = None
    extra_gaps: list[str] = field(default_factory=list)


def cell(value: object) -> str:
    """Text safe inside a Markdown table cell (pipes escaped, newlines folded)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float):
        return fmt(value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(df: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table with safe cells."""
    if df.empty:
        return "_(none)_"
    safe = df.apply(lambda col: col.map(cell))
    header = "| " + " | ".join(safe.columns) + " |"
    rule = "|" + "|".join("---" for _ in safe.columns) + "|"
    body = ["| " + " | ".join(row) + " |" for row in safe.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def span(lo: float, hi: float) -> str:
    """A range as text: '40-101', or '-48.8 to -5.1' when an end is negative."""
    sep = " to " if min(lo, hi) < 0 else "-"
    return f"{fmt(lo)}{sep}{fmt(hi)}"


def article_text(text: object) -> str:
    """The article's words; a table row ('| a | b |') is shown as 'a / b'."""
    t = "" if text is None or text is pd.NA else str(text).strip()
    if t.startswith("|") and t.endswith("|"):
        return " / ".join(c.strip() for c in t.strip("|").split("|"))
    return t


def claimed(row) -> str:
    """The article's figure with its range and unit."""
    if pd.isna(row.value):
        return ""
    hi = f"-{fmt(row.value_high)}" if pd.notna(row.value_high) else ""
    return f"{fmt(row.value)}{hi} {cell(row.unit)}".strip()


def ours(row) -> str:
    """The pipeline's figure with its range and unit."""
    if pd.isna(row.pipeline_value) and pd.isna(row.pipeline_value_low):
        return ""
    rng = ""
    ends = (row.pipeline_value_low, row.pipeline_value_high)
    unit = "" if pd.isna(row.pipeline_unit) else str(row.pipeline_unit)
    word = unit.lstrip("% ").split(" ")[0].lower()
    if all(pd.notna(e) for e in ends) and ends[0] != ends[1]:
        if word in OPPOSITE:
            rng = f" (range {directional_range(ends[0], ends[1], word)})"
        else:
            rng = f" ({span(row.pipeline_value_low, row.pipeline_value_high)})"
    if word in OPPOSITE and pd.notna(row.pipeline_value):
        return f"{directional(row.pipeline_value, unit)}{rng}"
    return f"{fmt(row.pipeline_value)}{rng} {cell(row.pipeline_unit)}".strip()


def short_evidence(text: object, keep: int = 3) -> str:
    """The first few items of an evidence list ('; '-separated) and "and N more"; the whole list
    stays in the ledger's evidence column."""
    items = [] if text is None or text is pd.NA else [t for t in str(text).split("; ") if t]
    if len(items) <= keep:
        return "; ".join(items)
    return f"{'; '.join(items[:keep])}; and {len(items) - keep} more"


def _image(charts: dict[str, str], name: str, alt: str) -> str:
    return f"![{alt}]({charts[name]})\n" if name in charts else ""


def headline_lines(ledger: pd.DataFrame, f: Forecasts) -> list[str]:
    """One bullet per headline number, each with its interval and where it comes from."""
    out = []
    capability = capability_line(f.capability_price_decline)
    if capability:
        out.append(f"- {capability}")
    d = f.api_price_decline
    if d is not None and len(d):
        pipe = d[(d["status"] == "ok") & (d["price_side"] == "input")]
        for tier, region in HEADLINE_TIERS:
            r = pipe[(pipe["tier"] == tier) & (pipe["region"] == region)]
            if len(r):
                r = r.iloc[0]
                out.append(
                    f"- API prices, {tier} {region} (input, cheapest at or above tier): falling "
                    f"{fmt(r['decline_factor_per_year'])}x per year (95% CI "
                    f"{fmt(r['decline_factor_per_year_low'])}-{fmt(r['decline_factor_per_year_high'])}x, "
                    f"{int(r['n_points'])} months with a price). A vendor tier label, not "
                    "constant capability: the constant-capability rate is the headline."
                )
        published = d[d["status"] == "published"]
        pub = published["decline_factor_per_year"].dropna()
        ends = pd.concat(
            [
                pub,
                published["decline_factor_per_year_low"],
                published["decline_factor_per_year_high"],
            ]
        ).dropna()
        if len(pub):
            out.append(
                f"- Published decline-rate studies (fixed capability): central rates "
                f"{fmt(pub.min())}-{fmt(pub.max())}x per year, stated ranges "
                f"{fmt(ends.min())}-{fmt(ends.max())}x ({len(published)} estimates)."
            )
    s = f.startup_survival
    if s is not None and len(s):
        e = s[
            (s["quantity"] == "expected_independent_of_active")
            & (s["model"] == "kaplan_meier")
            & (s["status"] == "ok")
        ]
        e = e[pd.to_datetime(e["target_date"]) == pd.Timestamp("2027-03-31")]
        for r in e.itertuples():
            out.append(
                f"- Startups ({r.cohort}): of {r.n_active} independent today, {fmt(r.value)} expected "
                f"still independent on 2027-03-31 (80%: {fmt(r.lower_80)}-{fmt(r.upper_80)}, "
                f"95%: {fmt(r.lower_95)}-{fmt(r.upper_95)})."
            )
    sh = f.china_share_forecast
    if sh is not None and len(sh):
        r = sh[(sh["model"] == SHARE_MODEL) & (sh["status"] == "ok") & (sh["year"] == 2028)]
        if len(r):
            r = r.iloc[0]
            out.append(
                f"- China domestic accelerator share 2028: {fmt(r['median_share_pct'])}% (80%: "
                f"{fmt(r['lower_80_share_pct'])}-{fmt(r['upper_80_share_pct'])}%, 95%: "
                f"{fmt(r['lower_95_share_pct'])}-{fmt(r['upper_95_share_pct'])}%)."
            )
    for r in ledger[ledger["rule"] == "cluster_power"].itertuples():
        if pd.notna(r.pipeline_value):
            out.append(
                f"- Power: {cell(r.unit)}: {fmt(r.pipeline_value_low)}-{fmt(r.pipeline_value_high)} MW "
                f"from sourced per-GPU watts (article: {fmt(r.value)} MW)."
            )
    for r in ledger[ledger["rule"].isin(["cluster_equivalence", "training_mfu_gap"])].itertuples():
        out.append(f"- {cell(article_text(r.text))}: {r.verdict}. {cell(r.reason)}.")
    counts = ledger["verdict"].value_counts()
    out.append(
        f"- Claims ledger: {len(ledger)} claims; {counts.get(CONTRADICTED, 0)} contradicted, "
        f"{counts.get(CONSISTENT, 0)} consistent, {counts.get(OPEN, 0)} open."
    )
    return out


def verdict_section(ledger: pd.DataFrame, verdict: str) -> str:
    """The ledger rows of one verdict: claim, article figure, pipeline figure, reason, evidence."""
    rows = ledger[ledger["verdict"] == verdict]
    return table(
        pd.DataFrame(
            {
                "claim": rows["claim_id"],
                "article says": rows["text"].map(article_text),
                "article figure": [claimed(r) for r in rows.itertuples()],
                "pipeline": [ours(r) for r in rows.itertuples()],
                "why": rows["reason"],
                "evidence": rows["evidence"].map(short_evidence),
            }
        )
    )


def chip_table(ledger: pd.DataFrame) -> str:
    """The article's chip table beside the sourced datasheet values."""
    rows = chip_rows(ledger)
    return table(
        pd.DataFrame(
            {
                "claim": rows["claim_id"],
                "chip": rows["subject"],
                "metric": rows["metric"],
                "article": rows["value"],
                "datasheet (pipeline)": rows["pipeline_value"],
                "sourced range": [
                    f"{fmt(r.pipeline_value_low)}-{fmt(r.pipeline_value_high)}"
                    if pd.notna(r.pipeline_value_low)
                    else "no source"
                    for r in rows.itertuples()
                ],
                "verdict": rows["verdict"],
            }
        )
    )


def predictions_section(ledger: pd.DataFrame) -> str:
    """Open predictions that the forecasts give a probability."""
    rows = ledger[(ledger["claim_type"] == "prediction") & ledger["probability"].notna()]
    return table(
        pd.DataFrame(
            {
                "claim": rows["claim_id"],
                "prediction": rows["text"].map(article_text),
                "by": pd.to_datetime(rows["horizon"]).dt.date.astype(str),
                "probability": rows["probability"].map(lambda p: f"{p:.2f}"),
                "forecast": rows["reason"],
            }
        )
    )


def price_forecast_table(fc: pd.DataFrame) -> str:
    """The published price model (chosen by its backtest) with its verdict and data age."""
    return forecast_report.price_forecast_section(fc)


def share_forecast_table(sh: pd.DataFrame) -> str:
    """The share models' forecasts for selected years."""
    rows = sh[
        (sh["status"] == "ok") & (sh["model"] != "source_figure") & sh["year"].isin(SHARE_YEARS)
    ]
    rows = rows.sort_values(["model", "year"], kind="mergesort")
    return table(
        pd.DataFrame(
            {
                "model": rows["model"],
                "figures": rows["basis"] + " / " + rows["kind_of_figure"],
                "year": rows["year"].astype("Int64").astype(str),
                "median %": rows["median_share_pct"],
                "80%": [
                    f"{fmt(a)}-{fmt(b)}"
                    for a, b in zip(
                        rows["lower_80_share_pct"], rows["upper_80_share_pct"], strict=True
                    )
                ],
                "95%": [
                    f"{fmt(a)}-{fmt(b)}"
                    for a, b in zip(
                        rows["lower_95_share_pct"], rows["upper_95_share_pct"], strict=True
                    )
                ],
                "P(30-40%)": rows["prob_share_in_30_40_pct"].map(lambda p: f"{p:.2f}"),
            }
        )
    )


def backtest_table(scores: list[pd.DataFrame]) -> str:
    """Pooled backtest scores per domain, model and horizon."""
    parts = [s for s in scores if s is not None and len(s)]
    if not parts:
        return "_(no backtest materialized)_"
    s = pd.concat(parts, ignore_index=True)
    s = s[(s["status"] == "ok") & s["series"].isin(["all/all/all", "all", "actual figures"])]
    s = s.sort_values(["domain", "model", "horizon_months"], kind="mergesort")
    cols = [
        "domain",
        "model",
        "horizon_months",
        "n_forecasts",
        "mase_log",
        "smape_pct",
        "brier",
        "coverage_80_pct",
        "coverage_95_pct",
        "interval_score_80_log",
        "interval_score_95_log",
        "n_forecasts_calibrated",
        "skill_vs_last_value",
        "skill_vs_rw_drift",
    ]
    refused = pd.concat(parts, ignore_index=True)
    refused = refused[refused["status"] != "ok"]
    notes = "".join(f"\n\n- {r.domain}: not judged: {r.reason}." for r in refused.itertuples())
    return table(s[[c for c in cols if c in s.columns]].dropna(axis=1, how="all")) + notes


def gaps_section(ledger: pd.DataFrame, f: Forecasts) -> list[str]:
    """What the pipeline could not say, and why: missing datasets, refused models."""
    out = []
    needs = ledger[ledger["reason"].str.startswith("needs ")]
    for reason, grp in needs.groupby("reason", sort=True):
        out.append(f"- {reason}: claims {', '.join(grp['claim_id'])}.")
    nodata = ledger[ledger["rule"] == "no_data"]
    if len(nodata):
        out.append(
            f"- No dataset measures {len(nodata)} claims ({', '.join(nodata['claim_id'])}): "
            "company compute and funding, lead times, runway, GitHub stars and qualitative statements."
        )
    for name in (
        "api_price_forecast",
        "api_price_decline",
        "startup_survival",
        "china_share_forecast",
    ):
        t = getattr(f, name)
        if t is None:
            out.append(f"- {name}: not materialized for this vintage.")
            continue
        refused = t[t["status"] != "ok"] if "status" in t else t.iloc[0:0]
        refused = refused[refused["status"] != "published"]
        for reason, grp in refused.groupby("reason", sort=True):
            out.append(f"- {name}: {len(grp)} row(s) refused or failed: {reason}.")
    out += [f"- {g}" for g in f.extra_gaps]
    return out
