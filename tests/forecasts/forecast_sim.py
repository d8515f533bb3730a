"""Simulated inputs with known answers for the forecast tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def price_rows(
    drift_log_per_month: float,
    sigma_log: float,
    n_months: int,
    seed: int,
    start: str = "2020-01-01",
    tier: str = "frontier",
    region: str = "US",
    model: str = "m1",
) -> pd.DataFrame:
    """One model's monthly prices following a log random walk with the given drift."""
    rng = np.random.default_rng(seed)
    months = pd.date_range(start, periods=n_months, freq="MS")
    log_price = np.log(30.0) + np.cumsum(
        drift_log_per_month + sigma_log * rng.standard_normal(n_months)
    )
    return pd.DataFrame(
        {
            "price_id": [f"{model}-{i}" for i in range(n_months)],
            "model": model,
            "provider": "sim",
            "region": region,
            "tier": tier,
            "effective_date": months + pd.Timedelta(days=9),
            "input_usd_per_mtok": np.exp(log_price),
            "output_usd_per_mtok": 3 * np.exp(log_price),
            "published": (months + pd.Timedelta(days=9)).strftime("%Y-%m-%d"),
        }
    )
