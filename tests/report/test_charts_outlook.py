"""Charts give identical PNG bytes for identical input; the page names every contradicted claim."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from assets.report import charts
from assets.report.ledger import claims_ledger
from assets.report.outlook import Forecasts, article_text, cell, span
from assets.report.pages import Page, report_pages
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


def test_pages_name_every_contradicted_claim_and_the_gaps():
    led = ledger()
    pages = report_pages(
        Page(led, Forecasts(), {"chip_claims": "outlook_chip_claims.png"}, "2026-11-23")
    )
    main, text = pages["outlook.md"], pages["ledger.md"]
    contradicted = led.loc[led["verdict"] == "contradicted", "claim_id"]
    assert len(contradicted) >= 2
    wrong = text.split("## What the article gets wrong")[1].split("## What the article gets right")[
        0
    ]
    for claim_id in contradicted:
        assert f"| {claim_id} |" in wrong
        assert claim_id in main.split("- contradicted:")[1].split("\n")[0]
    assert "![article vs sourced chip specs](outlook_chip_claims.png)" in pages["chips.md"]
    assert "![The article's chip table against vendor datasheets](outlook_chip_claims.png)" in main
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


def test_headlines_carry_each_forecast_with_its_interval():
    decline = pd.DataFrame(
        [
            {
                "status": "ok",
                "price_side": "input",
                "tier": "gpt4_class",
                "region": "US",
                "decline_factor_per_year": 3.4,
                "decline_factor_per_year_low": 2.5,
                "decline_factor_per_year_high": 4.7,
                "n_points": 15,
            },
            {
                "status": "published",
                "price_side": "",
                "tier": "",
                "region": "",
                "decline_factor_per_year": 40.0,
                "decline_factor_per_year_low": None,
                "decline_factor_per_year_high": None,
                "n_points": 0,
            },
            {
                "status": "published",
                "price_side": "",
                "tier": "",
                "region": "",
                "decline_factor_per_year": None,
                "decline_factor_per_year_low": 9.0,
                "decline_factor_per_year_high": 900.0,
                "n_points": 0,
            },
        ]
    )
    survival = pd.DataFrame(
        [
            {
                "quantity": "expected_independent_of_active",
                "model": model,
                "status": "ok",
                "target_date": pd.Timestamp("2027-03-31"),
                "cohort": "CN",
                "n_active": 9,
                "value": value,
                "lower_80": 7.0,
                "upper_80": 9.0,
                "lower_95": 6.0,
                "upper_95": 9.0,
            }
            for model, value in (("kaplan_meier", 8.5), ("cox_ph", 7.1))
        ]
    )
    share = pd.DataFrame(
        [
            {
                "model": "logit_ols_actuals_only",
                "status": "ok",
                "year": 2028,
                "median_share_pct": 93.2,
                "lower_80_share_pct": 87.0,
                "upper_80_share_pct": 96.5,
                "lower_95_share_pct": 79.8,
                "upper_95_share_pct": 97.9,
            }
        ]
    )
    from assets.report.outlook import headline_lines

    lines = headline_lines(
        ledger(),
        Forecasts(api_price_decline=decline, startup_survival=survival, china_share_forecast=share),
    )
    text = "\n".join(lines)
    assert (
        "gpt4_class US (input, cheapest at or above tier): falling 3.4x per year (95% CI 2.5-4.7x"
        in text
    )
    assert "central rates 40-40x per year, stated ranges 9-900x (2 estimates)" in text
    # Kaplan-Meier only: the Cox projection is not the headline
    assert "of 9 independent today, 8.5 expected still independent on 2027-03-31 (80%: 7-9" in text
    assert "7.1 expected" not in text
    assert "2028: 93.2% (80%: 87-96.5%, 95%: 79.8-97.9%)" in text
    assert "Power: MW for 50,000 H100 GPUs: 60-100 MW" in text


def test_main_page_is_small_links_its_detail_pages_and_shows_charts_inline(tmp_path):
    from assets.report.pages import DETAIL_PAGES, MAIN_PAGE, inline_charts
    from tests.report.report_links import assert_links_resolve

    led = ledger()
    png = charts.chip_claims_chart(led)
    files = {"chip_claims": "outlook_chip_claims.png"}
    pages = report_pages(Page(led, Forecasts(), files, "2026-11-23"))
    assert list(pages) == [MAIN_PAGE, *DETAIL_PAGES]
    assert len(pages[MAIN_PAGE].encode("utf-8")) <= 15 * 1024
    for name, text in pages.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / files["chip_claims"]).write_bytes(png)
    assert_links_resolve(tmp_path)
    for name in DETAIL_PAGES:
        assert f"]({name})" in pages[MAIN_PAGE]
    shown = inline_charts(pages[MAIN_PAGE], {"chip_claims": png}, files)
    assert "](outlook_chip_claims.png)" not in shown
    assert "](data:image/png;base64," in shown


def test_mfu_chart_needs_the_mfu_gap_claim_and_both_scenarios():
    led = ledger()
    assert charts.mfu_gap_chart(led[led["rule"] != "training_mfu_gap"], pd.DataFrame()) is None
    empty = pd.DataFrame({"scenario_id": pd.Series(dtype="string")})
    assert charts.mfu_gap_chart(led, empty) is None


def _line_chart(values: list[float], title: str) -> bytes | None:
    """A small chart for the renderer tests (None when there is nothing to draw)."""
    if not values:
        return None
    fig, ax = plt.subplots(dpi=charts.DPI, figsize=(3, 2))
    ax.plot(values)
    ax.set_title(title)
    return charts.png(fig)


def test_drawing_in_workers_gives_the_same_bytes_in_job_order_without_empty_charts():
    jobs = [
        ("b", _line_chart, ([3.0, 1.0, 2.0], "b")),
        ("empty", _line_chart, ([], "empty")),
        ("a", _line_chart, ([1.0, 2.0], "a")),
        ("c", _line_chart, ([5.0], "c")),
    ]
    with charts.drawing(jobs) as drawn:
        meanwhile = _line_chart([2.0, 1.0], "meanwhile")  # drawn here while the workers draw
        got = drawn()
    assert list(got) == ["b", "a", "c"]
    for name, make, args in jobs:
        if name != "empty":
            assert got[name] == make(*args), name  # drawn here, in this process
    assert meanwhile is not None and meanwhile not in got.values()
    with charts.drawing(jobs[:1]) as drawn:  # a single chart: drawn here, when asked
        assert drawn() == {"b": got["b"]}
