"""Ingest: one asset per source file, validated into clean Parquet (``warehouse/clean/``)."""

from assets.ingest.claims import CLAIMS_SPEC
from assets.ingest.factory import SourceSpec, ingest_asset
from assets.ingest.hardware import CHIP_ALIASES_SPEC, HARDWARE_SPECS_SPEC
from assets.ingest.market_share import CHINA_CHIP_SHARE_SPEC
from assets.ingest.power import CHIP_PRICES_SPEC, GPU_RENTAL_PRICES_SPEC, POWER_OBSERVATIONS_SPEC
from assets.ingest.prices import API_PRICES_SPEC, FX_RATES_SPEC, PRICE_DECLINE_ESTIMATES_SPEC
from assets.ingest.scores import MODEL_ALIASES_SPEC, MODEL_SCORES_SPEC
from assets.ingest.startups import (
    MODEL_COUNTS_SPEC,
    STARTUP_EVENTS_SPEC,
    STARTUPS_SPEC,
)

#: Every source file, in dependency order (aliases and FX rates before the files that use them).
SOURCE_SPECS: tuple[SourceSpec, ...] = (
    CHIP_ALIASES_SPEC,
    FX_RATES_SPEC,
    HARDWARE_SPECS_SPEC,
    API_PRICES_SPEC,
    PRICE_DECLINE_ESTIMATES_SPEC,
    MODEL_SCORES_SPEC,
    MODEL_ALIASES_SPEC,
    STARTUPS_SPEC,
    STARTUP_EVENTS_SPEC,
    MODEL_COUNTS_SPEC,
    POWER_OBSERVATIONS_SPEC,
    GPU_RENTAL_PRICES_SPEC,
    CHIP_PRICES_SPEC,
    CHINA_CHIP_SHARE_SPEC,
    CLAIMS_SPEC,
)

ASSETS = [ingest_asset(spec) for spec in SOURCE_SPECS]
#: Checks defined outside the ingest assets (every ingest check is declared on its source spec).
ASSET_CHECKS: list = []
