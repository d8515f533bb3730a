"""Dagster assets for the rust_core performance model: training grid, inference costs, cluster
equivalence and data-centre power (the what-if a user drives is in what_if_assets)."""

import hashlib

import dagster as dg
import pandas as pd

import rust_core
from assets.derived import performance as performance_model
from assets.derived import scenario_inputs
from pipelines.io import column_schema

_BAND = [
    (f"{name}_p{q}", "double", unit, f"{what}, {q}th percentile of the Monte Carlo band")
    for name, unit, what in [("mfu_pct", "%", "MFU"), ("cost_usd", "USD", "Run cost")]
    for q in performance_model.PCTS
]


def practitioner_schema(prefix: str = "", of: str = "") -> list[tuple[str, str, str, str]]:
    """Columns of the practitioner layout beside a searched best (docs/model.md, "Practitioner
    layouts"); ``of`` names the side in equivalence tables."""
    layout = [
        ("tp", "chips", "tensor parallel"),
        ("cp", "chips", "context parallel"),
        ("pp", "stages", "pipeline parallel"),
        ("vpp", "chunks", "virtual pipeline chunks per stage"),
        ("dp", "replicas", "data parallel"),
        ("ep", "chips", "expert parallel"),
        ("micro_batch", "sequences", "micro-batch"),
        ("zero_stage", "", "ZeRO stage 0-3"),
    ]
    return [
        (
            f"{prefix}practitioner_family",
            "string",
            "",
            f"Layout family practitioners use at this scale{of}: fsdp (dense <= 20B, chips <= "
            "batch) | megatron | megatron-moe (with EP, as DeepSeek-V3)",
        ),
        (f"{prefix}practitioner_rule", "string", "", f"The family's rule and its picks{of}"),
        *[
            (f"{prefix}practitioner_{name}", "int64", unit, f"Practitioner layout{of}: {what}")
            for name, unit, what in layout
        ],
        (
            f"{prefix}practitioner_recompute",
            "string",
            "",
            f"Practitioner layout{of}: recomputation selective | full",
        ),
        (
            f"{prefix}practitioner_mfu_pct",
            "double",
            "%",
            f"MFU of the practitioner layout{of}, same model as the search (NaN: none fits)",
        ),
        (
            f"{prefix}mfu_gap_vs_practitioner_pts",
            "double",
            "MFU points",
            f"Searched-best MFU minus practitioner MFU{of} (>= 0)",
        ),
        (
            f"{prefix}searched_vs_practitioner_layout",
            "string",
            "",
            f"Knobs the searched best changes, practitioner->searched{of}",
        ),
    ]


_SOURCES = [
    (
        "power_basis",
        "string",
        "",
        "Where the IT watts per chip come from (observations or assumption)",
    ),
    ("pue_basis", "string", "", "Where the PUE band comes from"),
    (
        "price_basis",
        "string",
        "",
        "Rental observations behind the price (medium or high confidence only), then the rows "
        "left out as a range check (empty: no rental observed)",
    ),
    ("spec_sources", "string", "", "JSON: spec column -> hardware_specs.spec_id"),
    ("model_source", "string", "", "Publication of the model's shape, batch and tokens"),
    ("assumptions", "string", "", "Every value assumed because a source lacks it"),
]

TRAINING_SCHEMA = column_schema(
    ("scenario_id", "string", "", "train-<chip>-<precision>-<model>-n<chips>"),
    ("chip_id", "string", "", "Chip id"),
    ("precision", "string", "", "bf16 | fp8 (where the chip has FP8)"),
    ("model_id", "string", "", "Training workload (see model_source)"),
    ("chips", "int64", "chips", "Cluster size"),
    ("peak_tflops", "double", "TFLOPS", "Dense peak at this precision"),
    ("memory_gb", "double", "GB", "Memory per chip"),
    ("memory_bw_gbps", "double", "GB/s", "Memory bandwidth per chip"),
    ("scale_up_gbps", "double", "GB/s", "Scale-up bandwidth per chip"),
    ("scale_up_domain_chips", "int64", "chips", "Chips in one scale-up domain"),
    ("scale_out_gbps", "double", "GB/s", "Scale-out bandwidth per chip (stated or assumed)"),
    ("assumed_scale_out", "bool", "", "scale_out_gbps is the stated fallback, not the chip's spec"),
    ("params_b", "double", "B params", "Total parameters"),
    ("active_params_b", "double", "B params", "Parameters active per token"),
    ("seq_len", "int64", "tokens", "Sequence length"),
    ("global_batch_tokens", "int64", "tokens", "Global batch at this cluster size (batch_basis)"),
    ("published_batch_tokens", "int64", "tokens", "The workload's published global batch"),
    ("batch_basis", "string", "", "Rule that grows the batch with the cluster"),
    ("training_tokens", "double", "tokens", "Tokens trained on"),
    (
        "compute_efficiency",
        "double",
        "fraction",
        "Calibrated compute efficiency of the chip family",
    ),
    ("compute_efficiency_basis", "string", "", "Calibration rows (or assumption) behind it"),
    ("power_w_per_chip", "double", "W", "IT watts per chip incl. server share (band midpoint)"),
    ("pue", "double", "ratio", "Facility PUE (band midpoint)"),
    ("price_usd_per_chip_hour", "double", "USD/chip-hour", "Rental price (median of observations)"),
    ("feasible", "bool", "", "Some layout fits in memory"),
    ("layouts_evaluated", "int64", "layouts", "Layouts the search tried"),
    ("tp", "int64", "", "Best layout: tensor parallel"),
    ("cp", "int64", "", "Best layout: context parallel"),
    ("pp", "int64", "", "Best layout: pipeline parallel"),
    ("vpp", "int64", "", "Best layout: virtual pipeline chunks per stage (interleaved 1F1B)"),
    ("dp", "int64", "", "Best layout: data parallel"),
    ("ep", "int64", "", "Best layout: expert parallel"),
    ("micro_batch", "int64", "sequences", "Best layout: micro-batch"),
    ("zero_stage", "int64", "", "Best layout: ZeRO stage 0-3"),
    ("recompute", "string", "", "Best layout: activation recomputation none | selective | full"),
    ("chips_used", "int64", "chips", "tp x cp x pp x dp (idle chips count in MFU and cost)"),
    ("memory_per_chip_gb", "double", "GB", "Model states + activations per chip"),
    ("step_time_s", "double", "s", "Predicted time per global batch"),
    ("tokens_per_s", "double", "tokens/s", "Cluster training throughput"),
    ("days_to_train", "double", "days", "training_tokens / tokens_per_s"),
    ("chip_hours", "double", "chip-hours", "All chips x run time"),
    ("mfu_pct", "double", "%", "Model FLOPs utilisation (no recomputation FLOPs)"),
    ("hfu_pct", "double", "%", "Hardware FLOPs utilisation (with recomputation)"),
    *practitioner_schema(),
    ("energy_mwh", "double", "MWh", "Facility energy incl. PUE (NaN: no power figure)"),
    ("cost_usd", "double", "USD", "Rental cost (NaN: no price observed for the chip)"),
    *_BAND,
    *_SOURCES,
)

INFERENCE_SCHEMA = column_schema(
    ("scenario_id", "string", "", "inf-<chip>-<model>-w<bits>-b<max batch> | spec-... for drafts"),
    ("chip_id", "string", "", "Chip id"),
    ("model_id", "string", "", "Served model (see model_source)"),
    ("params_b", "double", "B params", "Total parameters"),
    ("active_params_b", "double", "B params", "Parameters active per token"),
    ("experts", "int64", "", "Routed experts (1 = dense)"),
    ("top_k", "int64", "", "Experts per token"),
    ("weight_bits", "int64", "bits", "Weight precision (16 bf16, 8 fp8/int8, 4 int4)"),
    ("tp", "int64", "chips", "Tensor-parallel chips per replica (cheapest that fits)"),
    ("max_batch", "int64", "sequences", "Regime: 256 throughput, 1 latency"),
    ("prompt_tokens", "int64", "tokens", "Prompt length per request"),
    ("output_tokens", "int64", "tokens", "Output length per request"),
    ("draft_model_id", "string", "", "Speculative draft model (empty: none)"),
    ("draft_params_b", "double", "B params", "Draft parameters"),
    ("draft_length", "int64", "tokens", "Tokens drafted per target step"),
    ("acceptance_rate", "double", "fraction", "Per-token draft acceptance (scenario parameter)"),
    ("price_usd_per_chip_hour", "double", "USD/chip-hour", "Rental price (median of observations)"),
    ("batch", "double", "sequences", "Sequences decoded together (fits memory, <= max_batch)"),
    ("weights_gb_per_chip", "double", "GB", "Weights (target + draft) per chip"),
    ("kv_cache_gb_per_seq", "double", "GB", "KV cache of one full request"),
    ("decode_step_s", "double", "s", "One plain target decode step"),
    ("memory_bound", "bool", "", "Plain decode step limited by memory bandwidth"),
    ("tokens_per_target_step", "double", "tokens", "(1 - a^(g+1)) / (1 - a); 1 without draft"),
    ("spec_speedup", "double", "x", "Decode speed with the draft over without"),
    ("latency_s_per_output_token", "double", "s", "Time per output token of one request"),
    ("decode_tokens_per_s_per_chip", "double", "tokens/s", "Output tokens per second per chip"),
    ("prefill_tokens_per_s_per_chip", "double", "tokens/s", "Prompt tokens per second per chip"),
    ("cost_usd_per_mtok_output", "double", "USD/Mtok", "Cost per 1M output tokens"),
    ("cost_usd_per_mtok_input", "double", "USD/Mtok", "Cost per 1M input tokens"),
    *[
        (
            f"cost_usd_per_mtok_output_p{q}",
            "double",
            "USD/Mtok",
            f"Output cost, {q}th pct of the price band",
        )
        for q in performance_model.PCTS
    ],
    (
        "cost_ratio_vs_dense_7b",
        "double",
        "x",
        "Output cost over deepseek-llm-7b, same chip/bits/regime",
    ),
    ("price_basis", "string", "", "Rental observations behind the price"),
    ("spec_sources", "string", "", "JSON: spec column -> hardware_specs.spec_id"),
    ("model_source", "string", "", "Publication of the model's shape"),
    ("assumptions", "string", "", "Scenario parameters and modelling assumptions"),
)

EQUIVALENCE_SCHEMA = column_schema(
    ("scenario_id", "string", "", "eq-<chip A>-x<N_A>-vs-<chip B>-n<N_B>-<model>[-grown]"),
    ("chip_a", "string", "", "Reference chip"),
    ("chip_b", "string", "", "Chip compared"),
    ("model_id", "string", "", "Training workload"),
    ("chips_a", "int64", "chips", "N_A"),
    ("chips_b_eval", "int64", "chips", "N_B evaluated beside the solve"),
    ("max_chips_b", "int64", "chips", "Largest N_B the solver tries"),
    (
        "batch_basis",
        "string",
        "",
        "equal batch (both at A's grown batch) | grown batch (each at its own cluster's)",
    ),
    ("global_batch_tokens_a", "int64", "tokens", "Global batch of the N_A chips A"),
    ("tokens_per_s_a", "double", "tokens/s", "Effective training throughput of N_A chips A"),
    ("chips_b_needed", "int64", "chips", "Smallest N_B reaching it (null: not by max_chips_b)"),
    ("tokens_per_s_b_needed", "double", "tokens/s", "Throughput at chips_b_needed"),
    ("tokens_per_s_b_eval", "double", "tokens/s", "Throughput of chips_b_eval chips B"),
    ("throughput_ratio_b_eval_vs_a", "double", "x", "tokens_per_s_b_eval / tokens_per_s_a"),
    ("searches", "int64", "", "Layout searches run by the solver"),
    *[
        (f"chips_b_needed_p{q}", "double", "chips", f"chips_b_needed, {q}th pct of the band")
        for q in performance_model.PCTS
    ],
    *[
        (f"throughput_ratio_p{q}", "double", "x", f"Throughput ratio, {q}th pct of the band")
        for q in performance_model.PCTS
    ],
    ("mfu_a_pct", "double", "%", "MFU of N_A chips A"),
    ("mfu_b_needed_pct", "double", "%", "MFU of chips_b_needed chips B"),
    ("mfu_b_eval_pct", "double", "%", "MFU of chips_b_eval chips B"),
    *practitioner_schema("a_", " (N_A chips A)"),
    *practitioner_schema("b_eval_", " (chips_b_eval chips B)"),
    ("assumptions", "string", "", "Assumed values of either chip"),
)

POWER_SCHEMA = column_schema(
    ("chip_id", "string", "", "Chip id"),
    ("power_w_per_chip_low", "double", "W", "IT watts per chip, low end"),
    ("power_w_per_chip_high", "double", "W", "IT watts per chip, high end"),
    ("power_basis", "string", "", "Observations or assumption behind the watts"),
    ("pue_low", "double", "ratio", "Lowest observed PUE"),
    ("pue_high", "double", "ratio", "Highest observed PUE"),
    ("pue_basis", "string", "", "Observations behind the PUE band"),
    ("chips", "int64", "chips", "Cluster size"),
    ("scenario_id", "string", "", "power-<chip>-n<chips>"),
    ("mc_samples", "int64", "", "Monte Carlo draws"),
    ("mc_seed", "int64", "", "Seed (CRC-32 of scenario_id)"),
    ("it_mw", "double", "MW", "IT load at the band midpoint"),
    ("facility_mw", "double", "MW", "All-in load (IT x PUE) at the band midpoints"),
    *[
        (f"facility_mw_p{q}", "double", "MW", f"All-in load, {q}th pct")
        for q in performance_model.PCTS
    ],
)

_COMMON = {
    "group_name": "derived",
    "kinds": {"rust", "pandas"},
    "io_manager_key": "derived_io",
    "owners": ["team:compute-outlook"],
}


def _ordered(out: pd.DataFrame, schema: dg.TableSchema) -> pd.DataFrame:
    """The table's columns in the declared order (the data contract)."""
    return out[[c.name for c in schema.columns]]


#: The last chip table built in this process, by the content of its three inputs: the four scenario
#: assets of a run build the same one.
_LAST_CHIPS: dict[tuple[bytes, ...], tuple[pd.DataFrame, str]] = {}


def _content(table: pd.DataFrame) -> bytes:
    """A digest of a table's columns, dtypes, index and values."""
    digest = hashlib.sha256(repr(list(table.dtypes.items())).encode())
    digest.update(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    return digest.digest()


def _chips(chip_specs, power_observations, gpu_rental_prices) -> tuple[pd.DataFrame, str]:
    """The scenario grid's chips: those with a curated sourced row (Epoch-only chips are compared
    in chip_comparison and chip_metrics, not run through every scenario); built once per process
    for the same inputs (a copy each time)."""
    key = tuple(_content(t) for t in (chip_specs, power_observations, gpu_rental_prices))
    if key not in _LAST_CHIPS:
        if "epoch_only" in chip_specs:
            chip_specs = chip_specs[~chip_specs["epoch_only"].fillna(False).astype(bool)]
        table, skipped = scenario_inputs.chip_table(
            chip_specs, power_observations, gpu_rental_prices
        )
        _LAST_CHIPS.clear()
        _LAST_CHIPS[key] = (table, "; ".join(skipped))
    table, skipped = _LAST_CHIPS[key]
    return table.copy(), skipped


@dg.asset(
    metadata={"dagster/column_schema": TRAINING_SCHEMA, "primary_key": ["scenario_id"]}, **_COMMON
)
def training_scenarios(
    chip_specs: pd.DataFrame, power_observations: pd.DataFrame, gpu_rental_prices: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Every chip x cluster size (8-100,000) x model (7B, 70B, 405B dense; 671B/37B MoE) x precision:
    the searched best layout, MFU/HFU, days, chip-hours, energy and cost, with a Monte Carlo band."""
    chips, skipped = _chips(chip_specs, power_observations, gpu_rental_prices)
    out = _ordered(performance_model.compute_training(chips), TRAINING_SCHEMA)
    return dg.Output(
        out,
        metadata={
            "chips_left_out": skipped,
            "layouts_evaluated": int(out["layouts_evaluated"].sum()),
            "infeasible_scenarios": int((~out["feasible"]).sum()),
            # A property of the compiled model, the same every run: text, so the UI draws no plot.
            "calibration_mae_mfu_pp": dg.MetadataValue.text(
                f"{rust_core.calibration()['mae_mfu_pp']:.2f} pp"
            ),
        },
    )


@dg.asset(
    metadata={"dagster/column_schema": INFERENCE_SCHEMA, "primary_key": ["scenario_id"]}, **_COMMON
)
def inference_costs(
    chip_specs: pd.DataFrame, power_observations: pd.DataFrame, gpu_rental_prices: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Serving cost per 1M tokens for every chip with an observed rental price: dense and MoE models,
    bf16/8-bit/4-bit weights, throughput and latency regimes, and a speculative-decoding sweep."""
    chips, skipped = _chips(chip_specs, power_observations, gpu_rental_prices)
    return dg.Output(
        _ordered(performance_model.compute_inference(chips), INFERENCE_SCHEMA),
        metadata={"chips_left_out": skipped},
    )


@dg.asset(
    metadata={"dagster/column_schema": EQUIVALENCE_SCHEMA, "primary_key": ["scenario_id"]},
    **_COMMON,
)
def cluster_equivalence(
    chip_specs: pd.DataFrame, power_observations: pd.DataFrame, gpu_rental_prices: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Chips of each domestic (and export-grade) chip needed to match 4,000 and 1,024 H100s training a
    70B model, and the throughput of 10,000 of them, with a band over the efficiency constants."""
    chips, skipped = _chips(chip_specs, power_observations, gpu_rental_prices)
    return dg.Output(
        _ordered(performance_model.compute_equivalence(chips), EQUIVALENCE_SCHEMA),
        metadata={"chips_left_out": skipped},
    )


@dg.asset(
    metadata={"dagster/column_schema": POWER_SCHEMA, "primary_key": ["scenario_id"]}, **_COMMON
)
def datacenter_power(
    chip_specs: pd.DataFrame, power_observations: pd.DataFrame, gpu_rental_prices: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """All-in megawatts of 1,000-100,000-chip clusters: IT watts per chip x PUE, with a band."""
    chips, skipped = _chips(chip_specs, power_observations, gpu_rental_prices)
    return dg.Output(
        _ordered(performance_model.compute_power(chips), POWER_SCHEMA),
        metadata={"chips_left_out": skipped},
    )


ASSETS = [
    training_scenarios,
    inference_costs,
    cluster_equivalence,
    datacenter_power,
]
