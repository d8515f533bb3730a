"""A jump model of list prices: price changes arrive as a Poisson process (rate = changes per
month seen so far) and each change is drawn from the changes seen (empirical sizes), so the price
holds between cuts instead of drifting smoothly."""

from __future__ import annotations

import numpy as np

from forecasts.common import rng

#: Simulated paths per forecast (fixed seed: the same input gives the same quantiles).
N_PATHS = 4000
#: A month-to-month log change smaller than this is no price change.
CHANGE_TOL = 1e-9


def jump_parameters(y: np.ndarray) -> tuple[float, np.ndarray]:
    """Changes per month (Poisson rate) and the log sizes of the changes of a monthly series."""
    d = np.diff(np.asarray(y, dtype=float))
    if len(d) == 0:
        return 0.0, np.empty(0)
    sizes = d[np.abs(d) > CHANGE_TOL]
    return len(sizes) / len(d), sizes


def simulate_changes(rate_per_month: float, sizes: np.ndarray, horizon: int) -> np.ndarray:
    """Cumulative log change after 1..``horizon`` months on each simulated path (paths x
    horizon): each month a Poisson(rate) number of changes, each an empirical size."""
    gen = rng(7)
    if rate_per_month <= 0 or len(sizes) == 0:
        return np.zeros((N_PATHS, horizon))
    counts = gen.poisson(rate_per_month, size=(N_PATHS, horizon))
    k_max = int(counts.max())
    if k_max == 0:
        return np.zeros((N_PATHS, horizon))
    picks = gen.integers(0, len(sizes), size=(N_PATHS, horizon, k_max))
    # Only path-months with a change add anything; their first ``count`` picks are summed.
    changed = counts > 0
    used = np.arange(k_max) < counts[changed][:, None]
    monthly = np.zeros((N_PATHS, horizon))
    monthly[changed] = (sizes[picks[changed]] * used).sum(axis=1)
    return np.cumsum(monthly, axis=1)


def jump_quantiles(
    y: np.ndarray, horizon: int, probs: tuple[float, ...]
) -> tuple[np.ndarray, float, int]:
    """Quantiles (len(probs) x horizon) of the log level ``horizon`` months ahead of ``y[-1]``,
    with the rate per month and the number of changes behind it."""
    rate, sizes = jump_parameters(y)
    paths = simulate_changes(rate, sizes, horizon)
    return y[-1] + np.quantile(paths, probs, axis=0), rate, len(sizes)
