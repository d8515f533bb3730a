"""Fits the training model's efficiency constants to the published runs of the two calibration sets.

Reads ``data/sources/mfu_calibration.csv`` (15 Megatron-LM runs on A100) and
``data/sources/mfu_calibration_v2.csv`` (11 runs: ZeRO-3 and FSDP on A100/H100, FP8, MegaScale,
NeMo, DeepSeek-V3, Pangu Ultra on Ascend), predicts every row with its published layout through
``rust_core.train_scenarios``, fits the constants by least squares on MFU (percentage points) and
scores the fit in sample, leave-one-out and leave-one-family-out (a family = one publication/stack).
Writes ``rust_core/calibration/constants.json`` (constants, per-family compute efficiency, every
row with its errors) and the calibration table in ``docs/model.md``. Run from the repository root:
``.venv/bin/python rust_core/calibration/fit_calibration.py``; then rebuild rust_core (the constants
file is embedded at build time). No other published run enters the fit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

import rust_core

ROOT = Path(__file__).resolve().parents[2]
ROWS_V1 = ROOT / "data" / "sources" / "mfu_calibration.csv"
ROWS_V2 = ROOT / "data" / "sources" / "mfu_calibration_v2.csv"
OUT = Path(__file__).resolve().parent / "constants.json"
DOC = ROOT / "docs" / "model.md"
TABLE_START, TABLE_END = "<!-- calibration-table:start -->", "<!-- calibration-table:end -->"

# DGX A100 80GB as the first set describes it: memory 2,039 GB/s and NVLink 600 GB/s per GPU (NVIDIA
# A100 datasheet, reference chip_specs.csv "A100 SXM 80GB"); 8 GPUs per NVLink node and "eight
# NVIDIA Mellanox 200Gbps HDR Infiniband HCAs" per node (Korthikanti et al. 2022, Sec. 6) = 25 GB/s
# of scale-out per GPU. The second set carries its hardware per row (column network_basis).
A100_DGX = {
    "memory_gb": 80.0,
    "memory_bw_gbps": 2039.0,
    "scale_up_gbps": 600.0,
    "scale_up_domain_chips": 8.0,
    "scale_out_gbps": 25.0,
}
RECOMPUTE_CODE = {"none": 0, "selective": 1, "full": 2}
# Narayanan et al. 2021 Table 1 gives no micro-batch size: the authors tuned it, so each such row
# takes the best of these.
MICRO_BATCH_CHOICES = (1, 2, 4, 8)
# Korthikanti et al. 2022 Table 3: "interleaved schedule (3 stages) for 175B/530B".
V1_VIRTUAL_STAGES = {"KORT-T5-175B": 3, "KORT-T5-530B": 3, "KORT-530B-DP8": 3}
# Compute-efficiency families (chip, precision) and what an unfitted family falls back to.
FAMILIES = ("a100-bf16", "h100-bf16", "h100-fp8", "ascend-910b-bf16")
FALLBACK = {"h100-bf16": "a100-bf16", "h100-fp8": "h100-bf16", "ascend-910b-bf16": "a100-bf16"}
FITTED = (
    *(f"compute_efficiency[{f}]" for f in FAMILIES),
    "gemm_half_size",
    "scale_up_efficiency",
    "scale_out_efficiency",
    "tp_overlap_fraction",
    "dp_overlap_fraction",
)
# Ceiling on scale_up_efficiency (effective collective bandwidth over the bidirectional per-chip
# NVLink figure the rows carry, e.g. 600 GB/s for A100): a chip drives half of it in each direction,
# and NCCL gets "roughly ... 80% of the peak bandwidth" of a link at application level (NCCL
# maintainer, github.com/NVIDIA/nccl/issues/1054, 2023-11-06; NCCL's topology counts an A100 NVLink
# at 20 GB/s of its 25). 0.5 x 0.8 = 0.40, as DeepSeek measured on H800 (160 GB/s in one direction
# of 400 GB/s bidirectional, github.com/deepseek-ai/DeepSeek-V3/issues/28, 2024-12-31). Without the
# ceiling a refit without the Megatron-LM rows (the only rows that price TP traffic unhidden) is
# free to take links at 99.5 % of their bidirectional figure.
SCALE_UP_EFFICIENCY_CEILING = 0.40
X0 = np.array([0.6, 0.5, 0.3, 0.5, 1.0, 0.3, 0.5, 0.5, 0.5])  # gemm_half_size in units of 1e6
LOWER = np.array([0.1, 0.1, 0.05, 0.1, 0.0, 0.02, 0.02, 0.0, 0.0])
UPPER = np.array([1.0, 1.0, 1.0, 1.0, 100.0, SCALE_UP_EFFICIENCY_CEILING, 1.0, 1.0, 1.0])
# Overlap fractions only hide traffic up to a share of compute, so above the share a row's traffic
# needs, the rows fit equally well whatever the value: the fit settles each on the smallest value
# that fits as well (the model claims no more hiding than the published runs show), which also
# makes the result independent of where the optimiser starts.
OVERLAPS = (FITTED.index("tp_overlap_fraction"), FITTED.index("dp_overlap_fraction"))
SETTLE_STEPS = 16
# Not fitted. Expert all-to-all under DualPipe: "achieving full computation-communication overlap"
# (DeepSeek-V3 report, arXiv:2412.19437, Sec. 3.2.1), a claim taken as 1.0 for stacks that use it.
# The share of HBM usable for model state and activations is an assumption (allocator
# fragmentation, workspaces, runtime context), not a measured figure.
FIXED = {"ep_overlap_fraction": 1.0, "usable_memory_fraction": 0.9}
# Memory of a row whose published layout does not fit the model's memory estimate: the step time is
# predicted with the memory check lifted, and the row is flagged (fits_memory = False).
UNCHECKED_MEMORY_GB = 10_000.0
# Optional model-shape columns a row may carry; NaN = the model's default.
SHAPE_COLUMNS = rust_core.TRAIN_SHAPE_COLUMNS


def v1_rows() -> pd.DataFrame:
    """The first set in the unified row format (Megatron-LM, no communication overlap)."""
    raw = pd.read_csv(ROWS_V1)
    out = pd.DataFrame(
        {
            "row_id": raw["row_id"],
            "system_model": raw["system_model"],
            "source": raw["source"],
            "source_url": raw["source_url"],
            "published": raw["published"].astype(str),
            "lofo_family": "megatron-a100",
            "efficiency_family": "a100-bf16",
            "peak_tflops": raw["peak_tflops"].astype(float),
            **{k: v for k, v in A100_DGX.items()},
            "params_b": raw["params_b"],
            "active_params_b": raw["params_b"],
            "layers": raw["layers"],
            "hidden": raw["hidden"],
            # Korthikanti's Table 3 head counts are not in the source file; tp must divide heads and
            # the prediction does not depend on them otherwise.
            "heads": raw["heads"].fillna(raw["tp"]),
            "seq_len": raw["seq_len"],
            "vocab": raw["vocab"],
            "experts": 1,
            "top_k": 1,
            "chips": raw["chips"],
            "tp": raw["tp"],
            "cp": 1,
            "pp": raw["pp"],
            "vpp": raw["row_id"].map(V1_VIRTUAL_STAGES).fillna(1),
            "dp": raw["dp"],
            "ep": 1,
            "micro_batch": raw["micro_batch"],
            "zero_stage": 0,
            "recompute": raw["recompute"],
            "global_batch_seqs": raw["global_batch_seqs"],
            "published_mfu_pct": raw["reported_mfu_pct"].fillna(raw["derived_mfu_pct"]),
            "mfu_basis": np.where(raw["reported_mfu_pct"].notna(), "reported MFU", "derived MFU"),
            "mfu_flops_basis": "model",
            "overlaps_tp": False,
            "overlaps_dp": False,
            "overlaps_ep": False,
        }
    )
    return out


def v2_rows(path: Path = ROWS_V2) -> pd.DataFrame:
    """The second set: its structured columns (provenance columns stay in the file). Any file with
    the second set's structured columns reads the same way (the held-out validation file does)."""
    raw = pd.read_csv(path)
    out = raw[
        [
            "row_id",
            "system_model",
            "source",
            "source_url",
            "published",
            "lofo_family",
            "peak_tflops",
            "memory_gb",
            "memory_bw_gbps",
            "scale_up_gbps",
            "scale_up_domain_chips",
            "scale_out_gbps",
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
            "tp",
            "cp",
            "pp",
            "vpp",
            "dp",
            "ep",
            "micro_batch",
            "zero_stage",
            "recompute",
            "global_batch_seqs",
            "published_mfu_pct",
            "mfu_flops_basis",
            "overlaps_tp",
            "overlaps_dp",
            "overlaps_ep",
        ]
    ].copy()
    out["published"] = out["published"].astype(str)
    # Optional shape columns (grouped-query KV heads, MLP width, gated MLP): empty or absent = the
    # GPT default (multi-head attention, a plain 4h MLP), so a file without them reads as before.
    for col in SHAPE_COLUMNS:
        out[col] = pd.to_numeric(raw[col], errors="raise") if col in raw else np.nan
    out["efficiency_family"] = raw["chip_family"] + "-" + raw["precision"]
    out["mfu_basis"] = raw["comparison_basis"]
    return out


def calibration_rows() -> pd.DataFrame:
    """Both sets, one row per published run."""
    return pd.concat([v1_rows(), v2_rows()], ignore_index=True)


def scenarios(rows: pd.DataFrame) -> pd.DataFrame:
    """One scenario per (row, micro-batch choice) with the row's published layout and hardware."""
    frames = []
    for r in rows.itertuples():
        choices = [r.micro_batch] if pd.notna(r.micro_batch) else MICRO_BATCH_CHOICES
        for mb in choices:
            if mb > r.global_batch_seqs / r.dp:
                continue
            frames.append(
                {
                    "row_id": r.row_id,
                    "efficiency_family": r.efficiency_family,
                    "overlaps_tp": bool(r.overlaps_tp),
                    "overlaps_dp": bool(r.overlaps_dp),
                    "overlaps_ep": bool(r.overlaps_ep),
                    "peak_tflops": r.peak_tflops,
                    "memory_gb": r.memory_gb,
                    "memory_bw_gbps": r.memory_bw_gbps,
                    "scale_up_gbps": r.scale_up_gbps,
                    "scale_up_domain_chips": r.scale_up_domain_chips,
                    "scale_out_gbps": r.scale_out_gbps,
                    "power_w_per_chip": 1.0,
                    "pue": 1.0,
                    "price_usd_per_chip_hour": 1.0,
                    "params_b": r.params_b,
                    "active_params_b": r.active_params_b,
                    "layers": r.layers,
                    "hidden": r.hidden,
                    "heads": r.heads,
                    "seq_len": r.seq_len,
                    "vocab": r.vocab,
                    "experts": r.experts,
                    "top_k": r.top_k,
                    **{c: getattr(r, c, np.nan) for c in SHAPE_COLUMNS},
                    "chips": r.chips,
                    "global_batch_tokens": r.global_batch_seqs * r.seq_len,
                    "training_tokens": 1e9,
                    "tp": r.tp,
                    "cp": r.cp,
                    "pp": r.pp,
                    "vpp": r.vpp,
                    "dp": r.dp,
                    "ep": r.ep,
                    "micro_batch": mb,
                    "zero_stage": r.zero_stage,
                    "recompute": RECOMPUTE_CODE[r.recompute],
                    "flops_basis_ratio": basis_ratio(r),
                }
            )
    return pd.DataFrame(frames)


def basis_ratio(r) -> float:
    """Published-basis FLOPs over model FLOPs: 6 N_active / (6 N_active + 12 L s h) for 6ND rows."""
    if r.mfu_flops_basis != "6N":
        return 1.0
    six_n = 6.0 * r.active_params_b * 1e9
    return six_n / (six_n + 12.0 * r.layers * r.seq_len * r.hidden)


def family_efficiencies(values: dict[str, float], present: set[str]) -> dict[str, float]:
    """Fitted efficiency of each family with rows; the stated fallback for a family without."""
    out = {}
    for family in FAMILIES:
        f = family
        while f not in present and f in FALLBACK:
            f = FALLBACK[f]
        out[family] = values[f]
    return out


def constants_from(x: np.ndarray, present: set[str]) -> dict:
    """Parameter vector to the constants (gemm_half_size scaled back from units of 1e6)."""
    effs = family_efficiencies(dict(zip(FAMILIES, map(float, x[:4]), strict=True)), present)
    return {
        "compute_efficiency_by_family": effs,
        "gemm_half_size": float(x[4]) * 1e6,
        "scale_up_efficiency": float(x[5]),
        "scale_out_efficiency": float(x[6]),
        "tp_overlap_fraction": float(x[7]),
        "dp_overlap_fraction": float(x[8]),
        **FIXED,
    }


def predict(grid: pd.DataFrame, constants: dict) -> pd.DataFrame:
    """Predicted MFU/HFU (on each row's published basis) per row, best micro-batch where unknown."""
    effs = constants["compute_efficiency_by_family"]
    frame = grid.drop(columns=["efficiency_family", "overlaps_tp", "overlaps_dp", "overlaps_ep"])
    frame = frame.drop(columns=["row_id", "flops_basis_ratio"]).assign(
        compute_efficiency=grid["efficiency_family"].map(effs).to_numpy(),
        gemm_half_size=constants["gemm_half_size"],
        scale_up_efficiency=constants["scale_up_efficiency"],
        scale_out_efficiency=constants["scale_out_efficiency"],
        usable_memory_fraction=constants["usable_memory_fraction"],
        tp_overlap_fraction=np.where(grid["overlaps_tp"], constants["tp_overlap_fraction"], 0.0),
        dp_overlap_fraction=np.where(grid["overlaps_dp"], constants["dp_overlap_fraction"], 0.0),
        ep_overlap_fraction=np.where(grid["overlaps_ep"], constants["ep_overlap_fraction"], 0.0),
    )
    out = rust_core.train_scenarios(frame)
    unchecked = ~out["feasible"].to_numpy()
    if unchecked.any():
        again = rust_core.train_scenarios(frame[unchecked].assign(memory_gb=UNCHECKED_MEMORY_GB))
        for col in ("mfu", "hfu", "micro_batch"):
            out.loc[out.index[unchecked], col] = again[col].to_numpy()
    out["fits_memory"] = ~unchecked
    out["mfu"] = out["mfu"] * grid["flops_basis_ratio"].to_numpy()
    out["row_id"] = grid["row_id"].to_numpy()
    best = out.sort_values("mfu", ascending=False, kind="stable").drop_duplicates("row_id")
    return best.set_index("row_id")


def fit(rows: pd.DataFrame, x0: np.ndarray = X0) -> tuple[dict, np.ndarray]:
    """Least-squares fit of the constants on MFU in percentage points: constants and the vector."""
    grid = scenarios(rows)
    target = rows["published_mfu_pct"].to_numpy(dtype=float)
    ids = rows["row_id"].to_numpy()
    present = set(rows["efficiency_family"])

    def residuals(x: np.ndarray) -> np.ndarray:
        pred = predict(grid, constants_from(x, present)).loc[ids, "mfu"].to_numpy(dtype=float)
        return np.nan_to_num(pred * 100 - target, nan=100.0)

    result = least_squares(residuals, x0, bounds=(LOWER, UPPER), diff_step=1e-3)
    x = settle_overlaps(lambda v: float(np.sum(residuals(v) ** 2)), result.x)
    return constants_from(x, present), x


def settle_overlaps(cost, x: np.ndarray) -> np.ndarray:
    """Lowers each overlap fraction to the smallest value (bisection) at which the sum of squares
    is no worse than the fitted one, the others held."""
    x = x.copy()
    limit = cost(x) * (1 + 1e-9)

    def fits(i: int, value: float) -> bool:
        probe = x.copy()
        probe[i] = value
        return cost(probe) <= limit

    for i in OVERLAPS:
        lo, hi = LOWER[i], x[i]
        if fits(i, lo):
            x[i] = lo
            continue
        for _ in range(SETTLE_STEPS):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if fits(i, mid) else (mid, hi)
        x[i] = hi
    return x


def held_out_errors(
    rows: pd.DataFrame, groups: pd.Series, x0: np.ndarray
) -> tuple[np.ndarray, list[dict]]:
    """Error (pp) of each row predicted by constants fitted without its group (starting from the
    full fit); the fits."""
    errors = np.full(len(rows), np.nan)
    fits = []
    for g in groups.unique():
        held = (groups == g).to_numpy()
        fitted, _ = fit(rows[~held], np.clip(x0, LOWER + 1e-9, UPPER - 1e-9))
        fits.append(fitted)
        pred = predict(scenarios(rows[held]), fitted).loc[rows.loc[held, "row_id"], "mfu"]
        errors[held] = pred.to_numpy(dtype=float) * 100 - rows.loc[held, "published_mfu_pct"]
    return errors, fits


def markdown_table(doc: dict) -> str:
    """Every calibration row with in-sample, leave-one-out and leave-one-family-out errors."""
    lines = [
        "| row | family | chip / precision | model | chips | tp/cp/pp(v)/dp/ep | mb | ZeRO | "
        "recompute | fits memory | published MFU % | predicted % | in-sample pp | "
        "leave-one-out pp | leave-family-out pp |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        lines.append(
            f"| {r['row_id']} | {r['lofo_family']} | {r['efficiency_family']} | "
            f"{r['model_params_b']:g}B | {r['chips']} | {r['tp']}/{r['cp']}/{r['pp']}({r['vpp']})/"
            f"{r['dp']}/{r['ep']} | {r['micro_batch']} | {r['zero_stage']} | {r['recompute']} | "
            f"{'yes' if r['fits_memory'] else 'no'} | {r['published_mfu_pct']:.1f} | "
            f"{r['predicted_mfu_pct']:.1f} | {r['error_pp']:+.1f} | "
            f"{r['leave_one_out_error_pp']:+.1f} | {r['leave_family_out_error_pp']:+.1f} |"
        )
    lines += [
        "",
        "| family | rows | in-sample MAE pp | leave-family-out MAE pp |",
        "|---|---|---|---|",
    ]
    for f, v in doc["family_errors"].items():
        lines.append(
            f"| {f} | {v['rows']} | {v['mae_pp']:.2f} | {v['leave_family_out_mae_pp']:.2f} |"
        )
    c = doc["constants"]
    effs = ", ".join(f"{k} {v:.3f}" for k, v in doc["compute_efficiency_by_family"].items())
    lines += [
        "",
        f"Mean absolute error over {len(doc['rows'])} rows: **{doc['mae_mfu_pp']:.2f} MFU points** "
        f"in sample, **{doc['leave_one_out_mae_mfu_pp']:.2f}** leave-one-out, "
        f"**{doc['leave_family_out_mae_mfu_pp']:.2f}** leave-one-family-out.",
        "",
        f"Compute efficiency by family: {effs}. Fitted constants: gemm_half_size "
        f"{c['gemm_half_size']:.3g}, scale_up_efficiency {c['scale_up_efficiency']:.3f}, "
        f"scale_out_efficiency {c['scale_out_efficiency']:.3f}, tp_overlap_fraction "
        f"{c['tp_overlap_fraction']:.3f}, dp_overlap_fraction {c['dp_overlap_fraction']:.3f}; "
        f"fixed: ep_overlap_fraction {c['ep_overlap_fraction']}, usable_memory_fraction "
        f"{c['usable_memory_fraction']}.",
    ]
    return "\n".join(lines)


def write_doc_table(doc: dict) -> None:
    """Replaces the calibration table in docs/model.md between its markers."""
    text = DOC.read_text()
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    DOC.write_text(text[:start] + "\n" + markdown_table(doc) + "\n" + text[end:])


def band(nominal: float, held_out: list[float], low: float, high: float) -> list[float]:
    """A band centred on the nominal value, half-width the largest held-out deviation, clipped."""
    half = max(abs(v - nominal) for v in held_out)
    return [max(low, nominal - half), min(high, nominal + half)]


def main() -> None:
    """Fits, scores (in sample, leave-one-out, leave-one-family-out) and writes the constants."""
    rows = calibration_rows()
    fitted, x = fit(rows)
    pred = predict(scenarios(rows), fitted).loc[rows["row_id"]]
    loo, loo_fits = held_out_errors(rows, rows["row_id"], x)
    lofo, _ = held_out_errors(rows, rows["lofo_family"], x)
    table = []
    for i, (r, p) in enumerate(zip(rows.itertuples(), pred.itertuples(), strict=True)):
        table.append(
            {
                "row_id": r.row_id,
                "lofo_family": r.lofo_family,
                "efficiency_family": r.efficiency_family,
                "source": r.source,
                "source_url": r.source_url,
                "published": r.published,
                "model_params_b": float(r.params_b),
                "chips": int(r.chips),
                "tp": int(r.tp),
                "cp": int(r.cp),
                "pp": int(r.pp),
                "vpp": int(r.vpp),
                "dp": int(r.dp),
                "ep": int(r.ep),
                "micro_batch": int(p.micro_batch),
                "zero_stage": int(r.zero_stage),
                "recompute": r.recompute,
                "fits_memory": bool(p.fits_memory),
                "mfu_basis": r.mfu_basis,
                "published_mfu_pct": float(r.published_mfu_pct),
                "predicted_mfu_pct": round(float(p.mfu) * 100, 3),
                "error_pp": round(float(p.mfu) * 100 - float(r.published_mfu_pct), 3),
                "leave_one_out_error_pp": round(float(loo[i]), 3),
                "leave_family_out_error_pp": round(float(lofo[i]), 3),
            }
        )
    frame = pd.DataFrame(table)
    family_errors = {
        f: {
            "rows": int(len(g)),
            "mae_pp": round(float(g["error_pp"].abs().mean()), 3),
            "leave_family_out_mae_pp": round(float(g["leave_family_out_error_pp"].abs().mean()), 3),
        }
        for f, g in frame.groupby("lofo_family", sort=False)
    }
    effs = fitted["compute_efficiency_by_family"]
    family_rows = {f: sorted(frame.loc[frame.efficiency_family == f, "row_id"]) for f in FAMILIES}
    scalar = {k: v for k, v in fitted.items() if k != "compute_efficiency_by_family"}
    constants = {"compute_efficiency": effs["a100-bf16"], **scalar}
    loo_effs = [f["compute_efficiency_by_family"]["a100-bf16"] for f in loo_fits]
    doc = {
        "description": "Calibrated efficiency constants of the rust_core training model.",
        "fitted_by": "rust_core/calibration/fit_calibration.py",
        "rows_files": ["data/sources/mfu_calibration.csv", "data/sources/mfu_calibration_v2.csv"],
        "fitted": list(FITTED),
        "constants": constants,
        "compute_efficiency_by_family": effs,
        "compute_efficiency_basis": {
            f: (
                f"fitted on {len(family_rows[f])} rows: {', '.join(family_rows[f])}"
                if family_rows[f]
                else f"assumption: no run; takes {FALLBACK[f]}"
            )
            for f in FAMILIES
        },
        "compute_efficiency_default_rule": (
            "chips without a family of their own take a100-bf16 at bf16 and h100-fp8 at fp8 "
            "(assumption: no published run of those chips is in the calibration sets)"
        ),
        "not_fitted": {
            "ep_overlap_fraction": "1.0 for DualPipe-style stacks: DeepSeek-V3 report's claim of "
            "full computation-communication overlap (arXiv:2412.19437 Sec. 3.2.1)",
            "usable_memory_fraction": "0.9: assumption (fragmentation, workspaces), not measured",
            "overlap_by_row": "rows from stacks without TP/DP/EP overlap (Megatron-LM 2021-22) "
            "use 0 for that overlap; the fitted fractions apply to stacks that overlap",
        },
        "monte_carlo_bands": {
            "compute_efficiency_relative": band(
                1.0, [v / effs["a100-bf16"] for v in loo_effs], 0.0, 2.0
            ),
            **{
                name: band(scalar[name], [f[name] for f in loo_fits], 0.0, 1.0)
                for name in ("scale_up_efficiency", "scale_out_efficiency", "dp_overlap_fraction")
            },
            "basis": "centred on the fitted constants; half-width = the largest leave-one-out "
            "deviation (compute efficiency relative to each family's value)",
        },
        "inference": {
            "memory_bw_efficiency": 1.0,
            "basis": "roofline (no measured serving run in the data): decode costs are lower bounds",
        },
        "calibration_hardware": {**A100_DGX, "peak_tflops": 312.0},
        "mae_mfu_pp": round(float(frame["error_pp"].abs().mean()), 3),
        "leave_one_out_mae_mfu_pp": round(float(np.nanmean(np.abs(loo))), 3),
        "leave_family_out_mae_mfu_pp": round(float(np.nanmean(np.abs(lofo))), 3),
        "family_errors": family_errors,
        "rows": table,
    }
    OUT.write_text(json.dumps(doc, indent=2) + "\n")
    write_doc_table(doc)
    cols = ["row_id", "published_mfu_pct", "predicted_mfu_pct", "error_pp"]
    print(frame[[*cols, "leave_one_out_error_pp", "leave_family_out_error_pp", "fits_memory"]])
    print(json.dumps(fitted, indent=1))
    print(
        "MAE",
        doc["mae_mfu_pp"],
        "LOO",
        doc["leave_one_out_mae_mfu_pp"],
        "LOFO",
        doc["leave_family_out_mae_mfu_pp"],
    )


if __name__ == "__main__":
    main()
