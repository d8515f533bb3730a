"""Staging of every upstream payload: row counts, units, provenance, rejected rows and schema drift."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets.staging.assets import STAGINGS, Staging, provenance, stage_payload
from assets.staging.epoch import CHIP_SALES_TIMELINES, ML_HARDWARE
from assets.staging.frame import (
    DriftError,
    Provenance,
    StageColumn,
    StagingSchema,
    stage_frame,
)
from assets.upstream import registry

BY_ID = {s.schema.dataset: s for s in STAGINGS}
PROV = Provenance("cite", "https://example.invalid/file.csv", "2026-10-01", "0" * 64)


def shipped(dataset_id: str) -> Path:
    return registry.dataset(dataset_id).shipped_path


def records(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def stage(dataset_id: str, path: Path | None = None):
    staging = BY_ID[dataset_id]
    path = path or shipped(dataset_id)
    return stage_payload(staging, path, provenance(dataset_id, shipped(dataset_id)))


@pytest.mark.parametrize(
    "dataset_id",
    [d for d in BY_ID if d.startswith("epoch_")],
)
def test_every_epoch_record_is_staged_or_rejected(dataset_id):
    raw = records(shipped(dataset_id))
    validated = stage(dataset_id)
    rejected_lines = set(validated.rejected["line"]) if len(validated.rejected) else set()
    assert len(validated.table) + len(rejected_lines) == len(raw)
    assert (
        validated.table["snapshot_sha256"]
        .eq(hashlib.sha256(shipped(dataset_id).read_bytes()).hexdigest())
        .all()
    )
    assert validated.table["source_url"].eq(registry.dataset(dataset_id).url).all()
    assert validated.table["dataset"].eq(dataset_id).all()


def test_ml_hardware_units_are_the_projects():
    raw = {r["Hardware name"]: r for r in records(shipped("epoch_ml_hardware"))}
    table = stage("epoch_ml_hardware").table.set_index("hardware_name")
    h100 = raw["NVIDIA H100 SXM5 80GB"]
    row = table.loc["NVIDIA H100 SXM5 80GB"]
    assert row["bf16_dense_tflops"] == pytest.approx(
        float(h100["Tensor-FP16/BF16 performance (FLOP/s)"]) / 1e12
    )
    assert row["memory_gb"] == pytest.approx(float(h100["Memory (bytes)"]) / 1e9)
    assert row["memory_bw_gbps"] == pytest.approx(float(h100["Memory bandwidth (byte/s)"]) / 1e9)
    assert row["tdp_w"] == pytest.approx(float(h100["TDP (W)"]))
    datasheets = [u.strip() for u in h100["Link to datasheet"].split(";")]
    assert row["row_links"].split()[: len(datasheets)] == datasheets
    assert all(link.startswith("http") for link in row["row_links"].split())


def test_clusters_keep_every_source_link_and_the_chinese_rows():
    raw = records(shipped("epoch_gpu_clusters"))
    table = stage("epoch_gpu_clusters").table
    assert int((table["country"] == "China").sum()) == sum(r["Country"] == "China" for r in raw)
    first = raw[0]
    links = [first[f"Source {i}"].strip() for i in range(1, 6) if first[f"Source {i}"].strip()]
    assert table.loc[table["source_row"] == 1, "row_links"].iloc[0] == " ".join(links)


def test_price_catalogs_are_in_usd_per_million_tokens():
    catalog = json.loads(shipped("litellm_prices").read_bytes())
    table = stage("litellm_prices").table.set_index("model_id")
    model_id, entry = next(
        (k, v)
        for k, v in catalog.items()
        if isinstance(v, dict) and v.get("input_cost_per_token") and v.get("output_cost_per_token")
    )
    assert table.loc[model_id, "input_usd_per_mtok"] == pytest.approx(
        entry["input_cost_per_token"] * 1e6
    )
    assert table.loc[model_id, "provider"] == entry["litellm_provider"]
    assert "sample_spec" not in table.index
    router = stage("openrouter_models")
    models = json.loads(shipped("openrouter_models").read_bytes())["data"]
    variable = [m["id"] for m in models if m["pricing"]["prompt"] == "-1"]
    assert variable, "the snapshot has router entries with variable pricing"
    assert router.rejected.empty, "routers are left out, not rejected"
    assert not set(variable) & set(router.table["model_id"])
    assert len(router.table) + len(variable) == len(models)


def rewrite_csv(src: Path, dst: Path, edit) -> Path:
    """A copy of a CSV with ``edit(header, rows)`` applied."""
    with src.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = edit(rows[0], rows[1:])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *body])
    dst.write_text(buf.getvalue(), encoding="utf-8")
    return dst


def test_renamed_column_names_dataset_and_column(tmp_path):
    col = "Tensor-FP16/BF16 performance (FLOP/s)"
    path = rewrite_csv(
        shipped("epoch_ml_hardware"),
        tmp_path / "hw.csv",
        lambda h, b: ([("BF16 (FLOP/s)" if c == col else c) for c in h], b),
    )
    with pytest.raises(DriftError, match=r"epoch_ml_hardware: column 'Tensor-FP16/BF16 .*missing"):
        stage("epoch_ml_hardware", path)


def test_missing_column_names_dataset_and_column(tmp_path):
    def drop(header, body):
        i = header.index("Compute estimate in H100e (median)")
        return header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in body]

    path = rewrite_csv(shipped("epoch_chip_sales_timelines"), tmp_path / "s.csv", drop)
    with pytest.raises(
        DriftError, match=r"epoch_chip_sales_timelines: column 'Compute estimate in H100e"
    ):
        stage("epoch_chip_sales_timelines", path)


def test_retyped_column_names_dataset_column_and_value(tmp_path):
    def retype(header, body):
        i = header.index("TDP (W)")
        return header, [r[:i] + ["about " + r[i] if r[i] else ""] + r[i + 1 :] for r in body]

    path = rewrite_csv(shipped("epoch_ml_hardware"), tmp_path / "hw.csv", retype)
    with pytest.raises(
        DriftError, match=r"epoch_ml_hardware: column 'TDP \(W\)' is not a number.*'about "
    ):
        stage("epoch_ml_hardware", path)


def test_unit_change_to_tflops_is_caught_by_the_range_check(tmp_path):
    col = "Tensor-FP16/BF16 performance (FLOP/s)"

    def to_tflops(header, body):
        i = header.index(col)
        return header, [
            r[:i] + ([f"{float(r[i]) / 1e12:g}"] if r[i] else [""]) + r[i + 1 :] for r in body
        ]

    path = rewrite_csv(shipped("epoch_ml_hardware"), tmp_path / "hw.csv", to_tflops)
    with pytest.raises(
        DriftError, match=r"epoch_ml_hardware: column 'Tensor-FP16.*plausible range.*e\.g\. '"
    ):
        stage("epoch_ml_hardware", path)


def test_a_few_bad_cells_reject_their_rows_with_reasons(tmp_path):
    def spoil(header, body):
        i = header.index("End date")
        body[3][i] = "soon"
        return header, body

    path = rewrite_csv(shipped("epoch_chip_sales_timelines"), tmp_path / "s.csv", spoil)
    validated = stage("epoch_chip_sales_timelines", path)
    assert list(validated.rejected["line"]) == [4]
    assert validated.rejected["column"].iloc[0] == "End date"
    assert validated.rejected["value"].iloc[0] == "soon"
    assert len(validated.table) == len(records(shipped("epoch_chip_sales_timelines"))) - 1


def test_unreadable_json_names_the_dataset(tmp_path):
    path = tmp_path / "models.json"
    path.write_text("<html>error</html>", encoding="utf-8")
    with pytest.raises(DriftError, match="openrouter_models: .* is not valid JSON"):
        stage("openrouter_models", path)


SMALL = StagingSchema(
    dataset="toy",
    description="toy",
    kind="estimate",
    key=("name",),
    columns=(
        StageColumn("Name", "name", "str", "name", required=True),
        StageColumn("Power (W)", "power_kw", "float", "power", "kW", 1e-3, 0, 10),
    ),
)


@given(st.lists(st.floats(0, 10_000, allow_nan=False), min_size=1, max_size=30))
def test_values_in_range_are_converted_and_kept(watts):
    cells = pd.DataFrame(
        {"Name": [f"n{i}" for i in range(len(watts))], "Power (W)": [repr(w) for w in watts]}
    )
    table = stage_frame(cells, SMALL, PROV).table
    assert list(table["power_kw"]) == pytest.approx([w / 1000 for w in watts])
    assert list(table["source_row"]) == list(range(1, len(watts) + 1))


def test_duplicate_keys_are_rejected_not_dropped():
    cells = pd.DataFrame({"Name": ["a", "a", "b"], "Power (W)": ["1", "2", "3"]})
    validated = stage_frame(cells, SMALL, PROV)
    assert list(validated.table["name"]) == ["a", "b"]
    assert list(validated.rejected["line"]) == [2]
    assert "duplicate key" in validated.rejected["reason"].iloc[0]


def test_declared_schemas_cover_every_registered_dataset():
    assert set(BY_ID) == {d.id for d in registry.DATASETS}
    assert {c.name for c in ML_HARDWARE.columns} >= {"bf16_dense_tflops", "memory_gb", "tdp_w"}
    assert CHIP_SALES_TIMELINES.key == ("chip_type", "start_date")
    assert isinstance(BY_ID["epoch_ml_hardware"], Staging)
