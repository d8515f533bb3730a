"""The verdict of one claim (consistent, contradicted or open) with the number and rows behind it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

CONSISTENT = "consistent"
CONTRADICTED = "contradicted"
OPEN = "open"
VERDICTS = (CONSISTENT, CONTRADICTED, OPEN)


@dataclass(frozen=True)
class Finding:
    """What the pipeline's data says about one claim: its own value (and range), the tolerance
    used, the verdict, the rows and sources behind it, and a probability for open predictions."""

    verdict: str
    reason: str
    rule: str
    tolerance: str = ""
    evidence: str = ""
    pipeline_value: float = math.nan
    pipeline_value_low: float = math.nan
    pipeline_value_high: float = math.nan
    pipeline_unit: str = ""
    probability: float = math.nan

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict '{self.verdict}' is not one of {VERDICTS}")

    def as_dict(self) -> dict:
        """The finding as a flat dict of ledger columns."""
        return asdict(self)


def needs(asset: str, rule: str, what: str = "") -> Finding:
    """An open finding for a claim whose checking dataset is not (yet) in the pipeline."""
    extra = f" ({what})" if what else ""
    return Finding(OPEN, f"needs {asset}{extra}", rule)


def within_pct(claimed: float, value: float, tolerance_pct: float) -> bool:
    """True when ``claimed`` lies within ±``tolerance_pct`` % of ``value``."""
    if value == 0:
        return claimed == 0
    return abs(claimed - value) <= abs(value) * tolerance_pct / 100.0


def fmt(value: float) -> str:
    """A number as an analyst reads it: thousands separators, at most three significant decimals."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    value = float(value)
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def cite(frame: pd.DataFrame, id_column: str, url_column: str = "source_url") -> str:
    """``id <url>`` for each row, joined by '; ' (ids without a URL stand alone)."""
    parts = []
    for rec in frame.to_dict("records"):
        url = rec.get(url_column)
        url = "" if url is None or (isinstance(url, float) and math.isnan(url)) else str(url)
        parts.append(f"{rec[id_column]} <{url}>" if url else str(rec[id_column]))
    return "; ".join(dict.fromkeys(parts))
