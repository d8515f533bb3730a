"""The derived performance tables: scenario building, stated assumptions, and the asset run."""

from __future__ import annotations

import math

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from assets.derived import performance as performance_model
from assets.derived import scenario_inputs


def specs(**overrides) -> pd.DataFrame:
    """Resolved chip specs: an H100-like chip with a stated scale-out, a 910B-like one without."""
    rows = [
        {
            "chip_id": "nvidia-h100-sxm", "bf16_dense_tflops": 989.0, "fp8_dense_tflops": 1979.0,
            "memory_gb": 80.0, "memory_bw_gbps": 3350.0, "scale_up_gbps": 900.0,
            "scale_up_domain_chips": 8, "scale_out_gbps": 50.0, "tdp_w": 700.0, "value_sources": "{}",
        },
        {
            "chip_id": "huawei-ascend-910b", "bf16_dense_tflops": 280.0, "fp8_dense_tflops": np.nan,
            "memory_gb": 64.0, "memory_bw_gbps": 1200.0, "scale_up_gbps": 600.0,
            "scale_up_domain_chips": pd.NA, "scale_out_gbps": np.nan, "tdp_w": 310.0, "value_sources": "{}",
        },
        {
            "chip_id": "no-bandwidth", "bf16_dense_tflops": 100.0, "fp8_dense_tflops": np.nan,
            "memory_gb": 32.0, "memory_bw_gbps": np.nan, "scale_up_gbps": 100.0,
            "scale_up_domain_chips": 8, "scale_out_gbps": np.nan, "tdp_w": 200.0, "value_sources": "{}",
        },
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    for key, value in overrides.items():
        frame[key] = value
    return frame


POWER = pd.DataFrame(
    [
        {"obs_id": "PW03", "metric": "server_w_per_gpu", "chip_id": "nvidia-h100-sxm", "value": 1275.0, "value_high": np.nan},
        {"obs_id": "PW07", "metric": "server_w_per_gpu", "chip_id": "nvidia-h100-sxm", "value": 775.0, "value_high": np.nan},
        {"obs_id": "PW11", "metric": "pue", "chip_id": None, "value": 1.3, "value_high": np.nan},
        {"obs_id": "PW15", "metric": "pue", "chip_id": None, "value": 1.58, "value_high": np.nan},
    ]
)  # fmt: skip
RENT = pd.DataFrame(
    [
        {"rental_id": "RT05", "chip_id": "nvidia-h100-sxm", "usd_per_gpu_hour": 2.0, "usd_per_gpu_hour_high": np.nan, "kind": "measured", "confidence": "medium"},
        {"rental_id": "RT10", "chip_id": "nvidia-h100-sxm", "usd_per_gpu_hour": 1.65, "usd_per_gpu_hour_high": np.nan, "kind": "measured", "confidence": "medium"},
        {"rental_id": "RT11", "chip_id": "nvidia-h100-sxm", "usd_per_gpu_hour": 6.88, "usd_per_gpu_hour_high": np.nan, "kind": "measured", "confidence": "high"},
        {"rental_id": "RT16", "chip_id": "nvidia-h100-sxm", "usd_per_gpu_hour": 9.5, "usd_per_gpu_hour_high": np.nan, "kind": "measured", "confidence": "low"},
        {"rental_id": "RT14", "chip_id": "huawei-ascend-910b", "usd_per_gpu_hour": 1.1, "usd_per_gpu_hour_high": np.nan, "kind": "claim", "confidence": "medium"},
    ]
)  # fmt: skip


def test_chip_table_states_every_assumption_and_skips_incomplete_chips() -> None:
    chips, skipped = scenario_inputs.chip_table(specs(), POWER, RENT)
    assert skipped == ["no-bandwidth (no memory_bw_gbps)"]
    h100 = chips[chips["chip_id"] == "nvidia-h100-sxm"].set_index("precision")
    assert list(h100.index) == ["bf16", "fp8"]
    assert not h100.at["bf16", "assumed_scale_out"] and h100.at["bf16", "scale_out_gbps"] == 50.0
    assert (h100.at["bf16", "power_w_low"], h100.at["bf16", "power_w_high"]) == (775.0, 1275.0)
    # median of 1.65, 2.0, 6.88; the low-confidence 9.5 is only checked against 1.65-6.88
    assert h100.at["bf16", "price_usd_per_chip_hour"] == 2.0
    assert h100.at["bf16", "price_basis"] == (
        "median of rentals (RT05,RT10,RT11); not used: RT16 (measured, low confidence) "
        "9.5 USD/chip-hour: outside the supportable 1.65-6.88 USD/chip-hour"
    )
    ascend = chips[chips["chip_id"] == "huawei-ascend-910b"].iloc[0]
    assert ascend["precision"] == "bf16" and ascend["assumed_scale_out"]
    assert ascend["scale_out_gbps"] == scenario_inputs.FALLBACK_SCALE_OUT_GBPS
    assert "scale_up_domain_chips assumed 8" in ascend["assumptions"]
    assert "scale_out_gbps assumed" in ascend["assumptions"]
    ratio_lo, ratio_hi = 775.0 / 700.0, 1275.0 / 700.0
    assert math.isclose(ascend["power_w_low"], 310 * ratio_lo) and math.isclose(
        ascend["power_w_high"], 310 * ratio_hi
    )
    assert "assumed: TDP x H100" in ascend["assumptions"]
    assert math.isnan(ascend["price_usd_per_chip_hour"])
    assert ascend["price_basis"] == (
        "no rental price of medium or high confidence; not used: RT14 (claim, medium "
        "confidence) 1.1 USD/chip-hour: no supportable price to compare"
    )


def test_training_table_covers_the_grid_and_masks_unknown_price() -> None:
    chips, _ = scenario_inputs.chip_table(specs(), POWER, RENT)
    out = performance_model.compute_training(chips)
    assert len(out) == len(chips) * len(scenario_inputs.CLUSTER_SIZES) * 4
    assert out["scenario_id"].is_unique
    assert set(out["model_id"]) == {"llama2-7b", "llama2-70b", "llama3-405b", "deepseek-v3-671b"}
    ok = out[out["feasible"]]
    assert ((ok["mfu_pct"] > 0) & (ok["mfu_pct"] <= 100)).all()
    assert (ok["mfu_pct_p5"] <= ok["mfu_pct_p95"]).all()
    ascend = out[out["chip_id"] == "huawei-ascend-910b"]
    assert ascend["cost_usd"].isna().all() and ascend["energy_mwh"].notna().any()
    h100 = ok[ok["chip_id"] == "nvidia-h100-sxm"]
    assert np.allclose(h100["cost_usd"], h100["chip_hours"] * 2.0)
    # the practitioner layout beside the searched best: never above it, its rule in words
    has = ok[ok["practitioner_mfu_pct"].notna()]
    assert len(has) > 0.8 * len(ok)
    assert np.allclose(
        has["mfu_pct"] - has["practitioner_mfu_pct"], has["mfu_gap_vs_practitioner_pts"]
    )
    assert (has["mfu_gap_vs_practitioner_pts"] >= -1e-9).all()
    assert all(
        rule.startswith(family)
        for rule, family in zip(has["practitioner_rule"], has["practitioner_family"], strict=True)
    )
    big = out[out["model_id"] == "llama3-405b"]
    assert (big["practitioner_family"] == "megatron").all()
    assert (
        out.loc[out["model_id"] == "deepseek-v3-671b", "practitioner_family"] == "megatron-moe"
    ).all()


def test_power_table_by_hand() -> None:
    chips, _ = scenario_inputs.chip_table(specs(), POWER, RENT)
    out = performance_model.compute_power(chips).set_index("scenario_id")
    row = out.loc["power-nvidia-h100-sxm-n50000"]
    assert math.isclose(row["facility_mw"], 50_000 * 1025.0 * 1.44 / 1e6)
    assert (
        50_000 * 775 * 1.3 / 1e6
        <= row["facility_mw_p5"]
        <= row["facility_mw_p95"]
        <= 50_000 * 1275 * 1.58 / 1e6
    )


def test_inference_table_regimes_and_speculative_sweep() -> None:
    chips, _ = scenario_inputs.chip_table(specs(), POWER, RENT)
    out = performance_model.compute_inference(chips).set_index("scenario_id")
    assert out.index.is_unique
    assert set(out.index.str.split("-").str[1]) == {"nvidia"}  # only the priced chip
    assert out.loc["inf-nvidia-h100-sxm-deepseek-llm-7b-w16-b1", "cost_ratio_vs_dense_7b"] == 1.0
    # one request: the MoE reads only its active experts, the dense 67B reads everything
    moe = out.loc["inf-nvidia-h100-sxm-moe-67b-deepseek-v2-ratio-w16-b1"]
    dense = out.loc["inf-nvidia-h100-sxm-deepseek-llm-67b-w16-b1"]
    assert moe["cost_usd_per_mtok_output"] < dense["cost_usd_per_mtok_output"] / 3
    speedups = [
        out.loc[f"spec-nvidia-h100-sxm-llama2-70b-draft-llama2-7b-g4-a{a:.1f}-b1", "spec_speedup"]
        for a in scenario_inputs.SPEC_ACCEPTANCE
    ]
    assert speedups == sorted(speedups) and speedups[-1] > 2.0
    ok = out[out["cost_usd_per_mtok_output"].notna()]
    assert (ok["cost_usd_per_mtok_output_p5"] <= ok["cost_usd_per_mtok_output_p95"]).all()


def test_equivalence_table_solves_and_bands() -> None:
    chips, _ = scenario_inputs.chip_table(specs(), POWER, RENT)
    out = performance_model.compute_equivalence(chips).set_index("scenario_id")
    row = out.loc["eq-nvidia-h100-sxm-x4000-vs-huawei-ascend-910b-n10000-llama2-70b"]
    assert row["chips_b_eval"] == 10_000 and row["chips_a"] == 4000
    assert row["tokens_per_s_b_needed"] >= row["tokens_per_s_a"]
    assert row["chips_b_needed"] > 4000
    assert row["throughput_ratio_p5"] <= row["throughput_ratio_p50"] <= row["throughput_ratio_p95"]
    assert (
        row["assumptions"].startswith("B: ") and "scale_out_gbps assumed 25.0" in row["assumptions"]
    )
    assert row["batch_basis"] == scenario_inputs.EQUAL_BATCH
    # equal chip counts, and each side at the batch its own cluster grows to
    same = out.loc["eq-nvidia-h100-sxm-x4000-vs-huawei-ascend-910b-n4000-llama2-70b"]
    assert same["chips_b_eval"] == same["chips_a"] == 4000
    grown = out.loc["eq-nvidia-h100-sxm-x4000-vs-huawei-ascend-910b-n10000-llama2-70b-grown"]
    assert grown["batch_basis"] == scenario_inputs.GROWN_BATCH
    assert grown["global_batch_tokens_a"] == row["global_batch_tokens_a"]
    assert grown["tokens_per_s_b_needed"] >= grown["tokens_per_s_a"]
    assert math.isclose(grown["tokens_per_s_a"], row["tokens_per_s_a"], rel_tol=1e-12)
    # practitioner layouts of both sides, by the same model as mfu_a / mfu_b_eval
    for side, mfu in (("a_", "mfu_a_pct"), ("b_eval_", "mfu_b_eval_pct")):
        ok = out[out[f"{side}practitioner_mfu_pct"].notna()]
        assert len(ok) > 0
        gap = ok[mfu] - ok[f"{side}practitioner_mfu_pct"]
        assert np.allclose(gap, ok[f"{side}mfu_gap_vs_practitioner_pts"], atol=1e-9)
        assert (gap >= -1e-9).all()


def test_training_batch_grows_with_the_cluster() -> None:
    chips, _ = scenario_inputs.chip_table(specs(), POWER, RENT)
    grid = scenario_inputs.training_grid(chips)
    llama = grid[(grid["model_id"] == "llama2-70b") & (grid["chip_id"] == "nvidia-h100-sxm")]
    batches = llama.sort_values("chips")["global_batch_tokens"].to_numpy()
    assert (np.diff(batches) >= 0).all() and batches[-1] > batches[0]
    assert (llama["global_batch_tokens"] >= llama["published_batch_tokens"]).all()
    assert (llama["global_batch_tokens"] % llama["seq_len"] == 0).all()


@pytest.mark.slow
def test_assets_materialize_from_shipped_sources(pipeline_run, warehouse_copy, instance) -> None:
    keys = ["training_scenarios", "inference_costs", "cluster_equivalence", "datacenter_power"]
    assert pipeline_run.results["derived_job"].success
    derived = pipeline_run.warehouse / "derived"
    for key in keys:
        table = pq.read_table(derived / f"{key}.parquet")
        assert table.num_rows > 0
        assert table.schema.field("scenario_id").metadata[b"description"]
    eq = pd.read_parquet(derived / "cluster_equivalence.parquet").set_index("scenario_id")
    assert "eq-nvidia-h100-sxm-x4000-vs-huawei-ascend-910b-n10000-llama2-70b" in eq.index
    power = pd.read_parquet(derived / "datacenter_power.parquet").set_index("scenario_id")
    assert 40 < power.at["power-nvidia-h100-sxm-n50000", "facility_mw"] < 120
    from pipelines.definitions import defs

    def what_if(config: dict):
        return defs.resolve_job_def("what_if").execute_in_process(
            instance=instance, run_config={"ops": {"what_if_runs": {"config": config}}}
        )

    custom = {"chip_id": "custom", "chips": 64, "model_id": "llama2-7b", "peak_tflops": 500.0, "memory_gb": 96.0, "memory_bw_gbps": 3000.0, "scale_up_gbps": 400.0, "scale_up_domain_chips": 8, "scale_out_gbps": 50.0, "price_usd_per_chip_hour": 2.5}  # fmt: skip
    run = what_if(custom)
    assert run.success
    first = pd.read_parquet(warehouse_copy / "derived" / "what_if_runs.parquet")
    assert len(first) == 1
    row = first.iloc[0]
    assert row["scenario_id"].startswith("what-if-custom-bf16-llama2-7b-n64-")
    assert row["feasible"] and math.isclose(row["cost_usd"], row["chip_hours"] * 2.5)
    assert row["price_kind"] == "user-set"
    meta = run.asset_materializations_for_node("what_if_runs")[0].metadata
    assert meta["best_layout"].value.startswith("tp=")

    # An alias, a chip without a rental price, and the knobs: appended beside the first run.
    assert what_if({"chip_id": "Ascend 910B", "chips": 1024, "model_id": "Llama 2 70B", "global_batch_tokens": 8388608, "training_tokens": 1.0e12}).success  # fmt: skip
    runs = pd.read_parquet(warehouse_copy / "derived" / "what_if_runs.parquet")
    assert len(runs) == 2
    pd.testing.assert_frame_equal(runs.iloc[[0]], first)
    ascend = runs.iloc[1]
    assert ascend["chip_id"] == "huawei-ascend-910b" and ascend["chip_requested"] == "Ascend 910B"
    assert ascend["global_batch_tokens"] == 8388608 and ascend["training_tokens"] == 1.0e12
    assert ascend["price_kind"] == "ownership estimate"
    assert ascend["price_basis"].startswith("ESTIMATE")
    assert "life_years: user-set assumption" in ascend["price_basis"]
    hourly = (
        ascend["capital_usd_per_chip_hour"]
        + ascend["energy_usd_per_chip_hour"]
        + ascend["hosting_usd_per_chip_hour"]
    )
    assert math.isclose(ascend["price_usd_per_chip_hour"], hourly)
    assert math.isclose(ascend["cost_usd"], ascend["chip_hours"] * hourly, rel_tol=1e-9)
    assert math.isclose(
        ascend["capital_usd_per_chip_hour"],
        ascend["chip_price_usd"] / (ascend["life_years"] * 8760),
    )
    assert isinstance(dg.MetadataValue.float(1.0), dg.FloatMetadataValue)


@pytest.mark.slow
def test_constant_model_calibration_is_text_metadata_not_a_plotted_number(pipeline_run):
    meta = (
        pipeline_run.results["derived_job"]
        .asset_materializations_for_node("training_scenarios")[0]
        .metadata
    )
    value = meta["calibration_mae_mfu_pp"]
    assert isinstance(value, dg.TextMetadataValue)
    import rust_core

    assert value.value == f"{rust_core.calibration()['mae_mfu_pp']:.2f} pp"


def test_the_chip_table_is_built_once_per_content_and_handed_out_as_copies(monkeypatch):
    from assets.derived import perf_assets

    built = []
    real = scenario_inputs.chip_table

    def counted(*tables):
        built.append(1)
        return real(*tables)

    monkeypatch.setattr(scenario_inputs, "chip_table", counted)
    perf_assets._LAST_CHIPS.clear()
    first, skipped = perf_assets._chips(specs(), POWER, RENT)
    expected, expected_skipped = real(specs(), POWER, RENT)
    pd.testing.assert_frame_equal(first, expected)
    assert skipped == "; ".join(expected_skipped)
    first.loc[:, "price_usd_per_chip_hour"] = -1.0  # a caller's change stays its own
    again, _ = perf_assets._chips(specs(), POWER.copy(), RENT.copy())  # equal content
    assert len(built) == 1
    pd.testing.assert_frame_equal(again, expected)
    changed, _ = perf_assets._chips(specs(tdp_w=800.0), POWER, RENT)
    assert len(built) == 2
    assert not changed.equals(expected)
