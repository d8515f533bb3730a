"""One-asset jobs for the storage-hold tests: one that logs a line (run in-process under a hold),
and one on the project's default executor, loadable by module path (`execute_job` rebuilds it in
the run), that logs whether the storage is held."""

from __future__ import annotations

import dagster as dg

from pipelines.executors import executor_from_env

TINY_MESSAGE = "tiny ran"


@dg.asset
def tiny(context) -> int:
    """Logs TINY_MESSAGE, so a test can find the run's events in the storage."""
    context.log.info(TINY_MESSAGE)
    return 1


def tiny_job() -> dg.JobDefinition:
    """The one-asset job of ``tiny``."""
    defs = dg.Definitions(assets=[tiny], jobs=[dg.define_asset_job("tiny_job")])
    return defs.resolve_job_def("tiny_job")


@dg.asset
def held_probe(context) -> int:
    """Logs whether the event-log storage is held open while the step runs."""
    storage = context.instance.event_log_storage
    context.log.info(f"held={'_connect' in vars(storage)}")
    return 1


def held_job() -> dg.JobDefinition:
    """The probe's job, with the executor the project's jobs get by default."""
    defs = dg.Definitions(
        assets=[held_probe], jobs=[dg.define_asset_job("held_job")], executor=executor_from_env()
    )
    return defs.resolve_job_def("held_job")
