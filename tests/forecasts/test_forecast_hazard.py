"""Calendar-time hazard: company-years add up, the GLM recovers a known rate, IPCW weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasts import backtest
from forecasts import hazard as hazard_models


def _lifetimes(n: int, rate: float, seed: int) -> pd.DataFrame:
    gen = np.random.default_rng(seed)
    founded = pd.to_datetime("2016-01-01") + pd.to_timedelta(gen.uniform(0, 2500, n), unit="D")
    life = np.minimum(gen.exponential(1 / rate, n), 40.0)
    end_cap = pd.Timestamp("2026-06-30")
    end = founded + pd.to_timedelta(life * 365.25, unit="D")
    event = (end <= end_cap).astype(int)
    end = end.where(end <= end_cap, end_cap)
    return pd.DataFrame({"founded": founded, "end_date": end, "event": event})


def test_company_years_add_up_to_each_lifetime():
    lt = _lifetimes(30, 0.2, seed=1)
    cy = hazard_models.company_years(lt)
    total = cy.groupby("company")["exposure_years"].sum().to_numpy()
    start = hazard_models._decimal_year(lt["founded"])
    end = hazard_models._decimal_year(lt["end_date"])
    np.testing.assert_allclose(total, end - start, atol=1e-9)
    assert cy["exit"].sum() == lt["event"].sum()


def test_glm_recovers_a_constant_rate():
    lt = _lifetimes(400, 0.15, seed=2)
    fit = hazard_models.fit_calendar_hazard(lt)
    assert fit["status"] == "ok"
    b0, b1, b2 = fit["params"]
    assert abs(b1) < 3 * np.sqrt(fit["cov"][1, 1]) + 0.05
    # the rate at the data's centre matches exits / exposure (the constant-hazard MLE)
    cy = hazard_models.company_years(lt)
    mle = cy["exit"].sum() / cy["exposure_years"].sum()
    centre = np.exp(
        b0
        + b1
        * (
            np.average(cy["calendar_year"], weights=cy["exposure_years"])
            - hazard_models.CALENDAR_CENTRE
        )
        + b2 * np.average(cy["age_years"], weights=cy["exposure_years"])
    )
    assert centre == pytest.approx(mle, rel=0.15)
    assert mle == pytest.approx(0.15, rel=0.25)


def test_survival_between_is_exponential_for_a_constant_rate():
    founded = pd.Series(pd.to_datetime(["2018-03-01", "2020-07-15"]))
    p = hazard_models.survival_between(
        np.array([np.log(0.3), 0.0, 0.0]),
        founded,
        pd.Timestamp("2026-01-01"),
        pd.Timestamp("2027-01-01"),
    )
    np.testing.assert_allclose(p, np.exp(-0.3 * 1.0), rtol=1e-3)


def test_too_few_exits_refuse():
    lt = _lifetimes(10, 0.01, seed=3)
    fit = hazard_models.fit_calendar_hazard(lt)
    assert fit["status"] == "refused"
    assert "exits <" in fit["reason"]


def test_ipcw_weights_by_hand():
    """Three companies at one cutoff: one exits at 0.5 y, one is censored at 0.25 y, one is
    known independent past the 1-year target. Censoring KM: G = 1 before 0.25 y, 2/3 after."""
    cutoff = pd.Timestamp("2024-01-01")
    target = pd.Timestamp("2025-01-01")
    day = pd.Timedelta(days=1)
    outcome = pd.DataFrame(
        {
            "exit_date": [cutoff + 0.5 * 365.25 * day, pd.NaT, pd.NaT],
            "known_independent_until": [pd.NaT, cutoff + 0.25 * 365.25 * day, target + 30 * day],
        },
        index=pd.Index(["a", "b", "c"], name="company_id"),
    )
    df = pd.DataFrame(
        {
            "cutoff": cutoff,
            "target_date": target,
            "company_id": ["a", "b", "c"],
            "p_independent": [0.6, 0.7, 0.8],
            "independent": [0.0, np.nan, 1.0],
        }
    )
    w = backtest._ipcw_weights(df, outcome)
    np.testing.assert_allclose(w, [1.5, 0.0, 1.5])
    df["ipcw"] = w
    expected = (1.5 * 0.6**2 + 1.5 * 0.2**2) / 3
    assert backtest._ipcw_brier(df) == pytest.approx(expected)
