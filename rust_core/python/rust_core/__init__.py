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
    "TRAIN_SHAPE_COLUMNS",
    "INFERENCE_INPUT_COLUMNS",
    "CHIP_FIELDS",
    "calibration",
    "chip_metrics",
    "compute_efficiency_for",
    "efficiency_family",
    "cluster_equivalence",
    "datacenter_power",
    "inference_costs",
    "smoothing_states",
    "train_scenarios",
    "train_uncertainty",
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
    "tp_overlap_fraction",
    "ep_overlap_fraction",
)
TRAIN_LAYOUT_COLUMNS = (
    "tp",
    "pp",
    "dp",
    "ep",
    "micro_batch",
    "zero_stage",
    "recompute",
    "vpp",
    "cp",
)
#: Optional model-shape columns of the training functions; absent or NaN = the GPT default
#: (``kv_heads`` = ``heads``, ``ffn_hidden`` = 4 x ``hidden``, ``gated_mlp`` = 0).
TRAIN_SHAPE_COLUMNS = ("kv_heads", "ffn_hidden", "gated_mlp")
CHIP_FIELDS = TRAIN_INPUT_COLUMNS[:9]
TRAIN_MODEL_COLUMNS = tuple(c for c in TRAIN_INPUT_COLUMNS[9:] if c != "chips")
UNCERTAIN_CONSTANTS = (
    "compute_efficiency",
    "scale_up_efficiency",
    "scale_out_efficiency",
    "dp_overlap_fraction",
)
INFERENCE_INPUT_COLUMNS = (
    "peak_tflops",
    "memory_gb",
    "memory_bw_gbps",
    "scale_up_gbps",
    "price_usd_per_chip_hour",
    "params_b",
    "active_params_b",
    "layers",
    "hidden",
    "heads",
    "kv_heads",
    "experts",
    "top_k",
    "weight_bits",
    "tp",
    "prompt_tokens",
    "output_tokens",
    "max_batch",
)
_TRAIN_INT_OUTPUTS = (
    "tp",
    "cp",
    "pp",
    "vpp",
    "dp",
    "ep",
    "micro_batch",
    "zero_stage",
    "recompute",
    "chips_used",
)
_PRACTITIONER_INT_OUTPUTS = tuple(
    f"practitioner_{name}" for name in _TRAIN_INT_OUTPUTS if name != "chips_used"
)
#: The practitioner layout family by the native code (docs/model.md, "Practitioner layouts").
PRACTITIONER_FAMILIES = {1: "fsdp", 2: "megatron", 3: "megatron-moe"}


@cache
def calibration() -> dict[str, Any]:
    """The calibrated constants file embedded in the build (constants, rows fitted, errors)."""
    return json.loads(_native.calibration_json())


#: Chip-id prefixes of each calibrated compute-efficiency family (same die, same efficiency).
_FAMILY_PREFIXES = {
    "a100": ("nvidia-a100", "nvidia-a800"),
    "h100": ("nvidia-h100", "nvidia-h800"),
    "ascend-910b": ("huawei-ascend-910b",),
}


def efficiency_family(chip_id: str, precision: str) -> str | None:
    """The calibration family (``<chip>-<precision>``) a chip belongs to, None when it has none."""
    for family, prefixes in _FAMILY_PREFIXES.items():
        if chip_id.startswith(prefixes):
            key = f"{family}-{precision}"
            return key if key in calibration()["compute_efficiency_by_family"] else None
    return None


def compute_efficiency_for(chip_id: str, precision: str) -> float:
    """Calibrated compute efficiency of a chip at a precision: its family's value, otherwise the
    stated default (A100 BF16 at bf16, H100 FP8 at fp8: an assumption, no run of that chip)."""
    effs = calibration()["compute_efficiency_by_family"]
    family = efficiency_family(chip_id, precision)
    if family is not None:
        return float(effs[family])
    return float(effs["h100-fp8" if precision == "fp8" else "a100-bf16"])


def _frame(table: Any) -> pd.DataFrame:
    """Accepts a pandas DataFrame, anything with ``to_pandas()`` (a pyarrow Table) or a dict of
    columns; a column name given twice is an error naming it."""
    if isinstance(table, pd.DataFrame):
        frame = table
    elif hasattr(table, "to_pandas"):
        frame = table.to_pandas()
    elif isinstance(table, dict):
        frame = pd.DataFrame(table)
    else:
        raise TypeError(
            f"expected a pandas DataFrame, pyarrow Table or dict of columns, got "
            f"{type(table).__name__}"
        )
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        raise ValueError(f"column '{duplicated[0]}' appears more than once")
    return frame


def _float_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """One input column as contiguous float64 (missing values become NaN)."""
    if name not in frame.columns:
        raise ValueError(f"missing input column '{name}'")
    column = frame[name]
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "fiub":
        return np.ascontiguousarray(column.to_numpy(dtype=np.float64))  # nothing to reject
    values = pd.to_numeric(column, errors="coerce")
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


def chip_metrics(chips: Any) -> pd.DataFrame:
    """Per-chip efficiency metrics.

    Input columns: ``peak_tflops`` (required, > 0), ``memory_bw_gbps`` (GB/s),
    ``interconnect_gbps`` (GB/s per chip), ``tdp_w`` (W), ``price_usd`` (USD per chip); NaN = unknown.
    Output columns (same index): ``tflops_per_w``, ``tflops_per_kusd`` (TFLOPS per 1,000 USD),
    ``ridge_flop_per_byte`` (peak FLOP/s over memory B/s), ``interconnect_bytes_per_kflop``.
    Raises ``ValueError`` naming the row and field of the first invalid value.
    """
    frame = _frame(chips)
    cols = {name: _float_column(frame, name) for name in CHIP_INPUT_COLUMNS}
    out = _native.chip_metrics(**cols)
    return pd.DataFrame(out, index=frame.index)


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
    Optional: the model shape in ``TRAIN_SHAPE_COLUMNS`` -- ``kv_heads`` (grouped-query attention,
    default ``heads``), ``ffn_hidden`` (dense MLP intermediate size, default 4 x ``hidden``),
    ``gated_mlp`` (1 = SwiGLU-style gated MLP, default 0); the constants in
    ``TRAIN_CONSTANT_COLUMNS`` (default: the calibrated values) and a
    fixed layout ``tp, pp, dp, ep, micro_batch, zero_stage (0-3), recompute (0 none, 1 selective,
    2 full)`` (all or none per row; none = search every layout).

    Output columns: ``feasible`` (some layout fits in memory), ``layouts_evaluated``, the best
    layout (``tp`` ... ``recompute``, ``chips_used``), ``memory_per_chip_gb``, ``step_time_s``,
    ``tokens_per_s``, ``mfu`` and ``hfu`` (fractions of peak), ``days_to_train``, ``chip_hours``,
    ``energy_mwh`` (with PUE), ``cost_usd``; NaN / <NA> where no layout fits.
    Beside the searched best, the layout practitioners would run at that scale, by the same model:
    ``practitioner_family`` (``fsdp``, ``megatron``, ``megatron-moe``), its layout
    (``practitioner_tp`` ... ``practitioner_recompute``), ``practitioner_memory_per_chip_gb``,
    ``practitioner_tokens_per_s``, ``practitioner_mfu`` (fraction; NaN where it does not fit) and
    ``mfu_gap_pts`` (searched minus practitioner MFU, percentage points, >= 0).
    """
    frame = _frame(scenarios)
    cols = _columns(frame, TRAIN_INPUT_COLUMNS, _train_defaults())
    raw = _native.train_scenarios(cols, len(frame))
    raw["feasible"] = raw["feasible"].astype(bool)
    raw["layouts_evaluated"] = raw["layouts_evaluated"].astype(np.int64)
    for name in (*_TRAIN_INT_OUTPUTS, *_PRACTITIONER_INT_OUTPUTS):
        raw[name] = _nullable_ints(raw[name])
    family = pd.Series(raw["practitioner_family"]).map(PRACTITIONER_FAMILIES)
    raw["practitioner_family"] = family.astype("string").array
    raw["mfu_gap_pts"] = (raw["mfu"] - raw["practitioner_mfu"]) * 100
    return pd.DataFrame(raw, index=frame.index)


def _nullable_ints(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Whole numbers the native code returns as floats (NaN = none) as a nullable Int64 array."""
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def _train_defaults() -> dict[str, float]:
    """Calibrated constants; layout columns default to NaN (search)."""
    defaults = dict(calibration()["constants"])
    defaults.update({name: np.nan for name in (*TRAIN_LAYOUT_COLUMNS, *TRAIN_SHAPE_COLUMNS)})
    return defaults


def train_uncertainty(scenarios: Any) -> pd.DataFrame:
    """Seeded Monte Carlo percentiles (5, 50, 95) of MFU and run cost per training scenario.

    Input: the ``train_scenarios`` columns plus ``mc_samples``, ``mc_seed`` (whole number) and a
    uniform band ``<name>_low`` / ``<name>_high`` for each of ``compute_efficiency``,
    ``scale_up_efficiency``, ``scale_out_efficiency``, ``dp_overlap_fraction`` (default: the bands in
    the calibration file, compute efficiency relative to the row's own value) and ``price_usd_per_chip_hour`` (default: the row's price, no spread).
    The price is drawn from a split uniform with its median at the row's price (half the draws in
    ``[low, price]``, half in ``[price, high]``), so the cost band contains the nominal cost.
    The nominal best layout is found first, then re-evaluated under each draw.
    Output: ``mfu_p5, mfu_p50, mfu_p95`` (fractions), ``cost_usd_p5, cost_usd_p50, cost_usd_p95``.
    """
    frame = _frame(scenarios)
    defaults = _train_defaults()
    bands = calibration()["monte_carlo_bands"]
    for name in UNCERTAIN_CONSTANTS[1:]:
        defaults[f"{name}_low"], defaults[f"{name}_high"] = bands[name]
    cols = _columns(frame, (*TRAIN_INPUT_COLUMNS, "mc_samples", "mc_seed"), defaults)
    # Compute efficiency: the calibrated relative band around each row's own (family) value.
    low, high = bands["compute_efficiency_relative"]
    for end, factor in (("low", low), ("high", high)):
        name = f"compute_efficiency_{end}"
        given = _float_column(frame, name) if name in frame.columns else np.full(len(frame), np.nan)
        own = np.clip(cols["compute_efficiency"] * factor, 1e-6, 1.0)
        cols[name] = np.where(np.isnan(given), own, given)
    for end in ("low", "high"):
        name = f"price_usd_per_chip_hour_{end}"
        given = _float_column(frame, name) if name in frame.columns else np.full(len(frame), np.nan)
        cols[name] = np.where(np.isnan(given), cols["price_usd_per_chip_hour"], given)
    return pd.DataFrame(_native.train_uncertainty(cols, len(frame)), index=frame.index)


def inference_costs(scenarios: Any) -> pd.DataFrame:
    """Serving throughput, latency and cost per 1M tokens of each scenario.

    Required input columns: chip ``peak_tflops`` (dense TFLOPS at the serving precision),
    ``memory_gb``, ``memory_bw_gbps`` (GB/s), ``scale_up_gbps`` (GB/s per chip),
    ``price_usd_per_chip_hour``; model ``params_b``, ``active_params_b`` (billions), ``layers``,
    ``hidden``, ``heads``, ``kv_heads`` (grouped-query KV heads), ``experts`` (1 = dense),
    ``top_k``; serving ``weight_bits`` (16 bf16, 8 fp8/int8, 4 int4), ``tp`` (chips per replica),
    ``prompt_tokens``, ``output_tokens`` (per request), ``max_batch`` (sequences).
    Optional: ``kv_bits`` (16), speculative decoding ``draft_params_b`` (billions, 0 = none),
    ``draft_length`` (tokens drafted per step), ``acceptance_rate`` (0-1); ``compute_efficiency``,
    ``scale_up_efficiency``, ``usable_memory_fraction`` (calibrated/training values) and
    ``memory_bw_efficiency`` (default 1.0 = roofline, so costs are lower bounds).

    Output: ``feasible`` (weights plus one request's KV cache fit), ``batch`` (sequences decoded
    together), ``weights_gb_per_chip``, ``kv_cache_gb_per_seq``, ``decode_step_s`` (one plain
    target step), ``memory_bound``, ``tokens_per_target_step``, ``spec_speedup`` (vs no draft),
    ``latency_s_per_output_token``, ``decode_tokens_per_s_per_chip``,
    ``prefill_tokens_per_s_per_chip``, ``cost_usd_per_mtok_output``, ``cost_usd_per_mtok_input``.
    """
    frame = _frame(scenarios)
    constants = calibration()["constants"]
    defaults = {
        "kv_bits": 16.0,
        "draft_params_b": 0.0,
        "draft_length": 0.0,
        "acceptance_rate": 0.0,
        "compute_efficiency": constants["compute_efficiency"],
        "memory_bw_efficiency": calibration()["inference"]["memory_bw_efficiency"],
        "scale_up_efficiency": constants["scale_up_efficiency"],
        "usable_memory_fraction": constants["usable_memory_fraction"],
    }
    cols = _columns(frame, INFERENCE_INPUT_COLUMNS, defaults)
    out = pd.DataFrame(_native.inference_costs(cols, len(frame)), index=frame.index)
    out["feasible"] = out["feasible"].astype(bool)
    out["memory_bound"] = out["memory_bound"].astype(bool)
    return out


def cluster_equivalence(scenarios: Any) -> pd.DataFrame:
    """Chips of type B needed to match the effective training throughput of N chips of type A.

    Input columns: the chip fields of ``train_scenarios`` twice, prefixed ``a_`` and ``b_``
    (``a_peak_tflops``, ``b_peak_tflops``, ...); the model and run columns (``params_b`` ...
    ``global_batch_tokens``, ``training_tokens``; optional ``TRAIN_SHAPE_COLUMNS``); ``chips_a``
    (N_A); ``max_chips_b`` (search
    limit); optional ``chips_b_eval`` (a given N_B to compare, e.g. 10,000) and constants.
    The solver runs a full layout search at every N it tries, so scale-out efficiency changes
    with N.
    Output: ``tokens_per_s_a``, ``mfu_a``, ``chips_b_needed`` (NaN if not reached by
    ``max_chips_b``), ``tokens_per_s_b_needed``, ``mfu_b_needed``, ``tokens_per_s_b_eval``,
    ``mfu_b_eval``, ``throughput_ratio_b_eval_vs_a`` (NaN, never inf, when a side has no
    feasible layout), ``searches``, ``reason`` (why an output is NaN; empty when none is).
    Constants may be given per chip (``a_compute_efficiency``, ``b_compute_efficiency``, ...).
    """
    frame = _frame(scenarios)
    required = (
        *(f"a_{c}" for c in CHIP_FIELDS),
        *(f"b_{c}" for c in CHIP_FIELDS),
        *TRAIN_MODEL_COLUMNS,
        "chips_a",
        "max_chips_b",
    )
    defaults = dict(calibration()["constants"])
    defaults["chips_b_eval"] = np.nan
    defaults.update({name: np.nan for name in TRAIN_SHAPE_COLUMNS})
    cols = _columns(frame, required, defaults)
    for name in TRAIN_CONSTANT_COLUMNS:
        for prefix in ("a_", "b_"):
            if f"{prefix}{name}" in frame.columns:
                own = _float_column(frame, f"{prefix}{name}")
                cols[f"{prefix}{name}"] = np.where(np.isnan(own), cols[name], own)
    out = pd.DataFrame(_native.cluster_equivalence(cols, len(frame)), index=frame.index)
    out["chips_b_needed"] = out["chips_b_needed"].astype("Int64")
    out["searches"] = out["searches"].astype(np.int64)
    out["reason"] = out.pop("status").map(EQUIVALENCE_REASONS).astype("string")
    return out


#: Why an equivalence output is NaN, by the native status code.
EQUIVALENCE_REASONS = {
    0: "",
    1: "chip A: no layout fits in memory at chips_a",
    2: "chip B: no layout fits in memory at chips_b_eval",
    3: "chip B does not reach chip A's throughput by max_chips_b",
}


def datacenter_power(clusters: Any) -> pd.DataFrame:
    """All-in megawatts of each cluster with a seeded Monte Carlo band.

    Input columns: ``chips``; ``power_w_per_chip_low`` / ``_high`` (IT watts per chip including
    its share of server and network); ``pue_low`` / ``pue_high``; ``mc_samples``; ``mc_seed``.
    Output: ``it_mw`` and ``facility_mw`` at the band midpoints (facility = IT x PUE) and
    ``facility_mw_p5``, ``facility_mw_p50``, ``facility_mw_p95``.
    """
    frame = _frame(clusters)
    names = (
        "chips",
        "power_w_per_chip_low",
        "power_w_per_chip_high",
        "pue_low",
        "pue_high",
        "mc_samples",
        "mc_seed",
    )
    cols = _columns(frame, names, {})
    return pd.DataFrame(_native.datacenter_power(cols, len(frame)), index=frame.index)


def smoothing_states(
    y: np.ndarray, alpha: np.ndarray, beta: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The state recursion of exponential smoothing with additive errors over a grid of
    smoothing parameters (``alpha``, ``beta``, ``phi``, one value per grid point), for three
    linear systems: the data ``y`` from zero initial states, a unit initial level and a unit
    initial slope with no data (what ``forecasts.ets`` solves by least squares).

    Returns the states after each step, shape (len(y), 2, 3, grid): level then slope of each
    system; and the running sums over the steps of the residuals' cross-products, shape
    (6, len(y), grid): with ``r0`` the data system's residual and ``r1``, ``r2`` the other two
    negated, ``r0 r0``, ``r0 r1``, ``r0 r2``, ``r1 r1``, ``r1 r2``, ``r2 r2``. Raises
    ``ValueError`` naming a value that is not a finite number or a grid whose columns differ in
    length."""
    arrays = [np.ascontiguousarray(v, dtype=np.float64) for v in (y, alpha, beta, phi)]
    states, cross = _native.smoothing_states(*arrays)
    steps, grid = len(arrays[0]), len(arrays[1])
    return states.reshape(steps, 2, 3, grid), cross.reshape(6, steps, grid)
