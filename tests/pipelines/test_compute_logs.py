"""The command line's runs capture their stdout and stderr to the instance's compute-log files, as
Dagster's local manager does, without starting a terminal mirror (tail and watcher processes)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import dagster as dg
import pytest

from pipelines import compute_logs, settings


@dg.asset
def talks() -> int:
    print("said on stdout")
    print("said on stderr", file=sys.stderr)
    return 1


@pytest.fixture
def instance(tmp_path, monkeypatch):
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as opened:
        yield opened


def test_runs_write_their_output_to_the_same_log_files_without_a_mirror(instance, monkeypatch):
    started = []
    real_popen = subprocess.Popen

    def popen(args, *rest, **kwargs):
        started.append(args)
        return real_popen(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    files = compute_logs.captured_to_files(instance)
    manager = files.compute_log_manager
    assert isinstance(manager, compute_logs.FileComputeLogManager)
    key = ["a-run", "a-step"]
    # the same files as the instance's own manager
    assert manager.get_captured_local_path(key, "out") == (
        instance.compute_log_manager.get_captured_local_path(key, "out")
    )
    result = dg.materialize([talks], instance=files)
    assert result.success
    assert started == []  # no tail, no watcher
    (captured,) = [e for e in result.all_events if e.event_type_value == "LOGS_CAPTURED"]
    log_key = files.compute_log_manager.build_log_key_for_run(
        result.run_id, captured.logs_captured_data.file_key
    )
    # read back through the instance's own (Dagster's) manager, as the UI reads them
    assert instance.compute_log_manager.is_capture_complete(log_key)
    data = instance.compute_log_manager.get_log_data(log_key)
    assert b"said on stdout" in data.stdout
    assert b"said on stderr" in data.stderr
    # Dagster's manager, for comparison, starts its mirror processes
    dg.materialize([talks], instance=instance)
    assert any("tail" in str(args) for args in started)


def test_other_compute_log_managers_are_left_alone():
    ephemeral = dg.DagsterInstance.ephemeral()
    assert compute_logs.captured_to_files(ephemeral) is ephemeral
