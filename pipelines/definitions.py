"""The one Dagster ``Definitions`` of Compute Outlook."""

from __future__ import annotations

import dagster as dg

import assets.china.assets
import assets.derived
import assets.ingest
import assets.report
import assets.staging.assets
import assets.upstream
import forecasts.assets
from assets.upstream.http import UpstreamHttp
from forecasts.jobs import forecast_job
from pipelines.automation import automation_sensor, with_automation
from pipelines.executors import executor_from_env
from pipelines.freshness import FRESHNESS_CHECKS, freshness_sensor
from pipelines.io import ParquetIOManager
from pipelines.jobs import derived_job, ingest_job, report_job, upstream_job
from pipelines.schedules import SCHEDULES
from pipelines.sensors import source_files_sensor

defs = dg.Definitions(
    assets=with_automation(
        [
            *assets.upstream.ASSETS,
            *assets.ingest.ASSETS,
            *assets.staging.assets.ASSETS,
            *assets.derived.ASSETS,
            *assets.china.assets.ASSETS,
            *forecasts.assets.ASSETS,
            *assets.report.ASSETS,
        ]
    ),
    asset_checks=[
        *FRESHNESS_CHECKS,
        *assets.ingest.ASSET_CHECKS,
        *assets.china.assets.ASSET_CHECKS,
        *forecasts.assets.ASSET_CHECKS,
    ],
    jobs=[upstream_job, ingest_job, derived_job, forecast_job, report_job, *assets.derived.JOBS],
    schedules=SCHEDULES,
    sensors=[source_files_sensor, automation_sensor, freshness_sensor],
    resources={
        "clean_io": ParquetIOManager(layer="clean"),
        "derived_io": ParquetIOManager(layer="derived"),
        "forecast_io": ParquetIOManager(layer="forecasts"),
        "report_io": ParquetIOManager(layer="report"),
        "upstream_http": UpstreamHttp.from_env(),
    },
    executor=executor_from_env(),
)
