"""Typed staging of an upstream table: declared columns, unit conversion, rejected rows, drift errors.

An upstream file is read as text cells under its published column names; each declared column is
looked up, parsed, converted to the project's unit and range-checked. A column that is missing, or
whose cells mostly fail to parse or fall outside the plausible range, is schema drift and raises
:class:`DriftError` naming the dataset, the column and a value; a few bad cells only reject their
rows, which are kept with the reason.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assets.ingest.schema import KINDS, Problem, Validated

#: A column whose bad cells reach this share of its non-empty cells has drifted (renamed unit,
#: retyped values) rather than holding a few bad rows.
DRIFT_SHARE = 0.5
#: Provenance columns every staging table ends with.
PROVENANCE_COLUMNS = (
    ("dataset", "string", "", "Upstream dataset id"),
    ("source", "string", "", "Citation of the upstream dataset (publisher, title, page)"),
    ("source_url", "string", "", "Official URL of the upstream file"),
    ("published", "string", "", "Snapshot date of the payload (YYYY-MM-DD)"),
    ("kind", "string", "", "spec | measured | estimate | claim"),
    ("snapshot_sha256", "string", "", "SHA-256 of the payload the row was read from"),
    ("row_links", "string", "", "URLs in the row's own source-link cells (space-separated)"),
    ("source_row", "int64", "", "Record number of the row in the payload (1 = first data record)"),
)
_PANDAS = {
    "str": "string",
    "float": "float64",
    "int": "Int64",
    "bool": "boolean",
    "date": "datetime64[ns]",
}
_ARROW = {
    "str": "string",
    "float": "double",
    "int": "int64",
    "bool": "boolean",
    "date": "timestamp",
}
_URL = r"https?://[^\s)\]>\"'|,;]+"
_TRUE = {"true", "yes", "1", "checked"}
_FALSE = {"false", "no", "0", ""}


@dataclass(frozen=True)
class StageColumn:
    """One staged column: the upstream name, the project name, type, unit conversion and range."""

    upstream: str
    name: str
    dtype: str  # str | float | int | bool | date
    description: str
    unit: str = ""
    #: Multiplier from the upstream unit to ``unit`` (e.g. 1e-12 for FLOP/s -> TFLOPS).
    scale: float = 1.0
    min: float | None = None
    max: float | None = None
    required: bool = False


@dataclass(frozen=True)
class StagingSchema:
    """The declared contract of one upstream dataset's staging table."""

    dataset: str
    description: str
    columns: tuple[StageColumn, ...]
    key: tuple[str, ...]
    kind: str
    #: Upstream columns holding the row's own source links.
    link_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.dataset}: kind '{self.kind}' is not one of {KINDS}")

    @property
    def asset(self) -> str:
        return f"stg_{self.dataset}"

    @property
    def upstream_columns(self) -> list[str]:
        return [c.upstream for c in self.columns] + list(self.link_columns)


@dataclass(frozen=True)
class Provenance:
    """Where a payload came from: citation, URL, snapshot date and the payload's sha256."""

    source: str
    source_url: str
    published: str
    sha256: str


class DriftError(ValueError):
    """The upstream payload no longer matches the declared schema (column renamed, missing,
    retyped, or its unit changed)."""


def _missing_columns(schema: StagingSchema, header: list[str]) -> list[str]:
    out = []
    for name in schema.upstream_columns:
        if name in header:
            continue
        close = difflib.get_close_matches(
            name, [h for h in header if h not in schema.upstream_columns], n=1
        )
        hint = f" (renamed to '{close[0]}'?)" if close else ""
        out.append(f"{schema.dataset}: column '{name}' is missing from the payload{hint}")
    return out


def _parse_numbers(text: pd.Series) -> np.ndarray:
    """Numbers from text cells ('1,234' allowed); NaN where the cell is not a number."""
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    commas = np.isnan(numbers) & text.str.contains(",", regex=False).to_numpy(bool)
    if commas.any():
        fixed = pd.to_numeric(text[commas].str.replace(",", "", regex=False), errors="coerce")
        numbers[commas] = fixed.to_numpy(dtype="float64", na_value=np.nan)
    return numbers


def _parse_column(text: pd.Series, empty: np.ndarray, col: StageColumn):
    """(typed values, bad-cell mask, reason) of one column; empty cells are missing, never bad."""
    if col.dtype == "str":
        return text.where(~empty, None).astype("string"), np.zeros(len(text), bool), ""
    if col.dtype == "bool":
        low = text.str.lower()
        bad = ~low.isin(_TRUE | _FALSE).to_numpy(bool)
        values = pd.array(low.isin(_TRUE).to_numpy(bool), dtype="boolean")
        return values, bad, "is not true/false"
    if col.dtype == "date":
        values = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        for width, fmt in ((7, "%Y-%m"), (4, "%Y")):
            short = values.isna() & (text.str.len() == width)
            if short.any():
                values[short] = pd.to_datetime(text[short], format=fmt, errors="coerce")
        return values, values.isna().to_numpy(bool) & ~empty, "is not a YYYY[-MM[-DD]] date"
    numbers = _parse_numbers(text)
    bad = (~np.isfinite(numbers) & ~empty) | (np.isinf(numbers))
    values = numbers * col.scale
    if col.dtype == "int":
        bad |= ~np.isnan(values) & (values != np.round(values))
    return values, bad, "is not a number"


def _range_mask(values: np.ndarray, col: StageColumn) -> tuple[np.ndarray, str]:
    with np.errstate(invalid="ignore"):
        below = values < col.min if col.min is not None else np.zeros(len(values), bool)
        above = values > col.max if col.max is not None else np.zeros(len(values), bool)
    unit = f" {col.unit}" if col.unit else ""
    lo = f"{col.min:g}" if col.min is not None else "-inf"
    hi = f"{col.max:g}" if col.max is not None else "inf"
    return below | above, f"outside the plausible range {lo}-{hi}{unit}"


def _joined_links(cells: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series | str:
    """The URLs in the row's link cells, in order, joined by single spaces."""
    if not columns:
        return ""
    joined = cells[columns[0]].astype(str)
    for name in columns[1:]:
        joined = joined.str.cat(cells[name].astype(str), sep=" ")
    return joined.str.findall(_URL).str.join(" ")


def stage_frame(cells: pd.DataFrame, schema: StagingSchema, prov: Provenance) -> Validated:
    """The typed staging table of an upstream table of text cells, with rejected rows and reasons;
    raises DriftError when a column is missing, retyped, or out of range in most of its cells."""
    header = list(cells.columns)
    missing = _missing_columns(schema, header)
    if missing:
        raise DriftError("; ".join(missing))
    cells = cells.fillna("").reset_index(drop=True)
    out: dict[str, object] = {}
    problems: list[Problem] = []
    bad_rows = np.zeros(len(cells), bool)
    reasons: dict[int, list[Problem]] = {}
    for col in schema.columns:
        text = cells[col.upstream].astype(str).str.strip()
        empty = (text == "").to_numpy(bool)
        values, bad, reason = _parse_column(text, empty, col)
        if col.dtype in ("float", "int"):
            out_of_range, range_reason = _range_mask(np.where(bad, np.nan, values), col)
        else:
            out_of_range, range_reason = np.zeros(len(cells), bool), ""
        filled = int((~empty).sum())
        n_bad = int(bad.sum() + out_of_range.sum())
        if filled and n_bad and n_bad >= DRIFT_SHARE * filled:
            first = text.iloc[int(np.flatnonzero(bad | out_of_range)[0])]
            why = reason if bad.any() else range_reason
            raise DriftError(
                f"{schema.dataset}: column '{col.upstream}' {why} in {n_bad} of {filled} "
                f"non-empty cells (e.g. '{first}'): retyped or unit changed upstream"
            )
        required_missing = empty if col.required else np.zeros(len(cells), bool)
        for mask, why in (
            (bad, reason),
            (out_of_range, range_reason),
            (required_missing, "value is required"),
        ):
            for idx in np.flatnonzero(mask):
                p = Problem(schema.dataset, int(idx) + 1, col.upstream, why, str(text.iloc[idx]))
                reasons.setdefault(int(idx), []).append(p)
            bad_rows |= mask
        out[col.name] = values
    table = pd.DataFrame(out, index=cells.index)
    if schema.key:
        dup = table.duplicated(list(schema.key), keep="first").to_numpy(bool) & ~bad_rows
        for idx in np.flatnonzero(dup):
            desc = ", ".join(f"{k}={table.at[idx, k]!r}" for k in schema.key)
            reasons.setdefault(int(idx), []).append(
                Problem(schema.dataset, int(idx) + 1, schema.key[0], f"duplicate key ({desc})")
            )
        bad_rows |= dup
    table["dataset"] = schema.dataset
    table["source"] = prov.source
    table["source_url"] = prov.source_url
    table["published"] = prov.published
    table["kind"] = schema.kind
    table["snapshot_sha256"] = prov.sha256
    table["row_links"] = _joined_links(cells, schema.link_columns)
    table["source_row"] = cells.index.to_numpy() + 1
    rejected_rows = []
    for idx in sorted(reasons):
        raw = ",".join(cells.loc[idx, [c.upstream for c in schema.columns]].astype(str))
        for p in reasons[idx]:
            problems.append(p)
            rejected_rows.append(
                {
                    "file": p.file,
                    "line": p.line,
                    "column": p.column,
                    "reason": p.reason,
                    "value": p.value,
                    "raw_row": raw,
                }
            )
    good = table[~bad_rows].reset_index(drop=True)
    types = {c.name: _PANDAS[c.dtype] for c in schema.columns}
    types.update({n: ("int64" if t == "int64" else "string") for n, t, _, _ in PROVENANCE_COLUMNS})
    good = good.astype(types)
    rejected = pd.DataFrame(
        rejected_rows, columns=["file", "line", "column", "reason", "value", "raw_row"]
    )
    return Validated(good, problems, rejected)


def column_tuples(schema: StagingSchema) -> list[tuple[str, str, str, str]]:
    """(name, type, unit, description) of every staged column, provenance last (the contract)."""
    cols = [
        (c.name, _ARROW[c.dtype], c.unit, f"{c.description} (upstream '{c.upstream}')")
        for c in schema.columns
    ]
    return cols + list(PROVENANCE_COLUMNS)
