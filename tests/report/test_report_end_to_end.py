"""From the shipped sources to the ledger and the outlook page in a temporary warehouse."""

from __future__ import annotations

import functools

import dagster as dg
import pandas as pd
import pytest

import assets.china.assets
import assets.derived
import assets.ingest
import assets.report
from assets.report.outlook import ours, short_evidence
from assets.report.wording import wording_problems
from forecasts.assets import ASSETS as FORECAST_ASSETS
from pipelines.definitions import defs as pipeline_defs
from tests.report.report_links import assert_links_resolve


def _job():
    definitions = dg.Definitions(
        assets=[
            *assets.ingest.ASSETS,
            *assets.staging.assets.ASSETS,
            *assets.derived.ASSETS,
            *assets.china.assets.ASSETS,
            *FORECAST_ASSETS,
            *assets.report.ASSETS,
        ],
        resources=pipeline_defs.resources,
    )
    return definitions.resolve_implicit_global_asset_job_def()


def _run(job, instance, asset_defs, partition_key=None):
    keys = [k for a in asset_defs for k in a.keys]
    result = job.execute_in_process(
        instance=instance, asset_selection=keys, partition_key=partition_key, raise_on_error=False
    )
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    return result


def _row(ledger: pd.DataFrame, subject: str, metric: str) -> pd.Series:
    rows = ledger[(ledger["subject"] == subject) & (ledger["metric"] == metric)]
    assert len(rows) == 1, (subject, metric)
    return rows.iloc[0]


@pytest.mark.slow
def test_shipped_data_gives_a_ledger_row_per_claim_and_a_page_naming_each_contradiction(
    pipeline_run,
):
    report = pipeline_run.results["report_job"]
    assert report.success, [e.message for e in report.all_events if e.is_step_failure]
    checks = report.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("every_claim_has_a_verdict", True)]
    warehouse = pipeline_run.warehouse

    claims = pd.read_parquet(warehouse / "clean" / "claims.parquet")
    ledger = pd.read_parquet(warehouse / "report" / "claims_ledger.parquet")
    assert sorted(ledger["claim_id"]) == sorted(claims["claim_id"])
    assert ledger["verdict"].isin(["consistent", "contradicted", "open"]).all()
    assert ledger["reason"].str.len().gt(0).all()

    h100_fp8 = _row(ledger, "nvidia-h100-sxm", "fp8_sparse_tflops")
    assert h100_fp8["verdict"] == "contradicted"
    assert h100_fp8["pipeline_value"] == 3958
    assert "nvidia-h100-sxm-01 <http" in h100_fp8["evidence"]
    assert _row(ledger, "huawei-ascend-910b", "fp8_sparse_tflops")["verdict"] == "contradicted"
    power = _row(ledger, "nvidia-h100-sxm", "cluster_mw")
    assert power["verdict"] == "contradicted"
    assert power["pipeline_value_high"] < 175
    assert "datacenter_power: power-nvidia-h100-sxm-n50000" in power["evidence"]
    assert "cluster_power_intensity: " in power["evidence"]
    equivalence = _row(ledger, "huawei-ascend-910b", "chips_per_h100_equivalent")
    # the calibrated model's solve, its batch bases and what the 910B figure rests on
    assert equivalence["pipeline_value_low"] <= equivalence["pipeline_value"]
    assert equivalence["pipeline_value"] <= equivalence["pipeline_value_high"]
    assert "at an equal global batch" in equivalence["reason"]
    assert "at equal chip counts" in equivalence["reason"]
    assert "own grown batch" in equivalence["reason"]
    assert "rests on one published run (PANGU-ULTRA-135B)" in equivalence["reason"]
    assert not ledger["reason"].str.startswith("needs ").any()
    share = ledger[ledger["metric"] == "domestic_share_pct"].iloc[0]
    assert share["verdict"] == "open" and 0 <= share["probability"] <= 1
    assert "domestic_share_observed: years 2024, 2025" in share["evidence"]

    report = warehouse / "report"
    page = (report / "outlook.md").read_text(encoding="utf-8")
    assert len(page.encode("utf-8")) <= 15 * 1024
    assert_links_resolve(report)
    for r in ledger.itertuples():
        for text in (ours(r), r.reason, short_evidence(r.evidence)):
            assert not wording_problems(str(text)), (r.claim_id, text)
    for name in ("ledger.md", "chips.md", "forecasts.md", "backtests.md", "outlook.md"):
        assert not wording_problems((report / name).read_text(encoding="utf-8")), name
    ledger_page = (report / "ledger.md").read_text(encoding="utf-8")
    wrong = ledger_page.split("## What the article gets wrong")[1].split(
        "## What the article gets right"
    )[0]
    for claim_id in ledger.loc[ledger["verdict"] == "contradicted", "claim_id"]:
        assert f"| {claim_id} |" in wrong
    index = pd.read_parquet(warehouse / "report" / "outlook_report.parquet")
    for name in index["file"]:
        assert (warehouse / "report" / name).exists()
        if name.endswith(".png"):
            assert any(
                f"]({name})" in (report / md).read_text(encoding="utf-8")
                for md in index["file"]
                if md.endswith(".md")
            ), name
    assert {"outlook_price_fan_input.png", "outlook_survival_all.png", "outlook_share.png"} <= set(
        index["file"]
    )
    china = page.split("## China's AI compute")[1].split("## What the article gets wrong")[0]
    assert "CC BY 4.0" in china and "Not materialized" not in china
    for chart in ("china_stock", "china_share", "power_intensity", "chip_comparison"):
        assert f"outlook_{chart}.png" in set(index["file"])


@pytest.mark.slow
def test_report_gives_the_same_bytes_from_the_same_inputs(pipeline_run, warehouse_copy):
    index = pd.read_parquet(warehouse_copy / "report" / "outlook_report.parquet")
    ledger_bytes = (warehouse_copy / "report" / "claims_ledger.parquet").read_bytes()
    for name in [*index["file"], "claims_ledger.parquet", "outlook_report.parquet"]:
        (warehouse_copy / "report" / name).unlink()
    _run(_job(), pipeline_run.instance, assets.report.ASSETS)
    again = pd.read_parquet(warehouse_copy / "report" / "outlook_report.parquet")
    assert again["file"].tolist() == index["file"].tolist()
    assert again["sha256"].tolist() == index["sha256"].tolist()
    assert (warehouse_copy / "report" / "claims_ledger.parquet").read_bytes() == ledger_bytes


@pytest.mark.slow
def test_within_a_run_the_report_takes_the_forecasts_charts_with_the_same_bytes(
    pipeline_run, warehouse_copy, tmp_path, monkeypatch
):
    """In a command-line run the forecast assets' UI charts are stored and the report takes them
    instead of drawing them again; the pages get the same PNG bytes as drawn afresh."""
    from forecasts import charts as forecast_charts
    from forecasts.vintage import VINTAGES
    from pipelines import chart_memo

    monkeypatch.setenv(chart_memo.MEMO_ENV, str(tmp_path / "memo"))
    (tmp_path / "memo").mkdir()
    log = tmp_path / "drawn.log"
    shared = ("price_fan_chart", "backtest_chart", "survival_chart", "share_chart")
    for name in shared:
        make = getattr(forecast_charts, name)

        @functools.wraps(make)
        def noted(*args, _make=make, _name=name, **kwargs):
            with open(log, "a") as handle:  # a file: the report's workers are forked processes
                handle.write(f"{_name}\n")
            return _make(*args, **kwargs)

        monkeypatch.setattr(forecast_charts, name, noted)
    drawing = [
        a
        for a in FORECAST_ASSETS
        if a.key.to_user_string()
        in ("api_price_forecast", "api_price_backtest", "startup_survival", "china_share_forecast")
    ]
    _run(_job(), pipeline_run.instance, drawing, VINTAGES.get_partition_keys()[-1])
    assert sorted(log.read_text().split()) == sorted(shared)
    assert len(list((tmp_path / "memo").iterdir())) == 4
    log.unlink()
    index = pd.read_parquet(warehouse_copy / "report" / "outlook_report.parquet")
    for name in index["file"]:
        (warehouse_copy / "report" / name).unlink()
    _run(_job(), pipeline_run.instance, assets.report.ASSETS)
    # Drawn by the report: the output-price fan and the CN cohort's curves (the forecasts draw the
    # input side and the pooled cohort); the four the forecasts drew are taken from the store.
    assert sorted(log.read_text().split()) == ["price_fan_chart", "survival_chart"]
    for chart in ("price_fan_input", "backtest_prices", "survival_all", "share"):
        name = f"outlook_{chart}.png"
        fresh = (pipeline_run.warehouse / "report" / name).read_bytes()
        assert (warehouse_copy / "report" / name).read_bytes() == fresh, name
