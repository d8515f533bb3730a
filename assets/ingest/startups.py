"""Model startups (companies and their dated events) and counts of Chinese models over time."""

from __future__ import annotations

import pandas as pd

from assets.ingest.factory import Check, SourceSpec
from assets.ingest.schema import PRECISIONS, Column, SourceSchema

STATUSES = ("active", "ipo", "acquired", "acquihired", "pivoted", "shutdown")
EVENT_TYPES = (
    "founded",
    "funding",
    "pivot",
    "acquisition",
    "acquihire",
    "shutdown",
    "ipo",
    "layoffs",
    "other",
)

STARTUPS = SourceSchema(
    asset="startups",
    file="startups.csv",
    description="Foundation-model startups: founding, country, funding and current status.",
    columns=(
        Column("company_id", "str", "Unique company id (slug)", required=True),
        Column("name", "str", "Company name", required=True),
        Column("country", "str", "Country code of headquarters", required=True),
        Column(
            "founded",
            "date",
            "Founding date (first day of the period for partial dates)",
            past=True,
        ),
        Column(
            "founded_precision", "str", "Precision of `founded`", required=True, choices=PRECISIONS
        ),
        Column("headquarters", "str", "City of headquarters"),
        Column("focus", "str", "What the company builds"),
        Column("is_foundation_model", "bool", "Trains its own foundation models", required=True),
        Column(
            "total_funding_usd",
            "float",
            "Total private funding raised",
            unit="USD",
            min=0,
            max=1e12,
        ),
        Column("status", "str", "Current status", required=True, choices=STATUSES),
        Column("status_date", "date", "Date the current status began", past=True),
        Column(
            "last_seen_active",
            "date",
            "Latest date a source shows the company operating",
            past=True,
        ),
    ),
    key=("company_id",),
)

STARTUP_EVENTS = SourceSchema(
    asset="startup_events",
    file="startup_events.csv",
    description="Dated company events: founding, funding rounds, pivots, acquisitions, shutdowns, IPOs.",
    columns=(
        Column("event_id", "str", "Unique event id", required=True),
        Column("company_id", "str", "Company id (see startups)", required=True),
        Column("date", "date", "Event date (first day of the period for partial dates)", past=True),
        Column("date_precision", "str", "Precision of `date`", required=True, choices=PRECISIONS),
        Column("event_type", "str", "Kind of event", required=True, choices=EVENT_TYPES),
        Column("amount_usd", "float", "Amount raised or paid", unit="USD", min=0, max=1e12),
        Column("counterparty", "str", "Investor lead, acquirer or partner"),
    ),
    key=("event_id",),
)

MODEL_COUNTS = SourceSchema(
    asset="model_counts",
    file="model_counts.csv",
    description="Counts of Chinese large models and registered generative-AI services over time.",
    columns=(
        Column("count_id", "str", "Unique id", required=True),
        Column("date", "date", "Date of the count", required=True),
        Column("date_precision", "str", "Precision of `date`", required=True, choices=PRECISIONS),
        Column("metric", "str", "What is counted", required=True),
        Column("value", "float", "The count", unit="count", required=True, min=0, max=1e6),
        Column("unit", "str", "models | services | ...", required=True),
        Column("scope", "str", "Population counted"),
    ),
    key=("count_id",),
)


def unknown_companies(events: pd.DataFrame, startups: pd.DataFrame) -> list[str]:
    """Company ids named by events but missing from startups.csv."""
    return sorted(set(events["company_id"]) - set(startups["company_id"]))


def events_name_known_companies(
    startup_events: pd.DataFrame, startups: pd.DataFrame
) -> tuple[bool, str, dict]:
    """Every event names a company in startups.csv (survival analysis joins on it)."""
    unknown = unknown_companies(startup_events, startups)
    return (
        not unknown,
        f"{len(unknown)} event company id(s) not in startups.csv",
        {"unknown": ", ".join(unknown)},
    )


STARTUPS_SPEC = SourceSpec(STARTUPS)
STARTUP_EVENTS_SPEC = SourceSpec(
    STARTUP_EVENTS,
    checks=(
        Check(
            "events_name_known_companies",
            "Every event names a company in startups.csv (survival analysis joins on it).",
            events_name_known_companies,
            needs=("startups",),
        ),
    ),
)
MODEL_COUNTS_SPEC = SourceSpec(MODEL_COUNTS)
