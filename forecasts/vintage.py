"""Forecast vintages: one partition per week, keyed by its as-of date (YYYY-MM-DD), and readers
of the Hive-partitioned vintage folders."""

from __future__ import annotations

import logging
import os

import dagster as dg
import pandas as pd
from upath import UPath

from forecasts.common import to_timestamp
from pipelines import io

#: Hive partition field of the vintage folders (warehouse/forecasts/<asset>/vintage=YYYY-MM-DD/).
VINTAGE_FIELD = "vintage"
VINTAGE_FORMAT = "%Y-%m-%d"
FIRST_VINTAGE = "2026-01-05"

#: Weekly vintages starting on Mondays. A vintage's key is its as-of date: the forecast uses
#: only rows dated (and, where known, published) on or before that day. ``end_offset=1`` makes
#: the week that starts today materializable, so the Monday run writes today's vintage.
VINTAGES = dg.WeeklyPartitionsDefinition(
    start_date=FIRST_VINTAGE, fmt=VINTAGE_FORMAT, day_offset=1, end_offset=1
)


def as_of_date(partition_key: str) -> pd.Timestamp:
    """The as-of date of a vintage key (the key itself, as a date)."""
    try:
        return to_timestamp(pd.to_datetime(partition_key, format=VINTAGE_FORMAT))
    except ValueError as exc:
        raise ValueError(f"vintage key '{partition_key}' is not a YYYY-MM-DD date") from exc


def vintage_glob(layer_dir: str, asset: str) -> str:
    """The glob that matches every vintage file of one asset (for DuckDB ``read_parquet``)."""
    return f"{layer_dir.rstrip('/')}/{asset}/{VINTAGE_FIELD}=*/*.parquet"


def _readable(path: str, filesystem, local: bool) -> bool:
    """Whether a vintage file's Parquet footer reads; an unreadable one is quarantined (renamed
    ``<file>.corrupt`` on a local disk) with a warning naming it, so one bad vintage never fails
    every later run."""
    import pyarrow.parquet as pq

    try:
        pq.ParquetFile(path, filesystem=filesystem).metadata  # noqa: B018
    except (OSError, ValueError) as exc:
        moved = io.quarantine(UPath(path), exc) if local else None
        logging.getLogger(__name__).warning(
            "%s", moved.description if moved is not None else f"{path}: unreadable ({exc})"
        )
        return False
    return True


def read_vintages(layer_dir: str, asset: str, latest_only: bool = False) -> pd.DataFrame:
    """Every stored vintage of an asset as one frame with a ``vintage`` date column (or only the
    latest), read Hive-style with pyarrow (local path or fsspec URL). Empty when none exist."""
    import pyarrow.dataset as ds

    root = f"{layer_dir.rstrip('/')}/{asset}"
    filesystem = None
    base = root
    if "://" in root:
        upath = UPath(root)
        if not upath.exists():
            return pd.DataFrame()
        filesystem, base = upath.fs, upath.path
    elif not os.path.isdir(root):
        return pd.DataFrame()
    dataset = ds.dataset(base, filesystem=filesystem, format="parquet", partitioning="hive")
    readable = [
        f for f in dataset.files if _readable(f, dataset.filesystem, local=filesystem is None)
    ]
    if not readable:
        return pd.DataFrame()
    if len(readable) < len(dataset.files):
        dataset = ds.dataset(
            readable,
            filesystem=dataset.filesystem,
            format="parquet",
            partitioning="hive",
            partition_base_dir=base,
        )
    table = dataset.to_table()
    df = table.to_pandas()
    df[VINTAGE_FIELD] = pd.to_datetime(df[VINTAGE_FIELD].astype(str), format=VINTAGE_FORMAT)
    if latest_only and len(df):
        df = df[df[VINTAGE_FIELD] == df[VINTAGE_FIELD].max()]
    return df.sort_values(VINTAGE_FIELD, kind="mergesort").reset_index(drop=True)
