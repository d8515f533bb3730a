"""Jobs: ingest alone (daily and on source changes), derived metrics, and everything unpartitioned."""

from __future__ import annotations

import dagster as dg

UPSTREAM = dg.AssetSelection.groups("upstream")
INGEST = dg.AssetSelection.groups("ingest", "staging")
#: The derived grid; the what-if table only grows from its own job (launchpad or ``cli what-if``).
DERIVED = dg.AssetSelection.groups("derived") - dg.AssetSelection.assets("what_if_runs")
REPORT = dg.AssetSelection.groups("report")

upstream_job = dg.define_asset_job(
    "upstream_job",
    selection=UPSTREAM,
    description="Fetch (online) or read the shipped copy of (offline) every upstream dataset into "
    "immutable raw snapshots (warehouse/raw/).",
)
ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=INGEST,
    description="Validate every source file and stage every upstream snapshot into clean Parquet "
    "(warehouse/clean/).",
)
derived_job = dg.define_asset_job(
    "derived_job",
    selection=DERIVED,
    description="Recompute the rust_core derived metrics from the clean tables.",
)

report_job = dg.define_asset_job(
    "report_job",
    selection=REPORT,
    description="Rebuild the claims ledger and the outlook page from the latest tables and vintage.",
)

#: The jobs the command line runs to materialize every asset (forecast_job for the newest vintage),
#: stage after stage. Within a stage each run starts as soon as the runs it reads from are done
#: (``pipelines.run_plan.stage_runs``): the source files are ingested while the upstream snapshots are
#: fetched, and only their staging waits for them; the derived metrics and the forecasts go at the
#: same time, the few forecasts that read a derived table once it is done, and the report once
#: everything it reads is. The first stage runs from its own definitions
#: (``pipelines.ingest_definitions``) while the rest load. The what_if job is not among them: a run
#: never adds to or rewrites a user's what_if_runs.
PIPELINE_STAGES = (
    ("upstream_job", "ingest_job"),
    ("derived_job", "forecast_job", "report_job"),
)
PIPELINE_JOBS = tuple(job for stage in PIPELINE_STAGES for job in stage)
