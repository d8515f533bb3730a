"""Charts drawn once per command-line run: the digest names a chart by function and data content,
the store returns what was drawn, and the report takes stored charts instead of drawing them."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets.report import charts as report_charts
from pipelines import chart_memo


def _frame(ints: list[int], words: list[str]) -> pd.DataFrame:
    n = min(len(ints), len(words))
    return pd.DataFrame(
        {
            "n": pd.Series(ints[:n], dtype="int64"),
            "x": pd.Series([i / 3 for i in ints[:n]], dtype="float64"),
            "w": pd.Series(words[:n], dtype="string"),
        }
    )


def first_chart(frame: pd.DataFrame, label: str) -> bytes:
    return f"first:{label}:{len(frame)}".encode()


def second_chart(frame: pd.DataFrame, label: str) -> bytes:
    return f"second:{label}:{len(frame)}".encode()


frames = st.builds(
    _frame,
    st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=30),
    st.lists(st.text(max_size=6), min_size=1, max_size=30),
)


@given(frame=frames, label=st.text(max_size=8))
def test_equal_data_in_other_objects_gives_the_same_key(frame, label):
    copy = pd.DataFrame({c: frame[c].tolist() for c in frame.columns}).astype(frame.dtypes)
    assert copy is not frame
    assert chart_memo.chart_key(first_chart, (copy, label)) == chart_memo.chart_key(
        first_chart, (frame, label)
    )


@given(frame=frames, label=st.text(max_size=8), row=st.integers(0, 29))
def test_any_change_of_data_function_or_argument_gives_another_key(frame, label, row):
    key = chart_memo.chart_key(first_chart, (frame, label))
    row = row % len(frame)
    changed = frame.copy()
    changed.loc[row, "n"] = changed.loc[row, "n"] + 1
    renamed = frame.rename(columns={"w": "word"})
    as_float = frame.astype({"n": "float64"})
    others = [
        chart_memo.chart_key(first_chart, (changed, label)),
        chart_memo.chart_key(first_chart, (renamed, label)),
        chart_memo.chart_key(first_chart, (as_float, label)),
        chart_memo.chart_key(first_chart, (frame, label + "!")),
        chart_memo.chart_key(second_chart, (frame, label)),
    ]
    assert key not in others
    if len(frame) > 1:
        assert chart_memo.chart_key(first_chart, (frame.iloc[:-1], label)) != key
        assert chart_memo.chart_key(first_chart, (frame.iloc[::-1], label)) != key


def test_a_float_and_its_text_are_different_arguments():
    frame = _frame([1, 2], ["a", "b"])
    assert chart_memo.chart_key(first_chart, (frame, 1.0)) != chart_memo.chart_key(
        first_chart, (frame, "1.0")
    )


def test_without_a_run_store_every_chart_is_drawn(monkeypatch):
    monkeypatch.delenv(chart_memo.MEMO_ENV, raising=False)
    calls = []

    def chart(frame: pd.DataFrame) -> bytes:
        calls.append(1)
        return b"png"

    frame = _frame([1], ["a"])
    assert chart_memo.drawn(chart, frame) == b"png"
    assert chart_memo.drawn(chart, frame) == b"png"
    assert len(calls) == 2
    assert chart_memo.stored(chart, (frame,)) is None


def test_within_a_run_a_chart_is_drawn_once_and_nothing_empty_is_stored(tmp_path, monkeypatch):
    monkeypatch.setenv(chart_memo.MEMO_ENV, str(tmp_path))
    calls = []

    def chart(frame: pd.DataFrame, empty: bool) -> bytes | None:
        calls.append(empty)
        return None if empty else f"png of {len(frame)} rows".encode()

    frame = _frame([1, 2, 3], ["a", "b", "c"])
    assert chart_memo.stored(chart, (frame, False)) is None
    assert chart_memo.drawn(chart, frame, False) == b"png of 3 rows"
    assert chart_memo.drawn(chart, frame.copy(), False) == b"png of 3 rows"
    assert chart_memo.stored(chart, (frame.copy(), False)) == b"png of 3 rows"
    assert calls == [False]
    assert chart_memo.drawn(chart, frame, True) is None
    assert chart_memo.drawn(chart, frame, True) is None
    assert calls == [False, True, True]
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".png"]


def test_a_run_store_lasts_as_long_as_the_run(monkeypatch):
    monkeypatch.setenv(chart_memo.MEMO_ENV, "/elsewhere")
    with chart_memo.memo_for_run() as folder:
        assert os.environ[chart_memo.MEMO_ENV] == str(folder)
        chart_memo.drawn(first_chart, _frame([1], ["a"]), "x")
        assert len(list(folder.iterdir())) == 1
    assert not folder.exists()
    assert os.environ[chart_memo.MEMO_ENV] == "/elsewhere"

    monkeypatch.delenv(chart_memo.MEMO_ENV)
    with pytest.raises(RuntimeError), chart_memo.memo_for_run() as folder:
        raise RuntimeError("a run that failed")
    assert not folder.exists()
    assert chart_memo.MEMO_ENV not in os.environ


def logged_chart(frame: pd.DataFrame, label: str, log: str) -> bytes | None:
    """A chart that notes each drawing in a file (the report's workers are forked processes)."""
    with open(log, "a") as handle:
        handle.write(f"{label}\n")
    return None if label == "none" else f"fresh {label} of {len(frame)}".encode()


def test_the_report_takes_stored_charts_and_draws_the_others(tmp_path, monkeypatch):
    monkeypatch.setenv(chart_memo.MEMO_ENV, str(tmp_path / "memo"))
    (tmp_path / "memo").mkdir()
    log = tmp_path / "drawn.log"
    frame = _frame([1, 2], ["a", "b"])
    stored_png = chart_memo.drawn(logged_chart, frame, "earlier", str(log))
    log.unlink()
    jobs = [
        ("one", logged_chart, (frame, "one", str(log))),
        ("stored", logged_chart, (frame.copy(), "earlier", str(log))),
        ("none", logged_chart, (frame, "none", str(log))),
        ("two", logged_chart, (frame, "two", str(log))),
    ]
    with report_charts.drawing(jobs) as wait:
        pngs = wait()
    assert pngs == {"one": b"fresh one of 2", "stored": stored_png, "two": b"fresh two of 2"}
    assert list(pngs) == ["one", "stored", "two"]
    assert sorted(log.read_text().split()) == ["none", "one", "two"]


@pytest.mark.parametrize(
    "value",
    [pd.Series(range(100)), pd.Series(range(100)).to_numpy(), [1, 2], {"a": 1}],
    ids=["series", "array", "list", "dict"],
)
def test_an_argument_whose_repr_may_leave_values_out_is_refused(value):
    with pytest.raises(TypeError, match="DataFrames or plain scalars"):
        chart_memo.chart_key(first_chart, (_frame([1], ["a"]), value))
