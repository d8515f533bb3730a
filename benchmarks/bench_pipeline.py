"""Times the full pipeline as `make run` runs it (every asset, in-process, shipped sources) and prints
a per-step table read back from the Dagster instance's event log.

Each repeat is one `python -m pipelines.cli run` process on a fresh instance folder and warehouse,
prepared as `make setup` leaves it (the instance's storage created, as `pipelines.instance_check
--open` does; not timed), so the wall time includes process start-up and imports. The table lists every step of the last repeat
(start to end of the step, from the instance), each job's run time, and what lies outside the runs
(start-up, imports, instance checks). The machine's load average is printed beside the figures,
because on a shared machine wall time moves with it; CPU seconds (user + system of the process) move
far less.
Usage: .venv/bin/python benchmarks/bench_pipeline.py [--repeat 3] [--root <checkout>]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.instance_check import open_instance  # noqa: E402


def cpu_seconds_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(root: Path, home: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one full `pipelines.cli run` on an empty instance and warehouse."""
    home.mkdir()
    (home / "dagster.yaml").write_text((root / "dagster.yaml").read_text())
    env = {**os.environ, "DAGSTER_HOME": str(home), "OUTLOOK_WAREHOUSE": str(home / "warehouse")}
    # As `make setup` leaves it (`pipelines.instance_check --open`): the instance's storage created
    # (not timed; done here, so a checkout without that option is timed the same way).
    open_instance(home)
    cpu_before = cpu_seconds_of_children()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pipeline failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return wall, cpu_seconds_of_children() - cpu_before


def step_table(home: Path) -> tuple[list[tuple[str, str, float]], float]:
    """(job, step, seconds) for every step of every run on the instance, plus one row per run, and
    the seconds during which at least one run was going (runs of one stage overlap)."""
    import dagster as dg

    rows = []
    spans = []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = sorted(instance.get_run_records(), key=lambda r: r.create_timestamp)
        for record in records:
            job = record.dagster_run.job_name
            rows.append((job, "(whole run)", record.end_time - record.start_time))
            spans.append((record.start_time, record.end_time))
            stats = instance.get_run_step_stats(record.dagster_run.run_id)
            for s in sorted(stats, key=lambda s: s.start_time):
                rows.append((job, s.step_key, s.end_time - s.start_time))
    covered, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        covered += max(0.0, end - max(start, reach))
        reach = max(reach, end)
    return rows, covered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose pipeline to time")
    args = parser.parse_args()
    walls, cpus, loads = [], [], []
    with tempfile.TemporaryDirectory(prefix="outlook-bench-") as tmp:
        for i in range(args.repeat):
            loads.append(os.getloadavg()[0])
            wall, cpu = run_once(args.root.resolve(), Path(tmp) / f"run{i}")
            walls.append(wall)
            cpus.append(cpu)
            print(f"run {i + 1}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, load {loads[-1]:.1f}")
        rows, in_runs = step_table(Path(tmp) / f"run{args.repeat - 1}")
    print(
        f"\nfull pipeline: median {statistics.median(walls):.2f} s wall "
        f"(min {min(walls):.2f}, max {max(walls):.2f}), median {statistics.median(cpus):.2f} s CPU, "
        f"{os.cpu_count()} cores, 1-min load {min(loads):.1f}-{max(loads):.1f}"
    )
    run_sum = sum(sec for _, step, sec in rows if step == "(whole run)")
    in_steps = sum(sec for _, step, sec in rows if step != "(whole run)")
    print(
        f"\nsteps of the last run (seconds, from the instance's event log); total {walls[-1]:.2f} s"
    )
    print(f"| {'job':14s} | {'step':60s} | {'s':>6s} |")
    print(f"|{'-' * 16}|{'-' * 62}|{'-' * 8}|")
    for job, step, sec in rows:
        print(f"| {job:14s} | {step:60s} | {sec:6.2f} |")
    print(f"| {'':14s} | {'sum of steps':60s} | {in_steps:6.2f} |")
    print(
        f"| {'':14s} | {'Dagster run overhead (runs minus steps)':60s} | {run_sum - in_steps:6.2f} |"
    )
    print(
        f"| {'':14s} | {'time with a run going (overlapping runs counted once)':60s} | "
        f"{in_runs:6.2f} |"
    )
    print(
        f"| {'':14s} | {'outside runs (start-up, imports, checks)':60s} | {walls[-1] - in_runs:6.2f} |"
    )


if __name__ == "__main__":
    main()
