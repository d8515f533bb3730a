"""The validator on inline CSV: each kind of bad input is rejected with file, line, column, reason."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets.ingest.schema import (
    Column,
    SourceSchema,
    normalise_alias,
    parse_date,
    validate_file,
    validate_text,
)

SCHEMA = SourceSchema(
    asset="toy",
    file="toy.csv",
    description="toy",
    columns=(
        Column("id", "str", "id", required=True),
        Column("chip_id", "chip", "chip", required=True),
        Column("tflops", "float", "peak", unit="TFLOPS", required=True, min=0.1, max=10_000),
        Column("year", "int", "year", min=2000, max=2040),
        Column("default", "bool", "flag"),
        Column("when", "date", "date"),
    ),
    key=("id",),
)
ALIASES = {
    normalise_alias("H100"): "nvidia-h100-sxm",
    normalise_alias("nvidia-h100-sxm"): "nvidia-h100-sxm",
}
PROV = "src,https://example.org/datasheet,2024-01-02,spec,,high,"
HEADER = (
    "id,chip_id,tflops,year,default,when,source,source_url,published,kind,quote,confidence,note"
)


def run(*rows: str, header: str = HEADER):
    return validate_text("\n".join([header, *rows]) + "\n", SCHEMA, "toy.csv", ALIASES)


def only_problem(result):
    assert len(result.problems) == 1, [str(p) for p in result.problems]
    return result.problems[0]


def test_good_rows_are_typed():
    result = run(f"a,H100,989,2022,true,2023-03,{PROV}", f"b,nvidia-h100-sxm,1979.5,,false,,{PROV}")
    assert result.ok
    t = result.table
    assert list(t["chip_id"]) == ["nvidia-h100-sxm", "nvidia-h100-sxm"]
    assert t["tflops"].tolist() == [989.0, 1979.5]
    assert t["when"].iloc[0] == pd.Timestamp("2023-03-01") and pd.isna(t["when"].iloc[1])
    assert t["source_line"].tolist() == [2, 3]
    assert str(t["year"].dtype) == "Int64" and pd.isna(t["year"].iloc[1])


def test_missing_column_names_it():
    header = HEADER.replace("tflops,", "")
    p = only_problem(run(f"a,H100,2022,true,2023-03,{PROV}", header=header))
    assert (p.line, p.column, p.reason) == (1, "tflops", "required column is missing")
    assert str(p).startswith("toy.csv: line 1, column 'tflops'")


def test_wrong_type():
    p = only_problem(run(f"a,H100,lots,2022,true,,{PROV}"))
    assert (p.line, p.column) == (2, "tflops") and "'lots' is not a number" in p.reason


@pytest.mark.parametrize(
    ("value", "words"),
    [("-5", "below the minimum 0.1 TFLOPS"), ("1e9", "above the plausible maximum")],
)
def test_negative_or_absurd_value(value, words):
    p = only_problem(run(f"a,H100,{value},2022,true,,{PROV}"))
    assert p.column == "tflops" and words in p.reason


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_nan_and_inf_are_rejected(value):
    p = only_problem(run(f"a,H100,{value},2022,true,,{PROV}"))
    assert p.column == "tflops" and "not a finite number" in p.reason


def test_unknown_chip_suggests_the_nearest():
    p = only_problem(run(f"a,H1000,989,2022,true,,{PROV}"))
    assert (
        p.column == "chip_id"
        and "unknown chip 'H1000'" in p.reason
        and "nvidia-h100-sxm" in p.reason
    )


def test_duplicate_key_names_both_lines():
    result = run(f"a,H100,989,2022,true,,{PROV}", f"a,H100,990,2022,true,,{PROV}")
    p = only_problem(result)
    assert p.line == 3 and p.column == "id" and "also on line 2" in p.reason
    assert len(result.table) == 1


@pytest.mark.parametrize("value", ["2024-13-01", "2024-02-30", "March 2024", "24-01-01"])
def test_bad_date(value):
    p = only_problem(run(f"a,H100,989,2022,true,{value},{PROV}"))
    assert p.column == "when" and value in p.reason


def test_bad_bool_and_int():
    result = run(f"a,H100,989,2022.5,yes,,{PROV}")
    assert {p.column for p in result.problems} == {"year", "default"}


def test_empty_file_and_header_only():
    assert "file is empty" in only_problem(validate_text("", SCHEMA, "toy.csv")).reason
    assert "no data rows" in only_problem(validate_text(HEADER + "\n", SCHEMA, "toy.csv")).reason


def test_wrong_delimiter_is_named():
    text = HEADER.replace(",", ";") + "\n" + f"a;H100;989;2022;true;;{PROV}".replace(",", ";")
    p = only_problem(validate_text(text, SCHEMA, "toy.csv"))
    assert p.line == 1 and "looks ;-delimited" in p.reason


def test_unquoted_comma_shifts_fields():
    p = run("a,H100,989,2022,true,,src,https://x.org,2024,spec,a, b,high,").problems[0]
    assert p.line == 2 and "has 14 fields, the header has 13" in p.reason


def test_provenance_is_required():
    result = run("a,H100,989,2022,true,,,https://x.org,2024,spec,,,")
    p = only_problem(result)
    assert (p.column, p.reason) == ("source", "value is required")
    bad_kind = only_problem(run("a,H100,989,2022,true,,src,https://x.org,2024,rumour,,,"))
    assert (
        bad_kind.column == "kind"
        and "not one of spec, measured, estimate, claim" in bad_kind.reason
    )
    undated = run("a,H100,989,2022,true,,src,https://x.org,n.d.,claim,,,")
    assert undated.ok


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "toy.csv"
    path.write_bytes(
        (HEADER + "\n" + f"a,H100,989,2022,true,,{PROV}\n").encode()
        + "b,H100,1,2022,true,,Caf\xe9,u,2024,spec,,,\n".encode("latin-1")
    )
    p = only_problem(validate_file(path, SCHEMA, ALIASES))
    assert p.line == 3 and "not UTF-8 (byte 0xe9)" in p.reason


def test_vanished_file(tmp_path):
    p = only_problem(validate_file(tmp_path / "gone.csv", SCHEMA, ALIASES))
    assert p.line == 0 and "file not found" in p.reason


def test_rejected_rows_keep_raw_text_and_every_reason():
    result = run(f"a,H100,989,2022,true,,{PROV}", f"b,H9,-1,2022,true,,{PROV}")
    assert len(result.table) == 1
    rejected = result.rejected
    assert set(rejected["column"]) == {"chip_id", "tflops"}
    assert (rejected["line"] == 3).all() and rejected["raw_row"].str.startswith("b,H9,-1").all()
    assert "2 problem(s)" in result.message()


@given(st.integers(1900, 2100), st.integers(1, 12), st.integers(1, 28))
def test_parse_date_matches_pandas(year, month, day):
    assert parse_date(f"{year:04d}-{month:02d}-{day:02d}") == pd.Timestamp(year, month, day)
    assert parse_date(f"{year:04d}-{month:02d}") == pd.Timestamp(year, month, 1)
    assert parse_date(f"{year:04d}") == pd.Timestamp(year, 1, 1)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_is_typed_or_rejected(value):
    result = run(f"a,H100,{value!r},2022,true,,{PROV}")
    ok = math.isfinite(value) and 0.1 <= value <= 10_000
    assert result.ok == ok
    if ok:
        assert result.table["tflops"].iloc[0] == value


@given(st.text(alphabet=st.sampled_from("Hh1 0-_"), min_size=1, max_size=12))
def test_alias_normalisation_ignores_case_space_hyphen(text):
    assert normalise_alias(text) == normalise_alias(
        text.upper().replace("-", " ").replace("_", "-")
    )
