"""Where the pipeline reads sources and writes Parquet: defaults, overridden by environment variables."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOURCES_ENV = "OUTLOOK_SOURCES"
WAREHOUSE_ENV = "OUTLOOK_WAREHOUSE"
UPSTREAM_ENV = "OUTLOOK_UPSTREAM"
SENSOR_INTERVAL_ENV = "OUTLOOK_SENSOR_INTERVAL_S"
#: Seconds between sensor ticks by default: a changed source reaches the report within about two.
SENSOR_INTERVAL_DEFAULT_S = 30
#: ``offline`` reads the upstream snapshots shipped in ``data/upstream``; ``online`` fetches them.
UPSTREAM_MODES = ("offline", "online")

#: Warehouse layers, one folder each: the data flow of the project.
LAYERS = ("raw", "clean", "derived", "forecasts", "report", "rejected")


def sources_dir() -> Path:
    """The folder of source CSVs: ``$OUTLOOK_SOURCES`` or the shipped ``data/sources``."""
    return Path(os.environ.get(SOURCES_ENV) or PROJECT_ROOT / "data" / "sources")


def warehouse_dir() -> str:
    """The Parquet warehouse root: ``$OUTLOOK_WAREHOUSE`` (a path or fsspec URL) or ``warehouse/``."""
    return os.environ.get(WAREHOUSE_ENV) or str(PROJECT_ROOT / "warehouse")


def layer_dir(layer: str) -> str:
    """The folder (or URL) of one warehouse layer."""
    if layer not in LAYERS:
        raise ValueError(f"unknown warehouse layer '{layer}'; expected one of {LAYERS}")
    return f"{warehouse_dir().rstrip('/')}/{layer}"


def upstream_mode() -> str:
    """``$OUTLOOK_UPSTREAM``: ``offline`` (the default, never touches the network) or ``online``."""
    mode = (os.environ.get(UPSTREAM_ENV) or "offline").strip().lower()
    if mode not in UPSTREAM_MODES:
        raise ValueError(f"{UPSTREAM_ENV}={mode!r}: expected one of {', '.join(UPSTREAM_MODES)}")
    return mode


def sensor_interval_seconds() -> int:
    """``$OUTLOOK_SENSOR_INTERVAL_S``: the least seconds between two ticks of each sensor (the source
    files sensor and the automation sensor), 30 by default; read when the definitions load."""
    raw = (os.environ.get(SENSOR_INTERVAL_ENV) or str(SENSOR_INTERVAL_DEFAULT_S)).strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{SENSOR_INTERVAL_ENV}={raw!r}: expected a whole number of seconds >= 1")
    return int(raw)
