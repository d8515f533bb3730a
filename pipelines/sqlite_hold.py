"""Holds a run's SQLite event-log databases open, and reuses one engine per database, while the
command line runs it.

Why: Dagster's SQLite event log builds a new SQLAlchemy engine and opens a new connection for every
event it stores, then disposes of both. That costs three things per event, all of it Python and
disk work that stores nothing more:
- a new engine starts with an empty statement cache, so every INSERT and SELECT is compiled again;
- when the last connection to a database in WAL mode closes, SQLite copies the write-ahead log into
  the database, syncs both files to disk and deletes the log;
- the engine itself (dialect, pool, first-connect checks) is built again;
- every commit waits for the disk (SQLite's default `synchronous=FULL` syncs the log each time), so
  the run's time followed the disk load of whatever else ran on the machine.
While held, each database keeps one engine (a connection per use, as before, so every statement
still runs in its own committed transaction) and one idle connection of this process, which makes
each close an ordinary one; SQLite copies the log back in its automatic checkpoints and when the
hold ends. The held engines commit with `synchronous=NORMAL`, SQLite's recommended setting for WAL
mode: a commit is safe against the process being killed (the fault tests kill runs), and the log
is synced at each checkpoint; only an operating-system crash or power loss can undo the last
commits, never corrupt the database. What is stored does not change. Other storages (the
PostgreSQL instance) are left alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import dagster as dg
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import SingletonThreadPool


@contextmanager
def event_log_held_open(instance: dg.DagsterInstance, run_id: str) -> Iterator[None]:
    """While open, one idle connection each to the event log's index database and to the
    database of the run ``run_id`` (created here as Dagster creates it, before the run starts),
    and one reused engine per event-log database."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqliteEventLogStorage):
        yield
        return
    with ExitStack() as stack:
        stack.enter_context(_engines_reused(storage))
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


def _commit_without_sync(dbapi_connection, _record) -> None:
    """SQLite's WAL-mode durability setting for the held engines' connections (module docstring)."""
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


@contextmanager
def _engines_reused(storage: SqliteEventLogStorage) -> Iterator[None]:
    """Replaces the storage's per-call engine with one engine per database (shard) for the length
    of the block: the same connection string, pool class, busy timeout, one-time table set-up,
    lock and transaction per call as Dagster's own ``_connect``."""
    engines: dict[str, Engine] = {}

    @contextmanager
    def connect(shard: str) -> Iterator:
        with storage._db_lock:
            engine = engines.get(shard)
            if engine is None:
                engine = create_engine(
                    storage.conn_string_for_shard(shard),
                    poolclass=SingletonThreadPool,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                )
                event.listen(engine, "connect", _commit_without_sync)
                if shard not in storage._initialized_dbs:
                    storage._initdb(engine)
                    storage._initialized_dbs.add(shard)
                engines[shard] = engine
            with engine.connect() as conn, conn.begin():
                yield conn

    storage._connect = connect
    try:
        yield
    finally:
        del storage._connect  # the class's own method again
        for engine in engines.values():
            engine.dispose()
