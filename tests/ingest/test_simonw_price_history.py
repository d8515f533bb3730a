"""The simonw/llm-prices history generator on a tiny synthetic repository: prices dated by the
first commit that recorded them, price changes as new dated rows, explicit from_dates kept, and
prices never seen in effect left undated."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "data" / "tools" / "simonw_price_history.py"


@pytest.fixture(scope="module")
def gen():
    """The generator script as a module (data/tools is not a package)."""
    spec = importlib.util.spec_from_file_location("simonw_price_history", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


INDEX_HTML = """<script>
        const presets = {
            'model-a': { name: 'Model A', input: 1.00, output: 2.00 },
            'model-b': { name: 'Model B', input: 3, output: 4 },
            'mystery-7b': { name: 'Unknown vendor', input: 1, output: 1 },
        };
</script>
"""


def _vendor(vendor: str, models: dict[str, list[dict]]) -> str:
    return json.dumps(
        {
            "vendor": vendor,
            "models": [{"id": k, "name": k.title(), "price_history": v} for k, v in models.items()],
        },
        indent=2,
    )


def _period(inp, out, from_date=None, to_date=None) -> dict:
    return {"input": inp, "output": out, "from_date": from_date, "to_date": to_date}


def _commit(repo: Path, day: str, message: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    env = os.environ | {
        "GIT_AUTHOR_DATE": f"{day}T12:00:00+00:00",
        "GIT_COMMITTER_DATE": f"{day}T12:00:00+00:00",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    run = {"cwd": repo, "env": env, "check": True, "capture_output": True}
    subprocess.run(["git", "add", "-A"], **run)
    subprocess.run(["git", "commit", "-q", "-m", message], **run)
    return subprocess.run(["git", "rev-parse", "HEAD"], text=True, **run).stdout.strip()


@pytest.fixture
def repo(tmp_path) -> tuple[Path, list[str]]:
    """Three commits: prices in index.html; the split into data/<vendor>.json with model-a cut
    from 1/2 to 0.5/1 and a DeepSeek scheduled change; a model whose old price is added after
    it ended (never seen in effect) beside its current one."""
    repo = tmp_path / "llm-prices"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    shas = [_commit(repo, "2025-01-10", "Create prices page", {"index.html": INDEX_HTML})]
    openai = {"model-a": [_period(0.5, 1)], "model-b": [_period(3, 4)]}
    deepseek = {
        "deepseek-chat": [
            _period(0.27, 1.1, from_date="2025-02-08"),
            _period(0.14, 0.28, to_date="2025-02-08"),
        ]
    }
    shas.append(
        _commit(
            repo,
            "2025-03-01",
            "Split data, model-a price cut",
            {
                "data/openai.json": _vendor("openai", openai),
                "data/deepseek.json": _vendor("deepseek", deepseek),
                "data/mistral.json": _vendor("mistral", {"mistral-x": [_period(2, 6)]}),
            },
        )
    )
    openai["model-c"] = [_period(9, 9, to_date="2025-03-15"), _period(8, 8)]
    shas.append(
        _commit(repo, "2025-04-01", "model-c", {"data/openai.json": _vendor("openai", openai)})
    )
    return repo, shas


def _rows(gen, repo: Path, tmp_path: Path) -> list[dict]:
    csv_path = tmp_path / "api_prices.csv"
    other = dict.fromkeys(gen.COLUMNS, "") | {"price_id": "AP001", "model": "hand-made"}
    stale = dict.fromkeys(gen.COLUMNS, "") | {"price_id": "LP0999", "model": "stale"}
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=gen.COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows([other, stale])
    assert gen.main(["--repo", str(repo), "--until", "HEAD", "--csv", str(csv_path)]) == 0
    with csv_path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_rows_are_dated_by_first_recording_commit(gen, repo, tmp_path):
    path, shas = repo
    rows = _rows(gen, path, tmp_path)
    by_id = {r["price_id"]: r for r in rows}
    # Other rows stay; old LP rows are replaced; Mistral and unknown vendors are left out.
    assert by_id["AP001"]["model"] == "hand-made"
    assert "LP0999" not in by_id
    assert not {"mistral-x", "mystery-7b"} & {r["model"] for r in rows}
    got = [
        (
            r["price_id"],
            r["model"],
            r["input_price_per_mtok"],
            r["output_price_per_mtok"],
            r["effective_date"],
            r["date_precision"],
        )
        for r in rows
        if r["price_id"].startswith("LP")
    ]
    assert got == [
        # The newest snapshot's periods in file order (openai, then deepseek) ...
        ("LP0001", "model-a", "0.5", "1", "2025-03-01", "day"),  # the cut, at its commit
        ("LP0002", "model-b", "3", "4", "2025-01-10", "day"),  # unchanged since the first commit
        ("LP0003", "model-c", "9", "9", "", "unknown"),  # ended before it was first recorded
        ("LP0004", "model-c", "8", "8", "2025-04-01", "day"),
        ("LP0005", "deepseek-chat", "0.14", "0.28", "", "unknown"),  # never seen in effect
        ("LP0006", "deepseek-chat", "0.27", "1.1", "2025-02-08", "day"),  # explicit from_date
        # ... then the price only the history records: model-a before its cut.
        ("LP0007", "model-a", "1", "2", "2025-01-10", "day"),
    ]


def test_commit_dated_rows_pin_the_file_and_say_what_the_date_means(gen, repo, tmp_path):
    path, shas = repo
    by_id = {r["price_id"]: r for r in _rows(gen, path, tmp_path)}
    first, cut = by_id["LP0007"], by_id["LP0001"]
    assert first["source_url"] == f"https://github.com/simonw/llm-prices/blob/{shas[0]}/index.html"
    assert cut["source_url"] == (
        f"https://github.com/simonw/llm-prices/blob/{shas[1]}/data/openai.json"
    )
    assert first["event"].startswith(
        f"list price first recorded by simonw/llm-prices at commit {shas[0][:8]} on 2025-01-10"
    )
    assert cut["event"].startswith("list price change first recorded")
    for row in (first, cut):
        assert "in effect by then, start not recorded" in row["event"]
        assert row["published"] == row["effective_date"]
        assert (row["kind"], row["confidence"], row["tier"], row["currency"]) == (
            "claim",
            "medium",
            "unclassified",
            "USD",
        )
    assert shas[1] in cut["note"] and "Split data, model-a price cut" in cut["note"]
    # Explicit and undated rows stay pinned to the newest commit.
    assert by_id["LP0006"]["event"] == "list price change"
    assert by_id["LP0006"]["source_url"].endswith(f"{shas[2]}/data/deepseek.json")
    assert by_id["LP0005"]["source_url"].endswith(f"{shas[2]}/data/deepseek.json")


def test_scheduled_change_in_index_html_is_two_periods(gen):
    html = """const presets = {
            'deepseek-chat': {
                name: 'DeepSeek Chat',
                getPrice: () => {
                    const cutoffDate = new Date('2025-02-08T16:00:00Z');
                    const currentDate = new Date();
                    if (currentDate < cutoffDate) {
                        return { input: 0.14, output: 0.28 };
                    } else {
                        return { input: 0.27, output: 1.10 };
                    }
                }
            },
        };"""
    (model,) = gen.parse_index_html(html)
    assert model.periods == (
        gen.Period(0.27, 1.1, from_date="2025-02-08"),
        gen.Period(0.14, 0.28, to_date="2025-02-08"),
    )
    assert [p.current_on("2025-01-21") for p in model.periods] == [False, True]
