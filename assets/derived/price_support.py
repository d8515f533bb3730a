"""Which price rows a derived number may rest on: spec, measured or estimate rows of medium or high
confidence; every other row (a claim, or low confidence) is only compared against them."""

from __future__ import annotations

import pandas as pd

#: Kinds and confidences a derived metric may take a price value from.
SUPPORTED_KINDS = frozenset({"spec", "measured", "estimate"})
SUPPORTED_CONFIDENCE = frozenset({"medium", "high"})


def is_supportable(rows: pd.DataFrame) -> pd.Series:
    """True for rows whose kind and confidence let a derived metric use their value."""
    return rows["kind"].isin(SUPPORTED_KINDS) & rows["confidence"].isin(SUPPORTED_CONFIDENCE)


def amount(value: float) -> str:
    """A price as written in a check: whole units from 100 up, else four significant digits."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"


def range_check(
    unused: pd.DataFrame, id_col: str, value_col: str, unit: str, low: float, high: float
) -> str:
    """One line per chip naming each unsupported price row and whether its value falls inside the
    supportable range [low, high] (NaN bounds: nothing supportable to compare with)."""
    if unused.empty:
        return ""
    parts = []
    for row in unused.sort_values(id_col).itertuples():
        value = getattr(row, value_col)
        stated = f"{getattr(row, id_col)} ({row.kind}, {row.confidence} confidence) {amount(value)} {unit}"
        if pd.isna(low) or pd.isna(high):
            verdict = "no supportable price to compare"
        elif low <= value <= high:
            verdict = f"inside the supportable {amount(low)}-{amount(high)} {unit}"
        else:
            verdict = f"outside the supportable {amount(low)}-{amount(high)} {unit}"
        parts.append(f"{stated}: {verdict}")
    return "not used: " + "; ".join(parts)
