"""Times each forecast model and backtest on simulated inputs the size of the shipped data and
larger; prints a table (no assertions: speed is measured here, never in tests)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forecasts import backtest as backtests
from forecasts import prices as price_models
from forecasts import share
from forecasts import survival as survival_models
from tests.forecasts.forecast_sim import price_rows, startup_rows

REPEATS = 3


def _time(fn) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _prices(n_months: int) -> pd.DataFrame:
    return pd.concat(
        [
            price_rows(-0.06, 0.1, n_months, seed=1, start="2020-01-01"),
            price_rows(
                -0.05,
                0.1,
                n_months,
                seed=2,
                start="2020-01-01",
                tier="small",
                region="CN",
                model="c",
            ),
        ],
        ignore_index=True,
    )


def _share(n: int) -> pd.DataFrame:
    years = np.arange(2030 - n, 2030)
    return pd.DataFrame(
        {
            "share_id": [f"r{y}" for y in years],
            "period": years.astype(str),
            "kind_of_figure": ["actual", "forecast"] * (n // 2) + ["actual"] * (n % 2),
            "basis": "units",
            "domestic_share_pct": np.linspace(5, 60, n),
            "domestic_share_pct_high": np.nan,
            "source_org": "sim",
            "published": [f"{y + 1}-01-01" for y in years],
        }
    )


def main() -> None:
    rows = []
    for n in (24, 48):
        prices = _prices(n)
        end = f"{2020 + (n - 1) // 12}-12-31"
        grid = price_models.monthly_grid(prices, "frontier", "US", "input", end)
        for model in backtests.PRICE_MODELS:
            rows.append(
                (
                    f"price fit {model}",
                    f"{n} months",
                    _time(lambda m=model, g=grid: price_models.fit_model(m, g)),
                )
            )
        rows.append(
            (
                "price forecast_table (18 series x 3 models)",
                f"{n} months",
                _time(lambda p=prices, e=end: price_models.forecast_table(p, e)),
            )
        )
        rows.append(
            (
                "price backtest (monthly origins)",
                f"{n} months",
                _time(lambda p=prices, e=end: backtests.price_backtest(p, e)),
            )
        )
    for n in (35, 200):
        st = startup_rows(n, {"shutdown": 0.1, "acquired": 0.1, "pivoted": 0.05}, seed=3)
        rows.append(
            (
                "survival_table (3 cohorts, 400 bootstrap)",
                f"{n} companies",
                _time(lambda s=st: survival_models.survival_table(s, "2026-06-30")),
            )
        )
        rows.append(
            (
                "survival backtest (half-yearly)",
                f"{n} companies",
                _time(lambda s=st: backtests.survival_backtest(s, "2026-06-30")),
            )
        )
    for n in (13, 40):
        sh = _share(n)
        rows.append(
            ("share_table (4 models)", f"{n} figures", _time(lambda s=sh: share.share_table(s)))
        )
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'size':>14}  best of {REPEATS} (s)")
    for what, size, seconds in rows:
        print(f"{what:<{width}}  {size:>14}  {seconds:10.3f}")


if __name__ == "__main__":
    main()
