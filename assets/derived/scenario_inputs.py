"""Pure functions turning the clean source tables into rust_core scenario tables, stating every
assumption where a source lacks a value the model needs."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from assets.derived.batch_rule import BATCH_RULE, grown_batch_tokens
from assets.derived.price_support import is_supportable, range_check
from assets.derived.workloads import TRAINING_MODELS

#: Cluster sizes of the training grid (chips).
CLUSTER_SIZES = (8, 64, 256, 1024, 4096, 10_000, 25_000, 100_000)
PEAK_COLUMNS = {"bf16": "bf16_dense_tflops", "fp8": "fp8_dense_tflops"}
#: The one sourced scale-out figure: DGX A100, 8 x 200 Gb/s HDR InfiniBand per 8 GPUs (Korthikanti
#: et al. 2022), i.e. 25 GB/s per chip; used where a chip's scale-out bandwidth is not stated.
FALLBACK_SCALE_OUT_GBPS = 25.0
#: An 8-chip server board (HGX, Atlas 800) where a chip's scale-up domain is not stated.
FALLBACK_DOMAIN_CHIPS = 8
MC_SAMPLES = 200
REQUIRED_SPECS = ("memory_gb", "memory_bw_gbps", "scale_up_gbps")


def seed_of(text: str) -> int:
    """A stable Monte Carlo seed per scenario id (CRC-32 of the id)."""
    return zlib.crc32(text.encode())


def pue_band(power_observations: pd.DataFrame) -> tuple[float, float, str]:
    """Lowest and highest observed PUE, with the observation ids."""
    pue = power_observations[power_observations["metric"] == "pue"]
    ids = ",".join(pue["obs_id"])
    return float(pue["value"].min()), float(pue["value"].max()), ids


def power_bands(chip_specs: pd.DataFrame, power_observations: pd.DataFrame) -> pd.DataFrame:
    """IT watts per chip (chip + server share, excl. facility): the chip's observed server W per
    chip where any, else its TDP times the range of server-W/TDP ratios observed for the H100."""
    obs = power_observations[power_observations["metric"] == "server_w_per_gpu"]
    high = obs["value_high"].fillna(obs["value"])
    observed = (
        obs.assign(high=high)
        .groupby("chip_id")
        .agg(low=("value", "min"), high=("high", "max"), ids=("obs_id", ",".join))
    )
    h100 = observed.loc["nvidia-h100-sxm"] if "nvidia-h100-sxm" in observed.index else None
    tdp_h100 = chip_specs.set_index("chip_id")["tdp_w"].get("nvidia-h100-sxm")
    rows = []
    for chip in chip_specs.itertuples():
        if chip.chip_id in observed.index:
            o = observed.loc[chip.chip_id]
            rows.append((chip.chip_id, o.low, o.high, f"server W per chip observed ({o.ids})"))
        elif h100 is not None and pd.notna(chip.tdp_w) and pd.notna(tdp_h100):
            lo, hi = h100.low / tdp_h100, h100.high / tdp_h100
            rows.append(
                (
                    chip.chip_id,
                    chip.tdp_w * lo,
                    chip.tdp_w * hi,
                    f"assumed: TDP x H100 server-W/TDP ratio {lo:.2f}-{hi:.2f} ({h100.ids})",
                )
            )
    return pd.DataFrame(rows, columns=["chip_id", "power_w_low", "power_w_high", "power_basis"])


def rental_bands(gpu_rental_prices: pd.DataFrame) -> pd.DataFrame:
    """Per chip: median, lowest and highest rental USD per chip-hour over the rows a cost may rest
    on (spec, measured or estimate of medium or high confidence), with their ids, and the other
    rows as a range check against them."""
    r = gpu_rental_prices[gpu_rental_prices["usd_per_gpu_hour"].notna()]
    usable = is_supportable(r)
    high = r["usd_per_gpu_hour_high"].fillna(r["usd_per_gpu_hour"])
    bands = (
        r[usable]
        .assign(high=high[usable])
        .groupby("chip_id")
        .agg(
            price_usd_per_chip_hour=("usd_per_gpu_hour", "median"),
            price_low=("usd_per_gpu_hour", "min"),
            price_high=("high", "max"),
            price_ids=("rental_id", ",".join),
        )
    )
    checks = {
        chip_id: range_check(
            rows,
            "rental_id",
            "usd_per_gpu_hour",
            "USD/chip-hour",
            bands["price_low"].get(chip_id, np.nan),
            bands["price_high"].get(chip_id, np.nan),
        )
        for chip_id, rows in r[~usable].groupby("chip_id")
    }
    out = bands.reindex(bands.index.union(pd.Index(list(checks), dtype=bands.index.dtype)))
    out["price_check"] = pd.Series(checks, dtype="object").reindex(out.index).fillna("")
    return out.rename_axis("chip_id").reset_index()


def price_basis(price) -> str:
    """Which rentals a chip's price is the median of, then the rows left out of it."""
    if price is None:
        return ""
    used = (
        f"median of rentals ({price.price_ids})"
        if pd.notna(price.price_usd_per_chip_hour)
        else "no rental price of medium or high confidence"
    )
    return f"{used}; {price.price_check}" if price.price_check else used


def chip_table(
    chip_specs: pd.DataFrame,
    power_observations: pd.DataFrame,
    gpu_rental_prices: pd.DataFrame,
) -> tuple[pd.DataFrame, list[str]]:
    """One row per (chip, precision) the model can run, with assumption columns; and the chips left
    out for lacking a required spec."""
    pue_lo, pue_hi, pue_ids = pue_band(power_observations)
    power = power_bands(chip_specs, power_observations).set_index("chip_id")
    rent = rental_bands(gpu_rental_prices).set_index("chip_id")
    rows, skipped = [], []
    for chip in chip_specs.itertuples():
        missing = [c for c in REQUIRED_SPECS if pd.isna(getattr(chip, c))]
        if missing:
            skipped.append(f"{chip.chip_id} (no {', '.join(missing)})")
            continue
        for precision, peak_col in PEAK_COLUMNS.items():
            peak = getattr(chip, peak_col)
            if pd.isna(peak):
                if precision == "bf16":
                    skipped.append(f"{chip.chip_id} (no {peak_col})")
                continue
            assumptions = []
            domain = chip.scale_up_domain_chips
            if pd.isna(domain):
                domain = FALLBACK_DOMAIN_CHIPS
                assumptions.append(f"scale_up_domain_chips assumed {FALLBACK_DOMAIN_CHIPS}")
            out_gbps = chip.scale_out_gbps
            assumed_out = pd.isna(out_gbps)
            if assumed_out:
                out_gbps = FALLBACK_SCALE_OUT_GBPS
                assumptions.append(
                    f"scale_out_gbps assumed {FALLBACK_SCALE_OUT_GBPS} (DGX A100 HDR, the one sourced value)"
                )
            p = power.loc[chip.chip_id] if chip.chip_id in power.index else None
            if p is not None and "assumed" in p.power_basis:
                assumptions.append(p.power_basis)
            price = rent.loc[chip.chip_id] if chip.chip_id in rent.index else None
            efficiency, efficiency_basis = compute_efficiency(chip.chip_id, precision)
            if "fitted on" not in efficiency_basis:
                assumptions.append(f"compute_efficiency {efficiency:.3f}: {efficiency_basis}")
            rows.append(
                {
                    "chip_id": chip.chip_id,
                    "precision": precision,
                    "peak_tflops": float(peak),
                    "memory_gb": float(chip.memory_gb),
                    "memory_bw_gbps": float(chip.memory_bw_gbps),
                    "scale_up_gbps": float(chip.scale_up_gbps),
                    "scale_up_domain_chips": int(domain),
                    "scale_out_gbps": float(out_gbps),
                    "assumed_scale_out": assumed_out,
                    "compute_efficiency": efficiency,
                    "compute_efficiency_basis": efficiency_basis,
                    "power_w_low": np.nan if p is None else p.power_w_low,
                    "power_w_high": np.nan if p is None else p.power_w_high,
                    "power_basis": "" if p is None else p.power_basis,
                    "pue_low": pue_lo,
                    "pue_high": pue_hi,
                    "pue_basis": f"range of observed PUE ({pue_ids})",
                    "price_usd_per_chip_hour": np.nan
                    if price is None
                    else price.price_usd_per_chip_hour,
                    "price_low": np.nan if price is None else price.price_low,
                    "price_high": np.nan if price is None else price.price_high,
                    "price_basis": price_basis(price),
                    "spec_sources": chip.value_sources,
                    "assumptions": "; ".join(assumptions),
                }
            )
    return pd.DataFrame(rows), skipped


def compute_efficiency(chip_id: str, precision: str) -> tuple[float, str]:
    """The calibrated compute efficiency of a chip at a precision and what it rests on."""
    import rust_core

    family = rust_core.efficiency_family(chip_id, precision)
    basis = rust_core.calibration()["compute_efficiency_basis"]
    value = rust_core.compute_efficiency_for(chip_id, precision)
    if family is None:
        return value, "assumption: " + rust_core.calibration()["compute_efficiency_default_rule"]
    return value, f"{family}: {basis[family]}"


def with_known_or_unit(frame: pd.DataFrame) -> pd.DataFrame:
    """Midpoint power/PUE and price where known; 1.0 where unknown (outputs are masked after)."""
    out = frame.copy()
    out["power_known"] = out["power_w_low"].notna()
    out["price_known"] = out["price_usd_per_chip_hour"].notna()
    out["power_w_per_chip"] = ((out["power_w_low"] + out["power_w_high"]) / 2).fillna(1.0)
    out["pue"] = (out["pue_low"] + out["pue_high"]) / 2
    out["price_usd_per_chip_hour"] = out["price_usd_per_chip_hour"].fillna(1.0)
    out["price_usd_per_chip_hour_low"] = out["price_low"].fillna(out["price_usd_per_chip_hour"])
    out["price_usd_per_chip_hour_high"] = out["price_high"].fillna(out["price_usd_per_chip_hour"])
    return out


def training_grid(chips: pd.DataFrame, models: pd.DataFrame = TRAINING_MODELS) -> pd.DataFrame:
    """Every chip/precision x cluster size x training model, with ids and Monte Carlo seeds."""
    sizes = pd.DataFrame({"chips": CLUSTER_SIZES})
    grid = with_known_or_unit(chips).merge(sizes, how="cross").merge(models, how="cross")
    grid = with_grown_batch(grid)
    grid["scenario_id"] = (
        "train-" + grid["chip_id"] + "-" + grid["precision"] + "-" + grid["model_id"] + "-n"
    ) + grid["chips"].astype(str)
    grid["mc_samples"] = MC_SAMPLES
    grid["mc_seed"] = grid["scenario_id"].map(seed_of)
    return grid.reset_index(drop=True)


def with_grown_batch(grid: pd.DataFrame) -> pd.DataFrame:
    """The global batch grown with the cluster (``BATCH_RULE``), the published one kept beside."""
    out = grid.copy()
    out["published_batch_tokens"] = out["global_batch_tokens"]
    out["global_batch_tokens"] = grown_batch_tokens(
        out["chips"],
        out["seq_len"],
        out["published_batch_tokens"],
        out["active_params_b"],
        out["training_tokens"],
    ).astype(np.int64)
    out["batch_basis"] = BATCH_RULE
    return out


#: Serving scenario parameters (not measurements): request shape and the largest batch tried.
PROMPT_TOKENS, OUTPUT_TOKENS = 1000, 250
#: Two regimes: throughput (largest batch that fits, at most 256) and latency (one request).
MAX_BATCHES = (256, 1)
WEIGHT_BITS = (16, 8, 4)
SERVING_TP = (1, 2, 4, 8)
#: Speculative decoding sweep: target, draft, draft length and acceptance rates (parameters).
SPEC_TARGET, SPEC_DRAFT, SPEC_DRAFT_PARAMS_B, SPEC_DRAFT_LENGTH = (
    "llama2-70b",
    "llama2-7b",
    7.0,
    4,
)
SPEC_ACCEPTANCE = (0.5, 0.6, 0.7, 0.8, 0.9)
SERVING_ASSUMPTIONS = (
    f"request {PROMPT_TOKENS} prompt + {OUTPUT_TOKENS} output tokens, batch <= {MAX_BATCHES[0]} "
    "(throughput) or 1 (latency); "
    "weight-only quantisation with bf16 compute; decode at roofline memory bandwidth (lower-bound cost)"
)


def serving_grid(chips: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """Every priced chip (bf16) x serving model x weight precision x tensor-parallel size."""
    priced = chips[(chips["precision"] == "bf16") & chips["price_usd_per_chip_hour"].notna()]
    base = priced[
        [
            "chip_id",
            "peak_tflops",
            "memory_gb",
            "memory_bw_gbps",
            "scale_up_gbps",
            "price_usd_per_chip_hour",
            "price_low",
            "price_high",
            "price_basis",
            "spec_sources",
        ]
    ]
    shape = pd.DataFrame(
        [(b, t, m) for b in WEIGHT_BITS for t in SERVING_TP for m in MAX_BATCHES],
        columns=["weight_bits", "tp", "max_batch"],
    )
    grid = base.merge(models, how="cross").merge(shape, how="cross")
    grid["prompt_tokens"], grid["output_tokens"] = PROMPT_TOKENS, OUTPUT_TOKENS
    grid["draft_params_b"], grid["draft_length"], grid["acceptance_rate"] = 0.0, 0, 0.0
    grid["draft_model_id"] = ""
    return with_speculative(grid.reset_index(drop=True))


def with_speculative(grid: pd.DataFrame) -> pd.DataFrame:
    """Adds, for every bf16 row of the speculative target, one row per acceptance rate."""
    target = grid[(grid["model_id"] == SPEC_TARGET) & (grid["weight_bits"] == 16)]
    rates = pd.DataFrame({"acceptance_rate": SPEC_ACCEPTANCE})
    spec = target.drop(columns="acceptance_rate").merge(rates, how="cross")
    spec["draft_params_b"], spec["draft_length"] = SPEC_DRAFT_PARAMS_B, SPEC_DRAFT_LENGTH
    spec["draft_model_id"] = SPEC_DRAFT
    return pd.concat([grid, spec[grid.columns]], ignore_index=True)


def serving_id(row: pd.Series) -> str:
    """Scenario id of a serving row."""
    batch = f"b{int(row['max_batch'])}"
    if row["draft_length"] > 0:
        return (
            f"spec-{row['chip_id']}-{row['model_id']}-draft-{row['draft_model_id']}"
            f"-g{int(row['draft_length'])}-a{row['acceptance_rate']:.1f}-{batch}"
        )
    return f"inf-{row['chip_id']}-{row['model_id']}-w{int(row['weight_bits'])}-{batch}"


#: Cluster equivalence: chip A (count) against each chip B, training EQUIVALENCE_MODEL.
EQUIVALENCE_A = "nvidia-h100-sxm"
EQUIVALENCE_B = (
    "huawei-ascend-910b",
    "huawei-ascend-910c",
    "huawei-cloudmatrix-384",
    "cambricon-mlu370-x8",
    "moorethreads-mtt-s4000",
    "biren-br100",
    "nvidia-h20",
    "nvidia-a100-sxm-80gb",
)
#: (N_A, N_B to evaluate beside the solve): the article's 4,000 vs 10,000, and equal chip counts.
EQUIVALENCE_SIZES = ((4000, 10_000), (4000, 4000), (1024, 1024))
#: How the global batch is set in an equivalence row: both sides at chip A's grown batch ("equal
#: batch"), or each side at the batch its own cluster grows to ("grown batch").
EQUAL_BATCH, GROWN_BATCH = "equal batch", "grown batch"
EQUIVALENCE_MODEL = "llama2-70b"
EQUIVALENCE_MAX_CHIPS_B = 1_000_000
EQUIVALENCE_MC_SAMPLES = 40


def equivalence_grid(chips: pd.DataFrame, models: pd.DataFrame = TRAINING_MODELS) -> pd.DataFrame:
    """One row per (chip B, N_A) against chip A at bf16, with a_/b_ chip columns."""
    from rust_core import CHIP_FIELDS

    table = with_known_or_unit(chips[chips["precision"] == "bf16"]).set_index("chip_id")
    model = models[models["model_id"] == EQUIVALENCE_MODEL].iloc[0]
    rows = []
    if EQUIVALENCE_A not in table.index:
        return pd.DataFrame()
    a = table.loc[EQUIVALENCE_A]
    for b_id in EQUIVALENCE_B:
        if b_id not in table.index:
            continue
        b = table.loc[b_id]
        for (n_a, n_b), basis in (
            (sizes, basis) for sizes in EQUIVALENCE_SIZES for basis in (EQUAL_BATCH, GROWN_BATCH)
        ):
            batch_a = float(
                grown_batch_tokens(
                    n_a,
                    model["seq_len"],
                    model["global_batch_tokens"],
                    model["active_params_b"],
                    model["training_tokens"],
                )
            )
            tag = "" if basis == EQUAL_BATCH else "-grown"
            row = {
                "scenario_id": f"eq-{EQUIVALENCE_A}-x{n_a}-vs-{b_id}-n{n_b}-{EQUIVALENCE_MODEL}{tag}",
                "batch_basis": basis,
                "chip_a": EQUIVALENCE_A,
                "chip_b": b_id,
                "model_id": EQUIVALENCE_MODEL,
                "chips_a": n_a,
                "chips_b_eval": n_b,
                "max_chips_b": EQUIVALENCE_MAX_CHIPS_B,
                **{f"a_{c}": a[c] for c in CHIP_FIELDS},
                **{f"b_{c}": b[c] for c in CHIP_FIELDS},
                **{c: model[c] for c in TRAINING_MODELS.columns if c != "model_id"},
                "published_batch_tokens": model["global_batch_tokens"],
                "global_batch_tokens": batch_a,
                "a_compute_efficiency": a["compute_efficiency"],
                "b_compute_efficiency": b["compute_efficiency"],
                "assumptions": "; ".join(
                    x for x in (f"A: {a['assumptions']}", f"B: {b['assumptions']}") if len(x) > 3
                ),
            }
            rows.append(row)
    return pd.DataFrame(rows)


#: Cluster sizes of the power table (chips); 50,000 is the article's H100 example.
POWER_SIZES = (1000, 10_000, 50_000, 100_000)


def power_grid(chips: pd.DataFrame) -> pd.DataFrame:
    """Every chip with a power band x cluster size."""
    known = chips[(chips["precision"] == "bf16") & chips["power_w_low"].notna()]
    cols = [
        "chip_id",
        "power_w_low",
        "power_w_high",
        "power_basis",
        "pue_low",
        "pue_high",
        "pue_basis",
    ]
    grid = known[cols].merge(pd.DataFrame({"chips": POWER_SIZES}), how="cross")
    grid = grid.rename(
        columns={"power_w_low": "power_w_per_chip_low", "power_w_high": "power_w_per_chip_high"}
    )
    grid["scenario_id"] = "power-" + grid["chip_id"] + "-n" + grid["chips"].astype(str)
    grid["mc_samples"] = MC_SAMPLES * 5
    grid["mc_seed"] = grid["scenario_id"].map(seed_of)
    return grid.reset_index(drop=True)
