"""Checks a claimed chip spec (TFLOPS, GB/s, W) against every sourced row of hardware_specs."""

from __future__ import annotations

import json

import pandas as pd

from assets.report.findings import CONSISTENT, CONTRADICTED, OPEN, Finding, cite, fmt, within_pct

RULE = "chip_spec"
#: Datasheet figures are rounded by vendors and resellers; ±5 % absorbs rounding, not a different figure.
SPEC_TOLERANCE_PCT = 5.0
#: Compute columns by precision: a claim at a precision no source states is a contradiction when
#: the chip's compute is sourced at other precisions (the chip does not support it, or nobody says so).
COMPUTE_COLUMNS = (
    "bf16_dense_tflops",
    "bf16_sparse_tflops",
    "fp8_dense_tflops",
    "fp8_sparse_tflops",
    "int8_dense_tops",
)


UNITS = {"tflops": "TFLOPS", "tops": "TOPS", "gbps": "GB/s", "w": "W", "gb": "GB", "usd": "USD"}


def unit_of(column: str) -> str:
    """The unit a spec column's name ends in (``memory_bw_gbps`` -> GB/s)."""
    return UNITS.get(column.rsplit("_", 1)[-1], "")


def sourced_rows(hardware_specs: pd.DataFrame, chip_id: str) -> pd.DataFrame:
    """The chip's rows that come from a source (datasheet, measurement, estimate), never a claim."""
    rows = hardware_specs[
        (hardware_specs["chip_id"] == chip_id) & (hardware_specs["kind"] != "claim")
    ]
    return rows.sort_values("spec_id", kind="mergesort")


def resolved_value(chip_specs: pd.DataFrame | None, chip_id: str, column: str) -> tuple[float, str]:
    """The value the pipeline uses for the chip (chip_specs) and the spec_id that supplied it."""
    if chip_specs is None or column not in chip_specs.columns:
        return float("nan"), ""
    row = chip_specs[chip_specs["chip_id"] == chip_id]
    if row.empty or pd.isna(row[column].iloc[0]):
        return float("nan"), ""
    sources = json.loads(row["value_sources"].iloc[0] or "{}")
    return float(row[column].iloc[0]), str(sources.get(column, ""))


def _other_columns_matching(rows: pd.DataFrame, column: str, claimed: float) -> list[str]:
    """Other compute columns of the sourced rows whose value equals the claim within tolerance:
    the signature of a precision or sparsity mix-up."""
    hits = []
    for other in COMPUTE_COLUMNS:
        if other == column or other not in rows.columns:
            continue
        values = rows[other].dropna()
        if any(within_pct(claimed, float(v), SPEC_TOLERANCE_PCT) for v in values):
            hits.append(other)
    return hits


def _sibling_matches(
    hardware_specs: pd.DataFrame, chip_id: str, vendor: str, column: str, claimed: float
) -> list[str]:
    """Sourced values of the vendor's other chips equal to the claim in the same kind of column
    (any compute precision for a compute claim): where an unsourced figure probably came from."""
    family = COMPUTE_COLUMNS if column in COMPUTE_COLUMNS else (column,)
    rows = hardware_specs[
        (hardware_specs["vendor"] == vendor)
        & (hardware_specs["chip_id"] != chip_id)
        & (hardware_specs["kind"] != "claim")
    ].sort_values("spec_id", kind="mergesort")
    hits = []
    for rec in rows.to_dict("records"):
        for col in family:
            v = rec.get(col)
            if (
                v is not None
                and not pd.isna(v)
                and within_pct(claimed, float(v), SPEC_TOLERANCE_PCT)
            ):
                hits.append(f"{rec['chip_id']} {col} = {fmt(v)} ({rec['spec_id']})")
    return hits


def check_chip_spec(
    chip_id: str,
    column: str,
    claimed: float,
    hardware_specs: pd.DataFrame,
    chip_specs: pd.DataFrame | None = None,
    vendor: str = "",
) -> Finding:
    """Consistent when every source within ±5 % agrees with the claim, contradicted when no source
    does (citing the value the pipeline uses and its row), open when the sources disagree among
    themselves, none exists, or the only disagreeing sources are rated low-confidence; a precision
    no source states for a chip with sourced compute at other precisions contradicts the claim."""
    tol = f"±{SPEC_TOLERANCE_PCT:g}% of each sourced value"
    rows = sourced_rows(hardware_specs, chip_id)
    used, used_id = resolved_value(chip_specs, chip_id, column)
    if rows.empty:
        siblings = (
            _sibling_matches(hardware_specs, chip_id, vendor, column, claimed) if vendor else []
        )
        hint = f"; the same figure is sourced for {', '.join(siblings)}" if siblings else ""
        return Finding(
            OPEN,
            f"no sourced spec for {chip_id} in hardware_specs{hint}",
            RULE,
            tol,
            evidence=f"hardware_specs: no row of kind spec|measured|estimate for {chip_id}",
        )
    if column not in rows.columns:
        raise ValueError(f"hardware_specs has no column '{column}'")
    stated = rows[rows[column].notna()]
    if stated.empty:
        if column in COMPUTE_COLUMNS:
            other = [c for c in COMPUTE_COLUMNS if c in rows.columns and rows[c].notna().any()]
            if other:
                summary = ", ".join(
                    f"{c} {fmt(rows[c].min())}"
                    + (f"-{fmt(rows[c].max())}" if rows[c].max() != rows[c].min() else "")
                    for c in other
                )
                return Finding(
                    CONTRADICTED,
                    f"no source states {column} for {chip_id}: its sourced compute is {summary}; "
                    f"the claimed {fmt(claimed)} has no support at this precision",
                    RULE,
                    "a sourced figure at the claimed precision must exist",
                    evidence="hardware_specs: "
                    + cite(rows[rows[other].notna().any(axis=1)], "spec_id"),
                )
        return Finding(
            OPEN,
            f"no source states {column} for {chip_id}",
            RULE,
            tol,
            evidence="hardware_specs: " + cite(rows, "spec_id"),
        )
    values = stated[column].astype(float)
    agree = stated[[within_pct(claimed, float(v), SPEC_TOLERANCE_PCT) for v in values]]
    base = {
        "rule": RULE,
        "tolerance": tol,
        "pipeline_value": used if used == used else float(values.iloc[0]),
        "pipeline_value_low": float(values.min()),
        "pipeline_value_high": float(values.max()),
        "pipeline_unit": unit_of(column),
    }
    used_text = f"the pipeline uses {fmt(base['pipeline_value'])}" + (
        f" ({used_id})" if used_id else ""
    )
    if len(agree) == len(stated):
        return Finding(
            CONSISTENT,
            f"{fmt(claimed)} matches every source ({used_text})",
            evidence="hardware_specs: " + cite(stated, "spec_id"),
            **base,
        )
    if agree.empty:
        mixups = _other_columns_matching(rows, column, claimed)
        mix = f"; {fmt(claimed)} is the sourced {' and '.join(mixups)}" if mixups else ""
        weak = "confidence" in stated.columns and (stated["confidence"] == "low").all()
        if weak and not mixups:
            return Finding(
                OPEN,
                f"only low-confidence sources state {column} for {chip_id} "
                f"({fmt(values.min())}"
                + (f"-{fmt(values.max())}" if values.max() != values.min() else "")
                + f"), and they disagree with the claimed {fmt(claimed)}: too weak to contradict it",
                evidence="hardware_specs: " + cite(stated, "spec_id"),
                **base,
            )
        cited = stated[stated["spec_id"] == used_id] if used_id else stated
        if cited.empty:
            cited = stated
        return Finding(
            CONTRADICTED,
            f"sources give {column} {fmt(values.min())}"
            + (f"-{fmt(values.max())}" if values.max() != values.min() else "")
            + f", not {fmt(claimed)}; {used_text}{mix}",
            evidence="hardware_specs: " + cite(cited, "spec_id"),
            **base,
        )
    disagree = stated.drop(agree.index)
    return Finding(
        OPEN,
        f"sources disagree: {fmt(claimed)} is given by {', '.join(agree['spec_id'])} but "
        + ", ".join(
            f"{fmt(v)} by {s}" for s, v in zip(disagree["spec_id"], disagree[column], strict=True)
        )
        + f"; {used_text}",
        evidence="hardware_specs: " + cite(stated, "spec_id"),
        **base,
    )
