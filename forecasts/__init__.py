"""Forecasts of API prices, startup survival and China's domestic chip share, with backtests.

``ASSETS``, ``ASSET_CHECKS``, ``VINTAGES``, ``FORECASTS``, ``forecast_job`` and
``forecast_schedule`` are what the Definitions wire in; they load on first use, so the model
modules (prices, survival, share, backtest) import without Dagster."""

from forecasts.common import set_thread_env

set_thread_env()

_WIRING = {
    "ASSETS": "forecasts.assets",
    "ASSET_CHECKS": "forecasts.assets",
    "VINTAGES": "forecasts.vintage",
    "FORECASTS": "forecasts.jobs",
    "forecast_job": "forecasts.jobs",
    "forecast_schedule": "forecasts.jobs",
}

__all__ = sorted(_WIRING)


def __getattr__(name: str):
    """Loads the Dagster wiring when one of its names is first asked for."""
    if name not in _WIRING:
        raise AttributeError(f"module 'forecasts' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(_WIRING[name]), name)
