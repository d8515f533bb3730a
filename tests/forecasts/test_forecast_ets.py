"""ETS prefix fits against statsmodels' ETSModel, and the jump model against hand counts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

import rust_core
from forecasts import ets, jumps, prices
from forecasts.common import rng


def _etsmodel(y: np.ndarray, form: str):
    index = pd.date_range("2020-01-01", periods=len(y), freq="MS")
    kw = {"trend": None} if form == ets.SIMPLE else {"trend": "add", "damped_trend": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ETSModel(pd.Series(y, index=index), error="add", **kw).fit(disp=False)


@pytest.mark.parametrize("form", [ets.SIMPLE, ets.DAMPED])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_prefix_fit_matches_etsmodel(form, seed):
    rng = np.random.default_rng(seed)
    y = np.cumsum(rng.normal(-0.05, 0.2, 40))
    fit = ets.fit_prefixes(y, form)
    ref = _etsmodel(y, form)
    sse_ref = float(np.sum(np.asarray(ref.resid) ** 2))
    # the grid optimum is at least as good as ETSModel's optimiser, up to the grid's spacing
    assert fit.sigma2[-1] * len(y) == pytest.approx(sse_ref, rel=0.01)
    assert fit.aicc[-1] == pytest.approx(ref.aicc, abs=0.1)
    mean, var = ets.forecast_moments(
        fit.level[-1], fit.slope[-1], fit.alpha[-1], fit.beta[-1], fit.phi[-1], fit.sigma2[-1], 6
    )
    np.testing.assert_allclose(mean, np.asarray(ref.forecast(6)), atol=0.03)
    frame = ref.get_prediction(start=len(y), end=len(y) + 5).summary_frame(alpha=0.05)
    half_ref = (frame["pi_upper"] - frame["mean"]).to_numpy()
    np.testing.assert_allclose(1.959964 * np.sqrt(var), half_ref, rtol=0.05)


def test_each_prefix_is_the_fit_of_that_prefix_alone():
    rng = np.random.default_rng(9)
    y = np.cumsum(rng.normal(0, 0.1, 30))
    whole = ets.fit_prefixes(y, ets.DAMPED)
    for n in (12, 20, 30):
        alone = ets.fit_prefixes(y[:n], ets.DAMPED)
        for name in ("alpha", "beta", "phi", "level", "slope", "sigma2", "aicc"):
            assert getattr(whole, name)[n - 1] == pytest.approx(getattr(alone, name)[-1])


def test_simple_variance_is_the_textbook_formula():
    mean, var = ets.forecast_moments(1.0, 0.0, 0.3, 0.0, 0.0, 0.04, 5)
    np.testing.assert_allclose(mean, np.ones(5))
    np.testing.assert_allclose(var, 0.04 * (1 + 0.3**2 * np.arange(5)))


def reference_states(y, alpha, beta, phi):
    """The smoothing recursion as a NumPy loop over the steps (all grid points and the three
    systems at once), to check the Rust pass against."""
    level = np.zeros((3, len(alpha)))
    slope = np.zeros((3, len(alpha)))
    level[1] = 1.0
    slope[2] = 1.0
    resid = np.empty((len(y), 3, len(alpha)))
    states = np.empty((len(y), 2, 3, len(alpha)))
    data = np.zeros((3, 1))
    for t in range(len(y)):
        data[0, 0] = y[t]
        e = data - level - phi * slope
        level = level + phi * slope + alpha * e
        slope = phi * slope + beta * e
        resid[t] = e
        states[t, 0] = level
        states[t, 1] = slope
    return resid, states


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-5.0, 5.0), min_size=1, max_size=40),
    st.sampled_from([ets.SIMPLE, ets.DAMPED]),
)
def test_the_smoothing_pass_is_the_numpy_recursion_and_cumsum_to_the_bit(y, form):
    y = np.array(y)
    alpha, beta, phi = ets._grid(form)
    states, cross = rust_core.smoothing_states(y, alpha, beta, phi)
    resid, expected_states = reference_states(y, alpha, beta, phi)
    np.testing.assert_array_equal(states, expected_states)
    r0, r1, r2 = resid[:, 0], -resid[:, 1], -resid[:, 2]
    for summed, (a, b) in zip(
        cross, [(r0, r0), (r0, r1), (r0, r2), (r1, r1), (r1, r2), (r2, r2)], strict=True
    ):
        np.testing.assert_array_equal(summed, np.cumsum(a * b, axis=0))


def test_the_smoothing_pass_names_bad_input():
    with pytest.raises(ValueError, match="row 2.*'y'.*not a finite number"):
        rust_core.smoothing_states(np.array([1.0, 2.0, np.inf]), [0.5], [0.0], [0.9])
    with pytest.raises(ValueError, match="'phi'.*expected 2"):
        rust_core.smoothing_states(np.ones(3), [0.5, 0.4], [0.0, 0.0], [0.9])


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="finite"):
        ets.fit_prefixes(np.array([1.0, np.nan, 2.0]), ets.SIMPLE)
    with pytest.raises(ValueError, match="unknown ETS form"):
        ets.fit_prefixes(np.zeros(5), "seasonal")


def test_jump_parameters_count_changes():
    y = np.log(np.array([8.0, 8.0, 4.0, 4.0, 4.0, 2.0, 2.0, 2.0, 2.0]))
    rate, sizes = jumps.jump_parameters(y)
    assert rate == pytest.approx(2 / 8)
    np.testing.assert_allclose(sizes, [np.log(0.5), np.log(0.5)])


@settings(max_examples=10, deadline=None)
@given(st.floats(0.02, 0.5))
def test_jump_paths_hold_with_poisson_probability(rate):
    sizes = np.array([-0.7])
    paths = jumps.simulate_changes(rate, sizes, 6)
    # the share of paths with no change after h months is exp(-rate h) (Poisson), within MC error
    for h in (1, 6):
        p = np.exp(-rate * h)
        se = np.sqrt(p * (1 - p) / jumps.N_PATHS)
        assert np.mean(paths[:, h - 1] == 0) == pytest.approx(p, abs=5 * se + 1e-9)
    # the same input gives the same paths
    np.testing.assert_array_equal(paths, jumps.simulate_changes(rate, sizes, 6))


def reference_paths(rate: float, sizes: np.ndarray, horizon: int) -> np.ndarray:
    """The jump paths written out plainly: every path-month sums its first ``count`` picks of the
    same seeded draws, whether or not it has a change."""
    gen = rng(7)
    counts = gen.poisson(rate, size=(jumps.N_PATHS, horizon))
    k_max = int(counts.max())
    if k_max == 0:
        return np.zeros((jumps.N_PATHS, horizon))
    picks = gen.integers(0, len(sizes), size=(jumps.N_PATHS, horizon, k_max))
    monthly = np.zeros((jumps.N_PATHS, horizon))
    for path, month in zip(*np.nonzero(counts), strict=True):
        for k in range(counts[path, month]):
            monthly[path, month] += sizes[picks[path, month, k]]
    return np.cumsum(monthly, axis=1)


@settings(max_examples=15, deadline=None)
@given(
    st.floats(0.01, 3.0),
    st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=12),
    st.integers(1, 8),
)
def test_jump_paths_are_the_sums_of_each_months_picks(rate, sizes, horizon):
    sizes = np.array(sizes)
    np.testing.assert_allclose(
        jumps.simulate_changes(rate, sizes, horizon),
        reference_paths(rate, sizes, horizon),
        rtol=0,
        atol=1e-12,
    )


def test_ets_model_chooses_by_aicc_and_refuses_thin_series():
    rng = np.random.default_rng(4)
    y = np.cumsum(rng.normal(-0.08, 0.05, 36))
    grid = pd.DataFrame(
        {
            "month": pd.date_range("2021-01-01", periods=36, freq="MS"),
            "price_usd_per_mtok": np.exp(y),
            "cheapest_model": "p / m",
            "n_observations": 1,
        }
    )
    fit = prices.fit_model(prices.MODEL_ETS, grid)
    simple, damped = ets.fit_prefixes(y, ets.SIMPLE), ets.fit_prefixes(y, ets.DAMPED)
    chose_damped = damped.aicc[-1] < simple.aicc[-1]
    assert fit["params"]["damped_trend"] == float(chose_damped)
    thin = grid.assign(n_observations=[1] * 6 + [0] * 30)
    refused = prices.fit_model(prices.MODEL_ETS, thin)
    assert refused["status"] == "refused"
    assert "6 months with a price observation < 3 parameters" in refused["reason"]
