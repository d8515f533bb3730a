"""Raw upstream assets: fetch (online) or read the shipped copy (offline), check, store on change.

The asset's data version is the sha256 of the payload in use, so what reads it re-runs only when
the bytes change; an unchanged payload (HTTP 304, or the same sha256) stores nothing new."""

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from assets.upstream import payload as payload_checks
from assets.upstream import store
from assets.upstream.http import FetchError, UpstreamHttp
from assets.upstream.registry import DATASETS, UpstreamDataset, dataset
from pipelines import settings

GROUP = "upstream"
OWNERS = ["team:compute-outlook"]
#: A series whose newest observation is older than this is flagged stale (report and checks).
STALE_AFTER = timedelta(days=183)
RECENCY_CHECK = "data_recency"


@dataclass(frozen=True)
class Refresh:
    """The outcome of one refresh: the payload in use, whether it is new, and what it holds."""

    dataset: str
    changed: bool
    row: store.ManifestRow
    snapshot_dir: Path
    http_status: int | None
    summary: payload_checks.PayloadSummary
    attempts: int
    seconds: float


def _as_of(row: store.ManifestRow) -> date:
    """The date up to which the payload's dated rows are observations (later ones: projections)."""
    if row.origin == "shipped" and dataset(row.dataset).snapshot_date:
        return date.fromisoformat(dataset(row.dataset).snapshot_date)
    return datetime.fromisoformat(row.fetched_at).date()


def _checked(entry: UpstreamDataset, url: str, body: bytes, as_of: date):
    """Checks a payload; a failing one is kept under rejected/ and the error re-raised."""
    try:
        return payload_checks.check_payload(entry.id, url, body, as_of)
    except FetchError as exc:
        store.store_rejected(entry.id, url, body, exc.reason)
        raise


def refresh_offline(dataset_id: str) -> Refresh:
    """Stores the shipped snapshot once (unless that exact payload is already stored)."""
    started = time.perf_counter()
    entry = dataset(dataset_id)
    body = entry.shipped_path.read_bytes()
    row = store.shipped_manifest_row(dataset_id, body)
    row = store.ManifestRow(**{**row.__dict__, "fetched_at": store.utc_now()})
    known = {stored.sha256 for stored in store.manifest(dataset_id)}
    changed = row.sha256 not in known
    if changed:
        summary = _checked(entry, f"file://{entry.shipped_path}", body, _as_of(row))
        store.store_snapshot(row, body)
    folder, in_use = store.latest_snapshot(dataset_id)
    if not changed:
        summary = payload_checks.check_payload(
            dataset_id, in_use.url, (folder / in_use.file_name).read_bytes(), _as_of(in_use)
        )
    return Refresh(
        dataset_id, changed, in_use, folder, None, summary, 0, time.perf_counter() - started
    )


def refresh_online(dataset_id: str, http: UpstreamHttp, use_zip: bool = False) -> Refresh:
    """Fetches the official URL (conditionally), checks the payload and stores it if it changed."""
    started = time.perf_counter()
    entry = dataset(dataset_id)
    if use_zip and entry.zip_url is None:
        raise FetchError(dataset_id, entry.url, "no zip archive is published for this dataset")
    url = entry.zip_url if use_zip else entry.url
    latest = store.latest_snapshot(dataset_id)
    previous = (
        latest[1] if latest and latest[1].origin == "online" and latest[1].url == url else None
    )
    fetched = http.get(
        dataset_id,
        url,
        etag=previous.etag if previous else None,
        last_modified=previous.last_modified if previous else None,
    )
    if fetched.status == 304:
        if latest is None:
            raise FetchError(dataset_id, fetched.url, "HTTP 304 Not Modified but nothing is stored")
        folder, in_use = latest
        summary = payload_checks.check_payload(
            dataset_id, in_use.url, (folder / in_use.file_name).read_bytes(), _as_of(in_use)
        )
        return Refresh(
            dataset_id,
            False,
            in_use,
            folder,
            304,
            summary,
            fetched.attempts,
            time.perf_counter() - started,
        )
    body = fetched.payload or b""
    member = None
    if use_zip:
        member = entry.zip_member
        body = http.zip_member(dataset_id, fetched.url, body, member)
    fetched_at = store.utc_now()
    summary = _checked(entry, fetched.url, body, datetime.fromisoformat(fetched_at).date())
    sha = store.sha256_hex(body)
    if latest is not None and latest[1].sha256 == sha:
        folder, in_use = latest
        return Refresh(
            dataset_id,
            False,
            in_use,
            folder,
            fetched.status,
            summary,
            fetched.attempts,
            time.perf_counter() - started,
        )
    row = store.ManifestRow(
        dataset=dataset_id,
        url=url,
        http_status=fetched.status,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        sha256=sha,
        bytes=len(body),
        fetched_at=fetched_at,
        origin="online",
        file_name=entry.file_name,
        zip_member=member,
    )
    folder = store.store_snapshot(row, body)
    return Refresh(
        dataset_id,
        True,
        row,
        folder,
        fetched.status,
        summary,
        fetched.attempts,
        time.perf_counter() - started,
    )


def recency(summary: payload_checks.PayloadSummary, today: date) -> tuple[bool, str]:
    """Whether the data's own newest date is within STALE_AFTER of today, in words."""
    if summary.newest_date is None:
        return True, "the file carries no date column; its as-of is the snapshot date"
    age = (today - summary.newest_date).days
    fresh = age <= STALE_AFTER.days
    words = f"newest date in the data {summary.newest_date.isoformat()} ({age} days old)"
    return fresh, words if fresh else f"{words}: older than {STALE_AFTER.days} days"


class RawFetchConfig(dg.Config):
    """Launchpad options of a raw upstream asset."""

    use_zip: bool = False  # fetch the published zip archive and take the dataset's member


def raw_asset(entry: UpstreamDataset) -> dg.AssetsDefinition:
    """The raw asset of one upstream dataset (``raw_<id>``)."""

    @dg.asset(
        name=entry.asset_name,
        group_name=GROUP,
        kinds={entry.format},
        owners=OWNERS,
        description=(
            f"{entry.publisher}, '{entry.title}' ({entry.licence}): immutable snapshots under "
            f"raw/{entry.id}/fetched=<UTC time>/. Official URL {entry.url}."
        ),
        metadata={
            "url": dg.MetadataValue.url(entry.url),
            "page": dg.MetadataValue.url(entry.page),
            "licence": entry.licence,
            "citation": entry.citation,
            "shipped_snapshot": f"data/upstream/{entry.snapshot}",
        },
        check_specs=[
            dg.AssetCheckSpec(
                RECENCY_CHECK,
                asset=entry.asset_name,
                blocking=False,
                description=f"The data's newest date is within {STALE_AFTER.days} days.",
            )
        ],
    )
    def _asset(
        context: dg.AssetExecutionContext, config: RawFetchConfig, upstream_http: UpstreamHttp
    ) -> dg.MaterializeResult:
        mode = settings.upstream_mode()
        try:
            if mode == "online":
                result = refresh_online(entry.id, upstream_http, use_zip=config.use_zip)
            else:
                result = refresh_offline(entry.id)
        except FetchError as exc:
            raise dg.Failure(
                description=str(exc),
                metadata={"dataset": entry.id, "url": exc.url, "reason": exc.reason},
            ) from exc
        row = result.row
        fresh, words = recency(result.summary, datetime.now(UTC).date())
        context.log.info(
            f"{entry.id}: {'stored new snapshot' if result.changed else 'unchanged'} "
            f"({row.bytes:,} bytes, sha256 {row.sha256[:12]}) in {result.seconds:.2f} s"
        )
        return dg.MaterializeResult(
            data_version=dg.DataVersion(row.sha256),
            metadata={
                "mode": mode,
                "changed": result.changed,
                "http_status": result.http_status if result.http_status is not None else "none",
                "attempts": result.attempts,
                "sha256": row.sha256,
                "bytes": row.bytes,
                "fetched_at": row.fetched_at,
                "origin": row.origin,
                "source_url": row.url,
                "etag": row.etag or "",
                "snapshot": dg.MetadataValue.path(str(result.snapshot_dir / row.file_name)),
                "stored_snapshots": len(store.snapshot_dirs(entry.id)),
                "dagster/row_count": result.summary.records,
                "data_newest_date": (
                    result.summary.newest_date.isoformat() if result.summary.newest_date else "none"
                ),
                "seconds": round(result.seconds, 3),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=RECENCY_CHECK,
                    passed=fresh,
                    severity=dg.AssetCheckSeverity.WARN,
                    description=words,
                )
            ],
        )

    return _asset


ASSETS = [raw_asset(entry) for entry in DATASETS]
