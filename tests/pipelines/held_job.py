"""A one-asset job on the project's default executor, loadable by module path (`execute_job`
rebuilds it in the run) for the storage-hold tests."""

from __future__ import annotations

import dagster as dg

from pipelines.executors import executor_from_env


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
