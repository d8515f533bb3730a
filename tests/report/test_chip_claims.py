"""Chip-spec verdicts on hand-made hardware_specs tables with known answers."""

from __future__ import annotations

import json

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from assets.report.chip_claims import check_chip_spec

COLUMNS = (
    "bf16_dense_tflops",
    "bf16_sparse_tflops",
    "fp8_dense_tflops",
    "fp8_sparse_tflops",
    "int8_dense_tops",
    "memory_bw_gbps",
    "scale_up_gbps",
    "tdp_w",
)


def spec(spec_id, chip_id, kind="spec", vendor="V", url=None, **values):
    row = {c: float("nan") for c in COLUMNS}
    row.update(values)
    return {
        "spec_id": spec_id,
        "chip_id": chip_id,
        "vendor": vendor,
        "kind": kind,
        "is_default": spec_id.endswith("-01"),
        "source_url": url or f"https://example.org/{spec_id}",
        **row,
    }


def specs(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def resolved(chip_id, column, value, spec_id) -> pd.DataFrame:
    return pd.DataFrame(
        [{"chip_id": chip_id, column: value, "value_sources": json.dumps({column: spec_id})}]
    )


H100 = specs(
    spec(
        "h100-01",
        "h100",
        fp8_dense_tflops=1979,
        fp8_sparse_tflops=3958,
        bf16_sparse_tflops=1979,
        memory_bw_gbps=3350,
    ),
    spec("h100-claim", "h100", kind="claim", fp8_sparse_tflops=1979),
)


def test_claim_within_five_percent_is_consistent():
    f = check_chip_spec("h100", "memory_bw_gbps", 3300, H100)
    assert f.verdict == "consistent"
    assert "h100-01" in f.evidence
    assert f.pipeline_value == 3350


def test_claim_outside_tolerance_is_contradicted_citing_the_source_and_the_mixup():
    chip_specs = resolved("h100", "fp8_sparse_tflops", 3958, "h100-01")
    f = check_chip_spec("h100", "fp8_sparse_tflops", 1979, H100, chip_specs)
    assert f.verdict == "contradicted"
    assert "h100-01 <https://example.org/h100-01>" in f.evidence
    assert f.pipeline_value == 3958
    # 1,979 is the dense FP8 and sparse BF16 figure: the reason names both columns
    assert "fp8_dense_tflops" in f.reason and "bf16_sparse_tflops" in f.reason


def test_article_rows_never_support_a_claim():
    # the only row stating 1,979 sparse FP8 is the article's own (kind=claim)
    f = check_chip_spec("h100", "fp8_sparse_tflops", 1979, H100)
    assert f.verdict == "contradicted"
    assert "h100-claim" not in f.evidence


def test_precision_no_source_states_is_contradicted_when_other_precisions_are_sourced():
    table = specs(
        spec("npu-01", "npu", bf16_dense_tflops=280, int8_dense_tops=512),
        spec("npu-02", "npu", bf16_dense_tflops=320),
        spec("npu-claim", "npu", kind="claim", fp8_sparse_tflops=640),
    )
    f = check_chip_spec("npu", "fp8_sparse_tflops", 640, table)
    assert f.verdict == "contradicted"
    assert "bf16_dense_tflops 280-320" in f.reason
    assert "npu-01" in f.evidence and "npu-claim" not in f.evidence


def test_missing_non_compute_value_is_open():
    table = specs(spec("npu-01", "npu", bf16_dense_tflops=280))
    f = check_chip_spec("npu", "scale_up_gbps", 300, table)
    assert f.verdict == "open"
    assert "no source states scale_up_gbps" in f.reason


def test_sources_that_disagree_leave_the_claim_open():
    table = specs(
        spec("npu-01", "npu", memory_bw_gbps=400),
        spec("npu-02", "npu", memory_bw_gbps=1200),
        spec("npu-03", "npu", memory_bw_gbps=768),
    )
    f = check_chip_spec("npu", "memory_bw_gbps", 1200, table)
    assert f.verdict == "open"
    assert (f.pipeline_value_low, f.pipeline_value_high) == (400, 1200)
    assert "npu-02" in f.reason and "400 by npu-01" in f.reason


def test_chip_without_sourced_rows_is_open_and_points_at_the_sibling_figure():
    table = specs(
        spec("x8-01", "mlu-x8", vendor="Cambricon", int8_dense_tops=256, tdp_w=250),
        spec("s4-claim", "mlu-s4", kind="claim", vendor="Cambricon", fp8_sparse_tflops=256),
    )
    f = check_chip_spec("mlu-s4", "fp8_sparse_tflops", 256, table, vendor="Cambricon")
    assert f.verdict == "open"
    assert "mlu-x8 int8_dense_tops = 256 (x8-01)" in f.reason
    # a compute claim is not matched against a power figure of the same number
    assert "tdp_w" not in f.reason


@given(
    sourced=st.floats(min_value=1, max_value=1e5, allow_nan=False),
    ratio=st.floats(min_value=0.5, max_value=2.0, allow_nan=False),
)
def test_single_source_verdict_is_the_five_percent_band(sourced, ratio):
    claimed = sourced * ratio
    table = specs(spec("c-01", "c", tdp_w=sourced))
    f = check_chip_spec("c", "tdp_w", claimed, table)
    inside = abs(claimed - sourced) <= 0.05 * sourced
    assert f.verdict == ("consistent" if inside else "contradicted")


def test_only_low_confidence_sources_cannot_contradict():
    weak = {**spec("npu-03", "npu", scale_up_gbps=600), "confidence": "low"}
    strong = {**spec("npu-04", "npu", scale_up_gbps=600), "confidence": "high"}
    f = check_chip_spec("npu", "scale_up_gbps", 300, specs(weak))
    assert f.verdict == "open" and "too weak to contradict" in f.reason
    assert (
        check_chip_spec("npu", "scale_up_gbps", 300, specs(weak, strong)).verdict == "contradicted"
    )
