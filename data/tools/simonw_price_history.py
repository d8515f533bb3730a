"""Dated list-price rows for ``data/sources/api_prices.csv`` from the git history of
``simonw/llm-prices`` (Simon Willison's LLM price data).

Why: the repository's newest files (``data/<vendor>.json``) give each price period a ``from_date``
only when a price changed on a known day; a model's launch price usually has ``from_date`` null, so
a single snapshot leaves most prices undated. The repository's history dates them: every commit is
a dated record of the prices the site listed that day. A price first recorded at commit ``C`` on
day ``D`` was in effect by ``D`` (its start is not recorded), which is a documented, dated
observation rather than a guess.

What: the script walks every commit up to ``--until`` (oldest first), reads the prices of that
commit (``data/<vendor>.json`` once it exists; before, the ``presets`` object in ``index.html``),
and keeps, for each model id and each distinct (input, output) price, the first commit at which
that price was the model's current price (a period is current on the commit's day when it started
on or before it, or has no ``from_date``, and has not ended). It then writes one row per price
period of the ``--until`` snapshot, in file order, with the ids ``LP0001``... it always had:

* a period with a ``from_date`` keeps that date (the source states it);
* a period without one takes the day of the first commit that recorded its price, when that commit
  is before the period's ``to_date``; the row's ``source_url`` pins the file at that commit;
* otherwise it stays undated (``date_precision`` ``unknown``), never dated by guess.

Prices the history recorded but the ``--until`` snapshot no longer lists (a price later cut, a
model id later renamed or removed) follow as new rows ``LP<n>`` numbered on from the snapshot's
last period, oldest commit first. A price that comes back after a change is not a new distinct
price and is not repeated. Mistral's rows are left out (the schema admits US and CN providers
only), as are files that do not parse at a commit (the next commit that parses records them).

Run: ``python data/tools/simonw_price_history.py --repo <git dir of simonw/llm-prices>``; it
rewrites the ``LP`` rows of the CSV in place (other rows untouched) and prints counts.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_URL = "https://github.com/simonw/llm-prices"
#: Newest commit read by default: the snapshot the ``LP`` rows were first made from.
DEFAULT_UNTIL = "723ef0bd3a6254436e9fe8d7f05d4d787e99f4c5"
ID_PREFIX = "LP"
SOURCE = "simonw/llm-prices (Simon Willison; no licence file in the repository)"
#: Vendor file stem -> (provider, region); vendors not listed (Mistral) are left out.
PROVIDERS = {
    "openai": ("OpenAI", "US"),
    "anthropic": ("Anthropic", "US"),
    "google": ("Google", "US"),
    "meta-ai": ("Meta (Llama API)", "US"),
    "amazon": ("Amazon", "US"),
    "xai": ("xAI", "US"),
    "deepseek": ("DeepSeek", "CN"),
    "qwen": ("Alibaba Cloud", "CN"),
    "moonshot-ai": ("Moonshot AI", "CN"),
    "minimax": ("MiniMax", "CN"),
}
#: Vendor of an ``index.html`` model id that no ``data/<vendor>.json`` ever lists, by id prefix.
HTML_PREFIX_VENDOR = (
    ("gemini", "google"),
    ("claude", "anthropic"),
    ("gpt", "openai"),
    ("chatgpt", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("amazon", "amazon"),
    ("grok", "xai"),
    ("deepseek", "deepseek"),
)
#: Ids the repository added as past prices, not prices in effect when recorded: never dated by
#: commit (the reason goes in the row's note).
NOT_CURRENT_WHEN_RECORDED = {
    "text-davinci-003": (
        "Not dated by commit: the repository added it as a historic price (commit e99b335f "
        "'GPT-3 Text Davinci 003, refs #33'; https://github.com/simonw/llm-prices/issues/33 "
        "'Add historic prices for the GPT-3 models'), not a price in effect when recorded."
    ),
}
EVENT_UNDATED = "list price in effect (start date not recorded by the source)"
EVENT_CHANGE = "list price change"
EVENT_LAUNCH = "launch price"
COLUMNS = (
    "price_id",
    "model",
    "provider",
    "region",
    "tier",
    "effective_date",
    "date_precision",
    "input_price_per_mtok",
    "output_price_per_mtok",
    "currency",
    "price_basis",
    "event",
    "source",
    "source_url",
    "published",
    "kind",
    "quote",
    "confidence",
    "note",
)


@dataclass(frozen=True)
class Period:
    """One price period of one model as a commit lists it."""

    input: float | int | None
    output: float | int | None
    from_date: str | None = None
    to_date: str | None = None

    @property
    def price(self) -> tuple[float | None, float | None]:
        return (_num(self.input), _num(self.output))

    def current_on(self, day: str) -> bool:
        """In effect on ``day``: started on or before it (or no start stated), not yet ended
        (``to_date`` is exclusive)."""
        return (self.from_date is None or self.from_date <= day) and (
            self.to_date is None or self.to_date > day
        )


@dataclass(frozen=True)
class Model:
    vendor: str | None
    id: str
    name: str
    path: str
    periods: tuple[Period, ...]


@dataclass
class Commit:
    sha: str
    day: str
    subject: str
    models: list[Model] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def _num(x: object) -> float | None:
    return None if x is None else round(float(x), 9)


def _text(x: object) -> str:
    return "" if x is None else str(x)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


# --- reading one commit --------------------------------------------------------------------------

_PRESETS = re.compile(r"const presets = \{(.*?)\n\s*\};", re.S)
_ENTRY = re.compile(r"^\s*'([^']+)':\s*\{", re.M)
_SIMPLE = re.compile(
    r"\{\s*name:\s*'([^']*)',\s*input:\s*([0-9.]+),\s*output:\s*([0-9.]+)\s*\}", re.S
)
_SCHEDULED = re.compile(
    r"\{\s*name:\s*'([^']*)',\s*getPrice:.*?new Date\('(\d{4}-\d{2}-\d{2})[^']*'\)"
    r".*?currentDate < cutoffDate.*?return \{\s*input:\s*([0-9.]+),\s*output:\s*([0-9.]+)\s*\}"
    r".*?return \{\s*input:\s*([0-9.]+),\s*output:\s*([0-9.]+)\s*\}",
    re.S,
)


def _literal(text: str) -> float | int:
    """A JavaScript number as written (``10.00`` is 10, ``0.150`` is 0.15)."""
    x = float(text)
    return int(x) if x.is_integer() else x


def parse_index_html(text: str) -> list[Model]:
    """Models of the ``presets`` object of ``index.html`` (the layout before ``data/``): plain
    ``{ name, input, output }`` entries, and a scheduled change (``getPrice`` returning one price
    before a cutoff date and another after it) as two periods split at that date."""
    block = _PRESETS.search(text)
    if not block:
        raise ValueError("index.html has no `const presets = {...};` block")
    body = block.group(1)
    starts = list(_ENTRY.finditer(body))
    out = []
    for i, m in enumerate(starts):
        chunk = body[m.end() - 1 : starts[i + 1].start() if i + 1 < len(starts) else len(body)]
        if simple := _SIMPLE.match(chunk):
            name, inp, outp = simple.groups()
            periods = (Period(_literal(inp), _literal(outp)),)
        elif sched := _SCHEDULED.match(chunk):
            name, cutoff, in0, out0, in1, out1 = sched.groups()
            periods = (
                Period(_literal(in1), _literal(out1), from_date=cutoff),
                Period(_literal(in0), _literal(out0), to_date=cutoff),
            )
        else:
            raise ValueError(f"index.html entry {m.group(1)!r} has an unknown layout")
        out.append(Model(None, m.group(1), name, "index.html", periods))
    return out


def parse_vendor_json(text: str, path: str) -> list[Model]:
    """Models of one ``data/<vendor>.json`` file."""
    data = json.loads(text)
    vendor = data.get("vendor") or Path(path).stem
    return [
        Model(
            vendor,
            m["id"],
            m.get("name") or m["id"],
            path,
            tuple(
                Period(p.get("input"), p.get("output"), p.get("from_date"), p.get("to_date"))
                for p in m.get("price_history", [])
            ),
        )
        for m in data["models"]
    ]


def _vendor_file_order(path: str) -> tuple[int, str]:
    """Vendor files in the order of ``PROVIDERS`` (the order the rows were first made in), then
    the rest by name."""
    order = list(PROVIDERS)
    stem = Path(path).stem
    return (order.index(stem) if stem in order else len(order), stem)


def read_commit(repo: Path, sha: str, day: str, subject: str) -> Commit:
    """The models a commit lists; a file that does not parse is noted and skipped."""
    commit = Commit(sha, day, subject)
    files = git(repo, "ls-tree", "-r", "--name-only", sha).split()
    vendor_files = sorted(
        (f for f in files if re.fullmatch(r"data/[^/]+\.json", f)), key=_vendor_file_order
    )
    if vendor_files:
        for f in vendor_files:
            try:
                commit.models += parse_vendor_json(git(repo, "show", f"{sha}:{f}"), f)
            except (ValueError, KeyError, TypeError) as err:
                commit.unreadable.append(f"{f}: {err}")
    elif "index.html" in files:
        try:
            commit.models += parse_index_html(git(repo, "show", f"{sha}:index.html"))
        except ValueError as err:
            commit.unreadable.append(f"index.html: {err}")
    return commit


def history(repo: Path, until: str) -> list[Commit]:
    """Every commit up to ``until``, oldest first, with its committer day (as GitHub shows it)."""
    log = git(repo, "log", "--reverse", "--format=%H%x09%cs%x09%s", until)
    return [read_commit(repo, *line.split("\t", 2)) for line in log.splitlines() if line]


# --- rows ----------------------------------------------------------------------------------------


def vendor_of(model_id: str, known: dict[str, str]) -> str | None:
    if model_id in known:
        return known[model_id]
    for prefix, vendor in HTML_PREFIX_VENDOR:
        if model_id.startswith(prefix):
            return vendor
    return None


@dataclass(frozen=True)
class FirstSeen:
    commit: Commit
    model: Model
    period: Period
    is_first_price: bool


def first_recorded(commits: list[Commit]) -> dict[tuple[str, tuple], FirstSeen]:
    """For each (model id, price): the first commit at which it was the model's current price."""
    seen: dict[tuple[str, tuple], FirstSeen] = {}
    priced: set[str] = set()
    for c in commits:
        for m in c.models:
            for p in m.periods:
                if p.price == (None, None) or not p.current_on(c.day):
                    continue
                if (m.id, p.price) not in seen:
                    seen[(m.id, p.price)] = FirstSeen(c, m, p, m.id not in priced)
            if any(p.current_on(c.day) for p in m.periods):
                priced.add(m.id)
    return seen


def _row(price_id: str, model: Model, vendor: str, period: Period, **fields: str) -> dict:
    provider, region = PROVIDERS[vendor]
    return {
        "price_id": price_id,
        "model": model.id,
        "provider": provider,
        "region": region,
        "tier": "unclassified",
        "input_price_per_mtok": _text(period.input),
        "output_price_per_mtok": _text(period.output),
        "currency": "USD",
        "price_basis": "list",
        "source": SOURCE,
        "kind": "claim",
        "quote": "",
        "confidence": "medium",
    } | fields


def _blob(commit: Commit, path: str) -> str:
    return f"{REPO_URL}/blob/{commit.sha}/{path}"


def _period_text(p: Period) -> str:
    return f"from_date={p.from_date or 'null'} to_date={p.to_date or 'null'}"


def commit_dated(price_id: str, vendor: str, first: FirstSeen, tail: str) -> dict:
    """A row dated by the first commit that recorded its price for its model."""
    c, short = first.commit, first.commit.sha[:8]
    what = "list price" if first.is_first_price else "list price change"
    return _row(
        price_id,
        first.model,
        vendor,
        first.period,
        effective_date=c.day,
        date_precision="day",
        event=(
            f"{what} first recorded by simonw/llm-prices at commit {short} on {c.day}; "
            "in effect by then, start not recorded"
        ),
        source_url=_blob(c, first.model.path),
        published=c.day,
        note=(
            f"simonw/llm-prices {first.model.path} model id '{first.model.id}' "
            f"({first.model.name}): first recorded at this price at commit {c.sha} on {c.day} "
            f"(commit message: {c.subject!r}); in effect by then, start not recorded. {tail}"
        ),
    )


def build_rows(commits: list[Commit]) -> tuple[list[dict], dict]:
    """The ``LP`` rows: every price period of the newest commit (ids in file order, as first
    made), then the prices only the history records (new ids, oldest first)."""
    last = commits[-1]
    known = {m.id: m.vendor for c in commits for m in c.models if m.vendor}
    seen = first_recorded(commits)
    rows: list[dict] = []
    covered: set[tuple[str, tuple]] = set()
    stats = {"explicit": 0, "commit_dated": 0, "undated": 0, "history_only": 0, "skipped": 0}
    n = 0
    for m in last.models:
        vendor = vendor_of(m.id, known)
        # A model's periods oldest first: the one without a start, then by start date.
        for p in sorted(m.periods, key=lambda q: (q.from_date is not None, q.from_date or "")):
            if vendor not in PROVIDERS or p.price == (None, None):
                # Ids count every priced period of a listed vendor only (as first made).
                stats["skipped"] += 1
                continue
            n += 1
            price_id = f"{ID_PREFIX}{n:04d}"
            covered.add((m.id, p.price))
            where = f"period {_period_text(p)}."
            first = None if m.id in NOT_CURRENT_WHEN_RECORDED else seen.get((m.id, p.price))
            if p.from_date:
                earlier = any(q.to_date and q.to_date <= p.from_date for q in m.periods)
                rows.append(
                    _row(
                        price_id,
                        m,
                        vendor,
                        p,
                        effective_date=p.from_date,
                        date_precision="day",
                        event=EVENT_CHANGE if earlier else EVENT_LAUNCH,
                        source_url=_blob(last, m.path),
                        published=last.day,
                        note=f"simonw/llm-prices {m.path} model id '{m.id}' ({m.name}); {where}",
                    )
                )
                stats["explicit"] += 1
            elif first and (p.to_date is None or first.commit.day < p.to_date):
                tail = f"Period in the {last.sha[:8]} snapshot: {_period_text(p)}."
                row = commit_dated(price_id, vendor, first, tail)
                # The figures as the newest snapshot writes them (the same price).
                row["input_price_per_mtok"] = _text(p.input)
                row["output_price_per_mtok"] = _text(p.output)
                rows.append(row)
                stats["commit_dated"] += 1
            else:
                why = NOT_CURRENT_WHEN_RECORDED.get(m.id)
                rows.append(
                    _row(
                        price_id,
                        m,
                        vendor,
                        p,
                        effective_date="",
                        date_precision="unknown",
                        event=EVENT_UNDATED,
                        source_url=_blob(last, m.path),
                        published=last.day,
                        note=f"simonw/llm-prices {m.path} model id '{m.id}' ({m.name}); {where}"
                        + (f" {why}" if why else ""),
                    )
                )
                stats["undated"] += 1
    extra = sorted(
        (f for key, f in seen.items() if key not in covered),
        key=lambda f: commits.index(f.commit),
    )
    for f in extra:
        vendor = vendor_of(f.model.id, known)
        if vendor not in PROVIDERS or f.model.id in NOT_CURRENT_WHEN_RECORDED:
            continue
        n += 1
        listed = any(m.id == f.model.id for m in last.models)
        tail = (
            f"The {last.sha[:8]} snapshot lists other prices for this id."
            if listed
            else f"The {last.sha[:8]} snapshot no longer lists this id."
        )
        rows.append(commit_dated(f"{ID_PREFIX}{n:04d}", vendor, f, tail))
        stats["history_only"] += 1
    stats["unreadable"] = [f"{c.sha[:8]} {u}" for c in commits for u in c.unreadable]
    stats["commits"] = len(commits)
    stats["range"] = f"{commits[0].sha[:8]} {commits[0].day} .. {last.sha[:8]} {last.day}"
    return rows, stats


def rewrite_csv(csv_path: Path, rows: list[dict]) -> None:
    """Replaces the ``LP`` rows of the CSV (where they were) and keeps every other row as is."""
    with csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        body = list(reader)
    if tuple(header) != COLUMNS:
        raise SystemExit(f"{csv_path}: unexpected columns {header}")
    at = next((i for i, r in enumerate(body) if r[0].startswith(ID_PREFIX)), len(body))
    kept = [r for r in body if not r[0].startswith(ID_PREFIX)]
    new = [[r[c] for c in COLUMNS] for r in rows]
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(kept[:at] + new + kept[at:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", type=Path, required=True, help="git dir of simonw/llm-prices")
    ap.add_argument("--until", default=DEFAULT_UNTIL, help="newest commit to read")
    ap.add_argument(
        "--csv",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "sources" / "api_prices.csv",
        help="api_prices.csv whose LP rows are rewritten",
    )
    ap.add_argument("--dry-run", action="store_true", help="print counts, write nothing")
    args = ap.parse_args(argv)
    rows, stats = build_rows(history(args.repo, args.until))
    if not args.dry_run:
        rewrite_csv(args.csv, rows)
    json.dump(stats, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
