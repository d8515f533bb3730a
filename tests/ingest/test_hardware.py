"""Spec resolution: default row first, then the best-supported source; claims never count."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from assets.ingest.hardware import claims_vs_default, one_default_per_chip, resolve_specs


def rows(*records):
    base = {
        c: np.nan
        for c in (
            "bf16_dense_tflops",
            "bf16_sparse_tflops",
            "fp8_dense_tflops",
            "fp8_sparse_tflops",
            "int8_dense_tops",
            "memory_gb",
            "memory_bw_gbps",
            "scale_up_gbps",
            "scale_out_gbps",
            "tdp_w",
            "list_price_usd",
        )
    }
    base.update(
        {
            "vendor": "V",
            "model": "M",
            "launch_year": pd.NA,
            "scale_up_domain_chips": pd.NA,
            "memory_type": None,
            "export_control": None,
            "confidence": None,
            "published": "n.d.",
            "source_line": 2,
        }
    )
    frame = pd.DataFrame([{**base, **r} for r in records])
    return frame.astype({"launch_year": "Int64", "scale_up_domain_chips": "Int64"})


def test_default_wins_then_rank_then_agreement():
    table = rows(
        {
            "spec_id": "a-1",
            "chip_id": "a",
            "kind": "spec",
            "is_default": True,
            "bf16_dense_tflops": 280.0,
        },
        {
            "spec_id": "a-2",
            "chip_id": "a",
            "kind": "estimate",
            "is_default": False,
            "bf16_dense_tflops": 320.0,
            "memory_bw_gbps": 400.0,
            "confidence": "low",
        },
        {
            "spec_id": "a-3",
            "chip_id": "a",
            "kind": "estimate",
            "is_default": False,
            "memory_bw_gbps": 1200.0,
            "confidence": "low",
        },
        {
            "spec_id": "a-4",
            "chip_id": "a",
            "kind": "estimate",
            "is_default": False,
            "memory_bw_gbps": 1200.0,
            "confidence": "low",
        },
        {
            "spec_id": "a-5",
            "chip_id": "a",
            "kind": "measured",
            "is_default": False,
            "tdp_w": 350.0,
            "confidence": "low",
        },
        {
            "spec_id": "a-6",
            "chip_id": "a",
            "kind": "estimate",
            "is_default": False,
            "tdp_w": 310.0,
            "confidence": "high",
        },
        {
            "spec_id": "a-c",
            "chip_id": "a",
            "kind": "claim",
            "is_default": False,
            "fp8_sparse_tflops": 640.0,
            "memory_bw_gbps": 1200.0,
        },
        {"spec_id": "s-c", "chip_id": "s", "kind": "claim", "is_default": False, "tdp_w": 250.0},
    )
    out = resolve_specs(table).set_index("chip_id")
    assert list(out.index) == ["a"], "a chip with only claims has no resolved spec"
    a = out.loc["a"]
    assert a["bf16_dense_tflops"] == 280.0  # the default row, not the higher estimate
    assert a["memory_bw_gbps"] == 1200.0  # two estimates agree on 1200 against one 400
    assert a["tdp_w"] == 350.0  # a measurement outranks an estimate whatever its confidence
    assert np.isnan(a["fp8_sparse_tflops"])  # the claim's 640 is never used
    assert json.loads(a["value_sources"]) == {
        "bf16_dense_tflops": "a-1",
        "memory_bw_gbps": "a-3",
        "tdp_w": "a-5",
    }

    passed, text, meta = claims_vs_default(table)
    assert (
        not passed and "2 claimed value(s)" in text
    )  # 640 FP8 and 250 W: nothing sourced; 1200 GB/s agrees
    assert "no sourced value" in meta["differences"]


def test_default_rules_locate_the_lines():
    table = rows(
        {"spec_id": "a-1", "chip_id": "a", "kind": "spec", "is_default": True, "source_line": 2},
        {"spec_id": "a-2", "chip_id": "a", "kind": "spec", "is_default": True, "source_line": 3},
        {
            "spec_id": "b-1",
            "chip_id": "b",
            "kind": "estimate",
            "is_default": False,
            "source_line": 4,
        },
        {"spec_id": "c-1", "chip_id": "c", "kind": "claim", "is_default": True, "source_line": 5},
    )
    problems = {(p.line, p.reason.split(";")[0]) for p in one_default_per_chip(table, "hw.csv")}
    assert (5, "a claim row cannot be the default") in problems
    assert (3, "chip 'a' has 2 default rows (lines 2, 3)") in problems
    assert (4, "chip 'b' has sourced rows but none is marked is_default=true") in problems
