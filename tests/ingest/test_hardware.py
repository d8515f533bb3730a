"""Spec resolution: default row first, then the best-supported source; claims never count."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from assets.ingest.hardware import (
    chips_have_compute,
    claims_vs_default,
    one_default_per_chip,
    resolve_specs,
)


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
    # 640 FP8 (a has no sourced FP8) and 250 W (s has no sourced row at all); 1200 GB/s agrees.
    # Only s is something a user can fix, so the check fails naming it and what to add.
    assert not passed and "2 claimed value(s)" in text
    assert "chip(s) without a sourced row (s): add a hardware_specs.csv row" in text
    assert "no sourced value" in meta["differences"]
    assert "chip has no sourced row" in meta["differences"]

    without_orphan = table[table["chip_id"] != "s"]
    passed, text, meta = claims_vs_default(without_orphan)
    assert passed and text.startswith("1 claimed value(s)") and "claims_ledger" in text


def test_chips_without_a_bf16_peak_fail_only_when_nothing_explains_why():
    table = rows(
        {"spec_id": "a-1", "chip_id": "a", "kind": "spec", "is_default": True, "bf16_dense_tflops": 100.0, "note": ""},
        {"spec_id": "f-1", "chip_id": "f", "kind": "spec", "is_default": True, "fp8_dense_tflops": 1000.0, "note": ""},
        {"spec_id": "n-1", "chip_id": "n", "kind": "spec", "is_default": True, "memory_gb": 64.0, "note": "Compute NOT FOUND"},
        {"spec_id": "u-1", "chip_id": "u", "kind": "spec", "is_default": True, "memory_gb": 32.0, "note": None},
    )  # fmt: skip
    passed, text, meta = chips_have_compute(table)
    assert not passed
    assert text == (
        "3 chip(s) without a sourced bf16_dense_tflops (left out of BF16 metrics); u: add "
        "bf16_dense_tflops with its source to hardware_specs.csv, or say in the row's note that "
        "no source states it"
    )
    assert meta == {"chips": "f, n, u", "chips_with_only_fp8": "f"}
    passed, _, _ = chips_have_compute(table[table["chip_id"] != "u"])
    assert passed


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
