"""LLM API prices (converted to USD with a dated FX table) and published price-decline studies."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.ingest.factory import Check, SourceSpec
from assets.ingest.schema import PRECISIONS, Column, Problem, SourceSchema

#: Tier of priced models without a vendor tier: the capability index places them by their scores.
UNCLASSIFIED_TIER = "unclassified"

FX_RATES = SourceSchema(
    asset="fx_rates",
    file="fx_rates.csv",
    description="Dated CNY-per-USD rates used to convert Chinese prices.",
    columns=(
        Column("fx_id", "str", "Unique id of the rate", required=True),
        Column("date", "date", "Date the rate applies to", required=True),
        Column(
            "cny_per_usd", "float", "Exchange rate", unit="CNY/USD", required=True, min=5, max=9
        ),
    ),
    key=("fx_id",),
)

API_PRICES = SourceSchema(
    asset="api_prices",
    file="api_prices.csv",
    description="LLM API list prices per million tokens by model, provider and effective date.",
    columns=(
        Column("price_id", "str", "Unique id of the price row", required=True),
        Column("model", "str", "Model name / snapshot", required=True),
        Column("provider", "str", "API provider", required=True),
        Column("region", "str", "US | CN", required=True, choices=("US", "CN")),
        Column(
            "tier",
            "str",
            "frontier | gpt4_class | small | unclassified (placed by capability scores instead)",
            required=True,
            choices=("frontier", "gpt4_class", "small", UNCLASSIFIED_TIER),
        ),
        Column(
            "effective_date",
            "date",
            "Date the price took effect (first day of the period for partial dates)",
        ),
        Column(
            "date_precision",
            "str",
            "Precision of effective_date",
            required=True,
            choices=PRECISIONS,
        ),
        Column(
            "input_price_per_mtok",
            "float",
            "Input price per million tokens, in `currency`",
            unit="currency/Mtok",
            min=0,
            max=10_000,
        ),
        Column(
            "output_price_per_mtok",
            "float",
            "Output price per million tokens, in `currency`",
            unit="currency/Mtok",
            min=0,
            max=10_000,
        ),
        Column("currency", "str", "USD | CNY", required=True, choices=("USD", "CNY")),
        Column("price_basis", "str", "List, cache-miss, promotional, ..."),
        Column("event", "str", "What happened (launch, cut, ...)"),
    ),
    key=("price_id",),
)

PRICE_DECLINE_ESTIMATES = SourceSchema(
    asset="price_decline_estimates",
    file="price_decline_estimates.csv",
    description="Published estimates of how fast LLM API prices fall (x-fold per year).",
    columns=(
        Column("estimate_id", "str", "Unique id", required=True),
        Column("publisher", "str", "Who published the estimate", required=True),
        Column(
            "scope", "str", "What is held fixed (capability milestone, benchmark)", required=True
        ),
        Column("period_start", "date", "Start of the measured period"),
        Column("period_end", "date", "End of the measured period"),
        Column(
            "decline_factor_per_year",
            "float",
            "Central x-fold decline per year",
            unit="x/year",
            min=1,
            max=100_000,
        ),
        Column(
            "decline_factor_per_year_low",
            "float",
            "Low end of the stated range",
            unit="x/year",
            min=1,
            max=100_000,
        ),
        Column(
            "decline_factor_per_year_high",
            "float",
            "High end of the stated range",
            unit="x/year",
            min=1,
            max=100_000,
        ),
        Column(
            "total_decline_factor",
            "float",
            "x-fold decline over the whole period",
            unit="x",
            min=1,
            max=1_000_000,
        ),
    ),
    key=("estimate_id",),
)


def end_not_before_start(start: str, end: str):
    """A rule: a period's end date is not before its start date."""

    def rule(table: pd.DataFrame, file: str) -> list[Problem]:
        bad = table[table[start].notna() & table[end].notna() & (table[end] < table[start])]
        return [
            Problem(
                file,
                int(r.source_line),
                end,
                f"period ends {getattr(r, end).date()}, before it starts "
                f"({start} {getattr(r, start).date()})",
            )
            for r in bad.itertuples()
        ]

    return rule


def dated_needs_date(table: pd.DataFrame, file: str) -> list[Problem]:
    """A row is either dated (with a precision) or explicitly undated (precision 'unknown')."""
    bad_dated = table["effective_date"].isna() & (table["date_precision"] != "unknown")
    bad_undated = table["effective_date"].notna() & (table["date_precision"] == "unknown")
    return [
        Problem(
            file, int(r.source_line), "effective_date", "empty date needs date_precision 'unknown'"
        )
        for r in table[bad_dated].itertuples()
    ] + [
        Problem(
            file,
            int(r.source_line),
            "date_precision",
            "a dated row cannot have precision 'unknown'",
        )
        for r in table[bad_undated].itertuples()
    ]


def has_a_price(table: pd.DataFrame, file: str) -> list[Problem]:
    """A price row states at least one of the input and output prices."""
    empty = table["input_price_per_mtok"].isna() & table["output_price_per_mtok"].isna()
    return [
        Problem(
            file,
            int(r.source_line),
            "input_price_per_mtok",
            "row has neither an input nor an output price",
        )
        for r in table[empty].itertuples()
    ]


def rate_for(dates: pd.Series, fx_rates: pd.DataFrame) -> pd.DataFrame:
    """For each date, the latest FX rate on or before it (the earliest rate for earlier dates, the
    latest rate for undated rows), with the id of the rate used."""
    fx = fx_rates.sort_values("date").reset_index(drop=True)
    if fx.empty:
        raise ValueError("fx_rates.csv has no rates; CNY prices cannot be converted")
    when = dates.fillna(fx["date"].iloc[-1]).to_numpy(dtype="datetime64[ns]")
    idx = np.searchsorted(fx["date"].to_numpy(dtype="datetime64[ns]"), when, side="right") - 1
    idx = np.clip(idx, 0, len(fx) - 1)
    return pd.DataFrame(
        {"fx_cny_per_usd": fx["cny_per_usd"].to_numpy()[idx], "fx_id": fx["fx_id"].to_numpy()[idx]},
        index=dates.index,
    )


def to_usd(api_prices: pd.DataFrame, fx_rates: pd.DataFrame) -> pd.DataFrame:
    """Adds USD prices: USD rows as they are, CNY rows divided by the dated CNY/USD rate."""
    out = api_prices.copy()
    is_cny = out["currency"] == "CNY"
    rates = rate_for(out["effective_date"], fx_rates)
    factor = np.where(is_cny, 1.0 / rates["fx_cny_per_usd"], 1.0)
    out["input_usd_per_mtok"] = out["input_price_per_mtok"] * factor
    out["output_usd_per_mtok"] = out["output_price_per_mtok"] * factor
    out["fx_cny_per_usd"] = rates["fx_cny_per_usd"].where(is_cny)
    out["fx_id"] = rates["fx_id"].where(is_cny).astype("string")
    return out


def usd_prices_present(table: pd.DataFrame) -> tuple[bool, str, dict]:
    """Every stated price came out with a USD value."""
    lost_in = table["input_price_per_mtok"].notna() & table["input_usd_per_mtok"].isna()
    lost_out = table["output_price_per_mtok"].notna() & table["output_usd_per_mtok"].isna()
    n = int((lost_in | lost_out).sum())
    return n == 0, f"{n} row(s) lost a price in USD conversion", {}


def dated_points_per_tier(table: pd.DataFrame) -> tuple[bool, str, dict]:
    """Warns when a tier/region series has too few dated prices to forecast (``unclassified`` rows
    have no tier series: the capability index places them by their scores)."""
    dated = table["effective_date"].notna() & (table["tier"] != UNCLASSIFIED_TIER)
    counts = table[dated].groupby(["tier", "region"]).size()
    thin = {f"{t}/{r}": int(n) for (t, r), n in counts.items() if n < 4}
    return (
        not thin,
        f"{len(thin)} tier/region series with fewer than 4 dated prices",
        {"counts": {f"{t}/{r}": int(n) for (t, r), n in counts.items()}},
    )


FX_RATES_SPEC = SourceSpec(FX_RATES)
API_PRICES_SPEC = SourceSpec(
    API_PRICES,
    upstream=("fx_rates",),
    transform=lambda table, fx_rates: to_usd(table, fx_rates),
    rules=(dated_needs_date, has_a_price),
    added_columns=(
        ("input_usd_per_mtok", "double", "USD/Mtok", "Input price per million tokens in USD"),
        ("output_usd_per_mtok", "double", "USD/Mtok", "Output price per million tokens in USD"),
        ("fx_cny_per_usd", "double", "CNY/USD", "FX rate used for a CNY row (empty for USD rows)"),
        ("fx_id", "string", "", "Id of the fx_rates row used"),
    ),
    checks=(
        Check(
            "usd_prices_present",
            "Every stated price has a USD value after conversion.",
            usd_prices_present,
        ),
        Check(
            "dated_points_per_tier",
            "Each tier/region series has at least 4 dated prices (else its forecast refuses to fit).",
            dated_points_per_tier,
            blocking=False,
        ),
    ),
)
PRICE_DECLINE_ESTIMATES_SPEC = SourceSpec(
    PRICE_DECLINE_ESTIMATES, rules=(end_not_before_start("period_start", "period_end"),)
)
