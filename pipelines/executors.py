"""Executor choice: in-process by default (fast on one machine), switchable by ``OUTLOOK_EXECUTOR``."""

from __future__ import annotations

import os

import dagster as dg

EXECUTOR_ENV = "OUTLOOK_EXECUTOR"
MAX_CONCURRENT_ENV = "OUTLOOK_MAX_CONCURRENT"
CHOICES = ("in_process", "multiprocess", "celery", "k8s")


def executor_from_env() -> dg.ExecutorDefinition:
    """The executor named by ``$OUTLOOK_EXECUTOR``.

    ``in_process`` (default) runs every step in the run's own process: the whole pipeline is a few
    seconds of pandas and Rust work, so a subprocess per step (about a second of imports each on
    2 cores) would cost more than the work. ``multiprocess`` runs steps in parallel subprocesses
    (``$OUTLOOK_MAX_CONCURRENT``, default 2); ``celery`` and ``k8s`` are for multi-machine
    deployments (see ``deploy/``).
    """
    choice = os.environ.get(EXECUTOR_ENV, "in_process").strip() or "in_process"
    if choice == "in_process":
        return dg.in_process_executor
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
