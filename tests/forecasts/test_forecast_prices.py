"""API price models on hand-made grids and simulated series with known drift."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts import prices as price_models
from forecasts.common import quiet_fit
from tests.forecasts.forecast_sim import price_rows


def _row(model, tier, date, usd, region="US"):
    return {
        "model": model,
        "provider": "p",
        "region": region,
        "tier": tier,
        "effective_date": pd.Timestamp(date),
        "input_usd_per_mtok": usd,
        "output_usd_per_mtok": usd,
    }


def test_grid_takes_cheapest_at_or_above_tier_and_carries_forward():
    rows = pd.DataFrame(
        [
            _row("a", "frontier", "2024-01-10", 10.0),
            _row("b", "gpt4_class", "2024-02-03", 4.0),
            _row("c", "small", "2024-02-20", 0.5),
            _row("a", "frontier", "2024-04-01", 3.0),
            _row("z", "frontier", "2024-03-01", 1.0, region="CN"),
            _row("free", "frontier", "2024-03-01", 0.0),
            _row("undated", "frontier", None, 0.01),
        ]
    )
    g = price_models.monthly_grid(rows, "gpt4_class", "US", "input", "2024-09-15")
    # the grid ends at the last observation (April), not at the as-of date
    assert g["month"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02", "2024-03", "2024-04"]
    # Jan: only a (10); Feb: b (4) beats a; Mar: carried; Apr: a cut to 3.
    assert g["price_usd_per_mtok"].tolist() == [10.0, 4.0, 4.0, 3.0]
    assert g["cheapest_model"].tolist() == ["p / a", "p / b", "p / b", "p / a"]
    assert g["n_observations"].tolist() == [1, 1, 0, 1]
    frontier = price_models.monthly_grid(rows, "frontier", "US", "input", "2024-05-15")
    assert frontier["price_usd_per_mtok"].tolist() == [10.0, 10.0, 10.0, 3.0]
    small = price_models.monthly_grid(rows, "small", "US", "input", "2024-05-15")
    assert small["price_usd_per_mtok"].tolist() == [10.0, 0.5, 0.5, 0.5]
    assert price_models.last_observed_date(
        rows, "small", "US", "input", "2024-05-15"
    ) == pd.Timestamp("2024-04-01")


def test_grid_rejects_unknown_tier_and_missing_column():
    rows = pd.DataFrame([_row("a", "frontier", "2024-01-10", 10.0)])
    with pytest.raises(ValueError, match="unknown tier 'huge'"):
        price_models.monthly_grid(rows, "huge", "US", "input", "2024-05-15")
    with pytest.raises(ValueError, match="missing column 'output_usd_per_mtok'"):
        price_models.monthly_grid(
            rows.drop(columns="output_usd_per_mtok"), "frontier", "US", "output", "2024-05-15"
        )


def test_drift_baseline_recovers_known_drift():
    drift = -0.06
    rows = price_rows(drift, 0.04, 120, seed=3)
    g = price_models.monthly_grid(rows, "frontier", "US", "input", "2029-12-31")
    fit = price_models.fit_model(price_models.BASELINE_DRIFT, g)
    assert fit["status"] == "ok"
    d = np.diff(np.log(g["price_usd_per_mtok"].to_numpy()))
    # independent reference: the drift of a random walk is the mean change
    assert fit["params"]["drift_log_per_month"] == pytest.approx(d.mean(), abs=1e-12)
    se = d.std(ddof=1) / np.sqrt(len(d))
    assert abs(fit["params"]["drift_log_per_month"] - drift) < 3 * se
    q = fit["quantiles"]
    h = np.arange(1, 25)
    np.testing.assert_allclose(
        q["median_log"], np.log(g["price_usd_per_mtok"].iloc[-1]) + d.mean() * h, atol=1e-12
    )
    half = (q["upper_95_log"] - q["lower_95_log"]) / 2
    np.testing.assert_allclose(half, 1.959964 * d.std(ddof=1) * np.sqrt(h * (1 + h / len(d))))


def test_last_value_interval_is_the_empirical_spread_of_past_changes():
    # a price cut by half every 4th month: 1-month changes are 0 (3 in 4) or log(0.5)
    y = np.log(30.0) + np.log(0.5) * (np.arange(41) // 4)
    q, params = price_models.forecast_last_value(y, 6)
    assert params["empirical_horizons"] == 6
    np.testing.assert_array_equal(q["median_log"], np.full(6, y[-1]))
    ref = np.quantile(y[1:] - y[:-1], 0.1)
    assert q["lower_80_log"][0] == pytest.approx(y[-1] + ref)
    assert q["upper_80_log"][0] == pytest.approx(y[-1])  # prices never rose
    # 4 months ahead: exactly one cut every time
    assert q["lower_80_log"][3] == pytest.approx(y[-1] + np.log(0.5))


def test_decline_factor_matches_numpy_fit_on_exact_tenfold_decline():
    months = pd.date_range("2021-01-01", periods=30, freq="MS")
    rng = np.random.default_rng(0)
    log_p = np.log(20.0) - np.log(10.0) / 12 * np.arange(30) + 0.01 * rng.standard_normal(30)
    rows = pd.DataFrame(
        [_row("a", "frontier", m, float(np.exp(v))) for m, v in zip(months, log_p, strict=True)]
    )
    out = price_models.decline_per_year(
        price_models.monthly_grid(rows, "frontier", "US", "input", months[-1])
    )
    slope = np.polyfit(np.arange(30), log_p, 1)[0]
    assert out["decline_factor_per_year"] == pytest.approx(np.exp(-12 * slope), rel=1e-9)
    assert out["decline_factor_per_year_low"] < 10.0 < out["decline_factor_per_year_high"]


def test_models_refuse_with_too_few_points():
    rows = price_rows(-0.05, 0.03, 5, seed=1)
    g = price_models.monthly_grid(rows, "frontier", "US", "input", "2020-12-31")
    for model in (price_models.MODEL_ETS, price_models.MODEL_JUMP, price_models.MODEL_OLS):
        fit = price_models.fit_model(model, g)
        assert fit["status"] == "refused"
        assert "5 months with a price observation <" in fit["reason"]
        assert "quantiles" not in fit
    assert price_models.decline_per_year(g)["status"] == "refused"
    table = price_models.forecast_table(rows, "2020-12-31")
    us = table[(table["tier"] == "frontier") & (table["region"] == "US")]
    # 5 points carry last value (1 parameter + 4) and nothing else
    assert set(us.loc[us["model"] != price_models.BASELINE_LAST, "status"]) == {"refused"}
    assert us.loc[us["model"] != price_models.BASELINE_LAST, "median_usd_per_mtok"].isna().all()
    assert set(us.loc[us["model"] == price_models.BASELINE_LAST, "status"]) == {"ok"}


def test_forecast_table_is_ordered_and_on_dollar_scale():
    rows = price_rows(-0.05, 0.05, 36, seed=2)
    t = price_models.forecast_table(rows, "2022-12-31")
    ok = t[t["status"] == "ok"]
    assert set(ok["model"]) == set(price_models.PRICE_MODELS)
    assert (ok["lower_95_usd_per_mtok"] <= ok["lower_80_usd_per_mtok"]).all()
    assert (ok["lower_80_usd_per_mtok"] <= ok["median_usd_per_mtok"]).all()
    assert (ok["median_usd_per_mtok"] <= ok["upper_80_usd_per_mtok"]).all()
    assert (ok["upper_80_usd_per_mtok"] <= ok["upper_95_usd_per_mtok"]).all()
    assert ok["horizon_months"].max() == 24
    assert (ok["target_month"] > ok["origin_month"]).all()
    # origin = last observation; its age is counted to the as-of date
    assert (ok["origin_month"] == pd.Timestamp("2022-12-01")).all()
    assert (
        ok["data_age_days"] == (pd.Timestamp("2022-12-31") - pd.Timestamp("2022-12-10")).days
    ).all()
    assert not t["published"].any()


def test_forecast_table_marks_published_model_and_flags_below_floor():
    rows = price_rows(-0.4, 0.01, 24, seed=2)  # a steep fall: the drift runs far below the floor
    t = price_models.forecast_table(
        rows, "2021-12-31", published_model=price_models.BASELINE_DRIFT, verdict="drift won"
    )
    pub = t[t["published"]]
    assert set(pub["model"]) == {price_models.BASELINE_DRIFT}
    assert set(pub["backtest_verdict"]) == {"drift won"}
    fr = t[(t["tier"] == "frontier") & (t["region"] == "US") & (t["price_side"] == "input")]
    floor = 0.1 * rows["input_usd_per_mtok"].min()
    drift = fr[fr["model"] == price_models.BASELINE_DRIFT]
    np.testing.assert_array_equal(
        drift["below_floor"].to_numpy(), (drift["median_usd_per_mtok"] < floor).to_numpy()
    )
    assert drift["below_floor"].any() and not drift["below_floor"].all()
    assert not fr.loc[fr["model"] == price_models.BASELINE_LAST, "below_floor"].any()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=12), st.integers(0, 2))
def test_grid_never_exceeds_any_current_qualifying_price(values, tier_idx):
    tiers = list(price_models.TIER_RANK)
    rows = pd.DataFrame(
        [
            _row(f"m{i % 3}", tiers[i % 3], pd.Timestamp("2024-01-01") + pd.DateOffset(months=i), v)
            for i, v in enumerate(values)
        ]
    )
    tier = tiers[tier_idx]
    g = price_models.monthly_grid(rows, tier, "US", "input", "2025-06-30")
    eligible = rows[rows["tier"].map(price_models.TIER_RANK) >= price_models.TIER_RANK[tier]]
    for _, r in g.iterrows():
        seen = eligible[eligible["effective_date"] <= r["month"] + pd.offsets.MonthEnd(0)]
        current = seen.sort_values("effective_date").groupby("model")["input_usd_per_mtok"].last()
        assert r["price_usd_per_mtok"] == pytest.approx(current.min())


def reference_grid(rows: pd.DataFrame) -> pd.DataFrame:
    """``grid_from_rows`` with pandas' group-by, unstack and forward fill, to check the array
    version against: the last price of each month and key, carried forward, the cheapest."""
    rows = rows.assign(month=rows["date"].dt.to_period("M").dt.to_timestamp())
    months = pd.date_range(rows["month"].min(), rows["month"].max(), freq="MS")
    wide = rows.groupby(["month", "key"])["price"].last().unstack("key").reindex(months).ffill()
    counts = rows.groupby("month").size().reindex(months, fill_value=0)
    return pd.DataFrame(
        {
            "month": months,
            "price_usd_per_mtok": wide.min(axis=1).to_numpy(dtype=float),
            "cheapest_model": wide.idxmin(axis=1).astype("string").to_numpy(),
            "n_observations": counts.to_numpy(dtype="int64"),
        }
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["p / a", "p / b", "q / a", "q / c"]),
            st.integers(0, 900),
            st.sampled_from([0.5, 1.0, 2.0, 3.0, 8.0, np.nan]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_grid_matches_the_group_by_reference(cells):
    rows = pd.DataFrame(
        {
            "key": [key for key, _, _ in cells],
            "date": [pd.Timestamp("2023-01-01") + pd.Timedelta(days=d) for _, d, _ in cells],
            "price": [price for _, _, price in cells],
        }
    ).sort_values(["date", "key", "price"], kind="mergesort")
    try:
        expected = reference_grid(rows.copy())
    except ValueError:  # a month with no price for any key: neither can name a cheapest
        with pytest.raises(ValueError):
            price_models.grid_from_rows(rows.copy())
        return
    pd.testing.assert_frame_equal(price_models.grid_from_rows(rows.copy()), expected)


STEP_PRICES = [60.0] * 8 + [30.0] * 2 + [10.5] * 2 + [1.25] * 4 + [0.6] * 7 + [0.3] * 22
STEP_COUNTS = [
    2,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    0,
    1,
    0,
    3,
    1,
    2,
    1,
    1,
    1,
    1,
    0,
    0,
    0,
    1,
    3,
    1,
    7,
    2,
    3,
    0,
    3,
] + [0] * 15


def test_step_shaped_grid_fits_quietly():
    """A step-shaped grid (list prices cut now and then): every model fits, and nothing reaches
    the warnings machinery."""
    grid = pd.DataFrame(
        {
            "month": pd.date_range("2023-03-01", periods=len(STEP_PRICES), freq="MS"),
            "price_usd_per_mtok": STEP_PRICES,
            "cheapest_model": "p / m",
            "n_observations": STEP_COUNTS,
        }
    )
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fits = {m: price_models.fit_model(m, grid) for m in price_models.PRICE_MODELS}
    assert seen == []
    assert {f["status"] for f in fits.values()} == {"ok"}
    # the jump model never forecasts a rise the data never showed
    q = fits[price_models.MODEL_JUMP]["quantiles"]
    assert np.all(q["upper_95_log"] <= np.log(STEP_PRICES[-1]) + 1e-12)


def test_quiet_fit_keeps_distinct_messages_in_order():
    with quiet_fit() as log:
        warnings.warn("first", RuntimeWarning, stacklevel=1)
        warnings.warn("second\nmore detail", UserWarning, stacklevel=1)
        warnings.warn("first", RuntimeWarning, stacklevel=1)
    assert log.text() == "RuntimeWarning: first | UserWarning: second"


def test_model_modules_import_without_dagster():
    code = (
        "import sys; import forecasts.prices, forecasts.survival, forecasts.share, "
        "forecasts.backtest; print('dagster' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
