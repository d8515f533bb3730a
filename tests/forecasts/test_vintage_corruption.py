"""A truncated forecast vintage is quarantined with its path named; the other vintages still read."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from forecasts.vintage import read_vintages


def write_vintage(root, key, value):
    folder = root / "toy" / f"vintage={key}"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"x": [value]}), folder / "part-0.parquet")
    return folder / "part-0.parquet"


def test_truncated_vintage_is_quarantined_and_the_rest_read(tmp_path, caplog):
    write_vintage(tmp_path, "2026-01-05", 1.0)
    bad = write_vintage(tmp_path, "2026-01-12", 2.0)
    write_vintage(tmp_path, "2026-01-19", 3.0)
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])

    frame = read_vintages(str(tmp_path), "toy")

    assert frame["x"].tolist() == [1.0, 3.0]
    assert frame["vintage"].tolist() == [pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-19")]
    assert not bad.exists()
    assert (bad.parent / "part-0.parquet.corrupt").exists()
    assert str(bad) in caplog.text and "unreadable" in caplog.text
    again = read_vintages(str(tmp_path), "toy")
    assert again["x"].tolist() == [1.0, 3.0]
