"""Forecasts of API prices, startup survival and China's domestic chip share, with backtests.

The model code lives in plain modules (prices, survival, share, backtest) that import no Dagster;
the Dagster wiring is in ``forecasts.assets`` (assets, checks), ``forecasts.vintage`` (partitions)
and ``forecasts.jobs`` (job and weekly schedule)."""

from forecasts.common import set_thread_env

set_thread_env()
