"""Split-conformal price intervals: offsets match a hand calculation, bounds never use errors
from after a forecast's origin, the published verdict names the interval that won."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts import backtest
from forecasts import prices as price_models


def test_conformal_offsets_match_hand_ranks():
    # 19 errors -0.9..0.9: the 80 % bounds are the 2nd smallest (floor(20 x 0.1) = 2) and the
    # 18th (ceil(20 x 0.9) = 18); the 95 % ranks 0 and 20 fall outside 1..19, so no bound
    errors = np.arange(-9, 10) / 10
    off = backtest.conformal_offsets(errors[::-1])
    assert off["lower_80_log"] == -0.8
    assert off["upper_80_log"] == 0.8
    assert np.isnan(off["lower_95_log"]) and np.isnan(off["upper_95_log"])
    # 39 errors are the fewest that bound a 95 % interval: ranks 1 and 39
    off39 = backtest.conformal_offsets(np.arange(1, 40, dtype=float) - 20)
    assert (off39["lower_95_log"], off39["upper_95_log"]) == (-19.0, 19.0)


def test_conformal_bounds_contain_the_median():
    # every error negative (prices only fall): the upper bound stays at the median
    off = backtest.conformal_offsets(-np.arange(1.0, 41.0))
    assert off["upper_80_log"] == 0.0 and off["upper_95_log"] == 0.0
    assert off["lower_80_log"] == -37.0  # floor(41 x 0.1) = 4th smallest of -40..-1


@settings(deadline=None, max_examples=60)
@given(st.lists(st.floats(-5, 5, allow_nan=False, allow_infinity=False), min_size=39, max_size=200))
def test_conformal_offsets_bound_the_tails(errors):
    e = np.array(errors)
    off = backtest.conformal_offsets(e)
    assert off["lower_95_log"] <= off["lower_80_log"] <= 0 <= off["upper_80_log"]
    assert off["upper_80_log"] <= off["upper_95_log"]
    for name, p in backtest.CONFORMAL_LEVELS.items():
        if name.startswith("lower"):
            assert np.mean(e < off[name]) <= p + 1e-12
        else:
            assert np.mean(e > off[name]) <= 1 - p + 1e-12


def _rows(n_origins: int, seed: int) -> pd.DataFrame:
    """Backtest rows of one model at horizon 3: origin month k, target month k + 1."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2020-01-01", periods=n_origins + 1, freq="MS")
    med = np.zeros(n_origins)
    return pd.DataFrame(
        {
            "tier": "small",
            "region": "US",
            "price_side": "input",
            "model": price_models.BASELINE_LAST,
            "cutoff_month": months[:-1],
            "target_month": months[1:],
            "lead_months": 1,
            "horizon_months": 3,
            "actual_log": rng.normal(0, 1, n_origins),
            "last_log": med,
            "mase_scale_log": 1.0,
            "fit_warned": False,
            "median_log": med,
            "lower_80_log": med - 9.0,
            "upper_80_log": med + 9.0,
            "lower_95_log": med - 9.0,
            "upper_95_log": med + 9.0,
        }
    )


def test_conformal_bounds_use_only_errors_observed_by_the_origin():
    rows = _rows(60, seed=1)
    cal = backtest.with_conformal(rows)
    conf = cal[cal["model"] == price_models.BASELINE_LAST + backtest.CONFORMAL_SUFFIX].reset_index(
        drop=True
    )
    # origin k sees the errors of targets 1..k (target month <= origin month): k errors
    k = 30
    errors = rows["actual_log"].to_numpy()[:k]
    expected = backtest.conformal_offsets(errors)
    assert conf.loc[k, "lower_80_log"] == expected["lower_80_log"]
    assert conf.loc[k, "upper_80_log"] == expected["upper_80_log"]
    # fewer than 39 earlier errors: the 95 % interval keeps the model's own bounds
    assert conf.loc[k, "upper_95_log"] == 9.0
    # fewer than 9 earlier errors: nothing calibrated
    assert not conf.loc[5, "calibrated"] and conf.loc[5, "upper_80_log"] == 9.0
    # poisoning every later outcome leaves the bounds at origin k unchanged
    poisoned = rows.copy()
    poisoned.loc[k:, "actual_log"] = 1e3
    conf_p = backtest.with_conformal(poisoned)
    conf_p = conf_p[
        conf_p["model"] == price_models.BASELINE_LAST + backtest.CONFORMAL_SUFFIX
    ].reset_index(drop=True)
    pd.testing.assert_series_equal(conf.loc[:k, "lower_80_log"], conf_p.loc[:k, "lower_80_log"])
    pd.testing.assert_series_equal(conf.loc[:k, "upper_80_log"], conf_p.loc[:k, "upper_80_log"])


def test_conformal_variant_is_scored_and_beats_too_wide_bounds():
    rows = _rows(80, seed=2)
    scores = backtest.score_price_backtest(backtest.with_conformal(rows))
    pooled = scores[scores["series"] == "all/all/all"].set_index("model")
    own, conf = (
        pooled.loc[price_models.BASELINE_LAST],
        pooled.loc[price_models.BASELINE_LAST + backtest.CONFORMAL_SUFFIX],
    )
    assert own["n_forecasts"] == conf["n_forecasts"] == 80
    assert own["coverage_80_pct"] == 100.0
    assert conf["interval_score_80_log"] < own["interval_score_80_log"]
    # plain NumPy: coverage of the calibrated 80 % bounds
    full = backtest.with_conformal(rows)
    c = full[full["model"].str.endswith(backtest.CONFORMAL_SUFFIX)]
    hit = (c["lower_80_log"] <= c["actual_log"]) & (c["actual_log"] <= c["upper_80_log"])
    assert conf["coverage_80_pct"] == pytest.approx(100 * hit.mean())
    # origin k (0-based) sees k earlier errors; 9 are needed, so origins 9..79 are calibrated
    assert conf["n_forecasts_calibrated"] == int(c["calibrated"].sum()) == 80 - 9


def test_select_published_names_the_interval_that_won():
    def frame(model, is80):
        return pd.DataFrame(
            {
                "domain": "api_price",
                "series": "all/all/all",
                "model": model,
                "horizon_months": [3, 6, 12],
                "n_forecasts": 40,
                "mase_log": 1.0,
                "coverage_80_pct": 80.0,
                "coverage_95_pct": 95.0,
                "interval_score_80_log": is80,
                "interval_score_95_log": 2.0,
                "skill_vs_last_value": 0.0,
                "status": "ok",
            }
        )

    conf = price_models.BASELINE_LAST + backtest.CONFORMAL_SUFFIX
    scores = backtest.typed_scores(
        pd.concat([frame(price_models.BASELINE_LAST, 2.0), frame(conf, 1.5)], ignore_index=True)
    )
    model, verdict = backtest.select_published(scores)
    assert model == conf
    assert "nothing beats last value" in verdict and "+25.0% for conformal" in verdict
    worse = backtest.typed_scores(
        pd.concat([frame(price_models.BASELINE_LAST, 2.0), frame(conf, 2.5)], ignore_index=True)
    )
    assert backtest.select_published(worse)[0] == price_models.BASELINE_LAST


def test_calibrate_scales_offsets_by_root_lead_at_every_lead():
    h = 24
    q = {k: np.zeros(h) for k in price_models.QUANTILE_COLUMNS}
    q["lower_80_log"][:] = -0.1
    q["median_log"][:] = 0.5
    offsets = {"lower_80_log": -1.0, "upper_80_log": 0.5, "lower_95_log": -2.0, "upper_95_log": 1.0}
    out = price_models.calibrate(q, offsets)
    # hand values: median + offset x sqrt(lead)
    assert out["lower_80_log"][0] == -0.5  # lead 1
    assert out["lower_80_log"][3] == pytest.approx(0.5 - 2.0)  # lead 4: sqrt(4) = 2
    assert out["upper_95_log"][8] == pytest.approx(0.5 + 3.0)  # lead 9: sqrt(9) = 3
    # lead 16 was never backtested: the square-root law extrapolated, no jump to own bounds
    assert out["lower_80_log"][15] == pytest.approx(0.5 - 4.0)
    assert np.all(np.diff(out["lower_95_log"]) < 0) and np.all(np.diff(out["upper_95_log"]) > 0)
    assert np.all(q["lower_80_log"] == -0.1)  # input untouched
    # no finite offsets: the model's own bounds stay
    same = price_models.calibrate(q, {**offsets, "upper_80_log": np.nan})
    assert np.array_equal(same["lower_80_log"], q["lower_80_log"])


def test_conformal_errors_are_pooled_over_leads_scaled_by_root_lead():
    # two leads from each origin; lead-4 errors are twice the lead-1 ones, as a random walk's
    rows = _rows(60, seed=3)
    far = rows.copy()
    far["lead_months"] = 4
    far["horizon_months"] = 6
    far["actual_log"] = 2 * rows["actual_log"]
    both = pd.concat([rows, far], ignore_index=True)
    cal = backtest.with_conformal(both)
    conf = cal[cal["model"].str.endswith(backtest.CONFORMAL_SUFFIX)]
    k = 30
    origin = rows.loc[k, "cutoff_month"]
    # plain NumPy: errors of targets on or before the origin, each divided by sqrt(lead)
    seen = both[both["target_month"] <= origin]
    normalised = (seen["actual_log"] / np.sqrt(seen["lead_months"])).to_numpy()
    expected = backtest.conformal_offsets(normalised)
    at = conf[conf["cutoff_month"] == origin].set_index("lead_months")
    assert at.loc[1, "lower_80_log"] == pytest.approx(expected["lower_80_log"])
    assert at.loc[4, "upper_80_log"] == pytest.approx(2 * expected["upper_80_log"])
    # the published offsets are the same quantiles over every error, on each horizon's row
    final = backtest.final_offsets(both).set_index("horizon_months")
    every = backtest.conformal_offsets(
        (both["actual_log"] / np.sqrt(both["lead_months"])).to_numpy()
    )
    for horizon in (3, 6):
        assert final.loc[horizon, "calib_lower_80_log"] == pytest.approx(every["lower_80_log"])
    assert set(final["n_calibration_errors"]) == {len(both)}


def test_share_guard_widening_matches_t_tables():
    from forecasts import share as share_models

    # 5 figures, 2 coefficients: 3 residual df; the default guard needs 7 figures (5 df).
    # Printed t tables: t(0.9, 3) = 1.638, t(0.9, 5) = 1.476, z(0.9) = 1.2816
    text = share_models.guard_widening(5, 3, 3.0)
    assert "5 actual figures < 7" in text
    assert "t(3 df) = 1.64, +11% vs t(5 df) = 1.48" in text
    assert f"{1.638 / 1.2816 - 1:+.0%} vs normal 1.28" in text
    assert share_models.guard_widening(7, 3, 5.0) == ""


def test_share_backtest_says_plainly_when_too_few_points():
    share = pd.DataFrame(
        {
            "share_id": ["A1", "F1"],
            "period": ["2025", "2028"],
            "year": [2025, 2028],
            "kind_of_figure": ["actual", "forecast"],
            "basis": ["units", "revenue"],
            "domestic_share_pct": [41.0, 93.0],
            "source_org": ["IDC", "Bernstein"],
            "published": ["2026-04-01", "n.d."],
        }
    )
    out = backtest.share_backtest(share, "2026-11-30")
    assert out["status"].tolist() == ["refused"]
    reason = out["reason"].iloc[0]
    assert reason.startswith("too few points to judge: 1 actual share figures")
    assert "1 with a publication date (first 2026-04-01)" in reason


def test_calibration_statement_names_the_horizons_outside_the_band():
    rows = pd.DataFrame({"coverage_80_pct": [88.8, 98.8, 65.0]}, index=[3, 6, 12])
    text = backtest.calibration_statement(rows)
    assert "covered 89 %, 99 %, 65 % of observed prices at 3/6/12 months" in text
    assert "outside it at 6 months (too wide), 12 months (too narrow)" in text
    inside = backtest.calibration_statement(rows.assign(coverage_80_pct=[70.0, 80.0, 90.0]))
    assert inside.endswith("calibrated at every horizon")


def test_an_uncalibrated_95_interval_contains_the_calibrated_80_one():
    # own bounds +-0.05 are far narrower than the errors (sd 1): with 9..38 earlier errors the
    # 80 % interval is calibrated (wide) and the 95 % one keeps the model's bounds, widened to it
    rows = _rows(30, seed=4)
    for name, off in (("lower_80_log", -0.01), ("upper_80_log", 0.01)):
        rows[name] = off
    rows["lower_95_log"], rows["upper_95_log"] = -0.05, 0.05
    cal = backtest.with_conformal(rows)
    conf = cal[cal["model"].str.endswith(backtest.CONFORMAL_SUFFIX)]
    assert conf["calibrated"].any()
    assert (conf["lower_95_log"] <= conf["lower_80_log"]).all()
    assert (conf["upper_95_log"] >= conf["upper_80_log"]).all()
    wide = conf[conf["calibrated"]]
    assert (wide["upper_95_log"] > 0.05).any()
