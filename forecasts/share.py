"""China's domestic share of its AI-accelerator market from actual figures only: a logistic
growth curve (linear on the logit scale, t predictive intervals back-transformed) and a
fractional-logit GLM challenger; analyst forecasts are shown beside them as a labelled scenario,
never fitted. Extra observed years (``domestic_share_observed``) join the actual figures."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit, logit
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.regression.linear_model import OLS

from forecasts.common import (
    MIN_EXTRA_POINTS,
    STATUS_FAILED,
    STATUS_OK,
    STATUS_REFUSED,
    quiet_fit,
    refusal_reason,
)

FIRST_YEAR = 2023
LAST_YEAR = 2030
#: The article's claim: domestic share "30-40 % by 2028".
CLAIM_YEAR = 2028
CLAIM_LOW_PCT = 30.0
CLAIM_HIGH_PCT = 40.0

MODEL_LOGIT_ACTUALS = "logit_ols_actuals_only"
MODEL_GLM = "glm_fractional_logit"
#: Rows showing an analyst's forecast figure as a scenario (never fitted).
SCENARIO = "analyst_scenario"
#: The models, default first; both see actual figures only.
SHARE_MODELS = (MODEL_LOGIT_ACTUALS, MODEL_GLM)
#: Parameters (two coefficients plus the residual variance or dispersion) of each model.
N_PARAMS = {MODEL_LOGIT_ACTUALS: 3, MODEL_GLM: 3}
#: Points a share model needs beyond its parameters: none, because the residual variance takes
#: the one degree of freedom left by 3 points and the t predictive with that one degree of
#: freedom carries the uncertainty (the intervals are wide, and say so).
SHARE_MIN_EXTRA = 0
#: Shares are clipped into [0.5 %, 99.5 %] before the logit so a 0 % or 100 % figure stays finite.
CLIP = 0.005
_PERIOD = re.compile(r"^\s*(\d{4})\s*(?:([HQ])([1-4]))?\s*$")


def period_mid_year(period: str) -> float:
    """The middle of a period as a decimal year: "2025" -> 2025.5, "2023H1" -> 2023.25,
    "2024Q3" -> 2024.625."""
    m = _PERIOD.match(str(period))
    if m is None:
        raise ValueError(f"china_chip_share.period '{period}' is not YYYY, YYYYH1-2 or YYYYQ1-4")
    year = int(m.group(1))
    if m.group(2) is None:
        return year + 0.5
    if m.group(2) == "H":
        if int(m.group(3)) > 2:
            raise ValueError(f"china_chip_share.period '{period}': a half is H1 or H2")
        return year + (int(m.group(3)) - 0.5) / 2
    return year + (int(m.group(3)) - 0.5) / 4


def share_points(share: pd.DataFrame) -> pd.DataFrame:
    """The rows that state a domestic share, with the share used (the midpoint where the source
    gives a range), its decimal year and indicators of basis and kind of figure."""
    for needed in (
        "share_id",
        "period",
        "kind_of_figure",
        "basis",
        "domestic_share_pct",
        "source_org",
    ):
        if needed not in share.columns:
            raise ValueError(f"china_chip_share is missing column '{needed}'")
    df = share[pd.to_numeric(share["domestic_share_pct"], errors="coerce").notna()].copy()
    low = pd.to_numeric(df["domestic_share_pct"], errors="coerce")
    high = (
        pd.to_numeric(df.get("domestic_share_pct_high"), errors="coerce")
        if "domestic_share_pct_high" in df
        else low
    )
    bad = df.loc[(low < 0) | (low > 100), "share_id"].tolist()
    if bad:
        raise ValueError(f"china_chip_share.domestic_share_pct outside 0-100 in rows {bad}")
    used = np.where(high.notna(), (low + high) / 2, low)
    out = pd.DataFrame(
        {
            "share_id": df["share_id"].astype("string"),
            "period": df["period"].astype("string"),
            "t_year": [period_mid_year(p) for p in df["period"]],
            "kind_of_figure": df["kind_of_figure"].astype("string"),
            "basis": df["basis"].astype("string"),
            "source_org": df["source_org"].astype("string"),
            "share_used_pct": used.astype(float),
            "range_midpoint": high.notna().to_numpy(),
        }
    )
    return out.sort_values(["t_year", "share_id"], kind="mergesort").reset_index(drop=True)


def _design(points: pd.DataFrame, model: str) -> np.ndarray:
    t = points["t_year"].to_numpy(dtype=float) - 2025.0
    return np.column_stack([np.ones_like(t), t])


def _future_design(years: np.ndarray, model: str) -> np.ndarray:
    t = years + 0.5 - 2025.0
    return np.column_stack([np.ones_like(t), t])


def _subset(points: pd.DataFrame, model: str) -> pd.DataFrame:
    """The figures a model is fitted on: actual figures only (forecasts are never data)."""
    return points[points["kind_of_figure"] == "actual"]


def observed_points(observed: pd.DataFrame | None) -> pd.DataFrame:
    """Rows of a ``domestic_share_observed`` table (one per year: ``year``,
    ``domestic_share_pct`` and optional ``_low``/``_high`` bounds, ``basis``, ``source``) as
    actual share points at mid-year."""
    columns = [
        "share_id",
        "period",
        "t_year",
        "kind_of_figure",
        "basis",
        "source_org",
        "share_used_pct",
        "range_midpoint",
    ]
    if observed is None or observed.empty:
        return pd.DataFrame(columns=columns)
    for needed in ("year", "domestic_share_pct"):
        if needed not in observed.columns:
            raise ValueError(f"domestic_share_observed is missing column '{needed}'")
    df = observed[pd.to_numeric(observed["domestic_share_pct"], errors="coerce").notna()]
    value = pd.to_numeric(df["domestic_share_pct"], errors="coerce").astype(float)
    bad = df.loc[(value < 0) | (value > 100), "year"].tolist()
    if bad:
        raise ValueError(f"domestic_share_observed.domestic_share_pct outside 0-100 in years {bad}")
    year = pd.to_numeric(df["year"], errors="coerce").astype(int)
    return pd.DataFrame(
        {
            "share_id": ("observed:" + year.astype(str)).astype("string"),
            "period": year.astype(str).astype("string"),
            "t_year": (year + 0.5).astype(float),
            "kind_of_figure": pd.Series("actual", index=df.index, dtype="string"),
            "basis": df.get("basis", pd.Series("units", index=df.index)).astype("string"),
            "source_org": df.get("source", pd.Series("", index=df.index)).astype("string"),
            "share_used_pct": value,
            "range_midpoint": False,
        }
    )[columns]


def all_points(share: pd.DataFrame, observed: pd.DataFrame | None = None) -> pd.DataFrame:
    """The share figures of ``china_chip_share`` plus the observed years, sorted by time."""
    extra = observed_points(observed)
    points = share_points(share)
    if len(extra):
        points = pd.concat([points, extra.astype(points.dtypes.to_dict())], ignore_index=True)
    return points.sort_values(["t_year", "share_id"], kind="mergesort").reset_index(drop=True)


def fit_share(points: pd.DataFrame, model: str, years: np.ndarray) -> dict:
    """One model's predictive quantile and interval-probability functions over ``years`` (or a
    refusal/failure with its reason); warnings captured into the result."""
    sub = _subset(points, model)
    out: dict = {
        "model": model,
        "n_points": len(sub),
        "status": STATUS_OK,
        "reason": "",
        "fit_warnings": "",
    }
    reason = refusal_reason(
        len(sub), N_PARAMS[model], "actual share figures", extra=SHARE_MIN_EXTRA
    )
    if reason is None and sub["t_year"].nunique() < 2:
        reason = "the actual figures all speak of one period: no trend can be fitted"
    if reason is not None:
        out.update(status=STATUS_REFUSED, reason=reason)
        return out
    y = np.clip(sub["share_used_pct"].to_numpy() / 100.0, CLIP, 1 - CLIP)
    x = _design(sub, model)
    xf = _future_design(years.astype(float), model)
    with quiet_fit() as log:
        try:
            if model == MODEL_GLM:
                res = GLM(y, x, family=families.Binomial()).fit(scale="X2", cov_type="HC1")
                eta = xf @ res.params
                var_eta = np.einsum("ij,jk,ik->i", xf, res.cov_params(), xf)
                mu = expit(eta)
                # predictive spread on the share scale: the mean's uncertainty (delta method)
                # plus the quasi-binomial dispersion phi * mu(1-mu), normal and clipped to 0-1
                sd = np.sqrt((mu * (1 - mu)) ** 2 * var_eta + float(res.scale) * mu * (1 - mu))
                # t with the residual degrees of freedom: with 3 figures, 1 degree of freedom
                tdist = stats.t(float(res.df_resid))
                out["quantile"] = lambda p, mu=mu, sd=sd, d=tdist: np.clip(mu + d.ppf(p) * sd, 0, 1)
                out["prob_between"] = lambda lo, hi, mu=mu, sd=sd, d=tdist: (
                    d.cdf((hi - mu) / sd) - d.cdf((lo - mu) / sd)
                )
            else:
                res = OLS(logit(y), x).fit()
                pred = res.get_prediction(xf)
                eta = np.asarray(pred.predicted_mean)
                sd = np.sqrt(np.asarray(pred.se_mean) ** 2 + res.scale)
                dist = stats.t(float(res.df_resid))
                out["quantile"] = lambda p, eta=eta, sd=sd, dist=dist: expit(eta + dist.ppf(p) * sd)
                out["prob_between"] = lambda lo, hi, eta=eta, sd=sd, dist=dist: (
                    dist.cdf((logit(hi) - eta) / sd) - dist.cdf((logit(lo) - eta) / sd)
                )
            slope = float(res.params[1])
        except (ValueError, np.linalg.LinAlgError) as exc:
            out.update(status=STATUS_FAILED, reason=f"{type(exc).__name__}: {exc}")
            return out
    out["fit_warnings"] = log.text()
    if not (np.all(np.isfinite(eta)) and np.all(np.isfinite(sd))):
        out.update(status=STATUS_FAILED, reason="non-finite prediction")
        return out
    out["slope_logit_per_year"] = slope
    out["reason"] = guard_widening(len(sub), N_PARAMS[model], float(res.df_resid))
    return out


def guard_widening(n_points: int, n_params: int, df_resid: float) -> str:
    """What relaxing the fit guard costs: when the default guard (parameters + 4 points) would
    refuse, how much wider the t predictive multiplier is with the residual degrees of freedom
    these points leave than with those of the fewest points the default guard allows (same
    model, ``need - n_points`` more degrees of freedom), and than the normal one; empty when
    the default guard would fit anyway."""
    need = n_params + MIN_EXTRA_POINTS
    if n_points >= need:
        return ""
    df_guard = df_resid + (need - n_points)
    cells = []
    for level, p in (("80 %", 0.9), ("95 %", 0.975)):
        t_now, t_guard = stats.t.ppf(p, df_resid), stats.t.ppf(p, df_guard)
        z = stats.norm.ppf(p)
        cells.append(
            f"{level} multiplier t({df_resid:g} df) = {t_now:.2f}, {t_now / t_guard - 1:+.0%} "
            f"vs t({df_guard:g} df) = {t_guard:.2f} at {need} points, {t_now / z - 1:+.0%} vs "
            f"normal {z:.2f}"
        )
    return (
        f"fit guard relaxed: {n_points} actual figures < {need} the default guard needs "
        f"({n_params} parameters + {MIN_EXTRA_POINTS}); the interval pays for it on the logit "
        "scale: " + "; ".join(cells)
    )


def share_table(share: pd.DataFrame, observed: pd.DataFrame | None = None) -> pd.DataFrame:
    """The source figures (model "source_figure"), the analyst forecasts again as labelled
    scenario rows, then each model's share forecast (actual figures and observed years only)
    for every year from 2023 to 2030: median, 80 %/95 % bounds in percent and the probability
    that the share lies in 30-40 %."""
    points = all_points(share, observed)
    rows = []
    for p in points.to_dict("records"):
        figure = {
            "year": int(np.floor(p["t_year"])),
            "t_year": p["t_year"],
            "median_share_pct": p["share_used_pct"],
            "share_id": p["share_id"],
            "source_org": p["source_org"],
            "basis": p["basis"],
            "kind_of_figure": p["kind_of_figure"],
            "n_points": len(points),
            "status": STATUS_OK,
        }
        rows.append(
            figure
            | {
                "model": "source_figure",
                "reason": "midpoint of the source's range" if p["range_midpoint"] else "",
            }
        )
        if p["kind_of_figure"] == "forecast":
            rows.append(
                figure
                | {
                    "model": SCENARIO,
                    "reason": f"{p['source_org']}'s forecast: a scenario shown beside the "
                    "models, never fitted as data",
                }
            )
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    for model in SHARE_MODELS:
        fit = fit_share(points, model, years)
        basis, kind = _series_label(model)
        base = {
            "model": model,
            "basis": basis,
            "kind_of_figure": kind,
            "n_points": fit["n_points"],
            "status": fit["status"],
            "reason": fit["reason"],
            "fit_warnings": fit["fit_warnings"],
        }
        if fit["status"] != STATUS_OK:
            rows.append(base)
            continue
        q = fit["quantile"]
        bounds = {p: q(p) for p in (0.5, 0.1, 0.9, 0.025, 0.975)}
        prob = fit["prob_between"](CLAIM_LOW_PCT / 100, CLAIM_HIGH_PCT / 100)
        for i, year in enumerate(years):
            rows.append(
                base
                | {
                    "year": int(year),
                    "t_year": year + 0.5,
                    "median_share_pct": 100 * bounds[0.5][i],
                    "lower_80_share_pct": 100 * bounds[0.1][i],
                    "upper_80_share_pct": 100 * bounds[0.9][i],
                    "lower_95_share_pct": 100 * bounds[0.025][i],
                    "upper_95_share_pct": 100 * bounds[0.975][i],
                    "prob_share_in_30_40_pct": float(prob[i]),
                    "slope_logit_per_year": fit["slope_logit_per_year"],
                }
            )
    return typed_share(pd.DataFrame(rows))


def _series_label(model: str) -> tuple[str, str]:
    """Which figures a model speaks for (basis, kind of figure)."""
    return {
        MODEL_GLM: ("units+revenue", "actual"),
        MODEL_LOGIT_ACTUALS: ("units+revenue", "actual"),
    }[model]


SHARE_COLUMNS = {
    "model": "string",
    "basis": "string",
    "kind_of_figure": "string",
    "year": "Int64",
    "t_year": "float64",
    "median_share_pct": "float64",
    "lower_80_share_pct": "float64",
    "upper_80_share_pct": "float64",
    "lower_95_share_pct": "float64",
    "upper_95_share_pct": "float64",
    "prob_share_in_30_40_pct": "float64",
    "slope_logit_per_year": "float64",
    "share_id": "string",
    "source_org": "string",
    "n_points": "int64",
    "status": "string",
    "reason": "string",
    "fit_warnings": "string",
}


def typed_share(df: pd.DataFrame) -> pd.DataFrame:
    """The share rows with fixed columns and dtypes."""
    out = {}
    for name, dtype in SHARE_COLUMNS.items():
        col = df[name] if name in df.columns else pd.Series([None] * len(df), dtype="object")
        if dtype == "string":
            out[name] = col.fillna("").astype("string")
        else:
            out[name] = pd.to_numeric(col).astype(dtype)
    return pd.DataFrame(out).reset_index(drop=True)
