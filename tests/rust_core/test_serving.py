"""Inference, cluster equivalence, power and Monte Carlo: rust_core against the reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rust_core
from tests.rust_core import reference_serving
from tests.rust_core.strategies import training_scenario

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


@st.composite
def serving_scenario(draw) -> dict:
    """A random valid serving scenario."""
    heads = draw(st.sampled_from([8, 16, 32, 64]))
    hidden = heads * draw(st.sampled_from([64, 128]))
    layers = draw(st.integers(2, 96))
    total = (12 * layers * hidden**2 + 32000 * hidden) * draw(st.floats(0.5, 3.0))
    moe = draw(st.booleans())
    experts = draw(st.sampled_from([8, 16, 64, 256])) if moe else 1
    top_k = draw(st.integers(1, min(8, experts - 1))) if moe else 1
    # a hair above total x top_k / experts: the core's check must not fail on rounding
    share = draw(st.floats(top_k / experts, 1.0))
    active = min(total, total * share * (1 + 1e-12)) if moe else total
    spec = draw(st.booleans())
    return {
        "peak_tflops": draw(st.floats(50, 2500)),
        "memory_gb": draw(st.floats(16, 192)),
        "memory_bw_gbps": draw(st.floats(300, 8000)),
        "scale_up_gbps": draw(st.floats(20, 1800)),
        "price_usd_per_chip_hour": draw(st.floats(0.2, 10)),
        "params_b": total / 1e9,
        "active_params_b": active / 1e9,
        "layers": layers,
        "hidden": hidden,
        "heads": heads,
        "kv_heads": draw(st.sampled_from([h for h in (1, 2, 4, 8, 16, 32, 64) if h <= heads])),
        "experts": experts,
        "top_k": top_k,
        "weight_bits": draw(st.sampled_from([4, 8, 16])),
        "kv_bits": draw(st.sampled_from([8, 16])),
        "tp": draw(st.sampled_from([1, 2, 4, 8])),
        "prompt_tokens": draw(st.integers(1, 32000)),
        "output_tokens": draw(st.integers(1, 4000)),
        "max_batch": draw(st.integers(1, 512)),
        "draft_params_b": draw(st.floats(0.05, 2.0)) if spec else 0.0,
        "draft_length": draw(st.integers(1, 8)) if spec else 0,
        "acceptance_rate": draw(st.floats(0.0, 1.0)),
        "compute_efficiency": draw(st.floats(0.2, 1.0)),
        "memory_bw_efficiency": draw(st.floats(0.2, 1.0)),
        "scale_up_efficiency": draw(st.floats(0.05, 1.0)),
        "usable_memory_fraction": draw(st.floats(0.5, 1.0)),
    }


@SETTINGS
@given(sc=serving_scenario())
def test_inference_matches_reference(sc: dict) -> None:
    out = rust_core.inference_costs(pd.DataFrame([sc])).iloc[0]
    expect = reference_serving.inference(sc)
    assert bool(out["feasible"]) == expect["feasible"]
    for key, value in expect.items():
        if key in ("feasible", "memory_bound"):
            assert bool(out[key]) == value
        else:
            assert close(out[key], value), key
    if not expect["feasible"]:
        assert math.isnan(out["cost_usd_per_mtok_output"])


@SETTINGS
@given(sc=serving_scenario(), factor=st.floats(1.0, 10.0))
def test_inference_invariants(sc: dict, factor: float) -> None:
    rows = [
        sc,
        {**sc, "price_usd_per_chip_hour": sc["price_usd_per_chip_hour"] * factor},
        {**sc, "memory_bw_gbps": sc["memory_bw_gbps"] * factor},
    ]
    out = rust_core.inference_costs(pd.DataFrame(rows))
    if out["feasible"].iloc[0]:
        assert close(
            out["cost_usd_per_mtok_output"].iloc[1],
            out["cost_usd_per_mtok_output"].iloc[0] * factor,
        )
        assert out["decode_tokens_per_s_per_chip"].iloc[2] >= out[
            "decode_tokens_per_s_per_chip"
        ].iloc[0] * (1 - 1e-12)
        assert 1.0 <= out["tokens_per_target_step"].iloc[0] <= sc["draft_length"] + 1


@pytest.mark.parametrize(
    ("alpha", "gamma", "expected"),
    [(0.8, 4, (1 - 0.8**5) / 0.2), (0.6, 3, (1 - 0.6**4) / 0.4), (1.0, 5, 6.0), (0.0, 4, 1.0)],
)
def test_expected_tokens_by_hand(alpha: float, gamma: int, expected: float) -> None:
    assert math.isclose(reference_serving.accepted_tokens(alpha, gamma), expected)
    row = {
        "peak_tflops": 989.0, "memory_gb": 80.0, "memory_bw_gbps": 3350.0, "scale_up_gbps": 900.0,
        "price_usd_per_chip_hour": 2.0, "params_b": 7.0, "active_params_b": 7.0, "layers": 32,
        "hidden": 4096, "heads": 32, "kv_heads": 32, "experts": 1, "top_k": 1, "weight_bits": 16,
        "tp": 1, "prompt_tokens": 512, "output_tokens": 256, "max_batch": 8,
        "draft_params_b": 0.1, "draft_length": gamma, "acceptance_rate": alpha,
    }  # fmt: skip
    out = rust_core.inference_costs(pd.DataFrame([row]))
    assert math.isclose(out["tokens_per_target_step"].iloc[0], expected, rel_tol=1e-12)


def _equivalence_row(a: dict, b: dict, chips_a: int, max_b: int, eval_b: float) -> dict:
    model = {k: a[k] for k in rust_core.TRAIN_INPUT_COLUMNS[9:] if k != "chips"}
    model |= {k: a[k] for k in rust_core.TRAIN_SHAPE_COLUMNS if k in a}
    consts = {k: a[k] for k in rust_core.TRAIN_CONSTANT_COLUMNS}
    return {
        **{f"a_{k}": a[k] for k in rust_core.CHIP_FIELDS},
        **{f"b_{k}": b[k] for k in rust_core.CHIP_FIELDS},
        **model,
        **consts,
        "chips_a": chips_a,
        "max_chips_b": max_b,
        "chips_b_eval": eval_b,
    }


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sc=training_scenario(moe=False),
    chips_a=st.integers(1, 64),
    slow=st.floats(0.3, 1.0),
)
def test_equivalence_matches_reference(sc: dict, chips_a: int, slow: float) -> None:
    sc = {**sc, "layers": min(sc["layers"], 12)}
    b = {
        **sc,
        "peak_tflops": sc["peak_tflops"] * slow,
        "scale_out_gbps": sc["scale_out_gbps"] * slow,
    }
    row = _equivalence_row(sc, b, chips_a, 256, float(chips_a))
    out = rust_core.cluster_equivalence(pd.DataFrame([row])).iloc[0]
    a_ref = {**sc, "chips": chips_a}
    expect = reference_serving.chips_needed(a_ref, b, 256)
    if expect is None:
        assert pd.isna(out["chips_b_needed"])
    else:
        assert out["chips_b_needed"] == expect
        assert out["tokens_per_s_b_needed"] >= out["tokens_per_s_a"]
    ta = reference_serving.throughput(a_ref, chips_a)
    if ta > 0:
        assert close(out["tokens_per_s_a"], ta)
        assert close(
            out["throughput_ratio_b_eval_vs_a"], reference_serving.throughput(b, chips_a) / ta
        )


def test_equivalence_validates_rows() -> None:
    sc = {**train_ref_row(), "compute_efficiency": 0.6}
    bad = _equivalence_row(sc, {**sc, "peak_tflops": -1.0}, 8, 64, float("nan"))
    with pytest.raises(ValueError, match=r"row 0: field 'b_peak_tflops'"):
        rust_core.cluster_equivalence(pd.DataFrame([bad]))
    zero = _equivalence_row(sc, sc, 8, 0, float("nan"))
    with pytest.raises(ValueError, match=r"row 0: field 'max_chips_b'"):
        rust_core.cluster_equivalence(pd.DataFrame([zero]))


def train_ref_row() -> dict:
    """A small dense model on an A100-like chip, with the calibrated constants."""
    return {
        "peak_tflops": 312.0, "memory_gb": 80.0, "memory_bw_gbps": 2039.0, "scale_up_gbps": 600.0,
        "scale_up_domain_chips": 8, "scale_out_gbps": 25.0, "power_w_per_chip": 800.0, "pue": 1.2,
        "price_usd_per_chip_hour": 2.0, "params_b": 1.7, "active_params_b": 1.7, "layers": 24,
        "hidden": 2304, "heads": 24, "seq_len": 2048, "vocab": 51200, "experts": 1, "top_k": 1,
        "chips": 32, "global_batch_tokens": 512 * 2048, "training_tokens": 1e11,
        **rust_core.calibration()["constants"],
    }  # fmt: skip


@SETTINGS
@given(
    chips=st.integers(1, 200_000),
    w=st.tuples(st.floats(100, 3000), st.floats(0, 1000)),
    pue=st.tuples(st.floats(1.0, 2.0), st.floats(0, 0.5)),
    samples=st.integers(1, 300),
    seed=st.integers(0, 2**53),
)
def test_power_matches_reference(chips: int, w: tuple, pue: tuple, samples: int, seed: int) -> None:
    w_band, pue_band = (w[0], w[0] + w[1]), (pue[0], pue[0] + pue[1])
    row = {
        "chips": chips, "power_w_per_chip_low": w_band[0], "power_w_per_chip_high": w_band[1],
        "pue_low": pue_band[0], "pue_high": pue_band[1], "mc_samples": samples, "mc_seed": seed,
    }  # fmt: skip
    out = rust_core.datacenter_power(pd.DataFrame([row])).iloc[0]
    expect = reference_serving.power(chips, w_band, pue_band, samples, seed)
    for key, value in expect.items():
        assert close(out[key], value), key
    assert out["facility_mw_p5"] <= out["facility_mw_p50"] <= out["facility_mw_p95"]


def test_power_fifty_thousand_h100_by_hand() -> None:
    row = {
        "chips": 50_000, "power_w_per_chip_low": 1275.0, "power_w_per_chip_high": 1275.0,
        "pue_low": 1.3, "pue_high": 1.3, "mc_samples": 10, "mc_seed": 0,
    }  # fmt: skip
    out = rust_core.datacenter_power(pd.DataFrame([row])).iloc[0]
    assert math.isclose(out["facility_mw"], 50_000 * 1275 * 1.3 / 1e6)
    assert math.isclose(out["facility_mw_p95"], out["facility_mw"])


def test_splitmix_and_percentile_reference() -> None:
    state, first = reference_serving.splitmix64(1234567)
    assert first == 6457827717110365317
    assert reference_serving.splitmix64(state)[1] == 3203168211198807973
    values = [3.0, 1.0, 10.0, 2.0, 4.0]
    for q in (5, 50, 95):
        assert math.isclose(
            reference_serving.percentile(values, q), float(np.percentile(values, q))
        )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sc=training_scenario(), seed=st.integers(0, 2**53), spread=st.floats(0.0, 0.3))
def test_train_uncertainty_matches_reference_and_is_reproducible(
    sc: dict, seed: int, spread: float
) -> None:
    bands = {
        "compute_efficiency": (sc["compute_efficiency"] * (1 - spread), sc["compute_efficiency"]),
        "scale_up_efficiency": (
            sc["scale_up_efficiency"] * (1 - spread),
            sc["scale_up_efficiency"],
        ),
        "scale_out_efficiency": (
            sc["scale_out_efficiency"] * (1 - spread),
            sc["scale_out_efficiency"],
        ),
        "dp_overlap_fraction": (0.0, sc["dp_overlap_fraction"]),
        "price_usd_per_chip_hour": (
            sc["price_usd_per_chip_hour"],
            sc["price_usd_per_chip_hour"] * (1 + spread),
        ),
    }
    row = {**sc, "mc_samples": 50, "mc_seed": seed}
    for name, (low, high) in bands.items():
        row[f"{name}_low"], row[f"{name}_high"] = low, high
    out = rust_core.train_uncertainty(pd.DataFrame([row, row]))
    pd.testing.assert_series_equal(out.iloc[0], out.iloc[1], check_names=False)
    expect = reference_serving.train_uncertainty(sc, bands, 50, seed)
    if not expect:
        assert out.iloc[0].isna().all()
        return
    for key, value in expect.items():
        assert close(out[key].iloc[0], value), key
    assert out["mfu_p5"].iloc[0] <= out["mfu_p50"].iloc[0] <= out["mfu_p95"].iloc[0] <= 1.0


def test_uncertainty_bad_band_is_named() -> None:
    row = {**train_ref_row(), "mc_samples": 10, "mc_seed": 1}
    row |= {"scale_out_efficiency_low": 0.9, "scale_out_efficiency_high": 0.1}
    with pytest.raises(ValueError, match=r"row 0: field 'scale_out_efficiency_low'"):
        rust_core.train_uncertainty(pd.DataFrame([row]))
