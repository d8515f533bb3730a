"""Keeps a run's event-log storage connected through reused engines while the run executes (the
command line's runs, and runs launched through the default executor, ``pipelines.executors``):
SQLite databases held open, PostgreSQL connections pooled.

Why (SQLite, the embedded default): Dagster's SQLite event log builds a new SQLAlchemy engine and
opens a new connection for every event it stores, then disposes of both. That costs, per event,
Python and disk work that stores nothing more:
- a new engine starts with an empty statement cache, so every INSERT and SELECT is compiled again,
  and a new connection reads the database schema again;
- when the last connection to a database in WAL mode closes, SQLite copies the write-ahead log into
  the database, syncs both files to disk and deletes the log;
- every commit waits for the disk (SQLite's default `synchronous=FULL` syncs the log each time), so
  the run's time followed the disk load of whatever else ran on the machine.
While held, each database has one engine whose one connection (per thread) stays open, so no
close triggers a checkpoint: SQLite copies the log back in its automatic checkpoints and when the
hold ends. Every statement still runs in its own committed transaction. The held connections
commit with `synchronous=NORMAL`, SQLite's recommended setting for WAL mode: a commit is safe
against the process being killed (the fault tests kill runs), and the log is synced at each
checkpoint; only an operating-system crash or power loss can undo the last commits, never corrupt
the database.

Why (PostgreSQL, `deploy/postgres/dagster.yaml`): Dagster's PostgreSQL event-log and run storages
use SQLAlchemy's `NullPool` ("to prevent accumulating connections per DagsterInstance"), so every
stored event opens a new server connection: a backend process started and the password
authenticated, per event. While held, each storage uses an engine with a pool of one connection
(the same engine options Dagster's own `optimize_for_webserver` uses, with a liveness check on
each checkout instead of a statement timeout), disposed of when the hold ends, so no connection
outlives the run. Statements still run in autocommit, as Dagster's own engine runs them.

A new run's SQLite database is written from an empty one made once per process by Dagster's own
set-up (its tables, WAL mode and schema-version stamp): that set-up loads every one of Dagster's
migration scripts to check and stamp the version, a tenth of a second for each run of a pipeline
run that has seven.

What is stored does not change. Other storages (the in-memory instance of tests) are left alone.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool, SingletonThreadPool

#: Event-log storages (by id) held by an open `storage_held_open` block of this process.
_HELD: set[int] = set()
#: The bytes of an empty run event-log database as Dagster sets one up (`_empty_run_database`).
_EMPTY_RUN_DATABASE: list[bytes] = []


@contextmanager
def storage_held_open(instance: dg.DagsterInstance, run_id: str) -> Iterator[None]:
    """While open: on SQLite, the event log's index database and the database of the run
    ``run_id`` (created here as Dagster creates it, before the run starts) stay open through one
    reused engine per event-log database; on PostgreSQL, the event-log and run storages each use
    one pooled connection."""
    storage = instance.event_log_storage
    if id(storage) in _HELD:  # already held (a run started inside a held block): nothing to add
        yield
        return
    _HELD.add(id(storage))
    try:
        if not isinstance(storage, SqliteEventLogStorage):
            with _postgres_pooled(instance):
                yield
            return
        with _engines_reused(storage):
            for connection in (storage.index_connection, lambda: storage.run_connection(run_id)):
                with connection():
                    pass  # Dagster creates the database (tables, WAL mode) on its first connection
            yield
    finally:
        _HELD.discard(id(storage))


def prepare(instance: dg.DagsterInstance) -> None:
    """Does once, in this process, what every later hold on this instance would otherwise redo
    (on SQLite: the empty run database and the event-log index's set-up check): processes forked
    afterwards, as the command line's runs are, start with both done."""
    storage = instance.event_log_storage
    if isinstance(storage, SqliteEventLogStorage):
        _empty_run_database(storage)
        with storage.index_connection():
            pass


def _commit_without_sync(dbapi_connection, _record) -> None:
    """SQLite's WAL-mode durability setting for the held engines' connections (module docstring)."""
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


@contextmanager
def _engines_reused(storage: SqliteEventLogStorage) -> Iterator[None]:
    """Replaces the storage's per-call engine with one engine per database (shard) for the length
    of the block, keeping its connection: the same connection string, busy timeout, one-time table
    set-up, lock and transaction per call as Dagster's own ``_connect``."""
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
                    if not _created_empty(storage, shard):
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


def _empty_run_database(storage: SqliteEventLogStorage) -> bytes:
    """An empty run event-log database as Dagster's own ``_initdb`` sets one up (tables, WAL mode,
    schema-version stamp), set up once per process in a temporary folder, folded into one file."""
    if not _EMPTY_RUN_DATABASE:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "empty.db")
            engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
            storage._initdb(engine)
            with engine.connect() as conn:  # the write-ahead log copied into the database file
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            with open(path, "rb") as handle:
                _EMPTY_RUN_DATABASE.append(handle.read())
    return _EMPTY_RUN_DATABASE[0]


def _created_empty(storage: SqliteEventLogStorage, shard: str) -> bool:
    """Writes a new run's database from the empty one (renamed into place whole, so no reader sees
    part of it); False for the index database and for a run whose database exists already (a
    launched run's, started by its launcher), which Dagster's own set-up checks instead."""
    path = storage.path_for_shard(shard)
    if shard == INDEX_SHARD_NAME or os.path.exists(path):
        return False
    partial = f"{path}.{os.getpid()}.partial"
    with open(partial, "wb") as handle:
        handle.write(_empty_run_database(storage))
    os.replace(partial, path)
    return True


#: Connections a held PostgreSQL engine keeps (a command-line run stores events from one thread)
#: and may open beyond that at once (returned ones beyond the pool are closed).
PG_POOL_SIZE, PG_MAX_OVERFLOW = 1, 4


def _postgres_storages(instance: dg.DagsterInstance) -> list:
    """The instance's PostgreSQL event-log and run storages (none when it has no PostgreSQL)."""
    try:
        from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage
    except ImportError:  # dagster-postgres not installed: nothing of it can be in use
        return []
    pairs = (
        (instance.event_log_storage, PostgresEventLogStorage),
        (instance.run_storage, PostgresRunStorage),
    )
    return [storage for storage, kind in pairs if isinstance(storage, kind)]


@contextmanager
def _postgres_pooled(instance: dg.DagsterInstance) -> Iterator[None]:
    """Swaps each PostgreSQL storage's per-call engine for a pooled one for the length of the
    block (module docstring), then disposes of it and puts Dagster's own engine back."""
    storages = _postgres_storages(instance)
    if not storages:  # e.g. the in-memory instance of tests
        yield
        return
    from dagster_postgres.utils import create_pg_engine

    swapped = []
    try:
        for storage in storages:
            pooled = create_pg_engine(
                storage.postgres_url,
                storage._token_provider,
                isolation_level="AUTOCOMMIT",
                pool_size=PG_POOL_SIZE,
                max_overflow=PG_MAX_OVERFLOW,
                pool_pre_ping=True,
            )
            swapped.append((storage, storage._engine))
            storage._engine = pooled
        yield
    finally:
        for storage, original in swapped:
            storage._engine.dispose()
            storage._engine = original
