"""Declarative automation: which condition moves each asset, so every change reaches the report.

Upstream snapshots are refreshed daily on a cron; what reads them re-runs only when a snapshot's
data version (its sha256) changed. Ingest, derived, ledger and report assets run eagerly after any
input updates; the weekly forecast vintages run on their Monday cron. One automation sensor, on by
default, evaluates every condition."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from pipelines import settings

UPSTREAM_GROUP = "upstream"
FORECAST_GROUP = "forecasts"
#: Daily upstream refresh, an hour before the 05:00 ingest schedule.
UPSTREAM_CRON = "0 4 * * *"
#: Weekly forecast vintage: Mondays 06:00 UTC, after the daily ingest.
FORECAST_CRON = "0 6 * * 1"
TIMEZONE = "UTC"
#: Assets that run only from their own job with launchpad config.
MANUAL_ASSETS = frozenset({"what_if_training"})

RAW = dg.AssetSelection.groups(UPSTREAM_GROUP)
AC = dg.AutomationCondition


def upstream_condition() -> dg.AutomationCondition:
    """Raw upstream assets: fetch (or re-read) once a day."""
    return AC.on_cron(UPSTREAM_CRON, TIMEZONE)


def eager_condition() -> dg.AutomationCondition:
    """Run after any input updated (a raw input counts only when its data version changed).

    Dagster's ``eager()`` without its ``newly_missing`` branch: a fresh instance is filled by
    ``make run`` or the schedules, not by the automation sensor materializing every missing asset.
    """
    raw_changed = AC.any_deps_match(AC.newly_updated() & AC.data_version_changed()).allow(RAW)
    other_updated = AC.any_deps_updated().ignore(RAW)
    return (
        AC.in_latest_time_window()
        & (raw_changed | other_updated)
        .with_label("any_deps_updated_or_changed")
        .since_last_handled()
        & ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
    ).with_label("eager")


def forecast_condition() -> dg.AutomationCondition:
    """Weekly vintages: the latest partition once per Monday cron tick, when its inputs exist."""
    return (
        AC.in_latest_time_window()
        & AC.cron_tick_passed(FORECAST_CRON, TIMEZONE).since_last_handled()
        & ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
    ).with_label(f"weekly vintage ({FORECAST_CRON} {TIMEZONE})")


def condition_for(spec: dg.AssetSpec) -> dg.AutomationCondition | None:
    """The automation condition of one asset, by its group."""
    if spec.key.to_user_string() in MANUAL_ASSETS:
        return None
    if spec.group_name == UPSTREAM_GROUP:
        return upstream_condition()
    if spec.group_name == FORECAST_GROUP:
        return forecast_condition()
    return eager_condition()


def with_automation(
    assets: Sequence[dg.AssetsDefinition],
) -> list[dg.AssetsDefinition]:
    """The assets with their automation conditions attached."""
    return list(
        dg.map_asset_specs(
            lambda spec: spec.replace_attributes(automation_condition=condition_for(spec)),
            assets,
        )
    )


automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=settings.sensor_interval_seconds(),
    description="Evaluates every asset's automation condition (eager, daily fetch, weekly vintage).",
)
