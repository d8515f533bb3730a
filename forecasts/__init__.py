"""Forecasts of API prices, startup survival and China's domestic chip share, with backtests.

``ASSETS``, ``ASSET_CHECKS``, ``VINTAGES``, ``forecast_job`` and ``forecast_schedule`` are what
the Definitions wire in; the model code lives in plain modules (prices, survival, share,
backtest) that import no Dagster."""

from forecasts.common import set_thread_env

set_thread_env()

import dagster as dg  # noqa: E402

from forecasts.assets import ASSET_CHECKS, ASSETS  # noqa: E402
from forecasts.vintage import VINTAGES  # noqa: E402

FORECASTS = dg.AssetSelection.groups("forecasts")

forecast_job = dg.define_asset_job(
    "forecast_job",
    selection=FORECASTS,
    description="Fit every forecast and backtest for one weekly vintage (as-of date = key).",
)

#: Mondays 06:00 UTC, after the daily ingest; materializes the vintage that starts that day.
forecast_schedule = dg.build_schedule_from_partitioned_job(
    forecast_job,
    hour_of_day=6,
    minute_of_hour=0,
    name="weekly_forecast_schedule",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

__all__ = ["ASSETS", "ASSET_CHECKS", "FORECASTS", "VINTAGES", "forecast_job", "forecast_schedule"]
