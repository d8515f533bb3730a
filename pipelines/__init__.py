"""Dagster wiring for Compute Outlook: settings, Parquet IO, jobs, schedules, sensors, Definitions."""
