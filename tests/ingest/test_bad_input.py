"""Bad source files fail their asset with file, line, column and reason; nothing good is lost."""

from __future__ import annotations

import shutil

import dagster as dg
import pandas as pd
import pytest

from pipelines import settings
from tests.helpers import failure_messages, materialize, read_rows, set_cell, write_rows

HW = ["chip_aliases", "hardware_specs"]
PRICES = ["fx_rates", "api_prices"]


def clean_bytes(warehouse, asset):
    return (warehouse / "clean" / f"{asset}.parquet").read_bytes()


def rejected(warehouse, asset):
    return pd.read_parquet(warehouse / "rejected" / f"{asset}.parquet")


def first_numeric_line(path, column):
    """The first data line whose cell in `column` holds a number."""
    rows = read_rows(path)
    idx = rows[0].index(column)
    return next(i + 1 for i, r in enumerate(rows) if i and r[idx].strip())


def drop_column(path, column):
    rows = read_rows(path)
    idx = rows[0].index(column)
    write_rows(path, [r[:idx] + r[idx + 1 :] for r in rows])


def duplicate_first_row(path):
    rows = read_rows(path)
    write_rows(path, [*rows, rows[1]])
    return len(rows) + 1, rows[1][0]


def two_defaults(path):
    rows = read_rows(path)
    chip, default = rows[0].index("chip_id"), rows[0].index("is_default")
    by_chip = {}
    for i, r in enumerate(rows[1:], start=2):
        by_chip.setdefault(r[chip], []).append(i)
    chip_id, lines = next(
        (c, ls)
        for c, ls in by_chip.items()
        if len(ls) > 1 and any(rows[i - 1][default] == "true" for i in ls)
    )
    line = next(i for i in lines if rows[i - 1][default] != "true")
    rows[line - 1][default] = "true"
    write_rows(path, rows)
    return chip_id


def case_missing_column(src):
    drop_column(src / "hardware_specs.csv", "memory_bw_gbps")
    return HW, "hardware_specs", ["line 1", "'memory_bw_gbps'", "required column is missing"]


def case_wrong_type(src):
    line = first_numeric_line(src / "hardware_specs.csv", "tdp_w")
    set_cell(src / "hardware_specs.csv", line, "tdp_w", "seven hundred")
    return HW, "hardware_specs", [f"line {line}", "'tdp_w'", "'seven hundred' is not a number"]


def case_negative(src):
    line = first_numeric_line(src / "hardware_specs.csv", "memory_bw_gbps")
    set_cell(src / "hardware_specs.csv", line, "memory_bw_gbps", "-3350")
    return HW, "hardware_specs", [f"line {line}", "'memory_bw_gbps'", "below the minimum 1 GB/s"]


def case_absurd(src):
    line = first_numeric_line(src / "hardware_specs.csv", "bf16_dense_tflops")
    set_cell(src / "hardware_specs.csv", line, "bf16_dense_tflops", "9890000")
    return (
        HW,
        "hardware_specs",
        [f"line {line}", "'bf16_dense_tflops'", "above the plausible maximum"],
    )


def case_unknown_chip(src):
    set_cell(src / "hardware_specs.csv", 2, "chip_id", "Ascend 9100Z")
    return HW, "hardware_specs", ["line 2", "'chip_id'", "unknown chip 'Ascend 9100Z'"]


def case_duplicate_key(src):
    line, key = duplicate_first_row(src / "hardware_specs.csv")
    return (
        HW,
        "hardware_specs",
        [f"line {line}", "'spec_id'", f"duplicate key (spec_id='{key}') also on line 2"],
    )


def case_bad_date(src):
    line = first_numeric_line(src / "api_prices.csv", "effective_date")
    set_cell(src / "api_prices.csv", line, "effective_date", "2024-13-45")
    return (
        PRICES,
        "api_prices",
        [f"line {line}", "'effective_date'", "'2024-13-45' is not a valid calendar date"],
    )


def case_empty_file(src):
    (src / "api_prices.csv").write_bytes(b"")
    return PRICES, "api_prices", ["api_prices.csv: file", "file is empty"]


def case_wrong_delimiter(src):
    rows = read_rows(src / "hardware_specs.csv")
    (src / "hardware_specs.csv").write_text(
        "\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8"
    )
    return HW, "hardware_specs", ["line 1", "looks ;-delimited"]


def case_not_utf8(src):
    path = src / "api_prices.csv"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b",", b",\xff", 1)
    path.write_bytes(b"\n".join(lines))
    return PRICES, "api_prices", ["line 3", "not UTF-8 (byte 0xff)"]


def case_nan(src):
    line = first_numeric_line(src / "api_prices.csv", "output_price_per_mtok")
    set_cell(src / "api_prices.csv", line, "output_price_per_mtok", "NaN")
    return PRICES, "api_prices", [f"line {line}", "'output_price_per_mtok'", "not a finite number"]


def case_inf(src):
    line = first_numeric_line(src / "hardware_specs.csv", "memory_gb")
    set_cell(src / "hardware_specs.csv", line, "memory_gb", "inf")
    return HW, "hardware_specs", [f"line {line}", "'memory_gb'", "not a finite number"]


def case_vanished(src):
    (src / "api_prices.csv").unlink()
    return PRICES, "api_prices", ["api_prices.csv: file", "file not found"]


def case_two_defaults(src):
    chip = two_defaults(src / "hardware_specs.csv")
    return HW, "hardware_specs", ["'is_default'", f"chip '{chip}' has 2 default rows"]


def case_unquoted_comma(src):
    path = src / "api_prices.csv"
    rows = read_rows(path)
    text = path.read_text(encoding="utf-8").split("\n")
    text[1] = text[1] + ",extra"
    path.write_text("\n".join(text), encoding="utf-8")
    return (
        PRICES,
        "api_prices",
        ["line 2", f"has {len(rows[0]) + 1} fields, the header has {len(rows[0])}"],
    )


CASES = [
    case_missing_column,
    case_wrong_type,
    case_negative,
    case_absurd,
    case_unknown_chip,
    case_duplicate_key,
    case_bad_date,
    case_empty_file,
    case_wrong_delimiter,
    case_not_utf8,
    case_nan,
    case_inf,
    case_vanished,
    case_two_defaults,
    case_unquoted_comma,
]


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory):
    """A warehouse holding the clean tables of the shipped sources, materialized once."""
    folder = tmp_path_factory.mktemp("good") / "warehouse"
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as inst:
        mp.setenv(settings.WAREHOUSE_ENV, str(folder))
        mp.setenv(settings.SOURCES_ENV, str(settings.PROJECT_ROOT / "data" / "sources"))
        first = materialize(HW + PRICES, inst)
        assert first.success, failure_messages(first)
    return folder


@pytest.mark.parametrize("case", CASES, ids=[c.__name__[5:] for c in CASES])
def test_bad_input_fails_clearly_and_keeps_last_good_parquet(
    case, good_warehouse, sources, warehouse, instance
):
    shutil.copytree(good_warehouse, warehouse)
    before = {a: clean_bytes(warehouse, a) for a in ("hardware_specs", "api_prices")}

    keys, asset, expected = case(sources)
    result = materialize([asset], instance)

    assert not result.success
    message = failure_messages(result)
    for words in expected:
        assert words in message, f"{words!r} not in:\n{message}"
    assert f"{asset}.csv" in message
    assert clean_bytes(warehouse, asset) == before[asset]
    bad = rejected(warehouse, asset)
    assert len(bad) >= 1 and bad["reason"].str.len().min() > 0
    assert not list((warehouse / "clean").glob(".*.tmp")), "a temporary file was left behind"


def test_rejected_rows_are_cleared_after_a_fix(sources, warehouse, instance):
    path = sources / "hardware_specs.csv"
    good = path.read_bytes()
    set_cell(path, 2, "chip_id", "no-such-chip")
    assert not materialize(HW, instance).success, "the edited file should fail"
    assert (warehouse / "rejected" / "hardware_specs.parquet").exists()
    path.write_bytes(good)
    assert materialize(HW, instance).success
    assert not (warehouse / "rejected" / "hardware_specs.parquet").exists()
