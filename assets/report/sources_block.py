"""The report's source lines: each source's as-of date (with a warning where its newest observation
is older than six months) and the attribution its licence requires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from upath import UPath

from assets.upstream.registry import DATASETS, EPOCH_LICENCE_URL
from pipelines import settings

#: A series whose newest observation is older than this is flagged in the report header.
STALE_AFTER = timedelta(days=183)
#: Observation-date column of each clean table that is a dated series.
SERIES_DATE_COLUMNS = {
    "api_prices": "effective_date",
    "gpu_rental_prices": "date",
    "chip_prices": "date",
    "power_observations": "date",
    "model_counts": "date",
    "startup_events": "date",
    "price_decline_estimates": "period_end",
    "fx_rates": "date",
    "china_chip_share": "year",
}


@dataclass(frozen=True)
class AsOf:
    """One source's newest observation (None when it carries no date) and where it comes from."""

    source: str
    newest: date | None
    detail: str
    #: When the copy in use was retrieved (an undated catalog is current as of this day).
    snapshot: date | None = None


def is_stale(newest: date | None, today: date) -> bool:
    """Whether a series' newest observation is older than STALE_AFTER."""
    return newest is not None and today - newest > STALE_AFTER


def clean_series_as_of(today: date) -> list[AsOf]:
    """The newest observation (not after today) of each dated clean table in the warehouse."""
    out = []
    for table, column in SERIES_DATE_COLUMNS.items():
        path = UPath(settings.layer_dir("clean")) / f"{table}.parquet"
        if not path.exists():
            continue
        values = pd.read_parquet(path, columns=[column])[column].dropna()
        if column == "year":
            dates = pd.to_datetime(values.astype("int64").astype(str) + "-12-31")
        else:
            dates = pd.to_datetime(values)
        dates = dates[dates.dt.date <= today]
        newest = dates.max().date() if len(dates) else None
        out.append(AsOf(table, newest, f"`clean/{table}.parquet` ({column})"))
    return out


def upstream_as_of(latest_metadata: dict[str, dict]) -> list[AsOf]:
    """The newest date inside each upstream snapshot in use, from its raw asset's last run."""
    out = []
    for entry in DATASETS:
        meta = latest_metadata.get(entry.asset_name)
        if meta is None:
            out.append(AsOf(entry.id, None, "not fetched yet"))
            continue
        newest = meta.get("data_newest_date", "none")
        if meta.get("origin") == "shipped":
            detail = f"shipped copy retrieved {entry.snapshot_date}"
        else:
            detail = f"fetched {str(meta.get('fetched_at', ''))[:10]} from {entry.url}"
        detail += f", sha256 {str(meta.get('sha256', ''))[:12]}"
        retrieved = (
            entry.snapshot_date
            if meta.get("origin") == "shipped"
            else str(meta.get("fetched_at", ""))[:10]
        )
        out.append(
            AsOf(
                entry.id,
                None if newest == "none" else date.fromisoformat(newest),
                detail,
                _day(retrieved),
            )
        )
    return out


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _as_of(r: AsOf) -> str:
    if r.newest:
        return f"{r.source} {r.newest.isoformat()}"
    if r.snapshot:
        return f"{r.source} undated rows, retrieved {r.snapshot.isoformat()}"
    return f"{r.source} undated"


def header_lines(rows: list[AsOf], today: date) -> list[str]:
    """Header lines: every source's as-of date (an undated catalog's retrieval day), and one
    warning naming the stale series."""
    listed = ", ".join(_as_of(r) for r in rows)
    lines = [f"Sources as of (newest observation): {listed}."]
    stale = [r for r in rows if is_stale(r.newest, today)]
    if stale:
        names = ", ".join(f"{r.source} (last {r.newest.isoformat()})" for r in stale)
        lines.append(
            f"**Warning:** newest observation older than 6 months on {today.isoformat()}: {names}."
        )
    return lines


def attribution_lines(rows: list[AsOf]) -> list[str]:
    """The 'Sources and attribution' section: each upstream snapshot in use and its citation."""
    by_id = {r.source: r for r in rows}
    lines = [
        "## Sources and attribution",
        f"Epoch AI data are used under CC BY 4.0 ({EPOCH_LICENCE_URL}); LiteLLM's price catalog "
        "under the MIT licence (Copyright (c) BerriAI).",
    ]
    for entry in DATASETS:
        row = by_id.get(entry.id)
        used = f" In use: {row.detail}." if row else ""
        lines.append(f"- {entry.citation} Licence: {entry.licence}.{used}")
    return lines


def with_sources(report: str, rows: list[AsOf], upstream: list[AsOf], today: date) -> str:
    """The report with the as-of lines after its first paragraph and the attribution at the end."""
    head, sep, rest = report.partition("\n\n## ")
    block = "\n".join(header_lines(rows, today))
    body = f"{head}\n\n{block}{sep}{rest}" if sep else f"{report}\n\n{block}"
    return body.rstrip("\n") + "\n\n" + "\n".join(attribution_lines(upstream)) + "\n"
