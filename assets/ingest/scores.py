"""Capability scores per model (MMLU, GPQA) that place priced models on a capability scale."""

from __future__ import annotations

import pandas as pd

from assets.ingest.factory import Check, SourceSpec
from assets.ingest.schema import Column, Problem, SourceSchema

#: Benchmarks the constant-capability price index uses.
BENCHMARKS = ("mmlu", "gpqa")

MODEL_SCORES = SourceSchema(
    asset="model_scores",
    file="model_scores.csv",
    description="Benchmark scores per model (MMLU; GPQA, mostly its Diamond set), as the "
    "developer reported them, to place each priced model on a capability scale.",
    columns=(
        Column("score_id", "str", "Unique id of the score row", required=True),
        Column("model", "str", "Model id as the source names it", required=True),
        Column("developer", "str", "Organisation that built the model", required=True),
        Column(
            "benchmark",
            "str",
            "mmlu | gpqa (GPQA, the Diamond subset for most reports)",
            required=True,
            choices=BENCHMARKS,
        ),
        Column(
            "score_pct",
            "float",
            "Accuracy on the benchmark",
            unit="%",
            required=True,
            min=0,
            max=100,
        ),
        Column("model_release_date", "date", "Release date of the model", past=True),
    ),
    key=("score_id",),
)


def one_score_per_model(table: pd.DataFrame, file: str) -> list[Problem]:
    """A model has at most one score per benchmark, so its placement is unambiguous."""
    dup = table[table.duplicated(["model", "benchmark"], keep="first")]
    return [
        Problem(file, int(r.source_line), "model", f"second {r.benchmark} score for '{r.model}'")
        for r in dup.itertuples()
    ]


def both_benchmarks_present(table: pd.DataFrame) -> tuple[bool, str, dict]:
    """Every benchmark the index uses has scores, else its thresholds cannot place any model."""
    counts = {b: int((table["benchmark"] == b).sum()) for b in BENCHMARKS}
    missing = [b for b, n in counts.items() if n == 0]
    return not missing, f"benchmarks without a score: {missing or 'none'}", {"counts": counts}


MODEL_SCORES_SPEC = SourceSpec(
    MODEL_SCORES,
    rules=(one_score_per_model,),
    checks=(
        Check(
            "benchmarks_present",
            "Each benchmark of the price index has at least one score.",
            both_benchmarks_present,
        ),
    ),
)
