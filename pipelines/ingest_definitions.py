"""The Dagster ``Definitions`` of the first stage alone: the upstream and ingest jobs with their
assets, checks and resources. The command line runs that stage from these while the full
definitions (``pipelines.definitions``, built from the same parts) load the forecasting and report
libraries beside it; a test checks that both give these jobs the same assets and checks."""

from __future__ import annotations

import dagster as dg

import assets.ingest
import assets.staging.assets
import assets.upstream
from assets.upstream.http import UpstreamHttp
from pipelines.automation import with_automation
from pipelines.executors import executor_from_env
from pipelines.freshness import FRESHNESS_CHECKS
from pipelines.io import ParquetIOManager
from pipelines.jobs import ingest_job, upstream_job

#: Fetch, validate and stage: the assets of upstream_job and ingest_job.
INGEST_ASSETS = (*assets.upstream.ASSETS, *assets.ingest.ASSETS, *assets.staging.assets.ASSETS)
INGEST_CHECKS = (*FRESHNESS_CHECKS, *assets.ingest.ASSET_CHECKS)
INGEST_JOBS = (upstream_job, ingest_job)


def resources() -> dict:
    """Every IO manager and resource of the code location (one per warehouse layer)."""
    return {
        "clean_io": ParquetIOManager(layer="clean"),
        "derived_io": ParquetIOManager(layer="derived"),
        "forecast_io": ParquetIOManager(layer="forecasts"),
        "report_io": ParquetIOManager(layer="report"),
        "upstream_http": UpstreamHttp.from_env(),
    }


ingest_defs = dg.Definitions(
    assets=with_automation(list(INGEST_ASSETS)),
    asset_checks=list(INGEST_CHECKS),
    jobs=list(INGEST_JOBS),
    resources=resources(),
    executor=executor_from_env(),
)
