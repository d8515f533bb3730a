"""The level forecast at constant capability: its monthly grid against hand calculations, its
backtest blind to every observation dated after an origin, and its forecast's origin and age."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts import backtest, price_index, prices


def _obs(rows: list[tuple[str, str, str, str, float]]) -> pd.DataFrame:
    """Observations from (model, provider, region, date, blended price) tuples."""
    frame = pd.DataFrame(
        rows, columns=["model", "provider", "region", "date", "blended_usd_per_mtok"]
    )
    frame["date"] = pd.to_datetime(frame["date"])
    frame["model_key"] = frame["model"].map(price_index.model_key)
    frame["month"] = frame["date"].dt.to_period("M").dt.to_timestamp()
    return frame


SCORES = pd.DataFrame(
    {
        "model": ["alpha", "beta", "gamma", "delta"],
        "benchmark": "mmlu",
        "score_pct": [85.0, 82.0, 75.0, 90.0],
    }
)
OBS = _obs(
    [
        ("alpha", "p1", "US", "2024-01-10", 10.0),
        ("beta", "p2", "CN", "2024-02-15", 8.0),
        ("gamma", "p1", "US", "2024-03-01", 1.0),  # MMLU 75: below 80
        ("alpha", "p1", "US", "2024-04-05", 6.0),
        ("unscored", "p1", "US", "2024-05-01", 0.1),  # no score: never qualifies
        ("beta", "p2", "CN", "2024-05-10", 7.0),
        ("delta", "p3", "US", "2024-06-20", 5.0),
        ("delta", "p3", "US", "2024-09-01", 0.5),  # after the as-of date
    ]
)
AS_OF = "2024-07-31"


def _grids(obs: pd.DataFrame, as_of: object) -> dict[tuple[str, str, str], pd.DataFrame]:
    return dict(price_index.capability_grids(obs, SCORES, as_of))


def test_grid_is_cheapest_carried_forward_price_ending_at_the_last_observation():
    g = _grids(OBS, AS_OF)
    world = g[("mmlu>=80", "world", "blended")]
    assert list(world["month"]) == list(pd.date_range("2024-01-01", "2024-06-01", freq="MS"))
    # Jan alpha 10; Feb beta 8; Mar beta carried (gamma below 80); Apr alpha cut to 6;
    # May beta at 7 is dearer than alpha's carried 6 (the unscored model never counts); Jun
    # delta 5; July (before the as-of date) has no observation, so the grid stops at June.
    assert world["price_usd_per_mtok"].tolist() == [10.0, 8.0, 8.0, 6.0, 6.0, 5.0]
    assert world["n_observations"].tolist() == [1, 1, 0, 1, 1, 1]
    assert world["cheapest_model"].tolist()[:3] == ["p1 / alpha", "p2 / beta", "p2 / beta"]

    us = g[("mmlu>=80", "US", "blended")]
    assert us["price_usd_per_mtok"].tolist() == [10.0, 10.0, 10.0, 6.0, 6.0, 5.0]
    assert us["n_observations"].tolist() == [1, 0, 0, 1, 0, 1]
    cn = g[("mmlu>=80", "CN", "blended")]
    assert cn["month"].tolist() == list(pd.date_range("2024-02-01", "2024-05-01", freq="MS"))
    assert cn["price_usd_per_mtok"].tolist() == [8.0, 8.0, 8.0, 7.0]

    # a lower threshold admits gamma (MMLU 75) from March on
    low = g[("mmlu>=70", "world", "blended")]
    assert low["price_usd_per_mtok"].tolist() == [10.0, 8.0, 1.0, 1.0, 1.0, 1.0]
    # a threshold no model reaches, and a benchmark without scores, give empty grids
    assert g[("mmlu>=85", "world", "blended")]["price_usd_per_mtok"].tolist()[0] == 10.0
    assert g[("gpqa>=50", "world", "blended")].empty
    assert len(g) == sum(len(t) for t in price_index.THRESHOLDS.values()) * len(price_index.REGIONS)


def test_grid_never_above_the_index_point_of_an_observed_month():
    """In a month with an observation the grid's price is the cheapest of the carried prices,
    the index point the cheapest observed that month: never cheaper than the grid."""
    by_key = price_index.model_scores_by_key(SCORES, "mmlu")
    for thr in price_index.THRESHOLDS["mmlu"]:
        points = price_index.cheapest_by_month(OBS[OBS["date"] <= AS_OF], by_key, thr)
        grid = _grids(OBS, AS_OF)[(f"mmlu>={thr:g}", "world", "blended")].set_index("month")
        observed = grid[grid["n_observations"] > 0]
        assert set(observed.index) == set(points["month"])
        for p in points.itertuples():
            assert grid.loc[p.month, "price_usd_per_mtok"] <= p.blended_usd_per_mtok


def test_grid_places_prices_through_the_index_aliases():
    """A spelling only the alias table maps to a scored model counts, as it does in the index."""
    aliases = pd.DataFrame(
        {"alias": ["alpha-turbo"], "model": ["alpha"], "valid_from": [pd.NaT], "valid_to": [pd.NaT]}
    )
    obs = _obs([("alpha-turbo", "p9", "US", "2024-03-10", 2.0)])
    assert _grids(obs, AS_OF)[("mmlu>=80", "world", "blended")].empty
    obs["model_key"] = price_index.aliased_keys(obs, aliases)
    grid = _grids(obs, AS_OF)[("mmlu>=80", "world", "blended")]
    assert grid["price_usd_per_mtok"].tolist() == [2.0]


def _long_obs(seed: int, months: int = 30) -> pd.DataFrame:
    """Qualifying models whose prices fall with noise, observed most months, plus a
    below-threshold model: enough observed months for every model to fit."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(months):
        day = pd.Timestamp("2022-01-01") + pd.DateOffset(months=m, days=int(rng.integers(0, 27)))
        for model, provider, region, base in (
            ("alpha", "p1", "US", 20.0),
            ("beta", "p2", "CN", 15.0),
            ("gamma", "p1", "US", 2.0),
        ):
            if rng.random() < 0.7:
                price = base * np.exp(-0.04 * m + rng.normal(0, 0.15))
                rows.append((model, provider, region, str(day.date()), float(price)))
    return _obs(rows)


def _poison(obs: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Observations dated after ``cutoff`` at absurd prices, plus an absurdly cheap qualifying
    model after it."""
    out = obs.copy()
    late = out["date"] > cutoff
    out.loc[late, "blended_usd_per_mtok"] = 1e-6
    extra = out[late].head(2).assign(model="delta", model_key="delta", blended_usd_per_mtok=1e-9)
    return pd.concat([out, extra], ignore_index=True)


KEY = ["tier", "region", "price_side", "model", "cutoff_month", "target_month"]
FORECAST = ["median_log", *prices.QUANTILE_COLUMNS[1:], "last_log", "mase_scale_log"]


@settings(max_examples=5)
@given(seed=st.integers(0, 50), cutoff_month=st.integers(8, 24))
def test_backtest_origins_never_see_later_observations(seed, cutoff_month):
    obs = _long_obs(seed)
    cutoff = pd.Timestamp("2022-01-01") + pd.DateOffset(months=cutoff_month)
    cutoff = cutoff - pd.Timedelta(days=1)  # the last day of a month
    as_of = "2024-12-31"
    models = (prices.MODEL_ETS, prices.MODEL_JUMP, prices.BASELINE_LAST, prices.BASELINE_DRIFT)
    a = backtest.price_backtest_rows(
        price_index.capability_grids(obs, SCORES, as_of), models=models
    )
    b = backtest.price_backtest_rows(
        price_index.capability_grids(_poison(obs, cutoff), SCORES, as_of), models=models
    )
    early_a = a[a["cutoff_month"] <= cutoff]
    early_b = b[b["cutoff_month"] <= cutoff]
    assert len(early_a) > 0
    # the same forecasts are made at every origin up to the cutoff ...
    origin = ["tier", "region", "price_side", "model", "cutoff_month"]
    assert set(map(tuple, early_a[origin].to_numpy())) == set(
        map(tuple, early_b[origin].to_numpy())
    )
    # ... with the same bounds at every target both score (the poison may add target months:
    # a later observation is data the score may use, never the forecast)
    both = early_a[KEY + FORECAST].merge(early_b[KEY + FORECAST], on=KEY, suffixes=("", "_p"))
    assert len(both) > 0
    for col in FORECAST:
        np.testing.assert_array_equal(both[col].to_numpy(), both[f"{col}_p"].to_numpy())
    # the poison is real: the forecasts made after the cutoff see it
    late_a = a[a["cutoff_month"] > cutoff]["median_log"].to_numpy()
    late_b = b[b["cutoff_month"] > cutoff]["median_log"].to_numpy()
    assert len(late_b) and (len(late_a) != len(late_b) or not np.allclose(late_a, late_b))


def test_capability_backtest_scores_and_publishes_under_its_own_domain():
    obs = _long_obs(3)
    scores = backtest.capability_price_backtest(obs, SCORES, "2024-12-31")
    ok = scores[scores["status"] == "ok"]
    assert set(ok["domain"]) == {backtest.CAPABILITY_DOMAIN}
    assert "mmlu>=80/world/blended" in set(ok["series"])
    assert set(ok["horizon_months"]) == set(backtest.PRICE_HORIZONS)
    pooled_models = set(ok.loc[ok["series"] == "all/all/all", "model"])
    assert {m + backtest.CONFORMAL_SUFFIX for m in backtest.PRICE_MODELS} <= pooled_models
    model, verdict = backtest.select_published(scores, backtest.CAPABILITY_DOMAIN)
    assert verdict and "no backtest could be scored" not in verdict
    # the vendor-tier domain finds nothing in these scores
    assert "no backtest could be scored" in backtest.select_published(scores)[1]
    assert model.split("+", 1)[0] in backtest.PRICE_MODELS


def test_level_forecast_starts_at_each_series_last_observation_with_its_age():
    as_of = pd.Timestamp(AS_OF)
    table = prices.series_forecast_table(
        price_index.capability_rows(OBS, SCORES, as_of),
        as_of,
        models=(prices.BASELINE_LAST,),
        published_model=prices.BASELINE_LAST,
        verdict="v",
    )
    world = table[(table["tier"] == "mmlu>=80") & (table["region"] == "world")]
    assert (world["origin_month"] == pd.Timestamp("2024-06-01")).all()
    assert (world["last_observed_date"] == pd.Timestamp("2024-06-20")).all()
    assert (world["data_age_days"] == (as_of - pd.Timestamp("2024-06-20")).days).all()
    assert world["horizon_months"].tolist() == list(range(1, prices.HORIZON_MONTHS + 1))
    assert world["median_usd_per_mtok"].to_numpy() == pytest.approx(5.0)
    assert world["published"].all() and (world["backtest_verdict"] == "v").all()
    cn = table[(table["tier"] == "mmlu>=80") & (table["region"] == "CN")]
    assert (cn["last_observed_date"] == pd.Timestamp("2024-05-10")).all()
    # two observed months are too few for any model: a refusal row says so
    assert cn["status"].tolist() == ["refused"]
    gpqa = table[table["tier"] == "gpqa>=50"]
    assert (gpqa["status"] == "refused").all() and (gpqa["data_age_days"] == -1).all()


def test_a_regional_grid_identical_to_the_world_one_is_scored_once():
    months = pd.date_range("2024-01-01", periods=3, freq="MS")
    world = pd.DataFrame({"month": months, "price_usd_per_mtok": [4.0, 2.0, 1.0]})
    cheaper_cn = world.assign(price_usd_per_mtok=[3.0, 2.0, 0.5])
    series = [
        (("mmlu>=80", "world", "blended"), world),
        (("mmlu>=80", "US", "blended"), world.copy()),
        (("mmlu>=80", "CN", "blended"), cheaper_cn),
        (("mmlu>=85", "US", "blended"), world.copy()),
    ]
    kept = [labels for labels, _ in backtest.distinct_series(series)]
    assert kept == [
        ("mmlu>=80", "world", "blended"),
        ("mmlu>=80", "CN", "blended"),
        ("mmlu>=85", "US", "blended"),
    ]
