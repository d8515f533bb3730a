"""Hostile source files: every class is answered as `file: line N, column 'x': reason`, in work
linear in the file's size, and a failed file never changes a published table."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import dagster as dg
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from assets.ingest import SOURCE_SPECS
from assets.ingest.factory import validate_all
from assets.ingest.schema import Problem, Validated, validate_file
from pipelines import settings
from tests.helpers import failure_messages, materialize
from tests.ingest.hostile import BENIGN, HOSTILE

SHIPPED = settings.PROJECT_ROOT / "data" / "sources"
SPECS = {spec.schema.file: spec for spec in SOURCE_SPECS}


def problems_for(file: str) -> list[str]:
    return [str(p) for p in validate_all(SOURCE_SPECS) if Path(p.file).name == file]


@pytest.mark.parametrize("case", HOSTILE, ids=[c.__name__ for c in HOSTILE])
def test_hostile_file_is_answered_with_its_location_and_reason(case, sources):
    file, expected = case(sources)
    found = problems_for(file)
    assert found, f"{case.__name__}: no problem reported for {file}"
    assert any(all(words in p for words in expected) for p in found), (
        f"{expected} not all in one of:\n" + "\n".join(found[:10])
    )
    assert all(p.startswith(str(sources / file)) for p in found)


@pytest.mark.parametrize("case", BENIGN, ids=[c.__name__ for c in BENIGN])
def test_harmless_variation_is_accepted(case, sources):
    file = case(sources)
    assert problems_for(file) == []


def test_sources_setting_naming_a_file_is_one_problem_naming_the_setting(tmp_path, monkeypatch):
    target = tmp_path / "not-a-folder.csv"
    target.write_text("x\n")
    monkeypatch.setenv(settings.SOURCES_ENV, str(target))
    (only,) = validate_all(SOURCE_SPECS)
    assert "OUTLOOK_SOURCES names a file, not a folder" in str(only)


def test_missing_sources_folder_names_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.SOURCES_ENV, str(tmp_path / "nowhere"))
    (only,) = validate_all(SOURCE_SPECS)
    assert "does not exist (set OUTLOOK_SOURCES" in str(only)


def test_unreadable_file_names_permission_and_setting(sources, monkeypatch):
    """The tests run as root, who may read anything, so the kernel's EACCES is raised for one
    path by the open call the reader makes."""
    import os

    real_open = os.open
    target = str(sources / "claims.csv")

    def denying_open(path, flags, *args, **kwargs):
        if os.fspath(path) == target:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denying_open)
    (problem,) = problems_for("claims.csv")
    assert "claims.csv: file: permission denied reading the file" in problem
    assert "OUTLOOK_SOURCES" in problem


def work_bound(raw: bytes, spec) -> int:
    """The most cells a linear validator may examine for a file of these bytes."""
    return (len(spec.schema.all_columns) + 1) * (raw.count(b"\n") + 2) + len(raw)


def assert_answered(raw: bytes, name: str) -> Validated:
    spec = SPECS[name]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        result = validate_file(path, spec.schema, None)
    assert isinstance(result, Validated)
    assert all(isinstance(p, Problem) and p.reason for p in result.problems)
    assert all(str(p).startswith(str(path)) for p in result.problems)
    assert result.cells_read <= work_bound(raw, spec)
    return result


FILES = sorted(SPECS)
PALETTE = [
    b'"',
    b",",
    b"\n",
    b"\r",
    b"\x00",
    b"\xef\xbb\xbf",
    "\u200b".encode(),
    "\u202e".encode(),
    "\u0430".encode(),
    "\uff11".encode(),
    b"_",
    b"\xff",
    b"1e999",
    b"-",
    b"2999-01-01",
    b"1500-01-01",
]


@st.composite
def mutated(draw):
    """A shipped file with a few random edits: bytes inserted, ranges deleted or duplicated,
    lines swapped, the file truncated."""
    name = draw(st.sampled_from(FILES))
    data = bytearray((SHIPPED / name).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "duplicate", "truncate", "swap"]))
        if op == "insert":
            piece = draw(st.one_of(st.sampled_from(PALETTE), st.binary(min_size=1, max_size=8)))
            data[at:at] = piece
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
        elif op == "truncate":
            del data[at:]
        else:
            lines = bytes(data).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
    return name, bytes(data)


@hypothesis_settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_shipped_files_are_answered_in_linear_work(case):
    name, raw = case
    assert_answered(raw, name)


@hypothesis_settings(max_examples=150)
@given(st.sampled_from(FILES), st.binary(max_size=4096))
def test_random_bytes_are_answered_in_linear_work(name, raw):
    result = assert_answered(raw, name)
    assert not result.ok or raw.strip()


FAILING_RUN = ["fifo", "symlink_loop", "future_published", "unterminated_quote", "nul_byte"]


@pytest.fixture(scope="module")
def claims_warehouse(tmp_path_factory):
    """A warehouse holding the published claims table of the shipped sources."""
    folder = tmp_path_factory.mktemp("claims") / "warehouse"
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as inst:
        mp.setenv(settings.WAREHOUSE_ENV, str(folder))
        mp.setenv(settings.SOURCES_ENV, str(SHIPPED))
        result = materialize(["claims"], inst)
        assert result.success, failure_messages(result)
    return folder


@pytest.mark.parametrize("name", FAILING_RUN)
def test_hostile_claims_file_fails_its_asset_and_keeps_the_published_table(
    name, claims_warehouse, sources, warehouse, instance
):
    shutil.copytree(claims_warehouse, warehouse)
    published = warehouse / "clean" / "claims.parquet"
    before = published.read_bytes()
    case = next(c for c in HOSTILE if c.__name__ == name)
    file, expected = case(sources)
    assert file == "claims.csv"
    result = materialize(["claims"], instance)
    assert not result.success
    message = failure_messages(result)
    assert all(words in message for words in expected), message
    assert published.read_bytes() == before


@hypothesis_settings(max_examples=6, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(PALETTE), min_size=1, max_size=3), st.integers(0, 10**6))
def test_a_failed_hostile_run_never_changes_the_published_table(claims_warehouse, pieces, seed):
    raw = bytearray((SHIPPED / "claims.csv").read_bytes())
    for k, piece in enumerate(pieces):
        at = (seed * (k + 7)) % len(raw)
        raw[at:at] = piece
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as mp:
        src, wh = Path(folder) / "sources", Path(folder) / "warehouse"
        shutil.copytree(SHIPPED, src)
        shutil.copytree(claims_warehouse, wh)
        (src / "claims.csv").write_bytes(bytes(raw))
        mp.setenv(settings.SOURCES_ENV, str(src))
        mp.setenv(settings.WAREHOUSE_ENV, str(wh))
        before = (wh / "clean" / "claims.parquet").read_bytes()
        with dg.instance_for_test() as inst:
            result = materialize(["claims"], inst)
        if not result.success:
            assert (wh / "clean" / "claims.parquet").read_bytes() == before
            assert "claims.csv" in failure_messages(result)
