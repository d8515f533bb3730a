"""Exponential smoothing with additive errors (ETS(A,N,N) simple and ETS(A,Ad,N) damped trend),
fitted by maximum likelihood for every prefix of a series at once, so a rolling-origin backtest
costs one pass instead of one optimisation per origin.

The models are those of statsmodels' ``ETSModel`` (Hyndman et al. 2008): with ``e_t = y_t -
l_{t-1} - phi b_{t-1}``, ``l_t = l_{t-1} + phi b_{t-1} + alpha e_t`` and ``b_t = phi b_{t-1} +
beta e_t``. The residuals are linear in the initial states, so for each smoothing parameter on a
grid the initial states come from least squares over cumulative sums (closed form) and the
Gaussian likelihood is concentrated; the best grid point per prefix is the estimate. Forecast
means and variances are the closed forms ``l_n + (phi + ... + phi^h) b_n`` and
``sigma^2 (1 + sum_{j<h} c_j^2)`` with ``c_j = alpha + beta (phi + ... + phi^j)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import rust_core

SIMPLE = "simple"
DAMPED = "damped"
#: Free parameters incl. the initial states and the error variance, as counted for AICc.
N_PARAMS = {SIMPLE: 3, DAMPED: 6}
#: Smoothing parameters searched (statsmodels' default bounds: 0 < beta <= alpha < 1,
#: 0.8 <= phi <= 0.98).
ALPHA_SIMPLE = np.linspace(0.0001, 0.9999, 200)
ALPHA_DAMPED = np.linspace(0.0001, 0.9999, 25)
BETA_FRACTION = np.linspace(0.0, 1.0, 11)
PHI = np.linspace(0.8, 0.98, 7)


@dataclass(frozen=True)
class PrefixFits:
    """The fit of one ETS form on each prefix ``y[:n]`` (index ``n - 1``) of a series."""

    form: str
    alpha: np.ndarray
    beta: np.ndarray
    phi: np.ndarray
    level: np.ndarray
    slope: np.ndarray
    sigma2: np.ndarray
    aicc: np.ndarray


def _grid(form: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parameter combinations (alpha, beta, phi) searched for one form."""
    if form == SIMPLE:
        zeros = np.zeros_like(ALPHA_SIMPLE)
        return ALPHA_SIMPLE, zeros, zeros
    a, f, p = np.meshgrid(ALPHA_DAMPED, BETA_FRACTION, PHI, indexing="ij")
    return a.ravel(), (a * f).ravel(), p.ravel()


def fit_prefixes(y: np.ndarray, form: str) -> PrefixFits:
    """Maximum-likelihood ETS fits of ``y[:n]`` for every n (NaN where n leaves no degree of
    freedom for AICc), vectorised over the parameter grid and the prefixes."""
    if form not in N_PARAMS:
        raise ValueError(f"unknown ETS form '{form}'; expected one of {sorted(N_PARAMS)}")
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or not np.all(np.isfinite(y)):
        raise ValueError("ETS input must be a one-dimensional series of finite numbers")
    alpha, beta, phi = _grid(form)
    n_obs = len(y)
    # three linear systems: the data with zero initial states, and unit initial level / slope;
    # residual e = r0 - l0 * (-r1) - b0 * (-r2): least squares over cumulative cross-products
    states, (s00, s01, s02, s11, s12, s22) = rust_core.smoothing_states(y, alpha, beta, phi)
    with np.errstate(divide="ignore", invalid="ignore"):
        if form == SIMPLE:
            l0 = np.where(s11 > 0, s01 / s11, 0.0)
            b0 = np.zeros_like(l0)
        else:
            det = s11 * s22 - s12**2
            ok = np.abs(det) > 1e-12 * np.maximum(s11 * s22, 1e-300)
            l0 = np.where(ok, (s01 * s22 - s02 * s12) / det, 0.0)
            b0 = np.where(ok, (s02 * s11 - s01 * s12) / det, 0.0)
        sse = s00 - 2 * l0 * s01 - 2 * b0 * s02 + l0**2 * s11 + 2 * l0 * b0 * s12 + b0**2 * s22
    sse = np.maximum(sse, 0.0)
    best = np.argmin(sse, axis=1)
    rows = np.arange(n_obs)
    sse_best = sse[rows, best]
    l0_best, b0_best = l0[rows, best], b0[rows, best]
    level_n = (
        states[rows, 0, 0, best]
        + l0_best * states[rows, 0, 1, best]
        + b0_best * states[rows, 0, 2, best]
    )
    slope_n = (
        states[rows, 1, 0, best]
        + l0_best * states[rows, 1, 1, best]
        + b0_best * states[rows, 1, 2, best]
    )
    n = rows + 1.0
    k = N_PARAMS[form]
    sigma2 = sse_best / n
    with np.errstate(divide="ignore", invalid="ignore"):
        loglike = -0.5 * n * (np.log(2 * np.pi * np.maximum(sigma2, 1e-300)) + 1)
        aicc = np.where(n - k - 1 > 0, -2 * loglike + 2 * k + 2 * k * (k + 1) / (n - k - 1), np.nan)
    return PrefixFits(
        form=form,
        alpha=alpha[best],
        beta=beta[best],
        phi=phi[best],
        level=level_n,
        slope=slope_n,
        sigma2=sigma2,
        aicc=aicc,
    )


def forecast_moments(
    level: float, slope: float, alpha: float, beta: float, phi: float, sigma2: float, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form forecast mean and variance for horizons 1..``horizon``."""
    h = np.arange(1, horizon + 1)
    phi_sum = np.cumsum(phi ** h.astype(float))  # phi + ... + phi^h
    mean = level + phi_sum * slope
    c = alpha + beta * phi_sum  # c_j for j = 1..horizon
    var = sigma2 * (1 + np.concatenate([[0.0], np.cumsum(c[:-1] ** 2)]))
    return mean, var
