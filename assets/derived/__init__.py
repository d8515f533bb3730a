"""Derived metrics computed by rust_core from the clean tables (``warehouse/derived/``)."""

from assets.derived import perf_assets, what_if_assets
from assets.derived.chip_metrics import chip_metrics
from assets.derived.chip_specs import chip_specs
from assets.derived.model_validation import model_validation

ASSETS = [
    chip_specs,
    chip_metrics,
    *perf_assets.ASSETS,
    model_validation,
    *what_if_assets.ASSETS,
]
JOBS: list = [*what_if_assets.JOBS]
