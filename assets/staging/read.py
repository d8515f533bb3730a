"""Reads an upstream payload into a table of text cells under its published column names.

CSV files are read whole as text (quoted line breaks kept); the JSON price catalogs are flattened
to one record per model with the fields staging declares. A payload that cannot be read at all
raises DriftError naming the dataset and the reason.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from assets.staging.frame import DriftError

#: LiteLLM entry that documents the schema, not a model.
LITELLM_SCHEMA_KEY = "sample_spec"
LITELLM_FIELDS = (
    "litellm_provider",
    "mode",
    "input_cost_per_token",
    "output_cost_per_token",
    "max_input_tokens",
    "max_output_tokens",
    "deprecation_date",
)
OPENROUTER_FIELDS = ("id", "name", "created", "context_length", "prompt", "completion")


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes as 64 hex digits."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def csv_cells(path: Path, dataset: str) -> pd.DataFrame:
    """Every record of a CSV as text cells (empty string for an empty cell)."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DriftError(f"{dataset}: {path} is not a readable CSV ({err})") from None


def _text(value: object) -> str:
    return "" if value is None else str(value)


def litellm_cells(path: Path, dataset: str) -> pd.DataFrame:
    """One record per priced LiteLLM entry (``model_id`` plus the declared fields as text); entries
    with neither an input nor an output price are not models with a token price and are left out."""
    catalog = _json(path, dataset)
    if not isinstance(catalog, dict):
        raise DriftError(f"{dataset}: expected a JSON object of model entries")
    rows = []
    for model_id, entry in catalog.items():
        if model_id == LITELLM_SCHEMA_KEY or not isinstance(entry, dict):
            continue
        if "input_cost_per_token" not in entry and "output_cost_per_token" not in entry:
            continue
        rows.append({"model_id": model_id, **{f: _text(entry.get(f)) for f in LITELLM_FIELDS}})
    return pd.DataFrame(rows, columns=["model_id", *LITELLM_FIELDS])


#: OpenRouter publishes "-1" as both prices of a router entry (variable pricing).
ROUTER_PRICE = "-1"


def openrouter_cells(path: Path, dataset: str) -> pd.DataFrame:
    """One record per OpenRouter model (id, name, created date, context, prompt/completion price)."""
    payload = _json(path, dataset)
    models = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(models, list):
        raise DriftError(f"{dataset}: expected a JSON object with a 'data' list of models")
    rows = []
    for m in models:
        pricing = m.get("pricing") or {}
        if _text(pricing.get("prompt")) == ROUTER_PRICE == _text(pricing.get("completion")):
            continue  # a router (openrouter/auto ...): its price is the model it picks, not its own
        created = m.get("created")
        day = (
            datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d")
            if isinstance(created, int | float)
            else _text(created)
        )
        rows.append(
            {
                "id": _text(m.get("id")),
                "name": _text(m.get("name")),
                "created": day,
                "context_length": _text(m.get("context_length")),
                "prompt": _text(pricing.get("prompt")),
                "completion": _text(pricing.get("completion")),
            }
        )
    return pd.DataFrame(rows, columns=list(OPENROUTER_FIELDS))


def _json(path: Path, dataset: str) -> object:
    try:
        return json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DriftError(f"{dataset}: {path} is not valid JSON ({err})") from None
