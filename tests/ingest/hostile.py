"""A generated corpus of hostile source files: each case edits a copy of the shipped sources and
names the file it broke and the words the answer must contain (no big files are committed)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from assets.ingest import source_file
from tests.helpers import read_rows, set_cell, write_rows

#: A case edits the sources folder and returns (file name, expected fragments of the message).
Case = Callable[[Path], tuple[str, list[str]]]


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")


def _put_line(path: Path, index: int, line: bytes) -> None:
    lines = _lines(path)
    lines[index] = line
    path.write_bytes(b"\n".join(lines))


def _cell_line(path: Path, column: str, value: str, line: int = 2) -> tuple[int, str]:
    set_cell(path, line, column, value)
    return line, column


def fifo(src):
    (src / "claims.csv").unlink()
    os.mkfifo(src / "claims.csv")
    return "claims.csv", ["file:", "is a FIFO (named pipe)"]


def directory(src):
    (src / "claims.csv").unlink()
    (src / "claims.csv").mkdir()
    return "claims.csv", ["file:", "is a directory"]


def symlink_loop(src):
    (src / "claims.csv").unlink()
    os.symlink("claims.csv", src / "claims.csv")
    return "claims.csv", ["file:", "symlink loop"]


def symlink_to_device(src):
    (src / "claims.csv").unlink()
    os.symlink("/dev/zero", src / "claims.csv")
    return "claims.csv", ["file:", "outside the sources folder", "OUTLOOK_SOURCES"]


def symlink_outside(src):
    outside = src.parent / "elsewhere.csv"
    outside.write_bytes((src / "claims.csv").read_bytes())
    (src / "claims.csv").unlink()
    os.symlink(outside, src / "claims.csv")
    return "claims.csv", ["file:", "outside the sources folder"]


def dangling_symlink(src):
    (src / "claims.csv").unlink()
    os.symlink(src / "gone.csv", src / "claims.csv")
    return "claims.csv", ["file:", "symlink to a file that does not exist"]


def oversized_file(src):
    with open(src / "claims.csv", "r+b") as handle:
        handle.truncate(source_file.MAX_FILE_BYTES + 1)
    return "claims.csv", ["file:", "over the", "byte limit"]


def ten_megabyte_line(src):
    path = src / "claims.csv"
    lines = _lines(path)
    lines.insert(3, b"x" * 10_000_000)
    path.write_bytes(b"\n".join(lines))
    return "claims.csv", ["line 4", "10,000,000 characters long", "limit"]


def fifty_thousand_columns(src):
    path = src / "claims.csv"
    lines = _lines(path)
    lines[0] = lines[0] + b"".join(b",extra%d" % i for i in range(50_000))
    path.write_bytes(b"\n".join(lines))
    return "claims.csv", ["line 1", "50,0", "columns, over the"]


def huge_field(src):
    path = src / "claims.csv"
    rows = read_rows(path)
    big = "\n".join(["y" * 1000] * 20)
    rows[1][rows[0].index("note")] = big
    write_rows(path, rows)
    return "claims.csv", ["line 2", "column 'note'", "field is 20,019 characters long"]


def unterminated_quote(src):
    path = src / "claims.csv"
    lines = _lines(path)
    lines[4] = lines[4].replace(b",", b',"', 1)
    path.write_bytes(b"\n".join(lines))
    return "claims.csv", ["line 5", "CSV syntax error", "never closed"]


def stray_quote(src):
    path = src / "claims.csv"
    lines = _lines(path)
    first = lines[3].split(b",")
    first[0] = b'"' + first[0] + b'"x'
    lines[3] = b",".join(first)
    path.write_bytes(b"\n".join(lines))
    return "claims.csv", ["line 4", "CSV syntax error"]


def truncated_mid_row(src):
    path = src / "claims.csv"
    data = path.read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 12
    path.write_bytes(data[:cut])
    line = data[:cut].count(b"\n") + 1
    return "claims.csv", [f"line {line}"]


def doubled_bom(src):
    path = src / "claims.csv"
    path.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + path.read_bytes())
    return "claims.csv", ["line 1", "column 'claim_id'", "byte-order mark (U+FEFF)"]


def bom_mid_file(src):
    line, col = _cell_line(src / "claims.csv", "claim_id", "\ufeffC-01x", 3)
    return "claims.csv", [f"line {line}", f"column '{col}'", "byte-order mark"]


def nul_byte(src):
    line, col = _cell_line(src / "claims.csv", "metric", "share\x00pct", 4)
    return "claims.csv", [f"line {line}", f"column '{col}'", "NUL byte"]


def control_character(src):
    line, col = _cell_line(src / "claims.csv", "text", "bell\x07here", 5)
    return "claims.csv", [f"line {line}", f"column '{col}'", "control character (U+0007)"]


def zero_width(src):
    line, col = _cell_line(src / "startups.csv", "company_id", "moon\u200bshot", 2)
    return "startups.csv", [f"line {line}", f"column '{col}'", "zero-width", "U+200B"]


def bidi_control(src):
    line, col = _cell_line(src / "startups.csv", "name", "evil\u202eman", 2)
    return "startups.csv", [f"line {line}", f"column '{col}'", "bidirectional", "U+202E"]


def cyrillic_lookalike(src):
    path = src / "hardware_specs.csv"
    rows = read_rows(path)
    chip = rows[1][rows[0].index("chip_id")]
    swapped = chip.replace("a", "\u0430", 1) if "a" in chip else "\u0410" + chip
    rows[1][rows[0].index("chip_id")] = swapped
    write_rows(path, rows)
    return "hardware_specs.csv", ["line 2", "column 'chip_id'", "CYRILLIC", "looks like"]


def fullwidth_digit(src):
    path = src / "hardware_specs.csv"
    line = next(
        i + 1
        for i, r in enumerate(read_rows(path))
        if i and r[read_rows(path)[0].index("tdp_w")].strip()
    )
    set_cell(path, line, "tdp_w", "７00")
    return "hardware_specs.csv", [f"line {line}", "column 'tdp_w'", "FULLWIDTH DIGIT SEVEN"]


def arabic_digits(src):
    line, col = _cell_line(src / "model_counts.csv", "value", "\u0661\u0662")
    return "model_counts.csv", [f"line {line}", f"column '{col}'", "ARABIC-INDIC DIGIT ONE"]


def utf16_file(src):
    path = src / "claims.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    return "claims.csv", ["line 1", "UTF-16"]


def not_utf8(src):
    path = src / "claims.csv"
    lines = _lines(path)
    lines[6] = lines[6] + b"\xff"
    path.write_bytes(b"\n".join(lines))
    return "claims.csv", ["line 7", "not UTF-8 (byte 0xff)"]


def date_before_1677(src):
    line, col = _cell_line(src / "startups.csv", "founded", "1500-01-01")
    return "startups.csv", [f"line {line}", f"column '{col}'", "outside the dates", "1677-09-22"]


def date_after_2262(src):
    line, col = _cell_line(src / "claims.csv", "horizon", "2300-01")
    return "claims.csv", [f"line {line}", f"column '{col}'", "outside the dates", "2262-04-11"]


def future_published(src):
    line, col = _cell_line(src / "claims.csv", "published", "2199-01-01")
    return "claims.csv", [f"line {line}", f"column '{col}'", "after the run date"]


def future_founded(src):
    line, col = _cell_line(src / "startups.csv", "founded", "2199-05")
    return "startups.csv", [f"line {line}", f"column '{col}'", "already happened"]


def period_end_before_start(src):
    path = src / "price_decline_estimates.csv"
    rows = read_rows(path)
    start, end = rows[0].index("period_start"), rows[0].index("period_end")
    line = next(i + 1 for i, r in enumerate(rows) if i and r[start] and r[end])
    rows[line - 1][end] = "2001-01"
    write_rows(path, rows)
    return "price_decline_estimates.csv", [
        f"line {line}",
        "column 'period_end'",
        "before it starts",
    ]


def underscore_digits(src):
    path = src / "hardware_specs.csv"
    rows = read_rows(path)
    col = rows[0].index("memory_bw_gbps")
    line = next(i + 1 for i, r in enumerate(rows) if i and r[col].strip())
    rows[line - 1][col] = "3_350"
    write_rows(path, rows)
    return "hardware_specs.csv", [f"line {line}", "column 'memory_bw_gbps'", "without _"]


def thousands_separator(src):
    line, col = _cell_line(src / "model_counts.csv", "value", "1,234")
    return "model_counts.csv", [f"line {line}", f"column '{col}'", "not a number"]


def alias_is_another_chip_id(src):
    path = src / "chip_aliases.csv"
    rows = read_rows(path)
    ids = sorted({r[1] for r in rows[1:]})
    rows = [r for r in rows if r[0] != ids[0]]
    rows.append([ids[0], ids[1], "swaps two chips"])
    write_rows(path, rows)
    return "chip_aliases.csv", [
        f"line {len(rows)}",
        "column 'alias'",
        f"id of another chip ('{ids[0]}')",
    ]


def alias_case_of_chip_id(src):
    path = src / "chip_aliases.csv"
    rows = read_rows(path)
    ids = sorted({r[1] for r in rows[1:]})
    rows = [r for r in rows if r[0].casefold() != ids[0].casefold()]
    rows.append([ids[0].upper(), ids[1], "differs in case only"])
    write_rows(path, rows)
    return "chip_aliases.csv", [
        f"line {len(rows)}",
        "column 'alias'",
        "differs only in case or separators from the id of another chip",
    ]


def chip_ids_differing_in_case(src):
    path = src / "chip_aliases.csv"
    rows = read_rows(path)
    ids = sorted({r[1] for r in rows[1:]})
    rows.append(["a fresh spelling", ids[0].upper(), "a second id for the same chip"])
    write_rows(path, rows)
    return "chip_aliases.csv", ["column 'chip_id'", "only in case or separators"]


#: Every hostile class: file-system objects, size, syntax, encoding, dates, numbers and identity.
HOSTILE: list[Case] = [
    fifo,
    directory,
    symlink_loop,
    symlink_to_device,
    symlink_outside,
    dangling_symlink,
    oversized_file,
    ten_megabyte_line,
    fifty_thousand_columns,
    huge_field,
    unterminated_quote,
    stray_quote,
    truncated_mid_row,
    doubled_bom,
    bom_mid_file,
    nul_byte,
    control_character,
    zero_width,
    bidi_control,
    cyrillic_lookalike,
    fullwidth_digit,
    arabic_digits,
    utf16_file,
    not_utf8,
    date_before_1677,
    date_after_2262,
    future_published,
    future_founded,
    period_end_before_start,
    underscore_digits,
    thousands_separator,
    alias_is_another_chip_id,
    alias_case_of_chip_id,
    chip_ids_differing_in_case,
]


def crlf(src):
    path = src / "claims.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    return "claims.csv"


def trailing_blank_lines(src):
    path = src / "claims.csv"
    path.write_bytes(path.read_bytes() + b"\n\n\n")
    return "claims.csv"


def reordered_columns(src):
    path = src / "claims.csv"
    rows = read_rows(path)
    write_rows(path, [list(reversed(r)) for r in rows])
    return "claims.csv"


def single_leading_bom(src):
    path = src / "claims.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return "claims.csv"


def symlink_inside(src):
    target = src / "claims-real.csv"
    os.replace(src / "claims.csv", target)
    os.symlink(target.name, src / "claims.csv")
    return "claims.csv"


#: Harmless variations a user may produce: they must be accepted.
BENIGN = [crlf, trailing_blank_lines, reordered_columns, single_leading_bom, symlink_inside]
