"""Fits the training model's efficiency constants to published Megatron-LM runs on A100.

Reads ``data/sources/mfu_calibration.csv``, predicts every row with its published layout through
``rust_core.train_scenarios``, fits the constants by least squares on MFU (percentage points), and
writes ``rust_core/calibration/constants.json`` with the constants, the rows and each row's error.
Run from the repository root: ``.venv/bin/python rust_core/calibration/fit_calibration.py``; then
rebuild rust_core (the constants file is embedded at build time).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

import rust_core

ROOT = Path(__file__).resolve().parents[2]
ROWS = ROOT / "data" / "sources" / "mfu_calibration.csv"
OUT = Path(__file__).resolve().parent / "constants.json"
DOC = ROOT / "docs" / "model.md"
TABLE_START, TABLE_END = "<!-- calibration-table:start -->", "<!-- calibration-table:end -->"

# DGX A100 80GB as the calibration rows describe it. Peak and HBM size come from each row; the rest:
# - memory 2,039 GB/s and NVLink 600 GB/s per GPU: NVIDIA A100 datasheet (reference chip_specs.csv,
#   row "A100 SXM 80GB");
# - 8 GPUs per NVLink/NVSwitch node and "eight NVIDIA Mellanox 200Gbps HDR Infiniband HCAs" per node
#   (Korthikanti et al. 2022, Sec. 6): 200 Gb/s = 25 GB/s of scale-out per GPU.
A100_DGX = {
    "memory_bw_gbps": 2039.0,
    "scale_up_gbps": 600.0,
    "scale_up_domain_chips": 8.0,
    "scale_out_gbps": 25.0,
}
RECOMPUTE_CODE = {"none": 0, "selective": 1, "full": 2}
# Narayanan et al. 2021 Table 1 gives no micro-batch size: the authors tuned it, so each such row
# takes the best of these.
MICRO_BATCH_CHOICES = (1, 2, 4, 8)
FITTED = ("compute_efficiency", "gemm_half_size", "scale_up_efficiency", "scale_out_efficiency")
# Not fitted: the calibration runs did not overlap data-parallel traffic with compute
# (Korthikanti et al. 2022: the 8-way data-parallel 530B run adds the all-reduce to the step), and
# the share of HBM usable for model state and activations is an assumption (allocator
# fragmentation, workspaces, runtime context), not a measured figure.
FIXED = {"dp_overlap_fraction": 0.0, "usable_memory_fraction": 0.9}
X0 = np.array([0.6, 1.0, 0.5, 0.5])  # gemm_half_size in units of 1e6
LOWER = np.array([0.2, 0.0, 0.02, 0.02])
UPPER = np.array([1.0, 100.0, 1.0, 1.0])


def published_mfu_pct(rows: pd.DataFrame) -> pd.Series:
    """MFU as published (Korthikanti) or the MFU-equivalent of HFU-like figures (Narayanan)."""
    return rows["reported_mfu_pct"].fillna(rows["derived_mfu_pct"])


def published_hfu_pct(rows: pd.DataFrame) -> pd.Series:
    """HFU as published: Korthikanti's HFU column or Narayanan's percentage of peak."""
    other = rows["reported_pct_of_peak_other"].str.extract(r"^(\d+(?:\.\d+)?)%")[0].astype(float)
    return rows["reported_hfu_pct"].fillna(other)


def scenarios(rows: pd.DataFrame) -> pd.DataFrame:
    """One scenario per (row, micro-batch choice) with the row's published layout."""
    frames = []
    for _, r in rows.iterrows():
        params_b = (12 * r.layers * r.hidden**2 + r.vocab * r.hidden) / 1e9
        choices = [r.micro_batch] if pd.notna(r.micro_batch) else MICRO_BATCH_CHOICES
        for mb in choices:
            if mb > r.global_batch_seqs / r.dp:
                continue
            frames.append(
                {
                    "row_id": r.row_id,
                    "peak_tflops": r.peak_tflops,
                    "memory_gb": 80.0,
                    **A100_DGX,
                    "power_w_per_chip": 1.0,
                    "pue": 1.0,
                    "price_usd_per_chip_hour": 1.0,
                    "params_b": params_b,
                    "active_params_b": params_b,
                    "layers": r.layers,
                    "hidden": r.hidden,
                    # Korthikanti's Table 3 head counts are not in the source file; under selective
                    # recompute the prediction does not depend on them, only tp must divide heads.
                    "heads": r.heads if pd.notna(r.heads) else r.tp,
                    "seq_len": r.seq_len,
                    "vocab": r.vocab,
                    "experts": 1,
                    "top_k": 1,
                    "chips": r.chips,
                    "global_batch_tokens": r.global_batch_seqs * r.seq_len,
                    "training_tokens": 1e9,
                    "tp": r.tp,
                    "pp": r.pp,
                    "dp": r.dp,
                    "ep": 1,
                    "micro_batch": mb,
                    "zero_stage": 0,
                    "recompute": RECOMPUTE_CODE[r.recompute],
                }
            )
    return pd.DataFrame(frames)


def predict(grid: pd.DataFrame, constants: dict[str, float]) -> pd.DataFrame:
    """Predicted MFU/HFU per calibration row (best micro-batch where the source gives none)."""
    out = rust_core.train_scenarios(grid.assign(**constants))
    out["row_id"] = grid["row_id"].to_numpy()
    out["micro_batch_used"] = grid["micro_batch"].to_numpy()
    best = out.sort_values("mfu", ascending=False, kind="stable").drop_duplicates("row_id")
    return best.set_index("row_id")


def constants_from(x: np.ndarray) -> dict[str, float]:
    """Parameter vector to the constants dict (gemm_half_size scaled back from units of 1e6)."""
    values = dict(
        zip(FITTED, [float(x[0]), float(x[1]) * 1e6, float(x[2]), float(x[3])], strict=True)
    )
    return {**values, **FIXED}


def fit(rows: pd.DataFrame) -> np.ndarray:
    """Least-squares fit of the constants on MFU in percentage points."""
    grid = scenarios(rows)
    target = published_mfu_pct(rows).to_numpy()
    ids = rows["row_id"].to_numpy()

    def residuals(x: np.ndarray) -> np.ndarray:
        pred = predict(grid, constants_from(x)).loc[ids, "mfu"].to_numpy(dtype=float) * 100
        return np.nan_to_num(pred - target, nan=100.0)

    result = least_squares(residuals, X0, bounds=(LOWER, UPPER), diff_step=1e-4)
    return result.x


def markdown_table(doc: dict) -> str:
    """The predicted-vs-published table of every calibration row, with the errors, as Markdown."""
    lines = [
        "| row | model | chips | tp/pp/dp | mb | recompute | MFU basis | published MFU % | "
        "predicted MFU % | error pp | leave-one-out error pp | published HFU % | predicted HFU % |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        hfu = "" if r["published_hfu_pct"] is None else f"{r['published_hfu_pct']:.1f}"
        lines.append(
            f"| {r['row_id']} | {r['model_params_b']:g}B | {r['chips']} | "
            f"{r['tp']}/{r['pp']}/{r['dp']} | {r['micro_batch']} | {r['recompute']} | "
            f"{r['mfu_basis']} | {r['published_mfu_pct']:.1f} | {r['predicted_mfu_pct']:.1f} | "
            f"{r['error_pp']:+.1f} | {r['leave_one_out_error_pp']:+.1f} | {hfu} | "
            f"{r['predicted_hfu_pct']:.1f} |"
        )
    c = doc["constants"]
    lines += [
        "",
        f"Mean absolute error: **{doc['mae_mfu_pp']:.2f} MFU percentage points** in sample, "
        f"**{doc['leave_one_out_mae_mfu_pp']:.2f}** leave-one-out (each row predicted by constants "
        "fitted to the other 14).",
        "",
        f"Fitted constants: compute_efficiency {c['compute_efficiency']:.4f}, gemm_half_size "
        f"{c['gemm_half_size']:.3g}, scale_up_efficiency {c['scale_up_efficiency']:.4f}, "
        f"scale_out_efficiency {c['scale_out_efficiency']:.4f}; fixed: dp_overlap_fraction "
        f"{c['dp_overlap_fraction']}, usable_memory_fraction {c['usable_memory_fraction']}.",
    ]
    return "\n".join(lines)


def write_doc_table(doc: dict) -> None:
    """Replaces the calibration table in docs/model.md between its markers."""
    text = DOC.read_text()
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    DOC.write_text(text[:start] + "\n" + markdown_table(doc) + "\n" + text[end:])


def main() -> None:
    """Fits, scores (in-sample and leave-one-out) and writes the constants file."""
    rows = pd.read_csv(ROWS)
    x = fit(rows)
    constants = constants_from(x)
    pred = predict(scenarios(rows), constants).loc[rows["row_id"]]
    loo, loo_constants = [], []
    for i in range(len(rows)):
        rest = rows.drop(index=rows.index[i])
        held = rows.iloc[[i]]
        fitted = constants_from(fit(rest))
        loo_constants.append(fitted)
        p = predict(scenarios(held), fitted)
        loo.append(float(p["mfu"].iloc[0] * 100 - published_mfu_pct(held).iloc[0]))
    table = []
    mfu_published = published_mfu_pct(rows).to_numpy(dtype=float)
    hfu_published = published_hfu_pct(rows).to_numpy(dtype=float)
    for i, (r, p) in enumerate(zip(rows.itertuples(), pred.itertuples(), strict=True)):
        mfu_pub, hfu_pub, loo_err = mfu_published[i], hfu_published[i], loo[i]
        table.append(
            {
                "row_id": r.row_id,
                "source": r.source,
                "source_url": r.source_url,
                "published": r.published,
                "model_params_b": r.params_b,
                "chips": int(r.chips),
                "tp": int(r.tp),
                "pp": int(r.pp),
                "dp": int(r.dp),
                "micro_batch": int(p.micro_batch_used),
                "recompute": r.recompute,
                "mfu_basis": "reported MFU" if pd.notna(r.reported_mfu_pct) else "derived MFU",
                "published_mfu_pct": float(mfu_pub),
                "predicted_mfu_pct": round(float(p.mfu) * 100, 3),
                "error_pp": round(float(p.mfu) * 100 - mfu_pub, 3),
                "leave_one_out_error_pp": round(loo_err, 3),
                "published_hfu_pct": None if np.isnan(hfu_pub) else float(hfu_pub),
                "predicted_hfu_pct": round(float(p.hfu) * 100, 3),
            }
        )
    errors = np.array([t["error_pp"] for t in table])
    doc = {
        "description": "Calibrated efficiency constants of the rust_core training model.",
        "fitted_by": "rust_core/calibration/fit_calibration.py",
        "rows_file": "data/sources/mfu_calibration.csv",
        "fitted": list(FITTED),
        "constants": constants,
        "not_fitted": {
            "dp_overlap_fraction": "0: the calibration runs did not overlap gradient traffic",
            "usable_memory_fraction": "0.9: assumption (fragmentation, workspaces), not measured",
        },
        "monte_carlo_bands": {
            **{
                name: [min(c[name] for c in loo_constants), max(c[name] for c in loo_constants)]
                for name in ("compute_efficiency", "scale_up_efficiency", "scale_out_efficiency")
            },
            "dp_overlap_fraction": [0.0, 1.0],
            "basis": "efficiencies: range of the leave-one-out fits; overlap: none to full",
        },
        "inference": {
            "memory_bw_efficiency": 1.0,
            "basis": "roofline (no measured serving run in the data): decode costs are lower bounds",
        },
        "calibration_hardware": {**A100_DGX, "memory_gb": 80.0, "peak_tflops": 312.0},
        "mae_mfu_pp": round(float(np.mean(np.abs(errors))), 3),
        "leave_one_out_mae_mfu_pp": round(float(np.mean(np.abs(loo))), 3),
        "rows": table,
    }
    OUT.write_text(json.dumps(doc, indent=2) + "\n")
    write_doc_table(doc)
    print(
        pd.DataFrame(table)[
            [
                "row_id",
                "published_mfu_pct",
                "predicted_mfu_pct",
                "error_pp",
                "leave_one_out_error_pp",
                "published_hfu_pct",
                "predicted_hfu_pct",
            ]
        ]
    )
    print(
        {k: round(v, 4) for k, v in constants.items()},
        "MAE",
        doc["mae_mfu_pp"],
        "LOO MAE",
        doc["leave_one_out_mae_mfu_pp"],
    )


if __name__ == "__main__":
    main()
