"""The what-if job: one training scenario a user types into the launchpad or the command line,
appended to ``warehouse/derived/what_if_runs.parquet`` (keyed by scenario id and run time)."""

import datetime as dt
from typing import Literal

import dagster as dg
import pandas as pd
from pydantic import Field
from upath import UPath

from assets.derived import scenario_inputs
from assets.derived import what_if as what_if_model
from assets.derived.perf_assets import _COMMON, TRAINING_SCHEMA, _chips, _ordered
from assets.derived.performance import training_table
from assets.derived.workloads import TRAINING_MODELS
from pipelines import settings
from pipelines.io import column_schema

RUNS_ASSET = "what_if_runs"
RUNS_SCHEMA = column_schema(
    (
        "run_time_utc",
        "timestamp[us, tz=UTC]",
        "",
        "When the what-if ran (UTC); key with scenario_id",
    ),
    ("chip_requested", "string", "", "The chip name as the user typed it"),
    ("model_requested", "string", "", "The model name as the user typed it"),
    ("knobs", "string", "", "JSON: every knob of the run (resolved chip and model, overrides)"),
    *[
        (
            c.name,
            c.type,
            c.tags.get("unit", ""),
            (c.description or "").removesuffix(f" [{c.tags['unit']}]" if "unit" in c.tags else ""),
        )
        for c in TRAINING_SCHEMA.columns
        if c.name != "scenario_id"
    ],
    (
        "scenario_id",
        "string",
        "",
        "what-if-(chip)-(precision)-(model)-n(chips)-(hash of every knob); key with run_time_utc",
    ),
    (
        "price_kind",
        "string",
        "",
        "rental (median observed) | user-set | ownership estimate | none (why in price_basis)",
    ),
    ("capital_usd_per_chip_hour", "double", "USD/chip-hour", "Ownership: chip price / life hours"),
    ("energy_usd_per_chip_hour", "double", "USD/chip-hour", "Ownership: W x PUE x USD/kWh"),
    ("hosting_usd_per_chip_hour", "double", "USD/chip-hour", "Ownership: hosting (user-set)"),
    ("chip_price_usd", "double", "USD", "Ownership: chip price used"),
    ("life_years", "double", "years", "Ownership: amortisation life (user-set assumption)"),
    ("usd_per_kwh", "double", "USD/kWh", "Ownership: electricity price (user-set assumption)"),
)


class WhatIfConfig(dg.Config):
    """A training scenario typed into the launchpad: a chip from chip_specs (by id or any alias) or
    a custom spec, a cluster size, a model, and the knobs of training and of cost."""

    chip_id: str = Field(
        default="nvidia-h100-sxm",
        description="Chip id or any alias from chip_aliases (e.g. 'Ascend 910B', 'H100'); an "
        "unknown name is answered with the closest valid ones. A new name with peak_tflops set "
        "is a custom chip.",
    )
    chips: int = Field(default=1024, description="Cluster size in chips.", gt=0)
    model_id: str = Field(
        default="llama2-70b",
        description="Training model: llama2-7b, llama2-70b, llama3-405b or deepseek-v3-671b "
        "(case and punctuation ignored).",
    )
    precision: Literal["bf16", "fp8"] = Field(
        default="bf16", description="Compute precision: bf16, or fp8 where the chip states FP8."
    )
    training_tokens: float | None = Field(
        default=None,
        description="Tokens to train on; empty: the model's published count (e.g. 2.0e12 for "
        "Llama 2).",
        gt=0,
    )
    global_batch_tokens: int | None = Field(
        default=None,
        description="Global batch in tokens; empty: the model's batch rule (its published batch).",
        gt=0,
    )
    price_usd_per_chip_hour: float | None = Field(
        default=None,
        description="Price per chip-hour in USD; empty: the median observed rental price, or, for "
        "a chip without one, the cost-of-ownership estimate below.",
        ge=0,
    )
    chip_price_usd: float | None = Field(
        default=None,
        description="Ownership estimate: purchase price per chip in USD; empty: the latest "
        "chip_prices row of kind spec/measured/estimate and medium or high confidence.",
        gt=0,
    )
    life_years: float = Field(
        default=what_if_model.DEFAULT_LIFE_YEARS,
        description="Ownership estimate: years over which the chip price is amortised "
        "(a user-set assumption).",
        gt=0,
    )
    usd_per_kwh: float = Field(
        default=what_if_model.DEFAULT_USD_PER_KWH,
        description="Ownership estimate: electricity price in USD per kWh (a user-set assumption).",
        ge=0,
    )
    hosting_usd_per_chip_hour: float = Field(
        default=what_if_model.DEFAULT_HOSTING_USD_PER_CHIP_HOUR,
        description="Ownership estimate: hosting (space, network, staff) in USD per chip-hour "
        "(a user-set assumption; 0 leaves it out).",
        ge=0,
    )
    peak_tflops: float | None = Field(
        default=None, description="Override: dense peak TFLOPS at the precision.", gt=0
    )
    memory_gb: float | None = Field(default=None, description="Override: memory per chip, GB.")
    memory_bw_gbps: float | None = Field(
        default=None, description="Override: memory bandwidth per chip, GB/s."
    )
    scale_up_gbps: float | None = Field(
        default=None, description="Override: scale-up (NVLink, HCCS) bandwidth per chip, GB/s."
    )
    scale_up_domain_chips: int | None = Field(
        default=None, description="Override: chips in one scale-up domain."
    )
    scale_out_gbps: float | None = Field(
        default=None, description="Override: scale-out (InfiniBand, RoCE) bandwidth per chip, GB/s."
    )
    power_w_per_chip: float | None = Field(
        default=None, description="Override: IT watts per chip including its server share."
    )


#: Spec overrides applied to the chip's row as they are.
SPEC_OVERRIDES = (
    "peak_tflops",
    "memory_gb",
    "memory_bw_gbps",
    "scale_up_gbps",
    "scale_up_domain_chips",
    "scale_out_gbps",
)


def custom_chip(config: WhatIfConfig) -> pd.DataFrame:
    """A chip row of a name not in the data, to be filled by the config's spec overrides."""
    nan = float("nan")
    return pd.DataFrame(
        [
            {
                "chip_id": config.chip_id,
                "precision": config.precision,
                "assumptions": "custom spec",
                "power_w_low": nan,
                "power_w_high": nan,
                "pue_low": 1.0,
                "pue_high": 1.0,
                "price_usd_per_chip_hour": nan,
                "price_low": nan,
                "price_high": nan,
                "power_basis": "",
                "pue_basis": "",
                "price_basis": "",
                "spec_sources": "{}",
                "assumed_scale_out": False,
            }
        ]
    )


def chip_row(config: WhatIfConfig, chips: pd.DataFrame, chip_aliases: pd.DataFrame) -> pd.DataFrame:
    """The chip's resolved row at the precision, with the config's spec and power overrides."""
    try:
        chip_id = what_if_model.resolve_chip(
            config.chip_id, chip_aliases, sorted(set(chips["chip_id"]))
        )
    except what_if_model.UnknownName:
        if config.peak_tflops is None:
            raise
        row = custom_chip(config)
    else:
        row = chips[(chips["chip_id"] == chip_id) & (chips["precision"] == config.precision)]
        if row.empty:
            have = sorted(chips.loc[chips["chip_id"] == chip_id, "precision"])
            raise ValueError(
                f"what_if: chip '{chip_id}' has no stated {config.precision} peak "
                f"(precisions with a peak: {', '.join(have) or 'none; set peak_tflops'})"
            )
        row = row.iloc[[0]].copy()
    for key in SPEC_OVERRIDES:
        value = getattr(config, key)
        if value is not None:
            row[key] = value
    if config.power_w_per_chip is not None:
        row["power_w_low"] = row["power_w_high"] = config.power_w_per_chip
        row["power_basis"] = "user-set"
    missing = [
        c
        for c in (
            "peak_tflops",
            *scenario_inputs.REQUIRED_SPECS,
            "scale_up_domain_chips",
            "scale_out_gbps",
        )
        if c not in row or pd.isna(row[c].iloc[0])
    ]
    if missing:
        raise ValueError(
            f"what_if: chip '{row['chip_id'].iloc[0]}' ({config.precision}) needs "
            f"{', '.join(missing)}"
        )
    return row.reset_index(drop=True)


def priced(row: pd.DataFrame, config: WhatIfConfig, chip_prices: pd.DataFrame) -> dict:
    """The price per chip-hour the run uses, its kind and basis, and the ownership inputs."""
    r = row.iloc[0]
    nan = float("nan")
    out = {
        "price_kind": "none",
        "capital_usd_per_chip_hour": nan,
        "energy_usd_per_chip_hour": nan,
        "hosting_usd_per_chip_hour": nan,
        "chip_price_usd": nan,
        "life_years": nan,
        "usd_per_kwh": nan,
    }
    if config.price_usd_per_chip_hour is not None:
        p = config.price_usd_per_chip_hour
        return out | {"price": (p, p, p), "price_kind": "user-set", "price_basis": "user-set"}
    if pd.notna(r["price_usd_per_chip_hour"]):
        band = (r["price_usd_per_chip_hour"], r["price_low"], r["price_high"])
        return out | {"price": band, "price_kind": "rental", "price_basis": r["price_basis"]}
    found = (
        (config.chip_price_usd, "user-set assumption")
        if config.chip_price_usd is not None
        else what_if_model.chip_price_usd(chip_prices, r["chip_id"])
    )
    if found is None:
        why = "no rental price and no supportable chip price (set chip_price_usd or price)"
        return out | {"price": None, "price_basis": why}
    if pd.isna(r["power_w_low"]):
        why = (
            "no rental price; an ownership estimate needs IT watts per chip (set power_w_per_chip)"
        )
        return out | {"price": None, "price_basis": why}
    fields = set(config.model_fields_set)
    own = what_if_model.Ownership(
        chip_price_usd=float(found[0]),
        chip_price_basis=found[1],
        life_years=config.life_years,
        power_w_per_chip=float((r["power_w_low"] + r["power_w_high"]) / 2),
        power_basis=str(r["power_basis"]),
        pue=float((r["pue_low"] + r["pue_high"]) / 2),
        pue_basis=str(r["pue_basis"]),
        usd_per_kwh=config.usd_per_kwh,
        hosting_usd_per_chip_hour=config.hosting_usd_per_chip_hour,
        assumption_labels=what_if_model.ownership_labels(
            "life_years" in fields,
            "usd_per_kwh" in fields,
            "hosting_usd_per_chip_hour" in fields,
            config.chip_price_usd is not None,
        ),
    )
    p = own.usd_per_chip_hour()
    return out | {
        "price": (p, p, p),
        "price_kind": "ownership estimate",
        "price_basis": own.basis(),
        "capital_usd_per_chip_hour": own.capital_usd_per_chip_hour(),
        "energy_usd_per_chip_hour": own.energy_usd_per_chip_hour(),
        "hosting_usd_per_chip_hour": own.hosting_usd_per_chip_hour,
        "chip_price_usd": own.chip_price_usd,
        "life_years": own.life_years,
        "usd_per_kwh": own.usd_per_kwh,
    }


def what_if_frame(
    config: WhatIfConfig,
    chips: pd.DataFrame,
    chip_aliases: pd.DataFrame,
    chip_prices: pd.DataFrame,
) -> tuple[pd.DataFrame, dict]:
    """One training scenario grid row (resolved chip, model, knobs and price) for rust_core, and
    the price columns of the runs table."""
    problems, model_id, row = [], None, None
    try:
        model_id = what_if_model.resolve_model(config.model_id)
    except what_if_model.UnknownName as exc:
        problems.append(str(exc))
    try:
        row = chip_row(config, chips, chip_aliases)
    except what_if_model.UnknownName as exc:
        problems.append(str(exc))
    if problems:
        raise what_if_model.UnknownName("; ".join(problems))
    price = priced(row, config, chip_prices)
    if price["price"] is not None:
        row["price_usd_per_chip_hour"], row["price_low"], row["price_high"] = price["price"]
    else:
        row["price_usd_per_chip_hour"] = row["price_low"] = row["price_high"] = float("nan")
    row["price_basis"] = price["price_basis"]
    model = TRAINING_MODELS[TRAINING_MODELS["model_id"] == model_id].iloc[[0]].copy()
    if config.training_tokens is not None:
        model["training_tokens"] = float(config.training_tokens)
    model["published_batch_tokens"] = model["global_batch_tokens"]
    model["batch_basis"] = (
        "user-set" if config.global_batch_tokens is not None else scenario_inputs.BATCH_RULE
    )
    if "compute_efficiency" not in row or row["compute_efficiency"].isna().any():
        # a custom chip (or a table without it): the calibrated value of its family or the default
        efficiency, basis = scenario_inputs.compute_efficiency(
            str(row["chip_id"].iloc[0]), config.precision
        )
        row = row.assign(compute_efficiency=efficiency, compute_efficiency_basis=basis)
    model["global_batch_tokens"] = (
        config.global_batch_tokens
        if config.global_batch_tokens is not None
        else what_if_model.default_global_batch_tokens(model.iloc[0], config.chips)
    )
    grid = scenario_inputs.with_known_or_unit(row).merge(model, how="cross")
    grid["chips"] = config.chips
    knobs = config.model_dump() | {"chip_id": row["chip_id"].iloc[0], "model_id": model_id}
    knobs |= {
        "training_tokens": float(model["training_tokens"].iloc[0]),
        "global_batch_tokens": int(model["global_batch_tokens"].iloc[0]),
    }
    grid["scenario_id"] = what_if_model.scenario_id(
        knobs["chip_id"], config.precision, model_id, config.chips, knobs
    )
    grid["mc_samples"] = scenario_inputs.MC_SAMPLES
    grid["mc_seed"] = grid["scenario_id"].map(scenario_inputs.seed_of)
    extra = {k: v for k, v in price.items() if k != "price"} | {"knobs": knobs}
    return grid, extra


def runs_rows(
    config: WhatIfConfig, grid: pd.DataFrame, extra: dict, run_time: pd.Timestamp
) -> pd.DataFrame:
    """The runs-table row(s) of one what-if: request, knobs, the model's result and the price."""
    import json

    out = training_table(grid)
    out = _ordered(out, TRAINING_SCHEMA).copy()
    out.insert(0, "knobs", json.dumps(extra["knobs"], sort_keys=True, default=str))
    out.insert(0, "model_requested", config.model_id)
    out.insert(0, "chip_requested", config.chip_id)
    out.insert(0, "run_time_utc", run_time)
    for key in (
        "price_kind",
        "capital_usd_per_chip_hour",
        "energy_usd_per_chip_hour",
        "hosting_usd_per_chip_hour",
        "chip_price_usd",
        "life_years",
        "usd_per_kwh",
    ):
        out[key] = extra[key]
    for col in ("chip_requested", "model_requested", "knobs", "price_kind"):
        out[col] = out[col].astype("string")
    return out[[c.name for c in RUNS_SCHEMA.columns]]


def runs_path() -> UPath:
    """Where the runs table lives."""
    return UPath(settings.layer_dir("derived")) / f"{RUNS_ASSET}.parquet"


@dg.asset(
    name=RUNS_ASSET,
    metadata={
        "dagster/column_schema": RUNS_SCHEMA,
        "primary_key": ["scenario_id", "run_time_utc"],
        "append_only": "every run adds rows; earlier rows are never rewritten",
    },
    **_COMMON,
)
def what_if_runs(
    config: WhatIfConfig,
    chip_specs: pd.DataFrame,
    power_observations: pd.DataFrame,
    gpu_rental_prices: pd.DataFrame,
    chip_aliases: pd.DataFrame,
    chip_prices: pd.DataFrame,
) -> dg.MaterializeResult:
    """One training scenario from the launchpad or ``python -m pipelines.cli what-if`` (chip by
    id or alias, cluster size, model, precision, tokens, global batch, price or cost of ownership),
    appended to warehouse/derived/what_if_runs.parquet; earlier runs are kept."""
    chips, _ = _chips(chip_specs, power_observations, gpu_rental_prices)
    grid, extra = what_if_frame(config, chips, chip_aliases, chip_prices)
    run_time = pd.Timestamp(dt.datetime.now(dt.UTC)).floor("us")
    rows = runs_rows(config, grid, extra, run_time)
    table = what_if_model.append_runs(rows, runs_path(), RUNS_SCHEMA)
    r = rows.iloc[0]

    def num(value) -> float | None:
        return None if pd.isna(value) else float(value)

    layout = (
        f"tp={r['tp']} pp={r['pp']} dp={r['dp']} ep={r['ep']} mb={r['micro_batch']} "
        f"zero={r['zero_stage']} recompute={r['recompute']}"
        if r["feasible"]
        else "no layout fits in memory"
    )
    return dg.MaterializeResult(
        metadata={
            "scenario_id": str(r["scenario_id"]),
            "run_time_utc": str(run_time),
            "runs_in_table": len(table),
            "feasible": bool(r["feasible"]),
            "best_layout": layout,
            "mfu_pct": num(r["mfu_pct"]),
            "mfu_pct_p5_p95": f"{num(r['mfu_pct_p5'])} - {num(r['mfu_pct_p95'])}",
            "days_to_train": num(r["days_to_train"]),
            "cost_usd": num(r["cost_usd"]),
            "price_kind": str(r["price_kind"]),
            "price_basis": str(r["price_basis"]),
            "energy_mwh": num(r["energy_mwh"]),
            "assumptions": str(r["assumptions"]),
            "path": dg.MetadataValue.path(str(runs_path())),
        }
    )


what_if = dg.define_asset_job(
    "what_if",
    selection=dg.AssetSelection.assets(what_if_runs),
    description=(
        "Predict one training scenario and append it to what_if_runs: fill chip_id (id or alias), "
        "chips, model_id, precision, tokens, global batch and price in the launchpad config."
    ),
)

ASSETS = [what_if_runs]
JOBS = [what_if]
