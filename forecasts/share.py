"""China's domestic share of its AI-accelerator market: a logit-scale trend with back-transformed
intervals and a fractional-logit GLM challenger, keeping each source's figures distinguishable."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from scipy.special import expit, logit

from forecasts.common import STATUS_FAILED, STATUS_OK, STATUS_REFUSED, quiet_fit, refusal_reason

FIRST_YEAR = 2023
LAST_YEAR = 2030
#: The article's claim: domestic share "30-40 % by 2028".
CLAIM_YEAR = 2028
CLAIM_LOW_PCT = 30.0
CLAIM_HIGH_PCT = 40.0

MODEL_LOGIT_POOLED = "logit_ols_pooled"
MODEL_LOGIT_SOURCE_TYPE = "logit_ols_source_type"
MODEL_LOGIT_ACTUALS = "logit_ols_actuals_only"
MODEL_GLM = "glm_fractional_logit"
#: Parameters (coefficients plus the residual variance or dispersion) of each model.
N_PARAMS = {MODEL_LOGIT_POOLED: 3, MODEL_LOGIT_SOURCE_TYPE: 5, MODEL_LOGIT_ACTUALS: 3, MODEL_GLM: 3}
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
    cols = [np.ones_like(t), t]
    if model == MODEL_LOGIT_SOURCE_TYPE:
        cols.append((points["basis"] == "revenue").to_numpy(dtype=float))
        cols.append((points["kind_of_figure"] == "forecast").to_numpy(dtype=float))
    return np.column_stack(cols)


def _future_design(years: np.ndarray, model: str) -> np.ndarray:
    t = years + 0.5 - 2025.0
    cols = [np.ones_like(t), t]
    if model == MODEL_LOGIT_SOURCE_TYPE:
        # the reference series: unit shipments, actual figures
        cols += [np.zeros_like(t), np.zeros_like(t)]
    return np.column_stack(cols)


def _subset(points: pd.DataFrame, model: str) -> pd.DataFrame:
    if model == MODEL_LOGIT_ACTUALS:
        return points[points["kind_of_figure"] == "actual"]
    return points


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
    reason = refusal_reason(len(sub), N_PARAMS[model], "share figures")
    if reason is None and model == MODEL_LOGIT_SOURCE_TYPE:
        for col, level in (("basis", "revenue"), ("kind_of_figure", "forecast")):
            if (sub[col] == level).all() or not (sub[col] == level).any():
                reason = f"{col} does not vary in the figures"
    if reason is not None:
        out.update(status=STATUS_REFUSED, reason=reason)
        return out
    y = np.clip(sub["share_used_pct"].to_numpy() / 100.0, CLIP, 1 - CLIP)
    x = _design(sub, model)
    xf = _future_design(years.astype(float), model)
    with quiet_fit() as log:
        try:
            if model == MODEL_GLM:
                res = sm.GLM(y, x, family=sm.families.Binomial()).fit(scale="X2", cov_type="HC1")
                eta = xf @ res.params
                var_eta = np.einsum("ij,jk,ik->i", xf, res.cov_params(), xf)
                mu = expit(eta)
                # predictive spread on the share scale: the mean's uncertainty (delta method)
                # plus the quasi-binomial dispersion phi * mu(1-mu), normal and clipped to 0-1
                sd = np.sqrt((mu * (1 - mu)) ** 2 * var_eta + float(res.scale) * mu * (1 - mu))
                out["quantile"] = lambda p, mu=mu, sd=sd: np.clip(mu + stats.norm.ppf(p) * sd, 0, 1)
                out["prob_between"] = lambda lo, hi, mu=mu, sd=sd: (
                    stats.norm.cdf((hi - mu) / sd) - stats.norm.cdf((lo - mu) / sd)
                )
            else:
                res = sm.OLS(logit(y), x).fit()
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
    return out


def share_table(share: pd.DataFrame) -> pd.DataFrame:
    """The source figures used (model "source_figure") followed by each model's share forecast
    for every year from 2023 to 2030: median, 80 %/95 % bounds in percent and the probability
    that the share lies in 30-40 %."""
    points = share_points(share)
    rows = [
        {
            "model": "source_figure",
            "year": int(np.floor(p["t_year"])),
            "t_year": p["t_year"],
            "median_share_pct": p["share_used_pct"],
            "share_id": p["share_id"],
            "source_org": p["source_org"],
            "basis": p["basis"],
            "kind_of_figure": p["kind_of_figure"],
            "n_points": len(points),
            "status": STATUS_OK,
            "reason": "midpoint of the source's range" if p["range_midpoint"] else "",
        }
        for p in points.to_dict("records")
    ]
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    for model in (MODEL_LOGIT_POOLED, MODEL_GLM, MODEL_LOGIT_SOURCE_TYPE, MODEL_LOGIT_ACTUALS):
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
        MODEL_LOGIT_POOLED: ("units+revenue", "actual+forecast"),
        MODEL_GLM: ("units+revenue", "actual+forecast"),
        MODEL_LOGIT_SOURCE_TYPE: ("units", "actual"),
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
