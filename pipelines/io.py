"""Parquet IO for every asset: zstd, atomic, column descriptions in the Arrow schema, Hive vintages."""

from __future__ import annotations

import contextlib
import errno
import html
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from pipelines import settings

COLUMN_SCHEMA_KEY = "dagster/column_schema"
#: Hive-style partition folder name for forecast vintages.
PARTITION_FIELD = "vintage"
PREVIEW_ROWS = 5


def arrow_table(df: pd.DataFrame, column_schema: dg.TableSchema | None = None) -> pa.Table:
    """The DataFrame as an Arrow table whose fields carry their declared description and unit."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    if column_schema is None:
        return table
    declared = {col.name: col for col in column_schema.columns}
    fields = []
    for field in table.schema:
        col = declared.get(field.name)
        meta = dict(field.metadata or {})
        if col is not None:
            meta[b"description"] = html.unescape(col.description or "").encode()
            if col.tags.get("unit"):
                meta[b"unit"] = col.tags["unit"].encode()
        fields.append(field.with_metadata(meta))
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


#: A blocking audit over a staged table: the reasons it must not be published (empty = pass).
Audit = Callable[[pd.DataFrame], list[str]]
_AUDITS: dict[str, list[tuple[str, Audit]]] = {}
#: Suffix of the temporary files a write stages beside its target (swept by ``sweep_temporary``).
TMP_SUFFIX = ".tmp"


class PublishRefused(dg.Failure):
    """A staged table failed a blocking audit: the published table is untouched, the staged one kept."""


class WarehouseWriteError(dg.Failure):
    """The warehouse cannot be written (read-only, full, missing): one message naming the path."""


def register_audit(asset: str, name: str, audit: Audit) -> None:
    """Registers a blocking audit that every staged table of ``asset`` must pass before publishing."""
    entries = _AUDITS.setdefault(asset, [])
    entries[:] = [(n, a) for n, a in entries if n != name] + [(name, audit)]


def audits_for(asset: str) -> list[tuple[str, Audit]]:
    """The blocking audits registered for one asset, in registration order."""
    return list(_AUDITS.get(asset, []))


def _is_local(path: UPath) -> bool:
    return path.protocol in ("", "file", "local")


def _local(path: UPath) -> str:
    return os.fspath(path.path if hasattr(path, "path") else path)


def staged_path(asset_path: str) -> UPath:
    """Where a refused table is kept for inspection: beside the asset's rejected rows, as
    ``warehouse/rejected/<asset path>.staged.parquet``."""
    return UPath(settings.layer_dir("rejected")) / f"{asset_path}.staged.parquet"


def _temporary(local: str) -> str:
    return os.path.join(
        os.path.dirname(local), f".{os.path.basename(local)}.{uuid.uuid4().hex}{TMP_SUFFIX}"
    )


def _write_error(exc: OSError, path: str) -> WarehouseWriteError:
    reason = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exhausted",
        errno.EROFS: "the filesystem is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
    }.get(exc.errno, exc.strerror or type(exc).__name__)
    return WarehouseWriteError(
        description=f"{path}: cannot write the warehouse: {reason} "
        f"(free space or fix permissions, or set ${settings.WAREHOUSE_ENV} to a writable folder)"
    )


def _refuse(table: pa.Table, label: str, reasons: list[str]) -> PublishRefused:
    """Keeps the refused table beside the rejected rows and builds the failure naming it."""
    kept = staged_path(label)
    write_parquet_atomic(table, kept)
    return PublishRefused(
        description=f"{label}: not published, {len(reasons)} blocking check(s) failed: "
        + "; ".join(reasons)
        + f". The published table is unchanged; the refused table is in {kept}",
        metadata={"staged_table": dg.MetadataValue.path(str(kept))},
    )


def refuse_publish(df: pd.DataFrame, label: str, reasons: list[str], schema=None) -> PublishRefused:
    """The failure for a table whose blocking checks failed before it was written (the table is
    kept beside the rejected rows for inspection; nothing is published)."""
    return _refuse(arrow_table(df, schema), label, reasons)


def publish_parquet(
    table: pa.Table, path: UPath, audits: list[tuple[str, Audit]] = (), label: str = ""
) -> None:
    """Write-audit-publish: writes zstd Parquet to a staging file beside ``path``, reads it back
    (so a half-written or unreadable file is never published) and runs every blocking audit on
    what was read; only then renames it over ``path`` (atomic on a local disk). A failed audit
    raises :class:`PublishRefused` and leaves ``path`` byte-identical."""
    if not _is_local(path):
        reasons = [f"{n}: {r}" for n, a in audits for r in a(table.to_pandas())]
        if reasons:
            raise _refuse(table, label or path.name, reasons)
        with path.open("wb") as handle:
            pq.write_table(table, handle, compression="zstd")
        return
    local = _local(path)
    tmp = _temporary(local)
    try:
        try:
            os.makedirs(os.path.dirname(local), exist_ok=True)
            pq.write_table(table, tmp, compression="zstd")
        except OSError as exc:
            raise _write_error(exc, os.path.dirname(local) or local) from None
        staged = pq.read_table(tmp)
        if audits:
            frame = staged.to_pandas()
            reasons = [f"{name}: {r}" for name, audit in audits for r in audit(frame)]
            if reasons:
                raise _refuse(staged, label or os.path.basename(local), reasons)
        try:
            os.replace(tmp, local)
        except OSError as exc:
            raise _write_error(exc, local) from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_bytes_atomic(data: bytes, path: UPath | str) -> None:
    """Writes bytes via a temporary file in the same folder and a rename on a local disk (a reader
    never sees half a file); directly on other filesystems."""
    path = UPath(path)
    if not _is_local(path):
        with path.open("wb") as handle:
            handle.write(data)
        return
    local = _local(path)
    os.makedirs(os.path.dirname(local), exist_ok=True)
    tmp = _temporary(local)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, local)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_parquet_atomic(table: pa.Table, path: UPath) -> None:
    """Writes zstd Parquet; on a local disk via a temporary file in the same folder and a rename,
    so a reader (or a failed run) never sees a half-written file."""
    publish_parquet(table, path)


#: Folder (inside a layer) where a table waits to be published together with others.
PENDING_DIR = ".pending"
#: Journal of a group publish in progress: a killed publish is finished by the next run.
JOURNAL_FILE = ".publish-journal.json"
#: Definition metadata naming the asset that publishes this one together with its own files.
PUBLISHED_BY_KEY = "outlook/published_by"


def pending_path(path: UPath) -> UPath:
    """Where a table published together with others waits: ``<folder>/.pending/<name>``."""
    return path.parent / PENDING_DIR / path.name


def publish_together(folder: UPath, names: list[str]) -> list[str]:
    """Publishes the pending files ``names`` of one folder as a group: a journal listing them is
    written first, then each is renamed into place and the journal removed; a run killed in
    between is finished by :func:`finish_interrupted_publish`. Returns the names published."""
    pending = folder / PENDING_DIR
    present = [n for n in names if (pending / n).exists()]
    if not _is_local(folder):
        for name in present:
            (folder / name).write_bytes((pending / name).read_bytes())
            (pending / name).unlink()
        return present
    local = _local(folder)
    journal = os.path.join(local, JOURNAL_FILE)
    tmp = _temporary(journal)
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump({"publish": present}, handle)
        os.replace(tmp, journal)
    except OSError as exc:
        raise _write_error(exc, local) from None
    _apply_journal(local)
    return present


def _apply_journal(local: str) -> list[str]:
    journal = os.path.join(local, JOURNAL_FILE)
    with open(journal, encoding="utf-8") as handle:
        names = json.load(handle)["publish"]
    done = []
    for name in names:
        src = os.path.join(local, PENDING_DIR, name)
        if os.path.exists(src):
            os.replace(src, os.path.join(local, name))
            done.append(name)
    os.remove(journal)
    return done


def finish_interrupted_publish(folder: str) -> list[str]:
    """Finishes a group publish a killed run started (so the files of the group are all new),
    and discards pending files no journal names (their run never reached publishing)."""
    if "://" in folder or not os.path.isdir(folder):
        return []
    done = []
    if os.path.exists(os.path.join(folder, JOURNAL_FILE)):
        try:
            done = _apply_journal(folder)
        except (ValueError, KeyError):
            os.remove(os.path.join(folder, JOURNAL_FILE))
    pending = os.path.join(folder, PENDING_DIR)
    if os.path.isdir(pending):
        for name in os.listdir(pending):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(pending, name))
    return done


def sweep_temporary(root: str) -> list[str]:
    """Removes the temporary files a killed run left under a local warehouse root; returns them."""
    if "://" in root or not os.path.isdir(root):
        return []
    removed = []
    for folder, _, files in os.walk(root):
        for name in files:
            if name.startswith(".") and name.endswith(TMP_SUFFIX):
                path = os.path.join(folder, name)
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
                    removed.append(path)
    return sorted(removed)


#: Suffix a corrupted published Parquet file is renamed to, so no reader or glob picks it up.
QUARANTINE_SUFFIX = ".corrupt"


class CorruptTable(dg.Failure):
    """A published Parquet file exists but cannot be read (truncated or corrupted)."""

    def __init__(self, path: str, moved_to: str, exc: Exception):
        self.path = path
        self.moved_to = moved_to
        where = f"moved to {moved_to}; " if moved_to else ""
        super().__init__(
            description=f"{path}: the published Parquet file is unreadable ({exc}); {where}"
            "materialize its asset again to rebuild it"
        )


def quarantine(path: UPath, exc: Exception) -> CorruptTable:
    """Renames an unreadable published file aside (``<file>.corrupt``) and names both paths."""
    moved = ""
    if _is_local(path):
        local = _local(path)
        moved = local + QUARANTINE_SUFFIX
        with contextlib.suppress(OSError):
            os.replace(local, moved)
    return CorruptTable(str(path), moved, exc)


def read_parquet_checked(path: UPath) -> pa.Table:
    """Reads a published Parquet file; a truncated or corrupted one is quarantined and raises a
    failure naming it, so the next run of its asset rebuilds it instead of failing forever."""
    try:
        with path.open("rb") as handle:
            return pq.read_table(handle)
    except (pa.ArrowInvalid, OSError) as exc:
        raise quarantine(path, exc) from None


def preview_markdown(df: pd.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    """The first rows as a Markdown table for the Dagster UI: numbers in ``g`` format (as
    ``DataFrame.to_markdown`` shows them), other cells as pandas prints them, pipes escaped.
    Written out because every stored table gets one: tabulate, behind ``to_markdown``, took
    3.4 ms a table for its column typing and alignment, which Markdown does not need."""

    def cell(value: object) -> str:
        text = format(value, "g") if isinstance(value, float) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    head = df.head(rows)
    lines = [
        "| " + " | ".join(cell(name) for name in head.columns) + " |",
        "|" + "|".join("---" for _ in head.columns) + "|",
    ]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in head.itertuples(index=False)
    ]
    return "\n".join(lines)


class _ParquetPathIOManager(dg.UPathIOManager):
    extension = ".parquet"

    def get_path_for_partition(self, context, path: UPath, partition: str) -> UPath:
        return self.make_safe_partition_path(path, f"{PARTITION_FIELD}={partition}") / "part-0"

    def make_directory(self, path: UPath) -> None:
        try:
            super().make_directory(path)
        except OSError as exc:
            raise _write_error(exc, str(path)) from None

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string()}: expected a pandas DataFrame, got {type(obj).__name__}"
            )
        schema = context.definition_metadata.get(COLUMN_SCHEMA_KEY)
        asset = context.asset_key.to_user_string()
        label = asset + (
            f"/{PARTITION_FIELD}={context.partition_key}" if context.has_partition_key else ""
        )
        if context.definition_metadata.get(PUBLISHED_BY_KEY):
            path = pending_path(path)
        publish_parquet(arrow_table(obj, schema), path, audits_for(asset), label)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        pending = pending_path(path)
        if _is_local(path) and pending.exists():
            path = pending
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist: materialize {context.asset_key.to_user_string()} first "
                f"(warehouse root: ${settings.WAREHOUSE_ENV} or ./warehouse)"
            )
        return read_parquet_checked(path).to_pandas()

    def get_metadata(self, context: dg.OutputContext, obj: Any) -> dict[str, Any]:
        if not isinstance(obj, pd.DataFrame):
            return {}
        return {
            "dagster/row_count": len(obj),
            "columns": dg.MetadataValue.json({c: str(t) for c, t in obj.dtypes.items()}),
            "preview": dg.MetadataValue.md(preview_markdown(obj)),
        }


class ParquetIOManager(dg.ConfigurableIOManagerFactory):
    """Stores each asset as ``<warehouse>/<layer>/<asset>.parquet`` (partitioned assets as
    ``<asset>/vintage=<key>/part-0.parquet``), readable by pandas, DuckDB and BI tools."""

    layer: str

    def create_io_manager(self, context) -> _ParquetPathIOManager:
        return _ParquetPathIOManager(base_path=UPath(settings.layer_dir(self.layer)))


def column_schema(*columns: tuple[str, str, str, str]) -> dg.TableSchema:
    """A column schema from (name, type, unit, description) tuples; the unit goes to a tag and
    into the description so the UI and the Parquet field metadata both show it. The UI renders a
    description as Markdown, so angle brackets (``train-<chip>-...``) are escaped as entities (once:
    a description taken from another schema is not escaped again); the Parquet field metadata
    carries the plain text."""
    out = []
    for name, type_, unit, description in columns:
        text = f"{description} [{unit}]" if unit else description
        text = html.escape(html.unescape(text), quote=False)
        out.append(
            dg.TableColumn(name, type_, description=text, tags={"unit": unit} if unit else {})
        )
    return dg.TableSchema(columns=out)
