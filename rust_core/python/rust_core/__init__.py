"""Compute Outlook's Rust core: typed, columnar wrappers over the native module.

Every function takes a pandas DataFrame (or a pyarrow Table) with one scenario per row and returns a
DataFrame on the same index. Columns go to Rust as float64 arrays; the interpreter is released while
Rust computes across all cores. An invalid row raises ``ValueError`` naming the row (0-based
position) and the field.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from rust_core import _native

__all__ = [
    "CHIP_INPUT_COLUMNS",
    "TRAIN_INPUT_COLUMNS",
    "TRAIN_CONSTANT_COLUMNS",
    "TRAIN_LAYOUT_COLUMNS",
    "calibration",
    "chip_metrics",
    "train_scenarios",
]

CHIP_INPUT_COLUMNS = ("peak_tflops", "memory_bw_gbps", "interconnect_gbps", "tdp_w", "price_usd")

TRAIN_INPUT_COLUMNS = (
    "peak_tflops",
    "memory_gb",
    "memory_bw_gbps",
    "scale_up_gbps",
    "scale_up_domain_chips",
    "scale_out_gbps",
    "power_w_per_chip",
    "pue",
    "price_usd_per_chip_hour",
    "params_b",
    "active_params_b",
    "layers",
    "hidden",
    "heads",
    "seq_len",
    "vocab",
    "experts",
    "top_k",
    "chips",
    "global_batch_tokens",
    "training_tokens",
)
TRAIN_CONSTANT_COLUMNS = (
    "compute_efficiency",
    "gemm_half_size",
    "scale_up_efficiency",
    "scale_out_efficiency",
    "dp_overlap_fraction",
    "usable_memory_fraction",
)
TRAIN_LAYOUT_COLUMNS = ("tp", "pp", "dp", "ep", "micro_batch", "zero_stage", "recompute")
_TRAIN_INT_OUTPUTS = (
    "tp",
    "pp",
    "dp",
    "ep",
    "micro_batch",
    "zero_stage",
    "recompute",
    "chips_used",
)


@cache
def calibration() -> dict[str, Any]:
    """The calibrated constants file embedded in the build (constants, rows fitted, errors)."""
    return json.loads(_native.calibration_json())


def _frame(table: Any) -> pd.DataFrame:
    """Accepts a pandas DataFrame or anything with ``to_pandas()`` (a pyarrow Table)."""
    if isinstance(table, pd.DataFrame):
        return table
    if hasattr(table, "to_pandas"):
        return table.to_pandas()
    raise TypeError(f"expected a pandas DataFrame or pyarrow Table, got {type(table).__name__}")


def _float_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """One input column as contiguous float64 (missing values become NaN)."""
    if name not in frame.columns:
        raise ValueError(f"missing input column '{name}'")
    values = pd.to_numeric(frame[name], errors="coerce")
    bad = values.isna() & frame[name].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"row {row}: field '{name}': not a number: {frame[name].iloc[row]!r}")
    return np.ascontiguousarray(values.to_numpy(dtype=np.float64, na_value=np.nan))


def _columns(
    frame: pd.DataFrame, required: tuple[str, ...], defaults: dict[str, float]
) -> dict[str, np.ndarray]:
    """Required columns, plus optional ones filled with a default where absent or NaN."""
    cols = {name: _float_column(frame, name) for name in required}
    for name, default in defaults.items():
        if name in frame.columns:
            values = _float_column(frame, name)
            cols[name] = np.where(np.isnan(values), default, values)
        else:
            cols[name] = np.full(len(frame), default, dtype=np.float64)
    return cols


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


def train_scenarios(scenarios: Any) -> pd.DataFrame:
    """Best parallel layout and predicted MFU, time, energy and cost of each training scenario.

    Required input columns:
    chip: ``peak_tflops`` (dense TFLOPS at the run's precision), ``memory_gb`` (GB per chip),
    ``memory_bw_gbps`` (GB/s), ``scale_up_gbps`` (GB/s per chip), ``scale_up_domain_chips``,
    ``scale_out_gbps`` (GB/s per chip), ``power_w_per_chip`` (IT W per chip incl. server share),
    ``pue`` (>= 1), ``price_usd_per_chip_hour``;
    model: ``params_b``, ``active_params_b`` (billions), ``layers``, ``hidden``, ``heads``,
    ``seq_len`` (tokens), ``vocab``, ``experts`` (1 = dense), ``top_k``;
    run: ``chips``, ``global_batch_tokens``, ``training_tokens``.
    Optional: the constants in ``TRAIN_CONSTANT_COLUMNS`` (default: the calibrated values) and a
    fixed layout ``tp, pp, dp, ep, micro_batch, zero_stage (0-3), recompute (0 none, 1 selective,
    2 full)`` (all or none per row; none = search every layout).

    Output columns: ``feasible`` (some layout fits in memory), ``layouts_evaluated``, the best
    layout (``tp`` ... ``recompute``, ``chips_used``), ``memory_per_chip_gb``, ``step_time_s``,
    ``tokens_per_s``, ``mfu`` and ``hfu`` (fractions of peak), ``days_to_train``, ``chip_hours``,
    ``energy_mwh`` (with PUE), ``cost_usd``; NaN / <NA> where no layout fits.
    """
    frame = _frame(scenarios)
    defaults = dict(calibration()["constants"])
    defaults.update({name: np.nan for name in TRAIN_LAYOUT_COLUMNS})
    cols = _columns(frame, TRAIN_INPUT_COLUMNS, defaults)
    out = pd.DataFrame(_native.train_scenarios(cols, len(frame)), index=frame.index)
    out["feasible"] = out["feasible"].astype(bool)
    out["layouts_evaluated"] = out["layouts_evaluated"].astype(np.int64)
    for name in _TRAIN_INT_OUTPUTS:
        out[name] = out[name].astype("Int64")
    return out
