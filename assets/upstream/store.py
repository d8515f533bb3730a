"""The raw layer: immutable upstream snapshots under ``raw/<dataset>/fetched=<UTC ts>/``, each with
its manifest, and which stored payload is the one in use now."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from assets.upstream.registry import dataset
from pipelines import settings

SNAPSHOT_PREFIX = "fetched="
MANIFEST_NAME = "manifest.json"
#: UTC timestamp format of snapshot folder names; sorts lexicographically in time order.
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"


@dataclass(frozen=True)
class ManifestRow:
    """What one stored snapshot is: where it came from and what its bytes are."""

    dataset: str
    url: str
    http_status: int | None  # None for the shipped snapshot (read from disk, not fetched)
    etag: str | None
    last_modified: str | None
    sha256: str
    bytes: int
    fetched_at: str  # ISO 8601 UTC
    origin: str  # "online" | "shipped"
    file_name: str
    zip_member: str | None = None


def raw_dir() -> Path:
    """The local folder of the raw layer (``<warehouse>/raw``)."""
    root = settings.layer_dir("raw")
    if "://" in root and not root.startswith("file://"):
        raise ValueError(
            f"the raw upstream layer needs a local warehouse; {settings.WAREHOUSE_ENV}={root!r} "
            "is remote"
        )
    return Path(root.removeprefix("file://"))


def dataset_dir(dataset_id: str) -> Path:
    """The folder holding every stored snapshot of one dataset."""
    dataset(dataset_id)
    return raw_dir() / dataset_id


def snapshot_dirs(dataset_id: str) -> list[Path]:
    """Every complete stored snapshot folder of a dataset, oldest first."""
    folder = dataset_dir(dataset_id)
    if not folder.is_dir():
        return []
    return sorted(
        child
        for child in folder.iterdir()
        if child.is_dir()
        and child.name.startswith(SNAPSHOT_PREFIX)
        and (child / MANIFEST_NAME).is_file()
    )


def read_manifest(snapshot_dir: Path) -> ManifestRow:
    """The manifest row of one stored snapshot folder."""
    return ManifestRow(**json.loads((snapshot_dir / MANIFEST_NAME).read_text(encoding="utf-8")))


def manifest(dataset_id: str) -> list[ManifestRow]:
    """The manifest rows of every stored snapshot of a dataset, oldest first."""
    return [read_manifest(folder) for folder in snapshot_dirs(dataset_id)]


def latest_snapshot(dataset_id: str) -> tuple[Path, ManifestRow] | None:
    """The newest stored snapshot folder and its manifest row, or None before the first store."""
    folders = snapshot_dirs(dataset_id)
    if not folders:
        return None
    return folders[-1], read_manifest(folders[-1])


def current_payload_path(dataset_id: str) -> Path:
    """The payload in use now: the newest stored snapshot, else (offline) the shipped file."""
    entry = dataset(dataset_id)
    latest = latest_snapshot(dataset_id)
    if latest is not None:
        folder, row = latest
        return folder / row.file_name
    if settings.upstream_mode() == "offline":
        return entry.shipped_path
    raise FileNotFoundError(
        f"{dataset_id}: no snapshot stored under {dataset_dir(dataset_id)} yet "
        f"({settings.UPSTREAM_ENV}=online); materialize {entry.asset_name} first"
    )


def current_manifest(dataset_id: str) -> ManifestRow:
    """The manifest row of the payload in use now (a synthetic row for the shipped file)."""
    latest = latest_snapshot(dataset_id)
    if latest is not None:
        return latest[1]
    entry = dataset(dataset_id)
    payload = entry.shipped_path.read_bytes()
    return shipped_manifest_row(dataset_id, payload)


def sha256_hex(payload: bytes) -> str:
    """The sha256 of a payload as 64 hex digits."""
    return hashlib.sha256(payload).hexdigest()


def shipped_manifest_row(dataset_id: str, payload: bytes) -> ManifestRow:
    """The manifest row describing the snapshot shipped in ``data/upstream``."""
    entry = dataset(dataset_id)
    modified = datetime.fromtimestamp(entry.shipped_path.stat().st_mtime, tz=UTC)
    return ManifestRow(
        dataset=dataset_id,
        url=entry.url,
        http_status=None,
        etag=None,
        last_modified=None,
        sha256=sha256_hex(payload),
        bytes=len(payload),
        fetched_at=modified.isoformat(),
        origin="shipped",
        file_name=entry.file_name,
    )


def store_snapshot(row: ManifestRow, payload: bytes) -> Path:
    """Stores a payload and its manifest as a new immutable snapshot folder; returns the folder.

    Written into a hidden temporary folder and renamed into place, so a failure never leaves a
    partial snapshot that a reader could take for the one in use.
    """
    if sha256_hex(payload) != row.sha256 or len(payload) != row.bytes:
        raise ValueError(f"{row.dataset}: manifest sha256/bytes do not match the payload")
    folder = dataset_dir(row.dataset)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(row.fetched_at).astimezone(UTC)
    final = folder / f"{SNAPSHOT_PREFIX}{stamp.strftime(TIMESTAMP_FORMAT)}"
    if final.exists():
        raise FileExistsError(f"{row.dataset}: snapshot {final} already exists")
    tmp = folder / f".tmp-{uuid.uuid4().hex}"
    try:
        tmp.mkdir()
        (tmp / row.file_name).write_bytes(payload)
        (tmp / MANIFEST_NAME).write_text(
            json.dumps(asdict(row), indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return final


def utc_now() -> str:
    """The current UTC time as ISO 8601 (the ``fetched_at`` of a new snapshot)."""
    return datetime.now(UTC).isoformat()


def rejected_dir(dataset_id: str) -> Path:
    """Where payloads that failed their checks are kept for inspection (never used as input)."""
    dataset(dataset_id)
    root = settings.layer_dir("rejected")
    return Path(root.removeprefix("file://")) / "upstream" / dataset_id


def store_rejected(dataset_id: str, url: str, payload: bytes, reason: str) -> Path:
    """Keeps a rejected payload and its reason visible under ``rejected/upstream/<dataset>/``."""
    folder = rejected_dir(dataset_id)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime(TIMESTAMP_FORMAT)
    final = folder / f"{SNAPSHOT_PREFIX}{stamp}"
    tmp = folder / f".tmp-{uuid.uuid4().hex}"
    try:
        tmp.mkdir()
        (tmp / dataset(dataset_id).file_name).write_bytes(payload)
        (tmp / "reason.json").write_text(
            json.dumps(
                {"dataset": dataset_id, "url": url, "reason": reason, "bytes": len(payload)},
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return final
