"""Gives the article's dated predictions the forecasts' probability (domestic share, startup exits)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logit

from assets.report.findings import OPEN, Finding, fmt

SHARE_RULE = "share_forecast"
SURVIVAL_RULE = "survival_forecast"
#: The share models in order of preference (fitted on actual figures only): the logistic trend
#: is the forecast, the fractional-logit GLM a challenger used only when it refused.
SHARE_MODELS = ("logit_ols_actuals_only", "glm_fractional_logit")
#: Survival cohorts in order of preference for a claim about Chinese startups.
SURVIVAL_COHORTS = ("CN", "all")
Z80 = float(stats.norm.ppf(0.9))


def _prob_between_from_80(median: float, lo80: float, hi80: float, a: float, b: float) -> float:
    """P(a <= share <= b) (fractions) for a logit-normal share given by its median and 80 % bounds."""
    mu = float(logit(median))
    sd = (float(logit(hi80)) - float(logit(lo80))) / (2 * Z80)
    if not sd > 0:
        return float(a <= median <= b)
    za, zb = (float(logit(np.clip(x, 1e-9, 1 - 1e-9))) for x in (a, b))
    return float(stats.norm.cdf((zb - mu) / sd) - stats.norm.cdf((za - mu) / sd))


def check_share_prediction(
    low_pct: float, high_pct: float, year: int, share_forecast: pd.DataFrame
) -> Finding:
    """The forecast's share for the claim's year beside the claimed range: open, with the forecast
    probability that the share lands inside the range (interval overlap stated)."""
    tol = "interval overlap: claimed range vs the forecast's 80 % interval"
    for model in SHARE_MODELS:
        rows = share_forecast[
            (share_forecast["model"] == model)
            & (share_forecast["status"] == "ok")
            & (share_forecast["year"] == year)
        ]
        if len(rows):
            break
    else:
        reasons = share_forecast.loc[share_forecast["model"].isin(SHARE_MODELS), "reason"]
        why = "; ".join(dict.fromkeys(str(r) for r in reasons if str(r)))
        return Finding(
            OPEN,
            f"no share forecast for {year}" + (f": {why}" if why else ""),
            SHARE_RULE,
            tol,
        )
    r = rows.iloc[0]
    med, lo80, hi80 = (
        float(r[c]) for c in ("median_share_pct", "lower_80_share_pct", "upper_80_share_pct")
    )
    lo95, hi95 = float(r["lower_95_share_pct"]), float(r["upper_95_share_pct"])
    if (low_pct, high_pct) == (30.0, 40.0) and pd.notna(r.get("prob_share_in_30_40_pct")):
        prob = float(r["prob_share_in_30_40_pct"])
    else:
        prob = _prob_between_from_80(
            med / 100, lo80 / 100, hi80 / 100, low_pct / 100, high_pct / 100
        )
    overlap = lo80 <= high_pct and low_pct <= hi80
    return Finding(
        OPEN,
        f"{model} forecast for {year}: median {fmt(med)}% (80%: {fmt(lo80)}-{fmt(hi80)}%, "
        f"95%: {fmt(lo95)}-{fmt(hi95)}%) from {int(r['n_points'])} source figures; "
        f"P(share in {fmt(low_pct)}-{fmt(high_pct)}%) = {prob:.2f}; the 80% interval "
        + ("overlaps" if overlap else "does not overlap")
        + " the claimed range",
        SHARE_RULE,
        tol,
        evidence=f"china_share_forecast: model={model}, year={year}",
        pipeline_value=med,
        pipeline_value_low=lo80,
        pipeline_value_high=hi80,
        pipeline_unit="% (median, 80% interval)",
        probability=prob,
    )


def check_survival_prediction(
    exit_share: float, date: pd.Timestamp, survival_forecast: pd.DataFrame
) -> Finding:
    """The forecast share of the startup cohort gone (shut down, acquired or pivoted) by the
    claim's date, with the probability that it reaches the claimed share; decided once the date
    has passed and the forecast is an observation."""
    tol = "probability of reaching the claimed share (bootstrap over companies)"
    date = pd.Timestamp(date).normalize()
    prob_name = f"prob_share_exited_ge_{round(exit_share * 100)}pct"
    ok = survival_forecast[
        (survival_forecast["status"] == "ok")
        & (pd.to_datetime(survival_forecast["target_date"]) == date)
    ]
    skipped = []
    for cohort in SURVIVAL_COHORTS:
        rows = ok[ok["cohort"] == cohort]
        share = rows[rows["quantity"] == "share_of_cohort_exited"]
        if len(share) and share["lower_95"].iloc[0] == share["upper_95"].iloc[0]:
            # no exit left on the curve at the ages these companies reach: nothing to project
            note = share["note"].iloc[0]
            skipped.append(
                f"cohort '{cohort}' gives a zero-width interval (no exit left on its curve at the "
                f"ages its companies reach{'; ' + note if note else ''})"
            )
            continue
        if len(share):
            break
    else:
        why = "; ".join(dict.fromkeys(str(r) for r in survival_forecast["reason"] if str(r)))
        return Finding(
            OPEN,
            f"no survival forecast for {date.date()}"
            + (f": {why}" if why else "")
            + "".join(f"; {k}" for k in skipped),
            SURVIVAL_RULE,
            tol,
        )
    s = share.iloc[0]
    prob_rows = rows[rows["quantity"] == prob_name]
    prob = float(prob_rows["value"].iloc[0]) if len(prob_rows) else np.nan
    expected = rows[
        (rows["quantity"] == "expected_independent_of_active") & (rows["model"] == "kaplan_meier")
    ]
    still = (
        f"; expected {fmt(expected['value'].iloc[0])} of today's {int(s['n_active'])} "
        f"independent companies still independent"
        if len(expected)
        else ""
    )
    value = 100 * float(s["value"])
    prob_text = (
        f"P(>= {fmt(100 * exit_share)}% gone) = {prob:.2f}"
        if prob == prob
        else (f"no probability for a {fmt(100 * exit_share)}% threshold in the forecast")
    )
    return Finding(
        OPEN,
        f"Kaplan-Meier projection for cohort '{cohort}' ({int(s['n_companies'])} companies, "
        f"{int(s['n_exits'])} exits so far): {fmt(value)}% gone by {date.date()} "
        f"(95%: {fmt(100 * s['lower_95'])}-{fmt(100 * s['upper_95'])}%); {prob_text}{still}"
        + (f"; {s['note']}" if s["note"] else "")
        + "".join(f"; {k}, so the pooled cohort is used" for k in skipped),
        SURVIVAL_RULE,
        tol,
        evidence=f"startup_survival: cohort={cohort}, target_date={date.date()}",
        pipeline_value=value,
        pipeline_value_low=100 * float(s["lower_95"]),
        pipeline_value_high=100 * float(s["upper_95"]),
        pipeline_unit="% of cohort gone (95% interval)",
        probability=prob,
    )
