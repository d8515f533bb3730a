"""A warehouse that cannot be written fails with one message naming the path; a corrupted
published table is quarantined with its path named and rebuilt by the next run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd

from pipelines import settings
from tests.helpers import failure_messages, materialize


def test_unwritable_warehouse_fails_with_one_message_naming_the_path(
    sources, monkeypatch, instance
):
    monkeypatch.setenv(settings.WAREHOUSE_ENV, "/sys/outlook-warehouse")
    result = materialize(["claims"], instance)
    assert not result.success
    message = failure_messages(result)
    assert "/sys/outlook-warehouse/clean: cannot write the warehouse: permission denied" in message
    assert "OUTLOOK_WAREHOUSE" in message
    assert "Traceback" not in message and len(message.splitlines()) == 1


def test_full_disk_fails_with_one_message_and_keeps_the_published_table(tmp_path):
    """The file-size limit of a child process makes every write past 64 KiB fail as a full disk
    does; the published table stays as it was."""
    target = tmp_path / "clean" / "big.parquet"
    script = textwrap.dedent(
        f"""
        import resource, signal
        import numpy as np, pyarrow as pa
        from upath import UPath
        from pipelines import io
        target = UPath({str(target)!r})
        io.publish_parquet(pa.table({{"x": [1.0]}}), target)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
        try:
            io.publish_parquet(pa.table({{"x": np.random.default_rng(0).random(200_000)}}), target)
        except io.WarehouseWriteError as exc:
            print("REFUSED", exc.description)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=settings.PROJECT_ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"REFUSED {target.parent}: cannot write the warehouse: "), (
        out.stdout
    )
    assert pd.read_parquet(target)["x"].tolist() == [1.0]
    assert [p.name for p in target.parent.iterdir()] == ["big.parquet"]


def test_truncated_clean_table_is_quarantined_named_and_rebuilt(sources, warehouse, instance):
    assert materialize(["chip_aliases", "hardware_specs"], instance).success
    path = warehouse / "clean" / "chip_aliases.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])

    broken = materialize(["hardware_specs"], instance)

    assert not broken.success
    message = failure_messages(broken)
    assert f"{path}: the published Parquet file is unreadable" in message
    assert f"moved to {path}.corrupt" in message
    assert not path.exists()
    rebuilt = materialize(["chip_aliases", "hardware_specs"], instance)
    assert rebuilt.success, failure_messages(rebuilt)
    assert pd.read_parquet(path).shape[0] > 0
