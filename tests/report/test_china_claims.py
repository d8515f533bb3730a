"""Ledger evidence from Epoch AI's tables: site power for the cluster-power claim, the observed share
beside the share prediction, Epoch's chip spec where the curated sheet has none; and the report
section built from the tables."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.report import china_compute
from assets.report.charts import drawing
from assets.report.china_claims import with_epoch_spec, with_observed_share, with_site_intensity
from assets.report.findings import CONSISTENT, CONTRADICTED, OPEN, Finding


def hopper_sites(kw: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site": [f"s{i}" for i in range(len(kw))],
            "basis": "gpu_clusters",
            "power_kind": "facility (reported)",
            "chip_family": "NVIDIA Hopper",
            "status": "Existing",
            "kw_per_h100e": kw,
            "row_links": "https://example.invalid/x",
        }
    )


def test_power_claim_far_above_every_site_stays_contradicted():
    found = Finding(CONTRADICTED, "per-GPU sources", "cluster_power", evidence="power_observations")
    out = with_site_intensity(found, 50_000, 175, hopper_sites([1.0, 1.2, 1.3, 1.4]))
    assert out.verdict == CONTRADICTED
    assert "cluster_power_intensity: s0" in out.evidence
    # 10th-90th percentile of [1.0, 1.2, 1.3, 1.4] (linear) by hand: 1.06 and 1.37
    assert "1.06-1.37 kW per H100e" in out.reason
    assert "53-68.5 MW" in out.reason


def test_sources_that_disagree_leave_the_claim_open():
    found = Finding(CONSISTENT, "per-GPU sources", "cluster_power")
    out = with_site_intensity(found, 50_000, 175, hopper_sites([3.3, 3.5, 3.6]))
    assert (
        with_site_intensity(
            Finding(CONTRADICTED, "x", "cluster_power"), 50_000, 175, hopper_sites([3.3, 3.5, 3.6])
        ).verdict
        == OPEN
    )
    assert out.verdict == CONSISTENT


def test_observed_share_is_cited_beside_the_forecast():
    observed = pd.DataFrame(
        {
            "year": [2025, 2024],
            "domestic_share_pct": [86.08, 56.55],
            "domestic_share_pct_low": [79.9, 42.0],
            "domestic_share_pct_high": [90.7, 70.8],
            "source_url": "https://epoch.ai/data/ai_chip_sales_timelines_by_chip.csv",
        }
    )
    out = with_observed_share(Finding(OPEN, "forecast", "share_forecast"), observed)
    assert out.verdict == OPEN
    assert "2024 56.55% (42-70.8%), 2025 86.08% (79.9-90.7%)" in out.reason
    assert out.evidence.startswith("domestic_share_observed: years 2024, 2025")


@pytest.mark.parametrize(("claimed", "verdict"), [(320.0, CONSISTENT), (640.0, CONTRADICTED)])
def test_epoch_spec_decides_only_where_the_curated_sheet_has_no_value(claimed, verdict):
    comparison = pd.DataFrame(
        {
            "chip_id": ["huawei-ascend-910"],
            "hardware_name": ["Huawei Ascend 910"],
            "bf16_dense_tflops": [320.0],
            "row_links": ["https://example.invalid/910"],
            "source_url": ["https://epoch.ai/data/ml_hardware.csv"],
        }
    )
    empty = Finding(OPEN, "no source states bf16_dense_tflops", "chip_spec")
    out = with_epoch_spec(empty, "huawei-ascend-910", "bf16_dense_tflops", claimed, comparison)
    assert out.verdict == verdict
    assert out.pipeline_value == 320.0
    assert "chip_comparison: Huawei Ascend 910" in out.evidence
    sourced = Finding(OPEN, "sources disagree", "chip_spec", pipeline_value=300.0)
    assert (
        with_epoch_spec(sourced, "huawei-ascend-910", "bf16_dense_tflops", claimed, comparison)
        == sourced
    )


def test_report_section_credits_epoch_and_names_missing_tables():
    share = pd.DataFrame(
        {
            "year": [2024],
            "domestic_share_pct": [56.55],
            "domestic_share_pct_low": [42.0],
            "domestic_share_pct_high": [70.8],
            "domestic_h100e": [186579.0],
            "total_h100e": [329927.0],
            "basis": ["H100e sold into China"],
            "note": ["complete quarters only"],
        }
    )
    text = china_compute.china_compute_markdown({"domestic_share_observed": share}, {})
    assert "CC BY 4.0" in text and "Epoch AI" in text
    assert "56.55" in text and "42-70.8" in text
    assert "Not materialized: compute_stock" in text
    with drawing(china_compute.chart_jobs({"domestic_share_observed": share})) as drawn:
        charts = drawn()
    assert list(charts) == ["china_share"] and charts["china_share"][:4] == b"\x89PNG"
