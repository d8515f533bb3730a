"""API price forecasts: a monthly price grid per tier and region ending at its last observation,
exponential smoothing (ETS, by AICc) and a jump model of price cuts on log price against
last-value and drift baselines, and the log-linear "x-fold decline per year"."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.tools import add_constant

from forecasts import ets, jumps
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

MODEL_ETS = "ets_aicc"
MODEL_JUMP = "jump_poisson"
MODEL_OLS = "ols_log_linear"
BASELINE_LAST = "baseline_last_value"
BASELINE_DRIFT = "baseline_rw_drift"
#: The level models forecast and backtested: ETS (default), jump model (challenger), baselines.
PRICE_MODELS = (MODEL_ETS, MODEL_JUMP, BASELINE_LAST, BASELINE_DRIFT)
#: Parameters each model estimates: the fit guard counts these against months with a price
#: observation (ETS: the simple form; the damped trend needs ets.N_PARAMS["damped"]).
N_PARAMS = {
    MODEL_ETS: ets.N_PARAMS[ets.SIMPLE],
    MODEL_JUMP: 2,
    MODEL_OLS: 3,
    BASELINE_LAST: 1,
    BASELINE_DRIFT: 2,
}
#: Fewer h-month changes than this and the last-value interval falls back to a random walk.
MIN_EMPIRICAL_CHANGES = 12
#: A forecast below this fraction of the cheapest price ever observed in its series is flagged.
FLOOR_FRACTION = 0.1

QUANTILE_COLUMNS = (
    "median_log",
    "lower_80_log",
    "upper_80_log",
    "lower_95_log",
    "upper_95_log",
)
#: Probabilities of QUANTILE_COLUMNS, in order.
QUANTILE_PROBS = (0.5, 0.1, 0.9, 0.025, 0.975)


def _qualifying_rows(
    prices: pd.DataFrame, tier: str, region: str, side: str, end: object
) -> pd.DataFrame:
    """Dated, positive prices of models at or above ``tier`` in ``region`` known by ``end``:
    key (provider / model), date, price."""
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
    return pd.DataFrame(
        {
            "key": prices.loc[keep, "provider"].astype(str) + " / " + prices.loc[keep, "model"],
            "date": dates[keep],
            "price": values[keep],
        }
    ).sort_values(["date", "key", "price"], kind="mergesort")


def last_observed_date(
    prices: pd.DataFrame, tier: str, region: str, side: str, end: object
) -> pd.Timestamp:
    """Effective date of the newest qualifying price row known by ``end`` (NaT when none)."""
    rows = _qualifying_rows(prices, tier, region, side, end)
    return rows["date"].max() if len(rows) else pd.NaT


def monthly_grid(
    prices: pd.DataFrame, tier: str, region: str, side: str, end: object
) -> pd.DataFrame:
    """The cheapest price of any model at or above ``tier`` in ``region`` for each month from the
    first to the last month with a dated observation known by ``end`` (never beyond: a month after
    the last observation is not data), each model's last known list price carried forward.

    Columns: month (first day), price_usd_per_mtok, cheapest_model, n_observations (qualifying
    price rows dated in that month). Undated rows and free (<= 0 USD) prices are left out: a
    log-price model cannot hold them."""
    return grid_from_rows(_qualifying_rows(prices, tier, region, side, end))


def grid_from_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The monthly grid of qualifying rows (columns key, date, price; see ``monthly_grid``):
    any series whose qualifying prices are known goes through this one rule (the vendor tiers
    here, the constant-capability thresholds in ``price_index``). ``rows`` gains a month column."""
    columns = ["month", "price_usd_per_mtok", "cheapest_model", "n_observations"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows["month"] = rows["date"].dt.to_period("M").dt.to_timestamp()
    months = pd.date_range(rows["month"].min(), rows["month"].max(), freq="MS")
    # On arrays (the backtests ask for about a hundred grids): month x key, each cell the price
    # of the cell's last row that has one, each key's last price carried forward.
    period = rows["date"].dt.year.to_numpy() * 12 + rows["date"].dt.month.to_numpy()
    at = period - period.min()
    keys, column = np.unique(rows["key"].to_numpy(dtype=object), return_inverse=True)
    price = rows["price"].to_numpy(dtype=float)
    priced = np.flatnonzero(~np.isnan(price))
    cell = at[priced] * len(keys) + column[priced]
    _, last_from_end = np.unique(cell[::-1], return_index=True)
    last = priced[len(priced) - 1 - last_from_end]
    wide = np.full((len(months), len(keys)), np.nan)
    wide[at[last], column[last]] = price[last]
    known = np.where(np.isnan(wide), 0, np.arange(len(months))[:, None])
    wide = wide[np.maximum.accumulate(known, axis=0), np.arange(len(keys))]
    return pd.DataFrame(
        {
            "month": months,
            "price_usd_per_mtok": np.nanmin(wide, axis=1),
            "cheapest_model": keys[np.nanargmin(wide, axis=1)],
            "n_observations": np.bincount(at, minlength=len(months)).astype("int64"),
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


def forecast_ols_trend(
    t_months: np.ndarray, y: np.ndarray, t_future: np.ndarray
) -> tuple[dict[str, np.ndarray], dict]:
    """Log-linear OLS trend of log price on months, extrapolated with prediction intervals."""
    res = OLS(y, add_constant(t_months, has_constant="add")).fit()
    pred = res.get_prediction(add_constant(t_future, has_constant="add"))
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
    """Baseline: the last value. Its h-month interval is the empirical spread of the series' own
    h-month log changes seen so far (list prices hold, then jump: a normal random walk is far
    too wide); with fewer than ``MIN_EMPIRICAL_CHANGES`` such changes, random-walk intervals
    from the month-to-month changes."""
    d = np.diff(y)
    sigma = float(np.sqrt(np.mean(d**2))) if len(d) else 0.0
    h = np.arange(1, horizon + 1)
    out = _quantiles(np.full(horizon, y[-1]), sigma * np.sqrt(h))
    n_empirical = 0
    for k in h:
        changes = y[k:] - y[:-k]
        if len(changes) < MIN_EMPIRICAL_CHANGES:
            break
        n_empirical = int(k)
        bounds = np.quantile(changes, QUANTILE_PROBS[1:])
        for name, b in zip(QUANTILE_COLUMNS[1:], bounds, strict=True):
            out[name][k - 1] = (
                y[-1] + min(b, 0.0) if name.startswith("lower") else y[-1] + max(b, 0.0)
            )
    return out, {"sigma_log": sigma, "empirical_horizons": n_empirical}


def forecast_drift_baseline(y: np.ndarray, horizon: int) -> tuple[dict[str, np.ndarray], dict]:
    """Baseline: random walk with drift by the textbook formula (mean change, its variance)."""
    d = np.diff(y)
    n = len(d)
    drift = float(d.mean())
    sigma = float(d.std(ddof=1)) if n > 1 else 0.0
    h = np.arange(1, horizon + 1)
    sd = sigma * np.sqrt(h * (1 + h / n))
    return _quantiles(y[-1] + drift * h, sd), {"drift_log_per_month": drift, "sigma_log": sigma}


def forecast_jump(y: np.ndarray, horizon: int) -> tuple[dict[str, np.ndarray], dict]:
    """Challenger: Poisson arrivals of price changes with empirical sizes (``forecasts.jumps``)."""
    q, rate, n_changes = jumps.jump_quantiles(y, horizon, QUANTILE_PROBS)
    return dict(zip(QUANTILE_COLUMNS, q, strict=True)), {
        "changes_per_month": rate,
        "n_changes": n_changes,
    }


def _ets_at(
    fits: dict[str, ets.PrefixFits], i: int, n_points: int, horizon: int
) -> tuple[dict[str, np.ndarray], dict]:
    """The ETS forecast from grid index ``i``: the form with the lower AICc among those the
    observation months support (the damped trend needs its own parameters + 4)."""
    forms = [ets.SIMPLE]
    if refusal_reason(n_points, ets.N_PARAMS[ets.DAMPED]) is None and np.isfinite(
        fits[ets.DAMPED].aicc[i]
    ):
        forms.append(ets.DAMPED)
    aicc = {f: fits[f].aicc[i] for f in forms}
    finite = {f: a for f, a in aicc.items() if np.isfinite(a)}
    form = min(finite, key=finite.get) if finite else ets.SIMPLE
    f = fits[form]
    mean, var = ets.forecast_moments(
        f.level[i], f.slope[i], f.alpha[i], f.beta[i], f.phi[i], f.sigma2[i], horizon
    )
    params = {
        "alpha": f.alpha[i],
        "beta": f.beta[i],
        "phi": f.phi[i],
        "sigma2": f.sigma2[i],
        "damped_trend": float(form == ets.DAMPED),
        **{f"aicc_{k}": v for k, v in finite.items()},
    }
    return _quantiles(mean, np.sqrt(var)), params


def _grid_series(grid: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Log prices of the grid, observation-month indexes (months since grid start), point count."""
    y = np.log(grid["price_usd_per_mtok"].to_numpy(dtype=float))
    obs_idx = np.flatnonzero(grid["n_observations"].to_numpy() > 0)
    return y, obs_idx, len(obs_idx)


def origin_forecasts(
    model: str, grid: pd.DataFrame, origins: np.ndarray, horizon: int = HORIZON_MONTHS
) -> list[dict]:
    """One model fitted on the grid up to each origin index (the grid of a month depends only on
    rows dated by its end, so a prefix is what was known then): log-scale quantiles for horizons
    1..``horizon`` and parameters, or a refusal/failure with its reason. ETS fits every prefix
    in one vectorised pass."""
    if model not in N_PARAMS:
        raise ValueError(f"unknown price model '{model}'; expected one of {sorted(N_PARAMS)}")
    y, obs_idx, _ = _grid_series(grid)
    with quiet_fit() as log:
        fits = (
            {form: ets.fit_prefixes(y, form) for form in (ets.SIMPLE, ets.DAMPED)}
            if model == MODEL_ETS and len(y)
            else {}
        )
    out = []
    for i in np.asarray(origins, dtype=int):
        res: dict = {
            "model": model,
            "status": STATUS_OK,
            "reason": "",
            "fit_warnings": log.text(),
            "params": {},
        }
        n_points = int(np.searchsorted(obs_idx, i, side="right"))
        reason = refusal_reason(n_points, N_PARAMS[model], "months with a price observation")
        if reason is not None:
            res.update(status=STATUS_REFUSED, reason=reason)
            out.append(res)
            continue
        yi = y[: i + 1]
        with quiet_fit() as fit_log:
            try:
                if model == MODEL_ETS:
                    quantiles, params = _ets_at(fits, i, n_points, horizon)
                elif model == MODEL_JUMP:
                    quantiles, params = forecast_jump(yi, horizon)
                elif model == MODEL_OLS:
                    ob = obs_idx[obs_idx <= i]
                    quantiles, params = forecast_ols_trend(
                        ob.astype(float), y[ob], np.arange(i + 1, i + 1 + horizon, dtype=float)
                    )
                elif model == BASELINE_LAST:
                    quantiles, params = forecast_last_value(yi, horizon)
                else:
                    quantiles, params = forecast_drift_baseline(yi, horizon)
            except (ValueError, np.linalg.LinAlgError) as exc:
                quantiles, params = None, {}
                res.update(status=STATUS_FAILED, reason=f"{type(exc).__name__}: {exc}")
        if fit_log.text():
            res["fit_warnings"] = " | ".join(filter(None, (res["fit_warnings"], fit_log.text())))
        if quantiles is not None:
            if not all(np.all(np.isfinite(q)) for q in quantiles.values()):
                res.update(status=STATUS_FAILED, reason="non-finite forecast")
            else:
                res["quantiles"] = quantiles
        res["params"] = params
        out.append(res)
    return out


#: Conformal errors are divided by lead_months ** LEAD_EXPONENT before pooling over leads: a random
#: walk's error grows with the square root of the lead, so errors at leads 1-12 calibrate one
#: scale and 12-month forecasts borrow strength from the many shorter ones (too few 12-month
#: errors are observed by most origins to calibrate that horizon alone).
LEAD_EXPONENT = 0.5
#: The longest lead the backtest scores (its 12-month horizon covers leads 7-12).
LONGEST_SCORED_LEAD_MONTHS = 12


def lead_scale(lead_months: np.ndarray | float) -> np.ndarray:
    """The factor a per-sqrt-month conformal offset is multiplied by at a lead."""
    return np.asarray(lead_months, dtype=float) ** LEAD_EXPONENT


def calibrate(quantiles: dict[str, np.ndarray], offsets: dict[str, float]) -> dict[str, np.ndarray]:
    """Bounds replaced by median + the backtest's conformal offset (per sqrt-month of lead) times
    ``lead_scale`` of each lead. Leads beyond the longest scored one (12 months) were never
    backtested: the same square-root law is extrapolated to them (switching to the model's own
    bounds there would make the band jump at month 13). Without finite offsets the model's bounds
    stay."""
    out = {k: np.array(v, dtype=float) for k, v in quantiles.items()}
    if not offsets or not all(np.isfinite(v) for v in offsets.values()):
        return out
    med = out["median_log"]
    scale = lead_scale(np.arange(1, len(med) + 1))
    for name, v in offsets.items():
        out[name] = med + v * scale
    return out


def fit_model(model: str, grid: pd.DataFrame, horizon: int = HORIZON_MONTHS) -> dict:
    """One model on one grid, forecast from its last month (the last observation): log-scale
    quantiles for horizons 1..``horizon`` and its parameters, or a refusal/failure with its
    reason; warnings are captured, never printed."""
    if grid.empty:
        return {
            "model": model,
            "status": STATUS_REFUSED,
            "reason": "no dated price at or above this tier",
            "fit_warnings": "",
            "params": {},
        }
    return origin_forecasts(model, grid, np.array([len(grid) - 1]), horizon)[0]


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
        res = OLS(y[obs_idx], add_constant(obs_idx.astype(float))).fit()
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


#: A series' labels: (tier, region, price side) of a vendor tier, or the constant-capability
#: index's (threshold such as ``mmlu>=80``, region, ``blended``).
SeriesLabels = tuple[str, str, str]


def tier_rows(prices: pd.DataFrame, as_of: object) -> list[tuple[SeriesLabels, pd.DataFrame]]:
    """Each vendor-tier series' labels with its qualifying price rows known by ``as_of``."""
    return [
        ((tier, region, side), _qualifying_rows(prices, tier, region, side, as_of))
        for tier, region, side in series_keys(prices)
    ]


def tier_grids(prices: pd.DataFrame, as_of: object) -> list[tuple[SeriesLabels, pd.DataFrame]]:
    """Each vendor-tier series' labels with its monthly grid (``monthly_grid``)."""
    return [(labels, grid_from_rows(rows)) for labels, rows in tier_rows(prices, as_of)]


def forecast_table(
    prices: pd.DataFrame,
    as_of: object,
    models: tuple[str, ...] = PRICE_MODELS,
    horizon: int = HORIZON_MONTHS,
    published_model: str = "",
    verdict: str = "",
    calibration: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Price forecasts on the dollar scale for each vendor tier, region and side
    (``series_forecast_table`` of ``tier_rows``)."""
    return series_forecast_table(
        tier_rows(prices, as_of), as_of, models, horizon, published_model, verdict, calibration
    )


def series_forecast_table(
    series: list[tuple[SeriesLabels, pd.DataFrame]],
    as_of: object,
    models: tuple[str, ...] = PRICE_MODELS,
    horizon: int = HORIZON_MONTHS,
    published_model: str = "",
    verdict: str = "",
    calibration: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Price forecasts on the dollar scale for each series (labels with its qualifying rows:
    key, date, price) and model, from the last observed month (the origin) with its data age:
    median and 80 %/95 % bounds per month ahead, or one row saying why a model refused.
    ``published_model`` (chosen by the backtest) is marked ``published`` with the backtest
    ``verdict``; a median below a tenth of the cheapest price ever observed in the series is
    flagged ``below_floor``. A published model named ``<model>+conformal`` is ``<model>`` with
    the backtest's ``calibration`` offsets (``calibrate``), added as its own rows."""
    base_name = published_model.split("+", 1)[0]
    if published_model != base_name and published_model not in models:
        models = (*models, published_model)
    rows = []
    as_of_ts = to_timestamp(as_of)
    for (tier, region, side), qualifying in series:
        grid = grid_from_rows(qualifying.copy())
        last_date = qualifying["date"].max() if len(qualifying) else pd.NaT
        origin = grid["month"].iloc[-1] if len(grid) else pd.NaT
        n_points = int((grid["n_observations"] > 0).sum()) if len(grid) else 0
        last_price = float(grid["price_usd_per_mtok"].iloc[-1]) if len(grid) else np.nan
        floor = FLOOR_FRACTION * float(grid["price_usd_per_mtok"].min()) if len(grid) else np.nan
        for model in models:
            fit = dict(fit_model(model.split("+", 1)[0], grid, horizon))
            if model != model.split("+", 1)[0] and "quantiles" in fit:
                fit["quantiles"] = calibrate(fit["quantiles"], calibration or {})
            base = {
                "tier": tier,
                "region": region,
                "price_side": side,
                "model": model,
                "origin_month": origin,
                "last_observed_date": last_date,
                "data_age_days": int((as_of_ts - last_date).days) if pd.notna(last_date) else -1,
                "last_price_usd_per_mtok": last_price,
                "n_points": n_points,
                "n_grid_months": len(grid),
                "published": model == published_model,
                "backtest_verdict": verdict if model == published_model else "",
                "status": fit["status"],
                "reason": fit["reason"],
                "fit_warnings": fit["fit_warnings"],
                "params_json": _params_json(fit["params"]),
            }
            if "quantiles" not in fit:
                rows.append(
                    base
                    | {"horizon_months": 0, "target_month": pd.NaT, "below_floor": False}
                    | _nan_usd()
                )
                continue
            usd = {k: np.exp(fit["quantiles"][k]) for k in QUANTILE_COLUMNS}
            for h in range(horizon):
                rows.append(
                    base
                    | {
                        "horizon_months": h + 1,
                        "target_month": origin + pd.DateOffset(months=h + 1),
                        "median_usd_per_mtok": float(usd["median_log"][h]),
                        "lower_80_usd_per_mtok": float(usd["lower_80_log"][h]),
                        "upper_80_usd_per_mtok": float(usd["upper_80_log"][h]),
                        "lower_95_usd_per_mtok": float(usd["lower_95_log"][h]),
                        "upper_95_usd_per_mtok": float(usd["upper_95_log"][h]),
                        "below_floor": bool(usd["median_log"][h] < floor),
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
    "last_observed_date": "datetime64[ns]",
    "data_age_days": "int64",
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
    "below_floor": "bool",
    "published": "bool",
    "backtest_verdict": "string",
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
