"""A run's SQLite event-log databases are held open while it runs, by the command line and by the
default executor of launched runs: every event is still stored, and no write-ahead log is left
behind once the run is over (tests/ops/test_postgres.py checks the PostgreSQL pool)."""

from __future__ import annotations

import shutil
import uuid

import dagster as dg

from pipelines import settings, storage_hold
from tests.pipelines.held_job import TINY_MESSAGE, tiny_job


def test_events_of_a_held_run_are_stored_and_the_log_folded_back(tmp_path):
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    job = tiny_job()
    run_id = str(uuid.uuid4())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        with storage_hold.storage_held_open(instance, run_id):
            result = job.execute_in_process(instance=instance, run_id=run_id)
        assert result.success and result.run_id == run_id
        messages = [e.user_message for e in instance.all_logs(run_id)]
        assert TINY_MESSAGE in messages
        assert instance.get_latest_materialization_event(dg.AssetKey("tiny")) is not None
    runs = tmp_path / "history" / "runs"
    assert (runs / f"{run_id}.db").is_file()
    assert not list(runs.glob("*-wal")), sorted(p.name for p in runs.iterdir())


def test_other_storages_are_left_alone():
    # An ephemeral instance keeps its events in memory: nothing to hold open, nothing to fail.
    with storage_hold.storage_held_open(dg.DagsterInstance.ephemeral(), str(uuid.uuid4())):
        pass


def test_held_engines_are_reused_commit_without_sync_and_are_released(tmp_path):
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    run_id = str(uuid.uuid4())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        with storage_hold.storage_held_open(instance, run_id):
            seen = set()
            for _ in range(3):
                with storage.run_connection(run_id) as conn:
                    seen.add(id(conn.engine))
                    # 1 = NORMAL (SQLite's default for a new connection is 2 = FULL)
                    assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
            assert len(seen) == 1
        assert "_connect" not in vars(storage)  # Dagster's own per-call engine again
        with storage.run_connection(run_id) as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2


def test_runs_launched_outside_the_command_line_hold_the_storage_while_steps_run(
    tmp_path, monkeypatch
):
    """A run executed by its job's executor (as the daemon's and the UI's runs are) holds the
    event log open during its steps with the project's default executor, and lets it go after."""
    from pipelines.definitions import defs
    from pipelines.executors import EXECUTOR_ENV, held_in_process_executor

    monkeypatch.delenv(EXECUTOR_ENV, raising=False)
    assert defs.resolve_job_def("ingest_job").executor_def is held_in_process_executor
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        job = dg.build_reconstructable_job("tests.pipelines.held_job", "held_job")
        with dg.execute_job(job, instance) as result:
            assert result.success
            run_id = result.run_id
        messages = [e.user_message for e in instance.all_logs(run_id)]
        assert "held=True" in messages, messages
        assert "_connect" not in vars(instance.event_log_storage)
    runs = tmp_path / "history" / "runs"
    assert not list(runs.glob("*-wal")), sorted(p.name for p in runs.iterdir())


def _database_layout(path) -> tuple:
    """The schema, schema-version stamp and journal mode of a SQLite database file."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        schema = sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
        stamp = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        mode = conn.execute("PRAGMA journal_mode").fetchone()
    conn.close()
    return schema, stamp, mode


def test_a_held_run_database_is_laid_out_as_dagster_lays_one_out(tmp_path):
    """A new run's database written from the empty one has the tables, indexes, schema-version
    stamp and WAL mode that Dagster's own set-up gives a run database; a run database that exists
    already is left to Dagster's own check."""
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    ours, theirs, existing = (str(uuid.uuid4()) for _ in range(3))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        with storage.run_connection(theirs):  # Dagster's own per-call engine and set-up
            pass
        with storage.run_connection(existing) as conn:
            conn.exec_driver_sql("CREATE TABLE marker (x)")  # not what an empty one holds
        storage._initialized_dbs.discard(existing)
        before = (tmp_path / "history" / "runs" / f"{existing}.db").read_bytes()
        with storage_hold.storage_held_open(instance, ours):
            with storage.run_connection(ours):
                pass
            with storage.run_connection(existing):
                pass
        runs = tmp_path / "history" / "runs"
        assert _database_layout(runs / f"{ours}.db") == _database_layout(runs / f"{theirs}.db")
        assert _database_layout(runs / f"{ours}.db")[2] == ("wal",)
        assert (runs / f"{existing}.db").read_bytes() == before
        assert not list(runs.glob("*.partial"))


def test_after_prepare_a_held_run_needs_no_database_set_up(tmp_path, monkeypatch):
    """What the command line does once before forking its runs: afterwards a new run's database
    and the index are ready without Dagster's set-up (which would load its migration scripts)."""
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    job = tiny_job()
    run_id = str(uuid.uuid4())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        storage_hold.prepare(instance)

        def no_set_up(*_):
            raise AssertionError("set up again after prepare")

        monkeypatch.setattr(storage, "_initdb", no_set_up)
        with storage_hold.storage_held_open(instance, run_id):
            assert job.execute_in_process(instance=instance, run_id=run_id).success
        assert TINY_MESSAGE in [e.user_message for e in instance.all_logs(run_id)]
