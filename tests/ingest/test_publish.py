"""Write-audit-publish: a table that fails a blocking check never replaces the published one."""

from __future__ import annotations

import shutil

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest

from assets.ingest import SOURCE_SPECS
from assets.ingest.factory import validate_all
from pipelines import io, settings
from tests.helpers import failure_messages, materialize, set_cell

SHARE = ["china_chip_share"]
CLAIMS = ["claims"]
EVENTS = ["startups", "startup_events"]


def break_shares(src):
    """A row whose domestic and NVIDIA shares add up to more than 100%."""
    path = src / "china_chip_share.csv"
    set_cell(path, 2, "domestic_share_pct", "80")
    set_cell(path, 2, "nvidia_share_pct", "70")
    set_cell(path, 2, "imported_share_pct", "")
    return SHARE, "china_chip_share", "shares_consistent"


def break_claims(src):
    """An article row that says it is a datasheet figure."""
    set_cell(src / "claims.csv", 2, "kind", "spec")
    return CLAIMS, "claims", "all_rows_are_claims"


def break_events(src):
    """An event naming a company that startups.csv does not have."""
    set_cell(src / "startup_events.csv", 2, "company_id", "no-such-company")
    return EVENTS, "startup_events", "events_name_known_companies"


BREAKS = [break_shares, break_claims, break_events]


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory):
    """A warehouse holding the clean tables the cases touch, materialized once."""
    folder = tmp_path_factory.mktemp("good") / "warehouse"
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as inst:
        mp.setenv(settings.WAREHOUSE_ENV, str(folder))
        mp.setenv(settings.SOURCES_ENV, str(settings.PROJECT_ROOT / "data" / "sources"))
        first = materialize(SHARE + CLAIMS + EVENTS, inst)
        assert first.success, failure_messages(first)
    return folder


@pytest.mark.parametrize("case", BREAKS, ids=[c.__name__ for c in BREAKS])
def test_blocking_check_failure_leaves_published_table_byte_identical(
    case, good_warehouse, sources, warehouse, instance
):
    shutil.copytree(good_warehouse, warehouse)
    keys, asset, check = case(sources)
    published = warehouse / "clean" / f"{asset}.parquet"
    before = published.read_bytes()

    result = materialize(keys, instance)

    assert not result.success
    assert published.read_bytes() == before
    message = failure_messages(result)
    assert check in message and "not published" in message
    staged = warehouse / "rejected" / f"{asset}.staged.parquet"
    assert str(staged) in message
    refused = pd.read_parquet(staged)
    good = pd.read_parquet(published)
    assert len(refused) == len(good) and not refused.equals(good)
    evaluations = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert any(ev.check_name == check and not ev.passed for ev in evaluations)
    assert not list((warehouse / "clean").glob(".*.tmp"))


@pytest.mark.parametrize("case", BREAKS, ids=[c.__name__ for c in BREAKS])
def test_check_sources_reports_what_the_run_would(case, sources, warehouse):
    _, asset, check = case(sources)
    problems = validate_all(SOURCE_SPECS)
    assert [p for p in problems if check in p.reason and p.file.endswith(f"{asset}.csv")]


def test_check_sources_finds_nothing_in_the_shipped_files(sources, warehouse):
    assert validate_all(SOURCE_SPECS) == []


def test_a_fixed_file_publishes_and_clears_the_staged_table(sources, warehouse, instance):
    path = sources / "claims.csv"
    good = path.read_bytes()
    set_cell(path, 2, "kind", "spec")
    assert not materialize(CLAIMS, instance).success
    assert (warehouse / "rejected" / "claims.staged.parquet").exists()
    assert not (warehouse / "clean" / "claims.parquet").exists()
    path.write_bytes(good)
    assert materialize(CLAIMS, instance).success
    assert (warehouse / "clean" / "claims.parquet").exists()
    assert not (warehouse / "rejected" / "claims.staged.parquet").exists()


def test_audit_runs_on_the_staged_bytes_and_refuses(warehouse, tmp_path):
    target = warehouse / "clean" / "toy.parquet"
    io.publish_parquet(pa.table({"x": [1, 2]}), io.UPath(target))
    before = target.read_bytes()
    seen = []

    def audit(frame: pd.DataFrame) -> list[str]:
        seen.append(frame["x"].tolist())
        return [] if frame["x"].min() >= 0 else ["x below zero"]

    with pytest.raises(io.PublishRefused, match="x below zero"):
        io.publish_parquet(pa.table({"x": [-1, 5]}), io.UPath(target), [("positive", audit)], "toy")
    assert target.read_bytes() == before
    assert seen == [[-1, 5]]
    assert pd.read_parquet(warehouse / "rejected" / "toy.staged.parquet")["x"].tolist() == [-1, 5]
    io.publish_parquet(pa.table({"x": [3]}), io.UPath(target), [("positive", audit)], "toy")
    assert pd.read_parquet(target)["x"].tolist() == [3]
    assert sorted(p.name for p in target.parent.iterdir()) == ["toy.parquet"]
