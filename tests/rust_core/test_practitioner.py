"""The practitioner layout beside the searched best: same rule as the plain-Python reference, same
model, never above the searched best."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import HealthCheck, given, settings

import rust_core
from tests.rust_core import reference_model
from tests.rust_core.strategies import training_scenario
from tests.rust_core.test_training import a100_row, close

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LAYOUT = ("tp", "pp", "dp", "ep", "micro_batch", "zero_stage", "recompute", "vpp", "cp")


@SETTINGS
@given(sc=training_scenario())
def test_practitioner_layout_matches_reference_and_never_beats_search(sc: dict) -> None:
    out = rust_core.train_scenarios(pd.DataFrame([sc])).iloc[0]
    family, expect = reference_model.practitioner(sc)
    assert out["practitioner_family"] == family
    if expect is None:
        assert math.isnan(out["practitioner_mfu"]) and pd.isna(out["practitioner_tp"])
        assert math.isnan(out["mfu_gap_pts"])
        return
    layout = tuple(int(out[f"practitioner_{k}"]) for k in LAYOUT)
    assert layout == tuple(vars(expect["layout"]).values())
    assert close(out["practitioner_mfu"], expect["mfu"])
    assert close(out["practitioner_memory_per_chip_gb"], expect["memory_per_chip_gb"])
    # the practitioner layout is one the search tries, so it fits whenever it does, never above
    assert bool(out["feasible"])
    assert out["practitioner_mfu"] <= out["mfu"] * (1 + 1e-12)
    assert out["mfu_gap_pts"] >= -1e-10


def test_practitioner_families_by_scale() -> None:
    rows = pd.DataFrame(
        [
            a100_row(),  # 175B: Megatron, TP 8 in the node
            a100_row(
                params_b=1.3, active_params_b=1.3, layers=24, hidden=2048, heads=16, chips=64
            ),  # 1.3B: FSDP over all 64 chips
            a100_row(params_b=160.0, active_params_b=20.0, experts=64, top_k=6),  # MoE: EP
        ]
    )
    out = rust_core.train_scenarios(rows)
    assert list(out["practitioner_family"]) == ["megatron", "fsdp", "megatron-moe"]
    assert out["practitioner_tp"].iloc[0] == 8 and out["practitioner_zero_stage"].iloc[0] == 1
    assert out["practitioner_dp"].iloc[1] == 64 and out["practitioner_zero_stage"].iloc[1] == 3
    assert out["practitioner_ep"].iloc[2] > 1
    assert (out["mfu_gap_pts"] >= 0).all()
