"""Every accelerator Epoch AI lists compared (compute, memory, efficiency, designer country), and the
largest training runs per quarter by country with the chips Chinese models were trained on."""

from __future__ import annotations

import pandas as pd

from assets.china.chip_identity import designer_country, map_names, tflops_per_w
from assets.china.sites import CHINA, US, country_group

COMPARISON_COLUMNS = {
    "chip_id": ("string", "", "Chip id (chip_aliases, else made from Epoch's name)"),
    "alias_mapped": ("boolean", "", "chip_aliases maps Epoch's name to a curated chip id"),
    "hardware_name": ("string", "", "Epoch's hardware name"),
    "designer": ("string", "", "Designer (Epoch's Manufacturer)"),
    "designer_country": ("string", "", "Country of the designer's headquarters"),
    "hardware_type": ("string", "", "GPU, TPU, NPU, ..."),
    "release_date": ("timestamp", "", "Release date"),
    "bf16_dense_tflops": ("double", "TFLOPS", "Peak dense FP16/BF16"),
    "fp8_dense_tflops": ("double", "TFLOPS", "Peak FP8"),
    "int8_dense_tops": ("double", "TOPS", "Peak INT8"),
    "memory_gb": ("double", "GB", "Memory"),
    "memory_bw_gbps": ("double", "GB/s", "Memory bandwidth"),
    "tdp_w": ("double", "W", "TDP"),
    "bf16_tflops_per_w": ("double", "TFLOPS/W", "bf16_dense_tflops / tdp_w"),
    "row_links": ("string", "", "Epoch row's own source links"),
    "source": ("string", "", "Epoch AI citation"),
    "source_url": ("string", "", "Official URL of the ML hardware file"),
    "published": ("string", "", "Snapshot date"),
    "kind": ("string", "", "spec"),
}
TREND_COLUMNS = {
    "quarter": ("string", "", "YYYYQn of publication"),
    "country_group": ("string", "", "China | United States | Rest of world (first country listed)"),
    "model": ("string", "", "The model with the largest training compute that quarter"),
    "organization": ("string", "", "Developer"),
    "training_compute_flop": ("double", "FLOP", "Its training compute (Epoch's estimate)"),
    "models_with_compute": (
        "int64",
        "models",
        "Notable models of the group and quarter with a figure",
    ),
    "training_hardware": ("string", "", "Hardware Epoch records for that model"),
    "source": ("string", "", "Epoch AI citation"),
    "source_url": ("string", "", "Official URL of the models file"),
    "published": ("string", "", "Snapshot date"),
    "kind": ("string", "", "estimate"),
}
CHINA_MODELS_COLUMNS = {
    "model": ("string", "", "Model"),
    "organization": ("string", "", "Developer"),
    "publication_date": ("timestamp", "", "Publication date"),
    "training_compute_flop": ("double", "FLOP", "Training compute (Epoch's estimate)"),
    "training_hardware": ("string", "", "Hardware as Epoch records it"),
    "hardware_quantity": ("double", "chips", "Chips used"),
    "hardware_origin": ("string", "", "domestic | foreign | mixed | unknown (not recorded)"),
    "confidence": ("string", "", "Epoch's confidence in the compute figure"),
    "row_links": ("string", "", "The model's own source link"),
    "source": ("string", "", "Epoch AI citation"),
    "source_url": ("string", "", "Official URL of the models file"),
    "published": ("string", "", "Snapshot date"),
    "kind": ("string", "", "estimate"),
}


def typed(df: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """The frame with exactly the declared columns, in order, with their pandas types."""
    pandas_type = {"double": "float64", "timestamp": "datetime64[ns]"}
    return df.reindex(columns=list(columns)).astype(
        {k: pandas_type.get(t, t) for k, (t, _, _) in columns.items()}
    )


def chip_comparison(ml_hardware: pd.DataFrame, chip_aliases: pd.DataFrame) -> pd.DataFrame:
    """Every accelerator in Epoch's ML hardware with its chip id, designer country and TFLOPS/W."""
    ids = map_names(ml_hardware["hardware_name"], chip_aliases)
    out = ml_hardware.copy()
    out["chip_id"] = ids["chip_id"].to_numpy()
    out["alias_mapped"] = ids["alias_mapped"].to_numpy()
    out["designer"] = out["manufacturer"]
    out["designer_country"] = designer_country(out["manufacturer"])
    out["bf16_tflops_per_w"] = tflops_per_w(out["bf16_dense_tflops"], out["tdp_w"])
    return typed(out, COMPARISON_COLUMNS).sort_values(
        ["designer_country", "release_date", "hardware_name"], ignore_index=True
    )


def first_country_group(countries: pd.Series) -> pd.Series:
    """Country group of the first country in Epoch's comma-separated list."""
    return country_group(countries.fillna("").astype(str).str.split(",").str[0])


def training_compute_trend(models: pd.DataFrame) -> pd.DataFrame:
    """The notable model with the largest training compute per publication quarter and country
    group (China, United States, rest of world)."""
    m = models[models["training_compute_flop"].notna() & models["publication_date"].notna()].copy()
    m["country_group"] = first_country_group(m["country"])
    m = m[m["country_group"] != "Unknown"]
    m["quarter"] = (
        m["publication_date"].dt.year.astype(str)
        + "Q"
        + m["publication_date"].dt.quarter.astype(str)
    )
    counts = m.groupby(["quarter", "country_group"]).size().rename("models_with_compute")
    top = (
        m.sort_values(["training_compute_flop", "model"], ascending=[False, True])
        .groupby(["quarter", "country_group"])
        .head(1)
        .merge(counts, left_on=["quarter", "country_group"], right_index=True)
    )
    return typed(top, TREND_COLUMNS).sort_values(["quarter", "country_group"], ignore_index=True)


def hardware_origin(hardware: pd.Series, ml_hardware: pd.DataFrame) -> pd.Series:
    """domestic / foreign / mixed per model from the designer country of each hardware name it
    lists (Epoch's names); unknown where no hardware is recorded or no name is known."""
    country = dict(
        zip(
            ml_hardware["hardware_name"], designer_country(ml_hardware["manufacturer"]), strict=True
        )
    )

    def one(text: object) -> str:
        if not isinstance(text, str) or not text.strip():
            return "unknown"
        found = {country.get(h.strip(), "unknown") for h in text.split(",")}
        found.discard("unknown")
        if not found:
            return "unknown"
        if found == {CHINA}:
            return "domestic"
        return "mixed" if CHINA in found else "foreign"

    return hardware.map(one).astype("string")


def china_model_hardware(models: pd.DataFrame, ml_hardware: pd.DataFrame) -> pd.DataFrame:
    """Notable models from Chinese organisations with the hardware Epoch records and whether it
    is of Chinese design."""
    m = models[first_country_group(models["country"]) == CHINA].copy()
    m["hardware_origin"] = hardware_origin(m["training_hardware"], ml_hardware)
    return typed(m, CHINA_MODELS_COLUMNS).sort_values(
        ["publication_date", "model"], ascending=[False, True], ignore_index=True
    )


def compute_by_origin(comparison: pd.DataFrame) -> pd.DataFrame:
    """Chinese vs US designs: the best dense BF16 released up to each year (for the chart)."""
    c = comparison[
        comparison["designer_country"].isin([CHINA, US])
        & comparison["bf16_dense_tflops"].notna()
        & comparison["release_date"].notna()
    ]
    c = c.assign(year=c["release_date"].dt.year)
    if c.empty:
        return pd.DataFrame(columns=["designer_country", "year", "bf16_dense_tflops"])
    best = c.groupby(["designer_country", "year"])["bf16_dense_tflops"].max().reset_index()
    best["bf16_dense_tflops"] = best.groupby("designer_country")["bf16_dense_tflops"].cummax()
    return best
