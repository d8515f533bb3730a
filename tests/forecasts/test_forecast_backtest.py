"""Backtests: no data after a cutoff reaches its forecast, scores match hand calculations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts import backtest, prices, survival
from tests.forecasts.forecast_sim import price_rows, startup_rows

CUTOFF = pd.Timestamp("2021-06-30")


def _poison_prices(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows dated after the cutoff replaced by absurd values, plus new absurd models after it."""
    out = rows.copy()
    late = pd.to_datetime(out["effective_date"]) > CUTOFF
    out.loc[late, ["input_usd_per_mtok", "output_usd_per_mtok"]] = 1e-6
    extra = out[late].head(3).assign(model="poison", tier="small", input_usd_per_mtok=1e-9)
    return pd.concat([out, extra], ignore_index=True)


def test_price_forecast_at_cutoff_ignores_everything_after_it():
    rows = price_rows(-0.05, 0.08, 48, seed=4)
    clean_grid, clean = backtest.price_forecasts_at(rows, CUTOFF, "small", "US", "input")
    dirty_grid, dirty = backtest.price_forecasts_at(
        _poison_prices(rows), CUTOFF, "small", "US", "input"
    )
    pd.testing.assert_frame_equal(clean_grid, dirty_grid)
    for model in backtest.PRICE_MODELS:
        assert clean[model]["status"] == "ok"
        for k in prices.QUANTILE_COLUMNS:
            np.testing.assert_array_equal(
                clean[model]["quantiles"][k], dirty[model]["quantiles"][k]
            )
    # and the poison is real: a forecast made after it sees it
    _, late = backtest.price_forecasts_at(
        _poison_prices(rows), "2023-12-31", "small", "US", "input"
    )
    assert late[prices.BASELINE_LAST]["quantiles"]["median_log"][0] < np.log(1e-5)


def test_price_backtest_rows_before_poison_keep_their_forecasts():
    rows = price_rows(-0.05, 0.08, 22, seed=6)
    models = (prices.MODEL_ETS, prices.MODEL_JUMP, prices.BASELINE_LAST)
    a = backtest.price_backtest_rows(
        prices.tier_grids(rows, "2021-10-31"), models=models, horizons=(3, 6)
    )
    b = backtest.price_backtest_rows(
        prices.tier_grids(_poison_prices(rows), "2021-10-31"), models=models, horizons=(3, 6)
    )
    key = ["tier", "region", "price_side", "model", "cutoff_month", "target_month"]
    early_a = a[a["cutoff_month"] <= CUTOFF].sort_values(key).reset_index(drop=True)
    early_b = b[b["cutoff_month"] <= CUTOFF].sort_values(key).reset_index(drop=True)
    cols = ["median_log", "lower_95_log", "upper_95_log", "last_log", "mase_scale_log"]
    assert len(early_a) > 0
    pd.testing.assert_frame_equal(early_a[key + cols], early_b[key + cols])
    # the poison does reach the cutoffs after it (and the realised values)
    late_a = a[a["cutoff_month"] > CUTOFF]["median_log"].to_numpy()
    late_b = b[b["cutoff_month"] > CUTOFF]["median_log"].to_numpy()
    assert len(late_a) and not np.allclose(late_a, late_b)


def test_price_scores_match_hand_calculation():
    rows = pd.DataFrame(
        {
            "tier": "small",
            "region": "US",
            "price_side": "input",
            "model": [
                prices.MODEL_ETS,
                prices.MODEL_ETS,
                prices.BASELINE_LAST,
                prices.BASELINE_LAST,
                prices.BASELINE_DRIFT,
                prices.BASELINE_DRIFT,
            ],
            "cutoff_month": pd.to_datetime(["2024-01-01", "2024-02-01"] * 3),
            "target_month": pd.to_datetime(["2024-03-01", "2024-04-01"] * 3),
            "horizon_months": 3,
            "actual_log": [0.0, 0.0] * 3,
            "last_log": 0.5,
            "mase_scale_log": [0.5, 0.25] * 3,
            "median_log": [0.1, -0.2, 0.5, 0.5, 0.2, 0.2],
            "lower_80_log": [-0.1, -0.3, 0.4, 0.4, -0.5, -0.5],
            "upper_80_log": [0.3, -0.1, 0.6, 0.6, 0.5, 0.5],
            "lower_95_log": [-0.2, -0.5, 0.3, 0.3, -1.0, -1.0],
            "upper_95_log": [0.4, 0.1, 0.7, 0.7, 1.0, 1.0],
        }
    )
    sc = backtest.score_price_backtest(rows)
    rw = sc[(sc["series"] == "small/US/input") & (sc["model"] == prices.MODEL_ETS)].iloc[0]
    assert rw["mae_log"] == pytest.approx(0.15)
    assert rw["mase_log"] == pytest.approx((0.1 / 0.5 + 0.2 / 0.25) / 2)
    smape = [
        200 * abs(np.exp(0.1) - 1) / (np.exp(0.1) + 1),
        200 * abs(np.exp(-0.2) - 1) / (np.exp(-0.2) + 1),
    ]
    assert rw["smape_pct"] == pytest.approx(np.mean(smape))
    assert rw["coverage_80_pct"] == pytest.approx(50.0)
    assert rw["coverage_95_pct"] == pytest.approx(100.0)
    assert rw["skill_vs_last_value"] == pytest.approx(1 - 0.15 / 0.5)
    assert rw["skill_vs_rw_drift"] == pytest.approx(1 - 0.15 / 0.2)
    # interval score: width, plus 2/alpha times the miss (second forecast misses by 0.1)
    assert rw["interval_score_80_log"] == pytest.approx((0.4 + (0.2 + 10 * 0.1)) / 2)
    assert rw["interval_score_95_log"] == pytest.approx((0.6 + 0.6) / 2)
    pooled = sc[(sc["series"] == "all/all/all") & (sc["model"] == prices.MODEL_ETS)].iloc[0]
    assert pooled["n_forecasts"] == 2 and pooled["mae_log"] == pytest.approx(0.15)
    last = sc[(sc["series"] == "small/US/input") & (sc["model"] == prices.BASELINE_LAST)].iloc[0]
    assert last["skill_vs_last_value"] == pytest.approx(0.0)
    short = backtest.coverage_shortfalls(sc)
    assert short.empty  # two forecasts each: too few for a verdict


def test_coverage_shortfall_flags_overconfident_model():
    sc = backtest.typed_scores(
        pd.DataFrame(
            {
                "domain": "api_price",
                "series": "all/all/all",
                "model": ["good", "bad", "bad"],
                "horizon_months": [1, 1, 3],
                "n_forecasts": [10, 10, 10],
                "coverage_80_pct": [78.0, 70.0, 50.0],
                "coverage_95_pct": [94.0, 90.0, 85.0],
                "status": "ok",
            }
        )
    )
    short = backtest.coverage_shortfalls(sc)
    assert short["model"].tolist() == ["bad"]
    assert short["coverage_80_pct"].iloc[0] == pytest.approx(60.0)


def _poison_startups(df: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Every company alive at the cutoff shut down right after it, new companies founded after."""
    out = df.copy()
    alive = (out["status"] == "active") | (pd.to_datetime(out["status_date"]) > cutoff)
    out.loc[alive, "status"] = "shutdown"
    out.loc[alive, "status_date"] = cutoff + pd.Timedelta(days=1)
    late = out.head(5).assign(
        company_id=[f"late{i}" for i in range(5)],
        founded=cutoff + pd.Timedelta(days=10),
        status="pivoted",
    )
    late["status_date"] = cutoff + pd.Timedelta(days=40)
    return pd.concat([out, late], ignore_index=True)


def test_survival_forecast_at_cutoff_is_recensored_and_unchanged_by_later_data():
    df = startup_rows(80, {"shutdown": 0.1, "acquired": 0.1}, seed=8)
    cutoff = pd.Timestamp("2022-06-30")
    clean = backtest.survival_predictions_at(df, cutoff, (6, 12))
    dirty = backtest.survival_predictions_at(_poison_startups(df, cutoff), cutoff, (6, 12))
    pd.testing.assert_frame_equal(clean, dirty)
    assert (clean["status"] == "ok").all()
    # companies that exit after the cutoff are among those forecast (they were active then)
    later_exits = df[
        (df["status"] != "active")
        & (pd.to_datetime(df["status_date"]) > cutoff)
        & (pd.to_datetime(df["founded"]) <= cutoff)
    ]
    assert len(later_exits) > 0
    assert set(later_exits["company_id"]) <= set(clean["company_id"])


def test_survival_backtest_counts_outcomes():
    df = startup_rows(60, {"shutdown": 0.15, "acquired": 0.1}, seed=12)
    sc = backtest.survival_backtest(df, "2026-06-30")
    persist = sc[sc["model"] == "baseline_persistence"]
    km = sc[sc["model"] == "kaplan_meier"]
    assert (persist["expected_exits"] == 0).all()
    assert (persist["skill_vs_last_value"] == 0).all()
    assert (km["n_forecasts"] == persist["n_forecasts"].to_numpy()).all()
    # observed exits are the same whatever the model
    np.testing.assert_array_equal(
        km["observed_exits"].to_numpy(), persist["observed_exits"].to_numpy()
    )
    assert ((km["brier"] >= 0) & (km["brier"] <= 1)).all()


def test_poisson_binomial_matches_enumeration():
    p = np.array([0.2, 0.5, 0.9])
    pmf = survival.poisson_binomial(p)
    brute = np.zeros(4)
    for bits in range(8):
        k = [(bits >> i) & 1 for i in range(3)]
        brute[sum(k)] += np.prod([pi if ki else 1 - pi for pi, ki in zip(p, k, strict=True)])
    np.testing.assert_allclose(pmf, brute)


def test_share_backtest_uses_only_figures_published_before_cutoff():
    years = np.arange(2014, 2026)
    share = pd.DataFrame(
        {
            "share_id": [f"r{y}" for y in years],
            "period": years.astype(str),
            "kind_of_figure": "actual",
            "basis": "units",
            "domestic_share_pct": np.linspace(5, 45, len(years)),
            "domestic_share_pct_high": np.nan,
            "source_org": "sim",
            "published": [f"{y + 1}-02-01" for y in years],
        }
    )
    sc = backtest.share_backtest(share, "2026-06-30")
    assert (sc["status"] == "ok").all()
    # a late figure for an early year (published after every cutoff) changes nothing
    poisoned = pd.concat(
        [
            share,
            share.head(1).assign(
                share_id="late", period="2015", domestic_share_pct=99.0, published="2027-01-01"
            ),
        ]
    )
    sc2 = backtest.share_backtest(poisoned, "2026-06-30")
    pd.testing.assert_frame_equal(sc, sc2)


@settings(max_examples=15, deadline=None)
@given(st.integers(6, 20), st.integers(0, 1000), st.floats(1e-9, 1e3))
def test_no_row_after_any_cutoff_changes_the_forecast(cutoff_idx, seed, poison_usd):
    rows = price_rows(-0.04, 0.1, 24, seed=seed)
    cutoff = pd.Timestamp(rows["effective_date"].iloc[cutoff_idx])
    later = pd.to_datetime(rows["effective_date"]) > cutoff
    dirty = rows.copy()
    dirty.loc[later, "input_usd_per_mtok"] = poison_usd
    models = (
        prices.MODEL_ETS,
        prices.MODEL_JUMP,
        prices.BASELINE_LAST,
        prices.BASELINE_DRIFT,
        prices.MODEL_OLS,
    )
    _, a = backtest.price_forecasts_at(rows, cutoff, "frontier", "US", "input", models)
    _, b = backtest.price_forecasts_at(dirty, cutoff, "frontier", "US", "input", models)
    for m in models:
        assert a[m]["status"] == b[m]["status"] == "ok"
        np.testing.assert_array_equal(
            a[m]["quantiles"]["median_log"], b[m]["quantiles"]["median_log"]
        )


def test_backtest_counts_fits_that_warned():
    rows = pd.DataFrame(
        {
            "tier": "small",
            "region": "US",
            "price_side": "input",
            "model": prices.MODEL_ETS,
            "cutoff_month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
            "target_month": pd.to_datetime(["2024-04-01", "2024-05-01", "2024-06-01"]),
            "horizon_months": 3,
            "actual_log": 0.0,
            "last_log": 0.0,
            "mase_scale_log": 0.1,
            "fit_warned": [True, False, True],
            **{k: 0.0 for k in prices.QUANTILE_COLUMNS},
        }
    )
    sc = backtest.score_price_backtest(rows)
    assert sc.loc[sc["series"] == "small/US/input", "n_forecasts_fit_warned"].tolist() == [2]


def test_horizon_buckets():
    np.testing.assert_array_equal(
        backtest.horizon_bucket(np.array([0, 1, 3, 4, 6, 7, 12, 13])), [0, 3, 3, 6, 6, 12, 12, 0]
    )


def test_price_backtest_scores_only_observed_months():
    """Origins and targets are months with a price row; carried-forward months and the months
    between the last observation and the as-of date are never scored."""
    rows = price_rows(-0.05, 0.08, 40, seed=11)
    sparse = rows.iloc[::3].copy()  # a price row every third month
    out = backtest.price_backtest_rows(
        prices.tier_grids(sparse, "2026-11-30"), models=(prices.BASELINE_LAST, prices.MODEL_JUMP)
    )
    observed = set(pd.to_datetime(sparse["effective_date"]).dt.to_period("M").dt.to_timestamp())
    assert len(out) > 0
    assert set(out["target_month"]) <= observed
    assert set(out["cutoff_month"]) <= observed
    lead = (out["target_month"].dt.year - out["cutoff_month"].dt.year) * 12 + (
        out["target_month"].dt.month - out["cutoff_month"].dt.month
    )
    np.testing.assert_array_equal(lead.to_numpy(), out["lead_months"].to_numpy())
    assert (lead % 3 == 0).all() and lead.max() <= 12


def test_select_published_prefers_last_value_unless_beaten_everywhere():
    def scores(skill_ets):
        return backtest.typed_scores(
            pd.DataFrame(
                {
                    "domain": "api_price",
                    "series": "all/all/all",
                    "model": [prices.BASELINE_LAST] * 3 + [prices.MODEL_ETS] * 3,
                    "horizon_months": [3, 6, 12] * 2,
                    "n_forecasts": 10,
                    "mase_log": [1.0, 1.0, 1.0, 0.9, 0.9, 0.9],
                    "coverage_80_pct": 80.0,
                    "coverage_95_pct": 95.0,
                    "skill_vs_last_value": [0.0, 0.0, 0.0, *skill_ets],
                    "status": "ok",
                }
            )
        )

    model, verdict = backtest.select_published(scores([0.1, 0.2, 0.0]))
    assert model == prices.MODEL_ETS and "10.0% below last value" in verdict
    model, verdict = backtest.select_published(scores([0.3, 0.3, -0.01]))
    assert model == prices.BASELINE_LAST
    assert "nothing beats last value" in verdict


def test_exit_count_coverage_without_cutoffs_is_nan_and_silent(recwarn):
    empty = pd.DataFrame({"cutoff": [], "p_independent": [], "independent": []})
    assert all(np.isnan(backtest._exit_count_coverage(empty)))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    one = pd.DataFrame({"cutoff": [1, 1], "p_independent": [0.9, 0.8], "independent": [1.0, 1.0]})
    assert backtest._exit_count_coverage(one) == (100.0, 100.0)  # 0 exits, inside both intervals
