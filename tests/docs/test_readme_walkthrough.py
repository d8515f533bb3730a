"""The README's walkthrough (add a chip, a price and a claim) followed step by step on a copy of
the shipped sources: every row it shows is accepted and lands in the clean tables."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import assets.ingest
from pipelines import settings
from pipelines.cli import main
from tests.helpers import materialize

README = settings.PROJECT_ROOT / "README.md"
STEP = re.compile(r"Append to `data/sources/([\w.]+)`.*?```csv\n(.*?)```", re.DOTALL)


def walkthrough() -> list[tuple[str, str]]:
    """(source file, rows) of each step, in the README's order."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Add a chip, a price and a claim")[1].split("\n## ")[0]
    return STEP.findall(section)


def test_the_walkthrough_shows_a_chip_a_price_and_a_claim():
    files = [f for f, _ in walkthrough()]
    assert files == [
        "chip_aliases.csv",
        "hardware_specs.csv",
        "gpu_rental_prices.csv",
        "claims.csv",
    ]


@pytest.mark.slow
def test_following_the_walkthrough_adds_the_chip_its_price_and_the_claim(
    sources, warehouse, instance, capsys
):
    for file, rows in walkthrough():
        path = sources / file
        body = path.read_text(encoding="utf-8")
        path.write_text(body + ("" if body.endswith("\n") else "\n") + rows, encoding="utf-8")
    assert main(["check-sources"]) == 0
    assert ": 0 problem(s)" in capsys.readouterr().out

    ingest = [k.to_user_string() for a in assets.ingest.ASSETS for k in a.keys]
    result = materialize([*ingest, "stg_epoch_ml_hardware", "chip_specs"], instance)
    assert result.success
    chip = pd.read_parquet(warehouse / "derived" / "chip_specs.parquet").set_index("chip_id")
    assert chip.at["nvidia-l40s", "bf16_dense_tflops"] == 362.05
    assert chip.at["nvidia-l40s", "memory_bw_gbps"] == 864
    rent = pd.read_parquet(warehouse / "clean" / "gpu_rental_prices.parquet").set_index("rental_id")
    assert rent.at["RT90", "chip_id"] == "nvidia-l40s"
    assert rent.at["RT90", "usd_per_gpu_hour"] == pytest.approx(1.861)
    claims = pd.read_parquet(warehouse / "clean" / "claims.parquet").set_index("claim_id")
    assert claims.at["C90", "subject"] == "nvidia-l40s" and claims.at["C90", "value"] == 864
