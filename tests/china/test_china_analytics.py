"""China compute analytics against independent references: hand-made tables, plain-csv sums over the
shipped Epoch files, and the figures quoted in the task (57 % / 86 %, 1.8-2.1 vs ~0.85 kW)."""

from __future__ import annotations

import csv
from collections import defaultdict
from statistics import median

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets.china import chip_identity, chips, sites, supply
from assets.ingest.hardware import resolve_specs
from assets.staging.assets import STAGINGS, provenance, stage_payload
from assets.upstream import registry

BY_ID = {s.schema.dataset: s for s in STAGINGS}


def staged(dataset_id: str) -> pd.DataFrame:
    path = registry.dataset(dataset_id).shipped_path
    return stage_payload(BY_ID[dataset_id], path, provenance(dataset_id, path)).table


def raw(dataset_id: str) -> list[dict]:
    with registry.dataset(dataset_id).shipped_path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def sales_tables():
    return (
        staged("epoch_chip_sales_timelines"),
        staged("epoch_chip_sales_chip_types"),
        staged("epoch_chip_sales_organizations"),
    )


def plain_china_sums() -> dict[tuple[int, str], list[float]]:
    """Reference: (year, country of designer) -> [median, p5, p95] summed with the csv module,
    complete quarters of China-market chip types only."""
    types = {r["Name"]: r for r in raw("epoch_chip_sales_chip_types")}
    orgs = {r["Name"]: r["Country"] for r in raw("epoch_chip_sales_organizations")}
    sums: dict = defaultdict(lambda: [0.0, 0.0, 0.0])
    for r in raw("epoch_chip_sales_timelines"):
        t = types.get(r["Chip type (linked)"])
        if t is None or t["Primarily for Chinese market"] != "True" or r["Incomplete"] == "True":
            continue
        key = (int(r["Start date"][:4]), orgs[t["Designer"]])
        for i, col in enumerate(
            (
                "Compute estimate in H100e (median)",
                "H100e (5th percentile)",
                "H100e (95th percentile)",
            )
        ):
            sums[key][i] += float(r[col])
    return sums


def test_supply_matches_a_plain_csv_sum(sales_tables):
    table = supply.china_chip_supply(*sales_tables)
    ref = plain_china_sums()
    for (year, country), (mid, lo, hi) in ref.items():
        rows = table[(table["year"] == year) & (table["designer_country"] == country)]
        assert rows["h100e"].sum() == pytest.approx(mid)
        assert rows["h100e_low"].sum() == pytest.approx(lo)
        assert rows["h100e_high"].sum() == pytest.approx(hi)


def test_domestic_share_reproduces_the_published_sanity_figures(sales_tables):
    table = supply.china_chip_supply(*sales_tables)
    share = supply.domestic_share_observed(table, sales_tables[0]).set_index("year")
    ref = plain_china_sums()
    for year, expected_pct in ((2024, 57), (2025, 86)):
        dom, foreign = ref[(year, "China")][0], ref[(year, "United States of America")][0]
        assert share.loc[year, "domestic_share_pct"] == pytest.approx(100 * dom / (dom + foreign))
        assert round(share.loc[year, "domestic_share_pct"]) == expected_pct
        assert (
            share.loc[year, "domestic_share_pct_low"]
            < share.loc[year, "domestic_share_pct"]
            < share.loc[year, "domestic_share_pct_high"]
        )
    assert list(share.index) == [2024, 2025]
    assert share["kind"].eq("estimate").all()
    assert "2023" in share["note"].iloc[0] and "2026" in share["note"].iloc[0]


def test_the_share_contract_columns_are_present(sales_tables):
    share = supply.domestic_share_observed(supply.china_chip_supply(*sales_tables), sales_tables[0])
    required = {
        "year",
        "domestic_share_pct",
        "domestic_share_pct_low",
        "domestic_share_pct_high",
        "domestic_h100e",
        "total_h100e",
        "basis",
        "source",
        "source_url",
        "published",
        "kind",
        "note",
    }
    assert required <= set(share.columns)
    assert share["year"].dtype == "int64"


def toy_sales(rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(chip, quarter start, incomplete, median, p5, p95) rows with two designers."""
    sales = pd.DataFrame(
        [
            {
                "chip_type": chip,
                "manufacturer": "x",
                "start_date": pd.Timestamp(start),
                "incomplete": inc,
                "units": 1.0,
                "h100e": mid,
                "h100e_p5": lo,
                "h100e_p95": hi,
                "epoch_note": "",
                "source": "s",
                "source_url": "u",
                "published": "2026-01-01",
            }
            for chip, start, inc, mid, lo, hi in rows
        ]
    )
    types = pd.DataFrame(
        {
            "name": ["dom", "exp", "us"],
            "designer": ["D", "F", "F"],
            "china_market": [True, True, False],
        }
    )
    orgs = pd.DataFrame({"name": ["D", "F"], "country": ["China", "United States of America"]})
    return sales, types, orgs


QUARTERS = ["2024-01-01", "2024-04-01", "2024-07-01", "2024-10-01"]


@given(
    st.lists(st.floats(1, 1e6), min_size=4, max_size=4),
    st.lists(st.floats(1, 1e6), min_size=4, max_size=4),
)
def test_share_is_a_hand_calculation_with_ordered_bounds(dom, foreign):
    rows = [("dom", q, False, d, d * 0.8, d * 1.3) for q, d in zip(QUARTERS, dom, strict=True)]
    rows += [("exp", q, False, f, f * 0.7, f * 1.2) for q, f in zip(QUARTERS, foreign, strict=True)]
    rows += [("us", q, False, 1e9, 1e9, 1e9) for q in QUARTERS]
    sales, types, orgs = toy_sales(rows)
    share = supply.domestic_share_observed(supply.china_chip_supply(sales, types, orgs), sales)
    d, f = sum(dom), sum(foreign)
    assert share["domestic_share_pct"].iloc[0] == pytest.approx(100 * d / (d + f))
    assert share["domestic_share_pct_low"].iloc[0] == pytest.approx(
        100 * 0.8 * d / (0.8 * d + 1.2 * f)
    )
    assert share["domestic_share_pct_high"].iloc[0] == pytest.approx(
        100 * 1.3 * d / (1.3 * d + 0.7 * f)
    )


def test_incomplete_quarters_are_excluded_and_said_so():
    rows = [("dom", q, False, 10.0, 8.0, 12.0) for q in QUARTERS]
    rows += [("exp", q, False, 10.0, 8.0, 12.0) for q in QUARTERS]
    rows += [("dom", "2025-01-01", True, 500.0, 400.0, 600.0)]
    sales, types, orgs = toy_sales(rows)
    table = supply.china_chip_supply(sales, types, orgs)
    assert 2025 not in set(table["year"])
    share = supply.domestic_share_observed(table, sales)
    assert list(share["year"]) == [2024]
    assert share["domestic_share_pct"].iloc[0] == pytest.approx(50.0)
    assert "2025" in share["note"].iloc[0]
    rows[-1] = ("dom", "2024-10-01", True, 500.0, 400.0, 600.0)
    rows[3] = ("dom", "2024-10-01", True, 10.0, 8.0, 12.0)
    sales, types, orgs = toy_sales(rows[:-1])
    table = supply.china_chip_supply(sales, types, orgs)
    assert table.loc[table["designer"] == "D", "excluded_incomplete"].iloc[0] == "2024Q4"
    assert supply.domestic_share_observed(table, sales).empty


def test_site_power_per_h100e_reproduces_the_quoted_ranges():
    intensity = sites.cluster_power_intensity(
        staged("epoch_gpu_clusters"), staged("epoch_data_centers")
    )
    dc = intensity[intensity["basis"] == "data_centers"]
    ascend = dc[(dc["country_group"] == "China") & (dc["chip_family"] == "Huawei Ascend")]
    assert ascend["kw_per_h100e"].min() >= 1.75 and ascend["kw_per_h100e"].max() <= 2.1
    # independent reference: IT MW x 1000 / current H100e straight from the csv
    ref = {
        r["Name"]: float(r["Current power (MW)"]) * 1000 / float(r["Current H100 equivalents"])
        for r in raw("epoch_data_centers")
        if r["Current power (MW)"]
        and r["Current H100 equivalents"]
        and float(r["Current H100 equivalents"]) > 0
        and float(r["Current power (MW)"]) > 0
    }
    for site, kw in zip(dc["site"], dc["kw_per_h100e"], strict=True):
        assert kw == pytest.approx(ref[site])
    us_blackwell = dc[
        (dc["country_group"] == "United States") & (dc["chip_family"] == "NVIDIA Blackwell")
    ]
    assert 0.8 <= median(us_blackwell["kw_per_h100e"]) <= 0.9
    assert sites.article_kw_per_h100e() == pytest.approx(3.5)


def test_compute_stock_counts_operational_standard_clusters_by_hand():
    clusters = pd.DataFrame(
        {
            "name": ["a", "b", "c", "d"],
            "country": ["China", "United States of America", "China", "France"],
            "h100e": [100.0, 50.0, 7.0, 3.0],
            "first_operational": pd.to_datetime(
                ["2024-02-01", "2024-05-01", "2024-01-01", "2024-01-01"]
            ),
            "decommissioned": pd.to_datetime([None, None, "2024-05-01", None]),
            "standard_analysis": [True, True, True, False],
        }
    )
    timelines = pd.DataFrame(
        {
            "data_center": ["x", "x"],
            "date": pd.to_datetime(["2024-01-15", "2024-08-01"]),
            "h100e": [10.0, 40.0],
            "country": ["United States", "United States"],
        }
    )
    stock = sites.compute_stock(clusters, timelines, pd.Timestamp("2024-09-30"))
    got = {(r.quarter, r.country_group, r.basis): r.h100e for r in stock.itertuples()}
    assert got[("2024Q1", "China", "gpu_clusters")] == 107.0
    assert got[("2024Q2", "China", "gpu_clusters")] == 100.0
    assert got[("2024Q2", "United States", "gpu_clusters")] == 50.0
    assert ("2024Q1", "Rest of world", "gpu_clusters") not in got
    assert got[("2024Q2", "United States", "data_centers")] == 10.0
    assert got[("2024Q3", "United States", "data_centers")] == 40.0
    assert stock["quarter_end"].max() <= pd.Timestamp("2024-09-30")


def test_epoch_names_map_through_aliases_and_unmapped_ones_keep_a_name():
    aliases = pd.DataFrame({"alias": ["NVIDIA H100 SXM5 80GB"], "chip_id": ["nvidia-h100-sxm"]})
    ids = chip_identity.map_names(
        pd.Series(["NVIDIA H100 SXM5 80GB", "Huawei Ascend 920"]), aliases
    )
    assert list(ids["chip_id"]) == ["nvidia-h100-sxm", "huawei-ascend-920"]
    assert list(ids["alias_mapped"]) == [True, False]


def test_spec_conflicts_list_only_differences_over_five_percent():
    hw = pd.read_csv(registry.SHIPPED_DIR.parent / "sources" / "hardware_specs.csv")
    aliases = pd.read_csv(registry.SHIPPED_DIR.parent / "sources" / "chip_aliases.csv")
    hw["is_default"] = hw["is_default"].astype(str).str.lower() == "true"
    epoch = chip_identity.epoch_spec_rows(staged("epoch_ml_hardware"), aliases, hw)
    curated = resolve_specs(hw)
    conflicts = chip_identity.spec_conflicts(curated, epoch)
    assert (conflicts["diff_pct"].abs() > chip_identity.CONFLICT_PCT).all()
    cur = curated.set_index("chip_id")
    for r in conflicts.itertuples():
        assert r.diff_pct == pytest.approx(
            100 * (r.epoch_value - cur.at[r.chip_id, r.column]) / cur.at[r.chip_id, r.column]
        )
    # a pair within 5 % is not a conflict: H100 dense BF16 is 989 TFLOPS in both
    assert not (
        (conflicts["chip_id"] == "nvidia-h100-sxm") & (conflicts["column"] == "bf16_dense_tflops")
    ).any()
    # every Epoch accelerator becomes a chip: mapped ones non-default, the rest default
    assert epoch["chip_id"].is_unique
    assert epoch.loc[epoch["chip_id"] == "nvidia-h100-sxm", "is_default"].iloc[0] == False  # noqa: E712


def test_chip_comparison_counts_chinese_designs():
    comparison = chips.chip_comparison(
        staged("epoch_ml_hardware"),
        pd.read_csv(registry.SHIPPED_DIR.parent / "sources" / "chip_aliases.csv"),
    )
    assert len(comparison) == 176
    assert int((comparison["designer_country"] == "China").sum()) == 49
    row = comparison[comparison["hardware_name"] == "NVIDIA H100 SXM5 80GB"].iloc[0]
    assert row["bf16_tflops_per_w"] == pytest.approx(row["bf16_dense_tflops"] / row["tdp_w"])


def test_training_trend_takes_the_largest_model_per_quarter_and_country():
    models = pd.DataFrame(
        {
            "model": ["a", "b", "c", "d"],
            "organization": ["o"] * 4,
            "country": ["China", "China", "United States of America,China", ""],
            "publication_date": pd.to_datetime(
                ["2025-01-05", "2025-02-01", "2025-03-01", "2025-03-01"]
            ),
            "training_compute_flop": [1e24, 3e24, 5e25, 1e27],
            "training_hardware": ["Huawei Ascend 910B", "", "NVIDIA H100 SXM5 80GB", ""],
        }
    )
    trend = chips.training_compute_trend(models)
    assert set(zip(trend["country_group"], trend["model"], strict=True)) == {
        ("China", "b"),
        ("United States", "c"),
    }
    assert int(trend.loc[trend["model"] == "b", "models_with_compute"].iloc[0]) == 2
    hw = pd.DataFrame(
        {
            "hardware_name": ["Huawei Ascend 910B", "NVIDIA H100 SXM5 80GB"],
            "manufacturer": ["Huawei", "NVIDIA"],
        }
    )
    origin = chips.hardware_origin(models["training_hardware"], hw)
    assert list(origin) == ["domestic", "unknown", "foreign", "unknown"]


def test_best_compute_by_origin_never_falls():
    comparison = pd.DataFrame(
        {
            "designer_country": ["China", "China", "China", "United States"],
            "release_date": pd.to_datetime(
                ["2022-01-01", "2023-01-01", "2024-01-01", "2023-06-01"]
            ),
            "bf16_dense_tflops": [1000.0, 100.0, 800.0, 989.0],
        }
    )
    best = chips.compute_by_origin(comparison)
    china = best[best["designer_country"] == "China"]
    assert list(china["bf16_dense_tflops"]) == [1000.0, 1000.0, 1000.0]
    assert list(best.loc[best["designer_country"] == "United States", "year"]) == [2023]
