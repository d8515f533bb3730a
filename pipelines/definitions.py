"""The one Dagster ``Definitions`` of Compute Outlook."""

from __future__ import annotations

import dagster as dg

import assets.china.assets
import assets.derived
import assets.ingest
import assets.report
import assets.staging.assets
import forecasts.assets
from forecasts.jobs import forecast_job
from pipelines.executors import executor_from_env
from pipelines.io import ParquetIOManager
from pipelines.jobs import derived_job, ingest_job, report_job
from pipelines.schedules import SCHEDULES
from pipelines.sensors import source_files_sensor

defs = dg.Definitions(
    assets=[
        *assets.ingest.ASSETS,
        *assets.staging.assets.ASSETS,
        *assets.derived.ASSETS,
        *assets.china.assets.ASSETS,
        *forecasts.assets.ASSETS,
        *assets.report.ASSETS,
    ],
    asset_checks=[
        *assets.ingest.ASSET_CHECKS,
        *assets.china.assets.ASSET_CHECKS,
        *forecasts.assets.ASSET_CHECKS,
    ],
    jobs=[ingest_job, derived_job, forecast_job, report_job, *assets.derived.JOBS],
    schedules=SCHEDULES,
    sensors=[source_files_sensor],
    resources={
        "clean_io": ParquetIOManager(layer="clean"),
        "derived_io": ParquetIOManager(layer="derived"),
        "forecast_io": ParquetIOManager(layer="forecasts"),
        "report_io": ParquetIOManager(layer="report"),
    },
    executor=executor_from_env(),
)
