"""Faults survived with real processes: a run killed (SIGKILL) at several points leaves every
published Parquet readable, the ledger and its report from the same run, and the next run cleans
up, marks the killed run failed and recovers; two runs on one warehouse never interleave."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from filelock import FileLock

from pipelines import recovery, settings
from tests.helpers import read_rows, set_cell

from .procs import PROJECT_ROOT, wait_for

pytestmark = pytest.mark.slow

RUN_TIMEOUT_S = 1800
MARK = "EDITED BY THE FAULT TEST: "


def environment(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DAGSTER_HOME=str(root / "home"),
        OUTLOOK_WAREHOUSE=str(root / "warehouse"),
        OUTLOOK_SOURCES=str(root / "sources"),
    )
    return env


def start_run(root: Path) -> subprocess.Popen:
    log = (root / "run.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run"],
        cwd=PROJECT_ROOT,
        env=environment(root),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen, root: Path) -> str:
    try:
        proc.wait(timeout=RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return (root / "run.log").read_text(errors="replace")


def kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def complete_run(root: Path) -> Path:
    """root/ holding a warehouse and instance after one complete run of the shipped sources."""
    root.mkdir()
    (root / "home").mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", root / "home" / "dagster.yaml")
    shutil.copytree(PROJECT_ROOT / "data" / "sources", root / "sources")
    log = finish(start_run(root), root)
    assert "ok     report_job" in log, log
    return root


@pytest.fixture(scope="session")
def base(tmp_path_factory) -> Path:
    """A warehouse and instance after one complete run of the shipped sources. Tests only copy it,
    so pytest-xdist workers share one: the first to need it makes it, the others wait for it."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return complete_run(tmp_path_factory.mktemp("base") / "root")
    shared = tmp_path_factory.getbasetemp().parent / "faults-base"
    done = Path(f"{shared}.done")
    with FileLock(f"{shared}.lock"):
        if not done.exists():
            shutil.rmtree(shared, ignore_errors=True)
            complete_run(shared)
            done.touch()
    return shared


@pytest.fixture
def edited(base, tmp_path) -> Path:
    """A copy of the base, with one claim's text edited so the next ledger and report differ."""
    root = tmp_path / "run"
    shutil.copytree(base, root, symlinks=True)
    (root / "run.log").write_bytes(b"")
    path = root / "sources" / "claims.csv"
    rows = read_rows(path)
    set_cell(path, 3, "text", MARK + rows[2][rows[0].index("text")])
    return root


def published(root: Path) -> list[Path]:
    return sorted((root / "warehouse").rglob("*.parquet"))


def newer(path: Path, than: float) -> bool:
    return path.exists() and path.stat().st_mtime > than


def assert_every_parquet_readable(root: Path) -> None:
    for path in published(root):
        pq.read_table(path)


def report_pair(root: Path) -> tuple[bool, bool]:
    """Whether the published ledger and report each come from the edited sources (the report's
    ledger page, published with every other page, lists each claim's text)."""
    ledger = pq.read_table(root / "warehouse" / "report" / "claims_ledger.parquet").to_pandas()
    md = (root / "warehouse" / "report" / "ledger.md").read_text(encoding="utf-8")
    return ledger["text"].str.startswith(MARK).any(), MARK in md


def killed_run_statuses(root: Path) -> list[dg.DagsterRunStatus]:
    with dg.DagsterInstance.from_config(str(root / "home")) as instance:
        return [
            r.status
            for r in instance.get_runs(filters=dg.RunsFilter(tags={recovery.LAUNCHER_TAG: "cli"}))
        ]


def probe_ingest(root: Path, started: float) -> bool:
    return any(newer(p, started) for p in (root / "warehouse" / "clean").glob("*.parquet"))


def probe_forecasts(root: Path, started: float) -> bool:
    return any(newer(p, started) for p in (root / "warehouse" / "forecasts").rglob("*.parquet"))


def probe_between_ledger_and_report(root: Path, started: float) -> bool:
    return (root / "warehouse" / "report" / ".pending" / "claims_ledger.parquet").exists()


# The kill between the ledger and the report is tested with the next run recovering by itself
# (test_next_run_after_a_kill_recovers_by_itself), which checks the same state after the kill.
POINTS = [probe_ingest, probe_forecasts]


@pytest.mark.parametrize("point", POINTS, ids=[p.__name__[6:] for p in POINTS])
def test_kill_leaves_old_or_new_and_next_run_recovers(point, edited, monkeypatch):
    started = time.time()
    time.sleep(1.1)
    proc = start_run(edited)
    wait_for(
        lambda: point(edited, started) or proc.poll() is not None,
        RUN_TIMEOUT_S,
        point.__name__,
        interval_s=0.05,
    )
    assert proc.poll() is None, "the run finished before the kill point"
    kill(proc)

    assert_every_parquet_readable(edited)
    ledger_new, report_new = report_pair(edited)
    assert ledger_new == report_new, "the ledger and its report come from different runs"
    assert dg.DagsterRunStatus.STARTED in killed_run_statuses(edited)

    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(edited / "warehouse"))
    with recovery.warehouse_lock(), dg.DagsterInstance.from_config(str(edited / "home")) as inst:
        _, marked = recovery.recover(inst)
    assert marked, "the killed run was not marked failed"
    statuses = killed_run_statuses(edited)
    assert dg.DagsterRunStatus.STARTED not in statuses
    assert dg.DagsterRunStatus.FAILURE in statuses
    assert not list((edited / "warehouse").rglob("*.tmp"))
    assert not list((edited / "warehouse").rglob(".pending/*"))
    assert_every_parquet_readable(edited)


def test_next_run_after_a_kill_recovers_by_itself(edited):
    """Killed between the ledger and the report: the published pair is still the old one, every
    Parquet is readable, and the next command-line run marks the killed run failed, removes what it
    left and publishes the new pair."""
    started = time.time()
    time.sleep(1.1)
    proc = start_run(edited)
    wait_for(
        lambda: probe_between_ledger_and_report(edited, started) or proc.poll() is not None,
        RUN_TIMEOUT_S,
        "the ledger",
        interval_s=0.05,
    )
    assert proc.poll() is None, "the run finished before the kill point"
    kill(proc)
    assert_every_parquet_readable(edited)
    assert report_pair(edited) == (False, False)
    assert dg.DagsterRunStatus.STARTED in killed_run_statuses(edited)
    assert list((edited / "warehouse").rglob(".pending/*")), "the kill left no pending table"

    log = finish(start_run(edited), edited)

    assert "marked run" in log and "failed: its process was killed" in log, log
    assert "ok     report_job" in log, log
    assert report_pair(edited) == (True, True)
    statuses = killed_run_statuses(edited)
    assert dg.DagsterRunStatus.STARTED not in statuses
    assert dg.DagsterRunStatus.FAILURE in statuses
    assert not list((edited / "warehouse").rglob("*.tmp"))
    assert not list((edited / "warehouse").rglob(".pending/*"))
    assert_every_parquet_readable(edited)


def test_second_run_on_one_warehouse_is_refused_with_the_lock_named(edited):
    first = start_run(edited)
    lock = edited / "warehouse" / recovery.LOCK_FILE
    try:
        wait_for(
            lambda: lock.exists() and f"pid {first.pid}" in lock.read_text(),
            RUN_TIMEOUT_S,
            "the first run's lock",
            interval_s=0.1,
        )
        second = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "run"],
            cwd=PROJECT_ROOT,
            env=environment(edited),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    finally:
        kill(first)
    assert second.returncode == 1
    assert f"{lock}: the warehouse is in use by another run (pid {first.pid}" in second.stderr
    assert "OUTLOOK_WAREHOUSE" in second.stderr
