"""Shared fixtures: a private copy of the shipped sources and an empty warehouse per test, and one
full pipeline run per session that the tests which only read its outputs share."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from _pytest.nodeid import NodeId
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from pipelines import settings

# No test's verdict may depend on machine load: hypothesis runs without a deadline everywhere, and
# CI (CI=true) runs the same examples with a fixed derandomised seed so a red run is reproducible.
hypothesis_settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")

SHIPPED_SOURCES = settings.PROJECT_ROOT / "data" / "sources"

#: Session fixtures that each pytest-xdist worker would build for itself (the objects they hold do
#: not cross processes): `make test` runs every test that uses one on the same worker.
PER_WORKER_SESSION_FIXTURES = ("pipeline_run", "postgres_server")


def _xdist_group(item: pytest.Item) -> str | None:
    """The worker group of a test under `--dist loadgroup`: the session fixture it shares, else
    its module where it uses a module-scoped fixture (built once, on one worker), else none."""
    for name in PER_WORKER_SESSION_FIXTURES:
        if name in item.fixturenames:
            return name
    fixture_info = getattr(item, "_fixtureinfo", None)
    defs = fixture_info.name2fixturedefs.values() if fixture_info else ()
    if any(d and d[-1].scope == "module" for d in defs):
        return item.nodeid.split("::")[0]
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist: marks each test's worker group (see _xdist_group) and hands out the slow
    tests first, so that no long test starts last. A plain run keeps the files' order."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for item in items:
        group = _xdist_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_xdist_group_ids(items: list[pytest.Item]) -> None:
    """pytest-xdist 3.8 groups a test by appending `@group` to the legacy `_nodeid` attribute,
    which pytest 9.2's structured node ids no longer read, so the groups are silently ignored
    (pytest-xdist issue 1386). This carries the suffixed id over; without `_nodeid` it does nothing."""
    for item in items:
        legacy = item.__dict__.get("_nodeid")
        if isinstance(legacy, str) and legacy != item.nodeid:
            item._id = NodeId.parse(legacy)


@pytest.fixture
def sources(tmp_path, monkeypatch) -> Path:
    """A writable copy of the shipped source files, used by the pipeline through OUTLOOK_SOURCES."""
    folder = tmp_path / "sources"
    shutil.copytree(SHIPPED_SOURCES, folder)
    monkeypatch.setenv(settings.SOURCES_ENV, str(folder))
    return folder


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    """An empty warehouse folder, used through OUTLOOK_WAREHOUSE."""
    folder = tmp_path / "warehouse"
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(folder))
    return folder


@pytest.fixture
def instance():
    """A throwaway in-memory Dagster instance."""
    with dg.instance_for_test() as inst:
        yield inst


@dataclass(frozen=True)
class PipelineRun:
    """Every pipeline job run once on the shipped sources: the warehouse it wrote, each job's
    result by name, and the instance holding the runs. Tests only read it."""

    warehouse: Path
    results: dict[str, dg.ExecuteInProcessResult]
    instance: dg.DagsterInstance


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory) -> PipelineRun:
    """The full pipeline (the command line's jobs, newest vintage) materialized once per session
    into a private warehouse; the environment points there only while the jobs run."""
    from pipelines.definitions import defs
    from pipelines.jobs import PIPELINE_JOBS

    root = tmp_path_factory.mktemp("pipeline")
    folder = root / "warehouse"
    patch = pytest.MonkeyPatch()
    with dg.instance_for_test() as inst:
        results = {}
        try:
            patch.setenv(settings.SOURCES_ENV, str(shutil.copytree(SHIPPED_SOURCES, root / "src")))
            patch.setenv(settings.WAREHOUSE_ENV, str(folder))
            for name in PIPELINE_JOBS:
                job = defs.resolve_job_def(name)
                keys = job.partitions_def.get_partition_keys() if job.partitions_def else [None]
                results[name] = job.execute_in_process(
                    instance=inst, partition_key=keys[-1], raise_on_error=False
                )
        finally:
            patch.undo()
        yield PipelineRun(folder, results, inst)


@pytest.fixture
def warehouse_copy(pipeline_run, tmp_path, monkeypatch) -> Path:
    """A writable copy of the session run's warehouse, used through OUTLOOK_WAREHOUSE, for tests
    that run assets again on top of the full run's outputs."""
    folder = shutil.copytree(pipeline_run.warehouse, tmp_path / "warehouse")
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(folder))
    return folder
