"""The model's second version: batch rule, chip-family efficiency, calibration file, equivalence
reasons and input robustness (field names, first bad row, bounds, input types)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rust_core
from assets.derived.batch_rule import TOKENS_PER_CHIP, critical_batch_tokens, grown_batch_tokens
from tests.rust_core.strategies import training_scenario
from tests.rust_core.test_training import a100_row

ROOT = Path(__file__).resolve().parents[2]


def fit_module():
    """The calibration script as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "fit_calibration", ROOT / "rust_core" / "calibration" / "fit_calibration.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_batch_rule_by_hand() -> None:
    # Llama 3 405B: 16M tokens on 16,384 H100 is the tokens-per-chip rule itself.
    assert TOKENS_PER_CHIP == 1024.0
    cap = 0.2920 * (6 * 405e9 * 15.6e12) ** 0.3271
    assert math.isclose(float(critical_batch_tokens(405.0, 15.6e12)), cap, rel_tol=1e-12)
    published = 16 * 1024 * 1024
    at_16k = grown_batch_tokens(16_384, 8192, published, 405.0, 15.6e12)
    assert at_16k == published  # 1,024 x 16,384 = 16M: the published batch
    # small clusters keep the published batch; large ones stop at the critical batch
    assert grown_batch_tokens(8, 4096, 4 * 2**20, 70.0, 2e12) == 4 * 2**20
    big = float(grown_batch_tokens(1_000_000, 4096, 4 * 2**20, 70.0, 2e12))
    cap70 = 0.2920 * (6 * 70e9 * 2e12) ** 0.3271
    assert big == math.floor(cap70 / 4096) * 4096
    mid = float(grown_batch_tokens(8192, 4096, 4 * 2**20, 70.0, 2e12))
    assert mid == 8192 * 1024


def test_family_efficiency_comes_from_the_fit() -> None:
    cal = rust_core.calibration()
    effs = cal["compute_efficiency_by_family"]
    assert rust_core.compute_efficiency_for("nvidia-h100-sxm", "fp8") == effs["h100-fp8"]
    assert rust_core.compute_efficiency_for("nvidia-h800-sxm", "bf16") == effs["h100-bf16"]
    assert rust_core.efficiency_family("huawei-ascend-910b", "bf16") == "ascend-910b-bf16"
    assert "PANGU-ULTRA-135B" in cal["compute_efficiency_basis"]["ascend-910b-bf16"]
    # a chip with no run takes the stated default
    assert rust_core.efficiency_family("biren-br100", "bf16") is None
    assert rust_core.compute_efficiency_for("biren-br100", "bf16") == effs["a100-bf16"]
    # FP8 is not BF16 x 2: its efficiency is fitted on FP8 runs, below the BF16 one
    assert effs["h100-fp8"] < effs["h100-bf16"]


def test_calibration_file_matches_the_model_and_meets_its_targets() -> None:
    """Every stored prediction is what the built model gives now with the stored constants."""
    fit = fit_module()
    cal = rust_core.calibration()
    rows = fit.calibration_rows()
    assert len(rows) == len(cal["rows"]) == 26
    constants = {k: v for k, v in cal["constants"].items() if k != "compute_efficiency"}
    constants["compute_efficiency_by_family"] = cal["compute_efficiency_by_family"]
    pred = fit.predict(fit.scenarios(rows), constants)
    for stored in cal["rows"]:
        now = float(pred.loc[stored["row_id"], "mfu"]) * 100
        assert math.isclose(now, stored["predicted_mfu_pct"], abs_tol=2e-3), stored["row_id"]
    errors = np.array([r["error_pp"] for r in cal["rows"]])
    assert math.isclose(cal["mae_mfu_pp"], np.abs(errors).mean(), abs_tol=2e-3)
    assert cal["mae_mfu_pp"] <= 3.0
    lofo = np.array([r["leave_family_out_error_pp"] for r in cal["rows"]])
    assert math.isclose(cal["leave_family_out_mae_mfu_pp"], np.abs(lofo).mean(), abs_tol=2e-3)
    assert cal["leave_family_out_mae_mfu_pp"] <= 5.0
    # the sourced link ceiling holds for the stored constants
    assert cal["constants"]["scale_up_efficiency"] <= fit.SCALE_UP_EFFICIENCY_CEILING


@given(
    need=st.floats(0.05, 0.9),
    start=st.floats(0.0, 1.0),
    other=st.floats(0.0, 1.0),
)
@settings(max_examples=60)
def test_overlaps_settle_on_the_smallest_value_that_fits_as_well(
    need: float, start: float, other: float
) -> None:
    """A cost flat above the share the rows need (as an overlap fraction's is) settles on that
    share, whatever value the optimiser stopped at; a cost with an interior optimum keeps it."""
    fit = fit_module()
    tp, dp = fit.OVERLAPS
    x = np.full(len(fit.FITTED), 0.5)
    x[tp], x[dp] = max(start, need), other

    def cost(v: np.ndarray) -> float:
        # flat in tp above `need` (hidden traffic capped by compute), a bowl in dp around `other`
        return 1.0 + max(need - v[tp], 0.0) ** 2 + (v[dp] - other) ** 2

    settled = fit.settle_overlaps(cost, x)
    # within the cost tolerance (relative 1e-9: a quadratic's sqrt, 3.2e-5) and one bisection step
    assert need - 4e-5 <= settled[tp] <= need + 2.0**-fit.SETTLE_STEPS + 1e-12
    assert settled[dp] == pytest.approx(other, abs=4e-5)
    assert cost(settled) <= cost(x) * (1 + 1e-9)
    others = [i for i in range(len(x)) if i not in fit.OVERLAPS]
    assert np.array_equal(settled[others], x[others])


def test_v2_rows_keep_their_provenance() -> None:
    v2 = pd.read_csv(ROOT / "data" / "sources" / "mfu_calibration_v2.csv")
    assert v2["row_id"].is_unique and v2["row_id"].notna().all()
    assert (v2["source_url"].str.strip().str.len() > 0).all()
    assert v2[["source", "source_url", "published", "kind", "quote"]].notna().all().all()
    assert set(v2["kind"]) <= {"measured", "estimate"}


def equivalence_row(**overrides) -> dict:
    row = {
        **{f"a_{k}": v for k, v in a100_row().items() if k in rust_core.CHIP_FIELDS},
        **{f"b_{k}": v for k, v in a100_row().items() if k in rust_core.CHIP_FIELDS},
        **{k: v for k, v in a100_row().items() if k in rust_core.TRAIN_MODEL_COLUMNS},
        "chips_a": 64,
        "max_chips_b": 512,
        "chips_b_eval": 64,
        "params_b": 7.0,
        "active_params_b": 7.0,
        "layers": 32,
        "hidden": 4096,
        "heads": 32,
    }
    row.update(overrides)
    return row


def test_equivalence_nan_with_a_reason_never_inf() -> None:
    out = rust_core.cluster_equivalence(
        pd.DataFrame([equivalence_row(), equivalence_row(a_memory_gb=1.0, b_memory_gb=80.0)])
    )
    assert out["reason"].iloc[0] == ""
    assert math.isclose(out["throughput_ratio_b_eval_vs_a"].iloc[0], 1.0, rel_tol=1e-12)
    assert math.isnan(out["throughput_ratio_b_eval_vs_a"].iloc[1])
    assert "chip A" in out["reason"].iloc[1]
    assert np.isfinite(out["tokens_per_s_b_eval"].iloc[1])


def test_per_chip_efficiency_in_equivalence() -> None:
    slow = equivalence_row(a_compute_efficiency=0.6, b_compute_efficiency=0.3)
    out = rust_core.cluster_equivalence(pd.DataFrame([equivalence_row(), slow]))
    assert out["throughput_ratio_b_eval_vs_a"].iloc[1] < 0.75
    assert out["chips_b_needed"].iloc[1] > 64


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"b_memory_bw_gbps": -1.0}, "b_memory_bw_gbps"),
        ({"a_scale_out_gbps": 0.0}, "a_scale_out_gbps"),
        ({"chips_a": 0}, "chips_a"),
        ({"b_peak_tflops": 1e300}, "b_peak_tflops"),
    ],
)
def test_equivalence_errors_name_the_input_column(overrides: dict, field: str) -> None:
    frame = pd.DataFrame([equivalence_row(), equivalence_row(**overrides)])
    with pytest.raises(ValueError, match=rf"row 1: field '{field}'"):
        rust_core.cluster_equivalence(frame)


def test_first_bad_row_is_named() -> None:
    rows = [a100_row(chips=64, params_b=7.0, active_params_b=7.0, layers=32, hidden=4096, heads=32)]
    rows = rows * 200
    rows[150] = {**rows[0], "memory_gb": -1.0}
    rows[7] = {**rows[0], "vocab": 0}
    rows[120] = {**rows[0], "pue": 0.5}
    with pytest.raises(ValueError, match=r"row 7: field 'vocab'"):
        rust_core.train_scenarios(pd.DataFrame(rows))


def test_absurd_magnitudes_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"row 0: field 'peak_tflops'.*<= 1e18"):
        rust_core.train_scenarios(pd.DataFrame([a100_row(peak_tflops=1e290)]))


def test_band_columns_are_named_with_their_suffix() -> None:
    row = {**a100_row(chips=64), "mc_samples": 10, "mc_seed": 1}
    row |= {"scale_up_efficiency_low": 0.9, "scale_up_efficiency_high": 0.5}
    with pytest.raises(ValueError, match=r"field 'scale_up_efficiency_low'"):
        rust_core.train_uncertainty(pd.DataFrame([row]))
    row |= {"scale_up_efficiency_low": 0.5, "scale_up_efficiency_high": 1.5}
    with pytest.raises(ValueError, match=r"field 'scale_up_efficiency_high'"):
        rust_core.train_uncertainty(pd.DataFrame([row]))


def test_uncertainty_in_chunks_names_the_global_row() -> None:
    """train_uncertainty runs in interruptible chunks of 64 rows; the row named stays global."""
    small = a100_row(chips=8, params_b=1.3, active_params_b=1.3, layers=24, hidden=2048, heads=16)
    rows = [{**small, "mc_samples": 5, "mc_seed": 1}] * 150
    rows[130] = {**rows[0], "scale_out_efficiency_low": 2.0}
    with pytest.raises(ValueError, match=r"row 130: field 'scale_out_efficiency_low'"):
        rust_core.train_uncertainty(pd.DataFrame(rows))


def test_chip_metrics_accepts_table_and_dict_and_rejects_duplicates() -> None:
    frame = pd.DataFrame(
        {
            "peak_tflops": [989.0],
            "memory_bw_gbps": [3350.0],
            "interconnect_gbps": [900.0],
            "tdp_w": [700.0],
            "price_usd": [np.nan],
        }
    )
    base = rust_core.chip_metrics(frame)
    table = rust_core.chip_metrics(pa.Table.from_pandas(frame))
    as_dict = rust_core.chip_metrics({k: frame[k].to_numpy() for k in frame.columns})
    pd.testing.assert_frame_equal(base, table)
    pd.testing.assert_frame_equal(base, as_dict)
    doubled = pd.concat([frame, frame[["tdp_w"]]], axis=1)
    with pytest.raises(ValueError, match="column 'tdp_w' appears more than once"):
        rust_core.chip_metrics(doubled)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sc=training_scenario(),
    family=st.sampled_from(sorted(rust_core.calibration()["compute_efficiency_by_family"])),
    seed=st.integers(0, 2**32),
)
def test_default_band_contains_the_nominal_mfu(sc: dict, family: str, seed: int) -> None:
    """Bands centred on the fitted constants: p5 <= nominal <= p95 at the calibrated constants
    (each family's compute efficiency) on any chip, model and cluster."""
    cal = rust_core.calibration()
    row = {**sc, **cal["constants"], "mc_samples": 200, "mc_seed": seed}
    row["compute_efficiency"] = cal["compute_efficiency_by_family"][family]
    nominal = rust_core.train_scenarios(pd.DataFrame([row])).iloc[0]
    band = rust_core.train_uncertainty(pd.DataFrame([row])).iloc[0]
    if not nominal["feasible"]:
        assert math.isnan(band["mfu_p50"])
        return
    assert band["mfu_p5"] <= nominal["mfu"] * (1 + 1e-12)
    assert nominal["mfu"] <= band["mfu_p95"] * (1 + 1e-12)
