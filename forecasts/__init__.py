"""Forecasts of API prices, startup survival and China's domestic chip share, with backtests."""

from forecasts.common import set_thread_env

set_thread_env()
