"""The model alias file's validation: a malformed row is named by file, line, column and reason."""

from __future__ import annotations

import pytest

from assets.ingest import SOURCE_SPECS
from assets.ingest.factory import validate_all
from tests.helpers import read_rows, set_cell, write_rows

FILE = "model_aliases.csv"


def _problems(sources) -> list[str]:
    return [str(p) for p in validate_all(SOURCE_SPECS) if p.file.endswith(FILE)]


def _line_of(sources, alias_id: str) -> int:
    rows = read_rows(sources / FILE)
    return next(i + 1 for i, r in enumerate(rows) if r[0] == alias_id)


def test_shipped_alias_file_is_clean(sources):
    assert _problems(sources) == []


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("valid_to", "2025-08-01", "window ends (2025-08-01) on or before it starts (2025-08-21)"),
        ("valid_from", "2025-13-01", "not a valid calendar date"),
        ("alias", "deepseek-v3.1", "'deepseek-v3.1' already matches 'deepseek-v3.1'"),
        ("model", "", "required"),
    ],
)
def test_malformed_row_names_file_line_column_reason(sources, column, value, reason):
    line = _line_of(sources, "MA008")
    set_cell(sources / FILE, line, column, value)
    problems = _problems(sources)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{sources / FILE}: line {line}, column '{column}': ")
    assert reason in problems[0]


def test_overlapping_windows_of_one_alias_are_refused(sources):
    rows = read_rows(sources / FILE)
    ma008 = next(r for r in rows if r[0] == "MA008")
    header = rows[0]
    clash = list(ma008)
    clash[0] = "MA999"
    clash[header.index("model")] = "deepseek-v3"
    clash[header.index("valid_from")] = "2025-09-01"
    clash[header.index("valid_to")] = "2025-10-01"
    write_rows(sources / FILE, [*rows, clash])
    problems = _problems(sources)
    assert problems == [
        f"{sources / FILE}: line {len(rows) + 1}, column 'valid_from': window overlaps line "
        f"{_line_of(sources, 'MA008')} for the same alias"
    ]


def test_alias_to_an_unscored_model_fails_the_blocking_check(sources):
    set_cell(sources / FILE, _line_of(sources, "MA001"), "model", "nova-lite-2")
    problems = _problems(sources)
    assert len(problems) == 1 and "alias targets without a score: ['nova-lite-2']" in problems[0]
