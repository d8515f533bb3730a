"""Derived metrics computed by rust_core from the clean tables (``warehouse/derived/``)."""

from assets.derived.chip_metrics import chip_metrics

ASSETS = [chip_metrics]
JOBS: list = []
