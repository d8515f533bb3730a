"""Domestic chip share models on simulated logistic trends with a known slope."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import expit, logit

from forecasts import share as SH


def _shares(
    n: int, slope: float, noise: float, seed: int, kinds=("actual",), bases=("units",)
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = np.arange(2015, 2015 + n)
    eta = -1.0 + slope * (years + 0.5 - 2025) + noise * rng.standard_normal(n)
    return pd.DataFrame(
        {
            "share_id": [f"r{i}" for i in range(n)],
            "period": years.astype(str),
            "kind_of_figure": [kinds[i % len(kinds)] for i in range(n)],
            "basis": [bases[i % len(bases)] for i in range(n)],
            "domestic_share_pct": 100 * expit(eta),
            "domestic_share_pct_high": np.nan,
            "source_org": "sim",
        }
    )


def test_period_mid_year():
    assert SH.period_mid_year("2025") == 2025.5
    assert SH.period_mid_year("2023H1") == 2023.25
    assert SH.period_mid_year("2023H2") == 2023.75
    assert SH.period_mid_year("2024Q3") == 2024.625
    with pytest.raises(ValueError, match="'2022 vs 2024'"):
        SH.period_mid_year("2022 vs 2024")


def test_range_midpoint_and_bad_share_named():
    df = _shares(3, 0.3, 0.0, 0)
    df.loc[0, "domestic_share_pct_high"] = df.loc[0, "domestic_share_pct"] + 10
    pts = SH.share_points(df)
    assert pts.loc[0, "share_used_pct"] == pytest.approx(df.loc[0, "domestic_share_pct"] + 5)
    assert bool(pts.loc[0, "range_midpoint"])
    df.loc[1, "domestic_share_pct"] = 140
    with pytest.raises(ValueError, match=r"outside 0-100 in rows \['r1'\]"):
        SH.share_points(df)


def test_logit_trend_recovers_slope_and_matches_numpy():
    df = _shares(12, 0.4, 0.05, seed=1)
    t = SH.share_table(df)
    pooled = t[t["model"] == SH.MODEL_LOGIT_POOLED]
    slope_ref = np.polyfit(np.arange(2015, 2027) + 0.5, logit(df["domestic_share_pct"] / 100), 1)[0]
    assert pooled["slope_logit_per_year"].iloc[0] == pytest.approx(slope_ref, rel=1e-9)
    assert slope_ref == pytest.approx(0.4, abs=0.05)
    true_2028 = 100 * expit(-1.0 + 0.4 * 3.5)
    row = pooled[pooled["year"] == 2028].iloc[0]
    assert row["lower_95_share_pct"] < true_2028 < row["upper_95_share_pct"]
    assert row["lower_95_share_pct"] <= row["lower_80_share_pct"] <= row["median_share_pct"]
    assert row["median_share_pct"] <= row["upper_80_share_pct"] <= row["upper_95_share_pct"]


def test_probability_in_band_matches_t_distribution_by_hand():
    df = _shares(10, 0.2, 0.2, seed=4)
    t = SH.share_table(df)
    row = t[(t["model"] == SH.MODEL_LOGIT_POOLED) & (t["year"] == 2028)].iloc[0]
    # reconstruct the t predictive from the printed bounds: median and 97.5 % point on logit scale
    dist = stats.t(len(df) - 2)
    eta = logit(row["median_share_pct"] / 100)
    sd = (logit(row["upper_95_share_pct"] / 100) - eta) / dist.ppf(0.975)
    expected = dist.cdf((logit(0.4) - eta) / sd) - dist.cdf((logit(0.3) - eta) / sd)
    assert row["prob_share_in_30_40_pct"] == pytest.approx(expected, rel=1e-6)


def test_glm_challenger_recovers_slope():
    df = _shares(12, 0.35, 0.05, seed=9)
    t = SH.share_table(df)
    glm = t[t["model"] == SH.MODEL_GLM]
    assert (glm["status"] == "ok").all()
    assert glm["slope_logit_per_year"].iloc[0] == pytest.approx(0.35, abs=0.06)


def test_models_refuse_when_figures_too_few_and_sources_stay_apart():
    df = _shares(
        7, 0.3, 0.1, seed=2, kinds=("actual", "forecast", "forecast"), bases=("units", "revenue")
    )
    t = SH.share_table(df)
    status = t.groupby("model")["status"].first()
    assert status[SH.MODEL_LOGIT_POOLED] == "ok"
    assert status[SH.MODEL_LOGIT_SOURCE_TYPE] == "refused"
    assert status[SH.MODEL_LOGIT_ACTUALS] == "refused"
    refused = t[t["model"] == SH.MODEL_LOGIT_ACTUALS].iloc[0]
    assert refused["reason"] == "3 share figures < 3 parameters + 4 = 7"
    assert np.isnan(refused["median_share_pct"])
    figures = t[t["model"] == "source_figure"]
    assert sorted(figures["kind_of_figure"].unique()) == ["actual", "forecast"]
    assert sorted(figures["basis"].unique()) == ["revenue", "units"]


def test_source_type_model_fits_with_enough_figures():
    df = _shares(
        14, 0.3, 0.05, seed=3, kinds=("actual", "forecast"), bases=("units", "units", "revenue")
    )
    t = SH.share_table(df)
    row = t[t["model"] == SH.MODEL_LOGIT_SOURCE_TYPE]
    assert (row["status"] == "ok").all()
    assert row["slope_logit_per_year"].iloc[0] == pytest.approx(0.3, abs=0.05)


@settings(max_examples=25, deadline=None)
@given(st.floats(-1.0, 1.0), st.integers(0, 10_000))
def test_share_bounds_stay_in_0_100(slope, seed):
    t = SH.share_table(_shares(9, slope, 0.3, seed))
    ok = t[(t["status"] == "ok") & (t["model"] != "source_figure")]
    for col in ("lower_95_share_pct", "median_share_pct", "upper_95_share_pct"):
        assert ((ok[col] >= 0) & (ok[col] <= 100)).all()
    assert (
        (ok["prob_share_in_30_40_pct"] >= 0) & (ok["prob_share_in_30_40_pct"] <= 1 + 1e-12)
    ).all()
