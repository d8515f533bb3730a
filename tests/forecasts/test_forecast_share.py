"""Domestic chip share models on simulated logistic trends with a known slope."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import expit, logit

from forecasts import share as share_models


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
    assert share_models.period_mid_year("2025") == 2025.5
    assert share_models.period_mid_year("2023H1") == 2023.25
    assert share_models.period_mid_year("2023H2") == 2023.75
    assert share_models.period_mid_year("2024Q3") == 2024.625
    with pytest.raises(ValueError, match="'2022 vs 2024'"):
        share_models.period_mid_year("2022 vs 2024")


def test_range_midpoint_and_bad_share_named():
    df = _shares(3, 0.3, 0.0, 0)
    df.loc[0, "domestic_share_pct_high"] = df.loc[0, "domestic_share_pct"] + 10
    pts = share_models.share_points(df)
    assert pts.loc[0, "share_used_pct"] == pytest.approx(df.loc[0, "domestic_share_pct"] + 5)
    assert bool(pts.loc[0, "range_midpoint"])
    df.loc[1, "domestic_share_pct"] = 140
    with pytest.raises(ValueError, match=r"outside 0-100 in rows \['r1'\]"):
        share_models.share_points(df)


def test_logit_trend_recovers_slope_and_matches_numpy():
    df = _shares(12, 0.4, 0.05, seed=1)
    t = share_models.share_table(df)
    pooled = t[t["model"] == share_models.MODEL_LOGIT_ACTUALS]
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
    t = share_models.share_table(df)
    row = t[(t["model"] == share_models.MODEL_LOGIT_ACTUALS) & (t["year"] == 2028)].iloc[0]
    # reconstruct the t predictive from the printed bounds: median and 97.5 % point on logit scale
    dist = stats.t(len(df) - 2)
    eta = logit(row["median_share_pct"] / 100)
    sd = (logit(row["upper_95_share_pct"] / 100) - eta) / dist.ppf(0.975)
    expected = dist.cdf((logit(0.4) - eta) / sd) - dist.cdf((logit(0.3) - eta) / sd)
    assert row["prob_share_in_30_40_pct"] == pytest.approx(expected, rel=1e-6)


def test_glm_challenger_recovers_slope():
    df = _shares(12, 0.35, 0.05, seed=9)
    t = share_models.share_table(df)
    glm = t[t["model"] == share_models.MODEL_GLM]
    assert (glm["status"] == "ok").all()
    assert glm["slope_logit_per_year"].iloc[0] == pytest.approx(0.35, abs=0.06)


def test_forecasts_are_scenarios_never_data():
    """Analyst forecasts (here absurd 99 %) change no model: they appear only as scenario rows."""
    df = _shares(6, 0.3, 0.1, seed=2, bases=("units", "revenue"))
    t = share_models.share_table(df)
    extra = pd.DataFrame(
        {
            "share_id": ["f1", "f2"],
            "period": ["2028", "2029"],
            "kind_of_figure": "forecast",
            "basis": "revenue",
            "domestic_share_pct": 99.0,
            "domestic_share_pct_high": np.nan,
            "source_org": "analyst",
        }
    )
    t2 = share_models.share_table(pd.concat([df, extra], ignore_index=True))
    for model in share_models.SHARE_MODELS:
        a, b = t[t["model"] == model], t2[t2["model"] == model]
        np.testing.assert_array_equal(a["median_share_pct"], b["median_share_pct"])
    scen = t2[t2["model"] == share_models.SCENARIO]
    assert scen["share_id"].tolist() == ["f1", "f2"]
    assert scen["reason"].str.contains("never fitted").all()


def test_relaxed_guard_fits_three_actual_figures_with_one_degree_of_freedom():
    df = pd.DataFrame(
        {
            "share_id": ["a", "b", "c"],
            "period": ["2023H1", "2023", "2025"],
            "kind_of_figure": "actual",
            "basis": ["units", "revenue", "units"],
            "domestic_share_pct": [10.0, 19.0, 41.0],
            "domestic_share_pct_high": np.nan,
            "source_org": "s",
        }
    )
    t = share_models.share_table(df)
    row = t[(t["model"] == share_models.MODEL_LOGIT_ACTUALS) & (t["year"] == 2028)].iloc[0]
    assert row["status"] == "ok" and row["n_points"] == 3
    # independent reference: OLS on the logit scale by hand, t predictive with 1 df
    x = np.array([2023.25, 2023.5, 2025.5]) - 2025.0
    y = logit(np.array([0.10, 0.19, 0.41]))
    X = np.column_stack([np.ones(3), x])
    beta, rss = np.linalg.lstsq(X, y, rcond=None)[:2]
    s2 = float(rss[0]) / 1
    xf = np.array([1.0, 3.5])
    se = np.sqrt(s2 * (1 + xf @ np.linalg.inv(X.T @ X) @ xf))
    eta = xf @ beta
    assert row["median_share_pct"] == pytest.approx(100 * expit(eta), rel=1e-9)
    assert row["upper_95_share_pct"] == pytest.approx(
        100 * expit(eta + stats.t(1).ppf(0.975) * se), rel=1e-9
    )
    two = share_models.share_table(df.iloc[:2])
    refused = two[two["model"] == share_models.MODEL_LOGIT_ACTUALS].iloc[0]
    assert refused["reason"] == "2 actual share figures < 3 parameters + 0 = 3"


def test_observed_years_join_the_actual_figures():
    df = _shares(3, 0.3, 0.1, seed=5)
    observed = pd.DataFrame(
        {
            "year": [2019, 2020],
            "domestic_share_pct": [12.0, 15.0],
            "domestic_share_pct_low": [10.0, 13.0],
            "domestic_share_pct_high": [14.0, 17.0],
            "domestic_h100e": [1.0, 2.0],
            "total_h100e": [8.0, 13.0],
            "basis": "h100e",
            "source": "Epoch AI",
            "source_url": "https://epoch.ai",
            "published": "2025-01-01",
            "kind": "estimate",
            "note": "",
        }
    )
    alone = share_models.share_table(df)
    both = share_models.share_table(df, observed)
    fitted = both[both["model"] == share_models.MODEL_LOGIT_ACTUALS]
    assert (fitted["n_points"] == 5).all()
    assert (alone.loc[alone["model"] == share_models.MODEL_LOGIT_ACTUALS, "n_points"] == 3).all()
    figures = both[both["model"] == "source_figure"]
    assert set(figures["share_id"]) >= {"observed:2019", "observed:2020"}
    bad = observed.assign(domestic_share_pct=[12.0, 140.0])
    with pytest.raises(ValueError, match=r"outside 0-100 in years \[2020\]"):
        share_models.share_table(df, bad)


@settings(max_examples=25, deadline=None)
@given(st.floats(-1.0, 1.0), st.integers(0, 10_000))
def test_share_bounds_stay_in_0_100(slope, seed):
    t = share_models.share_table(_shares(9, slope, 0.3, seed))
    ok = t[(t["status"] == "ok") & (t["model"] != "source_figure")]
    for col in ("lower_95_share_pct", "median_share_pct", "upper_95_share_pct"):
        assert ((ok[col] >= 0) & (ok[col] <= 100)).all()
    assert (
        (ok["prob_share_in_30_40_pct"] >= 0) & (ok["prob_share_in_30_40_pct"] <= 1 + 1e-12)
    ).all()
