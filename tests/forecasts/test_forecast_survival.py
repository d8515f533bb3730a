"""Startup survival on hand-made cohorts and simulated lifetimes with known hazards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from forecasts import survival as survival_models
from tests.forecasts.forecast_sim import startup_rows


def _company(cid, founded, status, status_date, last_seen, country="CN", fm=True):
    return {
        "company_id": cid,
        "name": cid,
        "country": country,
        "founded": pd.Timestamp(founded),
        "is_foundation_model": fm,
        "total_funding_usd": np.nan,
        "status": status,
        "status_date": pd.Timestamp(status_date) if status_date else pd.NaT,
        "last_seen_active": pd.Timestamp(last_seen) if last_seen else pd.NaT,
    }


HAND = pd.DataFrame(
    [
        _company("a", "2020-01-01", "shutdown", "2022-01-01", "2021-12-01"),
        _company("b", "2020-01-01", "acquired", "2024-01-01", "2023-12-01"),
        _company("c", "2021-01-01", "active", "2025-06-01", "2026-01-01"),
        _company("d", "2022-01-01", "ipo", "2025-01-01", "2025-07-01"),
        _company("e", "2023-01-01", "pivoted", "2025-01-01", "2025-01-01", country="US"),
        _company("old", "2010-01-01", "active", None, "2026-01-01"),
        _company("app", "2021-01-01", "shutdown", "2022-01-01", None, fm=False),
    ]
)


def test_lifetimes_censor_at_last_seen_and_recensor_at_as_of():
    lt = survival_models.lifetimes(HAND, "2026-06-30").set_index("company_id")
    assert list(lt.index) == ["a", "b", "c", "d", "e"]  # pre-2015 and non-foundation left out
    assert lt.loc["a", "exit_type"] == "shutdown" and lt.loc["a", "event"] == 1
    assert lt.loc["b", "exit_type"] == "acquisition"
    assert lt.loc["e", "exit_type"] == "pivot"
    assert lt.loc["d", "event"] == 0  # an IPO stays independent
    assert lt.loc["c", "end_date"] == pd.Timestamp("2026-01-01")
    assert lt.loc["c", "age_years"] == pytest.approx(1826 / 365.25)
    early = survival_models.lifetimes(HAND, "2023-06-30").set_index("company_id")
    assert early.loc["b", "event"] == 0  # acquired after the cutoff: not yet known
    assert early.loc["b", "end_date"] == pd.Timestamp("2023-06-30")
    assert "e" in early.index and early.loc["e", "event"] == 0
    assert early["exit_code"].tolist() == [1, 0, 0, 0, 0]


def reference_lifetimes(startups, as_of, events=None):
    """``lifetimes`` written with pandas column operations (the defaults: founded since 2015,
    foundation-model companies only), to check the array version against."""
    cutoff = pd.Timestamp(as_of)
    df = startups.copy()
    for col in ("founded", "status_date", "last_seen_active"):
        df[col] = pd.to_datetime(df[col], errors="coerce")
    keep = df["founded"].notna() & (df["founded"] <= cutoff)
    keep &= df["founded"] >= pd.Timestamp(survival_models.MIN_FOUNDED)
    keep &= df["is_foundation_model"].fillna(False).astype(bool)
    df = df.loc[keep].copy()
    exit_type = df["status"].map(survival_models.STATUS_TO_EXIT)
    exited = exit_type.notna() & df["status_date"].notna() & (df["status_date"] <= cutoff)
    seen = df[["last_seen_active"]].copy()
    seen["status_date"] = df["status_date"].where(df["status"].isin(["active", "ipo"]))
    if events is not None and len(events):
        ev = events.assign(date=pd.to_datetime(events["date"], errors="coerce"))
        alive = ev[
            ev["event_type"].isin(["founded", "funding", "ipo", "layoffs", "other"])
            & (ev["date"] <= cutoff)
        ]
        latest = alive.groupby("company_id")["date"].max()
        seen["event_date"] = pd.Series(
            latest.reindex(df["company_id"].to_numpy()).to_numpy(), index=df.index
        ).astype("datetime64[ns]")
    last_alive = seen.max(axis=1).fillna(df["founded"]).clip(upper=cutoff)
    end = df["status_date"].where(exited, last_alive)
    out = pd.DataFrame(
        {
            "company_id": df["company_id"].astype("string"),
            "name": df["name"].astype("string"),
            "country": df["country"].astype("string"),
            "founded": df["founded"].astype("datetime64[ns]"),
            "end_date": end.astype("datetime64[ns]"),
            "age_years": (end - df["founded"]).dt.days.clip(lower=1) / 365.25,
            "exit_type": exit_type.where(exited, "none").astype("string"),
            "event": exited.astype("int64"),
            "exit_code": exit_type.where(exited)
            .map(survival_models.EXIT_CODES)
            .fillna(0)
            .astype("int64"),
            "founded_year": df["founded"].dt.year.astype("int64"),
            "total_funding_usd": pd.to_numeric(df["total_funding_usd"]).astype(float),
        }
    )
    return out.sort_values("company_id", kind="mergesort").reset_index(drop=True)


DAYS = st.integers(0, 4000).map(lambda d: pd.Timestamp("2026-12-31") - pd.Timedelta(days=d))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            DAYS,
            st.sampled_from(sorted(survival_models.KNOWN_STATUSES)),
            st.none() | DAYS,
            st.none() | DAYS,
            st.booleans(),
        ),
        min_size=1,
        max_size=12,
    ),
    st.lists(
        st.tuples(st.integers(0, 3), st.none() | DAYS, st.sampled_from(["funding", "shutdown"])),
        max_size=12,
    ),
    DAYS,
)
# A listed company's status date beyond its last sighting; events out of date order.
@example(
    [
        (
            pd.Timestamp("2020-01-01"),
            "ipo",
            pd.Timestamp("2024-01-01"),
            pd.Timestamp("2022-01-01"),
            True,
        )
    ],
    [(0, pd.Timestamp("2024-06-01"), "funding"), (0, pd.Timestamp("2023-01-01"), "funding")],
    pd.Timestamp("2025-01-01"),
)
def test_lifetimes_match_the_column_by_column_reference(companies, event_rows, as_of):
    startups = pd.DataFrame(
        [
            _company(f"c{i:02d}", founded, status, status_date, last_seen, fm=fm)
            for i, (founded, status, status_date, last_seen, fm) in enumerate(companies)
        ]
    )
    events = pd.DataFrame(
        {
            "company_id": [f"c{i:02d}" for i, _, _ in event_rows],
            "date": pd.to_datetime([d for _, d, _ in event_rows]),
            "event_type": [kind for _, _, kind in event_rows],
        }
    )
    for given_events in (None, events):
        pd.testing.assert_frame_equal(
            survival_models.lifetimes(startups, as_of, given_events),
            reference_lifetimes(startups, as_of, given_events),
        )


def test_unknown_status_is_rejected_by_name():
    bad = HAND.assign(
        status=["active", "bankrupt", "active", "active", "active", "active", "active"]
    )
    with pytest.raises(ValueError, match=r"unknown values \['bankrupt'\]"):
        survival_models.lifetimes(bad, "2026-06-30")


def test_km_matches_exponential_survival():
    df = startup_rows(400, {"shutdown": 0.15}, seed=7)
    lt = survival_models.lifetimes(df, "2026-06-30")
    times, surv, _ = survival_models.km_survival(lt["age_years"].to_numpy(), lt["event"].to_numpy())
    for t in (1.0, 2.0, 4.0):
        assert survival_models.step_at(times, surv, np.array([t]), 1.0)[0] == pytest.approx(
            np.exp(-0.15 * t), abs=0.05
        )


def test_km_matches_hand_product_limit():
    age = np.array([1.0, 2.0, 2.5, 3.0, 4.0])
    event = np.array([1, 0, 1, 0, 1])
    times, surv, _ = survival_models.km_survival(age, event)
    # S(1)=4/5, S(2.5)=4/5*2/3, S(4)=... *0/1
    np.testing.assert_allclose(surv, [0.8, 0.8 * 2 / 3, 0.0])
    np.testing.assert_allclose(times, [1.0, 2.5, 4.0])
    cond = survival_models.conditional_survival(times, surv, np.array([2.0]), np.array([3.0]))
    assert cond[0] == pytest.approx(2 / 3)


def test_cumulative_incidence_matches_competing_exponentials():
    rates = {"shutdown": 0.1, "acquired": 0.2}
    df = startup_rows(600, rates, seed=11)
    out = survival_models.survival_table(df, "2026-06-30", cohorts=("all",))
    total = sum(rates.values())
    for name, rate in (("shutdown", 0.1), ("acquisition", 0.2)):
        curve = out[out["quantity"] == f"cumulative_incidence_{name}"].sort_values("age_years")
        at3 = survival_models.step_at(
            curve["age_years"].to_numpy(), curve["value"].to_numpy(), np.array([3.0]), 0.0
        )[0]
        assert at3 == pytest.approx(rate / total * (1 - np.exp(-total * 3.0)), abs=0.05)


def test_cox_recovers_known_hazard_ratio():
    df = startup_rows(500, {"shutdown": 0.12}, seed=3, cn_hazard_ratio=2.5)
    out = survival_models.survival_table(df, "2026-06-30", cohorts=("all",))
    hr = out[out["quantity"] == "hazard_ratio_is_cn"].iloc[0]
    assert hr["status"] == "ok"
    assert hr["lower_95"] < 2.5 < hr["upper_95"]
    assert hr["value"] == pytest.approx(2.5, rel=0.3)


def test_expected_independent_matches_hand_calculation():
    # exits at ages 1, 2, 3, 4 among six companies; two still active, aged 0.5 and 2.5 today
    comps = [
        _company(f"x{i}", "2015-01-01", "shutdown", f"{2015 + i}-01-01", None, country="US")
        for i in range(1, 5)
    ]
    comps += [
        _company("y1", "2025-07-02", "active", "2026-01-01", "2026-01-01", country="US"),
        _company("y2", "2023-07-02", "active", "2026-01-01", "2026-01-01", country="US"),
    ]
    df = pd.DataFrame(comps)
    lt = survival_models.lifetimes(df, "2026-01-01")
    times, surv, _ = survival_models.km_survival(lt["age_years"].to_numpy(), lt["event"].to_numpy())
    active = lt[lt["event"] == 0]
    target = pd.Timestamp("2027-03-31")
    age_then = (target - active["founded"]).dt.days.to_numpy() / survival_models.DAYS_PER_YEAR
    expected = survival_models.conditional_survival(
        times, surv, active["age_years"].to_numpy(), age_then
    ).sum()
    # by hand: y1 is censored at age 0.5 and y2 at 2.5, so the risk sets at the exits (ages
    # ~1, 2, 3, 4) are 5, 4, 2, 1: S = 4/5, 3/5, 3/10, 0.
    np.testing.assert_allclose(surv, [4 / 5, 3 / 5, 3 / 10, 0.0])
    # y1: S(1.75)/S(0.5) = 4/5; y2: S(3.75)/S(2.5) = (3/10)/(3/5) = 1/2
    assert expected == pytest.approx(4 / 5 + 1 / 2)
    out = survival_models.survival_table(df, "2026-01-01", cohorts=("all",))
    row = out[
        (out["quantity"] == "expected_independent_of_active") & (out["model"] == "kaplan_meier")
    ]
    assert row[row["target_date"] == target]["value"].iloc[0] == pytest.approx(expected)


def test_survival_refuses_small_cohort_and_says_why():
    out = survival_models.survival_table(HAND.iloc[:3], "2026-06-30", cohorts=("all",))
    assert out["status"].tolist() == ["refused"]
    assert "3 companies < 1 parameters + 4 = 5" in out["reason"].iloc[0]
    assert np.isnan(out["value"].iloc[0])


def test_survival_table_is_deterministic():
    df = startup_rows(60, {"shutdown": 0.1, "acquired": 0.1, "pivoted": 0.05}, seed=2)
    a = survival_models.survival_table(df, "2026-06-30")
    b = survival_models.survival_table(df, "2026-06-30")
    pd.testing.assert_frame_equal(a, b)
    p = a[a["quantity"] == "prob_share_exited_ge_60pct"]["value"]
    assert ((p >= 0) & (p <= 1)).all()


def test_events_extend_last_sighting_only_up_to_as_of():
    events = pd.DataFrame(
        {
            "event_id": ["e1", "e2"],
            "company_id": ["c", "d"],
            "date": pd.to_datetime(["2026-03-01", "2027-01-01"]),
            "event_type": ["funding", "funding"],
        }
    )
    lt = survival_models.lifetimes(HAND, "2026-06-30", events).set_index("company_id")
    assert lt.loc["c", "end_date"] == pd.Timestamp("2026-03-01")  # later than last_seen 2026-01-01
    assert lt.loc["d", "end_date"] == pd.Timestamp("2025-07-01")  # the 2027 event is after as-of
    early = survival_models.lifetimes(HAND, "2025-12-31", events)
    pd.testing.assert_frame_equal(early, survival_models.lifetimes(HAND, "2025-12-31"))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_weighted_km_matches_statsmodels_on_each_resample(seed):
    gen = np.random.default_rng(seed)
    n = 25
    age = np.round(gen.uniform(0.1, 8, n), 1)  # rounding makes ties
    event = (gen.random(n) < 0.4).astype(int)
    event[0] = 1
    idx = gen.integers(0, n, size=(5, n))
    counts = np.stack([np.bincount(i, minlength=n) for i in idx]).astype(float)
    times, surv = survival_models.km_weighted(age, event, counts)
    for b in range(5):
        sample_age, sample_event = age[idx[b]], event[idx[b]]
        check = np.linspace(0, 9, 40)
        got = survival_models.step_at(times, surv[b], check, 1.0)
        if sample_event.sum() == 0:
            np.testing.assert_allclose(got, 1.0)
            continue
        t_ref, s_ref, _ = survival_models.km_survival(sample_age, sample_event)
        np.testing.assert_allclose(
            got, survival_models.step_at(t_ref, s_ref, check, 1.0), atol=1e-12
        )
