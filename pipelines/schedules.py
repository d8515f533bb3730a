"""Schedules: ingest daily (the weekly forecast vintages run on an automation condition)."""

from __future__ import annotations

import dagster as dg

from pipelines.jobs import ingest_job

daily_ingest_schedule = dg.ScheduleDefinition(
    name="daily_ingest_schedule",
    job=ingest_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Re-validate every source file at 05:00 UTC.",
)

SCHEDULES = [daily_ingest_schedule]
