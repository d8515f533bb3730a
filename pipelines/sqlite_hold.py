"""Holds a run's SQLite event-log databases open while the command line runs it.

Why: Dagster's SQLite event log opens a connection for every event it stores and closes it after.
When the last connection to a database in WAL mode closes, SQLite copies the write-ahead log into
the database, syncs both files to disk and deletes the log, so every stored event paid for that
(about half of a full run's time in event storage). One idle connection of this process, open for
the length of the run, makes each of those closes an ordinary one: SQLite copies the log back in
its automatic checkpoints and when this connection closes at the end of the run. What is stored
does not change. Other storages (the PostgreSQL instance) are left alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import dagster as dg
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS


@contextmanager
def event_log_held_open(instance: dg.DagsterInstance, run_id: str) -> Iterator[None]:
    """While open, one idle connection each to the event log's index database and to the
    database of the run ``run_id`` (created here as Dagster creates it, before the run starts)."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqliteEventLogStorage):
        yield
        return
    with ExitStack() as stack:
        for connection, path in (
            (storage.index_connection, storage.path_for_shard("index")),
            (lambda: storage.run_connection(run_id), storage.path_for_shard(run_id)),
        ):
            with connection():
                pass  # Dagster creates the database (tables, WAL mode) on its first connection
            held = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
            stack.callback(held.close)
            # One read joins the write-ahead log as a reader; the statement ends at once, so no
            # read transaction stays open to hold checkpoints back.
            held.execute("select count(*) from sqlite_master").fetchall()
        yield
