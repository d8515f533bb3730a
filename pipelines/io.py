"""Parquet IO for every asset: zstd, atomic, column descriptions in the Arrow schema, Hive vintages."""

from __future__ import annotations

import html
import os
import uuid
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


def write_parquet_atomic(table: pa.Table, path: UPath) -> None:
    """Writes zstd Parquet; on a local disk via a temporary file in the same folder and a rename,
    so a reader (or a failed run) never sees a half-written file."""
    if path.protocol in ("", "file", "local"):
        local = os.fspath(path.path if hasattr(path, "path") else path)
        os.makedirs(os.path.dirname(local), exist_ok=True)
        tmp = os.path.join(
            os.path.dirname(local), f".{os.path.basename(local)}.{uuid.uuid4().hex}.tmp"
        )
        try:
            pq.write_table(table, tmp, compression="zstd")
            os.replace(tmp, local)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        with path.open("wb") as handle:
            pq.write_table(table, handle, compression="zstd")


def preview_markdown(df: pd.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    """The first rows as a Markdown table for the Dagster UI."""
    return df.head(rows).to_markdown(index=False)


class _ParquetPathIOManager(dg.UPathIOManager):
    extension = ".parquet"

    def get_path_for_partition(self, context, path: UPath, partition: str) -> UPath:
        return self.make_safe_partition_path(path, f"{PARTITION_FIELD}={partition}") / "part-0"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string()}: expected a pandas DataFrame, got {type(obj).__name__}"
            )
        schema = context.definition_metadata.get(COLUMN_SCHEMA_KEY)
        write_parquet_atomic(arrow_table(obj, schema), path)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist: materialize {context.asset_key.to_user_string()} first "
                f"(warehouse root: ${settings.WAREHOUSE_ENV} or ./warehouse)"
            )
        with path.open("rb") as handle:
            return pq.read_table(handle).to_pandas()

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
    description as Markdown, so angle brackets (``train-<chip>-...``) are escaped as entities; the
    Parquet field metadata carries the plain text."""
    out = []
    for name, type_, unit, description in columns:
        text = f"{description} [{unit}]" if unit else description
        text = html.escape(text, quote=False)
        out.append(
            dg.TableColumn(name, type_, description=text, tags={"unit": unit} if unit else {})
        )
    return dg.TableSchema(columns=out)
