"""Declared schemas of the source CSVs and the validator that turns a file into a typed table.

A problem is reported with file, line, column and reason; rows with problems are returned as
rejected rows so the caller can fail the asset and still show the user every bad row.
"""

from __future__ import annotations

import collections
import csv
import datetime
import difflib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from assets.ingest import characters, source_file

KINDS = ("spec", "measured", "estimate", "claim")
PRECISIONS = ("day", "month", "quarter", "half", "year", "unknown")
CONFIDENCE = ("high", "medium", "low")
NOT_DATED = "n.d."
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$", re.ASCII)
#: The one number format: ASCII digits, an optional sign, decimal point and exponent.
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)
#: The range a date column holds (pandas nanosecond timestamps).
DATE_MIN = pd.Timestamp.min.ceil("D")
DATE_MAX = pd.Timestamp.max.floor("D")
_MAX_MESSAGE_PROBLEMS = 20
#: Longest unknown chip name for which a close match is suggested (keeps the search linear).
_MAX_SUGGEST_CHARS = 64


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
    #: The column records something that already happened: not later than the run date.
    past: bool = False

    @property
    def identifier(self) -> bool:
        """Whether the cell is matched or parsed exactly (so a lookalike character changes it)."""
        return self.dtype != "str" or self.choices is not None or self.name.endswith("_id")


PROVENANCE = (
    Column("source", "str", "Publication, datasheet or document the row comes from", required=True),
    Column("source_url", "str", "URL or document reference of the source", required=True),
    Column(
        "published",
        "published",
        "Publication date of the source (YYYY[-MM[-DD]] or n.d.)",
        required=True,
        past=True,
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
    #: Cells examined (header and rows): the validator's work, linear in the file's size.
    cells_read: int = 0

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
        datetime.date(year, month, day)
    except ValueError as err:
        raise ValueError(f"'{text}' is not a valid calendar date ({err})") from None
    stamp = pd.Timestamp(year=year, month=month, day=day)
    if not DATE_MIN <= stamp <= DATE_MAX:
        raise ValueError(
            f"'{text}' is outside the dates a date column holds "
            f"({DATE_MIN.date()} to {DATE_MAX.date()})"
        )
    return stamp


def run_date() -> pd.Timestamp:
    """The date of this run: dates of things that already happened may not be later."""
    return pd.Timestamp(datetime.datetime.now(datetime.UTC).date())


def _not_future(text: str, stamp: pd.Timestamp, today: pd.Timestamp) -> None:
    if stamp > today:
        raise ValueError(
            f"'{text}' is after the run date {today.date()}; this column records something "
            "that already happened"
        )


def _parse_float(text: str, col: Column) -> float:
    if not _NUMBER.match(text):
        low = text.lower().lstrip("+-")
        if low in ("nan", "inf", "infinity"):
            raise ValueError(
                f"'{text}' is not a finite number (NaN/inf are not allowed; leave the cell empty for unknown)"
            )
        hint = ""
        if "_" in text or "," in text or " " in text:
            hint = " (write digits without _ , or space separators, e.g. 1234.5)"
        raise ValueError(f"'{text}' is not a number{hint}")
    value = float(text)
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


def _parse_cell(
    text: str, col: Column, aliases: dict[str, str] | None, today: pd.Timestamp | None = None
):
    """One non-empty cell as a typed value, or ValueError with the reason."""
    today = run_date() if today is None else today
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
        stamp = parse_date(text)
        if col.past:
            _not_future(text, stamp, today)
        return stamp
    if col.dtype == "published":
        if text != NOT_DATED:
            stamp = parse_date(text)
            if col.past:
                _not_future(text, stamp, today)
        return text
    if col.dtype == "chip":
        if aliases is None:
            return text
        chip = aliases.get(normalise_alias(text))
        if chip is None:
            close = (
                difflib.get_close_matches(normalise_alias(text), list(aliases), n=1)
                if len(text) <= _MAX_SUGGEST_CHARS
                else []
            )
            hint = f" (did you mean '{aliases[close[0]]}'?)" if close else ""
            raise ValueError(f"unknown chip '{text}': not in chip_aliases.csv{hint}")
        return chip
    raise ValueError(f"unsupported column type {col.dtype}")


def decode(raw: bytes, file: str) -> tuple[str, list[Problem]]:
    """UTF-8 text of a file (a leading BOM is dropped), or the line holding the first bad byte."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "", [
            Problem(
                file,
                1,
                "",
                "file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8",
            )
        ]
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
    present, wanted = set(header), set(expected)
    problems = [
        Problem(file, 1, name, "required column is missing")
        for name in expected
        if name not in present
    ]
    problems += [
        Problem(file, 1, name, f"unexpected column (expected: {', '.join(expected)})")
        for name in header
        if name not in wanted
    ]
    counts = collections.Counter(header)
    dupes = {h for h, n in counts.items() if n > 1}
    problems += [Problem(file, 1, name, "column appears more than once") for name in sorted(dupes)]
    return problems


def _long_line(text: str, file: str) -> Problem | None:
    """The first physical line over ``MAX_LINE_CHARS`` (found in one linear pass), or None."""
    start, line = 0, 1
    while True:
        end = text.find("\n", start)
        stop = len(text) if end < 0 else end
        if stop - start > source_file.MAX_LINE_CHARS:
            return Problem(
                file,
                line,
                "",
                f"line is {stop - start:,} characters long, over the "
                f"{source_file.MAX_LINE_CHARS:,}-character limit (is this a CSV file?)",
            )
        if end < 0:
            return None
        start, line = end + 1, line + 1


def read_records(text: str, file: str) -> tuple[list[tuple[int, list[str]]], list[Problem]]:
    """The CSV records with the line each starts on; a syntax error is reported on the line where
    the broken record (often an unclosed quote) begins."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return records, []
        except csv.Error as err:
            hint = " (a quote opened on this line is never closed)"
            if "expected" in str(err) and "after" in str(err):
                hint = (
                    " (a quote opened on this line is never closed, or a quote inside a quoted"
                    ' field is not doubled as "")'
                )
            return records, [Problem(file, start, "", f"CSV syntax error: {err}{hint}")]
        if len(records) == 0 and len(cells) > source_file.MAX_COLUMNS:
            return records, [
                Problem(
                    file,
                    start,
                    "",
                    f"header has {len(cells):,} columns, over the {source_file.MAX_COLUMNS}-column limit",
                )
            ]
        records.append((start, cells))


def _cell_problem(text: str, col: Column | None) -> str | None:
    """Why a raw cell cannot be read at all: too long, invisible characters, ASCII lookalikes."""
    if len(text) > source_file.MAX_FIELD_CHARS:
        return (
            f"field is {len(text):,} characters long, over the "
            f"{source_file.MAX_FIELD_CHARS:,}-character limit"
        )
    reason = characters.invisible_problem(text)
    if reason is None and col is not None and col.identifier:
        reason = characters.lookalike_problem(text)
    return reason


def validate_text(
    text: str,
    schema: SourceSchema,
    file: str,
    aliases: dict[str, str] | None = None,
    today: pd.Timestamp | None = None,
) -> Validated:
    """Validates decoded CSV text against its schema (work linear in the text's length)."""
    today = run_date() if today is None else today
    if not text.strip():
        return _failed(
            file, [Problem(file, 0, "", "file is empty (expected a header row and data rows)")]
        )
    end = text.find("\n")
    fields = text[: end if end >= 0 else len(text)].count(",") + 1
    if fields > source_file.MAX_COLUMNS:
        return _failed(
            file,
            [
                Problem(
                    file,
                    1,
                    "",
                    f"header has {fields:,} columns, over the {source_file.MAX_COLUMNS}-column limit",
                )
            ],
        )
    long = _long_line(text, file)
    if long is not None:
        return _failed(file, [long])
    records, syntax = read_records(text, file)
    if syntax:
        return _failed(file, syntax)
    if not records:
        return _failed(file, [Problem(file, 0, "", "file has no header row")])
    header_line, raw_header = records[0]
    marks = []
    for name in raw_header:
        reason = _cell_problem(name, None)
        if reason is not None:
            shown = characters.strip_invisible(name).strip()
            marks.append(Problem(file, header_line, shown, f"header {reason}", shown))
    if marks:
        return _failed(file, marks)
    header = [h.strip() for h in raw_header]
    header_problems = _header_problems(header, schema, file)
    if header_problems:
        return _failed(file, header_problems)
    rows = [(line, r) for line, r in records[1:] if any(cell.strip() for cell in r)]
    if not rows:
        return _failed(file, [Problem(file, 0, "", "file has a header but no data rows")])

    columns = schema.all_columns
    problems: list[Problem] = []
    good: list[dict] = []
    rejected: list[dict] = []
    seen_keys: dict[tuple, int] = {}
    cells_read = len(header)
    for line, cells in rows:
        cells_read += len(cells) + len(columns)
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
            unreadable = _cell_problem(text, col)
            if unreadable is not None:
                shown = text[:80] + ("..." if len(text) > 80 else "")
                row_problems.append(Problem(file, line, col.name, unreadable, shown))
                typed[col.name] = None
                continue
            if text == "":
                if col.required:
                    row_problems.append(Problem(file, line, col.name, "value is required", text))
                typed[col.name] = None
                continue
            try:
                typed[col.name] = _parse_cell(text, col, aliases, today)
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
            raw_row = ",".join(cells)
            for p in row_problems:
                rejected.append(
                    {
                        "file": file,
                        "line": line,
                        "column": p.column,
                        "reason": p.reason,
                        "value": p.value,
                        "raw_row": raw_row[: source_file.MAX_FIELD_CHARS],
                    }
                )
        else:
            typed["source_line"] = line
            good.append(typed)
    return Validated(
        _typed_frame(good, columns),
        problems,
        pd.DataFrame(rejected, columns=_REJECTED_COLUMNS),
        cells_read,
    )


_REJECTED_COLUMNS = ["file", "line", "column", "reason", "value", "raw_row"]


def rejected_frame(problems: list[Problem]) -> pd.DataFrame:
    """The rejected-rows table of problems found outside a row's own cells."""
    return pd.DataFrame(
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


def _failed(file: str, problems: list[Problem]) -> Validated:
    return Validated(pd.DataFrame(), problems, rejected_frame(problems))


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
    path: Path,
    schema: SourceSchema,
    aliases: dict[str, str] | None = None,
    today: pd.Timestamp | None = None,
) -> Validated:
    """Reads and validates one source file; anything that is not a readable regular file inside
    the sources folder (missing, a FIFO, a device, a symlink loop, too large) is a problem, not a
    crash or a hang."""
    file = str(path)
    try:
        raw = source_file.read_source_bytes(file, str(path.parent))
    except source_file.Unreadable as exc:
        return _failed(file, [Problem(file, 0, "", exc.reason)])
    text, problems = decode(raw, file)
    if problems:
        return _failed(file, problems)
    return validate_text(text, schema, file, aliases, today)
