"""Training, inference, cluster-equivalence and power tables computed by rust_core, each with a
seeded Monte Carlo band. Plain functions over DataFrames; the Dagster assets are in perf_assets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

import rust_core
from assets.derived import scenario_inputs
from assets.derived.batch_rule import grown_batch_tokens
from assets.derived.workloads import SERVING_MODELS, TRAINING_MODELS

PCTS = (5, 50, 95)


def compute_training(chips: pd.DataFrame) -> pd.DataFrame:
    """The training grid: best layout, MFU/HFU, days, chip-hours, energy, cost and their bands."""
    return training_table(scenario_inputs.training_grid(chips, TRAINING_MODELS))


def training_table(grid: pd.DataFrame) -> pd.DataFrame:
    """rust_core's search and Monte Carlo band over a training scenario grid, as the asset table."""
    best = rust_core.train_scenarios(grid)
    band = rust_core.train_uncertainty(grid)
    out = grid[
        [
            "scenario_id",
            "chip_id",
            "precision",
            "model_id",
            "chips",
            "peak_tflops",
            "memory_gb",
            "memory_bw_gbps",
            "scale_up_gbps",
            "scale_up_domain_chips",
            "scale_out_gbps",
            "assumed_scale_out",
            "params_b",
            "active_params_b",
            "seq_len",
            "global_batch_tokens",
            "published_batch_tokens",
            "batch_basis",
            "training_tokens",
            "compute_efficiency",
            "compute_efficiency_basis",
        ]
    ].copy()
    for col in ("batch_basis", "compute_efficiency_basis"):
        out[col] = out[col].astype("string")
    out["power_w_per_chip"] = grid["power_w_per_chip"].where(grid["power_known"])
    out["pue"] = grid["pue"]
    out["price_usd_per_chip_hour"] = grid["price_usd_per_chip_hour"].where(grid["price_known"])
    for col in (
        "feasible",
        "layouts_evaluated",
        "tp",
        "cp",
        "pp",
        "vpp",
        "dp",
        "ep",
        "micro_batch",
    ):
        out[col] = best[col]
    out["zero_stage"] = best["zero_stage"]
    out["recompute"] = (
        best["recompute"].map({0: "none", 1: "selective", 2: "full"}).astype("string")
    )
    out["chips_used"] = best["chips_used"]
    for col in ("memory_per_chip_gb", "step_time_s", "tokens_per_s", "days_to_train", "chip_hours"):
        out[col] = best[col]
    out["mfu_pct"] = best["mfu"] * 100
    out["hfu_pct"] = best["hfu"] * 100
    prac = practitioner_columns(best)
    for col in prac.columns:
        out[col] = prac[col]
    out["energy_mwh"] = best["energy_mwh"].where(grid["power_known"])
    out["cost_usd"] = best["cost_usd"].where(grid["price_known"])
    for q in PCTS:
        out[f"mfu_pct_p{q}"] = band[f"mfu_p{q}"] * 100
        out[f"cost_usd_p{q}"] = band[f"cost_usd_p{q}"].where(grid["price_known"])
    for col in ("power_basis", "pue_basis", "price_basis", "spec_sources", "model_source"):
        out[col] = grid[col].astype("string")
    out["assumptions"] = grid["assumptions"].astype("string")
    return out


PRACTITIONER_LAYOUT = ("tp", "cp", "pp", "vpp", "dp", "ep", "micro_batch", "zero_stage")
RECOMPUTE = {0: "none", 1: "selective", 2: "full"}


def practitioner_rule(row: Mapping[str, Any]) -> str:
    """The practitioner rule of one row, in words, with the values it picked."""
    family = row["practitioner_family"]
    if pd.isna(row["practitioner_tp"]):
        return f"{family}: no layout of the family fits in memory"
    rec = RECOMPUTE[int(row["practitioner_recompute"])]
    if family == "fsdp":
        return (
            f"fsdp (dense <= 20B, chips <= batch): ZeRO-3 over all {row['practitioner_dp']} chips, "
            f"largest micro-batch that fits ({row['practitioner_micro_batch']}), {rec} recompute"
        )
    ep = f", EP {row['practitioner_ep']} (<= 64)" if family == "megatron-moe" else ""
    return (
        f"{family}: TP {row['practitioner_tp']} (largest divisor of heads <= 8 and the node), "
        f"CP {row['practitioner_cp']} (<= 16,384 tokens a rank), PP {row['practitioner_pp']} "
        f"(smallest that fits), {row['practitioner_vpp']} interleaved chunks, "
        f"DP {row['practitioner_dp']}{ep}, ZeRO-1, micro-batch 1, {rec} recompute"
    )


def layout_difference(row: Mapping[str, Any]) -> str:
    """Which layout knobs the searched best changes from the practitioner layout (searched first)."""
    if pd.isna(row["practitioner_tp"]) or pd.isna(row["tp"]):
        return ""
    names = (*PRACTITIONER_LAYOUT, "recompute")

    def show(name: str, value) -> str:
        return RECOMPUTE[int(value)] if name == "recompute" else str(value)

    diffs = [
        f"{name} {show(name, row['practitioner_' + name])}->{show(name, row[name])}"
        for name in names
        if row[name] != row[f"practitioner_{name}"]
    ]
    return ", ".join(diffs)


def practitioner_columns(best: pd.DataFrame, prefix: str = "") -> pd.DataFrame:
    """The practitioner layout beside train_scenarios' searched best (same Rust model): family, the
    rule in words, its layout, MFU (%) and the gap to the searched best (MFU points)."""
    out = pd.DataFrame(index=best.index)
    out[f"{prefix}practitioner_family"] = best["practitioner_family"]
    rows = best.to_dict("records")  # plain dicts: a Series per row costs more than the rule
    out[f"{prefix}practitioner_rule"] = pd.array(
        [practitioner_rule(row) for row in rows], dtype="string"
    )
    for name in PRACTITIONER_LAYOUT:
        out[f"{prefix}practitioner_{name}"] = best[f"practitioner_{name}"]
    out[f"{prefix}practitioner_recompute"] = (
        best["practitioner_recompute"].map(RECOMPUTE).astype("string")
    )
    out[f"{prefix}practitioner_mfu_pct"] = best["practitioner_mfu"] * 100
    out[f"{prefix}mfu_gap_vs_practitioner_pts"] = best["mfu_gap_pts"]
    out[f"{prefix}searched_vs_practitioner_layout"] = pd.array(
        [layout_difference(row) for row in rows], dtype="string"
    )
    return out


def split_uniform(u: np.ndarray, low: float, centre: float, high: float) -> np.ndarray:
    """Split uniform with its median at ``centre`` (clamped into [low, high]) from uniform draws
    ``u`` in [0, 1): half in [low, centre], half in [centre, high] (rust_core's price draw)."""
    c = min(max(centre, low), high)
    return np.where(u < 0.5, low + (c - low) * 2 * u, c + (high - c) * (2 * u - 1))


def _price_percentiles(frame: pd.DataFrame, seed_column: str) -> pd.DataFrame:
    """Monte Carlo percentiles of the price band per row (seeded per row), its median at the row's
    price (the median of observations), so p5 <= price <= p95 however skewed the observations."""
    rows = []
    for low, high, price, seed in zip(
        frame["price_low"],
        frame["price_high"],
        frame["price_usd_per_chip_hour"],
        frame[seed_column],
        strict=True,
    ):
        u = np.random.default_rng(seed).uniform(0.0, 1.0, scenario_inputs.MC_SAMPLES)
        rows.append(np.percentile(split_uniform(u, low, price, high), PCTS))
    return pd.DataFrame(rows, columns=[f"p{q}" for q in PCTS], index=frame.index)


def compute_inference(chips: pd.DataFrame) -> pd.DataFrame:
    """Cheapest tensor-parallel size per (chip, model, weight precision, batch regime, draft), with
    the speculative-decoding sweep, cost per 1M tokens with a price band, and cost relative to the
    dense 7B model in the same regime."""
    grid = scenario_inputs.serving_grid(chips, SERVING_MODELS)
    if grid.empty:
        return grid
    res = rust_core.inference_costs(grid)
    both = pd.concat([grid, res], axis=1)
    feasible = both[both["feasible"]]
    best = (
        feasible.sort_values(["cost_usd_per_mtok_output", "tp"], kind="stable")
        .groupby(
            [
                "chip_id",
                "model_id",
                "weight_bits",
                "max_batch",
                "draft_model_id",
                "acceptance_rate",
            ],
            sort=True,
        )
        .head(1)
    )
    out = best.reset_index(drop=True)
    out["scenario_id"] = out.apply(scenario_inputs.serving_id, axis=1).astype("string")
    out["mc_seed"] = out["scenario_id"].map(scenario_inputs.seed_of)
    band = _price_percentiles(out, "mc_seed")
    for q in PCTS:
        scale = band[f"p{q}"] / out["price_usd_per_chip_hour"]
        out[f"cost_usd_per_mtok_output_p{q}"] = out["cost_usd_per_mtok_output"] * scale
    dense = out[(out["model_id"] == "deepseek-llm-7b") & (out["draft_length"] == 0)]
    key_cols = ["chip_id", "weight_bits", "max_batch"]
    ref = dense.set_index(key_cols)["cost_usd_per_mtok_output"]
    keys = pd.MultiIndex.from_frame(out[key_cols])
    out["cost_ratio_vs_dense_7b"] = (
        out["cost_usd_per_mtok_output"].to_numpy() / ref.reindex(keys).to_numpy()
    )
    out["assumptions"] = scenario_inputs.SERVING_ASSUMPTIONS
    keep = [
        "scenario_id", "chip_id", "model_id", "params_b", "active_params_b", "experts", "top_k",
        "weight_bits", "tp", "max_batch", "prompt_tokens", "output_tokens", "draft_model_id", "draft_params_b",
        "draft_length", "acceptance_rate", "price_usd_per_chip_hour", "batch", "weights_gb_per_chip",
        "kv_cache_gb_per_seq", "decode_step_s", "memory_bound", "tokens_per_target_step",
        "spec_speedup", "latency_s_per_output_token", "decode_tokens_per_s_per_chip",
        "prefill_tokens_per_s_per_chip", "cost_usd_per_mtok_output", "cost_usd_per_mtok_input",
        "cost_usd_per_mtok_output_p5", "cost_usd_per_mtok_output_p50", "cost_usd_per_mtok_output_p95",
        "cost_ratio_vs_dense_7b", "price_basis", "spec_sources", "model_source", "assumptions",
    ]  # fmt: skip
    out = out[keep].copy()
    for col in (
        "draft_model_id",
        "price_basis",
        "spec_sources",
        "model_source",
        "assumptions",
        "chip_id",
        "model_id",
    ):
        out[col] = out[col].astype("string")
    return out.sort_values("scenario_id").reset_index(drop=True)


def compute_equivalence(chips: pd.DataFrame) -> pd.DataFrame:
    """Chips B matching N_A chips A, with a Monte Carlo band over the efficiency constants."""
    grid = scenario_inputs.equivalence_grid(chips, TRAINING_MODELS)
    if grid.empty:
        return grid
    grown = (grid["batch_basis"] == scenario_inputs.GROWN_BATCH).to_numpy()
    point = rust_core.cluster_equivalence(grid)
    if grown.any():
        solved = grown_batch_equivalence(grid[grown])
        for col in solved.columns:
            values = point[col].to_numpy(dtype=float, na_value=np.nan).copy()
            values[grown] = solved[col].to_numpy(dtype=float)
            point[col] = values
        point["chips_b_needed"] = point["chips_b_needed"].astype("Int64")
        point["searches"] = point["searches"].astype(np.int64)
    bands = rust_core.calibration()["monte_carlo_bands"]
    constants = rust_core.calibration()["constants"]
    n = scenario_inputs.EQUIVALENCE_MC_SAMPLES
    equal = grid[~grown]
    draws = equal.loc[equal.index.repeat(n)].reset_index(drop=True)
    draws["gemm_half_size"] = constants["gemm_half_size"]
    draws["usable_memory_fraction"] = constants["usable_memory_fraction"]
    seeds = equal["scenario_id"].map(scenario_inputs.seed_of).to_numpy()
    for i, name in enumerate(
        (
            "compute_efficiency_relative",
            "scale_up_efficiency",
            "scale_out_efficiency",
            "dp_overlap_fraction",
        )
    ):
        values = np.concatenate(
            [np.random.default_rng(seed + i).uniform(*bands[name], n) for seed in seeds]
        )
        if name == "compute_efficiency_relative":
            # one relative draw for both chips: the calibration's shared uncertainty
            for prefix in ("a_", "b_"):
                col = f"{prefix}compute_efficiency"
                draws[col] = np.clip(draws[col] * values, 1e-6, 1.0)
        else:
            draws[name] = values
    sampled = rust_core.cluster_equivalence(draws)
    sampled["row"] = np.repeat(equal.index.to_numpy(), n)
    out = grid[
        ["scenario_id", "chip_a", "chip_b", "model_id", "chips_a", "chips_b_eval", "max_chips_b"]
    ].copy()
    out = pd.concat([out, point], axis=1)
    for col, name in (
        ("chips_b_needed", "chips_b_needed"),
        ("throughput_ratio_b_eval_vs_a", "throughput_ratio"),
    ):
        values = sampled[col].astype("float64")
        pct = values.groupby(sampled["row"]).quantile([q / 100 for q in PCTS]).unstack()
        for q in PCTS:
            out[f"{name}_p{q}"] = pct[q / 100].reindex(out.index).to_numpy()
        # The ratio and N_B are not monotone in the constants, so the draws' 5-95 % range can
        # miss the nominal value by a hair; the band is widened to contain it (docs/model.md).
        nominal = out[col].astype("float64").to_numpy()
        has = np.isfinite(nominal)
        low, high = out[f"{name}_p5"].to_numpy(), out[f"{name}_p95"].to_numpy()
        out[f"{name}_p5"] = np.where(has, np.fmin(low, nominal), low)
        out[f"{name}_p95"] = np.where(has, np.fmax(high, nominal), high)
    out["batch_basis"] = grid["batch_basis"].astype("string")
    out["global_batch_tokens_a"] = grid["global_batch_tokens"].astype(np.int64)
    out["mfu_a_pct"] = out.pop("mfu_a") * 100
    out["mfu_b_needed_pct"] = out.pop("mfu_b_needed") * 100
    out["mfu_b_eval_pct"] = out.pop("mfu_b_eval") * 100
    prac = equivalence_practitioner(grid, grown)
    for col in prac.columns:
        out[col] = prac[col]
    out["assumptions"] = grid["assumptions"].astype("string")
    for col in ("scenario_id", "chip_a", "chip_b", "model_id"):
        out[col] = out[col].astype("string")
    return out


def _side(rows: pd.DataFrame, prefix: str, chips: np.ndarray, batch: np.ndarray) -> pd.DataFrame:
    """One side (``a_`` or ``b_``) of equivalence rows as train_scenarios rows at given sizes."""
    from rust_core import CHIP_FIELDS, TRAIN_MODEL_COLUMNS, TRAIN_SHAPE_COLUMNS

    frame = pd.DataFrame({c: rows[f"{prefix}{c}"].to_numpy() for c in CHIP_FIELDS})
    for c in TRAIN_MODEL_COLUMNS:
        frame[c] = rows[c].to_numpy()
    for c in TRAIN_SHAPE_COLUMNS:  # optional: absent means the model's defaults
        if c in rows:
            frame[c] = rows[c].to_numpy(dtype=float)
    frame["compute_efficiency"] = rows[f"{prefix}compute_efficiency"].to_numpy()
    frame["chips"] = chips
    frame["global_batch_tokens"] = batch
    return frame


def _grown_batch(rows: pd.DataFrame, chips: np.ndarray) -> np.ndarray:
    """The global batch each row's model grows to on a cluster of ``chips``."""
    return grown_batch_tokens(
        chips,
        rows["seq_len"].to_numpy(),
        rows["published_batch_tokens"].to_numpy(),
        rows["active_params_b"].to_numpy(),
        rows["training_tokens"].to_numpy(),
    )


def equivalence_practitioner(grid: pd.DataFrame, grown: np.ndarray) -> pd.DataFrame:
    """The practitioner layout beside the searched best of N_A chips A and of chips_b_eval chips B,
    each at the batch of its row's basis (A's batch for equal batch, its own cluster's for grown)."""
    n_a = grid["chips_a"].to_numpy(dtype=float)
    n_b = grid["chips_b_eval"].to_numpy(dtype=float)
    batch = grid["global_batch_tokens"].to_numpy(dtype=float)
    batch_a = np.where(grown, _grown_batch(grid, n_a), batch)
    batch_b = np.where(grown, _grown_batch(grid, n_b), batch)
    sides = []
    for prefix, chips, tokens in (("a_", n_a, batch_a), ("b_eval_", n_b, batch_b)):
        best = rust_core.train_scenarios(_side(grid, prefix[:2], chips, tokens))
        best.index = grid.index
        sides.append(practitioner_columns(best, prefix))
    return pd.concat(sides, axis=1)


def grown_batch_equivalence(rows: pd.DataFrame) -> pd.DataFrame:
    """cluster_equivalence's columns with each side at the batch its own cluster grows to: the
    smallest N_B whose searched throughput at its grown batch reaches N_A's at theirs (doubling,
    then bisection, all rows together; assumes throughput does not fall as chips are added)."""

    def batch_at(chips: np.ndarray) -> np.ndarray:
        return _grown_batch(rows, chips)

    def best_b(chips: np.ndarray) -> pd.DataFrame:
        return rust_core.train_scenarios(_side(rows, "b_", chips, batch_at(chips)))

    n_a = rows["chips_a"].to_numpy(dtype=float)
    a = rust_core.train_scenarios(_side(rows, "a_", n_a, batch_at(n_a)))
    target = a["tokens_per_s"].to_numpy()
    max_b = rows["max_chips_b"].to_numpy(dtype=float)
    ev = best_b(rows["chips_b_eval"].to_numpy(dtype=float))
    hi = np.ones(len(rows))
    searches = np.full(len(rows), 2)
    reached = np.zeros(len(rows), dtype=bool)
    while True:
        t = best_b(hi)["tokens_per_s"].to_numpy()
        searches += ~reached
        reached |= np.nan_to_num(t) >= target
        todo = ~reached & (hi < max_b)
        if not todo.any():
            break
        hi = np.where(todo, np.minimum(hi * 2, max_b), hi)
    lo = np.where(reached, np.floor(hi / 2), hi)
    while ((hi - lo) > 1).any():
        mid = np.where(hi - lo > 1, np.floor((lo + hi) / 2), hi)
        t = best_b(mid)["tokens_per_s"].to_numpy()
        searches += (hi - lo) > 1
        ok = np.nan_to_num(t) >= target
        hi = np.where((hi - lo > 1) & ok, mid, hi)
        lo = np.where((hi - lo > 1) & ~ok, mid, lo)
    needed = best_b(hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = ev["tokens_per_s"].to_numpy() / target
    return pd.DataFrame(
        {
            "tokens_per_s_a": target,
            "mfu_a": a["mfu"].to_numpy(),
            "chips_b_needed": np.where(reached, hi, np.nan),
            "tokens_per_s_b_needed": np.where(reached, needed["tokens_per_s"], np.nan),
            "mfu_b_needed": np.where(reached, needed["mfu"], np.nan),
            "tokens_per_s_b_eval": ev["tokens_per_s"].to_numpy(),
            "mfu_b_eval": ev["mfu"].to_numpy(),
            "throughput_ratio_b_eval_vs_a": ratio,
            "searches": searches,
        },
        index=rows.index,
    )


def compute_power(chips: pd.DataFrame) -> pd.DataFrame:
    """All-in megawatts per chip and cluster size with a Monte Carlo band."""
    grid = scenario_inputs.power_grid(chips)
    out = pd.concat([grid, rust_core.datacenter_power(grid)], axis=1)
    for col in ("scenario_id", "chip_id", "power_basis", "pue_basis"):
        out[col] = out[col].astype("string")
    return out
