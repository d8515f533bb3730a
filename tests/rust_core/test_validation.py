"""Held-out validation: the file is disjoint from the calibration sets and sourced row by row, its
predictor is the calibration script's, and the table in docs/model.md is what the module writes."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pandas as pd
import pytest

import rust_core

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "data" / "sources"
LAYOUT_FIELDS = ("tp", "dp", "vpp", "micro_batch", "recompute")


def load(name: str):
    """A script in rust_core/calibration as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "rust_core" / "calibration" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def validation():
    return load("validation")


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(SOURCES / "mfu_validation.csv")


def calibration_ids_and_shapes() -> tuple[set[str], set[tuple], set[tuple]]:
    v1 = pd.read_csv(SOURCES / "mfu_calibration.csv")
    v2 = pd.read_csv(SOURCES / "mfu_calibration_v2.csv")
    ids = set(v1["row_id"]) | set(v2["row_id"])
    frames = [v1[["layers", "hidden", "chips"]], v2[["layers", "hidden", "chips"]]]
    by_shape = {tuple(int(x) for x in r) for r in pd.concat(frames).itertuples(index=False)}
    params = [v1[["params_b", "chips"]], v2[["params_b", "chips"]]]
    by_size = {(round(float(p)), int(c)) for p, c in pd.concat(params).itertuples(index=False)}
    return ids, by_shape, by_size


def test_validation_rows_are_not_calibration_rows(raw) -> None:
    ids, by_shape, by_size = calibration_ids_and_shapes()
    assert raw["row_id"].is_unique
    assert not set(raw["row_id"]) & ids
    for r in raw.itertuples():
        assert (int(r.layers), int(r.hidden), int(r.chips)) not in by_shape, r.row_id
        assert (round(float(r.params_b)), int(r.chips)) not in by_size, r.row_id


def test_every_row_has_provenance_and_names_what_is_unpublished(raw) -> None:
    provenance = ["source", "source_url", "published", "kind", "quote", "provenance"]
    assert raw[provenance].notna().all().all()
    assert (raw[provenance].apply(lambda c: c.astype(str).str.strip().str.len()) > 0).all().all()
    assert set(raw["kind"]) <= {"measured", "claim"}
    assert raw["published_mfu_pct"].between(0, 100).all()
    for r in raw.to_dict("records"):
        for field in LAYOUT_FIELDS:
            if pd.isna(r[field]):
                assert field in str(r["unpublished_fields"]), (r["row_id"], field)
        # published figures are quoted: the MFU (or TFLOP/s) and the chip count appear in the quote
        figure = r["reported_tflops_per_chip"]
        shown = f"{figure:g}" if pd.notna(figure) else f"{r['published_mfu_pct']:g}"
        assert shown in r["quote"], r["row_id"]


def test_layout_accounts_for_every_chip(validation) -> None:
    doc = validation.validation_table()
    for r in doc["rows"]:
        assert r["tp"] * r["cp"] * r["pp"] * r["dp"] * r["ep"] == r["chips"], r["row_id"]


def test_predictor_reproduces_the_calibration_scripts_predictions(validation) -> None:
    """The same code path: calibration rows whose layout is fully published, run through the
    validation predictor with the embedded constants, give the predictions stored by the fit."""
    stored = {r["row_id"]: r["predicted_mfu_pct"] for r in rust_core.calibration()["rows"]}
    rows = validation.FIT.calibration_rows()
    rows = rows[rows["micro_batch"].notna()].reset_index(drop=True)
    assert len(rows) >= 5
    best = validation.predict_rows(rows, validation.embedded_constants())
    for row_id in rows["row_id"]:
        now = float(best.loc[row_id, "mfu"]) * 100
        assert math.isclose(now, stored[row_id], abs_tol=2e-3), row_id


def test_docs_table_is_current(validation) -> None:
    text = (ROOT / "docs" / "model.md").read_text()
    start = text.index(validation.TABLE_START) + len(validation.TABLE_START)
    end = text.index(validation.TABLE_END)
    written = text[start:end].strip("\n")
    assert written == validation.markdown_table(validation.validation_table()), (
        "regenerate with: .venv/bin/python rust_core/calibration/validation.py"
    )


def test_summary_matches_rows(validation) -> None:
    doc = validation.validation_table()
    errors = [r["error_pp"] for r in doc["rows"]]
    assert math.isclose(doc["mae_mfu_pp"], sum(map(abs, errors)) / len(errors), abs_tol=2e-3)
    assert sum(v["rows"] for v in doc["by_chip_family"].values()) == len(errors)


def test_shape_columns_are_sourced_and_change_only_their_rows(raw, validation) -> None:
    """Grouped-query and gated-MLP shape fields carry their source; a row read without them is
    multi-head attention with a plain 4h MLP (the calibration files' reading)."""
    for r in raw.to_dict("records"):
        assert str(r["shape_basis"]).strip(), r["row_id"]
        if pd.notna(r["kv_heads"]):
            assert 1 <= r["kv_heads"] <= r["heads"], r["row_id"]
            assert "KV heads" in r["shape_basis"] or "key-value heads" in r["shape_basis"]
        if pd.notna(r["ffn_hidden"]):
            assert f"{int(r['ffn_hidden']):,}" in r["shape_basis"], r["row_id"]
    rows = validation.validation_rows()
    cp16 = rows[rows["row_id"] == "LLAMA3-405B-H100-16384-CP16"].reset_index(drop=True)
    gqa = validation.predict_rows(cp16, validation.embedded_constants())
    mha = validation.predict_rows(
        cp16.assign(kv_heads=float("nan"), ffn_hidden=float("nan"), gated_mlp=float("nan")),
        validation.embedded_constants(),
    )
    # 8 of 128 KV heads: the context-parallel K/V exchange carries 1/16 of the multi-head bytes.
    assert float(gqa["mfu"].iloc[0]) > float(mha["mfu"].iloc[0])
