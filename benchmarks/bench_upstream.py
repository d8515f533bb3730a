"""Times the raw upstream layer on the shipped snapshots: offline first store and unchanged re-read,
online (loopback server) first fetch, 304 revalidation and same-bytes refetch; prints a table (no
assertions: speed is measured here, never in tests)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assets.upstream import raw, registry, store
from assets.upstream.http import UpstreamHttp
from tests.upstream import loopback


def timed(label: str, fn) -> None:
    started = time.perf_counter()
    results = [fn(entry.id) for entry in registry.DATASETS]
    seconds = time.perf_counter() - started
    stored = sum(r.changed for r in results)
    megabytes = sum(r.row.bytes for r in results) / 1e6
    print(f"{label:<44} {seconds:7.2f} s  {stored:2d} stored  {megabytes:6.2f} MB in use")


def main() -> None:
    with tempfile.TemporaryDirectory() as root:
        os.environ["OUTLOOK_WAREHOUSE"] = str(Path(root) / "offline")
        timed("offline, first run (store shipped copies)", raw.refresh_offline)
        timed("offline, unchanged (nothing stored)", raw.refresh_offline)

        os.environ["OUTLOOK_WAREHOUSE"] = str(Path(root) / "online")
        server, stop = loopback.start()
        try:
            for entry in registry.DATASETS:
                path = "/" + "".join(urllib.parse.urlsplit(entry.url)[1:3])
                server.on(path, loopback.serve(entry.shipped_path.read_bytes()))
            http = UpstreamHttp(mirror=server.url)
            timed(
                "online loopback, first fetch (200, stored)", lambda d: raw.refresh_online(d, http)
            )
            timed("online loopback, revalidate (304)", lambda d: raw.refresh_online(d, http))
            for entry in registry.DATASETS:
                path = "/" + "".join(urllib.parse.urlsplit(entry.url)[1:3])
                server.on(path, loopback.serve(entry.shipped_path.read_bytes(), etag=False))
            timed(
                "online loopback, same bytes, no ETag (200)", lambda d: raw.refresh_online(d, http)
            )
        finally:
            stop()
        total = sum(
            f.stat().st_size for f in (Path(root) / "online" / "raw").rglob("*") if f.is_file()
        )
        snaps = sum(len(store.snapshot_dirs(e.id)) for e in registry.DATASETS)
        print(f"online raw layer: {snaps} snapshot folders, {total / 1e6:.2f} MB on disk")


if __name__ == "__main__":
    main()
