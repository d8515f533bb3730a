"""API price and model-count verdicts on hand-made tables with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assets.report.market_claims import (
    check_count_change,
    check_count_level,
    check_funding,
    check_price_change,
    check_price_level,
    published_factors_per_year,
)

START, END = pd.Timestamp("2024-03-31"), pd.Timestamp("2025-03-31")


def price(price_id, model, date, usd_in, usd_out, tier="gpt4_class", region="CN"):
    return {
        "price_id": price_id,
        "model": model,
        "provider": "p",
        "region": region,
        "tier": tier,
        "effective_date": date,
        "input_usd_per_mtok": usd_in,
        "output_usd_per_mtok": usd_out,
        "source_url": f"https://example.org/{price_id}",
    }


# Two models: a falls 10 -> 1 (in) and 20 -> 4 (out); b stays at 2 / 4.
PRICES = pd.DataFrame(
    [
        price("A1", "a", "2024-02-01", 10.0, 20.0),
        price("B1", "b", "2024-02-01", 2.0, 4.0),
        price("A2", "a", "2025-02-01", 1.0, 4.0),
    ]
)
PUBLISHED = pd.DataFrame(
    [
        {
            "estimate_id": "E1",
            "decline_factor_per_year": 10.0,
            "decline_factor_per_year_low": None,
            "decline_factor_per_year_high": None,
            "total_decline_factor": None,
            "period_start": None,
            "period_end": None,
            "source_url": "https://example.org/E1",
        },
        {
            "estimate_id": "E2",
            "decline_factor_per_year": None,
            "decline_factor_per_year_low": None,
            "decline_factor_per_year_high": None,
            "total_decline_factor": 100.0,
            "period_start": "2022-01-01",
            "period_end": "2024-01-01",
            "source_url": "https://example.org/E2",
        },
    ]
)


def test_published_total_decline_becomes_a_yearly_factor():
    f = published_factors_per_year(PUBLISHED)
    e2 = f.loc[f["estimate_id"] == "E2", "factor_per_year"].iloc[0]
    years = (pd.Timestamp("2024-01-01") - pd.Timestamp("2022-01-01")).days / 365.25
    assert e2 == pytest.approx(100 ** (1 / years))
    assert e2 == pytest.approx(10.0, rel=0.01)  # 100x over two years is about 10x a year


def test_price_level_inside_the_listed_range_is_open_outside_contradicted():
    inside = check_price_level(8.0, START, PRICES, "gpt4_class", "CN")
    assert inside.verdict == "open"
    assert (inside.pipeline_value_low, inside.pipeline_value_high) == (2.0, 20.0)
    # median of the 1:1 blends 15 (a) and 3 (b)
    assert inside.pipeline_value == pytest.approx(9.0)
    outside = check_price_level(30.0, START, PRICES, "gpt4_class", "CN")
    assert outside.verdict == "contradicted"
    assert "A1 <https://example.org/A1>" in outside.evidence


def test_price_change_measured_three_ways():
    # cheapest (b) input 2 -> 1 = -50 %, output 4 -> 4 = 0 %; median blend 9 -> (2.5 + 3)/2 = 2.75
    f = check_price_change(-85, -85, START, END, PRICES, PUBLISHED, ("gpt4_class",), "CN")
    assert (f.pipeline_value_low, f.pipeline_value_high) == pytest.approx((-50.0, 0.0))
    assert f.pipeline_value == pytest.approx(100 * (2.75 / 9 - 1))
    # -85 % in a year is 6.67x: below the published 10x; none of the three measures agree
    assert f.verdict == "contradicted"
    assert "E1" in f.evidence
    agree = check_price_change(-50, -50, START, END, PRICES, PUBLISHED, ("gpt4_class",), "CN")
    # -50 % agrees with the cheapest-price change but not with the median or the published rates
    assert agree.verdict == "open"


def test_price_change_without_prices_at_both_ends_is_open():
    f = check_price_change(-85, -85, START, END, PRICES, PUBLISHED, ("gpt4_class",), "US")
    assert f.verdict == "open"


COUNTS = pd.DataFrame(
    [
        {"count_id": "M1", "date": "2024-01-01", "metric": "models_cumulative", "value": 40.0},
        {"count_id": "M2", "date": "2025-01-01", "metric": "models_cumulative", "value": 188.0},
        {"count_id": "S1", "date": "2024-02-01", "metric": "services_cumulative", "value": 100.0},
        {"count_id": "S2", "date": "2025-03-01", "metric": "services_cumulative", "value": 90.0},
        {"count_id": "R1", "date": "2024-01-01", "metric": "released_in_period", "value": 30.0},
    ]
).assign(source_url="https://example.org/counts")


def test_counts_that_all_rise_contradict_a_claimed_fall():
    rising = COUNTS[COUNTS["metric"] == "models_cumulative"]
    f = check_count_change(-62.5, START, END, rising)
    assert f.verdict == "contradicted"
    assert f.pipeline_value == pytest.approx(370.0)
    assert "M1" in f.evidence and "M2" in f.evidence


def test_a_count_that_falls_leaves_the_claim_open():
    f = check_count_change(-62.5, START, END, COUNTS)
    assert f.verdict == "open"
    assert (f.pipeline_value_low, f.pipeline_value_high) == pytest.approx((-10.0, 370.0))


def test_count_level_is_open_and_cites_the_counts_of_the_date():
    f = check_count_level(120, START, COUNTS)
    assert f.verdict == "open"
    assert "models_cumulative 40" in f.reason and "M1" in f.evidence
    assert "released_in_period" not in f.reason


EVENTS = pd.DataFrame(
    [
        {
            "event_id": "x-1",
            "company_id": "x",
            "date": "2022-06",
            "event_type": "funding",
            "amount_usd": 900e6,
        },
        {
            "event_id": "x-2",
            "company_id": "x",
            "date": "2023-06",
            "event_type": "funding",
            "amount_usd": 250e6,
        },
        {
            "event_id": "x-3",
            "company_id": "x",
            "date": "2024-03",
            "event_type": "funding",
            "amount_usd": 600e6,
        },
        {
            "event_id": "x-4",
            "company_id": "x",
            "date": "2024-05",
            "event_type": "pivot",
            "amount_usd": None,
        },
        {
            "event_id": "y-1",
            "company_id": "y",
            "date": "2023-10",
            "event_type": "funding",
            "amount_usd": 300e6,
        },
        {
            "event_id": "y-2",
            "company_id": "y",
            "date": "2024-07",
            "event_type": "funding",
            "amount_usd": None,
        },
    ]
).assign(source_url="https://example.org/e")
Y0, Y1 = pd.Timestamp("2023-01-01"), pd.Timestamp("2025-12-31")


def test_funding_sum_of_rounds_in_the_period():
    # 250 + 600 = 850 M USD in 2023-2025 (the 2022 round and the pivot do not count)
    f = check_funding(300e6, "x", Y0, Y1, EVENTS)
    assert f.pipeline_value == 850e6
    assert f.verdict == "contradicted"
    assert "x-1" not in f.evidence and "x-4" not in f.evidence
    assert check_funding(800e6, "x", Y0, Y1, EVENTS).verdict == "consistent"
    assert check_funding(1.5e9, "x", Y0, Y1, EVENTS).verdict == "contradicted"


def test_funding_with_unstated_rounds_is_a_lower_bound():
    f = check_funding(1.5e9, "y", Y0, Y1, EVENTS)
    assert f.verdict == "open"
    assert f.pipeline_value_low == 300e6 and np.isnan(f.pipeline_value_high)
    # the stated rounds alone already exceed a smaller claim
    assert check_funding(100e6, "y", Y0, Y1, EVENTS).verdict == "contradicted"
    assert check_funding(1e9, "z", Y0, Y1, EVENTS).verdict == "open"
