"""Calendar-time exit hazard of startups: a company-year Poisson GLM (exits per company-year of
exposure, log link, offset log exposure) with a linear calendar-year effect and company age, so a
wave of exits in one year is not read as an effect of age alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from forecasts.common import STATUS_OK, STATUS_REFUSED, refusal_reason

#: Centre of the calendar-year covariate (years since).
CALENDAR_CENTRE = 2024.0
#: Parameters: intercept, calendar year, age.
N_PARAMS = 3
DAYS_PER_YEAR = 365.25


def _decimal_year(dates: pd.Series | np.ndarray) -> np.ndarray:
    ts = pd.DatetimeIndex(pd.to_datetime(dates))
    return np.asarray(ts.year + (ts.day_of_year - 1) / DAYS_PER_YEAR, dtype=float)


def company_years(lt: pd.DataFrame) -> pd.DataFrame:
    """Each company's time from founding to its end date split at calendar-year boundaries:
    exposure (years), exit (1 in the segment ending in the exit), mid-segment calendar year and
    age."""
    start = _decimal_year(lt["founded"])
    end = _decimal_year(lt["end_date"])
    end = np.maximum(end, start + 1 / DAYS_PER_YEAR)
    event = lt["event"].to_numpy()
    first, last = np.floor(start).astype(int), np.floor(end).astype(int)
    n_seg = last - first + 1
    comp = np.repeat(np.arange(len(lt)), n_seg)
    year = np.concatenate([np.arange(a, b + 1) for a, b in zip(first, last, strict=True)])
    seg_start = np.maximum(year, start[comp])
    seg_end = np.minimum(year + 1, end[comp])
    is_last = year == last[comp]
    exposure = np.maximum(seg_end - seg_start, 0.0)
    keep = exposure > 0
    return pd.DataFrame(
        {
            "company": comp[keep],
            "exposure_years": exposure[keep],
            "exit": (is_last & (event[comp] == 1))[keep].astype(float),
            "calendar_year": ((seg_start + seg_end) / 2)[keep],
            "age_years": ((seg_start + seg_end) / 2 - start[comp])[keep],
        }
    )


def fit_calendar_hazard(lt: pd.DataFrame) -> dict:
    """The Poisson GLM's coefficients (per year, log scale) and covariance, or a refusal."""
    cy = company_years(lt) if len(lt) else pd.DataFrame()
    n_exits = int(cy["exit"].sum()) if len(cy) else 0
    reason = refusal_reason(n_exits, N_PARAMS, "exits")
    if reason is not None:
        return {"status": STATUS_REFUSED, "reason": reason, "n_exits": n_exits}
    x = np.column_stack([np.ones(len(cy)), cy["calendar_year"] - CALENDAR_CENTRE, cy["age_years"]])
    res = GLM(
        cy["exit"].to_numpy(),
        x,
        family=families.Poisson(),
        offset=np.log(cy["exposure_years"].to_numpy()),
    ).fit()
    return {
        "status": STATUS_OK,
        "reason": "",
        "n_exits": n_exits,
        "params": np.asarray(res.params, dtype=float),
        "cov": np.asarray(res.cov_params(), dtype=float),
    }


def survival_between(
    params: np.ndarray,
    founded: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp | pd.Series,
    steps_per_year: int = 12,
) -> np.ndarray:
    """P(no exit from ``start`` to ``end``) for each company: exp(-integrated hazard), the
    hazard exp(b0 + b1 (calendar year - 2024) + b2 age) integrated on a monthly grid."""
    f = _decimal_year(founded)
    t0 = float(_decimal_year(pd.Series([start]))[0])
    t1 = (
        _decimal_year(end)
        if isinstance(end, pd.Series)
        else np.full(len(f), _decimal_year(pd.Series([end]))[0])
    )
    horizon = np.maximum(t1 - t0, 0.0)
    n_steps = max(1, int(np.ceil(horizon.max() * steps_per_year))) if len(f) else 1
    frac = (np.arange(n_steps) + 0.5) / n_steps  # midpoints of equal steps of each company's span
    cal = t0 + horizon[:, None] * frac[None, :]
    age = cal - f[:, None]
    rate = np.exp(params[0] + params[1] * (cal - CALENDAR_CENTRE) + params[2] * age)
    cum = rate.sum(axis=1) * horizon / n_steps
    return np.exp(-cum)
