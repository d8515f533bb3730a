"""Power per chip and per facility, PUE, data-centre figures, GPU rental and purchase prices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.ingest.factory import Check, SourceSpec
from assets.ingest.prices import rate_for
from assets.ingest.schema import PRECISIONS, Column, Problem, SourceSchema

#: metric -> (unit, min, max): the fixed vocabulary of power_observations.csv.
POWER_METRICS = {
    "chip_tdp_w": ("W", 1, 5_000),
    "server_w_per_gpu": ("W", 1, 10_000),
    "all_in_w_per_gpu": ("W", 1, 20_000),
    "pue": ("ratio", 1.0, 3.0),
    "system_kw": ("kW", 0.1, 100_000),
    "rack_kw": ("kW", 0.1, 10_000),
    "energy_kwh_per_gpu_year": ("kWh", 1, 200_000),
    "dc_racks": ("count", 1, 1e9),
    "dc_rack_utilization_pct": ("%", 0, 100),
    "cluster_mw": ("MW", 0.001, 100_000),
}
CURRENCIES = ("USD", "CNY")

POWER_OBSERVATIONS = SourceSchema(
    asset="power_observations",
    file="power_observations.csv",
    description="Power figures: chip TDP, server and all-in watts per GPU, PUE, rack and facility figures.",
    columns=(
        Column("obs_id", "str", "Unique id", required=True),
        Column("date", "date", "Date the figure refers to"),
        Column("date_precision", "str", "Precision of `date`", required=True, choices=PRECISIONS),
        Column(
            "metric",
            "str",
            "Metric (fixed list, each with a fixed unit)",
            required=True,
            choices=tuple(POWER_METRICS),
        ),
        Column("chip_id", "chip", "Chip the figure is about (empty for facility figures)"),
        Column(
            "value", "float", "Value (low end of a range)", unit="see unit", required=True, min=0
        ),
        Column("value_high", "float", "High end of a stated range", unit="see unit", min=0),
        Column("unit", "str", "Unit of value (must match the metric)", required=True),
        Column("scope", "str", "What the figure covers (chip, server, facility, region)"),
    ),
    key=("obs_id",),
)


def _price_columns(
    id_column: str, what: str, units: tuple[str, ...], max_price: float
) -> tuple[Column, ...]:
    """The columns shared by the rental and purchase price files, around their own id and units."""
    return (
        Column(id_column, "str", "Unique id", required=True),
        Column("date", "date", "Date of the price"),
        Column("date_precision", "str", "Precision of `date`", required=True, choices=PRECISIONS),
        Column("chip_id", "chip", what, required=True),
        Column(
            "price",
            "float",
            "Price (low end of a range) in `currency` per `price_unit`",
            required=True,
            min=0,
            max=max_price,
        ),
        Column("price_high", "float", "High end of a stated range", min=0, max=max_price),
        Column("currency", "str", "USD | CNY", required=True, choices=CURRENCIES),
        Column("price_unit", "str", " | ".join(units), required=True, choices=units),
    )


CONTRACTS = ("on_demand", "spot", "reserved_1y", "market")
GPU_RENTAL_PRICES = SourceSchema(
    asset="gpu_rental_prices",
    file="gpu_rental_prices.csv",
    description="GPU rental prices over time, converted to USD per GPU-hour.",
    columns=(
        *_price_columns("rental_id", "Chip rented", ("per_gpu_hour", "per_8gpu_server_month"), 1e7),
        Column("contract", "str", " | ".join(CONTRACTS), required=True, choices=CONTRACTS),
        Column("region", "str", "Market (US, CN, global)"),
    ),
    key=("rental_id",),
)

CHIP_PRICES = SourceSchema(
    asset="chip_prices",
    file="chip_prices.csv",
    description="Accelerator purchase prices (per chip or per 8-GPU server), converted to USD per chip.",
    columns=(
        *_price_columns("chip_price_id", "Chip priced", ("per_chip", "per_8gpu_server"), 1e9),
        Column("region", "str", "Market (US, CN, global)"),
    ),
    key=("chip_price_id",),
)

HOURS_PER_MONTH = 730.0  # 8,760 h / 12


def unit_matches_metric(table: pd.DataFrame, file: str) -> list[Problem]:
    """Each metric carries its one unit, and its value lies in the metric's plausible range."""
    problems = []
    for r in table.itertuples():
        unit, lo, hi = POWER_METRICS[r.metric]
        if r.unit != unit:
            problems.append(
                Problem(
                    file,
                    int(r.source_line),
                    "unit",
                    f"metric '{r.metric}' is in {unit}, got '{r.unit}'",
                    r.unit,
                )
            )
        for col in ("value", "value_high"):
            v = getattr(r, col)
            if pd.notna(v) and not lo <= v <= hi:
                problems.append(
                    Problem(
                        file,
                        int(r.source_line),
                        col,
                        f"{v:g} {unit} is outside the plausible range {lo:g}-{hi:g} for '{r.metric}'",
                        str(v),
                    )
                )
    return problems


def high_not_below_low(column: str, high: str):
    """A rule: the high end of a range is not below its low end."""

    def rule(table: pd.DataFrame, file: str) -> list[Problem]:
        bad = table[table[high].notna() & (table[high] < table[column])]
        return [
            Problem(
                file,
                int(r.source_line),
                high,
                f"high end {getattr(r, high):g} is below the low end {getattr(r, column):g}",
            )
            for r in bad.itertuples()
        ]

    return rule


def _usd_factor(table: pd.DataFrame, fx_rates: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    rates = rate_for(table["date"], fx_rates)
    is_cny = table["currency"] == "CNY"
    return np.where(is_cny, 1.0 / rates["fx_cny_per_usd"], 1.0), rates["fx_id"].where(
        is_cny
    ).astype("string")


def rental_to_usd(table: pd.DataFrame, fx_rates: pd.DataFrame) -> pd.DataFrame:
    """Adds USD per GPU-hour (a monthly 8-GPU server rent is divided by 8 GPUs and 730 hours)."""
    out = table.copy()
    factor, fx_id = _usd_factor(out, fx_rates)
    per_hour = np.where(
        out["price_unit"] == "per_8gpu_server_month", 1.0 / (8 * HOURS_PER_MONTH), 1.0
    )
    out["usd_per_gpu_hour"] = out["price"] * factor * per_hour
    out["usd_per_gpu_hour_high"] = out["price_high"] * factor * per_hour
    out["fx_id"] = fx_id
    return out


def chip_price_to_usd(table: pd.DataFrame, fx_rates: pd.DataFrame) -> pd.DataFrame:
    """Adds USD per chip; an 8-GPU server price is divided by 8 and so includes the server's share."""
    out = table.copy()
    factor, fx_id = _usd_factor(out, fx_rates)
    per_chip = np.where(out["price_unit"] == "per_8gpu_server", 1.0 / 8, 1.0)
    out["usd_per_chip"] = out["price"] * factor * per_chip
    out["usd_per_chip_high"] = out["price_high"] * factor * per_chip
    out["fx_id"] = fx_id
    return out


def pue_at_least_one(table: pd.DataFrame) -> tuple[bool, str, dict]:
    """PUE is a ratio of facility to IT power, so never below 1."""
    bad = table[(table["metric"] == "pue") & (table["value"] < 1)]
    return bad.empty, f"{len(bad)} PUE value(s) below 1", {}


POWER_OBSERVATIONS_SPEC = SourceSpec(
    POWER_OBSERVATIONS,
    uses_aliases=True,
    rules=(unit_matches_metric, high_not_below_low("value", "value_high")),
    checks=(Check("pue_at_least_one", "PUE values are at least 1.", pue_at_least_one),),
)
GPU_RENTAL_PRICES_SPEC = SourceSpec(
    GPU_RENTAL_PRICES,
    uses_aliases=True,
    upstream=("fx_rates",),
    transform=lambda table, fx_rates: rental_to_usd(table, fx_rates),
    rules=(high_not_below_low("price", "price_high"),),
    added_columns=(
        ("usd_per_gpu_hour", "double", "USD/GPU-hour", "Rental price per GPU-hour in USD"),
        ("usd_per_gpu_hour_high", "double", "USD/GPU-hour", "High end of the range in USD"),
        ("fx_id", "string", "", "Id of the fx_rates row used for a CNY price"),
    ),
)
CHIP_PRICES_SPEC = SourceSpec(
    CHIP_PRICES,
    uses_aliases=True,
    upstream=("fx_rates",),
    transform=lambda table, fx_rates: chip_price_to_usd(table, fx_rates),
    rules=(high_not_below_low("price", "price_high"),),
    added_columns=(
        ("usd_per_chip", "double", "USD", "Price per chip in USD (server prices divided by 8)"),
        ("usd_per_chip_high", "double", "USD", "High end of the range in USD"),
        ("fx_id", "string", "", "Id of the fx_rates row used for a CNY price"),
    ),
)
