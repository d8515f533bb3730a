"""Capability scores per model (MMLU, GPQA) that place priced models on a capability scale."""

from __future__ import annotations

import pandas as pd

from assets.ingest.factory import Check, SourceSpec
from assets.ingest.schema import Column, Problem, SourceSchema
from forecasts.model_names import model_key

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


MODEL_ALIASES = SourceSchema(
    asset="model_aliases",
    file="model_aliases.csv",
    description="Spellings of a priced model that the matching key does not join to its score "
    "(a host's or reseller's id, an API id re-pointed at new models over time), each mapped to "
    "the model as model_scores.csv names it, with a validity window for re-pointed ids.",
    columns=(
        Column("alias_id", "str", "Unique id of the alias row", required=True),
        Column("alias", "str", "Model name or id as a price source spells it", required=True),
        Column("model", "str", "The same model as model_scores.csv names it", required=True),
        Column("valid_from", "date", "First day the alias names this model (empty: always)"),
        Column("valid_to", "date", "Day the alias stops naming it, exclusive (empty: still)"),
        Column("reason", "str", "Why the two names are one model", required=True),
    ),
    key=("alias_id",),
)


def alias_names_another_model(table: pd.DataFrame, file: str) -> list[Problem]:
    """An alias whose matching key already equals its model's key maps nothing: a typo or a
    stale row."""
    same = table[table["alias"].map(model_key) == table["model"].map(model_key)]
    return [
        Problem(file, int(r.source_line), "alias", f"'{r.alias}' already matches '{r.model}'")
        for r in same.itertuples()
    ]


def window_is_ordered(table: pd.DataFrame, file: str) -> list[Problem]:
    """A validity window ends after it starts."""
    bad = table[
        table["valid_from"].notna()
        & table["valid_to"].notna()
        & (table["valid_to"] <= table["valid_from"])
    ]
    return [
        Problem(
            file,
            int(r.source_line),
            "valid_to",
            f"window ends ({r.valid_to.date()}) on or before it starts ({r.valid_from.date()})",
        )
        for r in bad.itertuples()
    ]


def windows_do_not_overlap(table: pd.DataFrame, file: str) -> list[Problem]:
    """One alias names one model at a time: rows of the same alias have disjoint windows (a row
    without a window covers all time)."""
    problems = []
    lo = table["valid_from"].fillna(pd.Timestamp.min)
    hi = table["valid_to"].fillna(pd.Timestamp.max)
    keys = table["alias"].map(model_key)
    rows = list(zip(table["source_line"], keys, lo, hi, strict=True))
    for i, (line, key, start, end) in enumerate(rows):
        for other_line, other_key, other_start, other_end in rows[:i]:
            if key == other_key and start < other_end and other_start < end:
                problems.append(
                    Problem(
                        file,
                        int(line),
                        "valid_from",
                        f"window overlaps line {int(other_line)} for the same alias",
                    )
                )
    return problems


def targets_are_scored(table: pd.DataFrame, model_scores: pd.DataFrame) -> tuple[bool, str, dict]:
    """Every alias maps to a model that has a score, else the row places nothing."""
    scored = set(model_scores["model"].map(model_key))
    missing = sorted(set(table.loc[~table["model"].map(model_key).isin(scored), "model"]))
    return not missing, f"alias targets without a score: {missing or 'none'}", {"missing": missing}


MODEL_ALIASES_SPEC = SourceSpec(
    MODEL_ALIASES,
    rules=(alias_names_another_model, window_is_ordered, windows_do_not_overlap),
    checks=(
        Check(
            "alias_targets_scored",
            "Every alias maps to a model with a score in model_scores.csv.",
            targets_are_scored,
            needs=("model_scores",),
        ),
    ),
)
