"""Report lines under each forecast: the backtest verdict with its counts, and the data age."""

from __future__ import annotations

import pandas as pd

from assets.report.outlook import backtest_table
from forecasts import backtest as backtests
from forecasts import report


def _survival_scores() -> pd.DataFrame:
    return backtests.typed_scores(
        pd.DataFrame(
            {
                "domain": "startup_survival",
                "series": "all",
                "model": ["kaplan_meier", "baseline_persistence"] * 2,
                "horizon_months": [6, 6, 12, 12],
                "n_forecasts": [40, 40, 30, 30],
                "brier": [0.10, 0.12, 0.20, 0.18],
                "status": "ok",
            }
        )
    )


def test_survival_verdict_puts_each_model_beside_the_no_exit_baseline():
    line = report.backtest_verdict(_survival_scores(), "startup survival")
    assert "6 months (n=40): baseline_persistence 0.120, kaplan_meier 0.100" in line
    assert "12 months (n=30): baseline_persistence 0.180, kaplan_meier 0.200" in line
    # KM beats the baseline at 6 months (0.10 < 0.12), not at 12 (0.20 > 0.18)
    assert "beat the no-exit baseline in 1 of 2 model-horizon cells" in line


def test_refused_backtest_says_why_in_the_verdict_and_the_table():
    refused = backtests.typed_scores(
        pd.DataFrame(
            [
                {
                    "domain": "china_domestic_share",
                    "status": "refused",
                    "reason": "too few points to judge: 5 actual share figures",
                }
            ]
        )
    )
    assert report.backtest_verdict(refused, "China share") == (
        "Backtest verdict (China share): not judged: too few points to judge: 5 actual share "
        "figures."
    )
    text = backtest_table([_survival_scores(), refused])
    assert "- china_domestic_share: not judged: too few points to judge" in text


def test_data_age_counts_days_to_the_vintage():
    line = report.data_age_line("2026-11-30", "2025-12-31", "share")
    assert "dated 2025-12-31, 334 days before the vintage 2026-11-30" in line
    assert report.data_age_line("2026-11-30", pd.NaT, "share") == "Data age (share): unknown."
