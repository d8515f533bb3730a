"""Per-chip efficiency metrics from each chip's default spec row, computed by rust_core."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd

import rust_core
from assets.derived.price_support import is_supportable, range_check
from pipelines.io import column_schema

#: precision -> dense peak column of hardware_specs
PEAK_COLUMNS = {"bf16": "bf16_dense_tflops", "fp8": "fp8_dense_tflops"}

CHIP_METRICS_SCHEMA = column_schema(
    ("chip_id", "string", "", "Chip id"),
    ("vendor", "string", "", "Vendor"),
    ("model", "string", "", "Model as named by the default spec row"),
    ("value_sources", "string", "", "JSON: spec column -> hardware_specs.spec_id that supplied it"),
    ("precision", "string", "", "bf16 (or fp16 where only fp16 is stated) | fp8"),
    ("peak_tflops", "double", "TFLOPS", "Dense peak at this precision"),
    ("memory_bw_gbps", "double", "GB/s", "Memory bandwidth"),
    ("scale_up_gbps", "double", "GB/s", "Scale-up link bandwidth per chip"),
    ("tdp_w", "double", "W", "Thermal design power"),
    (
        "price_usd",
        "double",
        "USD",
        "Price per chip: the latest dated chip_prices row of kind spec, measured or estimate "
        "and medium or high confidence, else the list price; empty when no such row exists",
    ),
    (
        "price_source",
        "string",
        "",
        "Where price_usd came from (chip_prices id or hardware_specs list price)",
    ),
    (
        "price_check",
        "string",
        "",
        "chip_prices rows not used for price_usd (claims, low confidence), each compared with the "
        "range of the chip's usable prices",
    ),
    ("tflops_per_w", "double", "TFLOPS/W", "Peak TFLOPS per watt of TDP"),
    ("tflops_per_kusd", "double", "TFLOPS/kUSD", "Peak TFLOPS per 1,000 USD of chip price"),
    (
        "ridge_flop_per_byte",
        "double",
        "FLOP/byte",
        "Roofline ridge point: peak FLOP/s over memory bytes/s",
    ),
    (
        "interconnect_bytes_per_kflop",
        "double",
        "byte/kFLOP",
        "Scale-up bytes per second per 1,000 FLOP/s of peak",
    ),
)


def latest_chip_price(chip_prices: pd.DataFrame) -> pd.DataFrame:
    """The most recent dated per-chip USD price of each chip from the rows a derived metric may use
    (spec, measured or estimate of medium or high confidence; rows without a date are skipped)."""
    usable = chip_prices[is_supportable(chip_prices)]
    dated = usable[usable["date"].notna() & usable["usd_per_chip"].notna()]
    latest = dated.sort_values(["chip_id", "date", "chip_price_id"]).groupby("chip_id").tail(1)
    return latest.set_index("chip_id")[["usd_per_chip", "chip_price_id"]]


def price_checks(chip_prices: pd.DataFrame) -> pd.Series:
    """Per chip: the price rows left out of price_usd, each against the range of its usable rows."""
    priced = chip_prices[chip_prices["usd_per_chip"].notna()]
    usable = is_supportable(priced)
    out = {}
    for chip_id, rows in priced.groupby("chip_id"):
        good = rows[usable.loc[rows.index]]
        high = good["usd_per_chip_high"].fillna(good["usd_per_chip"]).max()
        text = range_check(
            rows[~usable.loc[rows.index]],
            "chip_price_id",
            "usd_per_chip",
            "USD",
            good["usd_per_chip"].min(),
            high,
        )
        if text:
            out[chip_id] = text
    return pd.Series(out, dtype="object")


def chip_inputs(chip_specs: pd.DataFrame, chip_prices: pd.DataFrame) -> pd.DataFrame:
    """One row per (chip, precision) with a stated dense peak, from the resolved chip specs."""
    defaults = chip_specs
    prices = latest_chip_price(chip_prices)
    frames = []
    for precision, peak_col in PEAK_COLUMNS.items():
        rows = defaults[defaults[peak_col].notna()]
        frames.append(
            pd.DataFrame(
                {
                    "chip_id": rows["chip_id"],
                    "vendor": rows["vendor"],
                    "model": rows["model"],
                    "value_sources": rows["value_sources"],
                    "precision": precision,
                    "peak_tflops": rows[peak_col],
                    "memory_bw_gbps": rows["memory_bw_gbps"],
                    "scale_up_gbps": rows["scale_up_gbps"],
                    "tdp_w": rows["tdp_w"],
                    "list_price_usd": rows["list_price_usd"],
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    market = (
        out["chip_id"].map(prices["usd_per_chip"])
        if len(prices)
        else pd.Series(np.nan, index=out.index)
    )
    out["price_usd"] = market.fillna(out["list_price_usd"]).astype("float64")
    out["price_source"] = np.where(
        market.notna(),
        "chip_prices:"
        + out["chip_id"].map(prices["chip_price_id"].to_dict()).astype("string").fillna(""),
        np.where(out["list_price_usd"].notna(), "hardware_specs:list_price_usd", ""),
    )
    checks = price_checks(chip_prices).to_dict()
    out["price_check"] = [checks.get(chip_id, "") for chip_id in out["chip_id"]]
    return (
        out.drop(columns="list_price_usd")
        .sort_values(["chip_id", "precision"])
        .reset_index(drop=True)
    )


@dg.asset(
    group_name="derived",
    kinds={"rust", "pandas"},
    owners=["team:compute-outlook"],
    io_manager_key="derived_io",
    metadata={
        "dagster/column_schema": CHIP_METRICS_SCHEMA,
        "primary_key": ["chip_id", "precision"],
    },
)
def chip_metrics(chip_specs: pd.DataFrame, chip_prices: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """TFLOPS per W and per USD, roofline ridge point and interconnect bytes per FLOP for every chip
    with a stated dense peak (resolved specs), at BF16 and, where the chip has it, FP8."""
    inputs = chip_inputs(chip_specs, chip_prices)
    metrics = rust_core.chip_metrics(inputs.rename(columns={"scale_up_gbps": "interconnect_gbps"}))
    out = pd.concat([inputs, metrics], axis=1)
    without_peak = sorted(set(chip_specs["chip_id"]) - set(out["chip_id"]))
    return dg.Output(out, metadata={"chips_without_stated_peak": ", ".join(without_peak)})
