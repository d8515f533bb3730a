"""Declared schemas of the source CSVs and the validator that turns a file into a typed table.

A problem is reported with file, line, column and reason; rows with problems are returned as
rejected rows so the caller can fail the asset and still show the user every bad row.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

KINDS = ("spec", "measured", "estimate", "claim")
PRECISIONS = ("day", "month", "quarter", "half", "year", "unknown")
CONFIDENCE = ("high", "medium", "low")
NOT_DATED = "n.d."
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_MAX_MESSAGE_PROBLEMS = 20


@dataclass(frozen=True)
class Column:
    """One source column: its type, unit, whether a value is required, and its allowed values."""

    name: str
    dtype: str  # str | float | int | bool | date | published | chip
    description: str
    unit: str = ""
    required: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None


PROVENANCE = (
    Column("source", "str", "Publication, datasheet or document the row comes from", required=True),
    Column("source_url", "str", "URL or document reference of the source", required=True),
    Column(
        "published",
        "published",
        "Publication date of the source (YYYY[-MM[-DD]] or n.d.)",
        required=True,
    ),
    Column("kind", "str", "spec | measured | estimate | claim", required=True, choices=KINDS),
    Column("quote", "str", "Short exact quote from the source supporting the row"),
    Column("confidence", "str", "high | medium | low", choices=CONFIDENCE),
    Column("note", "str", "Caveats, conflicts and derivations"),
)


@dataclass(frozen=True)
class SourceSchema:
    """The declared contract of one source file."""

    asset: str
    file: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    provenance: bool = True

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns + (PROVENANCE if self.provenance else ())

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.all_columns]


@dataclass(frozen=True)
class Problem:
    """One reason a file or a row was rejected; line 1 is the header, 0 the file itself."""

    file: str
    line: int
    column: str
    reason: str
    value: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        col = f", column '{self.column}'" if self.column else ""
        return f"{self.file}: {where}{col}: {self.reason}"


@dataclass
class Validated:
    """A validated file: the typed table of good rows, and the problems with their raw rows."""

    table: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ok(self) -> bool:
        return not self.problems

    def message(self) -> str:
        """A summary naming every problem (the first few in full) for the asset's failure."""
        head = [str(p) for p in self.problems[:_MAX_MESSAGE_PROBLEMS]]
        more = len(self.problems) - len(head)
        tail = [f"... and {more} more problem(s)"] if more > 0 else []
        return "\n".join([f"{len(self.problems)} problem(s) in source data:", *head, *tail])


class SourceError(Exception):
    """A source file failed validation; carries the problems and the rejected rows."""

    def __init__(self, validated: Validated):
        super().__init__(validated.message())
        self.validated = validated


def normalise_alias(text: str) -> str:
    """Alias lookup key: case-, space-, hyphen- and underscore-insensitive."""
    return re.sub(r"[\s\-_]+", "", text).casefold()


def parse_date(text: str) -> pd.Timestamp:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as the first day of the period it names."""
    m = _DATE.match(text)
    if not m:
        raise ValueError(f"'{text}' is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    try:
        return pd.Timestamp(year=year, month=month, day=day)
    except ValueError as err:
        raise ValueError(f"'{text}' is not a valid calendar date ({err})") from None


def _parse_float(text: str, col: Column) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise ValueError(
            f"'{text}' is not a finite number (NaN/inf are not allowed; leave the cell empty for unknown)"
        )
    unit = f" {col.unit}" if col.unit else ""
    if col.min is not None and value < col.min:
        raise ValueError(f"{value:g}{unit} is below the minimum {col.min:g}{unit}")
    if col.max is not None and value > col.max:
        raise ValueError(f"{value:g}{unit} is above the plausible maximum {col.max:g}{unit}")
    return value


def _parse_cell(text: str, col: Column, aliases: dict[str, str] | None):
    """One non-empty cell as a typed value, or ValueError with the reason."""
    if col.choices is not None and text not in col.choices:
        raise ValueError(f"'{text}' is not one of {', '.join(col.choices)}")
    if col.dtype == "str":
        return text
    if col.dtype == "float":
        return _parse_float(text, col)
    if col.dtype == "int":
        value = _parse_float(text, col)
        if value != int(value):
            raise ValueError(f"'{text}' is not a whole number")
        return int(value)
    if col.dtype == "bool":
        low = text.lower()
        if low not in ("true", "false"):
            raise ValueError(f"'{text}' is not true or false")
        return low == "true"
    if col.dtype == "date":
        return parse_date(text)
    if col.dtype == "published":
        if text != NOT_DATED:
            parse_date(text)
        return text
    if col.dtype == "chip":
        if aliases is None:
            return text
        chip = aliases.get(normalise_alias(text))
        if chip is None:
            close = difflib.get_close_matches(normalise_alias(text), list(aliases), n=1)
            hint = f" (did you mean '{aliases[close[0]]}'?)" if close else ""
            raise ValueError(f"unknown chip '{text}': not in chip_aliases.csv{hint}")
        return chip
    raise ValueError(f"unsupported column type {col.dtype}")


def decode(raw: bytes, file: str) -> tuple[str, list[Problem]]:
    """UTF-8 text of a file (a leading BOM is dropped), or the line holding the first bad byte."""
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        byte = raw[err.start : err.start + 1].hex()
        return "", [
            Problem(file, line, "", f"bytes are not UTF-8 (byte 0x{byte}); save the file as UTF-8")
        ]


def _header_problems(header: list[str], schema: SourceSchema, file: str) -> list[Problem]:
    expected = schema.header
    if len(header) == 1 and any(d in header[0] for d in (";", "\t", "|")):
        delim = next(d for d in (";", "\t", "|") if d in header[0])
        shown = {"\t": "tab"}.get(delim, delim)
        return [
            Problem(
                file,
                1,
                "",
                f"header is one field; the file looks {shown}-delimited, expected commas",
            )
        ]
    problems = [
        Problem(file, 1, name, "required column is missing")
        for name in expected
        if name not in header
    ]
    problems += [
        Problem(file, 1, name, f"unexpected column (expected: {', '.join(expected)})")
        for name in header
        if name not in expected
    ]
    dupes = {h for h in header if header.count(h) > 1}
    problems += [Problem(file, 1, name, "column appears more than once") for name in sorted(dupes)]
    return problems


def validate_text(
    text: str, schema: SourceSchema, file: str, aliases: dict[str, str] | None = None
) -> Validated:
    """Validates decoded CSV text against its schema."""
    if not text.strip():
        return _failed(
            file, [Problem(file, 0, "", "file is empty (expected a header row and data rows)")]
        )
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as err:
        return _failed(file, [Problem(file, 0, "", f"not parseable as CSV: {err}")])
    header = [h.strip() for h in records[0]]
    header_problems = _header_problems(header, schema, file)
    if header_problems:
        return _failed(file, header_problems)
    rows = [(i + 2, r) for i, r in enumerate(records[1:]) if any(cell.strip() for cell in r)]
    if not rows:
        return _failed(file, [Problem(file, 0, "", "file has a header but no data rows")])

    columns = schema.all_columns
    problems: list[Problem] = []
    good: list[dict] = []
    rejected: list[dict] = []
    seen_keys: dict[tuple, int] = {}
    for line, cells in rows:
        row_problems: list[Problem] = []
        raw = dict(zip(header, (c.strip() for c in cells), strict=False))
        if len(cells) != len(header):
            row_problems.append(
                Problem(
                    file,
                    line,
                    "",
                    f"has {len(cells)} fields, the header has {len(header)} (unquoted comma?)",
                )
            )
        typed: dict = {}
        for col in columns:
            text = raw.get(col.name, "")
            if text == "":
                if col.required:
                    row_problems.append(Problem(file, line, col.name, "value is required", text))
                typed[col.name] = None
                continue
            try:
                typed[col.name] = _parse_cell(text, col, aliases)
            except ValueError as err:
                row_problems.append(Problem(file, line, col.name, str(err), text))
        if not row_problems:
            key = tuple(typed[k] for k in schema.key)
            if key in seen_keys:
                desc = ", ".join(f"{k}={v!r}" for k, v in zip(schema.key, key, strict=True))
                row_problems.append(
                    Problem(
                        file,
                        line,
                        schema.key[0],
                        f"duplicate key ({desc}) also on line {seen_keys[key]}",
                    )
                )
            else:
                seen_keys[key] = line
        if row_problems:
            problems.extend(row_problems)
            for p in row_problems:
                rejected.append(
                    {
                        "file": file,
                        "line": line,
                        "column": p.column,
                        "reason": p.reason,
                        "value": p.value,
                        "raw_row": ",".join(cells),
                    }
                )
        else:
            typed["source_line"] = line
            good.append(typed)
    return Validated(
        _typed_frame(good, columns), problems, pd.DataFrame(rejected, columns=_REJECTED_COLUMNS)
    )


_REJECTED_COLUMNS = ["file", "line", "column", "reason", "value", "raw_row"]


def _failed(file: str, problems: list[Problem]) -> Validated:
    rejected = pd.DataFrame(
        [
            {
                "file": p.file,
                "line": p.line,
                "column": p.column,
                "reason": p.reason,
                "value": p.value,
                "raw_row": "",
            }
            for p in problems
        ],
        columns=_REJECTED_COLUMNS,
    )
    return Validated(pd.DataFrame(), problems, rejected)


_PANDAS_TYPES = {
    "str": "string",
    "published": "string",
    "chip": "string",
    "float": "float64",
    "int": "Int64",
    "bool": "boolean",
    "date": "datetime64[ns]",
}


def _typed_frame(rows: list[dict], columns: tuple[Column, ...]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c.name for c in columns] + ["source_line"])
    types = {c.name: _PANDAS_TYPES[c.dtype] for c in columns}
    return frame.astype({**types, "source_line": "int64"})


def validate_file(
    path: Path, schema: SourceSchema, aliases: dict[str, str] | None = None
) -> Validated:
    """Reads and validates one source file; a missing or vanished file is a problem, not a crash."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _failed(
            file,
            [
                Problem(
                    file, 0, "", "file not found (missing, or removed while the run was reading it)"
                )
            ],
        )
    except IsADirectoryError:
        return _failed(file, [Problem(file, 0, "", "is a directory, expected a CSV file")])
    text, problems = decode(raw, file)
    if problems:
        return _failed(file, problems)
    return validate_text(text, schema, file, aliases)
