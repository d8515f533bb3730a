"""Verdicts from the rust_core scenario tables, on hand-made rows with known answers."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.report.scenario_claims import (
    check_equivalence,
    check_mfu,
    check_mfu_gap,
    check_moe_cost_ratio,
    check_spec_speedup,
    check_training_cost,
    check_training_cost_change,
)


def train(chip, mfu, p5, p95, chips=1024, params=70.0, precision="bf16", cost=2e6, **kw):
    return {
        "scenario_id": f"train-{chip}-{precision}-n{chips}",
        "chip_id": chip,
        "precision": precision,
        "model_id": "m70",
        "chips": chips,
        "params_b": params,
        "active_params_b": kw.get("active", params),
        "feasible": kw.get("feasible", True),
        "mfu_pct": mfu,
        "mfu_pct_p5": p5,
        "mfu_pct_p95": p95,
        "cost_usd": cost,
        "cost_usd_p5": cost * 0.6,
        "cost_usd_p95": cost * 2,
        "training_tokens": 2e12,
        "days_to_train": 30.0,
        "price_usd_per_chip_hour": 2.5,
        "price_basis": "RT1",
    }


TRAIN = pd.DataFrame(
    [
        train("a", 35.0, 38.0, 44.0),
        train("b", 47.0, 48.0, 52.0),
        train("a", 20.0, 21.0, 22.0, precision="fp8"),
        train("b", 60.0, 60.0, 61.0, chips=64),
        train("c", 10.0, 9.0, 11.0, feasible=False),
    ]
)


def test_mfu_band_widened_by_the_tolerance_decides():
    # band 35-44 %: with 2 pp tolerance it reaches 46 %, so 45-55 % overlaps
    assert check_mfu("a", 45, 55, TRAIN, 70, 1024, 2.0, runs_of=three_runs).verdict == "consistent"
    # with no tolerance it does not
    f = check_mfu("a", 45, 55, TRAIN, 70, 1024, 0.0, runs_of=three_runs)
    assert f.verdict == "contradicted"
    assert (f.pipeline_value, f.pipeline_value_low, f.pipeline_value_high) == (35, 35, 44)
    assert f.evidence == "training_scenarios: train-a-bf16-n1024"


def test_mfu_without_a_feasible_scenario_is_open():
    assert check_mfu("c", 15, 20, TRAIN, 70, 1024, 2.0).verdict == "open"
    assert check_mfu("a", 45, 55, TRAIN, 405, 1024, 2.0).verdict == "open"


def three_runs(chip: str) -> int:
    """Every test chip's efficiency fitted on three published runs."""
    return 3


def test_a_chip_fitted_on_one_run_leaves_the_claim_open_with_the_model_figure():
    def one_run(chip):
        return 1 if chip == "b" else 3

    gap = check_mfu_gap("b", "a", 30, 40, TRAIN, 70, 1024, runs_of=one_run)
    assert gap.verdict == "open"
    assert gap.pipeline_value == pytest.approx(100 * (1 - 47 / 35))
    assert "b (1 run)" in gap.reason
    mfu = check_mfu("b", 10, 20, TRAIN, 70, 1024, 0.0, runs_of=one_run)
    assert mfu.verdict == "open" and mfu.pipeline_value == 47
    assert check_mfu("a", 10, 20, TRAIN, 70, 1024, 0.0, runs_of=one_run).verdict == "contradicted"


def test_efficiency_runs_reads_the_embedded_calibration():
    import rust_core
    from assets.report.scenario_claims import efficiency_runs

    basis = rust_core.calibration()["compute_efficiency_basis"]
    a100 = basis[rust_core.efficiency_family("nvidia-a100-sxm-80gb", "bf16")]
    assert efficiency_runs("nvidia-a100-sxm-80gb") == a100.count(",") + 1 >= 2
    assert efficiency_runs("huawei-ascend-910b") == 1


def test_mfu_gap_by_hand():
    f = check_mfu_gap("b", "a", 30, 40, TRAIN, 70, 1024, runs_of=three_runs)
    # bands including the central values: a 35-44 %, b 47-52 %
    # 1 - 47/35 = -34.3 %; range 1 - 52/35 = -48.6 % to 1 - 47/44 = -6.8 %
    assert f.pipeline_value == pytest.approx(100 * (1 - 47 / 35))
    assert f.pipeline_value_low == pytest.approx(100 * (1 - 52 / 35))
    assert f.pipeline_value_high == pytest.approx(100 * (1 - 47 / 44))
    assert f.verdict == "contradicted"
    assert "higher" in f.reason
    assert (
        check_mfu_gap("a", "b", 20, 30, TRAIN, 70, 1024, runs_of=three_runs).verdict == "consistent"
    )


EQUIV = pd.DataFrame(
    [
        {
            "scenario_id": "eq-a-x4000-vs-b",
            "chip_a": "a",
            "chip_b": "b",
            "model_id": "m70",
            "chips_a": 4000,
            "chips_b_eval": 10000,
            "chips_b_needed": 36000,
            "chips_b_needed_p5": 32000.0,
            "chips_b_needed_p95": 64000.0,
            "throughput_ratio_b_eval_vs_a": 0.7,
            "throughput_ratio_p5": 0.6,
            "throughput_ratio_p95": 0.68,
        }
    ]
)


def test_equivalence_lower_bound():
    f = check_equivalence("b", "a", 2.5, EQUIV, three_runs)
    assert f.verdict == "consistent"
    assert (f.pipeline_value, f.pipeline_value_low, f.pipeline_value_high) == (9, 8, 16)
    # a claimed bound above the whole band is contradicted, one inside it is open
    above = EQUIV.assign(chips_b_eval=80000)
    assert check_equivalence("b", "a", 20, above, three_runs).verdict == "contradicted"
    inside = EQUIV.assign(chips_b_eval=40000)
    assert check_equivalence("b", "a", 10, inside, three_runs).verdict == "open"
    assert check_equivalence("b", "a", 3, EQUIV, three_runs).verdict == "open"  # no 3:1 scenario


def test_equivalence_on_a_chip_fitted_on_one_run_stays_open_with_its_figures():
    above = EQUIV.assign(chips_b_eval=80000)
    f = check_equivalence("b", "a", 20, above, lambda chip: 1 if chip == "b" else 3)
    assert f.verdict == "open"
    assert f.pipeline_value == 9  # the model's figure is kept
    assert "rests on fewer than 2 published runs for b (1 run)" in f.reason


def test_equivalence_states_equal_chips_and_grown_batch():
    base = EQUIV.assign(batch_basis="equal batch")
    same = base.assign(scenario_id="eq-a-x4000-vs-b-n4000", chips_b_eval=4000)
    same = same.assign(throughput_ratio_b_eval_vs_a=0.4)
    grown = base.assign(
        scenario_id="eq-a-x4000-vs-b-grown", batch_basis="grown batch", chips_b_needed=12000
    )
    f = check_equivalence(
        "b", "a", 2.5, pd.concat([grown, base, same], ignore_index=True), three_runs
    )
    assert f.pipeline_value == 9  # the equal-batch solve decides the verdict
    assert "at equal chip counts 4,000 b deliver 0.4x" in f.reason
    assert "own grown batch it takes 12,000 (3 per a)" in f.reason


def inf(sid, params, experts, ratio, draft="", batch=1, speedup=1.0, acceptance=None):
    return {
        "scenario_id": sid,
        "model_id": sid,
        "params_b": params,
        "experts": experts,
        "cost_ratio_vs_dense_7b": ratio,
        "draft_model_id": draft,
        "max_batch": batch,
        "spec_speedup": speedup,
        "acceptance_rate": acceptance,
    }


INF = pd.DataFrame(
    [
        inf("moe-1", 67, 64, 0.9),
        inf("moe-2", 67, 64, 1.6),
        inf("dense-67", 67, 1, 5.0),
        inf("dense-7", 7, 1, 1.0),
        inf("spec-a0.5", 70, 1, None, draft="d", speedup=1.4, acceptance=0.5),
        inf("spec-a0.9", 70, 1, None, draft="d", speedup=2.9, acceptance=0.9),
        inf("spec-a0.9-b256", 70, 1, None, draft="d", batch=256, speedup=0.9, acceptance=0.9),
    ]
)


def test_moe_cost_is_comparable_within_a_factor_of_two():
    f = check_moe_cost_ratio(1.0, 67, INF)
    assert f.verdict == "consistent"
    assert (f.pipeline_value_low, f.pipeline_value_high) == (0.9, 1.6)
    assert "dense 67B costs 5x" in f.reason
    assert check_moe_cost_ratio(0.2, 67, INF).verdict == "contradicted"


def test_speculative_speedup_uses_batch_one():
    f = check_spec_speedup(2, 3, INF)
    assert f.verdict == "consistent"
    assert (f.pipeline_value_low, f.pipeline_value_high) == (1.4, 2.9)
    assert "needs acceptance 0.9" in f.reason and "0.9-0.9x" in f.reason
    assert check_spec_speedup(4, 5, INF).verdict == "contradicted"


def test_training_cost_inside_band():
    assert check_training_cost(2.5e6, "a", 70, 1024, TRAIN).verdict == "consistent"
    assert check_training_cost(5e6, "a", 70, 1024, TRAIN).verdict == "contradicted"


def test_training_cost_change_follows_rental_prices_by_hand():
    rent = pd.DataFrame(
        [
            {
                "rental_id": "R1",
                "chip_id": "a",
                "date": pd.Timestamp("2024-01-01"),
                "usd_per_gpu_hour": 3.0,
                "region": "CN",
                "source_url": "u1",
            },
            {
                "rental_id": "R2",
                "chip_id": "a",
                "date": pd.Timestamp("2025-02-01"),
                "usd_per_gpu_hour": 2.0,
                "region": "CN",
                "source_url": "u2",
            },
            {
                "rental_id": "R3",
                "chip_id": "a",
                "date": pd.Timestamp("2025-06-01"),
                "usd_per_gpu_hour": 9.0,
                "region": "CN",
                "source_url": "u3",
            },
        ]
    )
    start, end = pd.Timestamp("2024-03-31"), pd.Timestamp("2025-03-31")
    f = check_training_cost_change(80, start, end, "a", rent)
    # 3.00 -> 2.00 USD/GPU-hour = -33.3 %; the June 2025 price is after the period
    assert f.pipeline_value == pytest.approx(-100 / 3)
    assert f.verdict == "contradicted"
    assert "R3" not in f.evidence
    assert check_training_cost_change(-30, start, end, "a", rent).verdict == "consistent"
