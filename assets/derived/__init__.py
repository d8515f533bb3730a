"""Derived metrics computed by rust_core from the clean tables (``warehouse/derived/``)."""

from assets.derived import perf_assets
from assets.derived.chip_metrics import chip_metrics
from assets.derived.chip_specs import chip_specs

ASSETS = [chip_specs, chip_metrics, *perf_assets.ASSETS]
JOBS: list = [*perf_assets.JOBS]
