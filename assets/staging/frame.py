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


def _parse_numbers(text: pd.Series) -> pd.Series:
    """Numbers from text cells ('1,234' allowed); NaN where the cell is not a number."""
    return pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")


def _parse_column(text: pd.Series, col: StageColumn) -> tuple[pd.Series, pd.Series, str]:
    """(typed values, bad-cell mask, reason) of one column; empty cells are missing, never bad."""
    empty = text == ""
    if col.dtype == "str":
        return text.where(~empty, None).astype("string"), pd.Series(False, index=text.index), ""
    if col.dtype == "bool":
        low = text.str.strip().str.lower()
        bad = ~low.isin(_TRUE | _FALSE)
        values = low.isin(_TRUE).astype("boolean").where(~empty, False)
        return values, bad, "is not true/false"
    if col.dtype == "date":
        values = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        for width, fmt in ((7, "%Y-%m"), (4, "%Y")):
            short = values.isna() & (text.str.len() == width)
            if short.any():
                values[short] = pd.to_datetime(text[short], format=fmt, errors="coerce")
        bad = values.isna() & ~empty
        return values, bad, "is not a YYYY[-MM[-DD]] date"
    numbers = _parse_numbers(text)
    bad_number = numbers.isna() & ~empty
    finite = np.isfinite(numbers.to_numpy(dtype="float64", na_value=np.nan)) | numbers.isna()
    bad_number |= ~pd.Series(finite, index=text.index)
    values = numbers * col.scale
    if col.dtype == "int":
        whole = values.isna() | (values == values.round())
        bad_number |= ~whole
    return values, bad_number, "is not a number"


def _range_mask(values: pd.Series, col: StageColumn) -> tuple[pd.Series, str]:
    below = values < col.min if col.min is not None else pd.Series(False, index=values.index)
    above = values > col.max if col.max is not None else pd.Series(False, index=values.index)
    unit = f" {col.unit}" if col.unit else ""
    lo = f"{col.min:g}" if col.min is not None else "-inf"
    hi = f"{col.max:g}" if col.max is not None else "inf"
    return (below | above).fillna(False), f"outside the plausible range {lo}-{hi}{unit}"


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
    cells = cells.fillna("")
    out: dict[str, pd.Series] = {}
    problems: list[Problem] = []
    bad_rows = pd.Series(False, index=cells.index)
    reasons: dict[int, list[Problem]] = {}
    for col in schema.columns:
        text = cells[col.upstream].astype(str).str.strip()
        values, bad, reason = _parse_column(text, col)
        if col.dtype in ("float", "int"):
            out_of_range, range_reason = _range_mask(values.where(~bad), col)
        else:
            out_of_range, range_reason = pd.Series(False, index=cells.index), ""
        filled = int((text != "").sum())
        n_bad = int(bad.sum() + out_of_range.sum())
        if filled and n_bad >= DRIFT_SHARE * filled and n_bad:
            first = text[bad | out_of_range].iloc[0]
            why = reason if bad.any() else range_reason
            raise DriftError(
                f"{schema.dataset}: column '{col.upstream}' {why} in {n_bad} of {filled} "
                f"non-empty cells (e.g. '{first}'): retyped or unit changed upstream"
            )
        required_missing = (text == "") if col.required else pd.Series(False, index=cells.index)
        for mask, why in (
            (bad, reason),
            (out_of_range, range_reason),
            (required_missing, "value is required"),
        ):
            for idx in mask[mask].index:
                p = Problem(schema.dataset, int(idx) + 1, col.upstream, why, str(text[idx]))
                reasons.setdefault(int(idx), []).append(p)
            bad_rows |= mask
        out[col.name] = values
    table = pd.DataFrame(out, index=cells.index)
    if schema.key:
        dup = table.duplicated(list(schema.key), keep="first") & ~bad_rows
        for idx in dup[dup].index:
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
