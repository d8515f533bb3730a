"""Every derived table that carries a Monte Carlo band contains its nominal value: p5 <= nominal
<= p95, over varied chips, rental prices and power observations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.derived import performance, scenario_inputs
from tests.rust_core.test_derived_tables import specs

SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REL = 1e-9


@st.composite
def sources(draw) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Chip specs scaled from the test chips, 1-5 rental prices per chip, power and PUE values."""
    frame = specs()
    scale = {
        col: draw(st.floats(0.3, 3.0))
        for col in ("bf16_dense_tflops", "memory_gb", "memory_bw_gbps", "scale_up_gbps")
    }
    for col, factor in scale.items():
        frame[col] = frame[col] * factor
    frame["fp8_dense_tflops"] = frame["fp8_dense_tflops"] * scale["bf16_dense_tflops"]
    frame.loc[0, "scale_out_gbps"] = draw(st.floats(5.0, 100.0))
    rent = [
        {
            "rental_id": f"RT{chip}{i}",
            "chip_id": chip_id,
            "usd_per_gpu_hour": price,
            "usd_per_gpu_hour_high": np.nan,
            "kind": "measured",
            "confidence": "medium",
        }
        for chip, chip_id in enumerate(("nvidia-h100-sxm", "huawei-ascend-910b"))
        for i, price in enumerate(draw(st.lists(st.floats(0.2, 20.0), min_size=1, max_size=5)))
    ]
    power = [
        {"obs_id": f"PW{i}", "metric": "server_w_per_gpu", "chip_id": "nvidia-h100-sxm",
         "value": w, "value_high": np.nan}
        for i, w in enumerate(draw(st.lists(st.floats(300.0, 2000.0), min_size=1, max_size=3)))
    ] + [
        {"obs_id": f"PU{i}", "metric": "pue", "chip_id": None, "value": p, "value_high": np.nan}
        for i, p in enumerate(draw(st.lists(st.floats(1.0, 2.0), min_size=1, max_size=3)))
    ]  # fmt: skip
    return frame, pd.DataFrame(power), pd.DataFrame(rent)


def contains(low: pd.Series, nominal: pd.Series, high: pd.Series) -> None:
    """p5 <= nominal <= p95 wherever the nominal value exists (relative tolerance for rounding)."""
    ok = nominal.notna() & np.isfinite(nominal.astype(float))
    lo, mid, hi = (s[ok].astype(float).to_numpy() for s in (low, nominal, high))
    assert not np.isnan(lo).any() and not np.isnan(hi).any(), (nominal.name, mid[np.isnan(lo)][:5])
    bad = (lo > mid * (1 + REL)) | (mid > hi * (1 + REL))
    assert not bad.any(), list(zip(lo[bad], mid[bad], hi[bad], strict=True))[:5]


def chips_of(src) -> pd.DataFrame:
    return scenario_inputs.chip_table(*src)[0]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src=sources())
def test_training_bands_contain_the_nominal(src) -> None:
    out = performance.compute_training(chips_of(src))
    contains(out["mfu_pct_p5"], out["mfu_pct"], out["mfu_pct_p95"])
    contains(out["cost_usd_p5"], out["cost_usd"], out["cost_usd_p95"])


@SETTINGS
@given(src=sources())
def test_inference_bands_contain_the_nominal(src) -> None:
    out = performance.compute_inference(chips_of(src))
    contains(
        out["cost_usd_per_mtok_output_p5"],
        out["cost_usd_per_mtok_output"],
        out["cost_usd_per_mtok_output_p95"],
    )


@SETTINGS
@given(src=sources())
def test_power_bands_contain_the_nominal(src) -> None:
    out = performance.compute_power(chips_of(src))
    contains(out["facility_mw_p5"], out["facility_mw"], out["facility_mw_p95"])


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src=sources())
def test_equivalence_bands_contain_the_nominal(src) -> None:
    out = performance.compute_equivalence(chips_of(src))
    banded = out["batch_basis"] == scenario_inputs.EQUAL_BATCH
    out = out[banded]
    contains(
        out["throughput_ratio_p5"], out["throughput_ratio_b_eval_vs_a"], out["throughput_ratio_p95"]
    )
    needed = out["chips_b_needed"].astype("Float64")
    contains(out["chips_b_needed_p5"], needed, out["chips_b_needed_p95"])
