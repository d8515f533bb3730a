"""The source-file sensor asks for a run of exactly the assets whose file content changed."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from pipelines import settings
from pipelines.definitions import defs
from pipelines.sensors import changed_assets, fingerprints, source_files_sensor


def test_changed_assets_compares_digests():
    assert changed_assets({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "4"}) == ["b", "c"]
    assert changed_assets({"a": "1"}, {"a": "1"}) == []


def test_sensor_records_then_requests_changed_sources(sources, instance):
    ctx = dg.build_sensor_context(instance=instance, definitions=defs)
    first = source_files_sensor(ctx)
    assert isinstance(first, dg.SkipReason)
    cursor = json.loads(ctx.cursor)
    assert cursor == fingerprints() and "hardware_specs" in cursor

    ctx = dg.build_sensor_context(instance=instance, cursor=ctx.cursor, definitions=defs)
    assert isinstance(source_files_sensor(ctx), dg.SkipReason)

    path = sources / "api_prices.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    ctx = dg.build_sensor_context(instance=instance, cursor=ctx.cursor, definitions=defs)
    request = source_files_sensor(ctx)
    assert isinstance(request, dg.RunRequest)
    assert request.asset_selection == [dg.AssetKey("api_prices")]
    assert request.run_key.startswith("sources:")
    assert json.loads(ctx.cursor)["api_prices"] == fingerprints()["api_prices"]


def test_sensor_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(settings.SENSOR_INTERVAL_ENV, raising=False)
    assert settings.sensor_interval_seconds() == 30
    assert source_files_sensor.minimum_interval_seconds == 30  # the shipped definitions' value
    monkeypatch.setenv(settings.SENSOR_INTERVAL_ENV, " 5 ")
    assert settings.sensor_interval_seconds() == 5
    for bad in ("0", "-3", "2.5", "soon"):
        monkeypatch.setenv(settings.SENSOR_INTERVAL_ENV, bad)
        with pytest.raises(ValueError, match="OUTLOOK_SENSOR_INTERVAL_S"):
            settings.sensor_interval_seconds()
