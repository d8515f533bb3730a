"""Freshness checks on every upstream and ingest asset: warn after 8 days without a new update."""

from __future__ import annotations

import warnings
from datetime import timedelta

import dagster as dg

import assets.ingest
import assets.upstream

#: An upstream or ingest asset not refreshed for this long gets a WARN freshness check.
FRESHNESS_WINDOW = timedelta(days=8)

# Freshness checks, not the newer FreshnessPolicy: the policies are a preview feature that needs an
# instance flag, while checks show as WARN results on the asset page with the plain instance.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    FRESHNESS_CHECKS = dg.build_last_update_freshness_checks(
        assets=[*assets.upstream.ASSETS, *assets.ingest.ASSETS],
        lower_bound_delta=FRESHNESS_WINDOW,
        severity=dg.AssetCheckSeverity.WARN,
    )
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=FRESHNESS_CHECKS,
        name="freshness_checks_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=3600,
    )
