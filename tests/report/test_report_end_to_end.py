"""From the shipped sources to the ledger and the outlook page in a temporary warehouse."""

from __future__ import annotations

import dagster as dg
import pandas as pd

import assets.derived
import assets.ingest
import assets.report
from assets.report.outlook import ours, short_evidence
from assets.report.wording import wording_problems
from forecasts.assets import ASSETS as FORECAST_ASSETS
from forecasts.vintage import VINTAGES
from pipelines.definitions import defs as pipeline_defs
from tests.report.report_links import assert_links_resolve


def _job():
    definitions = dg.Definitions(
        assets=[
            *assets.ingest.ASSETS,
            *assets.derived.ASSETS,
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


def test_shipped_data_gives_a_ledger_row_per_claim_and_a_page_naming_each_contradiction(
    sources, warehouse, instance
):
    job = _job()
    _run(job, instance, [*assets.ingest.ASSETS, *assets.derived.ASSETS])
    vintaged = [a for a in FORECAST_ASSETS if a.partitions_def == VINTAGES]
    vintaged = [a for a in vintaged if a.key.to_user_string() != "forecast_vintage_history"]
    _run(job, instance, vintaged, partition_key=VINTAGES.get_last_partition_key())
    report = _run(job, instance, assets.report.ASSETS)
    checks = report.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("every_claim_has_a_verdict", True)]

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
    equivalence = _row(ledger, "huawei-ascend-910b", "chips_per_h100_equivalent")
    assert equivalence["verdict"] == "consistent"
    assert equivalence["pipeline_value_low"] > 2.5
    assert not ledger["reason"].str.startswith("needs ").any()
    share = ledger[ledger["metric"] == "domestic_share_pct"].iloc[0]
    assert share["verdict"] == "open" and 0 <= share["probability"] <= 1

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

    # same inputs, same bytes: the page, its charts and the ledger
    ledger_bytes = (warehouse / "report" / "claims_ledger.parquet").read_bytes()
    _run(job, instance, assets.report.ASSETS)
    again = pd.read_parquet(warehouse / "report" / "outlook_report.parquet")
    assert again["sha256"].tolist() == index["sha256"].tolist()
    assert (warehouse / "report" / "claims_ledger.parquet").read_bytes() == ledger_bytes
