"""Jobs: ingest alone (daily and on source changes), derived metrics, and everything unpartitioned."""

from __future__ import annotations

import dagster as dg

INGEST = dg.AssetSelection.groups("ingest")
DERIVED = dg.AssetSelection.groups("derived")

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=INGEST,
    description="Validate every source file into clean Parquet (warehouse/clean/).",
)
derived_job = dg.define_asset_job(
    "derived_job",
    selection=DERIVED,
    description="Recompute the rust_core derived metrics from the clean tables.",
)

#: The jobs the command line runs, in order, to materialize every asset.
PIPELINE_JOBS = ("ingest_job", "derived_job")
