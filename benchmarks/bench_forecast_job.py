"""Times the whole forecast job's computation (every vintage asset plus backtests) on the shipped
source files for the newest vintage, step by step; prints a table (speed is measured here, never
in tests). ``--reference`` also times the ETS backtest with statsmodels' ETSModel refitted at
every origin, the reference the vectorised fit replaces."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assets.ingest.market_share import CHINA_CHIP_SHARE
from assets.ingest.prices import API_PRICES, FX_RATES, PRICE_DECLINE_ESTIMATES, to_usd
from assets.ingest.schema import validate_file
from assets.ingest.startups import STARTUP_EVENTS, STARTUPS
from forecasts import backtest as backtest_runs
from forecasts import prices as price_models
from forecasts import share as share_models
from forecasts import survival
from forecasts.common import known_as_of, single_threaded_blas

SOURCES = Path(__file__).resolve().parent.parent / "data" / "sources"


def load(schema) -> pd.DataFrame:
    """One validated source table (raises when the file has problems)."""
    validated = validate_file(SOURCES / schema.file, schema)
    if not validated.ok:
        raise SystemExit(f"{schema.file}: {validated.problems[0]}")
    return validated.table


def etsmodel_reference_backtest(prices: pd.DataFrame, as_of: pd.Timestamp) -> int:
    """ETSModel (simple and damped, by AICc) refitted at every observed origin of every series:
    the per-origin optimisation the vectorised prefix fit replaces. Returns the fits made."""
    import warnings

    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    n = 0
    for tier, region, side in price_models.series_keys(prices):
        grid = price_models.monthly_grid(prices, tier, region, side, as_of)
        if len(grid) < 2:
            continue
        y, obs_idx, _ = price_models._grid_series(grid)
        for i in obs_idx[:-1]:
            if (
                price_models.refusal_reason(int(np.searchsorted(obs_idx, i, side="right")), 3)
                is not None
            ):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for kw in ({"trend": None}, {"trend": "add", "damped_trend": True}):
                    if kw.get("trend") and i + 1 < 8:
                        continue
                    ETSModel(y[: i + 1], error="add", **kw).fit(disp=False)
                    n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--as-of", default="2026-11-23")
    parser.add_argument("--reference", action="store_true")
    args = parser.parse_args()
    as_of = pd.Timestamp(args.as_of)
    prices = to_usd(load(API_PRICES), load(FX_RATES))
    prices = known_as_of(prices, as_of, "effective_date")
    declines = known_as_of(load(PRICE_DECLINE_ESTIMATES), as_of, None)
    share = known_as_of(load(CHINA_CHIP_SHARE), as_of, None)
    startups = load(STARTUPS)
    events = known_as_of(load(STARTUP_EVENTS), as_of, "date", published_col=None)
    steps = [
        ("api_price_grid", lambda: price_models.grid_table(prices, as_of)),
        ("api_price_backtest", lambda: backtest_runs.price_backtest(prices, as_of)),
        ("api_price_forecast", lambda: price_models.forecast_table(prices, as_of)),
        ("api_price_decline", lambda: price_models.decline_table(prices, as_of, declines)),
        ("startup_survival", lambda: survival.survival_table(startups, as_of, events)),
        (
            "startup_survival_backtest",
            lambda: backtest_runs.survival_backtest(startups, as_of, events),
        ),
        ("china_share_forecast", lambda: share_models.share_table(share)),
        ("china_share_backtest", lambda: backtest_runs.share_backtest(share, as_of)),
    ]
    if args.reference:
        steps.append(
            (
                "reference: ETSModel refit per origin",
                lambda: etsmodel_reference_backtest(prices, as_of),
            )
        )
    total = 0.0
    print(f"{'step':<40} {'seconds':>8}")
    with single_threaded_blas():
        for name, fn in steps:
            t = time.perf_counter()
            fn()
            dt = time.perf_counter() - t
            if not name.startswith("reference"):
                total += dt
            print(f"{name:<40} {dt:8.2f}")
    print(f"{'forecast job total (one run)':<40} {total:8.2f}")


if __name__ == "__main__":
    main()
