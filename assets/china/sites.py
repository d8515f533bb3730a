"""Sites from Epoch AI's clusters and data centers: power per H100e, and operational H100e by quarter
and country (the compute stock Epoch tracks)."""

from __future__ import annotations

import numpy as np
import pandas as pd

CHINA, US, ROW, UNKNOWN = "China", "United States", "Rest of world", "Unknown"
_US_NAMES = {"United States", "United States of America"}
KW_PER_MW = 1000.0
CLUSTER_BASIS = "gpu_clusters"
DC_BASIS = "data_centers"
#: The article's claim the intensities are set beside: 175 MW for 50,000 H100 (3.5 kW each).
ARTICLE_MW, ARTICLE_GPUS = 175.0, 50_000

INTENSITY_COLUMNS = {
    "site": ("string", "", "Cluster or data-center name (Chinese clusters are anonymised)"),
    "basis": ("string", "", "gpu_clusters | data_centers"),
    "power_kind": (
        "string",
        "",
        "facility (reported) | facility (Epoch calculated) | IT (data center, current)",
    ),
    "country": ("string", "", "Country as Epoch names it"),
    "country_group": ("string", "", "China | United States | Rest of world | Unknown"),
    "chip_types": ("string", "", "Chip types (empty for anonymised Chinese clusters)"),
    "chip_family": ("string", "", "Designer family of the chips (Ascend, Blackwell, ...)"),
    "status": ("string", "", "Existing | Planned | Decommissioned (clusters); current (sites)"),
    "h100e": ("double", "H100e", "Size in H100-equivalents"),
    "power_mw": ("double", "MW", "Power the ratio uses"),
    "kw_per_h100e": ("double", "kW/H100e", "power_mw x 1000 / h100e"),
    "standard_analysis": ("boolean", "", "Epoch includes the cluster in its standard analysis"),
    "row_links": ("string", "", "The row's own source links"),
    "source": ("string", "", "Epoch AI citation"),
    "source_url": ("string", "", "Official URL of the file"),
    "published": ("string", "", "Snapshot date"),
    "kind": ("string", "", "estimate"),
    "note": ("string", "", "Caveats"),
}
STOCK_COLUMNS = {
    "quarter_end": ("timestamp", "", "Last day of the quarter"),
    "quarter": ("string", "", "YYYYQn"),
    "country_group": ("string", "", "China | United States | Rest of world | Unknown"),
    "basis": ("string", "", "gpu_clusters (operational clusters) | data_centers (timelines)"),
    "h100e": ("double", "H100e", "Operational H100-equivalents at the quarter end"),
    "sites": ("int64", "sites", "Clusters or data centers counted"),
    "source": ("string", "", "Epoch AI citation"),
    "source_url": ("string", "", "Official URL of the file"),
    "published": ("string", "", "Snapshot date"),
    "kind": ("string", "", "estimate"),
    "note": ("string", "", "Coverage and caveats"),
}
_FAMILIES = (
    ("Ascend", "Huawei Ascend"),
    ("B200", "NVIDIA Blackwell"),
    ("B300", "NVIDIA Blackwell"),
    ("GB200", "NVIDIA Blackwell"),
    ("GB300", "NVIDIA Blackwell"),
    ("H100", "NVIDIA Hopper"),
    ("H200", "NVIDIA Hopper"),
    ("H800", "NVIDIA Hopper"),
    ("H20", "NVIDIA Hopper"),
    ("A100", "NVIDIA Ampere"),
    ("A800", "NVIDIA Ampere"),
    ("TPU", "Google TPU"),
    ("Trainium", "Amazon Trainium"),
    ("MI3", "AMD Instinct"),
)


def typed(df: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """The frame with exactly the declared columns, in order, with their pandas types."""
    pandas_type = {"double": "float64", "timestamp": "datetime64[ns]"}
    return df.reindex(columns=list(columns)).astype(
        {k: pandas_type.get(t, t) for k, (t, _, _) in columns.items()}
    )


def country_group(country: pd.Series) -> pd.Series:
    """China, United States, Rest of world, or Unknown where Epoch gives no country."""
    c = country.fillna("").astype(str).str.strip()
    return pd.Series(
        np.select([c == "China", c.isin(_US_NAMES), c == ""], [CHINA, US, UNKNOWN], ROW),
        index=country.index,
    )


def chip_family(chip_types: pd.Series) -> pd.Series:
    """The chip family of a site's chip types (first family named; 'mixed' when families differ;
    'unknown' when no chip type is given)."""

    def one(text: object) -> str:
        if not isinstance(text, str) or not text.strip():
            return "unknown"
        found = {fam for token, fam in _FAMILIES if token.lower() in text.lower()}
        return found.pop() if len(found) == 1 else ("mixed" if found else "other")

    return chip_types.map(one).astype("string")


def cluster_power_intensity(clusters: pd.DataFrame, centers: pd.DataFrame) -> pd.DataFrame:
    """kW per H100e of every cluster with a power figure (facility power: reported, else Epoch's
    calculation) and every data center with current IT power, by country and chip."""
    c = clusters[(clusters["h100e"] > 0) & clusters["power_mw"].notna()].copy()
    reported = c["power_reported_mw"].notna()
    c["power_kind"] = np.where(reported, "facility (reported)", "facility (Epoch calculated)")
    c["power_mw"] = c["power_reported_mw"].where(reported, c["power_mw"])
    c["site"] = c["name"]
    c["basis"] = CLUSTER_BASIS
    c["chip_types"] = c["chip_type_primary"].fillna("")
    c["note"] = np.where(
        c["supplier_primary"] == "Anonymized",
        "anonymised Chinese cluster: chip type not published",
        "",
    )
    d = centers[(centers["h100e_current"] > 0) & (centers["it_power_mw_current"] > 0)].copy()
    d["site"] = d["name"]
    d["basis"] = DC_BASIS
    d["power_kind"] = "IT (data center, current)"
    d["power_mw"] = d["it_power_mw_current"]
    d["h100e"] = d["h100e_current"]
    d["chip_types"] = d["chip_types_current"].fillna("")
    d["status"] = "current"
    d["standard_analysis"] = pd.NA
    d["note"] = "IT power excludes cooling and facility overhead (PUE)"
    out = pd.concat([c, d], ignore_index=True)
    out["country_group"] = country_group(out["country"])
    out["chip_family"] = chip_family(out["chip_types"])
    out["kw_per_h100e"] = out["power_mw"] * KW_PER_MW / out["h100e"]
    out["kind"] = "estimate"
    return typed(out, INTENSITY_COLUMNS).sort_values(
        ["basis", "country_group", "site"], ignore_index=True
    )


def intensity_summary(intensity: pd.DataFrame) -> pd.DataFrame:
    """Median, quartiles and count of kW per H100e by basis, power kind, country group and chip
    family (existing clusters and current data centers only)."""
    live = intensity[intensity["status"].isin(["Existing", "current"])]
    grouped = live.groupby(["basis", "power_kind", "country_group", "chip_family"])["kw_per_h100e"]
    out = grouped.agg(
        sites="size",
        median_kw_per_h100e="median",
        p25_kw_per_h100e=lambda s: s.quantile(0.25),
        p75_kw_per_h100e=lambda s: s.quantile(0.75),
    ).reset_index()
    return out


def article_kw_per_h100e() -> float:
    """The article's 175 MW for 50,000 H100 as kW per GPU (3.5)."""
    return ARTICLE_MW * KW_PER_MW / ARTICLE_GPUS


def _quarter_ends(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq="QE").normalize()


def compute_stock(
    clusters: pd.DataFrame, timelines: pd.DataFrame, snapshot_date: pd.Timestamp
) -> pd.DataFrame:
    """Operational H100e at each quarter end by country group, on two bases side by side (never
    added: the same site can be in both): clusters in Epoch's standard analysis operational by the
    quarter end and not yet decommissioned; data-center timelines at their last step on or before
    the quarter end. Quarters after ``snapshot_date`` (Epoch's projections) are left out."""
    snapshot_date = pd.Timestamp(snapshot_date)
    rows = []
    c = clusters[
        clusters["standard_analysis"].fillna(False).astype(bool)
        & clusters["first_operational"].notna()
        & (clusters["h100e"] > 0)
    ].copy()
    c["country_group"] = country_group(c["country"])
    ends = _quarter_ends(pd.Timestamp("2017-01-01"), snapshot_date)
    first_op = c["first_operational"].to_numpy()
    decom = c["decommissioned"].fillna(pd.Timestamp.max.normalize()).to_numpy()
    for end in ends:
        live = c[(first_op <= end.to_datetime64()) & (decom > end.to_datetime64())]
        for group, g in live.groupby("country_group"):
            rows.append(
                {
                    "quarter_end": end,
                    "country_group": group,
                    "basis": CLUSTER_BASIS,
                    "h100e": float(g["h100e"].sum()),
                    "sites": len(g),
                }
            )
    t = timelines[timelines["date"] <= snapshot_date].copy()
    t = t[t["h100e"].notna()]
    t["country_group"] = country_group(t["country"])
    t = t.sort_values(["data_center", "date"])
    for end in _quarter_ends(t["date"].min(), snapshot_date) if len(t) else []:
        last = t[t["date"] <= end].groupby("data_center").tail(1)
        last = last[last["h100e"] > 0]
        for group, g in last.groupby("country_group"):
            rows.append(
                {
                    "quarter_end": end,
                    "country_group": group,
                    "basis": DC_BASIS,
                    "h100e": float(g["h100e"].sum()),
                    "sites": len(g),
                }
            )
    out = pd.DataFrame(rows, columns=["quarter_end", "country_group", "basis", "h100e", "sites"])
    out["quarter"] = (
        out["quarter_end"].dt.year.astype(str) + "Q" + out["quarter_end"].dt.quarter.astype(str)
    )
    out["kind"] = "estimate"
    out["note"] = np.where(
        out["basis"] == CLUSTER_BASIS,
        "clusters Epoch includes in its standard analysis; Chinese clusters are anonymised "
        "(no chip type); stops at the newest first-operational date in the file",
        "Epoch's frontier data centers (few Chinese sites); projections after the snapshot left out",
    )
    return out
