"""The report in layers: a main page (``outlook.md``) of headline findings, each with its number,
interval, chart and a one-line evidence summary, linking to detail pages written beside it
(ledger, chips, forecasts, backtests).

Every page is an ordered tuple of sections; a section is a small function from ``Page`` (everything
the report read) to Markdown lines. Adding a section is one line in ``MAIN_SECTIONS`` or in a
detail page's tuple; adding a headline finding is one line in ``HEADLINES``."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from assets.report import china_compute
from assets.report.findings import CONSISTENT, CONTRADICTED, OPEN, fmt
from assets.report.outlook import (
    SHARE_MODEL,
    Forecasts,
    article_text,
    backtest_table,
    chip_table,
    gaps_section,
    headline_lines,
    predictions_section,
    price_forecast_table,
    share_forecast_table,
    table,
    verdict_section,
)
from assets.report.scenario_claims import THIN_EVIDENCE
from assets.report.wording import directional, directional_range
from forecasts import price_index, price_index_report
from forecasts import report as forecast_report

MAIN_PAGE = "outlook.md"
#: The article the ledger checks, as its text names itself: it states no title and no date.
ARTICLE = (
    "The article checked here is the file `seed/000_cf4bac91c748bd88.txt`. Its text states **no "
    'title and no publication date**; it names its publisher only as **AINews** ("internal '
    'benchmarks shared with AINews", "AINews Verdict & Predictions"). It opens with the section '
    '"Technical Deep Dive" and is about China\'s AI-compute shortage.'
)
EVIDENCE_IDS_SHOWN = 3


@dataclass(frozen=True)
class Page:
    """Everything a section may draw on: the ledger, the latest forecast vintage, the other tables
    the report read (by asset name), the chart files (name -> file) and the vintage."""

    ledger: pd.DataFrame
    forecasts: Forecasts
    charts: dict[str, str] = field(default_factory=dict)
    vintage: str = "none"
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @functools.cached_property
    def china_lines(self) -> tuple[str, ...]:
        """The China section's Markdown lines, built once: the main page and china.md show them."""
        return tuple(china_compute.china_compute_markdown(self.tables, self.charts).splitlines())


@dataclass(frozen=True)
class Headline:
    """One finding of the main page: the claim in words, its number and interval, its chart and
    the evidence behind it in one line, and the detail page that has the rest."""

    title: str
    number: str
    interval: str
    chart: str
    evidence: str
    detail: str

    def lines(self, page: Page, index: int) -> list[str]:
        """The finding as Markdown: heading, figure with interval, evidence line, chart."""
        out = [
            f"### {index}. {self.title}",
            f"**{self.number}**" + (f" ({self.interval})" if self.interval else "") + ".",
        ]
        out.append(f"Evidence: {self.evidence}; details in [{self.detail}]({self.detail}).")
        if self.chart in page.charts:
            out.append(f"![{self.title}]({page.charts[self.chart]})")
        return [*out, ""]


Section = Callable[[Page], list[str]]
HeadlineRule = Callable[[Page], "Headline | None"]


def ids_text(ids: list[str], keep: int = EVIDENCE_IDS_SHOWN) -> str:
    """A few ids and "and N more"."""
    ids = list(dict.fromkeys(ids))
    if len(ids) <= keep:
        return ", ".join(ids)
    return f"{', '.join(ids[:keep])} and {len(ids) - keep} more"


def sources_in(evidence: pd.Series) -> set[str]:
    """Distinct sources behind evidence texts: their URLs, else their row ids."""
    found: set[str] = set()
    for text in evidence.dropna().astype(str):
        urls = re.findall(r"<([^>]+)>", text)
        if urls:
            found.update(u for url in urls for u in url.split(";"))
        else:
            pieces = (t.split(":", 1)[-1].strip() for t in re.split(r"[;,]", text))
            found.update(t for t in pieces if t and not re.search(r"\s", t))
    return found


def evidence_summary(rows: pd.DataFrame, extra_sources: int = 0) -> str:
    """'12 sources; see ledger C54' for the ledger rows behind a finding."""
    n = len(sources_in(rows["evidence"])) + extra_sources
    return f"{n} source{'s' if n != 1 else ''}; see ledger {ids_text(list(rows['claim_id']))}"


def _rows(page: Page, rules: tuple[str, ...]) -> pd.DataFrame:
    return page.ledger[page.ledger["rule"].isin(rules)]


def capability_headline(page: Page) -> Headline | None:
    """How fast the cheapest price at GPT-4-level capability (MMLU >= 80) falls, world, with its
    Newey-West interval and n, beside Epoch AI's and a16z's published rates."""
    d = page.forecasts.capability_price_decline
    line = price_index_report.headline_line(d)
    if line is None:
        return None
    bench, thr = price_index_report.HEADLINE
    r = d[
        (d["status"] == "ok")
        & (d["region"] == "world")
        & (d["benchmark"] == bench)
        & (d["threshold"] == thr)
    ].iloc[0]
    return Headline(
        f"API prices at constant capability ({bench.upper()} >= {thr:g}, cheapest model, 3:1 blend)",
        f"falling {fmt(float(r['decline_x_per_year']))}x per year",
        f"95% HAC CI {fmt(float(r['decline_x_per_year_low_95']))}-"
        f"{fmt(float(r['decline_x_per_year_high_95']))}x; " + line.split("); ", 1)[-1],
        "capability_index",
        f"{int(r['n_points'])} months setting a new low, "
        f"{int(r['n_months_observed'])} months with a qualifying price",
        "forecasts.md",
    )


def price_headline(page: Page) -> Headline | None:
    """The constant-capability rate when it exists; otherwise how fast GPT-4-class (vendor tier
    label) API prices fall, US and China, with 95 % intervals."""
    capability = capability_headline(page)
    if capability is not None:
        return capability
    d = page.forecasts.api_price_decline
    if d is None or d.empty:
        return None
    ok = d[(d["status"] == "ok") & (d["price_side"] == "input") & (d["tier"] == "gpt4_class")]
    parts, intervals, months = [], [], 0
    for region in ("US", "CN"):
        r = ok[ok["region"] == region]
        if r.empty:
            continue
        r = r.iloc[0]
        factor = float(r["decline_factor_per_year"])
        verb = "falling" if factor >= 1 else "rising"
        shown = factor if factor >= 1 else 1 / factor
        parts.append(f"{region} {verb} {fmt(shown)}x per year")
        intervals.append(
            f"{region} 95% CI {fmt(r['decline_factor_per_year_low'])}-"
            f"{fmt(r['decline_factor_per_year_high'])}x"
        )
        months += int(r["n_points"])
    if not parts:
        return None
    rows = page.ledger[page.ledger["rule"].str.contains("api_price", na=False)]
    return Headline(
        "API prices for GPT-4-class models (input tokens)",
        ", ".join(parts),
        "; ".join(intervals),
        "price_fan_input",
        f"{months} monthly prices fitted; " + evidence_summary(rows),
        "forecasts.md",
    )


def share_headline(page: Page) -> Headline | None:
    """China's domestic accelerator share in 2028 with 80 %/95 % intervals."""
    sh = page.forecasts.china_share_forecast
    if sh is None or sh.empty:
        return None
    r = sh[(sh["model"] == SHARE_MODEL) & (sh["status"] == "ok") & (sh["year"] == 2028)]
    if r.empty:
        return None
    r = r.iloc[0]
    figures = sh[sh["model"] == "source_figure"]
    forecasts = int((figures["kind_of_figure"] == "forecast").sum())
    rows = page.ledger[page.ledger["evidence"].str.contains("china_share", na=False)]
    return Headline(
        "Domestic chips' share of China's AI-accelerator market, 2028",
        f"{fmt(r['median_share_pct'])}%",
        f"80%: {fmt(r['lower_80_share_pct'])}-{fmt(r['upper_80_share_pct'])}%, 95%: "
        f"{fmt(r['lower_95_share_pct'])}-{fmt(r['upper_95_share_pct'])}%",
        "share",
        f"{int(r['n_points'])} actual figures fitted ({forecasts} sources' own forecasts shown, "
        "never fitted); " + evidence_summary(rows),
        "forecasts.md",
    )


def survival_headline(page: Page) -> Headline | None:
    """How many of today's independent model startups are expected independent on 2027-03-31."""
    s = page.forecasts.startup_survival
    if s is None or s.empty:
        return None
    e = s[
        (s["quantity"] == "expected_independent_of_active")
        & (s["model"] == "kaplan_meier")
        & (s["status"] == "ok")
        & (s["cohort"] == "all")
    ]
    e = e[pd.to_datetime(e["target_date"]) == pd.Timestamp("2027-03-31")]
    if e.empty:
        return None
    r = e.iloc[0]
    rows = page.ledger[page.ledger["evidence"].str.contains("startup", na=False)]
    return Headline(
        "AI-model startups still independent on 2027-03-31",
        f"{fmt(r['value'])} of {int(r['n_active'])} independent today",
        f"80%: {fmt(r['lower_80'])}-{fmt(r['upper_80'])}, 95%: {fmt(r['lower_95'])}-"
        f"{fmt(r['upper_95'])}",
        "survival_all",
        evidence_summary(rows),
        "forecasts.md",
    )


def power_headline(page: Page) -> Headline | None:
    """The article's cluster power figure against the sourced range."""
    rows = _rows(page, ("cluster_power",))
    rows = rows[rows["pipeline_value"].notna()]
    if rows.empty:
        return None
    r = rows.iloc[0]
    return Headline(
        f"Power of {r['unit'].removeprefix('MW for ')}: article {fmt(r['value'])} MW is "
        f"{r['verdict']}",
        f"{fmt(r['pipeline_value'])} MW",
        f"sourced range {fmt(r['pipeline_value_low'])}-{fmt(r['pipeline_value_high'])} MW",
        "power",
        evidence_summary(rows),
        "ledger.md",
    )


def mfu_headline(page: Page) -> Headline | None:
    """The modelled MFU gap of the Ascend 910B against the H100 at 1,024 chips."""
    rows = _rows(page, ("training_mfu_gap",))
    rows = rows[rows["pipeline_value"].notna()]
    if rows.empty:
        return None
    r = rows.iloc[0]
    unit = str(r["pipeline_unit"])
    why_open = ""
    if r["verdict"] == OPEN and THIN_EVIDENCE in str(r["reason"]):
        why_open = "; not judged: " + str(r["reason"]).split(THIN_EVIDENCE, 1)[1]
    return Headline(
        f"MFU of 1,024 Ascend 910B against H100s: the article's "
        f"{fmt(r['value'])}-{fmt(r['value_high'])}% lower is {r['verdict']}",
        ("model: " if why_open else "") + directional(r["pipeline_value"], unit),
        "model band "
        + directional_range(r["pipeline_value_low"], r["pipeline_value_high"], "lower"),
        "mfu_gap",
        evidence_summary(rows) + why_open + _validation_note(page),
        "chips.md",
    )


def _validation_note(page: Page) -> str:
    v = page.tables.get("model_validation")
    return "" if v is None or v.empty else f"; the model: {validation_summary(v)}"


def chip_table_headline(page: Page) -> Headline | None:
    """How many cells of the article's chip table the datasheets contradict."""
    rows = _rows(page, ("chip_spec", "chip_spec_ratio"))
    if rows.empty:
        return None
    counts = rows["verdict"].value_counts()
    return Headline(
        "The article's chip table against vendor datasheets",
        f"{counts.get(CONTRADICTED, 0)} of {len(rows)} cells contradicted",
        f"{counts.get(CONSISTENT, 0)} consistent, {counts.get(OPEN, 0)} without a sourced value",
        "chip_claims",
        evidence_summary(rows),
        "chips.md",
    )


def ledger_headline(page: Page) -> Headline | None:
    """The whole ledger in one line: claims by verdict."""
    led = page.ledger
    counts = led["verdict"].value_counts()
    return Headline(
        "Every claim of the article, checked",
        f"{len(led)} claims: {counts.get(CONTRADICTED, 0)} contradicted, "
        f"{counts.get(CONSISTENT, 0)} consistent, {counts.get(OPEN, 0)} open",
        "",
        "verdicts",
        evidence_summary(led[led["verdict"] != OPEN]),
        "ledger.md",
    )


#: The main page's findings, in order; a rule returns None when its data is not there.
HEADLINES: tuple[HeadlineRule, ...] = (
    price_headline,
    share_headline,
    survival_headline,
    power_headline,
    mfu_headline,
    chip_table_headline,
    ledger_headline,
)


def title_section(page: Page) -> list[str]:
    """Title, vintage, the article by name, and the detail pages."""
    links = " · ".join(f"[{title}]({name})" for name, (title, _) in DETAIL_PAGES.items())
    return [
        "# Compute Outlook",
        "",
        f"Forecast vintage {page.vintage}. Every figure comes from the pipeline's sourced data "
        "(`warehouse/`); every claim's row, with its full evidence, is in "
        "`warehouse/report/claims_ledger.parquet`.",
        "",
        ARTICLE,
        "",
        f"Detail pages: {links}.",
        "",
    ]


def headlines_section(page: Page) -> list[str]:
    """The headline findings, numbered."""
    out = ["## Headline findings", ""]
    found = [h for rule in HEADLINES if (h := rule(page)) is not None]
    for i, h in enumerate(found, start=1):
        out += h.lines(page, i)
    return out


def verdicts_section(page: Page) -> list[str]:
    """Which claims are contradicted and which predictions have a probability (ids only)."""
    led = page.ledger
    out = ["## What the article gets wrong, right and leaves open", ""]
    for verdict in (CONTRADICTED, CONSISTENT, OPEN):
        ids = list(led.loc[led["verdict"] == verdict, "claim_id"])
        out.append(f"- {verdict}: {len(ids)} claims ({ids_text(ids, 12)}).")
    preds = led[(led["claim_type"] == "prediction") & led["probability"].notna()]
    for r in preds.itertuples():
        out.append(
            f"- Prediction {r.claim_id} ({article_text(r.text)[:90]}...): probability "
            f"{r.probability:.2f} by {pd.Timestamp(r.horizon).date()}."
        )
    return [*out, "", "Each claim with its figures and reasons: [ledger](ledger.md).", ""]


def backtests_summary(page: Page) -> list[str]:
    """One line per backtested domain: forecasts scored; the table is on the backtests page."""
    f = page.forecasts
    parts = []
    for name, t in (
        ("API prices", f.api_price_backtest),
        ("API prices at constant capability", f.capability_price_backtest),
        ("startup survival", f.startup_survival_backtest),
        ("China share", f.china_share_backtest),
    ):
        if t is not None and len(t) and "n_forecasts" in t:
            ok = t[t["status"] == "ok"]
            parts.append(f"{name} ({int(ok['n_forecasts'].sum())} forecasts scored)")
    if not parts:
        return []
    return [
        "## How good the forecasts have been",
        "",
        f"Rolling-origin backtests: {', '.join(parts)}; scores by model and horizon in "
        "[backtests](backtests.md).",
        "",
    ]


def gaps_summary(page: Page) -> list[str]:
    """How many things the pipeline could not say, with the page that lists them."""
    gaps = gaps_section(page.ledger, page.forecasts)
    return ["## Data gaps", "", f"{len(gaps)} gaps listed in [ledger](ledger.md#data-gaps).", ""]


def china_full(page: Page) -> list[str]:
    """China's compute from Epoch AI's data: every table with its caveats (the detail page)."""
    return list(page.china_lines)


#: Sub-sections of the China block whose tables stay on the main page (short, the headline series).
CHINA_MAIN_TABLES = ("### Compute stock", "### Domestic share")


def china_section(page: Page) -> list[str]:
    """China's compute stock, the domestic share of its chip supply, power per H100e and the chip
    comparison (charts, the two headline tables, Epoch credited); the rest is on china.md."""
    out: list[str] = []
    keep_tables = False
    for line in china_full(page):
        if line.startswith("#"):
            keep_tables = line.startswith(CHINA_MAIN_TABLES)
        shown = line.startswith(("#", "![", "Data: Epoch AI"))
        table = keep_tables and line.startswith("|")
        gap = not line.strip() and bool(out) and bool(out[-1].strip())
        if shown or table or gap:
            out += [line]
    # a heading whose charts and tables all moved to the detail page goes with them
    content = [i for i, line in enumerate(out) if line.strip()]
    empty = {
        i
        for i, j in zip(content, [*content[1:], None], strict=True)
        if out[i].startswith("#")
        and (j is None or out[j].startswith(out[i].split(" ")[0] + " "))
        or out[i].startswith("####")
    }
    out = [line for i, line in enumerate(out) if i not in empty]
    return [*out, "", "Every table with Epoch's caveats: [China's compute](china.md).", ""]


#: The main page, in order. Add a section with one line here.
MAIN_SECTIONS: tuple[Section, ...] = (
    title_section,
    headlines_section,
    china_section,
    verdicts_section,
    backtests_summary,
    gaps_summary,
)


def _image(page: Page, name: str, alt: str) -> list[str]:
    return [f"![{alt}]({page.charts[name]})", ""] if name in page.charts else []


def ledger_wrong(page: Page) -> list[str]:
    """Contradicted claims with both figures, the reason and a few evidence ids."""
    return ["## What the article gets wrong", verdict_section(page.ledger, CONTRADICTED), ""]


def ledger_right(page: Page) -> list[str]:
    """Consistent claims."""
    return ["## What the article gets right", verdict_section(page.ledger, CONSISTENT), ""]


def ledger_open(page: Page) -> list[str]:
    """Open claims without a forecast probability."""
    led = page.ledger
    return ["## Open claims", verdict_section(led[led["probability"].isna()], OPEN), ""]


def ledger_gaps(page: Page) -> list[str]:
    """What the pipeline could not say, and why."""
    return ["## Data gaps", *gaps_section(page.ledger, page.forecasts), ""]


def ledger_verdict_chart(page: Page) -> list[str]:
    """Verdicts by article section."""
    return ["## Verdicts by article section", *_image(page, "verdicts", "verdicts by section")]


def chips_table(page: Page) -> list[str]:
    """The article's chip table beside the datasheets."""
    return [
        "## The article's chip table against the datasheets",
        *_image(page, "chip_claims", "article vs sourced chip specs"),
        chip_table(page.ledger),
        "",
    ]


def chips_scenarios(page: Page) -> list[str]:
    """The modelled MFU gap and cluster equivalence claims."""
    rows = _rows(page, ("training_mfu_gap", "cluster_equivalence"))
    out = ["## MFU and cluster equivalence (rust_core model)", ""]
    for r in rows.itertuples():
        out.append(f"- {r.claim_id} ({article_text(r.text)}): {r.verdict}. {r.reason}.")
    return [*out, "", *_image(page, "power", "cluster power"), ""]


def validation_summary(v: pd.DataFrame) -> str:
    """One line: the model's mean absolute error on held-out published runs, per chip family."""
    families = ", ".join(
        f"{name} {fmt(g['error_pp'].abs().mean())} over {len(g)}"
        for name, g in v.groupby("efficiency_family", sort=False)
    )
    return (
        f"on {len(v)} published runs it was never fitted on, its mean absolute error is "
        f"{fmt(v['error_pp'].abs().mean())} MFU points ({families})"
    )


def chips_validation(page: Page) -> list[str]:
    """How the performance model does on published runs outside its calibration sets."""
    v = page.tables.get("model_validation")
    if v is None or v.empty:
        return []
    shown = v.assign(
        published_mfu_pct=v["published_mfu_pct"].map(fmt),
        predicted_mfu_pct=v["predicted_mfu_pct"].map(fmt),
        error_pp=v["error_pp"].map(fmt),
        fits_memory=v["fits_memory"].map({True: "yes", False: "no"}),
    )[
        [
            "row_id",
            "efficiency_family",
            "chips",
            "layout",
            "fits_memory",
            "kind",
            "published_mfu_pct",
            "predicted_mfu_pct",
            "error_pp",
            "source_url",
        ]
    ]
    return [
        "## The performance model on runs it never saw",
        "",
        f"The MFU verdicts above rest on a model calibrated on 26 published runs; "
        f"{validation_summary(v)}. Layout fields a publication leaves out (*) are searched for the "
        "model's best case; `fits memory = no` rows are predicted with the memory check lifted; "
        "`claim` rows are loosely stated figures. Rows and method: `derived/model_validation."
        "parquet`, docs/model.md section 2.1.",
        "",
        table(shown.rename(columns={"error_pp": "error (pts)"})),
        "",
    ]


def forecast_numbers(page: Page) -> list[str]:
    """Every headline number of the forecasts."""
    return ["## Headline numbers", *headline_lines(page.ledger, page.forecasts), ""]


def forecast_prices(page: Page) -> list[str]:
    """API-price forecasts at 12 and 24 months."""
    fc = page.forecasts.api_price_forecast
    return [
        "## API prices (USD per 1M tokens, the model with the best backtest, from the last observation)",
        *_image(page, "price_fan_input", "API price fan chart, input"),
        *_image(page, "price_fan_output", "API price fan chart, output"),
        price_forecast_table(fc) if fc is not None else "_(not materialized)_",
        "",
    ]


def forecast_capability_index(page: Page) -> list[str]:
    """The constant-capability price index: chart, decline rates beside the published ones, the
    reconciliation in words, and the level forecast at the headline threshold (world) with its
    backtest verdict and data age."""
    d = page.forecasts.capability_price_decline
    bench, thr = price_index_report.HEADLINE
    return [
        "## API prices at constant capability (Epoch AI's method)",
        "",
        f"Cheapest price among models at or above each benchmark threshold ({price_index.BLEND_NOTE}), in "
        "months with an observed list price only; the decline is an OLS of log price on time "
        "over the months that set a new low, with Newey-West (HAC) intervals.",
        "",
        *_image(page, "capability_index", "constant-capability price index"),
        table(price_index_report.decline_rows(d)) if d is not None else "_(not materialized)_",
        "",
        price_index_report.reconciliation(d) if d is not None else "",
        "",
        f"### Level forecast at {bench.upper()} >= {thr:g} (world, USD per 1M tokens blended, "
        "the model with the best backtest, from the last observation)",
        "",
        price_index_report.level_forecast_section(page.forecasts.capability_price_forecast),
        "",
    ]


def forecast_survival(page: Page) -> list[str]:
    """Startup survival and competing exits, all and China."""
    return [
        "## Startup survival and competing exits",
        *_image(page, "survival_all", "survival and cumulative incidence, all"),
        *_image(page, "survival_cn", "survival and cumulative incidence, China"),
        forecast_report.backtest_verdict(
            page.forecasts.startup_survival_backtest, "startup survival"
        ),
        "",
    ]


def forecast_share(page: Page) -> list[str]:
    """China's domestic accelerator share."""
    sh = page.forecasts.china_share_forecast
    return [
        "## China's domestic accelerator share",
        *_image(page, "share", "domestic share forecast"),
        share_forecast_table(sh) if sh is not None else "_(not materialized)_",
        "",
        forecast_report.backtest_verdict(page.forecasts.china_share_backtest, "China share"),
        "",
        _share_age(sh),
        "",
    ]


def _share_age(sh: pd.DataFrame | None) -> str:
    """Data age of the share forecast: its newest actual figure (a year: dated at its end)."""
    if sh is None or sh.empty:
        return ""
    actual = sh[(sh["model"] == "source_figure") & (sh["kind_of_figure"] == "actual")]
    last = pd.Timestamp(f"{int(actual['year'].max())}-12-31") if len(actual) else pd.NaT
    return forecast_report.data_age_line(
        sh["as_of_date"].max(), last, "China share, newest actual figure's year end"
    )


def forecast_predictions(page: Page) -> list[str]:
    """The article's predictions with the forecasts' probability."""
    return ["## Predictions and their probability", predictions_section(page.ledger), ""]


def backtest_scores(page: Page) -> list[str]:
    """Pooled backtest scores per domain, model and horizon; the constant-capability level
    forecast's own backtest beside them, pooled and at the headline threshold (world)."""
    f = page.forecasts
    bench, thr = price_index_report.HEADLINE
    headline = f"{price_index.series_label(bench, thr)}/world/{price_index.BLENDED}"
    return [
        "## Backtests (rolling origin, expanding window)",
        *_image(page, "backtest_prices", "price backtest MASE"),
        backtest_table([f.api_price_backtest, f.startup_survival_backtest, f.china_share_backtest]),
        "",
        "### API prices at constant capability (level forecast)",
        "",
        "The same models and machinery on each benchmark threshold and region's monthly grid of "
        "the index (cheapest qualifying blended price, carried forward, observed months scored), "
        "pooled over every threshold and region:",
        "",
        backtest_table([f.capability_price_backtest]),
        "",
        f"{bench.upper()} >= {thr:g}, world alone:",
        "",
        forecast_report.backtest_section(f.capability_price_backtest, headline)
        if f.capability_price_backtest is not None
        else "_(not materialized)_",
        "",
    ]


#: Detail pages written beside the main page: file -> (title, sections in order).
DETAIL_PAGES: dict[str, tuple[str, tuple[Section, ...]]] = {
    "ledger.md": (
        "Claims ledger",
        (ledger_wrong, ledger_right, ledger_open, ledger_gaps, ledger_verdict_chart),
    ),
    "chips.md": ("Chips", (chips_table, chips_scenarios, chips_validation)),
    "china.md": ("China's compute", (china_full,)),
    "forecasts.md": (
        "Forecasts",
        (
            forecast_numbers,
            forecast_capability_index,
            forecast_prices,
            forecast_survival,
            forecast_share,
            forecast_predictions,
        ),
    ),
    "backtests.md": ("Backtests", (backtest_scores,)),
}


def render(sections: tuple[Section, ...], page: Page) -> str:
    """The sections' lines joined into one page."""
    lines = [line for section in sections for line in section(page)]
    return "\n".join(lines).rstrip() + "\n"


def report_pages(page: Page) -> dict[str, str]:
    """Every page by file name: the main page first, then the detail pages (each headed by its
    title and a link back)."""
    out = {MAIN_PAGE: render(MAIN_SECTIONS, page)}
    for name, (title, sections) in DETAIL_PAGES.items():
        head = [f"# Compute Outlook: {title}", "", f"Back to the [outlook]({MAIN_PAGE}).", ""]
        out[name] = "\n".join(head) + "\n" + render(sections, page)
    return out


def inline_charts(markdown: str, pngs: dict[str, bytes], files: dict[str, str]) -> str:
    """The page with each chart file reference replaced by the chart as a base64 data URI, so the
    Dagster UI shows the charts inline."""
    from forecasts.charts import markdown_image

    for name, file in files.items():
        markdown = re.sub(
            rf"!\[([^\]]*)\]\({re.escape(file)}\)",
            lambda m, n=name: markdown_image(pngs[n], m.group(1)),
            markdown,
        )
    return markdown
