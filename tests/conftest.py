"""Shared fixtures: a private copy of the shipped sources and an empty warehouse per test."""

from __future__ import annotations

import os
import shutil
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
