"""Charts give identical PNG bytes for identical input; the page names every contradicted claim."""

from __future__ import annotations

import pandas as pd

from assets.report import charts
from assets.report.ledger import claims_ledger
from assets.report.outlook import Forecasts, article_text, cell, outlook_markdown, span
from tests.report.test_ledger import inputs
from tests.report.test_power_claims import obs, table

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def ledger() -> pd.DataFrame:
    power = table(obs("P1", "all_in_w_per_gpu", 1200), obs("P2", "all_in_w_per_gpu", 2000))
    return claims_ledger(inputs(power_observations=power))


def test_same_ledger_gives_the_same_png_bytes():
    for chart in (charts.chip_claims_chart, charts.verdict_chart, charts.power_chart):
        first, second = chart(ledger()), chart(ledger())
        assert first.startswith(PNG_SIGNATURE)
        assert first == second


def test_a_different_ledger_gives_a_different_chart():
    changed = ledger()
    changed.loc[changed["claim_id"] == "C1", "value"] = 1000.0
    assert charts.chip_claims_chart(changed) != charts.chip_claims_chart(ledger())


def test_power_chart_needs_a_power_row():
    no_power = ledger()
    no_power = no_power[no_power["rule"] != "cluster_power"]
    assert charts.power_chart(no_power) is None


def test_page_names_every_contradicted_claim_and_the_gaps():
    led = ledger()
    text = outlook_markdown(
        led, Forecasts(), {"chip_claims": "outlook_chip_claims.png"}, "2026-11-23"
    )
    contradicted = led.loc[led["verdict"] == "contradicted", "claim_id"]
    assert len(contradicted) >= 2
    wrong = text.split("## What the article gets wrong")[1].split("## What the article gets right")[
        0
    ]
    for claim_id in contradicted:
        assert f"| {claim_id} |" in wrong
    assert "![article vs sourced chip specs](outlook_chip_claims.png)" in text
    assert "needs training_scenarios (MFU by chip, cluster and model): claims C4" in text
    assert "china_share_forecast: not materialized for this vintage" in text


def test_cells_keep_the_table_intact():
    assert cell("| a | b |") == "\\| a \\| b \\|"
    assert cell(float("nan")) == ""
    assert cell(1979.0) == "1,979"


def test_ranges_and_table_rows_read_plainly():
    assert span(40.3, 100.7) == "40.3-101"
    assert span(-48.83, -5.1) == "-48.83 to -5.1"
    assert (
        article_text("| FP8 TFLOPS (sparse) | 1,979 | 640 |") == "FP8 TFLOPS (sparse) / 1,979 / 640"
    )
    assert article_text("plain words") == "plain words"
