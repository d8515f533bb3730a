"""Times the staging of every shipped upstream payload (read, type, convert, check) and prints the
row counts; the Epoch total is the figure the pipeline's 3 s budget is about. No assertions."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assets.staging.assets import STAGINGS, provenance, stage_payload
from assets.upstream import registry

REPEATS = 3


def main() -> None:
    rows = []
    for staging in STAGINGS:
        dataset = staging.schema.dataset
        path = registry.dataset(dataset).shipped_path
        prov = provenance(dataset, path)
        best, result = float("inf"), None
        for _ in range(REPEATS):
            started = time.perf_counter()
            result = stage_payload(staging, path, prov)
            best = min(best, time.perf_counter() - started)
        rows.append((dataset, len(result.table), len(result.rejected), best))
    print(f"{'dataset':34} {'rows':>6} {'rejected':>8} {'seconds':>8}")
    for dataset, n, rejected, seconds in rows:
        print(f"{dataset:34} {n:6d} {rejected:8d} {seconds:8.3f}")
    epoch = sum(s for d, _, _, s in rows if d.startswith("epoch_"))
    print(f"{'all Epoch files':34} {'':6} {'':8} {epoch:8.3f}")
    print(f"{'all files':34} {'':6} {'':8} {sum(r[3] for r in rows):8.3f}")


if __name__ == "__main__":
    main()
