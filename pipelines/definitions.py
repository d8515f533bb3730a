"""The one Dagster ``Definitions`` of Compute Outlook (the code location; the command line runs its
first stage from the subset in ``pipelines.ingest_definitions``)."""

from __future__ import annotations

import dagster as dg

import assets.china.assets
import assets.derived
import assets.report
import forecasts.assets
from forecasts.jobs import forecast_job
from pipelines.automation import automation_sensor, with_automation
from pipelines.executors import executor_from_env
from pipelines.freshness import freshness_sensor
from pipelines.ingest_definitions import INGEST_ASSETS, INGEST_CHECKS, INGEST_JOBS, resources
from pipelines.jobs import derived_job, report_job
from pipelines.schedules import SCHEDULES
from pipelines.sensors import source_files_sensor

defs = dg.Definitions(
    assets=with_automation(
        [
            *INGEST_ASSETS,
            *assets.derived.ASSETS,
            *assets.china.assets.ASSETS,
            *forecasts.assets.ASSETS,
            *assets.report.ASSETS,
        ]
    ),
    asset_checks=[
        *INGEST_CHECKS,
        *assets.china.assets.ASSET_CHECKS,
        *forecasts.assets.ASSET_CHECKS,
    ],
    jobs=[*INGEST_JOBS, derived_job, forecast_job, report_job, *assets.derived.JOBS],
    schedules=SCHEDULES,
    sensors=[source_files_sensor, automation_sensor, freshness_sensor],
    resources=resources(),
    executor=executor_from_env(),
)
