"""Dagster assets of the report: the claims ledger and the outlook page with its charts.

Both are unpartitioned and read the forecasts through ``LastPartitionMapping``: the page speaks
for the latest vintage (the one the weekly schedule just wrote) and stays one file an analyst can
open, while the vintages themselves keep the history. Inputs from assets not (yet) defined in the
code location are left out, and the claims that need them stay open with the reason."""

from __future__ import annotations

import hashlib

import dagster as dg
import pandas as pd
from upath import UPath

import assets.china.assets
import assets.derived
import assets.ingest
import rust_core
from assets.ingest.claims import CLAIMS_SPEC
from assets.ingest.factory import table_schema
from assets.report import charts, china_compute, pages, sources_block
from assets.report.charts import ChartJob
from assets.report.findings import VERDICTS
from assets.report.ledger import LedgerInputs
from assets.report.ledger import claims_ledger as build_ledger
from assets.report.outlook import Forecasts
from assets.upstream.registry import DATASETS as UPSTREAM_DATASETS
from forecasts.assets import ASSETS as FORECAST_ASSETS
from pipelines import io, settings

GROUP = "report"
OWNERS = ["team:compute-outlook"]
REPORT_FILE = "outlook.md"
#: The ledger's Parquet file, published together with the page that shows it.
LEDGER_FILE = "claims_ledger.parquet"
#: Unpartitioned inputs of the ledger (ingest and derived tables).
LEDGER_TABLES = (
    "claims",
    "hardware_specs",
    "chip_aliases",
    "chip_specs",
    "power_observations",
    "api_prices",
    "price_decline_estimates",
    "model_counts",
    "gpu_rental_prices",
    "startup_events",
    "training_scenarios",
    "inference_costs",
    "cluster_equivalence",
    "datacenter_power",
    "cluster_power_intensity",
    "domestic_share_observed",
    "chip_comparison",
)
#: Vintage-partitioned forecast inputs of the ledger.
LEDGER_FORECASTS = ("startup_survival", "china_share_forecast")
#: Unpartitioned inputs of the outlook pages besides the ledger (a section reads them from
#: ``Page.tables``); add a table here with one line.
REPORT_TABLES = ("datacenter_power", "training_scenarios", "model_validation")
#: Vintage-partitioned forecast inputs of the outlook page.
REPORT_FORECASTS = (
    "api_price_grid",
    "api_price_forecast",
    "api_price_decline",
    "api_price_backtest",
    "startup_survival",
    "startup_survival_backtest",
    "china_share_forecast",
    "china_share_backtest",
    "capability_price_index",
    "capability_price_decline",
    "capability_price_backtest",
    "capability_price_forecast",
)


def defined_keys() -> tuple[set[str], set[str]]:
    """Names of the assets defined upstream of the report: (unpartitioned, vintage-partitioned)."""
    plain, partitioned = set(), set()
    for asset_def in [
        *assets.ingest.ASSETS,
        *assets.derived.ASSETS,
        *assets.china.assets.ASSETS,
        *FORECAST_ASSETS,
    ]:
        target = partitioned if asset_def.partitions_def is not None else plain
        target.update(k.to_user_string() for k in asset_def.keys)
    return plain, partitioned


PLAIN, PARTITIONED = defined_keys()
#: Inputs each report asset wants but the code location does not define yet.
MISSING_INPUTS = sorted(
    {n for n in (*LEDGER_TABLES, *REPORT_TABLES) if n not in PLAIN}
    | {n for n in (*LEDGER_FORECASTS, *REPORT_FORECASTS) if n not in PARTITIONED}
)


def _ins(tables: tuple[str, ...], forecasts: tuple[str, ...]) -> dict[str, dg.AssetIn]:
    ins = {n: dg.AssetIn(n) for n in tables if n in PLAIN}
    ins.update(
        {
            n: dg.AssetIn(n, partition_mapping=dg.LastPartitionMapping())
            for n in forecasts
            if n in PARTITIONED
        }
    )
    return ins


#: The claims table's own columns (as ingested, with provenance), then the finding of each claim.
CLAIM_COLUMNS = tuple(
    (
        c.name,
        c.type,
        c.tags.get("unit", ""),
        (c.description or "").removesuffix(f" [{c.tags['unit']}]" if "unit" in c.tags else ""),
    )
    for c in table_schema(CLAIMS_SPEC.schema, CLAIMS_SPEC.added_columns).columns
)
FINDING_DESCRIPTIONS = (
    ("pipeline_value", "double", "see pipeline_unit", "The pipeline's own figure for the claim"),
    ("pipeline_value_low", "double", "see pipeline_unit", "Low end of its range or interval"),
    ("pipeline_value_high", "double", "see pipeline_unit", "High end of its range or interval"),
    ("pipeline_unit", "string", "", "Unit of the pipeline's figure"),
    ("tolerance", "string", "", "Tolerance of the rule that gave the verdict"),
    ("verdict", "string", "", "consistent | contradicted | open"),
    (
        "probability",
        "double",
        "probability",
        "Forecast probability that an open prediction comes true",
    ),
    ("evidence", "string", "", "Datasets, row ids and source URLs behind the verdict"),
    ("rule", "string", "", "The check applied (chip_spec, cluster_power, api_price_change, ...)"),
    ("reason", "string", "", "Why the verdict, in words with the numbers"),
)
LEDGER_SCHEMA = io.column_schema(*CLAIM_COLUMNS, *FINDING_DESCRIPTIONS)


LEDGER_CHECK = "every_claim_has_a_verdict"


def ledger_problems(ledger: pd.DataFrame, claims: pd.DataFrame) -> list[str]:
    """What is wrong with a ledger: claims missing or extra, unknown verdicts, contradictions or
    agreements without evidence (empty when it is whole)."""
    problems = []
    missing = sorted(set(claims["claim_id"]) - set(ledger["claim_id"]))
    extra = sorted(set(ledger["claim_id"]) - set(claims["claim_id"]))
    if missing:
        problems.append(f"claims without a ledger row: {', '.join(missing)}")
    if extra:
        problems.append(f"ledger rows without a claim: {', '.join(extra)}")
    bad = ledger.loc[~ledger["verdict"].isin(VERDICTS), "claim_id"].tolist()
    if bad:
        problems.append(f"unknown verdict on {', '.join(bad)}")
    decided = ledger["verdict"].isin(["consistent", "contradicted"])
    unsupported = ledger.loc[decided & (ledger["evidence"].fillna("") == ""), "claim_id"].tolist()
    if unsupported:
        problems.append(f"verdict without evidence on {', '.join(unsupported)}")
    return problems


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas"},
    io_manager_key="report_io",
    ins=_ins(LEDGER_TABLES, LEDGER_FORECASTS),
    check_specs=[
        dg.AssetCheckSpec(
            LEDGER_CHECK,
            asset="claims_ledger",
            description="One row per claim, a known verdict, and evidence behind every "
            "consistent or contradicted verdict.",
            blocking=True,
        )
    ],
    metadata={
        "dagster/column_schema": LEDGER_SCHEMA,
        "primary_key": ["claim_id"],
        io.PUBLISHED_BY_KEY: "outlook_report",
        "missing_inputs": ", ".join(MISSING_INPUTS),
    },
)
def claims_ledger(context, **tables: pd.DataFrame):
    """Every claim of the seed article with the pipeline's own number, the tolerance, a verdict
    (consistent, contradicted or open), the evidence and, for open predictions, the forecast's
    probability; computed from the data on every run."""
    known = {k: v for k, v in tables.items() if k in LedgerInputs.names()}
    tolerance = float(rust_core.calibration()["leave_one_out_mae_mfu_pp"])
    ledger = build_ledger(LedgerInputs(**known, mfu_tolerance_pp=tolerance))
    problems = ledger_problems(ledger, tables["claims"])
    yield dg.AssetCheckResult(
        check_name=LEDGER_CHECK,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) or f"{len(ledger)} claims, each with a verdict",
    )
    if problems:
        raise io.refuse_publish(ledger, "claims_ledger", problems, LEDGER_SCHEMA)
    counts = ledger["verdict"].value_counts()
    yield dg.Output(
        ledger,
        metadata={
            **{f"n_{v}": int(counts.get(v, 0)) for v in VERDICTS},
            "mfu_tolerance_pp": tolerance,
            "contradicted": dg.MetadataValue.md(
                ledger.loc[
                    ledger["verdict"] == "contradicted",
                    ["claim_id", "metric", "value", "pipeline_value", "reason"],
                ].to_markdown(index=False)
            ),
        },
    )


def report_chart_jobs(ledger: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> list[ChartJob]:
    """Every chart of the page to draw, by name (only those whose data is present)."""
    from forecasts import charts as forecast_charts
    from forecasts import report as forecast_report

    jobs: list[ChartJob] = [
        ("chip_claims", charts.chip_claims_chart, (ledger,)),
        ("verdicts", charts.verdict_chart, (ledger,)),
        ("power", charts.power_chart, (ledger, tables.get("datacenter_power"))),
    ]
    if tables.get("training_scenarios") is not None:
        jobs.append(("mfu_gap", charts.mfu_gap_chart, (ledger, tables["training_scenarios"])))
    grid, forecast = tables.get("api_price_grid"), tables.get("api_price_forecast")
    if grid is not None and forecast is not None:
        model = forecast_report.published_model(forecast)
        for side in ("input", "output"):
            jobs.append(
                (
                    f"price_fan_{side}",
                    forecast_charts.price_fan_chart,
                    (grid, forecast, side, model),
                )
            )
    if tables.get("startup_survival") is not None:
        survival = tables["startup_survival"]
        age = forecast_charts.max_age_years(survival)
        jobs.append(("survival_all", forecast_charts.survival_chart, (survival, "all", age)))
        jobs.append(("survival_cn", forecast_charts.survival_chart, (survival, "CN", age)))
    if tables.get("china_share_forecast") is not None:
        jobs.append(("share", forecast_charts.share_chart, (tables["china_share_forecast"],)))
    if tables.get("capability_price_index") is not None:
        from forecasts.price_index_report import index_chart

        jobs.append(("capability_index", index_chart, (tables["capability_price_index"],)))
    if tables.get("api_price_backtest") is not None:
        jobs.append(
            (
                "backtest_prices",
                forecast_charts.backtest_chart,
                (tables["api_price_backtest"], "mase_log"),
            )
        )
    return jobs


REPORT_INDEX_SCHEMA = io.column_schema(
    ("file", "string", "", "File written beside the report (relative to warehouse/report/)"),
    ("kind", "string", "", "markdown | png"),
    ("size_bytes", "int64", "bytes", "File size"),
    ("sha256", "string", "", "SHA-256 of the file's bytes"),
)


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"markdown", "pandas"},
    io_manager_key="report_io",
    ins={
        "claims_ledger": dg.AssetIn("claims_ledger"),
        **_ins((*REPORT_TABLES, *china_compute.TABLES), REPORT_FORECASTS),
    },
    deps=[dg.AssetKey(entry.asset_name) for entry in UPSTREAM_DATASETS],
    metadata={
        "dagster/column_schema": REPORT_INDEX_SCHEMA,
        "missing_inputs": ", ".join(MISSING_INPUTS),
    },
)
def outlook_report(context, claims_ledger: pd.DataFrame, **tables: pd.DataFrame) -> pd.DataFrame:
    """Writes ``warehouse/report/outlook.md`` (headline findings, each with its number, interval,
    chart and evidence line) and its detail pages and PNG charts beside it, shows the main page
    with its charts inline in the UI, and returns the index of files written."""
    vintages = sorted(
        {
            str(pd.Timestamp(t["as_of_date"].iloc[0]).date())
            for t in tables.values()
            if "as_of_date" in t and len(t)
        }
    )
    forecasts = Forecasts(
        **{k: v for k, v in tables.items() if k in Forecasts.__dataclass_fields__},
        extra_gaps=[f"{n}: not defined in this code location" for n in MISSING_INPUTS],
    )

    def written(names: dict[str, str]) -> dict[str, str]:
        page = pages.Page(
            ledger=claims_ledger,
            forecasts=forecasts,
            charts=names,
            vintage=", ".join(vintages) or "none",
            tables=tables,
        )
        texts = pages.report_pages(page)
        texts[REPORT_FILE] = report_with_sources(context.instance, texts[REPORT_FILE])
        return texts

    # One pool draws the page's charts and the China section's while the pages are written,
    # naming every chart; a chart that turns out to have no data is left out by writing them again.
    jobs = report_chart_jobs(claims_ledger, tables) + china_compute.chart_jobs(tables)
    names = {name: f"outlook_{name}.png" for name, _, _ in jobs}
    with charts.drawing(jobs) as drawn:
        texts = written(names)
        pngs = drawn()
    if len(pngs) < len(names):
        names = {name: names[name] for name in pngs}
        texts = written(names)
    folder = UPath(settings.layer_dir("report"))
    files = [(name, "markdown", text.encode("utf-8")) for name, text in texts.items()]
    files += [(names[n], "png", b) for n, b in pngs.items()]
    for name, _, data in files:
        io.write_bytes_atomic(data, io.pending_path(folder / name))
    io.publish_together(folder, [LEDGER_FILE, *(f[0] for f in files)])
    main = texts[pages.MAIN_PAGE]
    context.add_output_metadata(
        {
            "outlook": dg.MetadataValue.md(pages.inline_charts(main, pngs, names)),
            "report": dg.MetadataValue.path(str(folder / REPORT_FILE)),
            "main_page_bytes": len(main.encode("utf-8")),
            "detail_pages": ", ".join(n for n in texts if n != pages.MAIN_PAGE),
        }
    )
    return pd.DataFrame(
        {
            "file": [f[0] for f in files],
            "kind": [f[1] for f in files],
            "size_bytes": pd.Series([len(f[2]) for f in files], dtype="int64"),
            "sha256": [hashlib.sha256(f[2]).hexdigest() for f in files],
        }
    )


def report_with_sources(instance: dg.DagsterInstance, text: str) -> str:
    """The page with each source's as-of date (stale ones flagged) and the attribution block."""
    today = pd.Timestamp.now(tz="UTC").date()
    latest = {}
    for entry in UPSTREAM_DATASETS:
        event = instance.get_latest_materialization_event(dg.AssetKey(entry.asset_name))
        if event is not None and event.asset_materialization is not None:
            latest[entry.asset_name] = {
                k: v.value for k, v in event.asset_materialization.metadata.items()
            }
    upstream = sources_block.upstream_as_of(latest)
    rows = upstream + sources_block.clean_series_as_of(today)
    return sources_block.with_sources(text, rows, upstream, today)


ASSETS = [claims_ledger, outlook_report]
