"""API price forecasts: a monthly price grid per tier and region, a random walk with drift on log
price, a local-linear-trend challenger and the log-linear "x-fold decline per year"."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.tsa.statespace.sarimax import SARIMAX
from statsmodels.tsa.statespace.structural import UnobservedComponents

from forecasts.common import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_REFUSED,
    quiet_fit,
    refusal_reason,
    to_timestamp,
)

HORIZON_MONTHS = 24
#: Tier order: a model of a higher tier also counts as a price "at or above" a lower tier.
TIER_RANK = {"small": 0, "gpt4_class": 1, "frontier": 2}
REGIONS = ("US", "CN")
PRICE_SIDES = {"input": "input_usd_per_mtok", "output": "output_usd_per_mtok"}
Z80 = stats.norm.ppf(0.9)
Z95 = stats.norm.ppf(0.975)

MODEL_RW_DRIFT = "sarimax_rw_drift"
MODEL_LLT = "uc_local_linear_trend"
MODEL_OLS = "ols_log_linear"
BASELINE_LAST = "baseline_last_value"
BASELINE_DRIFT = "baseline_rw_drift"
#: Parameters each model estimates (coefficients and variances): the fit guard counts these.
N_PARAMS = {MODEL_RW_DRIFT: 2, MODEL_LLT: 3, MODEL_OLS: 3, BASELINE_LAST: 1, BASELINE_DRIFT: 2}

QUANTILE_COLUMNS = (
    "median_log",
    "lower_80_log",
    "upper_80_log",
    "lower_95_log",
    "upper_95_log",
)


def monthly_grid(
    prices: pd.DataFrame, tier: str, region: str, side: str, end: object
) -> pd.DataFrame:
    """The cheapest price of any model at or above ``tier`` in ``region`` for each month from the
    first dated observation to ``end``, each model's last known price carried forward.

    Columns: month (first day), price_usd_per_mtok, cheapest_model, n_observations (qualifying
    price rows dated in that month). Undated rows and free (<= 0 USD) prices are left out: a
    log-price model cannot hold them."""
    if tier not in TIER_RANK:
        raise ValueError(f"unknown tier '{tier}'; expected one of {sorted(TIER_RANK)}")
    if side not in PRICE_SIDES:
        raise ValueError(f"unknown price side '{side}'; expected one of {sorted(PRICE_SIDES)}")
    col = PRICE_SIDES[side]
    for needed in ("model", "provider", "region", "tier", "effective_date", col):
        if needed not in prices.columns:
            raise ValueError(f"api_prices is missing column '{needed}'")
    rank = prices["tier"].map(TIER_RANK)
    dates = pd.to_datetime(prices["effective_date"], errors="coerce")
    values = pd.to_numeric(prices[col], errors="coerce")
    keep = (
        (prices["region"] == region)
        & (rank >= TIER_RANK[tier])
        & dates.notna()
        & values.notna()
        & (values > 0)
        & (dates <= to_timestamp(end))
    )
    columns = ["month", "price_usd_per_mtok", "cheapest_model", "n_observations"]
    if not keep.any():
        return pd.DataFrame(columns=columns)
    rows = pd.DataFrame(
        {
            "key": prices.loc[keep, "provider"].astype(str) + " / " + prices.loc[keep, "model"],
            "date": dates[keep],
            "price": values[keep],
        }
    ).sort_values(["date", "key", "price"], kind="mergesort")
    rows["month"] = rows["date"].dt.to_period("M").dt.to_timestamp()
    months = pd.date_range(
        rows["month"].min(), to_timestamp(end).to_period("M").to_timestamp(), freq="MS"
    )
    last_in_month = rows.groupby(["month", "key"], sort=True)["price"].last().unstack("key")
    wide = last_in_month.reindex(months).ffill()
    cheapest = wide.min(axis=1)
    model = wide.idxmin(axis=1)
    counts = rows.groupby("month").size().reindex(months, fill_value=0)
    return pd.DataFrame(
        {
            "month": months,
            "price_usd_per_mtok": cheapest.to_numpy(dtype=float),
            "cheapest_model": model.astype("string").to_numpy(),
            "n_observations": counts.to_numpy(dtype="int64"),
        }
    )


def _quantiles(mean: np.ndarray, sd: np.ndarray) -> dict[str, np.ndarray]:
    """Normal median and 80 %/95 % bounds on the log scale."""
    return {
        "median_log": mean,
        "lower_80_log": mean - Z80 * sd,
        "upper_80_log": mean + Z80 * sd,
        "lower_95_log": mean - Z95 * sd,
        "upper_95_log": mean + Z95 * sd,
    }


def forecast_rw_drift(y: np.ndarray, horizon: int) -> tuple[dict[str, np.ndarray], dict]:
    """Random walk with drift on log price: ``SARIMAX(order=(0, 1, 0), trend="c")``."""
    res = SARIMAX(y, order=(0, 1, 0), trend="c").fit(disp=False)
    fc = res.get_forecast(horizon)
    params = dict(zip(res.model.param_names, np.asarray(res.params, dtype=float), strict=True))
    mean = np.asarray(fc.predicted_mean, dtype=float)
    sd = np.sqrt(np.asarray(fc.var_pred_mean, dtype=float))
    return _quantiles(mean, sd), {
        "drift_log_per_month": params["intercept"],
        "sigma2": params["sigma2"],
    }


def forecast_local_linear_trend(y: np.ndarray, horizon: int) -> tuple[dict[str, np.ndarray], dict]:
    """Local linear trend state-space model (``UnobservedComponents``) on log price."""
    res = UnobservedComponents(y, level="local linear trend").fit(disp=False)
    fc = res.get_forecast(horizon)
    mean = np.asarray(fc.predicted_mean, dtype=float)
    sd = np.sqrt(np.asarray(fc.var_pred_mean, dtype=float))
    trend = float(np.asarray(res.smoothed_state)[1, -1])
    params = dict(zip(res.model.param_names, np.asarray(res.params, dtype=float), strict=True))
    params["trend_log_per_month"] = trend
    return _quantiles(mean, sd), params


def forecast_ols_trend(
    t_months: np.ndarray, y: np.ndarray, t_future: np.ndarray
) -> tuple[dict[str, np.ndarray], dict]:
    """Log-linear OLS trend of log price on months, extrapolated with prediction intervals."""
    res = sm.OLS(y, sm.add_constant(t_months, has_constant="add")).fit()
    pred = res.get_prediction(sm.add_constant(t_future, has_constant="add"))
    mean = np.asarray(pred.predicted_mean, dtype=float)
    se_obs = np.sqrt(np.asarray(pred.se_mean, dtype=float) ** 2 + res.scale)
    tq80 = stats.t.ppf(0.9, res.df_resid)
    tq95 = stats.t.ppf(0.975, res.df_resid)
    out = {
        "median_log": mean,
        "lower_80_log": mean - tq80 * se_obs,
        "upper_80_log": mean + tq80 * se_obs,
        "lower_95_log": mean - tq95 * se_obs,
        "upper_95_log": mean + tq95 * se_obs,
    }
    return out, {"intercept_log": float(res.params[0]), "slope_log_per_month": float(res.params[1])}


def forecast_last_value(y: np.ndarray, horizon: int) -> tuple[dict[str, np.ndarray], dict]:
    """Baseline: the last value, with random-walk intervals from the month-to-month changes."""
    d = np.diff(y)
    sigma = float(np.sqrt(np.mean(d**2))) if len(d) else 0.0
    h = np.arange(1, horizon + 1)
    return _quantiles(np.full(horizon, y[-1]), sigma * np.sqrt(h)), {"sigma_log": sigma}


def forecast_drift_baseline(y: np.ndarray, horizon: int) -> tuple[dict[str, np.ndarray], dict]:
    """Baseline: random walk with drift by the textbook formula (mean change, its variance)."""
    d = np.diff(y)
    n = len(d)
    drift = float(d.mean())
    sigma = float(d.std(ddof=1)) if n > 1 else 0.0
    h = np.arange(1, horizon + 1)
    sd = sigma * np.sqrt(h * (1 + h / n))
    return _quantiles(y[-1] + drift * h, sd), {"drift_log_per_month": drift, "sigma_log": sigma}


def _grid_series(grid: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Log prices of the grid, observation-month indexes (months since grid start), point count."""
    y = np.log(grid["price_usd_per_mtok"].to_numpy(dtype=float))
    obs_idx = np.flatnonzero(grid["n_observations"].to_numpy() > 0)
    return y, obs_idx, len(obs_idx)


def fit_model(model: str, grid: pd.DataFrame, horizon: int = HORIZON_MONTHS) -> dict:
    """One model on one grid: log-scale quantiles for horizons 1..``horizon`` and its parameters,
    or a refusal/failure with its reason; warnings are captured, never printed."""
    out: dict = {
        "model": model,
        "status": STATUS_OK,
        "reason": "",
        "fit_warnings": "",
        "params": {},
    }
    if grid.empty:
        out.update(status=STATUS_REFUSED, reason="no dated price at or above this tier")
        return out
    y, obs_idx, n_points = _grid_series(grid)
    reason = refusal_reason(n_points, N_PARAMS[model], "months with a price observation")
    if reason is not None:
        out.update(status=STATUS_REFUSED, reason=reason)
        return out
    fitters: dict[str, Callable[[], tuple[dict, dict]]] = {
        MODEL_RW_DRIFT: lambda: forecast_rw_drift(y, horizon),
        MODEL_LLT: lambda: forecast_local_linear_trend(y, horizon),
        MODEL_OLS: lambda: forecast_ols_trend(
            obs_idx.astype(float), y[obs_idx], np.arange(len(y), len(y) + horizon, dtype=float)
        ),
        BASELINE_LAST: lambda: forecast_last_value(y, horizon),
        BASELINE_DRIFT: lambda: forecast_drift_baseline(y, horizon),
    }
    with quiet_fit() as log:
        try:
            quantiles, params = fitters[model]()
        except (ValueError, np.linalg.LinAlgError) as exc:
            quantiles, params = None, {}
            out.update(status=STATUS_FAILED, reason=f"{type(exc).__name__}: {exc}")
    out["fit_warnings"] = log.text()
    if quantiles is not None:
        if not all(np.all(np.isfinite(q)) for q in quantiles.values()):
            out.update(status=STATUS_FAILED, reason="non-finite forecast")
        else:
            out["quantiles"] = quantiles
    out["params"] = params
    return out


def decline_per_year(grid: pd.DataFrame) -> dict:
    """Log-linear OLS of log price on time over the observation months: the x-fold decline per
    year (exp(-12 * slope)) with its 95 % confidence interval, as decline-rate studies report it."""
    out = {
        "n_points": 0,
        "slope_log_per_month": np.nan,
        "decline_factor_per_year": np.nan,
        "decline_factor_per_year_low": np.nan,
        "decline_factor_per_year_high": np.nan,
        "r_squared": np.nan,
        "status": STATUS_OK,
        "reason": "",
        "fit_warnings": "",
    }
    if grid.empty:
        out.update(status=STATUS_REFUSED, reason="no dated price at or above this tier")
        return out
    y, obs_idx, n_points = _grid_series(grid)
    out["n_points"] = n_points
    reason = refusal_reason(n_points, N_PARAMS[MODEL_OLS], "months with a price observation")
    if reason is not None:
        out.update(status=STATUS_REFUSED, reason=reason)
        return out
    with quiet_fit() as log:
        res = sm.OLS(y[obs_idx], sm.add_constant(obs_idx.astype(float))).fit()
        lo, hi = res.conf_int(alpha=0.05)[1]
    slope = float(res.params[1])
    out.update(
        slope_log_per_month=slope,
        decline_factor_per_year=float(np.exp(-12 * slope)),
        # a steeper (more negative) slope is a larger decline factor
        decline_factor_per_year_low=float(np.exp(-12 * hi)),
        decline_factor_per_year_high=float(np.exp(-12 * lo)),
        r_squared=float(res.rsquared),
        fit_warnings=log.text(),
    )
    return out


def series_keys(prices: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Every (tier, region, price side) the forecasts cover, in a fixed order."""
    return [(t, r, s) for t in TIER_RANK for r in REGIONS for s in PRICE_SIDES]


def forecast_table(
    prices: pd.DataFrame,
    as_of: object,
    models: tuple[str, ...] = (MODEL_RW_DRIFT, MODEL_LLT, MODEL_OLS),
    horizon: int = HORIZON_MONTHS,
) -> pd.DataFrame:
    """Price forecasts on the dollar scale for each tier, region, side and model: median and
    80 %/95 % bounds per month ahead of the as-of month, or one row saying why a model refused."""
    rows = []
    for tier, region, side in series_keys(prices):
        grid = monthly_grid(prices, tier, region, side, as_of)
        origin = (
            grid["month"].iloc[-1]
            if len(grid)
            else to_timestamp(as_of).to_period("M").to_timestamp()
        )
        n_points = int((grid["n_observations"] > 0).sum()) if len(grid) else 0
        last_price = float(grid["price_usd_per_mtok"].iloc[-1]) if len(grid) else np.nan
        for model in models:
            fit = fit_model(model, grid, horizon)
            base = {
                "tier": tier,
                "region": region,
                "price_side": side,
                "model": model,
                "origin_month": origin,
                "last_price_usd_per_mtok": last_price,
                "n_points": n_points,
                "n_grid_months": len(grid),
                "status": fit["status"],
                "reason": fit["reason"],
                "fit_warnings": fit["fit_warnings"],
                "params_json": _params_json(fit["params"]),
            }
            if "quantiles" not in fit:
                rows.append(base | {"horizon_months": 0, "target_month": pd.NaT} | _nan_usd())
                continue
            q = fit["quantiles"]
            for h in range(horizon):
                rows.append(
                    base
                    | {
                        "horizon_months": h + 1,
                        "target_month": origin + pd.DateOffset(months=h + 1),
                        "median_usd_per_mtok": float(np.exp(q["median_log"][h])),
                        "lower_80_usd_per_mtok": float(np.exp(q["lower_80_log"][h])),
                        "upper_80_usd_per_mtok": float(np.exp(q["upper_80_log"][h])),
                        "lower_95_usd_per_mtok": float(np.exp(q["lower_95_log"][h])),
                        "upper_95_usd_per_mtok": float(np.exp(q["upper_95_log"][h])),
                    }
                )
    return _typed(pd.DataFrame(rows), FORECAST_COLUMNS)


def decline_table(
    prices: pd.DataFrame, as_of: object, published: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The pipeline's x-fold decline per year for each tier, region and side, followed by the
    published decline-rate estimates (when given) for comparison."""
    rows = []
    for tier, region, side in series_keys(prices):
        grid = monthly_grid(prices, tier, region, side, as_of)
        fit = decline_per_year(grid)
        rows.append(
            {
                "estimate_by": "pipeline OLS on the monthly grid",
                "tier": tier,
                "region": region,
                "price_side": side,
                "period_start": grid["month"].iloc[0] if len(grid) else pd.NaT,
                "period_end": grid["month"].iloc[-1] if len(grid) else pd.NaT,
                **fit,
                "source": "",
                "source_url": "",
            }
        )
    if published is not None and len(published):
        for rec in published.to_dict("records"):
            rows.append(
                {
                    "estimate_by": f"published: {rec.get('publisher', '')} ({rec.get('scope', '')})",
                    "tier": "",
                    "region": "",
                    "price_side": "",
                    "period_start": pd.to_datetime(rec.get("period_start"), errors="coerce"),
                    "period_end": pd.to_datetime(rec.get("period_end"), errors="coerce"),
                    "n_points": 0,
                    "slope_log_per_month": np.nan,
                    "decline_factor_per_year": _num(rec.get("decline_factor_per_year")),
                    "decline_factor_per_year_low": _num(rec.get("decline_factor_per_year_low")),
                    "decline_factor_per_year_high": _num(rec.get("decline_factor_per_year_high")),
                    "r_squared": np.nan,
                    "status": "published",
                    "reason": "",
                    "fit_warnings": "",
                    "source": str(rec.get("source", "") or ""),
                    "source_url": str(rec.get("source_url", "") or ""),
                }
            )
    return _typed(pd.DataFrame(rows), DECLINE_COLUMNS)


def grid_table(prices: pd.DataFrame, as_of: object) -> pd.DataFrame:
    """All monthly grids stacked (the observed history behind the forecasts and fan charts)."""
    parts = []
    for tier, region, side in series_keys(prices):
        grid = monthly_grid(prices, tier, region, side, as_of)
        if len(grid):
            parts.append(grid.assign(tier=tier, region=region, price_side=side))
    if not parts:
        return _typed(pd.DataFrame(columns=GRID_COLUMNS), GRID_COLUMNS)
    return _typed(pd.concat(parts, ignore_index=True), GRID_COLUMNS)


def _num(value: object) -> float:
    """A number or NaN."""
    out = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return float(out)


def _nan_usd() -> dict:
    return {
        c: np.nan
        for c in FORECAST_COLUMNS
        if c.endswith("_usd_per_mtok") and c != "last_price_usd_per_mtok"
    }


def _params_json(params: dict) -> str:
    """Fitted parameters as compact JSON with rounded floats (stable bytes across runs)."""
    import json

    return json.dumps({k: round(float(v), 10) for k, v in sorted(params.items())}, sort_keys=True)


def _typed(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The frame with exactly ``columns`` in order and dtype."""
    out = pd.DataFrame(
        {
            name: df[name] if name in df.columns else pd.Series(dtype=dtype)
            for name, dtype in columns.items()
        }
    )
    for name, dtype in columns.items():
        if dtype.startswith("datetime"):
            out[name] = pd.to_datetime(out[name]).astype(dtype)
        else:
            out[name] = out[name].astype(dtype)
    return out.reset_index(drop=True)


FORECAST_COLUMNS = {
    "tier": "string",
    "region": "string",
    "price_side": "string",
    "model": "string",
    "origin_month": "datetime64[ns]",
    "horizon_months": "int64",
    "target_month": "datetime64[ns]",
    "median_usd_per_mtok": "float64",
    "lower_80_usd_per_mtok": "float64",
    "upper_80_usd_per_mtok": "float64",
    "lower_95_usd_per_mtok": "float64",
    "upper_95_usd_per_mtok": "float64",
    "last_price_usd_per_mtok": "float64",
    "n_points": "int64",
    "n_grid_months": "int64",
    "status": "string",
    "reason": "string",
    "fit_warnings": "string",
    "params_json": "string",
}
DECLINE_COLUMNS = {
    "estimate_by": "string",
    "tier": "string",
    "region": "string",
    "price_side": "string",
    "period_start": "datetime64[ns]",
    "period_end": "datetime64[ns]",
    "n_points": "int64",
    "slope_log_per_month": "float64",
    "decline_factor_per_year": "float64",
    "decline_factor_per_year_low": "float64",
    "decline_factor_per_year_high": "float64",
    "r_squared": "float64",
    "status": "string",
    "reason": "string",
    "fit_warnings": "string",
    "source": "string",
    "source_url": "string",
}
GRID_COLUMNS = {
    "tier": "string",
    "region": "string",
    "price_side": "string",
    "month": "datetime64[ns]",
    "price_usd_per_mtok": "float64",
    "cheapest_model": "string",
    "n_observations": "int64",
}
