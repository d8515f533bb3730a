"""One identity for chips: Epoch AI's hardware names mapped to chip ids, Epoch's row as one more
sourced spec per chip, and the differences between Epoch and the curated sheet."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from assets.ingest.hardware import HARDWARE_SPECS, SPEC_TEXT, SPEC_VALUES, resolve_specs
from assets.ingest.schema import normalise_alias

#: Designer (as Epoch's ML hardware names it) -> country of the designer's headquarters.
DESIGNER_COUNTRY = {
    "NVIDIA": "United States",
    "AMD": "United States",
    "Google": "United States",
    "Intel": "United States",
    "Amazon AWS": "United States",
    "Meta": "United States",
    "Microsoft": "United States",
    "Tesla": "United States",
    "Huawei": "China",
    "Cambricon": "China",
    "Kunlunxin Baidu": "China",
    "MetaX": "China",
    "Iluvatar CoreX": "China",
    "National University of Defense Technology": "China",
    "Moore Threads (Tencent)": "China",
    "Sunway": "China",
    "Biren": "China",
    "Hygon": "China",
    "Alibaba": "China",
    "PEZY": "Japan",
}
#: Spec columns Epoch's ML hardware supplies, in the curated sheet's names and units.
EPOCH_SPEC_COLUMNS = (
    "bf16_dense_tflops",
    "fp8_dense_tflops",
    "int8_dense_tops",
    "memory_gb",
    "memory_bw_gbps",
    "scale_up_gbps",
    "scale_out_gbps",
    "tdp_w",
)
#: Relative difference above which two sources disagree on a spec.
CONFLICT_PCT = 5.0
EPOCH_SPEC_PREFIX = "epoch-"


def slug(name: str) -> str:
    """A chip id for a name no alias maps: lowercase words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def alias_lookup(chip_aliases: pd.DataFrame) -> dict[str, str]:
    """Normalised alias (and every chip id itself) -> chip id."""
    out = {normalise_alias(c): c for c in chip_aliases["chip_id"]}
    out.update(
        zip(chip_aliases["alias"].map(normalise_alias), chip_aliases["chip_id"], strict=True)
    )
    return out


def map_names(names: pd.Series, chip_aliases: pd.DataFrame) -> pd.DataFrame:
    """For each Epoch hardware name: the chip id (through chip_aliases, else a slug of the name)
    and whether an alias mapped it."""
    lookup = alias_lookup(chip_aliases)
    mapped = names.map(lambda n: lookup.get(normalise_alias(str(n))))
    return pd.DataFrame(
        {
            "hardware_name": names.astype("string"),
            "chip_id": mapped.fillna(names.map(lambda n: slug(str(n)))).astype("string"),
            "alias_mapped": mapped.notna().astype(bool),
        }
    )


def designer_country(manufacturer: pd.Series) -> pd.Series:
    """Country of each designer; 'unknown' for a designer not in DESIGNER_COUNTRY."""
    return manufacturer.map(DESIGNER_COUNTRY).fillna("unknown").astype("string")


def epoch_spec_rows(
    ml_hardware: pd.DataFrame, chip_aliases: pd.DataFrame, hardware_specs: pd.DataFrame
) -> pd.DataFrame:
    """Epoch's ML hardware as rows of the curated sheet (``hardware_specs`` columns): one row per
    accelerator, the default only for a chip the curated sheet has no sourced row for."""
    ids = map_names(ml_hardware["hardware_name"], chip_aliases)
    curated = set(hardware_specs.loc[hardware_specs["kind"] != "claim", "chip_id"])
    rows = pd.DataFrame(index=ml_hardware.index)
    rows["spec_id"] = EPOCH_SPEC_PREFIX + ids["chip_id"].map(str)
    rows["chip_id"] = ids["chip_id"]
    rows["vendor"] = ml_hardware["manufacturer"].fillna("")
    rows["model"] = ml_hardware["hardware_name"]
    rows["launch_year"] = ml_hardware["release_date"].dt.year.astype("Int64")
    rows["is_default"] = ~ids["chip_id"].isin(curated)
    for col in EPOCH_SPEC_COLUMNS:
        rows[col] = ml_hardware[col]
    rows["list_price_usd"] = ml_hardware["release_price_usd"]
    rows["source"] = ml_hardware["source"]
    rows["source_url"] = ml_hardware["row_links"].where(
        ml_hardware["row_links"] != "", ml_hardware["source_url"]
    )
    rows["published"] = (
        ml_hardware["last_modified"].dt.strftime("%Y-%m-%d").fillna(ml_hardware["published"])
    )
    rows["kind"] = "spec"
    rows["confidence"] = "medium"
    rows["note"] = "Epoch AI ML hardware database (CC BY 4.0)"
    # one Epoch row per chip id: the exactly named one first (aliases may map variants together)
    rows = rows.assign(_exact=~ids["alias_mapped"]).sort_values(["chip_id", "_exact", "spec_id"])
    rows = rows.drop_duplicates("chip_id").drop(columns="_exact")
    columns = [c.name for c in HARDWARE_SPECS.all_columns]
    out = rows.reindex(columns=columns)
    types = {
        c.name: {"float": "float64", "int": "Int64", "bool": "boolean"}.get(c.dtype, "string")
        for c in HARDWARE_SPECS.all_columns
    }
    return out.astype(types).reset_index(drop=True)


def combined_specs(hardware_specs: pd.DataFrame, epoch_rows: pd.DataFrame) -> pd.DataFrame:
    """One resolved spec per chip: the curated sheet's resolution first, each value it lacks filled
    from the chip's Epoch row (cited in ``value_sources``), then every chip only Epoch lists; plus
    ``epoch_only`` marking those."""
    curated = resolve_specs(hardware_specs)
    epoch = epoch_rows.set_index("chip_id")
    sources = [json.loads(str(text) or "{}") for text in curated["value_sources"]]
    for col in [*SPEC_VALUES, *SPEC_TEXT]:
        if col not in epoch.columns:
            continue
        fill = curated["chip_id"].map(epoch[col])
        gap = curated[col].isna() & fill.notna()
        curated.loc[gap, col] = fill[gap].astype(curated[col].dtype)
        for i in np.flatnonzero(gap.to_numpy()):
            sources[i][col] = EPOCH_SPEC_PREFIX + str(curated["chip_id"].iloc[i])
    curated["value_sources"] = pd.Series(
        [json.dumps(d, sort_keys=True) for d in sources], index=curated.index, dtype="string"
    )
    only = resolve_specs(epoch_rows[~epoch_rows["chip_id"].isin(curated["chip_id"])])
    curated["epoch_only"], only["epoch_only"] = False, True
    out = pd.concat([curated, only], ignore_index=True)
    return out.astype({"epoch_only": "boolean"}).sort_values("chip_id", ignore_index=True)


def spec_conflicts(resolved_curated: pd.DataFrame, epoch_rows: pd.DataFrame) -> pd.DataFrame:
    """Every (chip, spec) where Epoch's value and the curated resolved value differ by more than
    CONFLICT_PCT percent of the curated value, with both sources."""
    units = {c.name: c.unit for c in HARDWARE_SPECS.columns}
    cur = resolved_curated.set_index("chip_id")
    rows = []
    for r in epoch_rows[epoch_rows["chip_id"].isin(cur.index)].itertuples():
        for col in EPOCH_SPEC_COLUMNS:
            epoch_value, curated_value = getattr(r, col), cur.at[r.chip_id, col]
            if pd.isna(epoch_value) or pd.isna(curated_value) or curated_value == 0:
                continue
            diff = 100.0 * (float(epoch_value) - float(curated_value)) / abs(float(curated_value))
            if abs(diff) > CONFLICT_PCT:
                sources = cur.at[r.chip_id, "value_sources"]
                rows.append(
                    {
                        "chip_id": r.chip_id,
                        "column": col,
                        "unit": units[col],
                        "curated_value": float(curated_value),
                        "curated_spec_id": _spec_of(sources, col),
                        "epoch_value": float(epoch_value),
                        "epoch_hardware_name": r.model,
                        "epoch_source_url": r.source_url,
                        "diff_pct": diff,
                        "ratio": float(epoch_value) / float(curated_value),
                    }
                )
    out = pd.DataFrame(rows, columns=list(CONFLICT_COLUMNS))
    return out.astype(
        {k: ("float64" if t == "double" else "string") for k, (t, _, _) in CONFLICT_COLUMNS.items()}
    ).sort_values(["chip_id", "column"], ignore_index=True)


def _spec_of(value_sources: str, column: str) -> str:
    return str(json.loads(value_sources or "{}").get(column, ""))


CONFLICT_COLUMNS = {
    "chip_id": ("string", "", "Chip id"),
    "column": ("string", "", "Spec column of the curated sheet"),
    "unit": ("string", "", "Unit of the two values"),
    "curated_value": ("double", "see unit", "Value chip_specs resolves from the curated sheet"),
    "curated_spec_id": ("string", "", "hardware_specs row that supplied the curated value"),
    "epoch_value": ("double", "see unit", "Epoch AI ML hardware value in the project unit"),
    "epoch_hardware_name": ("string", "", "Epoch's hardware name"),
    "epoch_source_url": ("string", "", "The Epoch row's own source link (datasheet)"),
    "diff_pct": ("double", "%", "(Epoch - curated) / curated x 100"),
    "ratio": ("double", "ratio", "Epoch / curated (2.0 hints at sparse vs dense)"),
}


def unmapped_names(ml_hardware: pd.DataFrame, chip_aliases: pd.DataFrame) -> list[str]:
    """Epoch hardware names no alias maps (they get a chip id made from the name)."""
    ids = map_names(ml_hardware["hardware_name"], chip_aliases)
    return sorted(ids.loc[~ids["alias_mapped"], "hardware_name"].astype(str))


def tflops_per_w(tflops: pd.Series, watts: pd.Series) -> pd.Series:
    """Throughput per watt; missing where either is missing or the power is not positive."""
    w = watts.where(watts > 0)
    return (tflops / w).astype("float64").replace([np.inf, -np.inf], np.nan)
