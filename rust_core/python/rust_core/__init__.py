"""Compute Outlook's Rust core: typed, columnar wrappers over the native module."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rust_core import _native

__all__ = ["chip_metrics"]

CHIP_INPUT_COLUMNS = ("peak_tflops", "memory_bw_gbps", "interconnect_gbps", "tdp_w", "price_usd")


def _float_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """One input column as contiguous float64 (missing values become NaN)."""
    if name not in frame.columns:
        raise ValueError(f"missing input column '{name}'")
    return np.ascontiguousarray(pd.to_numeric(frame[name], errors="raise"), dtype=np.float64)


def chip_metrics(chips: pd.DataFrame) -> pd.DataFrame:
    """Per-chip efficiency metrics.

    Input columns: ``peak_tflops`` (required, > 0), ``memory_bw_gbps`` (GB/s),
    ``interconnect_gbps`` (GB/s per chip), ``tdp_w`` (W), ``price_usd`` (USD per chip); NaN = unknown.
    Output columns (same index): ``tflops_per_w``, ``tflops_per_kusd`` (TFLOPS per 1,000 USD),
    ``ridge_flop_per_byte`` (peak FLOP/s over memory B/s), ``interconnect_bytes_per_kflop``.
    Raises ``ValueError`` naming the row and field of the first invalid value.
    """
    cols = {name: _float_column(chips, name) for name in CHIP_INPUT_COLUMNS}
    out = _native.chip_metrics(**cols)
    return pd.DataFrame(out, index=chips.index)
