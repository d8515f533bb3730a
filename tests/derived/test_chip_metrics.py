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
