"""The shipped upstream snapshots are the published bytes, and the registry points at each of them."""

from __future__ import annotations

import hashlib
import re

from assets.upstream import registry, store

EXPECTED_IDS = {
    "epoch_ml_hardware",
    "epoch_gpu_clusters",
    "epoch_data_centers",
    "epoch_data_center_timelines",
    "epoch_chip_sales_timelines",
    "epoch_chip_sales_chip_types",
    "epoch_chip_sales_organizations",
    "epoch_notable_models",
    "litellm_prices",
    "openrouter_models",
}


def sources_table() -> dict[str, tuple[int, str]]:
    """(bytes, sha256) per shipped file, parsed from the summary table of data/upstream/SOURCES.md."""
    text = (registry.SHIPPED_DIR / "SOURCES.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \|[^|]*\|[^|]*\| ([\d,]+) \| `([0-9a-f]{64})` \|", text, re.M)
    return {path: (int(size.replace(",", "")), sha) for path, size, sha in rows}


def test_registry_has_exactly_the_published_datasets():
    assert {entry.id for entry in registry.DATASETS} == EXPECTED_IDS
    assert len(registry.DATASETS) == len(EXPECTED_IDS)


def test_every_shipped_snapshot_matches_the_sha256_and_size_in_sources_md():
    table = sources_table()
    assert set(table) == {entry.snapshot for entry in registry.DATASETS}
    for entry in registry.DATASETS:
        payload = entry.shipped_path.read_bytes()
        size, sha = table[entry.snapshot]
        assert (len(payload), hashlib.sha256(payload).hexdigest()) == (size, sha), entry.id


def test_registry_entries_carry_url_licence_citation_and_format():
    for entry in registry.DATASETS:
        assert entry.url.startswith("https://"), entry.id
        assert entry.format == entry.snapshot.rsplit(".", 1)[1], entry.id
        assert entry.publisher.split()[0] in entry.citation, entry.id
        assert entry.asset_name == f"raw_{entry.id}"
        assert (entry.zip_url is None) == (entry.zip_member is None), entry.id
    epoch = [entry for entry in registry.DATASETS if entry.id.startswith("epoch_")]
    assert {entry.licence for entry in epoch} == {"CC BY 4.0"}
    assert registry.dataset("litellm_prices").licence.startswith("MIT")


def test_offline_payload_before_any_fetch_is_the_shipped_file(warehouse, monkeypatch):
    monkeypatch.delenv("OUTLOOK_UPSTREAM", raising=False)
    for entry in registry.DATASETS:
        assert store.current_payload_path(entry.id) == entry.shipped_path


def test_newest_stored_snapshot_is_the_payload_in_use(warehouse):
    entry = registry.dataset("epoch_chip_sales_organizations")
    first = entry.shipped_path.read_bytes()
    second = first + b"Extra,Country,Type,Chips\n"
    for payload, when in (
        (first, "2026-12-01T00:00:00+00:00"),
        (second, "2026-12-02T00:00:00+00:00"),
    ):
        row = store.ManifestRow(
            dataset=entry.id,
            url=entry.url,
            http_status=200,
            etag=None,
            last_modified=None,
            sha256=store.sha256_hex(payload),
            bytes=len(payload),
            fetched_at=when,
            origin="online",
            file_name=entry.file_name,
        )
        store.store_snapshot(row, payload)
    path = store.current_payload_path(entry.id)
    assert path.read_bytes() == second
    assert path.parent.name == "fetched=20261202T000000.000000Z"
    assert [row.sha256 for row in store.manifest(entry.id)] == [
        hashlib.sha256(first).hexdigest(),
        hashlib.sha256(second).hexdigest(),
    ]
    assert not [p for p in store.dataset_dir(entry.id).iterdir() if p.name.startswith(".tmp")]
