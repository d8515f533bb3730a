"""Shared fixtures: a private copy of the shipped sources and an empty warehouse per test, and one
full pipeline run per session that the tests which only read its outputs share."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
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
