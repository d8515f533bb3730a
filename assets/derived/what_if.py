"""The what-if a user drives: chip and model names resolved through the alias table (unknown names
answered with the closest valid ones), the training knobs, a cost-of-ownership price for chips
without a rental price, and the append-only table of runs."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from dataclasses import dataclass

import pandas as pd
from upath import UPath

from assets.derived import batch_rule, price_support
from assets.derived.chip_metrics import latest_chip_price
from assets.derived.workloads import TRAINING_MODELS
from assets.ingest.factory import aliases_map
from assets.ingest.schema import normalise_alias
from pipelines import io

HOURS_PER_YEAR = 8760.0
#: Chip-price rows the ownership estimate may use: sourced figures of medium or high confidence.
#: User-set assumptions of the ownership estimate (no source in data states them; a user changes
#: them in the launchpad or on the command line).
DEFAULT_LIFE_YEARS = 5.0
DEFAULT_USD_PER_KWH = 0.08
DEFAULT_HOSTING_USD_PER_CHIP_HOUR = 0.0
SUGGESTIONS = 5


class UnknownName(ValueError):
    """A chip or model name that matches nothing, with the closest valid names."""


def closest(name: str, valid: list[str], n: int = SUGGESTIONS) -> list[str]:
    """The valid names closest to ``name`` (by normalised spelling), best first."""
    by_norm: dict[str, str] = {}
    for v in valid:
        by_norm.setdefault(normalise_alias(v), v)
    hits = difflib.get_close_matches(normalise_alias(name), list(by_norm), n=n, cutoff=0.4)
    if not hits:
        hits = [k for k in by_norm if normalise_alias(name)[:3] in k][:n]
    return [by_norm[h] for h in hits]


def resolve_chip(name: str, chip_aliases: pd.DataFrame, chip_ids: list[str]) -> str:
    """The chip id a name stands for (a chip id or any alias, case and spacing ignored)."""
    aliases = aliases_map(chip_aliases)
    aliases.update({normalise_alias(c): c for c in chip_ids})
    chip_id = aliases.get(normalise_alias(name))
    if chip_id is None:
        valid = sorted(set(chip_aliases["alias"]) | set(chip_ids))
        raise UnknownName(
            f"unknown chip '{name}'; closest valid names: {', '.join(closest(name, valid))}"
        )
    return chip_id


def _model_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def resolve_model(name: str, models: pd.DataFrame = TRAINING_MODELS) -> str:
    """The training model id a name stands for (case, spaces and punctuation ignored)."""
    ids = list(models["model_id"])
    by_key = {_model_key(m): m for m in ids}
    model_id = by_key.get(_model_key(name))
    if model_id is None:
        raise UnknownName(
            f"unknown model '{name}'; closest valid ids: {', '.join(closest(name, ids))} "
            f"(all: {', '.join(ids)})"
        )
    return model_id


def default_global_batch_tokens(model: pd.Series, chips: int) -> int:
    """The model's batch rule (``batch_rule.BATCH_RULE``): the global batch grows with the cluster,
    capped by the critical batch for the model's size, never below the published batch (tokens)."""
    return int(
        batch_rule.grown_batch_tokens(
            chips,
            model["seq_len"],
            model["global_batch_tokens"],
            model["active_params_b"],
            model["training_tokens"],
        )
    )


def supportable_chip_prices(chip_prices: pd.DataFrame) -> pd.DataFrame:
    """Chip-price rows an estimate may rest on: spec, measured or estimate, medium or high confidence."""
    return chip_prices[price_support.is_supportable(chip_prices)]


def chip_price_usd(chip_prices: pd.DataFrame, chip_id: str) -> tuple[float, str] | None:
    """Latest supportable USD price of one chip (midpoint of a stated range) and its source text."""
    usable = supportable_chip_prices(chip_prices)
    latest = latest_chip_price(usable)
    if chip_id not in latest.index:
        return None
    price_id = latest.at[chip_id, "chip_price_id"]
    row = usable[usable["chip_price_id"] == price_id].iloc[0]
    low = float(row["usd_per_chip"])
    high = row.get("usd_per_chip_high")
    value = (low + float(high)) / 2 if pd.notna(high) else low
    rng = f" (midpoint of {low:,.0f}-{float(high):,.0f})" if pd.notna(high) else ""
    return value, (
        f"chip_prices {price_id}: {value:,.0f} USD{rng}, {row['kind']}, {row['confidence']} "
        f"confidence, {row['source']} <{row['source_url']}>"
    )


@dataclass(frozen=True)
class Ownership:
    """Inputs of a cost-of-ownership price per chip-hour, each with where it comes from."""

    chip_price_usd: float
    chip_price_basis: str
    life_years: float
    power_w_per_chip: float
    power_basis: str
    pue: float
    pue_basis: str
    usd_per_kwh: float
    hosting_usd_per_chip_hour: float
    assumption_labels: tuple[str, ...] = ()

    def capital_usd_per_chip_hour(self) -> float:
        """Chip price spread evenly over its life, every hour of the year."""
        return self.chip_price_usd / (self.life_years * HOURS_PER_YEAR)

    def energy_usd_per_chip_hour(self) -> float:
        """Facility energy of one chip for one hour (IT watts x PUE) at the electricity price."""
        return self.power_w_per_chip / 1000.0 * self.pue * self.usd_per_kwh

    def usd_per_chip_hour(self) -> float:
        """Capital + energy + hosting per chip-hour."""
        return (
            self.capital_usd_per_chip_hour()
            + self.energy_usd_per_chip_hour()
            + self.hosting_usd_per_chip_hour
        )

    def basis(self) -> str:
        """The estimate in words with every input and where it comes from."""
        return (
            f"ESTIMATE (cost of ownership, not a rental price): {self.usd_per_chip_hour():.4f} "
            f"USD/chip-hour = chip {self.chip_price_usd:,.0f} USD / ({self.life_years:g} years x "
            f"{HOURS_PER_YEAR:,.0f} h) [{self.chip_price_basis}] + {self.power_w_per_chip:,.0f} W x "
            f"PUE {self.pue:.3f} x {self.usd_per_kwh:g} USD/kWh [power: {self.power_basis}; PUE: "
            f"{self.pue_basis}] + hosting {self.hosting_usd_per_chip_hour:g} USD/chip-hour; "
            f"{'; '.join(self.assumption_labels)}"
        )


def ownership_labels(life_set: bool, kwh_set: bool, hosting_set: bool, price_set: bool) -> tuple:
    """Which inputs are user-set assumptions (the defaults count as user-set, and say so)."""

    def label(what: str, user: bool, default: object) -> str:
        return f"{what}: user-set assumption" + ("" if user else f" (default {default})")

    out = [
        label("life_years", life_set, DEFAULT_LIFE_YEARS),
        label("usd_per_kwh", kwh_set, DEFAULT_USD_PER_KWH),
        label("hosting_usd_per_chip_hour", hosting_set, DEFAULT_HOSTING_USD_PER_CHIP_HOUR),
    ]
    if price_set:
        out.append("chip_price_usd: user-set assumption")
    return tuple(out)


def scenario_id(chip_id: str, precision: str, model_id: str, chips: int, knobs: dict) -> str:
    """A readable id of the resolved scenario with a short hash of every knob, so the same question
    asked twice has the same id (and two runs of it differ by run time only)."""
    digest = hashlib.sha256(json.dumps(knobs, sort_keys=True, default=str).encode()).hexdigest()
    return f"what-if-{chip_id}-{precision}-{model_id}-n{chips}-{digest[:8]}"


def append_runs(new_rows: pd.DataFrame, path: UPath, schema) -> pd.DataFrame:
    """Appends rows to the runs table at ``path`` (never rewriting earlier rows' values) through a
    temporary file and a rename; returns the whole table."""
    if path.exists():
        previous = pd.read_parquet(os.fspath(path) if path.protocol in ("", "file") else path)
        table = pd.concat([previous, new_rows], ignore_index=True)
    else:
        table = new_rows.reset_index(drop=True)
    key = ["scenario_id", "run_time_utc"]
    duplicated = table.duplicated(key, keep=False)
    if duplicated.any():
        raise ValueError(
            f"what_if_runs: a run with the same scenario_id and run_time_utc exists: "
            f"{table.loc[duplicated, key].drop_duplicates().to_dict('records')}"
        )
    io.write_parquet_atomic(io.arrow_table(table, schema), path)
    return table
