"""The forecast assets in Dagster: vintages written Hive-style, read back by DuckDB and pandas,
byte-identical on re-run, charts and coverage checks in the run, history across vintages."""

from __future__ import annotations

import hashlib

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

import assets.ingest  # noqa: F401  (registers the clean tables' blocking audits, as in a full run)
from forecasts import assets as forecast_assets
from forecasts import backtest
from forecasts import jobs as forecast_jobs
from forecasts.vintage import VINTAGES, as_of_date, read_vintages, vintage_glob
from pipelines import settings
from pipelines.io import ParquetIOManager
from tests.forecasts.forecast_sim import price_rows, startup_rows

V1, V2 = "2026-01-05", "2026-01-12"


def _share_rows() -> pd.DataFrame:
    years = np.arange(2016, 2026)
    return pd.DataFrame(
        {
            "share_id": [f"r{y}" for y in years],
            "period": years.astype(str),
            "year": years,
            "kind_of_figure": "actual",
            "basis": ["units", "revenue"] * 5,
            "domestic_share_pct": np.linspace(5, 40, len(years)),
            "domestic_share_pct_high": np.nan,
            "huawei_share_pct": np.nan,
            "nvidia_share_pct": np.nan,
            "imported_share_pct": np.nan,
            "source_org": "sim",
            "published": [f"{y + 1}-01-10" for y in years],
        }
    )


def _startups() -> pd.DataFrame:
    return startup_rows(
        30, {"shutdown": 0.1, "acquired": 0.1, "pivoted": 0.05}, seed=5, data_end="2026-01-08"
    )


def _prices() -> pd.DataFrame:
    rows = _usd_prices()
    # the clean table's audit checks every stated price kept a USD value
    return rows.assign(
        input_price_per_mtok=rows["input_usd_per_mtok"],
        output_price_per_mtok=rows["output_usd_per_mtok"],
        currency="USD",
    )


def _usd_prices() -> pd.DataFrame:
    return pd.concat(
        [
            price_rows(-0.06, 0.1, 16, seed=1, start="2024-09-01"),
            price_rows(
                -0.04, 0.1, 12, seed=2, start="2025-01-01", tier="small", region="CN", model="cn1"
            ),
        ],
        ignore_index=True,
    )


def _upstream() -> list[dg.AssetsDefinition]:
    tables = {
        "api_prices": _prices,
        "price_decline_estimates": lambda: pd.DataFrame(
            {
                "estimate_id": ["e1"],
                "publisher": ["Sim Lab"],
                "scope": ["fixed capability"],
                "period_start": [pd.Timestamp("2023-01-01")],
                "period_end": [pd.Timestamp("2024-12-01")],
                "decline_factor_per_year": [40.0],
                "decline_factor_per_year_low": [9.0],
                "decline_factor_per_year_high": [900.0],
                "source": ["Sim report"],
                "source_url": ["https://example.org/sim"],
                "published": ["2025-03-12"],
            }
        ),
        "stg_litellm_prices": lambda: pd.DataFrame(
            {
                "model_id": ["sim-model", "host/sim-model-instruct"],
                "provider": ["openai", "together_ai"],
                "mode": ["chat", "chat"],
                "input_usd_per_mtok": [0.5, 0.2],
                "output_usd_per_mtok": [1.5, 0.6],
                "source_url": ["https://example.org/catalog"] * 2,
                "published": ["2026-01-01"] * 2,
            }
        ),
        "stg_openrouter_models": lambda: pd.DataFrame(
            {
                "model_id": ["sim/sim-model", "sim/sim-model:batch", "~sim/sim-latest"],
                "input_usd_per_mtok": [0.1, 0.01, 0.01],
                "output_usd_per_mtok": [0.3, 0.03, 0.03],
                "source_url": ["https://example.org/router"] * 3,
                "published": ["2025-12-15"] * 3,
            }
        ),
        "model_aliases": lambda: pd.DataFrame(
            {
                "alias": ["sim-model-v1"],
                "model": ["sim-model"],
                "valid_from": [pd.NaT],
                "valid_to": [pd.NaT],
            }
        ),
        "model_scores": lambda: pd.DataFrame(
            {
                "model": ["sim-model", "sim-model", "cn1", "m1"],
                "benchmark": ["mmlu", "gpqa", "mmlu", "mmlu"],
                "score_pct": [86.0, 66.0, 72.0, 88.0],
            }
        ),
        "startups": _startups,
        "startup_events": lambda: pd.DataFrame(
            {
                "event_id": ["x"],
                "company_id": ["s000"],
                "date": [pd.Timestamp("2020-01-01")],
                "event_type": ["funding"],
            }
        ),
        "china_chip_share": _share_rows,
        # observed yearly shares in the schema of the derived domestic_share_observed table
        "domestic_share_observed": lambda: pd.DataFrame(
            {
                "year": [2024, 2025],
                "domestic_share_pct": [40.0, 55.0],
                "domestic_share_pct_low": [30.0, 45.0],
                "domestic_share_pct_high": [50.0, 65.0],
                "domestic_h100e": [40_000.0, 55_000.0],
                "total_h100e": [100_000.0, 100_000.0],
                "basis": ["H100e sold into China", "H100e sold into China"],
                "source": ["Sim sales", "Sim sales"],
                "source_url": ["https://example.org/sales", "https://example.org/sales"],
                "published": ["2026-01-15", "2026-01-15"],
                "kind": ["estimate", "estimate"],
                "note": ["", ""],
            }
        ),
    }

    def make(name, fn):
        @dg.asset(name=name, io_manager_key="clean_io")
        def _a() -> pd.DataFrame:
            return fn()

        return _a

    return [make(k, v) for k, v in tables.items()]


RESOURCES = {
    "clean_io": ParquetIOManager(layer="clean"),
    "forecast_io": ParquetIOManager(layer="forecasts"),
}


def _run(vintage: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*_upstream(), *forecast_assets.ASSETS, *forecast_assets.ASSET_CHECKS],
        partition_key=vintage,
        resources=RESOURCES,
        instance=instance,
        selection=forecast_jobs.FORECASTS,
    )


def _digests(root) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Upstream tables, then two vintages, then the first vintage again (for determinism)."""
    mp = pytest.MonkeyPatch()
    warehouse = tmp_path_factory.mktemp("warehouse")
    mp.setenv(settings.WAREHOUSE_ENV, str(warehouse))
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(_upstream(), resources=RESOURCES, instance=instance).success
    first = _run(V1, instance)
    second = _run(V2, instance)
    root = warehouse / "forecasts"
    before = _digests(root)
    again = _run(V1, instance)
    after = _digests(root)
    yield {
        "root": root,
        "first": first,
        "second": second,
        "again": again,
        "before": before,
        "after": after,
    }
    mp.undo()


def test_vintage_keys_are_as_of_dates():
    keys = VINTAGES.get_partition_keys()
    assert keys[0] == "2026-01-05"
    assert all(pd.Timestamp(k).day_of_week == 0 for k in keys)
    assert as_of_date("2026-01-12") == pd.Timestamp("2026-01-12")
    with pytest.raises(ValueError, match="'2026/01/12' is not a YYYY-MM-DD date"):
        as_of_date("2026/01/12")


def test_forecast_job_and_schedule_cover_every_forecast_asset():
    defs = dg.Definitions(
        assets=[*_upstream(), *forecast_assets.ASSETS],
        asset_checks=forecast_assets.ASSET_CHECKS,
        jobs=[forecast_jobs.forecast_job],
        schedules=[forecast_jobs.forecast_schedule],
        resources=RESOURCES,
    )
    job = defs.resolve_job_def("forecast_job")
    assert job.partitions_def == VINTAGES
    assert defs.resolve_schedule_def("weekly_forecast_schedule").cron_schedule == "0 6 * * 1"
    graph = defs.resolve_asset_graph()
    for a in forecast_assets.ASSETS:
        for key in a.keys:
            node = graph.get(key)
            assert node.group_name == "forecasts"
            assert node.owners and node.description
            assert set(node.kinds) >= {"statsmodels", "pandas"}
            schema = node.metadata["dagster/column_schema"]
            assert "as_of_date" in {c.name for c in schema.columns}


@pytest.mark.slow
def test_runs_succeed_with_charts_and_coverage_checks(runs):
    for name in ("first", "second", "again"):
        assert runs[name].success
    mats = {
        m.asset_key.to_user_string(): m for m in runs["first"].get_asset_materialization_events()
    }
    fan = mats["api_price_forecast"].materialization.metadata["fan_chart"].value
    assert fan.startswith("![API price fan chart](data:image/png;base64,iVBOR")
    assert "curves" in mats["startup_survival"].materialization.metadata
    checks = runs["first"].get_asset_check_evaluations()
    assert {c.check_name for c in checks} == {
        "api_price_interval_coverage",
        "startup_survival_interval_coverage",
        "china_share_interval_coverage",
        "capability_price_interval_coverage",
    }
    assert all(c.severity == dg.AssetCheckSeverity.WARN for c in checks)
    # the verdict is the coverage rule applied to the stored scores
    scores = pd.read_parquet(
        runs["root"] / "api_price_backtest" / f"vintage={V1}" / "part-0.parquet"
    )
    verdict = {c.check_name: c.passed for c in checks}
    assert verdict["api_price_interval_coverage"] == backtest.coverage_shortfalls(scores).empty
    capability = pd.read_parquet(
        runs["root"] / "capability_price_backtest" / f"vintage={V1}" / "part-0.parquet"
    )
    assert (
        verdict["capability_price_interval_coverage"]
        == backtest.coverage_shortfalls(capability).empty
    )


@pytest.mark.slow
def test_vintages_written_hive_style_and_read_by_duckdb(runs):
    root = runs["root"]
    glob = vintage_glob(str(root), "api_price_forecast")
    con = duckdb.connect()
    per_vintage = con.execute(
        f"select vintage, count(*), min(as_of_date), max(as_of_date) "
        f"from read_parquet('{glob}', hive_partitioning=true) group by vintage order by vintage"
    ).fetchall()
    assert [str(r[0]) for r in per_vintage] == [V1, V2]
    for v, n, lo, hi in per_vintage:
        assert n > 0 and lo == hi and str(lo.date()) == str(v)
    latest = con.execute(
        f"select distinct vintage from read_parquet('{glob}', hive_partitioning=true) "
        f"where vintage = (select max(vintage) from read_parquet('{glob}', hive_partitioning=true))"
    ).fetchall()
    assert [str(r[0]) for r in latest] == [V2]
    for asset in (
        "api_price_backtest",
        "startup_survival",
        "china_share_forecast",
        "api_price_decline",
    ):
        assert (root / asset / f"vintage={V1}" / "part-0.parquet").exists()
    both = read_vintages(str(root), "startup_survival")
    assert sorted(both["vintage"].dt.strftime("%Y-%m-%d").unique()) == [V1, V2]
    only = read_vintages(str(root), "startup_survival", latest_only=True)
    assert set(only["vintage"].dt.strftime("%Y-%m-%d")) == {V2}
    direct = pd.read_parquet(root / "startup_survival" / f"vintage={V2}" / "part-0.parquet")
    assert len(direct) == len(only)


@pytest.mark.slow
def test_vintage_uses_only_rows_known_on_its_date(runs):
    grid = read_vintages(str(runs["root"]), "api_price_grid")
    last_month = grid.groupby("vintage")["month"].max()
    # the grid ends at the last observation (2025-12), not at the vintage date
    assert last_month[pd.Timestamp(V1)] == pd.Timestamp("2025-12-01")
    assert grid["month"].max() <= pd.Timestamp("2025-12-01")
    fc = read_vintages(str(runs["root"]), "api_price_forecast", latest_only=True)
    ok = fc[fc["status"] == "ok"]
    assert (ok["origin_month"] == pd.Timestamp("2025-12-01")).all()
    # the last simulated price is dated 2025-12-10; the vintage is 2026-01-12
    assert set(ok["data_age_days"]) == {33}
    assert fc.loc[fc["published"], "model"].nunique() == 1
    assert fc.loc[fc["published"], "backtest_verdict"].str.len().min() > 0
    share = read_vintages(str(runs["root"]), "china_share_forecast")
    figures = share[share["model"] == "source_figure"]
    # the 2025 figure is published 2026-01-10: in the second vintage only
    assert set(figures.loc[figures["year"] == 2025, "vintage"].dt.strftime("%Y-%m-%d")) == {V2}


@pytest.mark.slow
def test_rerun_of_a_vintage_is_byte_identical(runs):
    assert runs["before"] == runs["after"]
    assert len(runs["after"]) >= 2 * len(forecast_assets.ASSETS)


@pytest.mark.slow
def test_history_asset_reads_every_vintage(runs):
    hist = read_vintages(str(runs["root"]), "forecast_vintage_history", latest_only=True)
    assert sorted(hist["vintage"].dt.strftime("%Y-%m-%d").unique()) == [
        V2
    ]  # the partition it sits in
    # ...and its rows speak of both vintages' headline figures
    history_vintage = pd.read_parquet(
        runs["root"] / "forecast_vintage_history" / f"vintage={V2}" / "part-0.parquet"
    )
    assert sorted(
        pd.to_datetime(history_vintage["forecast_vintage"]).dt.strftime("%Y-%m-%d").unique()
    ) == [V1, V2]
    assert (
        history_vintage["metric"].str.startswith("expected_independent_of_active@2027-03-31").any()
    )
    assert history_vintage["metric"].str.startswith("domestic_prob_30_40_2028").any()


@pytest.mark.slow
def test_summary_prints_headline_tables_of_latest_vintage(runs, tmp_path, capsys):
    from forecasts import summary

    tables = summary.headline_tables(str(runs["root"]))
    assert "startup survival and exits at 2027-03-31" in tables
    share = tables["domestic share of China's AI-accelerator market in 2028"]
    assert set(share["model"]) >= {"logit_ols_actuals_only", "glm_fractional_logit"}
    assert summary.main(["summary", str(runs["root"])]) == 0
    assert "## api_price_backtest (pooled)" in capsys.readouterr().out
    assert summary.main(["summary", str(tmp_path)]) == 1
