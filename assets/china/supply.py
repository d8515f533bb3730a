"""China's accelerator supply from Epoch AI's chip sales: H100e sold into China per year by designer,
and the domestic share of it with Epoch's 5th-95th percentile range carried through."""

from __future__ import annotations

import pandas as pd

CHINA = "China"
DOMESTIC = "domestic"
FOREIGN = "foreign_china_market"
QUARTERS_PER_YEAR = 4
INTERVAL_NOTE = (
    "low/high are sums of Epoch's per-row 5th/95th percentiles (exact if the rows' errors move "
    "together, wider than a 90% interval if they are independent)"
)
SCOPE_NOTE = (
    "counts only chip types Epoch flags as made primarily for the Chinese market (domestic "
    "designs and NVIDIA/AMD export variants); other foreign chips reaching China are not in it"
)
SUPPLY_COLUMNS = {
    "year": ("int64", "year", "Calendar year"),
    "designer": ("string", "", "Chip designer (Epoch's name)"),
    "designer_country": ("string", "", "Country of the designer (Epoch's organizations table)"),
    "segment": ("string", "", "domestic (Chinese designer) | foreign_china_market"),
    "chip_types": ("string", "", "Chip types summed, comma-separated"),
    "quarters": ("int64", "quarters", "Complete quarters with sales rows"),
    "units": ("double", "chips", "Units sold (median)"),
    "h100e": ("double", "H100e", "H100-equivalents sold (median)"),
    "h100e_low": ("double", "H100e", "Sum of Epoch's 5th percentiles"),
    "h100e_high": ("double", "H100e", "Sum of Epoch's 95th percentiles"),
    "excluded_incomplete": ("string", "", "Quarters Epoch flags incomplete, left out of the sum"),
    "epoch_note": ("string", "", "Epoch's own notes on the rows (methodology, caveats)"),
    "source": ("string", "", "Epoch AI citation"),
    "source_url": ("string", "", "Official URL of the chip-sales file"),
    "published": ("string", "", "Snapshot date"),
    "kind": ("string", "", "estimate"),
    "note": ("string", "", "Caveats"),
}
SHARE_COLUMNS = {
    "year": ("int64", "year", "Calendar year"),
    "domestic_share_pct": ("double", "%", "Domestic share of H100e sold into China (median)"),
    "domestic_share_pct_low": (
        "double",
        "%",
        "Low end: domestic low over domestic low + foreign high",
    ),
    "domestic_share_pct_high": (
        "double",
        "%",
        "High end: domestic high over domestic high + foreign low",
    ),
    "domestic_h100e": ("double", "H100e", "Domestic H100e sold (median)"),
    "domestic_h100e_low": ("double", "H100e", "Domestic H100e, sum of 5th percentiles"),
    "domestic_h100e_high": ("double", "H100e", "Domestic H100e, sum of 95th percentiles"),
    "foreign_h100e": ("double", "H100e", "NVIDIA/AMD China-market H100e sold (median)"),
    "total_h100e": ("double", "H100e", "Domestic + foreign China-market H100e (median)"),
    "quarters": ("int64", "quarters", "Complete quarters in the year"),
    "basis": ("string", "", "What the share is a share of"),
    "source": ("string", "", "Epoch AI citation"),
    "source_url": ("string", "", "Official URL of the chip-sales file"),
    "published": ("string", "", "Snapshot date"),
    "kind": ("string", "", "estimate"),
    "note": ("string", "", "Caveats, excluded quarters"),
}


def _typed(df: pd.DataFrame, columns: dict) -> pd.DataFrame:
    types = {k: {"double": "float64"}.get(t, t) for k, (t, _, _) in columns.items()}
    return df.reindex(columns=list(columns)).astype(types)


def _quarter(start: pd.Series) -> pd.Series:
    return start.dt.year.astype(str) + "Q" + start.dt.quarter.astype(str)


def china_sales(
    sales: pd.DataFrame, chip_types: pd.DataFrame, organizations: pd.DataFrame
) -> pd.DataFrame:
    """The chip-sales rows of chip types made primarily for the Chinese market, with designer,
    designer country, segment and quarter."""
    types = chip_types[["name", "designer", "china_market"]].rename(columns={"name": "chip_type"})
    rows = sales.merge(types, on="chip_type", how="left", validate="many_to_one")
    rows = rows[rows["china_market"].fillna(False).astype(bool)].copy()
    rows["designer"] = rows["designer"].fillna(rows["manufacturer"])
    country = organizations.set_index("name")["country"]
    rows["designer_country"] = rows["designer"].map(country).fillna("unknown")
    rows["segment"] = rows["designer_country"].map(lambda c: DOMESTIC if c == CHINA else FOREIGN)
    rows["quarter"] = _quarter(rows["start_date"])
    rows["year"] = rows["start_date"].dt.year
    return rows


def _epoch_notes(notes: pd.Series) -> str:
    """Epoch's distinct row notes, without the bare 'Estimates generated on' stamps."""
    kept = {str(n) for n in notes.dropna() if not str(n).startswith("Estimates generated")}
    return " | ".join(sorted(kept))


def china_chip_supply(
    sales: pd.DataFrame, chip_types: pd.DataFrame, organizations: pd.DataFrame
) -> pd.DataFrame:
    """H100e sold into China per calendar year and designer (complete quarters only), with
    Epoch's percentiles summed; incomplete quarters are named in ``excluded_incomplete``."""
    rows = china_sales(sales, chip_types, organizations)
    incomplete = rows["incomplete"].fillna(False).astype(bool)
    excluded = (
        rows[incomplete]
        .groupby(["year", "designer"])["quarter"]
        .agg(lambda q: ",".join(sorted(set(q))))
    )
    done = rows[~incomplete]
    grouped = done.groupby(["year", "designer", "designer_country", "segment"], as_index=False).agg(
        chip_types=("chip_type", lambda c: ",".join(sorted(set(c)))),
        quarters=("quarter", "nunique"),
        units=("units", "sum"),
        h100e=("h100e", "sum"),
        h100e_low=("h100e_p5", "sum"),
        h100e_high=("h100e_p95", "sum"),
        epoch_note=("epoch_note", _epoch_notes),
    )
    grouped["excluded_incomplete"] = [
        excluded.get((y, d), "") for y, d in zip(grouped["year"], grouped["designer"], strict=True)
    ]
    first = sales.iloc[0] if len(sales) else None
    grouped["source"] = first["source"] if first is not None else ""
    grouped["source_url"] = first["source_url"] if first is not None else ""
    grouped["published"] = first["published"] if first is not None else ""
    grouped["kind"] = "estimate"
    grouped["note"] = f"{INTERVAL_NOTE}; {SCOPE_NOTE}"
    return _typed(grouped, SUPPLY_COLUMNS).sort_values(
        ["year", "segment", "designer"], ignore_index=True
    )


def domestic_share_observed(supply: pd.DataFrame, sales: pd.DataFrame) -> pd.DataFrame:
    """Domestic share of H100e sold into China per calendar year, for years with four complete
    quarters of domestic sales rows; the years left out are named in every row's note."""
    all_quarters = sales.assign(
        quarter=_quarter(sales["start_date"]), year=sales["start_date"].dt.year
    )
    complete = all_quarters[~all_quarters["incomplete"].fillna(False).astype(bool)]
    quarters_in_year = complete.groupby("year")["quarter"].nunique()
    dom = supply[supply["segment"] == DOMESTIC].groupby("year")
    foreign = supply[supply["segment"] == FOREIGN].groupby("year")
    years = sorted(set(all_quarters["year"]))
    rows, skipped = [], []
    for year in years:
        dq = int(dom.get_group(year)["quarters"].max()) if year in dom.groups else 0
        if dq < QUARTERS_PER_YEAR or quarters_in_year.get(year, 0) < QUARTERS_PER_YEAR:
            skipped.append(f"{year} ({dq} complete quarter(s) with domestic sales rows)")
            continue
        d = dom.get_group(year)
        f = foreign.get_group(year) if year in foreign.groups else supply.iloc[0:0]
        d_mid, d_lo, d_hi = (float(d[c].sum()) for c in ("h100e", "h100e_low", "h100e_high"))
        f_mid, f_lo, f_hi = (float(f[c].sum()) for c in ("h100e", "h100e_low", "h100e_high"))
        rows.append(
            {
                "year": year,
                "domestic_share_pct": 100 * d_mid / (d_mid + f_mid),
                "domestic_share_pct_low": 100 * d_lo / (d_lo + f_hi),
                "domestic_share_pct_high": 100 * d_hi / (d_hi + f_lo),
                "domestic_h100e": d_mid,
                "domestic_h100e_low": d_lo,
                "domestic_h100e_high": d_hi,
                "foreign_h100e": f_mid,
                "total_h100e": d_mid + f_mid,
                "quarters": QUARTERS_PER_YEAR,
                "designers": ", ".join(sorted(d["designer"]))
                + " vs "
                + (", ".join(sorted(f["designer"])) or "none"),
                "excluded": "; ".join(
                    x for x in (*d["excluded_incomplete"], *f["excluded_incomplete"]) if x
                ),
                "epoch_note": " | ".join(x for x in d["epoch_note"] if x),
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return _typed(out, SHARE_COLUMNS)
    ref = supply.iloc[0]
    out["basis"] = (
        "H100-equivalents sold into China (Epoch AI chip sales), domestic designers ("
        + out["designers"]
        + "), complete quarters only"
    )
    out["source"], out["source_url"], out["published"] = (
        ref["source"],
        ref["source_url"],
        ref["published"],
    )
    out["kind"] = "estimate"
    skipped_text = "years left out: " + ", ".join(skipped) if skipped else ""
    out["note"] = [
        "; ".join(
            x
            for x in (
                INTERVAL_NOTE,
                SCOPE_NOTE,
                f"incomplete quarters excluded: {e}" if e else "",
                skipped_text,
                f"Epoch's notes on the domestic rows: {n}" if n else "",
            )
            if x
        )
        for e, n in zip(out["excluded"], out["epoch_note"], strict=True)
    ]
    return _typed(out, SHARE_COLUMNS)
