"""The staging asset in a run: a drifted snapshot fails it naming dataset and column; the last good
table stays; rejected rows are kept beside it."""

from __future__ import annotations

import hashlib

from assets.upstream import registry, store
from tests.helpers import failure_messages, materialize


def _bad_snapshot(dataset_id: str, old: bytes, new: bytes) -> None:
    payload = registry.dataset(dataset_id).shipped_path.read_bytes().replace(old, new, 1)
    row = store.ManifestRow(
        dataset=dataset_id,
        url=registry.dataset(dataset_id).url,
        http_status=200,
        etag=None,
        last_modified=None,
        sha256=store.sha256_hex(payload),
        bytes=len(payload),
        fetched_at="2026-12-01T00:00:00+00:00",
        origin="online",
        file_name=registry.dataset(dataset_id).file_name,
    )
    store.store_snapshot(row, payload)


def test_drift_fails_the_asset_and_the_last_good_table_stays(warehouse, instance):
    first = materialize(["stg_epoch_ml_hardware"], instance)
    assert first.success
    table = warehouse / "clean" / "stg_epoch_ml_hardware.parquet"
    good = hashlib.sha256(table.read_bytes()).hexdigest()

    _bad_snapshot("epoch_ml_hardware", b"Memory bandwidth (byte/s)", b"Memory bandwidth (TB/s)")
    second = materialize(["stg_epoch_ml_hardware"], instance)
    assert not second.success
    message = failure_messages(second)
    assert "epoch_ml_hardware" in message
    assert "column 'Memory bandwidth (byte/s)' is missing" in message
    assert "Memory bandwidth (TB/s)" in message
    assert hashlib.sha256(table.read_bytes()).hexdigest() == good


def test_rejected_rows_are_written_and_the_check_warns(warehouse, instance):
    clean = materialize(["stg_openrouter_models"], instance)
    assert clean.success
    assert not (warehouse / "rejected" / "stg_openrouter_models.parquet").exists()
    # $50,000 per 1M prompt tokens: outside the plausible range, so the row is rejected.
    _bad_snapshot("openrouter_models", b'"prompt": "0.000005"', b'"prompt": "0.05"')
    result = materialize(["stg_openrouter_models"], instance)
    assert result.success
    assert (warehouse / "rejected" / "stg_openrouter_models.parquet").exists()
    checks = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert [(c.check_name, c.passed) for c in checks] == [("no_rejected_rows", False)]
