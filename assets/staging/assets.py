"""Dagster staging assets ``stg_<dataset>``: the payload in use, typed into the project's units."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from assets.ingest.factory import record_rejected, rejected_path
from assets.ingest.schema import Validated
from assets.staging import epoch, prices, read
from assets.staging.frame import DriftError, Provenance, StagingSchema, column_tuples, stage_frame
from assets.upstream import registry, store
from pipelines import io

GROUP = "staging"
OWNERS = ["team:compute-outlook"]
#: Date each shipped copy was taken (``data/upstream/SOURCES.md``); a fetched payload is dated by
#: its fetch.
SHIPPED_SNAPSHOT_DATES = {
    "epoch_ml_hardware": "2026-07-19",
    "epoch_gpu_clusters": "2026-04-24",
    "epoch_data_centers": "2026-10-01",
    "epoch_data_center_timelines": "2026-10-01",
    "epoch_chip_sales_timelines": "2026-10-01",
    "epoch_chip_sales_chip_types": "2026-10-01",
    "epoch_chip_sales_organizations": "2026-10-01",
    "epoch_notable_models": "2026-07-19",
    "litellm_prices": "2026-11-20",
    "openrouter_models": "2026-08-19",
}


@dataclass(frozen=True)
class Staging:
    """One dataset's staging: its declared schema and how its payload becomes text cells."""

    schema: StagingSchema
    reader: Callable[[Path, str], pd.DataFrame] = read.csv_cells


STAGINGS: tuple[Staging, ...] = (
    *(Staging(s) for s in epoch.EPOCH_SCHEMAS),
    Staging(prices.LITELLM_PRICES, read.litellm_cells),
    Staging(prices.OPENROUTER_MODELS, read.openrouter_cells),
)


def provenance(dataset_id: str, path: Path) -> Provenance:
    """Citation, URL, snapshot date and sha256 of the payload at ``path``."""
    entry = registry.dataset(dataset_id)
    row = store.current_manifest(dataset_id)
    published = (
        row.fetched_at[:10] if row.origin == "online" else SHIPPED_SNAPSHOT_DATES[dataset_id]
    )
    return Provenance(entry.citation, entry.url, published, read.sha256_file(path))


def stage_payload(staging: Staging, path: Path, prov: Provenance) -> Validated:
    """The typed staging table of one payload (DriftError when its schema drifted)."""
    return stage_frame(staging.reader(path, staging.schema.dataset), staging.schema, prov)


def staging_asset(staging: Staging) -> dg.AssetsDefinition:
    """``stg_<dataset>``: reads the payload in use, fails naming dataset, column and value on schema
    drift (the last good table stays), keeps rejected rows in ``warehouse/rejected/``."""
    schema = staging.schema
    entry = registry.dataset(schema.dataset)

    @dg.asset(
        name=schema.asset,
        group_name=GROUP,
        description=f"{schema.description} Source: {entry.citation} Licence: {entry.licence}. "
        + " ".join(schema.notes),
        kinds={"pandas"},
        owners=OWNERS,
        io_manager_key="clean_io",
        deps=[dg.AssetKey(entry.asset_name)],
        check_specs=[
            dg.AssetCheckSpec(
                "no_rejected_rows",
                asset=schema.asset,
                description="Every upstream row passed its declared types and ranges.",
                blocking=False,
            )
        ],
        metadata={
            "dagster/column_schema": io.column_schema(*column_tuples(schema)),
            "primary_key": list(schema.key) or ["source_row"],
            "upstream_url": entry.url,
            "licence": entry.licence,
        },
    )
    def _asset(context):
        path = store.current_payload_path(schema.dataset)
        prov = provenance(schema.dataset, path)
        started = time.perf_counter()
        try:
            validated = stage_payload(staging, path, prov)
        except DriftError as err:
            raise dg.Failure(
                description=f"schema drift in {path}: {err}",
                metadata={"dataset": schema.dataset, "payload": str(path)},
            ) from None
        seconds = time.perf_counter() - started
        record_rejected(schema.asset, validated)
        yield dg.Output(
            validated.table,
            metadata={
                "payload": dg.MetadataValue.path(str(path)),
                "snapshot_sha256": prov.sha256,
                "published": prov.published,
                "rejected_rows": len(validated.rejected),
                "staging_seconds": round(seconds, 3),
            },
        )
        yield dg.AssetCheckResult(
            check_name="no_rejected_rows",
            passed=validated.ok,
            severity=dg.AssetCheckSeverity.WARN,
            description=validated.message() if validated.problems else "no rejected rows",
            metadata={"rejected": dg.MetadataValue.path(str(rejected_path(schema.asset)))},
        )

    return _asset


ASSETS = [staging_asset(s) for s in STAGINGS]
