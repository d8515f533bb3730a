"""Command line: ``run`` materializes everything on the local instance; ``check-sources`` validates."""

from __future__ import annotations

import argparse
import os
import sys
import time

from pipelines import settings


def check_sources() -> int:
    """Validates every source file without Dagster; prints each problem; exit 1 if any."""
    from assets.ingest import SOURCE_SPECS
    from assets.ingest.factory import validate_all

    problems = validate_all(SOURCE_SPECS)
    for p in problems:
        print(p)
    print(
        f"{len(SOURCE_SPECS)} source files in {settings.sources_dir()}: {len(problems)} problem(s)"
    )
    return 1 if problems else 0


def run() -> int:
    """Materializes every asset in-process on the instance in $DAGSTER_HOME; prints the outputs."""
    import dagster as dg

    from pipelines.definitions import defs

    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = str(settings.PROJECT_ROOT / ".dagster")
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
    from pipelines.instance_check import SettingError, check_all

    try:
        check_all()
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from pipelines import recovery

    started = time.perf_counter()
    instance = dg.DagsterInstance.get()
    try:
        with recovery.warehouse_lock():
            failed = run_jobs(defs, instance)
    except recovery.WarehouseBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    print(f"\nmaterialized in {seconds:.1f} s; Dagster instance: {os.environ['DAGSTER_HOME']}")
    print(f"Parquet warehouse: {settings.warehouse_dir()}")
    for layer in settings.LAYERS:
        path = settings.layer_dir(layer)
        if os.path.isdir(path):
            files = sorted(
                os.path.relpath(os.path.join(d, f), path)
                for d, _, fs in os.walk(path)
                for f in fs
                if f.endswith(".parquet") or f.endswith(".md") or f.endswith(".png")
            )
            if files:
                print(
                    f"  {layer}/: {len(files)} file(s): {', '.join(files[:8])}{' ...' if len(files) > 8 else ''}"
                )
    print("Open the UI with: make ui   (http://127.0.0.1:3000)")
    return 1 if failed else 0


def run_jobs(defs, instance) -> list[str]:
    """Recovers from a killed run, then runs every job upstream first; a job whose upstream job
    failed in this run is skipped (its inputs were not updated). Returns the failed jobs."""
    from pipelines import recovery

    removed, marked = recovery.recover(instance)
    for path in removed:
        print(f"removed a temporary file a killed run left: {path}")
    for run_id in marked:
        print(f"marked run {run_id} failed: its process was killed before it finished")
    failed: list[str] = []
    for job_name in pipeline_jobs(defs):
        if failed:
            print(
                f"SKIPPED {job_name}: {', '.join(failed)} failed in this run, so its inputs are stale"
            )
            continue
        job = defs.resolve_job_def(job_name)
        partition_key = latest_partition_key(job, instance)
        result = job.execute_in_process(
            instance=instance,
            partition_key=partition_key,
            raise_on_error=False,
            tags=recovery.run_tags(),
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        label = f"{job_name}" + (f" [{partition_key}]" if partition_key else "")
        print(f"{'ok    ' if result.success else 'FAILED'} {label}  run {result.run_id}")
        if not result.success:
            failed.append(job_name)
            for event in result.all_events:
                if event.is_step_failure and event.step_failure_data.error is not None:
                    print(f"  {event.step_key}: {event.step_failure_data.error.message.strip()}")
    return failed


def pipeline_jobs(defs) -> list[str]:
    """The jobs that together materialize every asset, upstream first."""
    from pipelines.jobs import PIPELINE_JOBS

    return list(PIPELINE_JOBS)


def latest_partition_key(job, instance) -> str | None:
    """The newest partition of a partitioned job (today's vintage), None for unpartitioned jobs."""
    partitions = job.partitions_def
    if partitions is None:
        return None
    keys = partitions.get_partition_keys(dynamic_partitions_store=instance)
    return keys[-1] if keys else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="materialize every asset on the local instance")
    sub.add_parser("check-sources", help="validate the source CSVs and list every problem")
    args = parser.parse_args(argv)
    return {"run": run, "check-sources": check_sources}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
