"""Rolling-origin backtests (expanding window, only data dated on or before each cutoff) of the
price, survival and share forecasts against last-value and random-walk-with-drift baselines."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from forecasts import hazard as hazard_models
from forecasts import price_index
from forecasts import prices as price_models
from forecasts import share as share_models
from forecasts import survival as survival_models
from forecasts.common import (
    STATUS_OK,
    STATUS_REFUSED,
    known_as_of,
    quiet_fit,
    refusal_reason,
    to_timestamp,
)

#: Horizons scored: a forecast made at an observed month is scored on every later observed month
#: at most 12 months ahead, bucketed to 3 (1-3 months ahead), 6 (4-6) and 12 (7-12).
PRICE_HORIZONS = (3, 6, price_models.LONGEST_SCORED_LEAD_MONTHS)
PRICE_MODELS = price_models.PRICE_MODELS
SURVIVAL_HORIZONS = (6, 12, 24)
SURVIVAL_STEP_MONTHS = 6
#: An asset check warns when a model's interval coverage falls this many points below nominal.
COVERAGE_TOLERANCE_PTS = 15.0
#: Fewer evaluated forecasts than this give no coverage verdict.
MIN_FORECASTS_FOR_CHECK = 5
#: The split-conformal variant of a price model is named ``<model>+conformal``: same median, bounds
#: from the model's own earlier backtest errors (see ``conformal_offsets``).
CONFORMAL_SUFFIX = "+conformal"
#: Bound column -> its quantile level among the errors (actual - median, log scale).
CONFORMAL_LEVELS = {
    "lower_80_log": 0.1,
    "upper_80_log": 0.9,
    "lower_95_log": 0.025,
    "upper_95_log": 0.975,
}
#: Score columns holding the offsets (bound - median) learned from every error of a vintage, per
#: square root of a month of lead (``bound = median + offset x sqrt(lead_months)``).
CALIB_COLUMNS = {k: "calib_" + k for k in CONFORMAL_LEVELS}


def horizon_bucket(lead_months: np.ndarray) -> np.ndarray:
    """The horizon (3, 6 or 12) a lead of 1..12 months is scored under (0 beyond 12)."""
    lead = np.asarray(lead_months)
    edges = np.array(PRICE_HORIZONS)
    idx = np.searchsorted(edges, lead, side="left")
    return np.where((lead >= 1) & (idx < len(edges)), edges[np.minimum(idx, len(edges) - 1)], 0)


def price_forecasts_at(
    prices: pd.DataFrame,
    cutoff: object,
    tier: str,
    region: str,
    side: str,
    models: tuple[str, ...] = PRICE_MODELS,
    horizon: int = max(PRICE_HORIZONS),
) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Each model fitted on the grid built only from price rows dated on or before ``cutoff``."""
    known = known_as_of(prices, cutoff, "effective_date", published_col=None)
    grid = price_models.monthly_grid(known, tier, region, side, cutoff)
    return grid, {m: price_models.fit_model(m, grid, horizon) for m in models}


def price_backtest_rows(
    series: Iterable[tuple[price_models.SeriesLabels, pd.DataFrame]],
    models: tuple[str, ...] = PRICE_MODELS,
    horizons: tuple[int, ...] = PRICE_HORIZONS,
) -> pd.DataFrame:
    """One row per (series, model, origin, observed target) with the forecast's log-scale bounds,
    the realised log price and the training grid's naive one-step MAE (the MASE scale), for each
    series given as its labels (tier, region, price side) and its monthly grid built from the
    rows known at the vintage (``prices.grid_from_rows``: the vendor tiers' ``tier_grids``, the
    constant-capability index's ``price_index.capability_grids``). A grid's month depends only
    on rows dated by its end, so the grid up to an origin is what was known then. Origins and
    targets are months with a price observation only; each grid ends at its last observation,
    so no carried-forward month is ever scored."""
    cols: dict[str, list] = {}
    h_max = max(horizons)

    def add(n: int, **values) -> None:
        for name, value in values.items():
            cols.setdefault(name, []).append(
                np.full(n, value, dtype=object if isinstance(value, str) else None)
                if np.ndim(value) == 0
                else np.asarray(value)
            )

    for (tier, region, side), full in series:
        if len(full) < 2:
            continue
        y, obs_idx, _ = price_models._grid_series(full)
        months = full["month"].to_numpy()
        origins = obs_idx[:-1]
        if len(origins) == 0:
            continue
        cum_abs = np.concatenate([[0.0], np.cumsum(np.abs(np.diff(y)))])
        for model in models:
            fits = price_models.origin_forecasts(model, full, origins, h_max)
            for i, fit in zip(origins, fits, strict=True):
                if "quantiles" not in fit:
                    continue
                targets = obs_idx[(obs_idx > i) & (obs_idx <= i + h_max)]
                lead = targets - i
                bucket = horizon_bucket(lead)
                keep = np.isin(bucket, horizons)
                targets, lead, bucket = targets[keep], lead[keep], bucket[keep]
                if len(targets) == 0:
                    continue
                q = fit["quantiles"]
                add(
                    len(targets),
                    tier=tier,
                    region=region,
                    price_side=side,
                    model=model,
                    cutoff_month=np.full(len(targets), months[i]),
                    target_month=months[targets],
                    lead_months=lead,
                    horizon_months=bucket,
                    actual_log=y[targets],
                    last_log=np.full(len(targets), y[i]),
                    mase_scale_log=np.full(len(targets), cum_abs[i] / i if i > 0 else np.nan),
                    fit_warned=np.full(len(targets), bool(fit["fit_warnings"])),
                    **{k: q[k][lead - 1] for k in price_models.QUANTILE_COLUMNS},
                )
    if not cols:
        return pd.DataFrame()
    return pd.DataFrame({name: np.concatenate(parts) for name, parts in cols.items()})


def conformal_offsets(errors: np.ndarray) -> dict[str, float]:
    """Split-conformal offsets (bound - median, log scale) from calibration errors
    ``actual - median``: the lower bound at level p is the floor((n+1)p)-th smallest of the n
    errors, the upper the ceil((n+1)p)-th, so a new exchangeable error falls below/above them
    with probability at most p/1-p (finite-sample valid); NaN where that rank is outside 1..n
    (too few errors to bound the level). Bounds always contain the median (offset 0)."""
    e = np.sort(np.asarray(errors, dtype=float))
    e = e[np.isfinite(e)]
    n = len(e)
    out: dict[str, float] = {}
    for name, p in CONFORMAL_LEVELS.items():
        lower = name.startswith("lower")
        rank = int(np.floor((n + 1) * p + 1e-9) if lower else np.ceil((n + 1) * p - 1e-9))
        if not 1 <= rank <= n:
            out[name] = np.nan
            continue
        out[name] = min(e[rank - 1], 0.0) if lower else max(e[rank - 1], 0.0)
    return out


def with_conformal(rows: pd.DataFrame) -> pd.DataFrame:
    """The backtest rows plus a ``<model>+conformal`` copy of each model whose bounds come from
    the same model's earlier errors, pooled over series and leads after dividing each error by
    ``lead_scale`` of its lead (normalised split conformal), on targets dated on or before the
    forecast's own origin month, so no forecast is calibrated on the future; a forecast's offsets
    are the pooled quantiles times ``lead_scale`` of its own lead. The 80 % and 95 % intervals
    are calibrated separately (the 95 % one needs 39 errors, the 80 % one 9); one with too few
    earlier errors keeps the model's own bounds (``calibrated`` says whether the 80 % one was
    calibrated), so both variants score the same forecasts."""
    if rows.empty:
        return rows
    base = rows[~rows["model"].str.endswith(CONFORMAL_SUFFIX)]
    parts = [base.assign(calibrated=False)]
    for model, grp in base.groupby("model", sort=True):
        grp = grp.copy()
        scale = price_models.lead_scale(grp["lead_months"].to_numpy())
        err = (grp["actual_log"] - grp["median_log"]).to_numpy(dtype=float) / scale
        target = grp["target_month"].to_numpy()
        cutoff = grp["cutoff_month"].to_numpy()
        calibrated = np.zeros(len(grp), dtype=bool)
        median = grp["median_log"].to_numpy(dtype=float)
        bounds: dict[str, np.ndarray] = {}  # bound column -> its values, once one is calibrated
        for c in np.unique(cutoff):
            at = cutoff == c
            off = conformal_offsets(err[target <= c])
            for level in ("80", "95"):
                pair = {k: v for k, v in off.items() if k.endswith(f"_{level}_log")}
                if all(np.isfinite(v) for v in pair.values()):
                    for name, v in pair.items():
                        if name not in bounds:
                            bounds[name] = grp[name].to_numpy(dtype=float, copy=True)
                        bounds[name][at] = median[at] + v * scale[at]
                    calibrated[at] |= level == "80"
        for name, values in bounds.items():
            grp[name] = values
        # A 95 % interval left at the model's bounds (too few errors for its ranks) never sits
        # inside a calibrated 80 % one: it is widened to contain it.
        grp["lower_95_log"] = np.minimum(grp["lower_95_log"], grp["lower_80_log"])
        grp["upper_95_log"] = np.maximum(grp["upper_95_log"], grp["upper_80_log"])
        parts.append(grp.assign(model=model + CONFORMAL_SUFFIX, calibrated=calibrated))
    return pd.concat(parts, ignore_index=True)


def final_offsets(rows: pd.DataFrame) -> pd.DataFrame:
    """Per model: the conformal offsets per sqrt-month of lead from every backtest error of the
    vintage (all targets are observed on or before it), the ones a published forecast uses;
    repeated on each horizon's row so the pooled score rows carry them."""
    out = []
    base = rows[~rows["model"].str.endswith(CONFORMAL_SUFFIX)] if len(rows) else rows
    for model, grp in base.groupby("model", sort=True):
        err = (grp["actual_log"] - grp["median_log"]).to_numpy(dtype=float)
        off = conformal_offsets(err / price_models.lead_scale(grp["lead_months"].to_numpy()))
        for h in sorted(grp["horizon_months"].unique()):
            out.append(
                {
                    "model": model + CONFORMAL_SUFFIX,
                    "horizon_months": int(h),
                    **{CALIB_COLUMNS[k]: v for k, v in off.items()},
                    "n_calibration_errors": len(grp),
                }
            )
    return pd.DataFrame(out)


def interval_score(
    lower: pd.Series, upper: pd.Series, actual: pd.Series, alpha: float
) -> pd.Series:
    """Gneiting-Raftery interval score of a central (1 - alpha) interval (lower is better)."""
    return (
        (upper - lower)
        + (2 / alpha) * (lower - actual).clip(lower=0)
        + (2 / alpha) * (actual - upper).clip(lower=0)
    )


def _interval_scores(df: pd.DataFrame) -> dict:
    """Errors, coverage and interval scores of log-scale forecasts against realised log values."""
    err = df["median_log"] - df["actual_log"]
    f_usd, a_usd = np.exp(df["median_log"]), np.exp(df["actual_log"])
    scaled = np.abs(err) / df["mase_scale_log"].where(df["mase_scale_log"] > 0)
    return {
        "n_forecasts": len(df),
        "n_forecasts_fit_warned": int(df["fit_warned"].sum()) if "fit_warned" in df else 0,
        "mae_log": float(np.abs(err).mean()),
        "mase_log": float(scaled.mean()) if scaled.notna().any() else np.nan,
        "smape_pct": float((200 * np.abs(f_usd - a_usd) / (np.abs(f_usd) + np.abs(a_usd))).mean()),
        "coverage_80_pct": float(
            100
            * (
                (df["lower_80_log"] <= df["actual_log"]) & (df["actual_log"] <= df["upper_80_log"])
            ).mean()
        ),
        "coverage_95_pct": float(
            100
            * (
                (df["lower_95_log"] <= df["actual_log"]) & (df["actual_log"] <= df["upper_95_log"])
            ).mean()
        ),
        "interval_score_80_log": float(
            interval_score(df["lower_80_log"], df["upper_80_log"], df["actual_log"], 0.2).mean()
        ),
        "interval_score_95_log": float(
            interval_score(df["lower_95_log"], df["upper_95_log"], df["actual_log"], 0.05).mean()
        ),
    }


def _skill(rows: pd.DataFrame, model_rows: pd.DataFrame, baseline: str, keys: list[str]) -> float:
    """1 - MAE(model)/MAE(baseline) on log scale over the forecasts both made."""
    base = rows[rows["model"] == baseline][keys + ["median_log", "actual_log"]]
    both = model_rows.merge(base, on=keys, suffixes=("", "_base"))
    if both.empty:
        return np.nan
    mae_base = float(np.abs(both["median_log_base"] - both["actual_log"]).mean())
    mae = float(np.abs(both["median_log"] - both["actual_log"]).mean())
    return 1 - mae / mae_base if mae_base > 0 else np.nan


def _with_errors(rows: pd.DataFrame) -> pd.DataFrame:
    """Per-forecast errors, hits and interval scores as plain float columns (numpy, one pass)."""
    a = rows["actual_log"].to_numpy(dtype=float)
    m = rows["median_log"].to_numpy(dtype=float)
    lo80, hi80 = (
        rows["lower_80_log"].to_numpy(dtype=float),
        rows["upper_80_log"].to_numpy(dtype=float),
    )
    lo95, hi95 = (
        rows["lower_95_log"].to_numpy(dtype=float),
        rows["upper_95_log"].to_numpy(dtype=float),
    )
    scale = rows["mase_scale_log"].to_numpy(dtype=float)
    abs_err = np.abs(m - a)
    f_usd, a_usd = np.exp(m), np.exp(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(scale > 0, abs_err / scale, np.nan)
    return pd.DataFrame(
        {
            "series_id": (rows["tier"] + "/" + rows["region"] + "/" + rows["price_side"]).astype(
                object
            ),
            "tier": rows["tier"].astype(object),
            "region": rows["region"].astype(object),
            "price_side": rows["price_side"].astype(object),
            "model": rows["model"].astype(object),
            "horizon_months": rows["horizon_months"].to_numpy(dtype="int64"),
            "cutoff_month": rows["cutoff_month"].to_numpy(),
            "target_month": rows["target_month"].to_numpy(),
            "abs_err": abs_err,
            "scaled": scaled,
            "smape": 200 * np.abs(f_usd - a_usd) / (f_usd + a_usd),
            "in80": ((lo80 <= a) & (a <= hi80)).astype(float),
            "in95": ((lo95 <= a) & (a <= hi95)).astype(float),
            "is80": (hi80 - lo80)
            + 10 * np.clip(lo80 - a, 0, None)
            + 10 * np.clip(a - hi80, 0, None),
            "is95": (hi95 - lo95)
            + 40 * np.clip(lo95 - a, 0, None)
            + 40 * np.clip(a - hi95, 0, None),
            "warned": rows["fit_warned"].to_numpy(dtype=float)
            if "fit_warned" in rows
            else np.zeros(len(rows)),
            "calibrated": rows["calibrated"].to_numpy(dtype=float)
            if "calibrated" in rows
            else np.zeros(len(rows)),
        }
    )


def score_price_backtest(rows: pd.DataFrame, domain: str = "api_price") -> pd.DataFrame:
    """Scores by series, model and horizon, plus all series pooled (tier/region/side "all");
    skill is 1 - MAE/MAE(baseline) over the forecasts both made (same series, origin, target).
    ``domain`` names the family of series scored (``api_price`` for the vendor tiers,
    ``capability_price`` for the constant-capability index)."""
    if rows.empty:
        return typed_scores(pd.DataFrame([_empty_score(domain, "no forecast could be evaluated")]))
    err = _with_errors(rows)
    keys = ["series_id", "cutoff_month", "target_month"]
    for baseline, col in (
        (price_models.BASELINE_LAST, "base_last"),
        (price_models.BASELINE_DRIFT, "base_drift"),
    ):
        base = err.loc[err["model"] == baseline, keys + ["abs_err"]].rename(
            columns={"abs_err": col}
        )
        err = err.merge(base, on=keys, how="left")
        both = err[col].notna()
        err[f"{col}_model"] = np.where(both, err["abs_err"], np.nan)
    pooled = err.assign(tier="all", region="all", price_side="all")
    frames = []
    for frame in (err, pooled):
        g = frame.groupby(["tier", "region", "price_side", "model", "horizon_months"], sort=True)
        agg = g.agg(
            n_forecasts=("abs_err", "size"),
            n_forecasts_fit_warned=("warned", "sum"),
            mae_log=("abs_err", "mean"),
            mase_log=("scaled", "mean"),
            smape_pct=("smape", "mean"),
            coverage_80_pct=("in80", "mean"),
            coverage_95_pct=("in95", "mean"),
            interval_score_80_log=("is80", "mean"),
            interval_score_95_log=("is95", "mean"),
            n_cutoffs=("cutoff_month", "nunique"),
            n_forecasts_calibrated=("calibrated", "sum"),
            sum_last=("base_last", "sum"),
            sum_last_model=("base_last_model", "sum"),
            sum_drift=("base_drift", "sum"),
            sum_drift_model=("base_drift_model", "sum"),
        ).reset_index()
        frames.append(agg)
    out = pd.concat(frames, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["skill_vs_last_value"] = np.where(
            out["sum_last"] > 0, 1 - out["sum_last_model"] / out["sum_last"], np.nan
        )
        out["skill_vs_rw_drift"] = np.where(
            out["sum_drift"] > 0, 1 - out["sum_drift_model"] / out["sum_drift"], np.nan
        )
    out["coverage_80_pct"] *= 100
    out["coverage_95_pct"] *= 100
    out["domain"] = domain
    out["series"] = out["tier"] + "/" + out["region"] + "/" + out["price_side"]
    out["status"] = STATUS_OK
    out["reason"] = (
        "observed targets only; horizon "
        + out["horizon_months"]
        .map({3: "3 = leads 1-3", 6: "6 = leads 4-6", 12: "12 = leads 7-12"})
        .fillna(out["horizon_months"].astype(str))
        + " months"
    )
    return typed_scores(out)


def price_backtest(prices: pd.DataFrame, as_of: object) -> pd.DataFrame:
    """The vendor-tier price backtest of a vintage (``price_backtest_scores`` of the tier grids
    built from the price rows known at ``as_of``)."""
    return price_backtest_scores(price_models.tier_grids(prices, as_of))


#: Domain of the constant-capability index's backtest scores.
CAPABILITY_DOMAIN = "capability_price"


def capability_price_backtest(
    observations: pd.DataFrame, scores: pd.DataFrame, as_of: object
) -> pd.DataFrame:
    """The constant-capability index's level backtest: the same rolling-origin machinery and
    models as the vendor tiers, on each threshold and region's grid of the observations known
    at ``as_of`` (``price_index.capability_grids``)."""
    return price_backtest_scores(
        distinct_series(price_index.capability_grids(observations, scores, as_of)),
        domain=CAPABILITY_DOMAIN,
    )


def distinct_series(
    series: list[tuple[price_models.SeriesLabels, pd.DataFrame]],
) -> list[tuple[price_models.SeriesLabels, pd.DataFrame]]:
    """The series without a regional grid identical to an earlier one of the same threshold (the
    US grid is the world grid where the cheapest qualifying seller is always American): scored
    once, so the pooled scores and the conformal errors do not count the same forecasts twice."""
    kept: list[tuple[price_models.SeriesLabels, pd.DataFrame, pd.DataFrame]] = []
    for labels, grid in series:
        values = grid[["month", "price_usd_per_mtok"]].reset_index(drop=True)
        same = any(
            other[0] == labels[0] and other[2] == labels[2] and other_values.equals(values)
            for other, _, other_values in kept
        )
        if not same:
            kept.append((labels, grid, values))
    return [(labels, grid) for labels, grid, _ in kept]


def price_backtest_scores(
    series: Iterable[tuple[price_models.SeriesLabels, pd.DataFrame]], domain: str = "api_price"
) -> pd.DataFrame:
    """The price backtest scores of (labels, grid) series, each model beside its split-conformal
    variant; the pooled rows of a conformal variant carry the offsets a published forecast
    would use."""
    rows = with_conformal(price_backtest_rows(series))
    scores = score_price_backtest(rows, domain)
    if rows.empty:
        return scores
    calib = final_offsets(rows).assign(series="all/all/all")
    keys = ["series", "model", "horizon_months"]
    merged = scores.drop(columns=[*CALIB_COLUMNS.values(), "n_calibration_errors"]).merge(
        calib, on=keys, how="left"
    )
    conformal = merged["model"].str.endswith(CONFORMAL_SUFFIX)
    merged.loc[conformal, "reason"] = (
        merged.loc[conformal, "reason"]
        + "; bounds from the model's own earlier errors at every lead, scaled by the square root "
        "of the lead (normalised split conformal over rolling origins, targets on or before each "
        "origin), "
        + merged.loc[conformal, "n_forecasts_calibrated"].astype(str)
        + " of the forecasts calibrated, the rest keep the model's bounds"
    )
    return typed_scores(merged)


def select_published(scores: pd.DataFrame, domain: str = "api_price") -> tuple[str, str]:
    """The price model to publish and the verdict behind it. The median: a challenger (ETS, jump
    model) is chosen only if, on the forecasts both it and last value made (same series, origin
    and target), its MAE is no worse than last value's at every horizon and better on average;
    otherwise last value. The interval: the chosen model's own bounds or its split-conformal
    variant (``<model>+conformal``), whichever has the lower mean 80 % interval score over the
    horizons (then the 95 % one) on the same forecasts. The verdict says which won and by how
    much. ``domain`` picks the scores' family (see ``score_price_backtest``)."""
    pooled = scores[
        (scores["domain"] == domain)
        & (scores["series"] == "all/all/all")
        & (scores["status"] == STATUS_OK)
    ]
    if pooled.empty or price_models.BASELINE_LAST not in set(pooled["model"]):
        return (
            price_models.BASELINE_LAST,
            "no backtest could be scored: last value published without a verdict",
        )
    by = pooled.set_index(["model", "horizon_months"]).sort_index()
    models = set(by.index.get_level_values(0))

    def describe(model: str) -> str:
        rows = by.loc[model]
        cells = "; ".join(
            f"{h} m: MASE {r.mase_log:.2f}, skill vs last value {r.skill_vs_last_value:+.1%}, "
            f"80 %/95 % cover {r.coverage_80_pct:.0f}/{r.coverage_95_pct:.0f} %, "
            f"interval score 80 % {r.interval_score_80_log:.2f}, n={r.n_forecasts}"
            for h, r in rows.iterrows()
        )
        return f"{model} ({cells})"

    candidates = [m for m in (price_models.MODEL_ETS, price_models.MODEL_JUMP) if m in models]
    skill = {m: by.loc[m, "skill_vs_last_value"] for m in candidates}
    winners = [m for m in candidates if bool((skill[m] >= 0).all()) and float(skill[m].mean()) > 0]
    if winners:
        best = max(winners, key=lambda m: float(skill[m].mean()))
        point = (
            f"median: {best} wins, MAE {float(skill[best].mean()):.1%} below last value on "
            f"average over 3/6/12 months"
        )
    else:
        best = price_models.BASELINE_LAST
        others = "; ".join(describe(m) for m in candidates) or "no challenger could be scored"
        point = (
            "median: nothing beats last value at every horizon, so last value is published "
            f"(challengers {others})"
        )
    conformal = best + CONFORMAL_SUFFIX
    chosen = best
    if conformal in models:
        own, cal = by.loc[best], by.loc[conformal]
        key = ["interval_score_80_log", "interval_score_95_log"]
        own_is, cal_is = own[key].mean(), cal[key].mean()
        if tuple(cal_is) < tuple(own_is):
            chosen = conformal
        gain = 1 - cal_is.iloc[0] / own_is.iloc[0] if own_is.iloc[0] > 0 else np.nan
        interval = (
            f"interval: {'split-conformal bounds' if chosen == conformal else 'the model bounds of its own'}"
            f" (mean 80 % interval score {cal_is.iloc[0]:.2f} conformal vs "
            f"{own_is.iloc[0]:.2f} own, {gain:+.1%} for conformal)"
        )
    else:
        interval = "interval: the model's own bounds (no conformal variant scored)"
    return chosen, (
        f"{chosen} published; {point}; {interval}; {calibration_statement(by.loc[chosen])}; "
        f"published {describe(chosen)}"
        + (
            ""
            if chosen == price_models.BASELINE_LAST
            else f"; baseline {describe(price_models.BASELINE_LAST)}"
        )
    )


#: The band a calibrated 80 % interval's backtest coverage should fall in (percent).
CALIBRATED_80_BAND_PCT = (70.0, 90.0)


def calibration_statement(rows: pd.DataFrame) -> str:
    """One clause on whether a model's 80 % intervals are calibrated: its backtest coverage per
    horizon against the 70-90 % band, naming the horizons outside it."""
    low, high = CALIBRATED_80_BAND_PCT
    cells = ", ".join(f"{c:.0f} %" for c in rows["coverage_80_pct"])
    horizons = "/".join(str(h) for h in rows.index)
    outside = [
        f"{h} months ({'too wide' if c > high else 'too narrow'})"
        for h, c in rows["coverage_80_pct"].items()
        if not low <= c <= high
    ]
    verdict = f"outside it at {', '.join(outside)}" if outside else "calibrated at every horizon"
    return (
        f"calibration: its 80 % intervals covered {cells} of observed prices at {horizons} "
        f"months (nominal 80 %, band {low:.0f}-{high:.0f} %): {verdict}"
    )


def published_calibration(scores: pd.DataFrame, model: str) -> dict[str, float]:
    """Bound offsets per sqrt-month of lead (bound - median, log) of a conformal model from the
    pooled backtest rows; empty for a model that is not a conformal variant or has none."""
    if not model.endswith(CONFORMAL_SUFFIX):
        return {}
    rows = scores[(scores["series"] == "all/all/all") & (scores["model"] == model)]
    for _, r in rows.iterrows():
        off = {k: float(r[c]) for k, c in CALIB_COLUMNS.items()}
        if all(np.isfinite(v) for v in off.values()):
            return off
    return {}


def survival_predictions_at(
    startups: pd.DataFrame,
    cutoff: object,
    horizons_months: tuple[int, ...],
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """For each company independent at ``cutoff`` (data re-censored there): P(still independent
    ``h`` months later) from Kaplan-Meier, a constant-hazard baseline and persistence."""
    lt = survival_models.lifetimes(startups, cutoff, events)
    cut = to_timestamp(cutoff)
    reason = refusal_reason(len(lt), 1, "companies") or (
        None if lt["event"].sum() else "no exit observed"
    )
    if reason is not None:
        return pd.DataFrame({"cutoff": [cut], "status": [STATUS_REFUSED], "reason": [reason]})
    times, surv, _ = survival_models.km_survival(lt["age_years"].to_numpy(), lt["event"].to_numpy())
    hazard = lt["event"].sum() / lt["age_years"].sum()
    active = lt[lt["event"] == 0]
    with quiet_fit():
        calendar = hazard_models.fit_calendar_hazard(lt)
    rows = []
    for h in horizons_months:
        target = cut + pd.DateOffset(months=h)
        age_then = (target - active["founded"]).dt.days.to_numpy() / survival_models.DAYS_PER_YEAR
        p_km = survival_models.conditional_survival(
            times, surv, active["age_years"].to_numpy(), age_then
        )
        p_exp = np.exp(-hazard * (age_then - active["age_years"].to_numpy()))
        models = [
            ("kaplan_meier", p_km),
            ("baseline_constant_hazard", p_exp),
            ("baseline_persistence", np.ones(len(active))),
        ]
        if calendar["status"] == STATUS_OK:
            p_cal = hazard_models.survival_between(
                calendar["params"], active["founded"], cut, target
            )
            models.append((survival_models.MODEL_CALENDAR, p_cal))
        for model, p in models:
            rows.append(
                pd.DataFrame(
                    {
                        "cutoff": cut,
                        "horizon_months": h,
                        "target_date": target,
                        "company_id": active["company_id"].to_numpy(),
                        "model": model,
                        "p_independent": p,
                        "status": STATUS_OK,
                        "reason": "",
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def _outcomes(startups: pd.DataFrame, as_of: object, events: pd.DataFrame | None) -> pd.DataFrame:
    """What the data at ``as_of`` says of each company: exit date (NaT if none) and the last date
    it is known independent."""
    lt = survival_models.lifetimes(startups, as_of, events)
    return pd.DataFrame(
        {
            "company_id": lt["company_id"],
            "exit_date": lt["end_date"].where(lt["event"] == 1),
            "known_independent_until": lt["end_date"].where(lt["event"] == 0),
        }
    )


def survival_backtest(
    startups: pd.DataFrame,
    as_of: object,
    events: pd.DataFrame | None = None,
    horizons_months: tuple[int, ...] = SURVIVAL_HORIZONS,
    step_months: int = SURVIVAL_STEP_MONTHS,
) -> pd.DataFrame:
    """Brier score, exit-count interval coverage and skill of the survival forecasts made at
    half-yearly cutoffs, scored where the data at ``as_of`` tells the outcome."""
    end = to_timestamp(as_of)
    lt_all = survival_models.lifetimes(startups, end, events)
    if lt_all.empty:
        return typed_scores(
            pd.DataFrame([_empty_score("startup_survival", "no company in the data")])
        )
    first = lt_all["founded"].min() + pd.DateOffset(months=step_months)
    cutoffs = pd.date_range(
        first, end - pd.DateOffset(months=min(horizons_months)), freq=f"{step_months}MS"
    )
    outcome = _outcomes(startups, end, events).set_index("company_id")
    preds = []
    for c in cutoffs:
        p = survival_predictions_at(startups, c, horizons_months, events)
        if (p["status"] == STATUS_OK).all():
            preds.append(p)
    if not preds:
        return typed_scores(
            pd.DataFrame(
                [_empty_score("startup_survival", "no cutoff had enough companies and exits")]
            )
        )
    df = pd.concat(preds, ignore_index=True)
    df = df[df["target_date"] <= end].copy()
    ex = outcome.reindex(df["company_id"])
    exited = ex["exit_date"].notna().to_numpy() & (
        ex["exit_date"].to_numpy() <= df["target_date"].to_numpy()
    )
    alive = ex["known_independent_until"].notna().to_numpy() & (
        ex["known_independent_until"].to_numpy() >= df["target_date"].to_numpy()
    )
    alive |= ex["exit_date"].notna().to_numpy() & (
        ex["exit_date"].to_numpy() > df["target_date"].to_numpy()
    )
    df["independent"] = np.where(exited, 0.0, np.where(alive, 1.0, np.nan))
    df["ipcw"] = _ipcw_weights(df, outcome)
    scored = df[df["independent"].notna()]
    out = []
    for (model, h), every in df.groupby(["model", "horizon_months"], sort=True):
        grp = scored[(scored["model"] == model) & (scored["horizon_months"] == h)]
        brier = float(((grp["p_independent"] - grp["independent"]) ** 2).mean())
        brier_ipcw = _ipcw_brier(every)
        persist_all = df[(df["model"] == "baseline_persistence") & (df["horizon_months"] == h)]
        brier_ipcw_p = _ipcw_brier(persist_all)
        cov80, cov95 = _exit_count_coverage(grp)
        out.append(
            {
                "domain": "startup_survival",
                "series": "all",
                "model": model,
                "horizon_months": int(h),
                "n_forecasts": len(every),
                "n_cutoffs": int(every["cutoff"].nunique()),
                "brier": brier_ipcw,
                "brier_complete_cases": brier,
                "n_forecasts_censored": int(every["independent"].isna().sum()),
                "mae_log": np.nan,
                "coverage_80_pct": cov80,
                "coverage_95_pct": cov95,
                "skill_vs_last_value": 1 - brier_ipcw / brier_ipcw_p
                if brier_ipcw_p > 0
                else np.nan,
                "expected_exits": float((1 - every["p_independent"]).sum()),
                "observed_exits": float((1 - grp["independent"]).sum()),
                "status": STATUS_OK,
                "reason": "brier is IPCW (censored forecasts reweighted by the Kaplan-Meier "
                "censoring curve from each cutoff); brier_complete_cases drops them; skill is "
                "1 - Brier/Brier(persistence), both IPCW; observed_exits counts exits seen, a "
                "floor when companies are censored",
            }
        )
    return typed_scores(pd.DataFrame(out))


def _ipcw_weights(df: pd.DataFrame, outcome: pd.DataFrame) -> np.ndarray:
    """Inverse-probability-of-censoring weights (Graf et al. 1999) of each forecast: 1/G(T_i-)
    for a company that exited by the target (T_i = its exit), 1/G(target) for one known
    independent then, 0 for one censored before the target; G is the Kaplan-Meier curve of
    censoring over the time since the cutoff, among the companies forecast at that cutoff."""
    weights = np.zeros(len(df))
    ex = outcome.reindex(df["company_id"])
    end = ex["exit_date"].fillna(ex["known_independent_until"]).to_numpy()
    exited_ever = ex["exit_date"].notna().to_numpy()
    for cutoff in df["cutoff"].unique():
        at = np.flatnonzero(df["cutoff"].to_numpy() == cutoff)
        companies, first = np.unique(df["company_id"].to_numpy()[at], return_index=True)
        idx = at[first]
        follow = (pd.to_datetime(end[idx]) - pd.Timestamp(cutoff)).days.to_numpy() / 365.25
        follow = np.maximum(follow, 0.0)
        censored = (~exited_ever[idx]).astype(int)
        if censored.sum():
            g_t, g_s, _ = survival_models.km_survival(follow, censored)
        else:
            g_t, g_s = np.array([]), np.array([])
        rows = df.iloc[at]
        horizon = (rows["target_date"] - pd.Timestamp(cutoff)).dt.days.to_numpy() / 365.25
        f_row = (pd.to_datetime(end[at]) - pd.Timestamp(cutoff)).days.to_numpy() / 365.25
        y = rows["independent"].to_numpy()
        g_target = survival_models.step_at(g_t, g_s, horizon - 1e-9, 1.0)
        g_exit = survival_models.step_at(g_t, g_s, np.maximum(f_row, 0.0) - 1e-9, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(y == 0, 1 / g_exit, np.where(y == 1, 1 / g_target, 0.0))
        weights[at] = np.where(np.isfinite(w), w, 0.0)
    return weights


def _ipcw_brier(rows: pd.DataFrame) -> float:
    """IPCW Brier score: weighted squared errors of the known outcomes over all forecasts."""
    if rows.empty:
        return np.nan
    y = rows["independent"].fillna(0.0).to_numpy()
    err = (rows["p_independent"].to_numpy() - y) ** 2
    return float(np.sum(rows["ipcw"].to_numpy() * err) / len(rows))


def _exit_count_coverage(grp: pd.DataFrame) -> tuple[float, float]:
    """Share of cutoffs whose observed exit count lies in the 80 %/95 % Poisson-binomial interval
    implied by the predicted probabilities (equal-tailed); NaN without any cutoff to score."""
    if grp.empty:
        return np.nan, np.nan
    hits80, hits95 = [], []
    for _, g in grp.groupby("cutoff"):
        pmf = survival_models.poisson_binomial(1 - g["p_independent"].to_numpy())
        cdf = np.cumsum(pmf)
        observed = int((1 - g["independent"]).sum())

        def interval(level, cdf=cdf):
            lo = int(np.searchsorted(cdf, (1 - level) / 2 - 1e-12))
            hi = int(np.searchsorted(cdf, 1 - (1 - level) / 2 - 1e-12))
            return lo, hi

        lo80, hi80 = interval(0.8)
        lo95, hi95 = interval(0.95)
        hits80.append(lo80 <= observed <= hi80)
        hits95.append(lo95 <= observed <= hi95)
    return float(100 * np.mean(hits80)), float(100 * np.mean(hits95))


def share_backtest(
    share: pd.DataFrame, as_of: object, observed: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Year-end cutoffs: models fitted on the actual figures published by then (figures of
    unknown publication date left out; observed years by their ``published`` date), scored on
    actual figures for later periods."""
    end = to_timestamp(as_of)

    def dated(df: pd.DataFrame | None) -> pd.DataFrame | None:
        if df is None or "published" not in df.columns:
            return None if df is None else df.iloc[0:0]
        return df[df["published"].notna()]

    known_pub, observed_pub = dated(share), dated(observed)
    points_all = share_models.all_points(share, observed)
    actuals = points_all[points_all["kind_of_figure"] == "actual"]
    rows = []
    for year in range(share_models.FIRST_YEAR - 3, end.year):
        cutoff = pd.Timestamp(f"{year}-12-31")
        train = known_as_of(known_pub, cutoff, None)
        train_obs = known_as_of(observed_pub, cutoff, None) if observed_pub is not None else None
        pts = share_models.all_points(train, train_obs)
        pts = pts[(pts["kind_of_figure"] == "actual") & (pts["t_year"] < year + 1)]
        targets = actuals[actuals["t_year"] > year + 1]
        if targets.empty:
            continue
        years = np.floor(targets["t_year"].to_numpy()).astype(int)
        for model in (*share_models.SHARE_MODELS, "baseline_last_value", "baseline_rw_drift"):
            fit = _share_fit_at(pts, model, years)
            if fit is None:
                continue
            for i, (_, tgt) in enumerate(targets.iterrows()):
                rows.append(
                    {
                        "model": model,
                        "cutoff_year": year,
                        "horizon_months": int(round(12 * (tgt["t_year"] - (year + 1)))),
                        "actual_log": logit(
                            np.clip(
                                tgt["share_used_pct"] / 100,
                                share_models.CLIP,
                                1 - share_models.CLIP,
                            )
                        ),
                        "mase_scale_log": np.nan,
                        **{k: float(v[i]) for k, v in fit.items()},
                    }
                )
    if not rows:
        return typed_scores(
            pd.DataFrame(
                [_empty_score("china_domestic_share", _share_too_few(share, observed, end))]
            )
        )
    df = pd.DataFrame(rows)
    out = []
    for (model, h), grp in df.groupby(["model", "horizon_months"], sort=True):
        scores = _interval_scores(grp)
        # sMAPE on the share in percent (the logit values stand in for log prices above)
        f, a = 100 * expit(grp["median_log"]), 100 * expit(grp["actual_log"])
        scores["smape_pct"] = float((200 * np.abs(f - a) / (f + a)).mean())
        out.append(
            {
                "domain": "china_domestic_share",
                "series": "actual figures",
                "model": model,
                "horizon_months": int(h),
                **scores,
                "n_cutoffs": int(grp["cutoff_year"].nunique()),
                "status": STATUS_OK,
                "reason": "errors on the logit scale",
            }
        )
    return typed_scores(pd.DataFrame(out))


def _share_too_few(share: pd.DataFrame, observed: pd.DataFrame | None, end: pd.Timestamp) -> str:
    """Why the share backtest scored nothing, in plain words with the counts behind it."""
    pts = share_models.all_points(share, observed)
    actual = pts[pts["kind_of_figure"] == "actual"]
    pub = pd.concat(
        [
            df[["published"]].assign(kind=df.get("kind_of_figure", "actual"))
            for df in (share, observed)
            if df is not None and "published" in df.columns
        ],
        ignore_index=True,
    )
    pub = pub[pub["kind"] == "actual"]
    dates = pd.to_datetime(pub["published"].astype(str), format="mixed", errors="coerce").dropna()
    dated = (
        f"{len(dates)} with a publication date (first {dates.min():%Y-%m-%d})"
        if len(dates)
        else "none with a publication date"
    )
    return (
        f"too few points to judge: {len(actual)} actual share figures, {dated}; no year-end "
        f"cutoff before {end:%Y-%m-%d} had a model's minimum of figures published by then and an "
        "actual figure for a later year, so no share forecast could be scored (analyst "
        "forecasts are never targets)"
    )


def _share_fit_at(pts: pd.DataFrame, model: str, years: np.ndarray) -> dict | None:
    """Logit-scale bounds for ``years`` from one model or baseline, None when it refuses."""
    if model.startswith("baseline"):
        if refusal_reason(len(pts), 2 if model.endswith("drift") else 1) is not None:
            return None
        y = logit(
            np.clip(
                pts["share_used_pct"].to_numpy() / 100, share_models.CLIP, 1 - share_models.CLIP
            )
        )
        t = pts["t_year"].to_numpy()
        ahead = years + 0.5 - t[-1]
        steps = np.diff(y) / np.maximum(np.diff(t), 1e-9)
        drift = (
            float((y[-1] - y[0]) / (t[-1] - t[0]))
            if model.endswith("drift") and t[-1] > t[0]
            else 0.0
        )
        sigma = float(np.std(steps, ddof=1)) if len(steps) > 1 else 0.0
        mean = y[-1] + drift * ahead
        sd = sigma * np.sqrt(np.maximum(ahead, 0))
        return price_models._quantiles(mean, sd)
    fit = share_models.fit_share(pts, model, years)
    if fit["status"] != STATUS_OK:
        return None
    q = fit["quantile"]
    to_logit = {  # the models give share-scale quantiles; compare on the logit scale
        "median_log": 0.5,
        "lower_80_log": 0.1,
        "upper_80_log": 0.9,
        "lower_95_log": 0.025,
        "upper_95_log": 0.975,
    }
    return {
        k: logit(np.clip(q(p), share_models.CLIP, 1 - share_models.CLIP))
        for k, p in to_logit.items()
    }


def coverage_shortfalls(scores: pd.DataFrame) -> pd.DataFrame:
    """Models (pooled over series, all horizons) whose 80 % or 95 % coverage is more than 15
    points below nominal, among those with enough evaluated forecasts."""
    ok = scores[(scores["status"] == STATUS_OK) & scores["n_forecasts"].gt(0)]
    ok = ok[ok["series"].isin(["all/all/all", "all", "actual figures"])]
    if ok.empty:
        return pd.DataFrame(
            columns=["domain", "model", "n_forecasts", "coverage_80_pct", "coverage_95_pct"]
        )
    agg = (
        ok.assign(
            c80=ok["coverage_80_pct"] * ok["n_forecasts"],
            c95=ok["coverage_95_pct"] * ok["n_forecasts"],
        )
        .groupby(["domain", "model"], sort=True)[["n_forecasts", "c80", "c95"]]
        .sum()
        .reset_index()
    )
    agg["coverage_80_pct"] = agg["c80"] / agg["n_forecasts"]
    agg["coverage_95_pct"] = agg["c95"] / agg["n_forecasts"]
    agg = agg[agg["n_forecasts"] >= MIN_FORECASTS_FOR_CHECK]
    bad = (agg["coverage_80_pct"] < 80 - COVERAGE_TOLERANCE_PTS) | (
        agg["coverage_95_pct"] < 95 - COVERAGE_TOLERANCE_PTS
    )
    return agg.loc[
        bad, ["domain", "model", "n_forecasts", "coverage_80_pct", "coverage_95_pct"]
    ].reset_index(drop=True)


def _empty_score(domain: str, reason: str) -> dict:
    return {
        "domain": domain,
        "series": "",
        "model": "",
        "horizon_months": 0,
        "n_forecasts": 0,
        "status": STATUS_REFUSED,
        "reason": reason,
    }


SCORE_COLUMNS = {
    "domain": "string",
    "series": "string",
    "model": "string",
    "horizon_months": "int64",
    "n_forecasts": "int64",
    "n_cutoffs": "int64",
    "n_forecasts_fit_warned": "int64",
    "mase_log": "float64",
    "mae_log": "float64",
    "smape_pct": "float64",
    "brier": "float64",
    "brier_complete_cases": "float64",
    "n_forecasts_censored": "int64",
    "interval_score_80_log": "float64",
    "interval_score_95_log": "float64",
    "coverage_80_pct": "float64",
    "coverage_95_pct": "float64",
    "skill_vs_last_value": "float64",
    "skill_vs_rw_drift": "float64",
    "expected_exits": "float64",
    "observed_exits": "float64",
    "n_forecasts_calibrated": "int64",
    "n_calibration_errors": "int64",
    **dict.fromkeys(CALIB_COLUMNS.values(), "float64"),
    "status": "string",
    "reason": "string",
}


def typed_scores(df: pd.DataFrame) -> pd.DataFrame:
    """Backtest scores with fixed columns and dtypes."""
    out = {}
    for name, dtype in SCORE_COLUMNS.items():
        col = df[name] if name in df.columns else pd.Series([None] * len(df), dtype="object")
        if dtype == "string":
            out[name] = col.fillna("").astype("string")
        elif dtype == "int64":
            out[name] = pd.to_numeric(col).fillna(0).astype(dtype)
        else:
            out[name] = pd.to_numeric(col).astype(dtype)
    return pd.DataFrame(out).reset_index(drop=True)
