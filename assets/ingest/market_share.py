"""Share of China's AI-accelerator market by vendor group and year, by source."""

from __future__ import annotations

import pandas as pd

from assets.ingest.factory import Check, SourceSpec
from assets.ingest.schema import Column, SourceSchema


def _pct(name: str, what: str) -> Column:
    return Column(name, "float", what, unit="%", min=0, max=100)


CHINA_CHIP_SHARE = SourceSchema(
    asset="china_chip_share",
    file="china_chip_share.csv",
    description="China AI-accelerator market shares (NVIDIA, imported, domestic, Huawei) by source and year.",
    columns=(
        Column("share_id", "str", "Unique id", required=True),
        Column("period", "str", "Period as the source gives it (2023H1, 2024, ...)", required=True),
        Column(
            "year",
            "int",
            "Calendar year of the period",
            unit="year",
            required=True,
            min=2015,
            max=2040,
        ),
        Column(
            "kind_of_figure",
            "str",
            "actual | forecast",
            required=True,
            choices=("actual", "forecast"),
        ),
        Column("basis", "str", "units | revenue", required=True, choices=("units", "revenue")),
        Column("metric", "str", "What the source measures", required=True),
        _pct("nvidia_share_pct", "NVIDIA share"),
        _pct("imported_share_pct", "Imported (NVIDIA + AMD + other foreign) share"),
        _pct("domestic_share_pct", "Domestic (Chinese-vendor) share, low end of a range"),
        _pct("domestic_share_pct_high", "Domestic share, high end of a stated range"),
        _pct("huawei_share_pct", "Huawei share"),
        Column(
            "source_org",
            "str",
            "Organisation behind the figure (IDC, Bernstein, ...)",
            required=True,
        ),
    ),
    key=("share_id",),
)


def shares_consistent(table: pd.DataFrame) -> tuple[bool, str, dict]:
    """Within a row, domestic + NVIDIA/imported shares do not exceed 100% and Huawei <= domestic."""
    foreign = table["imported_share_pct"].fillna(table["nvidia_share_pct"])
    over = table[(table["domestic_share_pct"].fillna(0) + foreign.fillna(0)) > 100.5]
    huawei = table[
        table["huawei_share_pct"]
        > table["domestic_share_pct_high"].fillna(table["domestic_share_pct"]) + 0.5
    ]
    bad = sorted(set(over["share_id"]) | set(huawei["share_id"]))
    return not bad, f"{len(bad)} row(s) with inconsistent shares", {"rows": ", ".join(bad)}


CHINA_CHIP_SHARE_SPEC = SourceSpec(
    CHINA_CHIP_SHARE,
    checks=(
        Check(
            "shares_consistent", "Shares within a row add up to at most 100%.", shares_consistent
        ),
    ),
)
