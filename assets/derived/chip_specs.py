"""One resolved spec per chip: each value from the best-supported source, with the row it came from."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from assets.china.chip_identity import combined_specs, epoch_spec_rows
from assets.ingest.hardware import HARDWARE_SPECS, SPEC_TEXT, SPEC_VALUES
from pipelines.io import column_schema

_TYPES = {"float": "double", "int": "int64"}
_COLUMNS = {c.name: c for c in HARDWARE_SPECS.columns}

CHIP_SPECS_SCHEMA = column_schema(
    ("chip_id", "string", "", "Chip id"),
    ("vendor", "string", "", "Vendor"),
    ("model", "string", "", "Model as named by the default row"),
    ("default_spec_id", "string", "", "hardware_specs row marked is_default (empty if none)"),
    *[
        (n, _TYPES[_COLUMNS[n].dtype], _COLUMNS[n].unit, _COLUMNS[n].description)
        for n in SPEC_VALUES
    ],
    *[(n, "string", "", _COLUMNS[n].description) for n in SPEC_TEXT],
    (
        "value_sources",
        "string",
        "",
        "JSON: column -> hardware_specs.spec_id that supplied the value",
    ),
    (
        "low_confidence_fields",
        "string",
        "",
        "Comma list of values taken, for want of better, from a low-confidence non-default row",
    ),
    (
        "epoch_only",
        "boolean",
        "",
        "The chip is known only from Epoch AI's ML hardware (no curated sourced row)",
    ),
)


@dg.asset(
    group_name="derived",
    kinds={"pandas"},
    owners=["team:compute-outlook"],
    io_manager_key="derived_io",
    metadata={"dagster/column_schema": CHIP_SPECS_SCHEMA, "primary_key": ["chip_id"]},
)
def chip_specs(
    hardware_specs: pd.DataFrame, chip_aliases: pd.DataFrame, stg_epoch_ml_hardware: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """The spec every model uses, one row per chip: the default (datasheet) row's values, gaps filled
    from the best-supported other curated source (never from an article claim), then from Epoch
    AI's ML hardware row; chips only Epoch lists follow with Epoch's values (`epoch_only`);
    `value_sources` cites each."""
    epoch_rows = epoch_spec_rows(stg_epoch_ml_hardware, chip_aliases, hardware_specs)
    resolved = combined_specs(hardware_specs, epoch_rows)
    only_claims = sorted(set(hardware_specs["chip_id"]) - set(resolved["chip_id"]))
    return dg.Output(
        resolved,
        metadata={
            "chips_with_only_claims": ", ".join(only_claims),
            "chips_from_epoch_only": int(resolved["epoch_only"].sum()),
        },
    )
