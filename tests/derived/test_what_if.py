"""What-if: names resolved through the alias table, the cost-of-ownership price against a hand
calculation, and the runs table that only ever grows."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from upath import UPath

from assets.derived import what_if as what_if_model
from assets.derived.what_if_assets import RUNS_SCHEMA
from pipelines.cli import WHAT_IF_OPTIONS, main, what_if_config
from pipelines.jobs import PIPELINE_JOBS
from tests.conftest import SHIPPED_SOURCES

ALIASES = pd.read_csv(SHIPPED_SOURCES / "chip_aliases.csv")
CHIP_IDS = sorted(set(ALIASES["chip_id"]))


@pytest.mark.parametrize(
    ("name", "chip_id"),
    [
        ("Ascend 910B", "huawei-ascend-910b"),
        ("ascend-910b", "huawei-ascend-910b"),
        ("H100", "nvidia-h100-sxm"),
        ("NVIDIA H100 (80GB SXM)", "nvidia-h100-sxm"),
        ("nvidia-h20", "nvidia-h20"),
    ],
)
def test_chip_names_resolve_through_the_alias_table(name, chip_id):
    assert what_if_model.resolve_chip(name, ALIASES, CHIP_IDS) == chip_id


def test_an_unknown_chip_is_answered_with_the_closest_valid_names():
    with pytest.raises(what_if_model.UnknownName) as err:
        what_if_model.resolve_chip("Ascend 910X", ALIASES, CHIP_IDS)
    message = str(err.value)
    assert "unknown chip 'Ascend 910X'" in message
    suggestions = message.split("closest valid names: ")[1].split(", ")
    assert "Ascend 910B" in suggestions and len(suggestions) <= what_if_model.SUGGESTIONS


def test_model_names_resolve_and_unknown_ones_list_the_closest():
    assert what_if_model.resolve_model("Llama 2 70B") == "llama2-70b"
    assert what_if_model.resolve_model("DeepSeek-V3-671B") == "deepseek-v3-671b"
    with pytest.raises(what_if_model.UnknownName, match="closest valid ids: llama2-70b"):
        what_if_model.resolve_model("llama2-70c")


def _ownership(**kw) -> what_if_model.Ownership:
    base = dict(
        chip_price_usd=20_000.0,
        chip_price_basis="test",
        life_years=4.0,
        power_w_per_chip=700.0,
        power_basis="test",
        pue=1.2,
        pue_basis="test",
        usd_per_kwh=0.10,
        hosting_usd_per_chip_hour=0.30,
    )
    return what_if_model.Ownership(**(base | kw))


def test_cost_of_ownership_matches_a_hand_calculation():
    own = _ownership()
    # 20,000 USD / (4 x 8,760 h) = 0.570776 USD/h; 0.7 kW x 1.2 x 0.10 USD/kWh = 0.084 USD/h;
    # + 0.30 USD/h hosting = 0.954776 USD per chip-hour.
    assert own.capital_usd_per_chip_hour() == pytest.approx(0.5707762557, rel=1e-9)
    assert own.energy_usd_per_chip_hour() == pytest.approx(0.084, rel=1e-12)
    assert own.usd_per_chip_hour() == pytest.approx(0.9547762557, rel=1e-9)
    assert own.basis().startswith("ESTIMATE (cost of ownership, not a rental price): 0.9548")


@given(
    price=st.floats(1.0, 1e6),
    life=st.floats(0.5, 20.0),
    watts=st.floats(1.0, 5000.0),
    pue=st.floats(1.0, 3.0),
    kwh=st.floats(0.0, 1.0),
    hosting=st.floats(0.0, 10.0),
)
def test_cost_of_ownership_is_the_sum_of_its_parts(price, life, watts, pue, kwh, hosting):
    own = _ownership(
        chip_price_usd=price,
        life_years=life,
        power_w_per_chip=watts,
        pue=pue,
        usd_per_kwh=kwh,
        hosting_usd_per_chip_hour=hosting,
    )
    reference = price / (life * 365 * 24) + watts * pue * kwh / 1000 + hosting
    assert math.isclose(own.usd_per_chip_hour(), reference, rel_tol=1e-9)


def test_chip_price_uses_only_supportable_rows():
    prices = pd.DataFrame(
        {
            "chip_price_id": ["A", "B", "C"],
            "chip_id": ["x", "x", "x"],
            "date": pd.to_datetime(["2023-01-01", "2024-01-01", "2025-01-01"]),
            "usd_per_chip": [10_000.0, 12_000.0, 1_000.0],
            "usd_per_chip_high": [float("nan"), 14_000.0, float("nan")],
            "kind": ["measured", "estimate", "claim"],
            "confidence": ["high", "medium", "medium"],
            "source": ["s"] * 3,
            "source_url": ["u"] * 3,
        }
    )
    value, basis = what_if_model.chip_price_usd(prices, "x")
    assert value == 13_000.0 and basis.startswith("chip_prices B: 13,000 USD (midpoint")
    assert what_if_model.chip_price_usd(prices, "y") is None


def _run_rows(run_time: str, mfu: float) -> pd.DataFrame:
    row = {c.name: None for c in RUNS_SCHEMA.columns}
    row |= {"scenario_id": "what-if-x", "run_time_utc": pd.Timestamp(run_time, tz="UTC")}
    row |= {"mfu_pct": mfu, "chip_id": "x"}
    return pd.DataFrame([row])


def test_runs_are_appended_and_never_overwritten(tmp_path):
    path = UPath(tmp_path / "what_if_runs.parquet")
    what_if_model.append_runs(_run_rows("2026-01-01 00:00", 40.0), path, RUNS_SCHEMA)
    what_if_model.append_runs(_run_rows("2026-01-02 00:00", 35.0), path, RUNS_SCHEMA)
    table = pd.read_parquet(path)
    assert table["mfu_pct"].tolist() == [40.0, 35.0]
    before = path.read_bytes()
    with pytest.raises(ValueError, match="same scenario_id and run_time_utc"):
        what_if_model.append_runs(_run_rows("2026-01-02 00:00", 1.0), path, RUNS_SCHEMA)
    assert path.read_bytes() == before


def test_the_full_run_never_touches_the_what_if_table():
    assert "what_if" not in PIPELINE_JOBS


def test_command_line_options_become_the_launchpad_config():
    import argparse

    ns = argparse.Namespace(**{field: None for _, field, _, _ in WHAT_IF_OPTIONS})
    ns.chip_id, ns.chips, ns.global_batch_tokens = "Ascend 910B", 10_000, 8_388_608
    assert what_if_config(ns) == {
        "chip_id": "Ascend 910B",
        "chips": 10_000,
        "global_batch_tokens": 8_388_608,
    }
    with pytest.raises(SystemExit):
        main(["what-if", "--chips", "many"])
