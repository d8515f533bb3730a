"""The held-out validation asset: one row per published run of the validation file, errors that
are prediction minus publication, and the report's chips page showing them."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.derived.model_validation import (
    MODEL_VALIDATION_SCHEMA,
    layout_text,
    validation_frame,
    validation_script,
)
from assets.report import pages


@pytest.fixture(scope="module")
def validation():
    script = validation_script()
    doc = script.validation_table()
    sources = pd.read_csv(script.ROWS)
    return doc, sources, validation_frame(doc)


def test_one_row_per_published_run_with_its_source(validation):
    doc, sources, frame = validation
    assert list(frame.columns) == [c.name for c in MODEL_VALIDATION_SCHEMA.columns]
    assert list(frame["row_id"]) == list(sources["row_id"])
    by_id = sources.set_index("row_id")
    for r in frame.itertuples():
        assert r.source_url == by_id.at[r.row_id, "source_url"]
        assert r.published_mfu_pct == pytest.approx(by_id.at[r.row_id, "published_mfu_pct"])


def test_errors_are_prediction_minus_publication_and_the_mae_matches(validation):
    doc, _, frame = validation
    assert frame["error_pp"].to_numpy() == pytest.approx(
        (frame["predicted_mfu_pct"] - frame["published_mfu_pct"]).to_numpy(), abs=2e-3
    )
    assert doc["mae_mfu_pp"] == pytest.approx(frame["error_pp"].abs().mean(), abs=1e-3)


def test_searched_fields_are_starred():
    row = {
        "tp": 8,
        "cp": 1,
        "pp": 16,
        "vpp": 4,
        "dp": 64,
        "ep": 1,
        "micro_batch": 1,
        "zero_stage": 1,
        "recompute": "none",
        "searched": ["vpp", "micro_batch"],
    }
    assert layout_text(row) == "8/1/16(4*)/64/1, mb 1*, ZeRO 1, none"


def test_chips_page_shows_the_held_out_table_only_when_it_exists(validation):
    _, _, frame = validation
    empty = pages.Page(ledger=pd.DataFrame(), forecasts=None)
    assert pages.chips_validation(empty) == []
    page = pages.Page(ledger=pd.DataFrame(), forecasts=None, tables={"model_validation": frame})
    text = "\n".join(pages.chips_validation(page))
    mae = frame["error_pp"].abs().mean()
    assert f"mean absolute error is {pages.fmt(mae)} MFU points" in text
    assert f"on {len(frame)} published runs it was never fitted on" in text
    assert all(row_id in text for row_id in frame["row_id"])
