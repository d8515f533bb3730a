"""How the command line runs the pipeline's jobs: each stage planned from the asset graph into runs
that start as soon as what they read is done, the first stage from its own definitions while the
rest load, and runs beside each other in processes forked from the command line's."""

from __future__ import annotations

import dataclasses
import functools
import gc
import json
import os
import select
import sys
import uuid

from pipelines import settings


@functools.cache
def location_tags() -> dict[str, str]:
    """Run tags that file a command-line run under the code location, so the UI lists it on the
    job's page (the UI finds a job's runs by this repository label); read from pyproject.toml
    once per process, before the runs fork."""
    import tomllib

    from dagster._core.definitions.repository_definition.valid_definitions import (
        SINGLETON_REPOSITORY_NAME,
    )
    from dagster._core.storage.tags import REPOSITORY_LABEL_TAG

    with open(settings.PROJECT_ROOT / "pyproject.toml", "rb") as handle:
        location = tomllib.load(handle)["tool"]["dagster"]["code_location_name"]
    return {REPOSITORY_LABEL_TAG: f"{SINGLETON_REPOSITORY_NAME}@{location}"}


def run_jobs(first_defs, instance) -> list[str]:
    """Recovers from a killed run, then runs every job, stage after stage (``PIPELINE_STAGES``);
    within a stage each run starts as soon as the runs it reads from are done (`stage_runs`,
    `run_planned`). A job whose upstream failed in this run is skipped (its inputs were not
    updated). Returns the failed jobs.

    The first stage (fetch, validate, stage: ``first_defs``, which need no forecasting or report
    library) runs in a process forked before the full definitions load, so loading statsmodels,
    SciPy and matplotlib (about 1.2 s) overlaps it instead of preceding it."""
    from pipelines import recovery, storage_hold
    from pipelines.jobs import PIPELINE_STAGES

    removed, marked = recovery.recover(instance)
    for path in removed:
        print(f"removed a temporary file a killed run left: {path}")
    for run_id in marked:
        print(f"marked run {run_id} failed: its process was killed before it finished")
    # Once here, not in each forked run: the storage hold's set-up and the location's tags.
    storage_hold.prepare(instance)
    location_tags()
    first, *rest = PIPELINE_STAGES
    first_stage = _start_stage(first_defs, instance, first)
    from pipelines.definitions import defs

    gc.freeze()
    gc.enable()  # off while the modules load (`pipelines.cli.main`)
    plans = [stage_runs(defs, stage) for stage in rest]  # planned while the first stage runs
    failed = first_stage()
    for plan in plans:
        failed = run_planned(defs, instance, plan, failed)
    return failed


def _start_stage(defs, instance, stage: tuple[str, ...]):
    """Starts the stage in a process forked from this one (it dies with this process) and returns
    a function that waits for it and returns the failed jobs (the whole stage if the process died
    without saying). Elsewhere than on Linux, runs it here first."""

    def run() -> list[str]:  # planned where it runs: a stage that cannot be planned fails there
        gc.enable()  # the command line's collector is off while the rest loads beside this
        return run_planned(defs, instance, stage_runs(defs, stage), [])

    if not sys.platform.startswith("linux"):
        failed = run()
        return lambda: failed
    read, write = os.pipe()

    def work() -> int:
        os.close(read)
        os.write(write, json.dumps(run()).encode())
        return 0

    pid = _fork(work)
    os.close(write)

    def wait() -> list[str]:
        with os.fdopen(read, "rb") as pipe:
            said = pipe.read()
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0 or not said:
            return list(stage)
        return json.loads(said)

    return wait


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """One run of a stage: its job, the asset keys it materializes (None: every asset of the job)
    and the positions, in the stage's list, of the runs it reads from."""

    job: str
    selection: list | None = None
    after: frozenset[int] = frozenset()


def stage_runs(defs, stage: tuple[str, ...]) -> list[PlannedRun]:
    """The runs of a stage, each listed after the runs it reads from. A job's assets that read no
    other job of the stage, directly or through each other, form its first run (the whole job when
    none does); the others are grouped, per job, by the set of first runs they read from, so each
    group starts as soon as those are done: china_share_* read derived/domestic_share_observed
    and run once derived_job is done while the other forecasts may still run, and
    forecast_vintage_history, which reads every forecast, runs after both."""
    graph = defs.resolve_asset_graph()
    keys = {job: set(defs.resolve_job_def(job).asset_layer.executable_asset_keys) for job in stage}
    runs: list[PlannedRun] = []
    first_run: dict = {}  # asset key -> position of the first run that materializes it
    waiting: dict[str, set] = {}
    for job in stage:
        others = set().union(*(keys[other] for other in stage if other != job))
        waits: set = set()
        grew = True
        while grew:
            grew = False
            for key in keys[job] - waits:
                if any(p in others or p in waits for p in graph.get(key).parent_keys):
                    waits.add(key)
                    grew = True
        waiting[job] = waits
        if keys[job] - waits:
            first_run.update((key, len(runs)) for key in keys[job] - waits)
            runs.append(PlannedRun(job, sorted(keys[job] - waits) if waits else None))
    in_stage = set().union(*keys.values())
    reads: dict = {}  # waiting asset key -> the first runs it reads from, directly or not

    def first_runs_read(key) -> frozenset[int]:
        if key not in reads:
            parents = [p for p in graph.get(key).parent_keys if p in in_stage]
            reads[key] = frozenset().union(
                *({first_run[p]} if p in first_run else first_runs_read(p) for p in parents)
            )
        return reads[key]

    groups: dict[tuple[str, frozenset[int]], list] = {}
    for job in stage:
        for key in sorted(waiting[job]):
            groups.setdefault((job, first_runs_read(key)), []).append(key)
    # A group after the groups it reads from: a group reads only groups that read fewer first runs
    # (or as many, of another job), so ordering by that count and placing each group once every
    # group it reads from is placed terminates for any asset graph without cycles.
    placed: dict = {}
    pending = sorted(groups.items(), key=lambda item: len(item[0][1]))
    while pending:
        for index, ((job, first), group) in enumerate(pending):
            parents = {p for key in group for p in graph.get(key).parent_keys if p in in_stage}
            inner = {p for p in parents if p not in first_run and p not in group}
            if all(p in placed for p in inner):
                after = set(first) | {placed[p] for p in inner}
                for key in group:
                    placed[key] = len(runs)
                whole = set(group) == keys[job]  # a job none of whose assets go at once
                runs.append(PlannedRun(job, None if whole else group, frozenset(after)))
                del pending[index]
                break
        else:
            raise ValueError(f"stage {stage}: its jobs read each other in a cycle")
    return runs


def run_planned(defs, instance, runs: list[PlannedRun], failed: list[str]) -> list[str]:
    """Runs a stage's planned runs, each as soon as the runs it reads from have succeeded: of the
    runs ready together, the first in the plan runs in this process and the others each in a
    process forked from this one (the same instance object: its SQLite and PostgreSQL storages
    open a new connection for every call, so none is shared; the process dies with this one).
    When this process's run ends, it starts what became ready, or waits for a forked run. A run
    is skipped when a job failed earlier in this pipeline run or a run it reads from failed;
    elsewhere than on Linux the runs go one after another, in order. Returns the failed jobs."""
    done: dict[int, bool] = {}  # position -> succeeded
    running: dict[int, tuple[int, int]] = {}  # pid -> (position, pidfd: readable once it exits)
    fork = sys.platform.startswith("linux")

    def ready() -> list[int]:
        """The runs to start now; marks those to skip as failed."""
        starting = []
        for position, run in enumerate(runs):
            if position in done or position in (p for p, _ in running.values()):
                continue
            if failed and not run.after:
                why = failed
            elif any(done.get(d) is False for d in run.after):
                why = [runs[d].job for d in sorted(run.after) if not done[d]]
            else:
                if all(done.get(d) for d in run.after):
                    starting.append(position)
                continue
            print(
                f"SKIPPED {run.job}: {', '.join(why)} failed in this run, so its inputs are stale"
            )
            done[position] = False
        return starting

    def reap(block: bool) -> None:
        """Records the forked runs that have ended (waiting for one when ``block``)."""
        nonlocal failed
        fds = [fd for _, fd in running.values()]
        exited, _, _ = select.select(fds, [], [], None if block else 0)
        # Only this function's own processes are waited for (not any child of the process).
        for pid in [pid for pid, (_, fd) in running.items() if fd in exited]:
            position, fd = running.pop(pid)
            os.close(fd)
            _, status = os.waitpid(pid, 0)
            done[position] = os.waitstatus_to_exitcode(status) == 0
            if not done[position]:
                failed = failed + [runs[position].job]

    while len(done) < len(runs):
        starting = ready()
        if starting:
            own, *others = starting if fork else starting[:1]
            for position in others:
                work = functools.partial(
                    run_job, defs, instance, runs[position].job, runs[position].selection
                )
                pid = _fork(lambda work=work: 0 if work() else 1)
                running[pid] = (position, os.pidfd_open(pid))
            done[own] = run_job(defs, instance, runs[own].job, runs[own].selection)
            if not done[own]:
                failed = failed + [runs[own].job]
        if running:
            reap(block=not starting)
    return failed


def _fork(work) -> int:
    """Forks a process that runs ``work()`` and exits with its code (1 if it raised), never
    returning into the caller's code; returns its pid. The child is killed with this process
    (the warehouse lock promises that no run outlives the process that holds it) and, already
    orphaned when it starts, stops at once. Linux only (``PR_SET_PDEATHSIG``)."""
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == parent:
            code = work()
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_job(defs, instance, job_name: str, selection: list | None) -> bool:
    """One in-process run of the job (only the ``selection`` assets and their checks when given);
    prints its outcome and each failed step's error; True if it succeeded."""
    from pipelines import recovery, storage_hold

    job = defs.resolve_job_def(job_name)
    partition_key = latest_partition_key(job, instance)
    run_id = str(uuid.uuid4())
    with storage_hold.storage_held_open(instance, run_id):
        result = job.execute_in_process(
            instance=instance,
            partition_key=partition_key,
            raise_on_error=False,
            run_id=run_id,
            asset_selection=selection,
            tags={**recovery.run_tags(), **location_tags()},
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    label = f"{job_name}" + (f" [{partition_key}]" if partition_key else "")
    if selection is not None:
        label += f" ({len(selection)} of its assets)"
    print(f"{'ok    ' if result.success else 'FAILED'} {label}  run {result.run_id}", flush=True)
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data.error is not None:
                print(f"  {event.step_key}: {event.step_failure_data.error.message.strip()}")
    return result.success


def latest_partition_key(job, instance) -> str | None:
    """The newest partition of a partitioned job (today's vintage), None for unpartitioned jobs."""
    partitions = job.partitions_def
    if partitions is None:
        return None
    keys = partitions.get_partition_keys(dynamic_partitions_store=instance)
    return keys[-1] if keys else None
