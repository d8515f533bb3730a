"""Helpers for tests: run assets in-process, read failures, edit CSV cells."""

from __future__ import annotations

import csv
from pathlib import Path

import dagster as dg


def materialize(keys: list[str], instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """Materializes the named assets (with their checks) in-process; failures are returned."""
    from pipelines.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(k) for k in keys],
        raise_on_error=False,
    )


def failure_messages(result: dg.ExecuteInProcessResult) -> str:
    """All step-failure messages of a run, joined."""
    return "\n".join(
        e.step_failure_data.error.message
        for e in result.all_events
        if e.is_step_failure and e.step_failure_data.error is not None
    )


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def set_cell(path: Path, line: int, column: str, value: str) -> None:
    """Sets one cell of a CSV (line 1 is the header)."""
    rows = read_rows(path)
    rows[line - 1][rows[0].index(column)] = value
    write_rows(path, rows)
