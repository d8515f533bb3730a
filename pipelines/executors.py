"""Executor choice: in-process by default (fast on one machine), switchable by ``OUTLOOK_EXECUTOR``."""

from __future__ import annotations

import os

import dagster as dg

from pipelines import storage_hold

EXECUTOR_ENV = "OUTLOOK_EXECUTOR"
MAX_CONCURRENT_ENV = "OUTLOOK_MAX_CONCURRENT"
CHOICES = ("in_process", "multiprocess", "celery", "k8s")


def executor_from_env() -> dg.ExecutorDefinition:
    """The executor named by ``$OUTLOOK_EXECUTOR``.

    ``in_process`` (default) runs every step in the run's own process: the whole pipeline is a few
    seconds of pandas and Rust work, so a subprocess per step (about a second of imports each on
    2 cores) would cost more than the work. It is Dagster's in-process executor with the run's
    event-log storage held open while the steps run (``held_in_process_executor``).
    ``multiprocess`` runs steps in parallel subprocesses (``$OUTLOOK_MAX_CONCURRENT``, default 2);
    ``celery`` and ``k8s`` are for multi-machine deployments (see ``deploy/``).
    """
    choice = os.environ.get(EXECUTOR_ENV, "in_process").strip() or "in_process"
    if choice == "in_process":
        return held_in_process_executor
    if choice == "multiprocess":
        raw = os.environ.get(MAX_CONCURRENT_ENV, "2")
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{MAX_CONCURRENT_ENV}={raw!r}: expected a whole number >= 1")
        # Step processes fork from a server that has already imported the project, so each step
        # skips the second or so of imports a fresh interpreter pays.
        return dg.multiprocess_executor.configured(
            {
                "max_concurrent": int(raw),
                "start_method": {"forkserver": {"preload_modules": ["pipelines.definitions"]}},
            }
        )
    if choice == "celery":
        from dagster_celery import celery_executor

        return celery_executor
    if choice == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    raise ValueError(f"{EXECUTOR_ENV}={choice!r}: expected one of {', '.join(CHOICES)}")


class HeldExecutor(dg.Executor):
    """Runs another executor's plan with the instance's event-log storage held open
    (``pipelines.storage_hold``): the scheduled and launched runs get the connection reuse the
    command line's runs get."""

    def __init__(self, inner: dg.Executor):
        self._inner = inner

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan):
        with storage_hold.storage_held_open(plan_context.instance, plan_context.run_id):
            yield from self._inner.execute(plan_context, execution_plan)


@dg.executor(name="in_process", config_schema=dg.in_process_executor.config_schema)
def held_in_process_executor(init_context) -> HeldExecutor:
    """Dagster's in-process executor (same name and configuration) with the storage held open."""
    return HeldExecutor(dg.in_process_executor.executor_creation_fn(init_context))
