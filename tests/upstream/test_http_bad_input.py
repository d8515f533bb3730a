"""The online connector against a loopback server serving the shipped snapshots: every bad answer
gives an error naming dataset, URL and reason (or is handled), the last good snapshot stays the one
in use, and no partial file is left in raw/."""

from __future__ import annotations

import io
import urllib.parse
import zipfile

import dagster as dg
import pytest

from assets.upstream import raw, registry, store
from assets.upstream.http import FetchError, UpstreamHttp

from . import loopback

HW = registry.dataset("epoch_ml_hardware")
SALES = registry.dataset("epoch_chip_sales_timelines")
ORGS = registry.dataset("epoch_chip_sales_organizations")


def path_of(url: str) -> str:
    """The path under the mirror that stands for an official URL."""
    parts = urllib.parse.urlsplit(url)
    return f"/{parts.netloc}{parts.path}"


@pytest.fixture
def server(warehouse, monkeypatch):
    monkeypatch.setenv("OUTLOOK_UPSTREAM", "online")
    state, stop = loopback.start()
    yield state
    stop()


def connector(server, **overrides) -> UpstreamHttp:
    options = {"mirror": server.url, "timeout_s": 2.0, "max_attempts": 2, "backoff_s": 0.0}
    return UpstreamHttp(**{**options, **overrides})


def assert_clean_raw(dataset_id: str) -> None:
    """Every folder under raw/<dataset> is a complete snapshot (file + manifest), nothing else."""
    folder = store.dataset_dir(dataset_id)
    if not folder.exists():
        return
    for child in folder.iterdir():
        assert child.name.startswith(store.SNAPSHOT_PREFIX), child
        row = store.read_manifest(child)
        assert (child / row.file_name).read_bytes().__len__() == row.bytes
        assert store.sha256_hex((child / row.file_name).read_bytes()) == row.sha256


def fetch_good(server, entry=HW) -> store.ManifestRow:
    """A first successful fetch of the shipped bytes; returns the stored manifest row."""
    server.on(path_of(entry.url), loopback.serve(entry.shipped_path.read_bytes()))
    result = raw.refresh_online(entry.id, connector(server))
    assert result.changed
    return result.row


def test_200_stores_an_immutable_snapshot_with_its_manifest(server):
    body = HW.shipped_path.read_bytes()
    row = fetch_good(server)
    assert row.http_status == 200 and row.origin == "online"
    assert row.url == HW.url and row.etag and row.last_modified
    assert (row.sha256, row.bytes) == (store.sha256_hex(body), len(body))
    assert store.current_payload_path(HW.id).read_bytes() == body
    assert server.hits(path_of(HW.url))[0].get("User-Agent", "").startswith("compute-outlook")
    assert_clean_raw(HW.id)


def test_304_not_modified_stores_nothing_new(server):
    first = fetch_good(server)
    again = raw.refresh_online(HW.id, connector(server))
    assert not again.changed and again.http_status == 304
    assert server.hits(path_of(HW.url))[-1]["If-None-Match"] == first.etag
    assert server.hits(path_of(HW.url))[-1]["If-Modified-Since"] == first.last_modified
    assert [r.sha256 for r in store.manifest(HW.id)] == [first.sha256]


def test_same_bytes_without_etag_store_nothing_and_new_bytes_store_a_second_snapshot(server):
    body = ORGS.shipped_path.read_bytes()
    server.on(path_of(ORGS.url), loopback.serve(body, etag=False))
    assert raw.refresh_online(ORGS.id, connector(server)).changed
    assert not raw.refresh_online(ORGS.id, connector(server)).changed
    assert len(store.manifest(ORGS.id)) == 1
    changed = body + b"Intel,United States of America,Chip designer,Gaudi 3\n"
    server.on(path_of(ORGS.url), loopback.serve(changed, etag=False))
    result = raw.refresh_online(ORGS.id, connector(server))
    assert result.changed and result.summary.records == 13
    assert store.current_payload_path(ORGS.id).read_bytes() == changed
    assert len(store.manifest(ORGS.id)) == 2
    assert_clean_raw(ORGS.id)


def expect_failure(server, entry, match: str, **overrides) -> FetchError:
    """Runs a refresh that must fail; checks the message and that the last good payload stays."""
    before = store.current_payload_path(entry.id).read_bytes()
    snapshots = store.snapshot_dirs(entry.id)
    with pytest.raises(FetchError, match=match) as caught:
        raw.refresh_online(entry.id, connector(server, **overrides))
    message = str(caught.value)
    assert message.startswith(f"{entry.id}: {server.url}/"), message
    assert store.snapshot_dirs(entry.id) == snapshots
    assert store.current_payload_path(entry.id).read_bytes() == before
    assert_clean_raw(entry.id)
    return caught.value


def test_404_is_a_clear_error_and_the_last_good_snapshot_stays(server):
    fetch_good(server)
    server.on(path_of(HW.url), loopback.status(404, b"gone"))
    error = expect_failure(server, HW, "HTTP 404")
    assert len(server.hits(path_of(HW.url))) == 2, "a 404 is not retried"
    assert "ml_hardware.csv" in error.url


def test_500_then_200_is_retried_with_backoff(server):
    body = HW.shipped_path.read_bytes()
    server.on(path_of(HW.url), loopback.status(500), loopback.serve(body))
    result = raw.refresh_online(HW.id, connector(server, max_attempts=3))
    assert result.changed and result.attempts == 2
    assert store.current_payload_path(HW.id).read_bytes() == body


def test_500_every_time_gives_up_after_the_configured_attempts(server):
    fetch_good(server)
    server.on(path_of(HW.url), loopback.status(503, b"busy"))
    expect_failure(server, HW, r"HTTP 503.*gave up after 3 attempts", max_attempts=3)
    assert len(server.hits(path_of(HW.url))) == 1 + 3


def test_timeout_is_retried_then_reported(server):
    fetch_good(server)
    server.on(path_of(HW.url), loopback.stall(1.5))
    expect_failure(server, HW, "timed out after 0.3 s", timeout_s=0.3)


def test_truncated_body_is_rejected(server):
    fetch_good(server)
    body = HW.shipped_path.read_bytes()
    server.on(path_of(HW.url), loopback.cut_short(body, len(body) // 2))
    expect_failure(server, HW, "body cut short")


def test_html_error_page_with_status_200_is_rejected(server):
    fetch_good(server)
    page = b"<!DOCTYPE html><html><body>Service temporarily unavailable</body></html>"
    server.on(path_of(HW.url), loopback.status(200, page, content_type="text/html"))
    expect_failure(server, HW, "served an HTML page")
    # The same page mislabelled as CSV is recognised by its content.
    server.on(path_of(HW.url), loopback.status(200, page, content_type="text/csv"))
    expect_failure(server, HW, "served an HTML page")


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def test_zip_member_is_taken_by_name(server):
    body = SALES.shipped_path.read_bytes()
    archive = zipped({"chip_types.csv": b"Name\n", SALES.zip_member: body})
    server.on(path_of(SALES.zip_url), loopback.serve(archive, content_type="application/zip"))
    result = raw.refresh_online(SALES.id, connector(server), use_zip=True)
    assert result.changed and result.row.zip_member == "timelines_by_chip.csv"
    assert result.row.url == SALES.zip_url
    assert store.current_payload_path(SALES.id).read_bytes() == body


def test_zip_without_the_expected_member_is_rejected(server):
    fetch_good(server, SALES)
    archive = zipped({"cumulative_timelines_by_designer.csv": b"a,b\n1,2\n"})
    server.on(path_of(SALES.zip_url), loopback.serve(archive, content_type="application/zip"))
    with pytest.raises(FetchError, match="zip has no member 'timelines_by_chip.csv'") as caught:
        raw.refresh_online(SALES.id, connector(server), use_zip=True)
    assert "cumulative_timelines_by_designer.csv" in str(caught.value)
    assert store.current_payload_path(SALES.id).read_bytes() == SALES.shipped_path.read_bytes()
    assert_clean_raw(SALES.id)


def drifted(header_from: str, header_to: str) -> bytes:
    text = HW.shipped_path.read_text(encoding="utf-8")
    head, _, rest = text.partition("\n")
    assert header_from in head
    return (head.replace(header_from, header_to, 1) + "\n" + rest).encode()


def test_renamed_column_is_schema_drift_naming_the_column(server):
    fetch_good(server)
    server.on(path_of(HW.url), loopback.serve(drifted("TDP (W)", "TDP (watts)")))
    error = expect_failure(server, HW, r"schema drift: column 'TDP \(W\)' missing")
    assert "(renamed to 'TDP (watts)'?)" in str(error)
    kept = store.rejected_dir(HW.id)
    assert len(list(kept.iterdir())) == 1, "the rejected payload is kept visible, outside raw/"


def test_missing_column_is_schema_drift_naming_the_column(server):
    fetch_good(server)
    import csv

    rows = list(csv.reader(io.StringIO(HW.shipped_path.read_text(encoding="utf-8"), newline="")))
    index = rows[0].index("Memory (bytes)")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:index] + r[index + 1 :] for r in rows])
    server.on(path_of(HW.url), loopback.serve(out.getvalue().encode()))
    expect_failure(server, HW, r"column 'Memory \(bytes\)' missing")


def test_retyped_column_is_schema_drift_naming_the_column(server):
    fetch_good(server)
    import csv

    rows = list(csv.reader(io.StringIO(HW.shipped_path.read_text(encoding="utf-8"), newline="")))
    index = rows[0].index("TDP (W)")
    for row in rows[1:]:
        if row[index]:
            row[index] = f"{row[index]} W"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    server.on(path_of(HW.url), loopback.serve(out.getvalue().encode()))
    expect_failure(server, HW, r"column 'TDP \(W\)' retyped: 153 of 153 values are not a number")


def test_payload_over_the_size_cap_is_rejected_declared_or_streamed(server):
    fetch_good(server)
    body = HW.shipped_path.read_bytes()
    server.on(path_of(HW.url), loopback.serve(body + b"x" * 10))
    expect_failure(
        server, HW, f"payload of {len(body) + 10:,} bytes exceeds the cap", max_bytes=len(body)
    )
    server.on(path_of(HW.url), loopback.unsized(body + b"x" * 10))
    expect_failure(
        server, HW, f"payload exceeds the cap of {len(body):,} bytes", max_bytes=len(body)
    )


def test_the_asset_fails_with_the_message_and_keeps_its_data_version(server, instance):
    body = HW.shipped_path.read_bytes()
    server.on(path_of(HW.url), loopback.serve(body))
    asset = raw.raw_asset(HW)
    resources = {"upstream_http": connector(server)}
    good = dg.materialize([asset], instance=instance, resources=resources)
    assert good.success
    (event,) = good.asset_materializations_for_node(HW.asset_name)
    assert event.tags["dagster/data_version"] == store.sha256_hex(body)
    assert event.metadata["changed"].value is True
    server.on(path_of(HW.url), loopback.status(404, b"gone"))
    bad = dg.materialize([asset], instance=instance, resources=resources, raise_on_error=False)
    assert not bad.success
    failure = next(e for e in bad.all_events if e.is_step_failure)
    assert f"{HW.id}: {server.url}{path_of(HW.url)}: HTTP 404" in (
        failure.step_failure_data.error.message
    )
    latest = instance.get_latest_materialization_event(dg.AssetKey(HW.asset_name))
    assert latest.asset_materialization.tags["dagster/data_version"] == store.sha256_hex(body)
    assert store.current_payload_path(HW.id).read_bytes() == body
