"""One run at a time per warehouse, and recovery from a run that was killed: its temporary files
are removed and its runs, still marked as started, are marked failed."""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
from collections.abc import Iterator

from pipelines import io, settings

LOCK_FILE = ".outlook.lock"
#: Tags the command line puts on its runs, so a later run can tell which ones were killed.
LAUNCHER_TAG = "outlook/launcher"
WAREHOUSE_TAG = "outlook/warehouse"
PID_TAG = "outlook/pid"


class WarehouseBusy(Exception):
    """Another run holds the warehouse: one message naming the lock and its holder."""


def run_tags() -> dict[str, str]:
    """The tags of a command-line run on the configured warehouse."""
    return {LAUNCHER_TAG: "cli", WAREHOUSE_TAG: settings.warehouse_dir(), PID_TAG: str(os.getpid())}


@contextlib.contextmanager
def warehouse_lock() -> Iterator[str | None]:
    """Holds an exclusive lock on a local warehouse for the duration of a run (the kernel releases
    it when the process dies, even by kill -9); raises :class:`WarehouseBusy` if a run holds it."""
    root = settings.warehouse_dir()
    if "://" in root:
        yield None
        return
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, LOCK_FILE)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise WarehouseBusy(
                f"{path}: the warehouse is in use by another run ({holder}); wait for it to "
                f"finish, or set ${settings.WAREHOUSE_ENV} to another warehouse"
            ) from None
        stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {stamp}".encode(), 0)
        yield path
    finally:
        os.close(fd)


def mark_killed_runs_failed(instance) -> list[str]:
    """Marks failed every command-line run on this warehouse still recorded as started or queued
    (call while holding the warehouse lock: no such run can still be alive, it was killed);
    returns their run ids."""
    import dagster as dg

    unfinished = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.NOT_STARTED,
                dg.DagsterRunStatus.CANCELING,
            ],
            tags={LAUNCHER_TAG: "cli", WAREHOUSE_TAG: settings.warehouse_dir()},
        )
    )
    marked = []
    for run in unfinished:
        instance.report_run_failed(
            run,
            message=f"The process running this (pid {run.tags.get(PID_TAG, '?')}) ended without "
            "finishing it (killed); marked failed by the next run.",
        )
        marked.append(run.run_id)
    return marked


def recover(instance) -> tuple[list[str], list[str]]:
    """Cleans up after a killed run (call while holding the warehouse lock): finishes a report
    publish it started, removes its temporary and pending files and marks its runs failed.
    Returns (removed files, failed run ids)."""
    io.finish_interrupted_publish(settings.layer_dir("report"))
    removed = io.sweep_temporary(settings.warehouse_dir())
    return removed, mark_killed_runs_failed(instance)
