"""The seed article's claims and predictions, one row each, to be checked against the data."""

from __future__ import annotations

import pandas as pd

from assets.ingest.factory import Check, SourceSpec
from assets.ingest.schema import Column, SourceSchema

CLAIMS = SourceSchema(
    asset="claims",
    file="claims.csv",
    description="Claims and dated predictions of the seed article on the AI compute shortage.",
    columns=(
        Column("claim_id", "str", "Stable claim id", required=True),
        Column("section", "str", "Section of the article", required=True),
        Column(
            "claim_type",
            "str",
            "figure | comparison | prediction",
            required=True,
            choices=("figure", "comparison", "prediction"),
        ),
        Column("subject", "str", "What the claim is about (a chip id, company, market)"),
        Column("metric", "str", "Metric with its unit in the name", required=True),
        Column("value", "float", "Claimed value (low end of a range)", unit="see unit"),
        Column("value_high", "float", "High end of a claimed range", unit="see unit"),
        Column("unit", "str", "Unit of value"),
        Column("horizon", "date", "Date by which a prediction resolves"),
        Column("text", "str", "The claim as the article words it", required=True),
    ),
    key=("claim_id",),
)


def all_claims(table: pd.DataFrame) -> tuple[bool, str, dict]:
    """Every row of the article is of kind 'claim': the article supplies claims, not facts."""
    other = table[table["kind"] != "claim"]["claim_id"].tolist()
    return not other, f"{len(other)} row(s) not of kind 'claim'", {"rows": ", ".join(other)}


CLAIMS_SPEC = SourceSpec(
    CLAIMS, checks=(Check("all_rows_are_claims", "Article rows are kind=claim.", all_claims),)
)
