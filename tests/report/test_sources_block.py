"""The report's source lines: as-of dates, the six-month staleness warning, the attribution."""

from __future__ import annotations

from datetime import date

from assets.report import sources_block
from assets.upstream import registry

TODAY = date(2026, 12, 6)


def test_stale_means_more_than_183_days_before_today():
    assert sources_block.STALE_AFTER.days == 183
    assert not sources_block.is_stale(date(2026, 6, 6), TODAY)  # 183 days: 25+31+31+30+31+30+5
    assert sources_block.is_stale(date(2026, 6, 5), TODAY)  # 184 days
    assert not sources_block.is_stale(None, TODAY)


def test_header_lists_every_source_and_warns_only_on_stale_series():
    rows = [
        sources_block.AsOf("api_prices", date(2025, 9, 5), "clean"),
        sources_block.AsOf("epoch_ml_hardware", date(2026, 7, 18), "raw"),
        sources_block.AsOf("epoch_data_centers", None, "raw"),
        sources_block.AsOf("litellm_prices", None, "raw", date(2026, 11, 20)),
    ]
    lines = sources_block.header_lines(rows, TODAY)
    assert lines[0] == (
        "Sources as of (newest observation): api_prices 2025-09-05, "
        "epoch_ml_hardware 2026-07-18, epoch_data_centers undated, "
        "litellm_prices undated rows, retrieved 2026-11-20."
    )
    assert lines[1] == (
        "**Warning:** newest observation older than 6 months on 2026-12-06: "
        "api_prices (last 2025-09-05)."
    )
    assert len(sources_block.header_lines(rows[1:], TODAY)) == 1


def test_upstream_rows_come_from_each_raw_assets_last_materialization():
    meta = {
        "raw_epoch_ml_hardware": {
            "data_newest_date": "2026-07-18",
            "origin": "shipped",
            "sha256": "a72edaf105f6eb17",
        },
        "raw_openrouter_models": {
            "data_newest_date": "none",
            "origin": "online",
            "fetched_at": "2026-12-01T04:00:00+00:00",
            "sha256": "2d3170365e7f5f34",
        },
    }
    rows = {r.source: r for r in sources_block.upstream_as_of(meta)}
    assert len(rows) == len(registry.DATASETS)
    assert rows["epoch_ml_hardware"].newest == date(2026, 7, 18)
    assert rows["epoch_ml_hardware"].detail == (
        "shipped copy retrieved 2026-07-19, sha256 a72edaf105f6"
    )
    assert rows["openrouter_models"].newest is None
    assert rows["openrouter_models"].snapshot == date(2026, 12, 1)
    assert rows["epoch_ml_hardware"].snapshot == date(2026, 7, 19)
    assert rows["openrouter_models"].detail.startswith("fetched 2026-12-01 from https://openrouter")
    assert rows["epoch_gpu_clusters"].detail == "not fetched yet"


def test_block_goes_after_the_first_paragraph_and_attribution_at_the_end():
    report = "# Compute Outlook\n\nIntro line.\n\n## Headline numbers\n- a\n"
    rows = [sources_block.AsOf("api_prices", date(2025, 9, 5), "clean")]
    upstream = sources_block.upstream_as_of({})
    text = sources_block.with_sources(report, rows, upstream, TODAY)
    intro, _, rest = text.partition("## Headline numbers")
    assert intro.endswith(
        "Intro line.\n\nSources as of (newest observation): api_prices 2025-09-05.\n"
        "**Warning:** newest observation older than 6 months on 2026-12-06: "
        "api_prices (last 2025-09-05).\n\n"
    )
    attribution = rest.split("## Sources and attribution\n", 1)[1]
    assert "CC BY 4.0" in attribution and "MIT" in attribution and "BerriAI" in attribution
    for entry in registry.DATASETS:
        assert entry.citation in attribution, entry.id
    assert text.endswith("\n") and text.count("## Sources and attribution") == 1
