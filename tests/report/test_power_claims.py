"""Cluster power verdicts: the 175 MW for 50,000 H100s arithmetic, checked by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets.report.power_claims import check_cluster_power


def obs(obs_id, metric, value, chip_id="h100", value_high=None):
    return {
        "obs_id": obs_id,
        "metric": metric,
        "chip_id": chip_id,
        "value": value,
        "value_high": value_high,
        "source_url": f"https://example.org/{obs_id}",
    }


def table(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).astype({"value_high": "float64"})


def test_175_mw_for_50000_gpus_is_contradicted_by_sourced_all_in_watts():
    power = table(obs("P1", "all_in_w_per_gpu", 1200), obs("P2", "all_in_w_per_gpu", 2000))
    f = check_cluster_power(50_000, 175, "h100", power)
    # by hand: 50,000 x 1,200 W = 60 MW; 50,000 x 2,000 W = 100 MW; 175 MW / 50,000 = 3,500 W
    assert f.pipeline_value_low == pytest.approx(60.0)
    assert f.pipeline_value_high == pytest.approx(100.0)
    assert f.pipeline_value == pytest.approx(80.0)  # median of 1,200 and 2,000 W
    assert "3,500 W per GPU" in f.reason
    assert f.verdict == "contradicted"
    assert "P1 <https://example.org/P1>" in f.evidence
    assert f.pipeline_unit == "MW"


def test_server_watts_times_pue_gives_the_range_when_no_all_in_figure_exists():
    power = table(
        obs("S1", "server_w_per_gpu", 1000, value_high=1300),
        obs("U1", "pue", 1.2, chip_id=None),
        obs("U2", "pue", 1.5, chip_id=None),
    )
    f = check_cluster_power(50_000, 70, "h100", power)
    # by hand: 1,000 W x 1.2 = 1,200 W -> 60 MW; 1,300 W x 1.5 = 1,950 W -> 97.5 MW
    assert f.pipeline_value_low == pytest.approx(60.0)
    assert f.pipeline_value_high == pytest.approx(97.5)
    assert f.verdict == "consistent"


def test_tolerance_is_ten_percent_beyond_the_sourced_range():
    power = table(obs("P1", "all_in_w_per_gpu", 1200), obs("P2", "all_in_w_per_gpu", 2000))
    assert check_cluster_power(50_000, 109.9, "h100", power).verdict == "consistent"
    assert check_cluster_power(50_000, 110.1, "h100", power).verdict == "contradicted"
    assert check_cluster_power(50_000, 54.1, "h100", power).verdict == "consistent"
    assert check_cluster_power(50_000, 53.9, "h100", power).verdict == "contradicted"


def test_other_chips_figures_are_not_used():
    power = table(obs("B1", "all_in_w_per_gpu", 3500, chip_id="b200"))
    f = check_cluster_power(50_000, 175, "h100", power)
    assert f.verdict == "open"
    assert "no all_in_w_per_gpu" in f.reason


@given(
    n_gpus=st.integers(min_value=1, max_value=200_000),
    low_w=st.floats(min_value=100, max_value=5_000),
    spread=st.floats(min_value=1.0, max_value=3.0),
    claimed_mw=st.floats(min_value=0.001, max_value=2_000),
)
def test_verdict_is_the_sourced_range_widened_by_ten_percent(n_gpus, low_w, spread, claimed_mw):
    high_w = low_w * spread
    power = table(obs("P1", "all_in_w_per_gpu", low_w), obs("P2", "all_in_w_per_gpu", high_w))
    f = check_cluster_power(n_gpus, claimed_mw, "h100", power)
    lo_mw, hi_mw = n_gpus * low_w / 1e6, n_gpus * high_w / 1e6
    assert f.pipeline_value_low == pytest.approx(lo_mw)
    assert f.pipeline_value_high == pytest.approx(hi_mw)
    inside = 0.9 * lo_mw <= claimed_mw <= 1.1 * hi_mw
    assert f.verdict == ("consistent" if inside else "contradicted")
