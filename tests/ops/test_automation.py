"""Every schedule and sensor, evaluated the way the daemon evaluates a tick: which job, which
partition key, which run key, which cursor."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import dagster as dg
import pytest
from dagster._utils.schedules import cron_string_iterator

from assets.ingest import SOURCE_SPECS
from pipelines import settings
from pipelines.definitions import defs
from pipelines.sensors import fingerprints

UTC = dt.UTC
MONDAY = dt.datetime(2026, 3, 2, tzinfo=UTC)  # a Monday after the first forecast vintage


@pytest.fixture
def sources(tmp_path, monkeypatch):
    folder = tmp_path / "sources"
    shutil.copytree(settings.sources_dir(), folder)
    monkeypatch.setenv(settings.SOURCES_ENV, str(folder))
    return folder


def fire_times(
    schedule: dg.ScheduleDefinition, after: dt.datetime, count: int
) -> list[dt.datetime]:
    times = cron_string_iterator(
        after.timestamp(), schedule.cron_schedule, schedule.execution_timezone or "UTC"
    )
    return [next(times).astimezone(UTC) for _ in range(count)]


def tick(schedule: dg.ScheduleDefinition, at: dt.datetime, instance) -> list[dg.RunRequest]:
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=at) as context:
        data = schedule.evaluate_tick(context)
    assert data.skip_message is None, data.skip_message
    return list(data.run_requests or [])


def test_every_schedule_and_sensor_targets_a_job_of_the_definitions():
    assert {s.name for s in defs.schedules} == {"daily_ingest_schedule"}
    for unresolved in defs.schedules:
        schedule = defs.resolve_schedule_def(unresolved.name)
        assert defs.resolve_job_def(schedule.job_name) is not None, schedule.name
        assert schedule.execution_timezone in (None, "UTC"), schedule.name
    for sensor in defs.sensors:
        for target in sensor.targets:
            assert defs.resolve_job_def(target.job_name) is not None, sensor.name


def test_daily_ingest_schedule_runs_ingest_job_at_0500_utc_every_day(instance):
    schedule = defs.resolve_schedule_def("daily_ingest_schedule")
    times = fire_times(schedule, MONDAY, 3)
    assert times == [MONDAY + dt.timedelta(days=d, hours=5) for d in range(3)]
    requests = tick(schedule, times[0], instance)
    assert len(requests) == 1
    (request,) = requests
    assert request.job_name in (None, "ingest_job") and schedule.job_name == "ingest_job"
    assert request.partition_key is None
    assert request.asset_selection is None, "the whole ingest job, every source file"


def sensor_tick(cursor: str | None, instance) -> dg.SensorExecutionData:
    sensor = defs.resolve_sensor_def("source_files_sensor")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    return sensor.evaluate_tick(context)


def test_source_files_sensor_ticks_record_request_and_deduplicate(sources, instance):
    first = sensor_tick(None, instance)
    assert not first.run_requests and first.skip_message
    assert json.loads(first.cursor) == fingerprints()
    files = {spec.schema.asset: spec.schema.file for spec in SOURCE_SPECS}
    assert set(json.loads(first.cursor)) == set(files)
    assert all((sources / f).is_file() for f in files.values())

    quiet = sensor_tick(first.cursor, instance)
    assert not quiet.run_requests and quiet.cursor == first.cursor

    changed = ["api_prices", "hardware_specs"]
    originals = {}
    for name in changed:
        path = sources / files[name]
        originals[name] = path.read_bytes()
        path.write_bytes(originals[name] + b"\n")
    fired = sensor_tick(first.cursor, instance)
    (request,) = fired.run_requests
    assert sorted(k.to_user_string() for k in request.asset_selection) == changed
    assert request.run_key.startswith("sources:")
    cursor = json.loads(fired.cursor)
    assert cursor == fingerprints()
    assert {k for k in cursor if cursor[k] != json.loads(first.cursor)[k]} == set(changed)
    ingest_assets = defs.resolve_job_def("ingest_job").asset_layer.executable_asset_keys
    assert set(request.asset_selection) <= set(ingest_assets)

    # The daemon may evaluate the same change twice (a crash before the cursor was stored): the
    # run key is the same, so the second request does not launch a second run.
    again = sensor_tick(first.cursor, instance)
    assert [r.run_key for r in again.run_requests] == [request.run_key]

    for name in changed:
        (sources / files[name]).write_bytes(originals[name])
    reverted = sensor_tick(fired.cursor, instance)
    (back,) = reverted.run_requests
    assert sorted(k.to_user_string() for k in back.asset_selection) == changed
    assert back.run_key != request.run_key
    assert json.loads(reverted.cursor) == json.loads(first.cursor)
