"""Online mode end to end as far as the report's source lines: a changed upstream payload fetched
from the loopback server becomes a new snapshot, a new data version, and new report lines."""

from __future__ import annotations

import dagster as dg

from assets.report.assets import report_with_sources
from assets.upstream import raw, registry, store
from assets.upstream.http import UpstreamHttp

from . import loopback
from .test_http_bad_input import path_of

ORGS = registry.dataset("epoch_chip_sales_organizations")
PAGE = "# Compute Outlook\n\nIntro.\n\n## Headline numbers\n- a\n"


def test_changed_payload_reaches_the_reports_source_lines(warehouse, instance, monkeypatch):
    monkeypatch.setenv("OUTLOOK_UPSTREAM", "online")
    server, stop = loopback.start()
    try:
        asset = raw.raw_asset(ORGS)
        resources = {"upstream_http": UpstreamHttp(mirror=server.url, backoff_s=0.0)}
        first_body = ORGS.shipped_path.read_bytes()
        server.on(path_of(ORGS.url), loopback.serve(first_body))
        assert dg.materialize([asset], instance=instance, resources=resources).success
        first = report_with_sources(instance, PAGE)
        assert (
            "fetched " in first
            and f"from {ORGS.url}, sha256 {store.sha256_hex(first_body)[:12]}" in first
        )

        # Unchanged upstream (304): same data version, same report text.
        assert dg.materialize([asset], instance=instance, resources=resources).success
        assert report_with_sources(instance, PAGE) == first
        assert len(store.manifest(ORGS.id)) == 1

        changed = first_body + b"Intel,United States of America,Chip designer,Gaudi 3\n"
        server.on(path_of(ORGS.url), loopback.serve(changed))
        result = dg.materialize([asset], instance=instance, resources=resources)
        assert result.success
        (event,) = result.asset_materializations_for_node(ORGS.asset_name)
        assert event.tags["dagster/data_version"] == store.sha256_hex(changed)
        second = report_with_sources(instance, PAGE)
        assert second != first
        assert f"sha256 {store.sha256_hex(changed)[:12]}" in second
        assert len(store.manifest(ORGS.id)) == 2
    finally:
        stop()
