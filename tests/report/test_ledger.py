"""The ledger picks a rule per claim from its metric, fills every row, and leaves claims open
(saying which asset they need) when the dataset is absent."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.report.findings import VERDICTS
from assets.report.ledger import (
    FINDING_COLUMNS,
    LedgerInputs,
    claim_date,
    claim_period,
    claims_ledger,
)
from tests.report.test_chip_claims import H100
from tests.report.test_power_claims import obs, table


def claim(claim_id, metric, value, subject="h100", claim_type="figure", **kw):
    return {
        "claim_id": claim_id,
        "section": "s",
        "claim_type": claim_type,
        "subject": subject,
        "metric": metric,
        "value": value,
        "value_high": kw.get("value_high"),
        "unit": kw.get("unit", ""),
        "horizon": kw.get("horizon"),
        "text": kw.get("text", "t"),
        "note": kw.get("note", ""),
    }


CLAIMS = pd.DataFrame(
    [
        claim("C2", "fp8_sparse_tflops", 1979),
        claim("C1", "memory_bw_gbps", 3350),
        claim("C3", "cluster_mw", 175, unit="MW for 50,000 H100 GPUs"),
        claim("C4", "mfu_pct", 45, value_high=55),
        claim("C5", "domestic_share_pct", 30, claim_type="prediction", horizon="2028-12-31"),
        claim("C6", "github_stars", 70000, subject="llama.cpp"),
        claim("C7", "tdp_w", 35, subject="journey-5"),
    ]
).astype({"value_high": "float64"})
ALIASES = pd.DataFrame({"alias": ["H100 SXM"], "chip_id": ["h100"]})


def inputs(**kw) -> LedgerInputs:
    return LedgerInputs(claims=CLAIMS, hardware_specs=H100, chip_aliases=ALIASES, **kw)


def test_every_claim_gets_one_row_with_a_verdict_in_claim_order():
    ledger = claims_ledger(inputs())
    assert ledger["claim_id"].tolist() == ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    assert set(ledger["verdict"]) <= set(VERDICTS)
    assert list(ledger.columns[-len(FINDING_COLUMNS) :]) == list(FINDING_COLUMNS)
    by_id = ledger.set_index("claim_id")
    assert by_id.at["C1", "verdict"] == "consistent"
    assert by_id.at["C2", "verdict"] == "contradicted"
    assert by_id.at["C6", "rule"] == "no_data"
    assert "journey-5" in by_id.at["C7", "reason"]


def test_claims_needing_an_absent_asset_are_open_and_name_it():
    by_id = claims_ledger(inputs()).set_index("claim_id")
    assert by_id.at["C3", "reason"].startswith("needs power_observations")
    assert by_id.at["C4", "reason"].startswith("needs training_scenarios")
    assert by_id.at["C5", "reason"].startswith("needs china_share_forecast")
    assert (by_id.loc[["C3", "C4", "C5"], "verdict"] == "open").all()


def test_claims_fill_in_when_the_asset_appears():
    power = table(obs("P1", "all_in_w_per_gpu", 1200), obs("P2", "all_in_w_per_gpu", 2000))
    by_id = claims_ledger(inputs(power_observations=power)).set_index("claim_id")
    assert by_id.at["C3", "verdict"] == "contradicted"
    assert by_id.at["C3", "pipeline_value_high"] == pytest.approx(100.0)


def test_periods_and_dates_are_read_from_the_claim_words():
    change = {"unit": "% change Q1 2024 -> Q1 2025", "note": "", "text": ""}
    assert claim_period(change) == (pd.Timestamp("2024-03-31"), pd.Timestamp("2025-03-31"))
    level = {"unit": "USD", "note": "Q1 2024 -> Q1 2025 table. Q4 2024 value", "text": ""}
    assert claim_date(level) == pd.Timestamp("2024-12-31")
    assert claim_period({"unit": "W", "note": "", "text": "no dates"}) is None


def test_ledger_check_names_what_is_missing_or_unsupported():
    from assets.report.assets import ledger_problems

    ledger = claims_ledger(inputs())
    assert ledger_problems(ledger, CLAIMS) == []
    extra_claim = pd.concat([CLAIMS, CLAIMS.iloc[[0]].assign(claim_id="C9")])
    assert ledger_problems(ledger, extra_claim) == ["claims without a ledger row: C9"]
    broken = ledger.copy()
    broken.loc[broken["claim_id"] == "C2", "evidence"] = ""
    broken.loc[broken["claim_id"] == "C6", "verdict"] = "maybe"
    assert ledger_problems(broken, CLAIMS) == [
        "unknown verdict on C6",
        "verdict without evidence on C2",
    ]
