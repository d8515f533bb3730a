"""What a usable upstream payload looks like: the format parses, the columns the pipeline reads are
there with their kind, and the newest date the data itself carries."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from assets.upstream.http import FetchError
from assets.upstream.registry import dataset

NUMBER = "number"
DATE = "date"
TEXT = "text"
_NUMBER_RE = re.compile(r"^[-+]?(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")

#: The columns each CSV must keep, with their kind (a renamed, missing or retyped one is drift).
REQUIRED_COLUMNS: dict[str, dict[str, str]] = {
    "epoch_ml_hardware": {
        "Hardware name": TEXT,
        "Manufacturer": TEXT,
        "Type": TEXT,
        "Release date": DATE,
        "Release price (USD)": NUMBER,
        "Tensor-FP16/BF16 performance (FLOP/s)": NUMBER,
        "FP8 performance (FLOP/s)": NUMBER,
        "INT8 performance (OP/s)": NUMBER,
        "Memory (bytes)": NUMBER,
        "Memory bandwidth (byte/s)": NUMBER,
        "TDP (W)": NUMBER,
        "Foundry": TEXT,
        "Process size (nm)": NUMBER,
        "Last modified": DATE,
    },
    "epoch_gpu_clusters": {
        "Name": TEXT,
        "Status": TEXT,
        "Certainty": TEXT,
        "H100 equivalents": NUMBER,
        "Chip type (primary)": TEXT,
        "Chip quantity (primary)": NUMBER,
        "Total number of AI chips": NUMBER,
        "GPU Supplier (primary)": TEXT,
        "Country": TEXT,
        "Owner": TEXT,
        "Sector": TEXT,
        "First Operational Date": DATE,
        "Power Capacity (MW)": NUMBER,
        "Hardware Cost": NUMBER,
        "16-bit OP/s": NUMBER,
        "Include in Standard Analysis": TEXT,
    },
    "epoch_data_centers": {
        "Name": TEXT,
        "Country": TEXT,
        "Owner": TEXT,
        "Current H100 equivalents": NUMBER,
        "Current power (MW)": NUMBER,
        "Current total capital cost (2025 USD billions)": NUMBER,
        "Current chip types": TEXT,
    },
    "epoch_data_center_timelines": {
        "Data center": TEXT,
        "Date": DATE,
        "IT power (MW)": NUMBER,
        "Power (MW)": NUMBER,
        "H100 equivalents": NUMBER,
        "Performance (8-bit OP/s)": NUMBER,
        "Total capital cost (2025 USD billions)": NUMBER,
    },
    "epoch_chip_sales_timelines": {
        "Chip manufacturer": TEXT,
        "Chip type": TEXT,
        "Chip type (linked)": TEXT,
        "Start date": DATE,
        "End date": DATE,
        "Incomplete": TEXT,
        "Number of Units": NUMBER,
        "Compute estimate in H100e (median)": NUMBER,
        "H100e (5th percentile)": NUMBER,
        "H100e (95th percentile)": NUMBER,
        "Total TDP (W)": NUMBER,
        "Cost Estimate (USD)": NUMBER,
        "Last Modified": DATE,
    },
    "epoch_chip_sales_chip_types": {
        "Name": TEXT,
        "Designer": TEXT,
        "Primarily for Chinese market": TEXT,
        "H100e": NUMBER,
        "Release date": DATE,
    },
    "epoch_chip_sales_organizations": {
        "Name": TEXT,
        "Country": TEXT,
        "Type": TEXT,
        "Chip types": TEXT,
    },
    "epoch_notable_models": {
        "Model": TEXT,
        "Organization": TEXT,
        "Country (of organization)": TEXT,
        "Publication date": DATE,
        "Parameters": NUMBER,
        "Training compute (FLOP)": NUMBER,
        "Training hardware": TEXT,
        "Hardware quantity": NUMBER,
        "Training compute cost (2023 USD)": NUMBER,
    },
}

#: The column whose newest value dates the data itself (None: the file carries no date).
DATE_COLUMN: dict[str, str | None] = {
    "epoch_ml_hardware": "Last modified",
    "epoch_gpu_clusters": "First Operational Date",
    "epoch_data_centers": None,
    "epoch_data_center_timelines": "Date",
    "epoch_chip_sales_timelines": "End date",
    "epoch_chip_sales_chip_types": "Release date",
    "epoch_chip_sales_organizations": None,
    "epoch_notable_models": "Publication date",
}
#: A declared column is retyped when more than this share of its non-empty values fail its kind.
RETYPED_SHARE = 0.5


@dataclass(frozen=True)
class PayloadSummary:
    """What a checked payload holds: record count, columns, and the newest date inside it."""

    records: int
    columns: tuple[str, ...]
    newest_date: date | None


def _fits(value: str, kind: str) -> bool:
    if kind == NUMBER:
        return bool(_NUMBER_RE.match(value))
    if kind == DATE:
        return bool(_DATE_RE.match(value))
    return True


def check_csv(dataset_id: str, url: str, payload: bytes, today: date) -> PayloadSummary:
    """Parses a CSV payload and checks its declared columns; FetchError naming the column if not."""
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FetchError(dataset_id, url, f"not UTF-8 text at byte {exc.start}") from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        rows = list(reader)
    except csv.Error as exc:
        raise FetchError(
            dataset_id, url, f"not valid CSV at line {reader.line_num}: {exc}"
        ) from exc
    if not header:
        raise FetchError(dataset_id, url, "empty file: no header row")
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise FetchError(
                dataset_id,
                url,
                f"record {number} has {len(row)} fields, the header {len(header)} "
                "(a truncated or malformed file)",
            )
    required = REQUIRED_COLUMNS.get(dataset_id, {})
    missing = [name for name in required if name not in header]
    if missing:
        details = []
        for name in missing:
            near = [h for h in header if h not in required and _similar(name, h)]
            hint = f" (renamed to '{near[0]}'?)" if near else ""
            details.append(f"column '{name}' missing{hint}")
        raise FetchError(dataset_id, url, "schema drift: " + "; ".join(details))
    for name, kind in required.items():
        if kind == TEXT:
            continue
        index = header.index(name)
        values = [
            (n, row[index].strip()) for n, row in enumerate(rows, start=2) if row[index].strip()
        ]
        bad = [(n, v) for n, v in values if not _fits(v, kind)]
        if values and len(bad) > RETYPED_SHARE * len(values):
            line, value = bad[0]
            raise FetchError(
                dataset_id,
                url,
                f"schema drift: column '{name}' retyped: {len(bad)} of {len(values)} values are "
                f"not a {kind} (first: record {line}, {value[:40]!r})",
            )
    newest = None
    column = DATE_COLUMN.get(dataset_id)
    if column is not None and column in header:
        index = header.index(column)
        dates = [
            date.fromisoformat(row[index].strip()[:10])
            for row in rows
            if _DATE_RE.match(row[index].strip())
        ]
        past = [d for d in dates if d <= today]
        newest = max(past) if past else None
    return PayloadSummary(len(rows), tuple(header), newest)


def _similar(a: str, b: str) -> bool:
    """Whether two column names share their first word (a hint for renamed columns)."""
    first_a = re.split(r"\W+", a.casefold().strip())[0]
    first_b = re.split(r"\W+", b.casefold().strip())[0]
    return bool(first_a) and first_a == first_b


def check_json(dataset_id: str, url: str, payload: bytes) -> PayloadSummary:
    """Parses a JSON payload and checks the structure the pipeline reads."""
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FetchError(dataset_id, url, f"not valid JSON: {exc}") from exc
    if dataset_id == "litellm_prices":
        if not isinstance(document, dict):
            raise FetchError(dataset_id, url, "expected a JSON object keyed by model id")
        entries = [v for k, v in document.items() if k != "sample_spec"]
        priced = [v for v in entries if isinstance(v, dict) and "input_cost_per_token" in v]
        if not priced:
            raise FetchError(dataset_id, url, "schema drift: no entry has 'input_cost_per_token'")
        wrong = [v for v in priced if not isinstance(v["input_cost_per_token"], int | float)]
        if len(wrong) > RETYPED_SHARE * len(priced):
            raise FetchError(
                dataset_id, url, "schema drift: 'input_cost_per_token' retyped (not numbers)"
            )
        return PayloadSummary(len(document), ("input_cost_per_token",), None)
    if dataset_id == "openrouter_models":
        models = document.get("data") if isinstance(document, dict) else None
        if not isinstance(models, list):
            raise FetchError(dataset_id, url, "schema drift: no 'data' list of models")
        for field in ("id", "created", "pricing"):
            if models and not any(isinstance(m, dict) and field in m for m in models):
                raise FetchError(dataset_id, url, f"schema drift: field '{field}' missing")
        created = [m["created"] for m in models if isinstance(m.get("created"), int | float)]
        newest = datetime.fromtimestamp(max(created), tz=UTC).date() if created else None
        return PayloadSummary(len(models), ("id", "created", "pricing"), newest)
    return PayloadSummary(len(document) if hasattr(document, "__len__") else 1, (), None)


def check_payload(dataset_id: str, url: str, payload: bytes, today: date) -> PayloadSummary:
    """Checks a payload against its dataset's expected format and columns."""
    if dataset(dataset_id).format == "csv":
        return check_csv(dataset_id, url, payload, today)
    return check_json(dataset_id, url, payload)
