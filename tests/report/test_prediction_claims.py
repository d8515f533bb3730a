"""Predictions get the forecasts' numbers and probability, and stay open until their date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from assets.report.prediction_claims import check_share_prediction, check_survival_prediction
from forecasts.share import typed_share
from forecasts.survival import typed_survival


def share_table(prob=0.25) -> pd.DataFrame:
    return typed_share(
        pd.DataFrame(
            [
                {
                    "model": "logit_ols_actuals_only",
                    "year": 2028,
                    "median_share_pct": 50.0,
                    "lower_80_share_pct": 40.0,
                    "upper_80_share_pct": 60.0,
                    "lower_95_share_pct": 35.0,
                    "upper_95_share_pct": 65.0,
                    "prob_share_in_30_40_pct": prob,
                    "n_points": 7,
                    "status": "ok",
                },
                {
                    "model": "glm_fractional_logit",
                    "n_points": 3,
                    "status": "refused",
                    "reason": "too few",
                },
            ]
        )
    )


def test_share_prediction_is_open_with_the_forecast_probability():
    f = check_share_prediction(30, 40, 2028, share_table(prob=0.25))
    assert f.verdict == "open"
    assert f.probability == 0.25
    assert (f.pipeline_value, f.pipeline_value_low, f.pipeline_value_high) == (50, 40, 60)
    assert "overlaps" in f.reason


def test_share_probability_for_another_range_from_the_logit_normal_interval():
    f = check_share_prediction(50, 60, 2028, share_table())
    # logit-normal with median 50 % (mu = 0) and 80 % bounds 40-60 %: sd = logit(0.6) / z(0.9)
    sd = np.log(0.6 / 0.4) / stats.norm.ppf(0.9)
    expected = stats.norm.cdf(np.log(0.6 / 0.4) / sd) - 0.5
    assert f.probability == pytest.approx(expected)
    assert f.probability == pytest.approx(0.4)


def test_share_without_a_forecast_for_the_year_is_open_with_the_reason():
    f = check_share_prediction(30, 40, 2035, share_table())
    assert f.verdict == "open"
    assert "no share forecast for 2035" in f.reason
    assert np.isnan(f.probability)


def survival_table() -> pd.DataFrame:
    base = {
        "n_companies": 20,
        "n_exits": 5,
        "n_active": 15,
        "status": "ok",
        "target_date": "2027-03-31",
    }
    rows = [
        {
            "cohort": "CN",
            "quantity": "share_of_cohort_exited",
            "value": 0.45,
            "lower_95": 0.3,
            "upper_95": 0.6,
        },
        {"cohort": "CN", "quantity": "prob_share_exited_ge_60pct", "value": 0.05},
        {
            "cohort": "CN",
            "quantity": "expected_independent_of_active",
            "value": 11.0,
            "model": "kaplan_meier",
        },
        {
            "cohort": "all",
            "quantity": "share_of_cohort_exited",
            "value": 0.9,
            "lower_95": 0.8,
            "upper_95": 1.0,
        },
    ]
    return typed_survival(pd.DataFrame([base | r for r in rows]))


def test_survival_prediction_uses_the_chinese_cohort_and_its_probability():
    f = check_survival_prediction(0.60, pd.Timestamp("2027-03-31"), survival_table())
    assert f.verdict == "open"
    assert f.probability == 0.05
    assert (f.pipeline_value, f.pipeline_value_low, f.pipeline_value_high) == pytest.approx(
        (45, 30, 60)
    )
    assert "cohort 'CN'" in f.reason and "expected 11 of today's 15" in f.reason


def test_survival_without_the_date_is_open():
    f = check_survival_prediction(0.60, pd.Timestamp("2030-01-01"), survival_table())
    assert f.verdict == "open"
    assert "no survival forecast for 2030-01-01" in f.reason


def test_a_cohort_with_a_zero_width_projection_gives_way_to_the_pooled_cohort():
    table = survival_table()
    cn = (table["cohort"] == "CN") & (table["quantity"] == "share_of_cohort_exited")
    table.loc[cn, ["lower_95", "upper_95"]] = 0.45
    f = check_survival_prediction(0.60, pd.Timestamp("2027-03-31"), table)
    assert f.pipeline_value == pytest.approx(90.0)
    assert "cohort 'all'" in f.reason
    assert "cohort 'CN' gives a zero-width interval" in f.reason
