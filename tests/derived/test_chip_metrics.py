"""Per-chip metrics: rust_core against a plain-Python hand calculation, and the asset's inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rust_core
from assets.derived.chip_metrics import chip_inputs, latest_chip_price

positive = st.floats(0.01, 1e6, allow_nan=False, allow_infinity=False)
maybe = st.one_of(st.just(math.nan), positive)


def reference(peak_tflops, memory_bw_gbps, interconnect_gbps, tdp_w, price_usd):
    """The metrics by their definitions, in plain Python."""
    nan = math.nan
    return {
        "tflops_per_w": peak_tflops / tdp_w if not math.isnan(tdp_w) else nan,
        "tflops_per_kusd": peak_tflops / (price_usd / 1000) if not math.isnan(price_usd) else nan,
        "ridge_flop_per_byte": (peak_tflops * 1e12) / (memory_bw_gbps * 1e9)
        if not math.isnan(memory_bw_gbps)
        else nan,
        "interconnect_bytes_per_kflop": (interconnect_gbps * 1e9) / (peak_tflops * 1e12) * 1000
        if not math.isnan(interconnect_gbps)
        else nan,
    }


@given(st.lists(st.tuples(positive, maybe, maybe, maybe, maybe), min_size=1, max_size=40))
def test_rust_matches_reference(rows):
    frame = pd.DataFrame(
        rows, columns=["peak_tflops", "memory_bw_gbps", "interconnect_gbps", "tdp_w", "price_usd"]
    )
    got = rust_core.chip_metrics(frame)
    for i, row in enumerate(rows):
        want = reference(*row)
        for col, value in want.items():
            if math.isnan(value):
                assert math.isnan(got[col].iloc[i])
            else:
                assert got[col].iloc[i] == pytest.approx(value, rel=1e-12)


def test_h100_ridge_point_by_hand():
    frame = pd.DataFrame(
        {
            "peak_tflops": [989.0],
            "memory_bw_gbps": [3350.0],
            "interconnect_gbps": [900.0],
            "tdp_w": [700.0],
            "price_usd": [np.nan],
        }
    )
    got = rust_core.chip_metrics(frame).iloc[0]
    assert got["ridge_flop_per_byte"] == pytest.approx(295.22, abs=0.01)  # 989e12 / 3.35e12
    assert got["tflops_per_w"] == pytest.approx(1.4129, abs=1e-4)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("peak_tflops", 0.0),
        ("tdp_w", -1.0),
        ("memory_bw_gbps", math.inf),
        ("peak_tflops", math.nan),
    ],
)
def test_invalid_rows_raise_value_error_naming_row_and_field(column, value):
    frame = pd.DataFrame(
        {
            "peak_tflops": [989.0, 312.0],
            "memory_bw_gbps": [3350.0, 2039.0],
            "interconnect_gbps": [900.0, 600.0],
            "tdp_w": [700.0, 400.0],
            "price_usd": [np.nan, np.nan],
        }
    )
    frame.loc[1, column] = value
    with pytest.raises(ValueError, match=f"row 1: field '{column}'"):
        rust_core.chip_metrics(frame)


def test_missing_input_column_is_a_value_error():
    with pytest.raises(ValueError, match="missing input column 'tdp_w'"):
        rust_core.chip_metrics(
            pd.DataFrame(
                {
                    "peak_tflops": [1.0],
                    "memory_bw_gbps": [1.0],
                    "interconnect_gbps": [1.0],
                    "price_usd": [1.0],
                }
            )
        )


def test_chip_inputs_take_stated_peaks_and_latest_dated_price():
    specs = pd.DataFrame(
        {
            "chip_id": ["x", "z", "y"],
            "vendor": ["V"] * 3,
            "model": ["X", "Z", "Y"],
            "value_sources": ["{}", "{}", "{}"],
            "bf16_dense_tflops": [100.0, np.nan, 50.0],
            "fp8_dense_tflops": [200.0, np.nan, np.nan],
            "memory_bw_gbps": [1000.0, 1.0, 500.0],
            "scale_up_gbps": [np.nan] * 3,
            "tdp_w": [500.0, 1.0, 300.0],
            "list_price_usd": [np.nan, np.nan, 9000.0],
        }
    )
    prices = pd.DataFrame(
        {
            "chip_price_id": ["p1", "p2", "p3"],
            "chip_id": ["x", "x", "x"],
            "date": pd.to_datetime(["2024-01-01", "2025-01-01", None]),
            "usd_per_chip": [10_000.0, 12_000.0, 1.0],
            "usd_per_chip_high": [np.nan] * 3,
            "kind": ["measured", "estimate", "measured"],
            "confidence": ["medium", "high", "medium"],
        }
    )
    assert latest_chip_price(prices).loc["x", "usd_per_chip"] == 12_000.0
    out = chip_inputs(specs, prices)
    assert out[["chip_id", "precision", "peak_tflops"]].values.tolist() == [
        ["x", "bf16", 100.0],
        ["x", "fp8", 200.0],
        ["y", "bf16", 50.0],
    ]
    assert out["price_usd"].tolist() == [12_000.0, 12_000.0, 9000.0]
    assert out["price_source"].tolist() == [
        "chip_prices:p2",
        "chip_prices:p2",
        "hardware_specs:list_price_usd",
    ]


def _prices(rows: list[tuple[str, str, str, float, str, str]]) -> pd.DataFrame:
    """chip_prices rows from (id, chip, date, usd, kind, confidence)."""
    frame = pd.DataFrame(
        rows, columns=["chip_price_id", "chip_id", "date", "usd_per_chip", "kind", "confidence"]
    )
    frame["date"] = pd.to_datetime(frame["date"])
    frame["usd_per_chip_high"] = np.nan
    return frame


def _one_chip_specs(chip_id: str, bf16_dense_tflops: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "chip_id": [chip_id],
            "vendor": ["V"],
            "model": [chip_id],
            "value_sources": ["{}"],
            "bf16_dense_tflops": [bf16_dense_tflops],
            "fp8_dense_tflops": [np.nan],
            "memory_bw_gbps": [1000.0],
            "scale_up_gbps": [np.nan],
            "tdp_w": [500.0],
            "list_price_usd": [np.nan],
        }
    )


def test_a_claim_or_low_confidence_price_is_a_range_check_never_the_value():
    # A chip whose only price is a low-confidence claim (the Ascend 950PR case: 10,000 CNY stated,
    # 1,375 USD) gets no price and no TFLOPS per 1,000 USD, only the check naming the row.
    specs = _one_chip_specs("c950", 1000.0)
    prices = _prices([("CP23", "c950", "2025-09-01", 1375.0, "claim", "low")])
    out = chip_inputs(specs, prices)
    assert math.isnan(out.at[0, "price_usd"]) and out.at[0, "price_source"] == ""
    assert out.at[0, "price_check"] == (
        "not used: CP23 (claim, low confidence) 1,375 USD: no supportable price to compare"
    )
    metrics = rust_core.chip_metrics(out.rename(columns={"scale_up_gbps": "interconnect_gbps"}))
    assert math.isnan(metrics.at[0, "tflops_per_kusd"])


def test_newer_unsupported_prices_do_not_displace_an_older_supported_one():
    # Usable: P1 (measured, medium, 10,000 USD). Newer but unusable: a low-confidence estimate
    # (8,000) and a high-confidence claim (30,000). By hand: price 10,000 USD, so 100 TFLOPS give
    # 100 / (10,000 / 1,000) = 10 TFLOPS per 1,000 USD; both other rows lie outside 10,000-10,000.
    specs = _one_chip_specs("c", 100.0)
    prices = _prices(
        [
            ("P1", "c", "2024-01-01", 10_000.0, "measured", "medium"),
            ("P2", "c", "2025-01-01", 8_000.0, "estimate", "low"),
            ("P3", "c", "2025-06-01", 30_000.0, "claim", "high"),
        ]
    )
    out = chip_inputs(specs, prices)
    assert out.at[0, "price_usd"] == 10_000.0 and out.at[0, "price_source"] == "chip_prices:P1"
    assert out.at[0, "price_check"] == (
        "not used: P2 (estimate, low confidence) 8,000 USD: outside the supportable "
        "10,000-10,000 USD; P3 (claim, high confidence) 30,000 USD: outside the supportable "
        "10,000-10,000 USD"
    )
    metrics = rust_core.chip_metrics(out.rename(columns={"scale_up_gbps": "interconnect_gbps"}))
    assert metrics.at[0, "tflops_per_kusd"] == pytest.approx(10.0)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["spec", "measured", "estimate", "claim"]),
            st.sampled_from(["low", "medium", "high"]),
            st.floats(100, 1e6, allow_nan=False),
            st.integers(2020, 2026),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_price_is_the_newest_usable_row_by_hand(rows):
    prices = _prices(
        [
            (f"P{i:02d}", "c", f"{year}-01-01", usd, kind, confidence)
            for i, (kind, confidence, usd, year) in enumerate(rows)
        ]
    )
    usable = [
        (f"{year}-01-01", f"P{i:02d}", usd)
        for i, (kind, confidence, usd, year) in enumerate(rows)
        if kind != "claim" and confidence != "low"
    ]
    out = chip_inputs(_one_chip_specs("c", 100.0), prices)
    if usable:
        _, want_id, want_usd = max(usable)
        assert out.at[0, "price_usd"] == want_usd
        assert out.at[0, "price_source"] == f"chip_prices:{want_id}"
    else:
        assert math.isnan(out.at[0, "price_usd"])
    unused = len(rows) - len(usable)
    assert out.at[0, "price_check"].count(" confidence) ") == unused


@pytest.mark.slow
def test_shipped_prices_rest_only_on_usable_rows(pipeline_run):
    metrics = pd.read_parquet(pipeline_run.warehouse / "derived" / "chip_metrics.parquet")
    prices = pd.read_parquet(pipeline_run.warehouse / "clean" / "chip_prices.parquet")
    ascend = metrics[metrics["chip_id"] == "huawei-ascend-950pr"].iloc[0]
    assert math.isnan(ascend["price_usd"]) and math.isnan(ascend["tflops_per_kusd"])
    assert "CP23 (claim, low confidence)" in ascend["price_check"]
    by_id = prices.set_index("chip_price_id")
    used = metrics.loc[metrics["price_source"].str.startswith("chip_prices:"), "price_source"]
    assert len(used) > 0
    for source in used:
        row = by_id.loc[source.removeprefix("chip_prices:")]
        assert row["kind"] in {"spec", "measured", "estimate"}, source
        assert row["confidence"] in {"medium", "high"}, source
