"""Dagster assets of China's AI compute from Epoch AI's data (CC BY 4.0): supply, domestic share,
power per H100e, compute stock, chips compared and training compute, plus spec conflicts."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from assets.china import chip_identity, chips, sites, supply
from assets.ingest.hardware import resolve_specs
from pipelines.io import column_schema

GROUP = "derived"
OWNERS = ["team:compute-outlook"]
EPOCH_CREDIT = "Data: Epoch AI (CC BY 4.0), https://epoch.ai/data"


def _schema(columns: dict) -> dg.TableSchema:
    arrow = {"int64": "int64", "double": "double", "string": "string", "boolean": "boolean"}
    return column_schema(
        *[(n, arrow.get(t, t), u, d) for n, (t, u, d) in columns.items()],
    )


def _meta(columns: dict, key: list[str]) -> dict:
    return {"dagster/column_schema": _schema(columns), "primary_key": key, "credit": EPOCH_CREDIT}


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas"},
    io_manager_key="derived_io",
    metadata=_meta(supply.SUPPLY_COLUMNS, ["year", "designer"]),
)
def china_chip_supply(
    stg_epoch_chip_sales_timelines: pd.DataFrame,
    stg_epoch_chip_sales_chip_types: pd.DataFrame,
    stg_epoch_chip_sales_organizations: pd.DataFrame,
) -> pd.DataFrame:
    """H100e sold into China per year by designer (Huawei, Cambricon vs NVIDIA/AMD China-market
    parts) with Epoch's 5th/95th percentiles; incomplete quarters excluded and named."""
    return supply.china_chip_supply(
        stg_epoch_chip_sales_timelines,
        stg_epoch_chip_sales_chip_types,
        stg_epoch_chip_sales_organizations,
    )


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas"},
    io_manager_key="derived_io",
    metadata=_meta(supply.SHARE_COLUMNS, ["year"]),
)
def domestic_share_observed(
    china_chip_supply: pd.DataFrame, stg_epoch_chip_sales_timelines: pd.DataFrame
) -> pd.DataFrame:
    """Domestic share of H100e sold into China per calendar year (complete years only), with a
    low/high range from Epoch's percentiles: the observed series for the share forecast."""
    return supply.domestic_share_observed(china_chip_supply, stg_epoch_chip_sales_timelines)


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas"},
    io_manager_key="derived_io",
    metadata=_meta(sites.INTENSITY_COLUMNS, ["basis", "site", "row_links"]),
)
def cluster_power_intensity(
    stg_epoch_gpu_clusters: pd.DataFrame, stg_epoch_data_centers: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """kW per H100e of every cluster (facility power) and data center (IT power) with a power
    figure, by country and chip, beside the article's 3.5 kW per H100."""
    table = sites.cluster_power_intensity(stg_epoch_gpu_clusters, stg_epoch_data_centers)
    for col in ("source", "source_url", "published"):
        from_clusters = stg_epoch_gpu_clusters[col].iloc[0] if len(stg_epoch_gpu_clusters) else ""
        from_centers = stg_epoch_data_centers[col].iloc[0] if len(stg_epoch_data_centers) else ""
        table[col] = table["basis"].map(
            {sites.CLUSTER_BASIS: from_clusters, sites.DC_BASIS: from_centers}
        )
    summary = sites.intensity_summary(table)
    return dg.Output(
        table,
        metadata={
            "median_kw_per_h100e": dg.MetadataValue.md(summary.to_markdown(index=False)),
            "article_kw_per_h100": sites.article_kw_per_h100e(),
        },
    )


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas"},
    io_manager_key="derived_io",
    metadata=_meta(sites.STOCK_COLUMNS, ["quarter", "country_group", "basis"]),
)
def compute_stock(
    stg_epoch_gpu_clusters: pd.DataFrame,
    stg_epoch_data_center_timelines: pd.DataFrame,
    stg_epoch_data_centers: pd.DataFrame,
) -> pd.DataFrame:
    """Operational H100e by quarter and country (China, US, rest of world) from Epoch's clusters
    (standard-analysis rows) and data-center timelines, side by side, up to the snapshot."""
    countries = stg_epoch_data_centers[["name", "country"]].rename(columns={"name": "data_center"})
    timelines = stg_epoch_data_center_timelines.merge(countries, on="data_center", how="left")
    snapshot = pd.Timestamp(
        stg_epoch_data_center_timelines["published"].iloc[0]
        if len(stg_epoch_data_center_timelines)
        else pd.Timestamp.now()
    )
    out = sites.compute_stock(stg_epoch_gpu_clusters, timelines, snapshot)
    for col in ("source", "source_url", "published"):
        out[col] = out["basis"].map(
            {
                sites.CLUSTER_BASIS: stg_epoch_gpu_clusters[col].iloc[0],
                sites.DC_BASIS: stg_epoch_data_center_timelines[col].iloc[0],
            }
        )
    return sites.typed(out, sites.STOCK_COLUMNS)


def _unmapped_check(names: pd.Series, chip_aliases: pd.DataFrame, what: str) -> dg.AssetCheckResult:
    ids = chip_identity.map_names(names.dropna().drop_duplicates(), chip_aliases)
    unmapped = sorted(ids.loc[~ids["alias_mapped"], "hardware_name"].astype(str))
    return dg.AssetCheckResult(
        passed=not unmapped,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(unmapped)} {what} map to no curated chip id (they get an id made from "
        "the name)",
        metadata={"unmapped": dg.MetadataValue.md("\n".join(f"- {n}" for n in unmapped))},
    )


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas"},
    io_manager_key="derived_io",
    metadata=_meta(chips.COMPARISON_COLUMNS, ["chip_id"]),
    check_specs=[
        dg.AssetCheckSpec(
            "epoch_names_mapped",
            asset="chip_comparison",
            description="Every Epoch hardware name maps to a chip id through chip_aliases.",
            blocking=False,
        )
    ],
)
def chip_comparison(stg_epoch_ml_hardware: pd.DataFrame, chip_aliases: pd.DataFrame):
    """Every accelerator Epoch lists: dense BF16/FP8/INT8, memory, bandwidth, TFLOPS per W,
    release date and designer country; a warning lists the names no alias maps."""
    yield dg.Output(chips.chip_comparison(stg_epoch_ml_hardware, chip_aliases))
    yield _unmapped_check(stg_epoch_ml_hardware["hardware_name"], chip_aliases, "hardware names")


@dg.asset_check(
    asset="cluster_power_intensity",
    description="Every chip type named by an Epoch cluster or chip-sales row maps to a chip id.",
    blocking=False,
    additional_ins={
        "stg_epoch_gpu_clusters": dg.AssetIn("stg_epoch_gpu_clusters"),
        "stg_epoch_chip_sales_chip_types": dg.AssetIn("stg_epoch_chip_sales_chip_types"),
        "chip_aliases": dg.AssetIn("chip_aliases"),
    },
)
def site_chip_names_mapped(
    stg_epoch_gpu_clusters: pd.DataFrame,
    stg_epoch_chip_sales_chip_types: pd.DataFrame,
    chip_aliases: pd.DataFrame,
) -> dg.AssetCheckResult:
    """Lists cluster and chip-sales chip names no alias maps (never dropped: they keep the name)."""
    names = pd.concat(
        [
            stg_epoch_gpu_clusters["chip_type_primary"],
            stg_epoch_gpu_clusters["chip_type_secondary"],
            stg_epoch_chip_sales_chip_types["ml_hardware_name"],
        ]
    )
    return _unmapped_check(names, chip_aliases, "cluster or chip-sales chip names")


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas"},
    io_manager_key="derived_io",
    metadata=_meta(chips.TREND_COLUMNS, ["quarter", "country_group"]),
)
def training_compute_trend(stg_epoch_notable_models: pd.DataFrame) -> pd.DataFrame:
    """The largest training compute per quarter by country group (Epoch's notable models)."""
    return chips.training_compute_trend(stg_epoch_notable_models)


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas"},
    io_manager_key="derived_io",
    metadata=_meta(chips.CHINA_MODELS_COLUMNS, ["model", "publication_date"]),
)
def china_model_hardware(
    stg_epoch_notable_models: pd.DataFrame, stg_epoch_ml_hardware: pd.DataFrame
) -> pd.DataFrame:
    """Notable Chinese models with the hardware Epoch records and whether it is a Chinese design."""
    return chips.china_model_hardware(stg_epoch_notable_models, stg_epoch_ml_hardware)


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"pandas"},
    io_manager_key="derived_io",
    metadata={
        "dagster/column_schema": _schema(chip_identity.CONFLICT_COLUMNS),
        "primary_key": ["chip_id", "column"],
    },
)
def spec_conflicts(
    hardware_specs: pd.DataFrame, chip_aliases: pd.DataFrame, stg_epoch_ml_hardware: pd.DataFrame
) -> pd.DataFrame:
    """Specs where Epoch's ML hardware and the curated sheet differ by more than 5 %."""
    epoch_rows = chip_identity.epoch_spec_rows(stg_epoch_ml_hardware, chip_aliases, hardware_specs)
    return chip_identity.spec_conflicts(resolve_specs(hardware_specs), epoch_rows)


ASSETS = [
    china_chip_supply,
    domestic_share_observed,
    cluster_power_intensity,
    compute_stock,
    chip_comparison,
    training_compute_trend,
    china_model_hardware,
    spec_conflicts,
]
ASSET_CHECKS = [site_chip_names_mapped]
