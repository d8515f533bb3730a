"""Held-out validation of the training model: its MFU on published runs outside the calibration
sets (``data/sources/mfu_validation.csv``), predicted by the calibration script's own code with the
constants the build embeds, so the report can say how far the model's verdicts are to be trusted."""

from __future__ import annotations

import importlib.util
from functools import cache
from types import ModuleType

import dagster as dg
import pandas as pd

from pipelines import settings
from pipelines.io import column_schema

#: The validation script (docs/model.md section 2.1); it reads the repository's validation file,
#: which describes the model build, not the user's sources.
VALIDATION_SCRIPT = settings.PROJECT_ROOT / "rust_core" / "calibration" / "validation.py"

MODEL_VALIDATION_SCHEMA = column_schema(
    ("row_id", "string", "", "Validation row id in data/sources/mfu_validation.csv"),
    ("publication_family", "string", "", "Publication and software stack of the run"),
    (
        "efficiency_family",
        "string",
        "",
        "Chip and precision family whose calibrated compute efficiency the prediction uses",
    ),
    ("model_params_b", "double", "B params", "Model size"),
    ("chips", "int64", "chips", "Cluster size"),
    (
        "layout",
        "string",
        "",
        "tp/cp/pp(vpp)/dp/ep, micro-batch, ZeRO stage, recompute as predicted; a * marks a field "
        "the publication leaves out, searched for the model's best case",
    ),
    (
        "fits_memory",
        "bool",
        "",
        "The layout fits the model's memory estimate (false: predicted with the check lifted)",
    ),
    ("kind", "string", "", "measurement or claim: what the published figure is"),
    (
        "mfu_flops_basis",
        "string",
        "",
        "How the publication counted FLOPs: model, or hardware x 3/4 (recomputed forward counted, "
        "brought to model FLOPs)",
    ),
    (
        "published_mfu_pct",
        "double",
        "%",
        "MFU the publication reports, or derived from its throughput on that basis",
    ),
    (
        "predicted_mfu_pct",
        "double",
        "%",
        "Model MFU at that layout with the embedded constants (nothing refitted)",
    ),
    (
        "predicted_hfu_pct",
        "double",
        "%",
        "Model hardware FLOPs utilisation (recomputed FLOPs counted)",
    ),
    ("error_pp", "double", "MFU points", "Predicted minus published MFU"),
    ("source", "string", "", "Publication"),
    ("source_url", "string", "", "URL or arXiv id of the publication"),
)


@cache
def validation_script() -> ModuleType:
    """The validation script as a module (it lives beside the calibration script, not in a
    package)."""
    spec = importlib.util.spec_from_file_location("mfu_validation", VALIDATION_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layout_text(row: dict) -> str:
    """The predicted layout in the docs table's notation, searched fields starred."""

    def field(name: str) -> str:
        return f"{row[name]}{'*' if name in row['searched'] else ''}"

    return (
        f"{field('tp')}/{row['cp']}/{row['pp']}({field('vpp')})/{row['dp']}/{row['ep']}, "
        f"mb {field('micro_batch')}, ZeRO {row['zero_stage']}, {field('recompute')}"
    )


def validation_frame(doc: dict) -> pd.DataFrame:
    """The held-out table from the script's result (one row per published run)."""
    out = pd.DataFrame(doc["rows"]).rename(columns={"lofo_family": "publication_family"})
    out["layout"] = [layout_text(r) for r in doc["rows"]]
    out = out.astype({"chips": "int64", "fits_memory": bool})
    for col in MODEL_VALIDATION_SCHEMA.columns:
        if col.type == "string":
            out[col.name] = out[col.name].astype("string")
    return out[[c.name for c in MODEL_VALIDATION_SCHEMA.columns]]


@dg.asset(
    group_name="derived",
    kinds={"rust", "pandas"},
    io_manager_key="derived_io",
    owners=["team:compute-outlook"],
    metadata={"dagster/column_schema": MODEL_VALIDATION_SCHEMA, "primary_key": ["row_id"]},
)
def model_validation() -> dg.Output[pd.DataFrame]:
    """The training model on published runs it was never fitted on: each run's published and
    predicted MFU and the error, with the mean absolute error per chip family in metadata."""
    script = validation_script()
    doc = script.validation_table()
    frame = validation_frame(doc)
    return dg.Output(
        frame,
        metadata={
            "mae_mfu_pp": doc["mae_mfu_pp"],
            "mean_error_pp": doc["mean_error_pp"],
            "by_chip_family": dg.MetadataValue.json(doc["by_chip_family"]),
            "by_publication": dg.MetadataValue.json(doc["by_publication"]),
            "validation_file": dg.MetadataValue.path(str(script.ROWS)),
        },
    )
