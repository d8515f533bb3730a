"""Startup survival: Kaplan-Meier on company lifetimes, cumulative incidence of competing exits
(shutdown, acquisition or acqui-hire, pivot) and a Cox model, projected to future dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight

from forecasts import hazard
from forecasts.common import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_REFUSED,
    quiet_fit,
    refusal_reason,
    rng,
    to_timestamp,
)

DAYS_PER_YEAR = 365.25
#: Exit types competing with staying independent (an IPO keeps a company independent).
EXIT_CODES = {"shutdown": 1, "acquisition": 2, "pivot": 3}
STATUS_TO_EXIT = {
    "shutdown": "shutdown",
    "acquired": "acquisition",
    "acquihired": "acquisition",
    "pivoted": "pivot",
}
KNOWN_STATUSES = {"active", "ipo", *STATUS_TO_EXIT}
#: Companies founded before this are established firms, not startups of the large-model wave.
MIN_FOUNDED = "2015-01-01"
#: The date of the article's prediction "by Q1 2027 at least 60 % failed, acquired or pivoted".
CLAIM_DATE = "2027-03-31"
CLAIM_EXIT_SHARE = 0.60
N_BOOTSTRAP = 400
#: The company-year Poisson GLM with a calendar-year effect (``forecasts.hazard``).
MODEL_CALENDAR = "poisson_calendar"
COHORTS = ("all", "CN", "outside_CN")


def lifetimes(
    startups: pd.DataFrame,
    as_of: object,
    events: pd.DataFrame | None = None,
    min_founded: object = MIN_FOUNDED,
    foundation_only: bool = True,
) -> pd.DataFrame:
    """One row per company founded on or before ``as_of``: its age at exit or at the last date the
    data speaks of it (capped at ``as_of``), and which exit, if any, had happened by ``as_of``.

    Nothing dated after ``as_of`` is used: a later exit is censored at ``as_of``. Computed on
    arrays: the backtest asks it again at every cutoff."""
    cutoff = np.datetime64(to_timestamp(as_of), "ns")
    for needed in ("company_id", "country", "founded", "status", "status_date", "last_seen_active"):
        if needed not in startups.columns:
            raise ValueError(f"startups is missing column '{needed}'")
    bad = sorted(set(startups["status"].dropna()) - KNOWN_STATUSES)
    if bad:
        raise ValueError(
            f"startups.status has unknown values {bad}; expected {sorted(KNOWN_STATUSES)}"
        )
    founded = _dates(startups["founded"])
    keep = (
        ~np.isnat(founded)
        & (founded <= cutoff)
        & (founded >= np.datetime64(to_timestamp(min_founded), "ns"))
    )
    if foundation_only and "is_foundation_model" in startups.columns:
        keep &= startups["is_foundation_model"].fillna(False).astype(bool).to_numpy()
    df = startups.loc[keep]
    founded = founded[keep]
    status_date = _dates(startups["status_date"])[keep]
    status = df["status"].to_numpy(dtype=object, na_value=None)
    exit_type = np.array([STATUS_TO_EXIT.get(s) for s in status], dtype=object)
    exited = pd.notna(exit_type) & ~np.isnat(status_date) & (status_date <= cutoff)
    # The last date each company is known alive: last seen, its status date when active or
    # listed, and its latest founding, funding, IPO, layoff or other event by the cutoff.
    seen = [
        _dates(startups["last_seen_active"])[keep],
        np.where(np.isin(status, ["active", "ipo"]), status_date, np.datetime64("NaT", "ns")),
    ]
    if events is not None and len(events):
        dates = _dates(events["date"])
        alive = events["event_type"].isin(["founded", "funding", "ipo", "layoffs", "other"])
        known = alive.to_numpy() & (dates <= cutoff)
        latest: dict = {}
        for company, date in zip(
            events["company_id"].to_numpy(dtype=object)[known], dates[known], strict=True
        ):
            latest[company] = max(latest.get(company, date), date)
        nat = np.datetime64("NaT", "ns")
        ids = df["company_id"].to_numpy(dtype=object)
        seen.append(np.array([latest.get(c, nat) for c in ids], dtype="datetime64[ns]"))
    # NaT is the smallest int64, so the row maximum skips it unless every date is NaT.
    last_alive = np.max(np.stack(seen).view(np.int64), axis=0).view("datetime64[ns]")
    last_alive = np.minimum(np.where(np.isnat(last_alive), founded, last_alive), cutoff)
    end = np.where(exited, status_date, last_alive)
    days = (end - founded) // np.timedelta64(1, "D")
    exit_or_none = np.where(exited, exit_type, "none")
    out = pd.DataFrame(
        {
            "company_id": df["company_id"].astype("string"),
            "name": df["name"].astype("string")
            if "name" in df.columns
            else df["company_id"].astype("string"),
            "country": df["country"].astype("string"),
            "founded": founded,
            "end_date": end,
            "age_years": np.maximum(days, 1) / DAYS_PER_YEAR,
            "exit_type": pd.array(exit_or_none, dtype="string"),
            "event": exited.astype(np.int64),
            "exit_code": np.array([EXIT_CODES.get(e, 0) for e in exit_or_none], dtype=np.int64),
            "founded_year": founded.astype("datetime64[Y]").astype(np.int64) + 1970,
            "total_funding_usd": pd.to_numeric(df.get("total_funding_usd"), errors="coerce").astype(
                float
            ),
        },
        index=df.index,
    )
    return out.sort_values("company_id", kind="mergesort").reset_index(drop=True)


def _dates(values: pd.Series) -> np.ndarray:
    """A date column as datetime64[ns] (unparseable: NaT)."""
    return pd.to_datetime(values, errors="coerce").to_numpy(dtype="datetime64[ns]")


def cohort_rows(lt: pd.DataFrame, cohort: str) -> pd.DataFrame:
    """The companies of one cohort: all, founded in China, or outside China."""
    if cohort == "all":
        return lt
    if cohort == "CN":
        return lt[lt["country"] == "CN"]
    if cohort == "outside_CN":
        return lt[lt["country"] != "CN"]
    raise ValueError(f"unknown cohort '{cohort}'; expected one of {COHORTS}")


def step_at(times: np.ndarray, values: np.ndarray, t: np.ndarray, start: float) -> np.ndarray:
    """A right-continuous step function (``start`` before the first time) evaluated at ``t``."""
    idx = np.searchsorted(times, t, side="right") - 1
    padded = np.concatenate([[start], values])
    return padded[idx + 1]


def km_survival(age: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier (SurvfuncRight): event times, survival probability and its standard error."""
    sf = SurvfuncRight(age, event)
    return np.asarray(sf.surv_times), np.asarray(sf.surv_prob), np.asarray(sf.surv_prob_se)


def km_weighted(
    age: np.ndarray, event: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier curves of many resamples at once: ``weights`` (resamples x companies) counts
    how often each company is drawn. Returns the distinct exit ages and the survival matrix
    (resamples x ages); a resample without an exit at an age keeps its curve flat there."""
    times = np.unique(age[event == 1])
    if len(times) == 0:
        return times, np.ones((len(weights), 0))
    at_risk = weights @ (age[:, None] >= times[None, :]).astype(float)
    exits = weights @ ((age[:, None] == times[None, :]) & (event[:, None] == 1)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1 - exits / at_risk, 1.0)
    return times, np.cumprod(factor, axis=1)


def conditional_survival(
    times: np.ndarray, surv: np.ndarray, age_now: np.ndarray, age_then: np.ndarray
) -> np.ndarray:
    """P(still independent at ``age_then`` | independent at ``age_now``) from a step curve."""
    s_now = step_at(times, surv, age_now, 1.0)
    s_then = step_at(times, surv, age_then, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s_now > 0, s_then / s_now, 0.0)


def target_dates(as_of: object) -> list[pd.Timestamp]:
    """The dates the survival forecast speaks of: 6, 12 and 24 months ahead and the claim date."""
    base = to_timestamp(as_of)
    dates = {base + pd.DateOffset(months=m) for m in (6, 12, 24)}
    claim = to_timestamp(CLAIM_DATE)
    if claim > base:
        dates.add(claim)
    return sorted(dates)


def _row(cohort, model, quantity, unit, value, **kw) -> dict:
    return {
        "cohort": cohort,
        "model": model,
        "quantity": quantity,
        "unit": unit,
        "value": value,
    } | kw


def _curve_rows(cohort: str, sub: pd.DataFrame, base: dict) -> list[dict]:
    """KM survival and cumulative-incidence curves of one cohort, with pointwise 95 % bounds."""
    rows = []
    times, surv, se = km_survival(sub["age_years"].to_numpy(), sub["event"].to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        # log-minus-log pointwise interval, as most survival packages report it
        lls = np.log(-np.log(surv))
        se_lls = se / (surv * np.abs(np.log(surv)))
        lo = np.exp(-np.exp(lls + 1.96 * se_lls))
        hi = np.exp(-np.exp(lls - 1.96 * se_lls))
    lo = np.where(np.isfinite(lo), lo, surv)
    hi = np.where(np.isfinite(hi), hi, surv)
    for t, s, a, b in zip(times, surv, lo, hi, strict=True):
        rows.append(
            _row(
                cohort,
                "kaplan_meier",
                "survival_independent",
                "probability",
                s,
                age_years=t,
                lower_95=a,
                upper_95=b,
            )
            | base
        )
    if sub["exit_code"].gt(0).any():
        ci = CumIncidenceRight(sub["age_years"].to_numpy(), sub["exit_code"].to_numpy())
        for name, code in EXIT_CODES.items():
            if code > len(ci.cinc):
                continue
            inc = np.asarray(ci.cinc[code - 1])
            inc_se = np.asarray(ci.cinc_se[code - 1])
            for t, v, s in zip(ci.times, inc, inc_se, strict=True):
                rows.append(
                    _row(
                        cohort,
                        "cumulative_incidence",
                        f"cumulative_incidence_{name}",
                        "probability",
                        v,
                        age_years=t,
                        lower_95=max(0.0, v - 1.96 * s),
                        upper_95=min(1.0, v + 1.96 * s),
                    )
                    | base
                )
    return rows


def _projection_rows(
    cohort: str, sub: pd.DataFrame, as_of: object, base: dict, seed_offset: int
) -> list[dict]:
    """For the companies independent at ``as_of``: expected number still independent, exit
    probabilities by type and P(cohort exit share >= 60 %) at each target date, with bootstrap
    (companies resampled, seeded) predictive intervals."""
    rows = []
    active = sub[sub["event"] == 0]
    n_exited = int(sub["event"].sum())
    n = len(sub)
    max_follow = float(sub["age_years"].max())
    gen = rng(seed_offset)
    boot_idx = gen.integers(0, n, size=(N_BOOTSTRAP, n))
    age_all = sub["age_years"].to_numpy()
    ev_all = sub["event"].to_numpy()
    age_now = active["age_years"].to_numpy()
    counts = np.stack([np.bincount(i, minlength=n) for i in boot_idx]).astype(float)
    boot_t, boot_s = km_weighted(age_all, ev_all, counts)
    for date in target_dates(as_of):
        age_then = (date - active["founded"]).dt.days.to_numpy() / DAYS_PER_YEAR
        p_surv = conditional_survival(*km_survival(age_all, ev_all)[:2], age_now, age_then)
        n_beyond = int((age_then > max_follow).sum())
        padded = np.hstack([np.ones((len(boot_s), 1)), boot_s])
        s_now = padded[:, np.searchsorted(boot_t, age_now, side="right")]
        s_then = padded[:, np.searchsorted(boot_t, age_then, side="right")]
        with np.errstate(divide="ignore", invalid="ignore"):
            pb = np.where(s_now > 0, s_then / s_now, 0.0)
        draws = (gen.random(pb.shape) < pb).sum(axis=1).astype(float)
        exits_b = n - draws  # already exited plus newly exited
        extra = {
            "target_date": date,
            "note": "; ".join(
                n
                for n in (
                    f"{n_beyond} of {len(active)} active companies reach an age beyond the longest "
                    f"follow-up ({max_follow:.1f} y); the curve is held flat there"
                    if n_beyond
                    else "",
                    "no exit in the data between these companies' ages now and then: the "
                    "estimate has no exits to go on, not evidence of safety"
                    if len(active) and np.all(p_surv == 1.0)
                    else "",
                )
                if n
            ),
        }
        expected = float(p_surv.sum())
        rows.append(
            _row(
                cohort,
                "kaplan_meier",
                "expected_independent_of_active",
                "companies",
                expected,
                lower_80=float(np.quantile(draws, 0.1)),
                upper_80=float(np.quantile(draws, 0.9)),
                lower_95=float(np.quantile(draws, 0.025)),
                upper_95=float(np.quantile(draws, 0.975)),
            )
            | base
            | extra
        )
        share = (n_exited + len(active) - expected) / n
        rows.append(
            _row(
                cohort,
                "kaplan_meier",
                "share_of_cohort_exited",
                "probability",
                share,
                lower_95=float(np.quantile(exits_b, 0.025) / n),
                upper_95=float(np.quantile(exits_b, 0.975) / n),
            )
            | base
            | extra
        )
        rows.append(
            _row(
                cohort,
                "kaplan_meier",
                f"prob_share_exited_ge_{round(CLAIM_EXIT_SHARE * 100)}pct",
                "probability",
                float(np.mean(exits_b / n >= CLAIM_EXIT_SHARE - 1e-12)),
            )
            | base
            | extra
        )
        rows.extend(_cif_projection_rows(cohort, sub, active, age_now, age_then, base | extra))
    return rows


def _cif_projection_rows(cohort, sub, active, age_now, age_then, base) -> list[dict]:
    """Mean probability, over today's independent companies, of each exit type by the target
    date: (CIF_k(age then) - CIF_k(age now)) / S(age now)."""
    if not sub["exit_code"].gt(0).any() or len(active) == 0:
        return []
    ci = CumIncidenceRight(sub["age_years"].to_numpy(), sub["exit_code"].to_numpy())
    times = np.asarray(ci.times)
    total_now = np.zeros_like(age_now)
    parts = {}
    for name, code in EXIT_CODES.items():
        if code > len(ci.cinc):
            parts[name] = (np.zeros_like(age_now), np.zeros_like(age_now))
            continue
        inc = np.asarray(ci.cinc[code - 1])
        parts[name] = (step_at(times, inc, age_now, 0.0), step_at(times, inc, age_then, 0.0))
        total_now += parts[name][0]
    s_now = 1.0 - total_now
    rows = []
    for name, (now, then) in parts.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(s_now > 0, (then - now) / s_now, 0.0)
        rows.append(
            _row(
                cohort,
                "cumulative_incidence",
                f"prob_exit_{name}_of_active",
                "probability",
                float(p.mean()),
            )
            | base
        )
    return rows


def supported_covariates(sub: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Cox covariates the cohort supports (each must vary; funding needs >= 80 % of companies
    with a figure) and notes on those left out."""
    covs, notes = [], []
    is_cn = (sub["country"] == "CN").astype(float)
    if is_cn.nunique() > 1:
        covs.append("is_cn")
    else:
        notes.append("is_cn constant in this cohort")
    if sub["founded_year"].nunique() > 1:
        covs.append("founded_year")
    else:
        notes.append("founded_year constant")
    known = sub["total_funding_usd"].notna().mean() if len(sub) else 0.0
    if known >= 0.8:
        covs.append("log10_funding_usd")
    else:
        notes.append(f"total_funding_usd known for {known:.0%} of companies (< 80 %): left out")
    return covs, notes


def _design(sub: pd.DataFrame, covs: list[str], center_year: float) -> np.ndarray:
    cols = {
        "is_cn": (sub["country"] == "CN").astype(float).to_numpy(),
        "founded_year": sub["founded_year"].to_numpy(dtype=float) - center_year,
        "log10_funding_usd": np.log10(
            sub["total_funding_usd"].fillna(sub["total_funding_usd"].median()).to_numpy()
        ),
    }
    return np.column_stack([cols[c] for c in covs])


def cox_rows(cohort: str, sub: pd.DataFrame, as_of: object, base: dict) -> list[dict]:
    """Cox proportional hazards on exit (any type): hazard ratios with 95 % intervals and the
    expected number of today's independent companies still independent at each target date."""
    covs, notes = supported_covariates(sub)
    n_events = int(sub["event"].sum())
    base = base | {"note": "; ".join(notes)}
    reason = refusal_reason(n_events, len(covs), "exits") if covs else "no covariate varies"
    if reason is not None:
        return [
            _row(cohort, "cox_ph", "hazard_ratio", "ratio", np.nan)
            | base
            | {"status": STATUS_REFUSED, "reason": reason}
        ]
    center = float(sub["founded_year"].mean())
    x = _design(sub, covs, center)
    with quiet_fit() as log:
        try:
            res = PHReg(
                sub["age_years"].to_numpy(), x, status=sub["event"].to_numpy(), ties="efron"
            ).fit(disp=False)
            params = np.asarray(res.params)
            ci = np.asarray(res.conf_int(alpha=0.05))
            bch = res.baseline_cumulative_hazard_function[0]
        except (ValueError, np.linalg.LinAlgError) as exc:
            return [
                _row(cohort, "cox_ph", "hazard_ratio", "ratio", np.nan)
                | base
                | {"status": STATUS_FAILED, "reason": f"{type(exc).__name__}: {exc}"}
            ]
    base = base | {"fit_warnings": log.text()}
    if not np.all(np.isfinite(params)):
        return [
            _row(cohort, "cox_ph", "hazard_ratio", "ratio", np.nan)
            | base
            | {"status": STATUS_FAILED, "reason": "non-finite coefficients (separation)"}
        ]
    rows = [
        _row(
            cohort,
            "cox_ph",
            f"hazard_ratio_{c}" + ("_per_year" if c == "founded_year" else ""),
            "ratio",
            float(np.exp(params[i])),
            lower_95=float(np.exp(ci[i, 0])),
            upper_95=float(np.exp(ci[i, 1])),
        )
        | base
        for i, c in enumerate(covs)
    ]
    active = sub[sub["event"] == 0]
    xa = _design(active, covs, center) if len(active) else np.empty((0, len(covs)))
    risk = np.exp(xa @ params)
    for date in target_dates(as_of):
        age_then = (date - active["founded"]).dt.days.to_numpy() / DAYS_PER_YEAR
        h_now = bch(active["age_years"].to_numpy())
        h_then = bch(age_then)
        p = np.exp(-(h_then - h_now) * risk)
        rows.append(
            _row(
                cohort,
                "cox_ph",
                "expected_independent_of_active",
                "companies",
                float(p.sum()),
                target_date=date,
            )
            | base
        )
    return rows


def poisson_binomial(p: np.ndarray) -> np.ndarray:
    """Distribution of the number of successes among independent Bernoulli(p_i)."""
    pmf = np.array([1.0])
    for pi in np.clip(p, 0, 1):
        pmf = np.concatenate([pmf * (1 - pi), [0.0]]) + np.concatenate([[0.0], pmf * pi])
    return pmf


def calendar_projection_rows(
    cohort: str, sub: pd.DataFrame, as_of: object, base: dict
) -> list[dict]:
    """The calendar-time hazard's projections at each target date: expected companies still
    independent among today's active ones and P(cohort exit share >= 60 %) (exact
    Poisson-binomial over the active companies' exit probabilities)."""
    with quiet_fit() as log:
        fit = hazard.fit_calendar_hazard(sub)
    if fit["status"] != STATUS_OK:
        return [
            _row(cohort, MODEL_CALENDAR, "expected_independent_of_active", "companies", np.nan)
            | base
            | {"status": STATUS_REFUSED, "reason": fit["reason"]}
        ]
    active = sub[sub["event"] == 0]
    n, n_exited = len(sub), int(sub["event"].sum())
    need = int(np.ceil(CLAIM_EXIT_SHARE * n - 1e-9)) - n_exited
    b = fit["params"]
    note = (
        f"exits per company-year = exp({b[0]:.3f} + {b[1]:.3f} (year - 2024) + {b[2]:.3f} age); "
        "the calendar trend is extrapolated past the data"
    )
    rows = []
    for date in target_dates(as_of):
        p = hazard.survival_between(b, active["founded"], to_timestamp(as_of), date)
        pmf = poisson_binomial(1 - p)
        prob = float(np.clip(pmf[max(need, 0) :].sum(), 0.0, 1.0)) if need <= len(p) else 0.0
        extra = {"target_date": date, "note": note, "fit_warnings": log.text()}
        rows.append(
            _row(
                cohort,
                MODEL_CALENDAR,
                "expected_independent_of_active",
                "companies",
                float(p.sum()),
            )
            | base
            | extra
        )
        rows.append(
            _row(
                cohort,
                MODEL_CALENDAR,
                f"prob_share_exited_ge_{round(CLAIM_EXIT_SHARE * 100)}pct",
                "probability",
                prob,
            )
            | base
            | extra
        )
    return rows


def survival_table(
    startups: pd.DataFrame,
    as_of: object,
    events: pd.DataFrame | None = None,
    cohorts: tuple[str, ...] = COHORTS,
) -> pd.DataFrame:
    """Survival curves, competing-exit incidence, Cox hazard ratios and projections to future
    dates for each cohort, with a status and reason on every row."""
    lt = lifetimes(startups, as_of, events)
    rows: list[dict] = []
    for i, cohort in enumerate(cohorts):
        sub = cohort_rows(lt, cohort)
        n_events = int(sub["event"].sum())
        base = {
            "n_companies": len(sub),
            "n_exits": n_events,
            "n_active": int((sub["event"] == 0).sum()),
            "status": STATUS_OK,
            "reason": "",
            "fit_warnings": "",
        }
        # Kaplan-Meier estimates one survival step per distinct exit age: at least one exit and
        # enough companies to say anything (1 parameter + 4).
        reason = refusal_reason(len(sub), 1, "companies") or (
            None if n_events else "no exit observed"
        )
        if reason is not None:
            rows.append(
                _row(cohort, "kaplan_meier", "survival_independent", "probability", np.nan)
                | base
                | {"status": STATUS_REFUSED, "reason": reason}
            )
            continue
        with quiet_fit() as log:
            part = _curve_rows(cohort, sub, base) + _projection_rows(
                cohort, sub, as_of, base, seed_offset=100 * i
            )
        for r in part:
            r["fit_warnings"] = log.text()
        rows.extend(part)
        rows.extend(cox_rows(cohort, sub, as_of, base))
        rows.extend(calendar_projection_rows(cohort, sub, as_of, base))
    return typed_survival(pd.DataFrame(rows))


SURVIVAL_COLUMNS = {
    "cohort": "string",
    "model": "string",
    "quantity": "string",
    "unit": "string",
    "age_years": "float64",
    "target_date": "datetime64[ns]",
    "value": "float64",
    "lower_80": "float64",
    "upper_80": "float64",
    "lower_95": "float64",
    "upper_95": "float64",
    "n_companies": "int64",
    "n_exits": "int64",
    "n_active": "int64",
    "status": "string",
    "reason": "string",
    "fit_warnings": "string",
    "note": "string",
}


def typed_survival(df: pd.DataFrame) -> pd.DataFrame:
    """The survival rows with fixed columns and dtypes (absent values: NaN/NaT/empty text)."""
    out = {}
    for name, dtype in SURVIVAL_COLUMNS.items():
        col = df[name] if name in df.columns else pd.Series([None] * len(df), dtype="object")
        if dtype == "string":
            out[name] = col.fillna("").astype("string")
        elif dtype.startswith("datetime"):
            out[name] = pd.to_datetime(col).astype(dtype)
        else:
            out[name] = pd.to_numeric(col).astype(dtype)
    return pd.DataFrame(out).reset_index(drop=True)
