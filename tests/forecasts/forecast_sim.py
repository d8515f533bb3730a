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


def startup_rows(
    n: int,
    hazards_per_year: dict[str, float],
    seed: int,
    data_end: str = "2026-06-30",
    cn_hazard_ratio: float = 1.0,
) -> pd.DataFrame:
    """Companies founded uniformly over 2016-2025 whose exits follow competing exponential
    hazards (status name -> rate per year); an exit after ``data_end`` is not yet seen."""
    rng = np.random.default_rng(seed)
    founded = pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.uniform(0, 3650, n), unit="D")
    is_cn = rng.random(n) < 0.5
    statuses = list(hazards_per_year)
    rates = np.array([hazards_per_year[s] for s in statuses])
    scale = np.where(is_cn, cn_hazard_ratio, 1.0)
    total = rates.sum() * scale
    t_years = rng.exponential(1.0 / total)
    kind = np.array([rng.choice(len(statuses), p=rates / rates.sum()) for _ in range(n)])
    exit_date = founded + pd.to_timedelta(t_years * 365.25, unit="D").round("D")
    end = pd.Timestamp(data_end)
    exited = exit_date <= end
    return pd.DataFrame(
        {
            "company_id": [f"s{i:03d}" for i in range(n)],
            "name": [f"Startup {i}" for i in range(n)],
            "country": np.where(is_cn, "CN", "US"),
            "founded": founded.normalize(),
            "is_foundation_model": True,
            "total_funding_usd": np.nan,
            "status": np.where(exited, np.array(statuses, dtype=object)[kind], "active"),
            "status_date": pd.Series(exit_date.normalize()).where(exited, end).to_numpy(),
            "last_seen_active": pd.Series(exit_date.normalize())
            .where(~exited, pd.NaT)
            .fillna(end)
            .to_numpy(),
        }
    )
