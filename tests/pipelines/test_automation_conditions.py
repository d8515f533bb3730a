"""Automation conditions: what each asset waits for, and that a raw snapshot moves what reads it
only when its data version (sha256) changed while any other input update moves it eagerly."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from pipelines import automation
from pipelines.definitions import defs

VERSION = {"raw_demo": "a" * 64}


@dg.asset(group_name="upstream")
def raw_demo() -> dg.MaterializeResult:
    return dg.MaterializeResult(data_version=dg.DataVersion(VERSION["raw_demo"]))


@dg.asset(group_name="ingest")
def source_demo() -> int:
    return 1


@dg.asset(group_name="staging", deps=[raw_demo])
def stg_demo() -> int:
    return 2


@dg.asset(group_name="report", deps=[stg_demo, source_demo])
def report_demo() -> int:
    return 3


DEMO = automation.with_automation([raw_demo, source_demo, stg_demo, report_demo])


def requested(result) -> set[str]:
    """Names of the assets an evaluation requested."""
    return {r.key.to_user_string() for r in result.results if r.true_subset.size}


def evaluate(instance, cursor, when: dt.datetime):
    return dg.evaluate_automation_conditions(
        defs=DEMO, instance=instance, cursor=cursor, evaluation_time=when
    )


def test_every_asset_but_the_launchpad_one_has_a_condition_by_group():
    graph = defs.resolve_asset_graph()
    labels = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        condition = node.automation_condition
        if key.to_user_string() in automation.MANUAL_ASSETS:
            assert condition is None, key
            continue
        assert condition is not None, key
        labels.setdefault(node.group_name, set()).add(condition.get_label())
    assert labels["upstream"] == {f"on_cron({automation.UPSTREAM_CRON}, UTC)"}
    assert labels["forecasts"] == {f"weekly vintage ({automation.FORECAST_CRON} UTC)"}
    for group in ("ingest", "derived", "report"):
        assert labels[group] == {"eager"}, group
    sensor = defs.resolve_sensor_def("automation_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_raw_input_moves_readers_only_when_its_data_version_changes():
    instance = dg.DagsterInstance.ephemeral()
    start = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    dg.materialize(DEMO, instance=instance)
    first = evaluate(instance, None, start)
    assert requested(first) == set()

    # The same payload fetched again: a new materialization with the same data version.
    dg.materialize([raw_demo], instance=instance)
    same = evaluate(instance, first.cursor, start + dt.timedelta(minutes=1))
    assert requested(same) == set()

    # A changed payload: new sha256, so staging runs (and the report with it).
    VERSION["raw_demo"] = "b" * 64
    try:
        dg.materialize([raw_demo], instance=instance)
        changed = evaluate(instance, same.cursor, start + dt.timedelta(minutes=2))
    finally:
        VERSION["raw_demo"] = "a" * 64
    keys = requested(changed)
    assert keys == {"stg_demo", "report_demo"}

    # Any other input (an ingest table) moves its readers eagerly.
    dg.materialize(DEMO[1:], instance=instance, selection=["stg_demo", "report_demo"])
    settled = evaluate(instance, changed.cursor, start + dt.timedelta(minutes=3))
    dg.materialize([source_demo], instance=instance)
    ingest = evaluate(instance, settled.cursor, start + dt.timedelta(minutes=4))
    assert requested(ingest) == {"report_demo"}


def test_raw_assets_fire_once_on_their_daily_cron():
    instance = dg.DagsterInstance.ephemeral()
    before = dt.datetime(2026, 12, 1, 3, 59, tzinfo=dt.UTC)
    first = evaluate(instance, None, before)
    assert "raw_demo" not in requested(first)
    after = evaluate(instance, first.cursor, before + dt.timedelta(minutes=2))
    assert "raw_demo" in requested(after)
    later = evaluate(instance, after.cursor, before + dt.timedelta(minutes=4))
    assert "raw_demo" not in requested(later), "once per cron tick"


def test_a_fresh_instance_is_not_filled_by_the_automation_sensor():
    instance = dg.DagsterInstance.ephemeral()
    when = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    first = evaluate(instance, None, when)
    second = evaluate(instance, first.cursor, when + dt.timedelta(minutes=1))
    assert requested(first) == requested(second) == set()
