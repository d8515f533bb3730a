"""A sensor that re-ingests a source file when its content changes."""

from __future__ import annotations

import hashlib
import json

import dagster as dg

from assets.ingest import SOURCE_SPECS
from pipelines import settings
from pipelines.jobs import ingest_job


def fingerprints() -> dict[str, str]:
    """SHA-256 of each source file's content (missing files are left out)."""
    out = {}
    for spec in SOURCE_SPECS:
        path = settings.sources_dir() / spec.schema.file
        if path.is_file():
            out[spec.schema.asset] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def changed_assets(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Ingest assets whose source file is new or has different content."""
    return sorted(asset for asset, digest in current.items() if previous.get(asset) != digest)


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=settings.sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Materializes the ingest asset of every source CSV whose content changed.",
)
def source_files_sensor(context: dg.SensorEvaluationContext):
    current = fingerprints()
    if context.cursor is None:
        context.update_cursor(json.dumps(current, sort_keys=True))
        return dg.SkipReason(f"recorded fingerprints of {len(current)} source files")
    changed = changed_assets(json.loads(context.cursor), current)
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not changed:
        return dg.SkipReason("no source file changed")
    run_key = (
        "sources:" + hashlib.sha256("".join(current[a] for a in changed).encode()).hexdigest()[:16]
    )
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=[dg.AssetKey(a) for a in changed],
        tags={"outlook/changed_sources": ",".join(changed)},
    )
