"""Times a full materialization with the in-process and the multiprocess executor, side by side.

Each run is the `dagster job execute` command a scheduler would run, on a fresh temporary instance and
warehouse, so both executors pay the same start-up; the figure is the median wall time of N runs.
Usage: .venv/bin/python benchmarks/bench_materialize.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecasts.vintage import VINTAGES  # noqa: E402
from pipelines.jobs import PIPELINE_JOBS  # noqa: E402

#: Jobs partitioned by vintage run the newest one, as the command line does.
PARTITIONED = {"forecast_job"}


def run_pipeline(executor: str) -> float:
    """Wall seconds to run every pipeline job once with the given executor."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DAGSTER_HOME": tmp,
            "OUTLOOK_WAREHOUSE": str(Path(tmp) / "warehouse"),
            "OUTLOOK_EXECUTOR": executor,
        }
        (Path(tmp) / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        dagster = str(Path(sys.executable).parent / "dagster")
        started = time.perf_counter()
        for job in PIPELINE_JOBS:
            cmd = [dagster, "job", "execute", "-m", "pipelines.definitions", "-j", job]
            if job in PARTITIONED:
                cmd += [
                    "--tags",
                    json.dumps({"dagster/partition": VINTAGES.get_last_partition_key()}),
                ]
            done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(
                    f"{executor} {job} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
                )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for executor in ("in_process", "multiprocess"):
        times = [run_pipeline(executor) for _ in range(args.repeat)]
        results[executor] = statistics.median(times)
        print(
            f"{executor:13s} median {results[executor]:6.2f} s  runs: {', '.join(f'{t:.2f}' for t in times)}"
        )
    ratio = results["multiprocess"] / results["in_process"]
    print(
        f"jobs: {', '.join(PIPELINE_JOBS)}; multiprocess / in_process = {ratio:.2f}x on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
