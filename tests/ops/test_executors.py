"""Scale-out executors that run on one machine: the multiprocess executor keeps to max_concurrent,
and the Celery executor sends every step to a dagster-celery worker through a real Redis."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from pipelines.definitions import defs

from .procs import (
    PROJECT_ROOT,
    VENV_BIN,
    Server,
    cli,
    code_blocks,
    init_instance,
    isolated_env,
    wait_for,
)

pytestmark = pytest.mark.slow

RUN_TIMEOUT_S = 300
MAX_CONCURRENT = 2
CELERY_README = PROJECT_ROOT / "deploy" / "celery" / "README.md"


def run_cli(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    assert proc.returncode == 0, f"{' '.join(argv)}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def only_run(env: dict[str, str]) -> tuple[dg.DagsterInstance, dg.DagsterRun]:
    """The private instance of env and the single run it holds."""
    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    runs = instance.get_runs()
    assert len(runs) == 1, [r.run_id for r in runs]
    assert runs[0].status == dg.DagsterRunStatus.SUCCESS
    return instance, runs[0]


def independent_ingest_assets(count: int) -> list[str]:
    """Ingest assets with no upstream asset: steps the executor may run side by side."""
    graph = defs.resolve_asset_graph()
    roots = sorted(
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).group_name == "ingest" and not graph.get(key).parent_keys
    )
    assert len(roots) >= count, roots
    return roots[:count]


def max_overlap(windows: list[tuple[float, float]]) -> int:
    """The largest number of [start, end] windows open at one instant."""
    edges = sorted([(s, 1) for s, _ in windows] + [(e, -1) for _, e in windows])
    open_now = peak = 0
    for _, delta in edges:
        open_now += delta
        peak = max(peak, open_now)
    return peak


def test_max_overlap_counts_open_windows():
    assert max_overlap([(0, 2), (1, 3), (2.5, 4)]) == 2
    assert max_overlap([(0, 1), (2, 3)]) == 1
    assert max_overlap([(0, 10), (1, 9), (2, 8)]) == 3


def test_multiprocess_executor_runs_steps_in_subprocesses_at_most_max_concurrent(tmp_path):
    env = isolated_env(tmp_path)
    env.update(OUTLOOK_EXECUTOR="multiprocess", OUTLOOK_MAX_CONCURRENT=str(MAX_CONCURRENT))
    selected = independent_ingest_assets(MAX_CONCURRENT + 1)
    run_cli(
        cli(".venv/bin/dagster asset materialize -m pipelines.definitions")
        + ["--select", ",".join(selected)],
        env,
    )
    instance, run = only_run(env)
    records = instance.all_logs(run.run_id)
    events = [(r.timestamp, r.dagster_event) for r in records if r.dagster_event is not None]
    orchestrator_pid = next(
        e.pid for _, e in events if e.event_type == dg.DagsterEventType.RUN_START
    )

    starts, ends, step_pids = {}, {}, {}
    for ts, event in events:
        if event.event_type == dg.DagsterEventType.STEP_WORKER_STARTING:
            starts[event.step_key] = ts
        elif event.event_type == dg.DagsterEventType.STEP_START:
            step_pids[event.step_key] = event.pid
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            ends[event.step_key] = ts
    assert set(selected) <= set(ends), f"steps that succeeded: {sorted(ends)}"
    assert set(starts) == set(ends)
    pids = [step_pids[k] for k in ends]
    assert len(set(pids)) == len(pids) and orchestrator_pid not in pids, "one subprocess per step"
    windows = [(starts[k], ends[k]) for k in ends]
    assert max_overlap(windows) == MAX_CONCURRENT, windows

    clean = Path(env["OUTLOOK_WAREHOUSE"]) / "clean"
    assert sorted(p.stem for p in clean.glob("*.parquet")) == sorted(selected)


def celery_commands() -> list[str]:
    """The worker and job commands of deploy/celery/README.md, in order."""
    blocks = code_blocks(CELERY_README.read_text(encoding="utf-8"), "bash")
    lines = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    worker = next(line for line in lines if "dagster-celery worker start" in line)
    job = next(line for line in lines if "dagster job execute" in line)
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export ")
    )
    assert set(exports) == {
        "OUTLOOK_EXECUTOR",
        "DAGSTER_CELERY_BROKER_URL",
        "DAGSTER_CELERY_BACKEND_URL",
    }
    assert exports["OUTLOOK_EXECUTOR"] == "celery"
    return [worker, job]


def test_celery_executor_runs_every_step_in_a_worker_over_redis(redis_url):
    worker_cmd, job_cmd = celery_commands()
    worker_name = worker_cmd.split(" -n ")[1].split()[0]
    with tempfile.TemporaryDirectory(prefix="outlook-celery-") as tmp:
        root = Path(tmp)
        env = isolated_env(root)
        env.update(
            OUTLOOK_EXECUTOR="celery",
            DAGSTER_CELERY_BROKER_URL=redis_url,
            DAGSTER_CELERY_BACKEND_URL=redis_url.rsplit("/", 1)[0] + "/1",
            PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        init_instance(env)
        # The job starts at once: its tasks wait in Redis while the worker is still importing.
        with (
            Server("celery-worker", cli(worker_cmd), env, PROJECT_ROOT, root) as worker,
            Server("celery-job", cli(job_cmd), env, PROJECT_ROOT, root) as job,
        ):
            wait_for(
                lambda: job.proc.poll() is not None,
                RUN_TIMEOUT_S,
                "the celery run to finish",
                interval_s=1,
                server=worker,
            )
            assert job.proc.returncode == 0, job.log_tail()
            assert " ready." in worker.log_path.read_text(errors="replace"), worker.log_tail()
        instance, run = only_run(env)

        plan_steps = {
            e.dagster_event.step_key
            for e in instance.all_logs(run.run_id)
            if e.dagster_event is not None
            and e.dagster_event.event_type == dg.DagsterEventType.STEP_SUCCESS
        }
        delegated = {}
        for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
            meta = record.dagster_event.engine_event_data.metadata
            if "Celery worker" in meta:
                delegated[record.dagster_event.step_key] = meta["Celery worker"].value
        assert plan_steps and set(delegated) == plan_steps
        assert {w.split("@")[0] for w in delegated.values()} == {worker_name}

        ingest = defs.resolve_job_def("ingest_job")
        assets = {k.to_user_string() for k in ingest.asset_layer.executable_asset_keys}
        clean = Path(env["OUTLOOK_WAREHOUSE"]) / "clean"
        for name in assets:
            assert pq.read_metadata(clean / f"{name}.parquet").num_rows > 0, name
