"""The forecast job (one weekly vintage per run) and its Monday schedule."""

import dagster as dg

#: Every forecast, backtest and history asset, with their checks.
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
