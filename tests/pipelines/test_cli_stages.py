"""The command line runs the jobs of a stage at the same time: what one job reads from another of
its stage runs after them, every asset runs exactly once, and a failure in a forked job counts."""

from __future__ import annotations

import shutil

import dagster as dg

from pipelines import cli, settings
from pipelines.definitions import defs
from pipelines.jobs import PIPELINE_STAGES


def job_keys(name: str) -> set:
    return set(defs.resolve_job_def(name).asset_layer.executable_asset_keys)


def test_every_asset_runs_once_and_after_everything_it_reads_from_its_stage():
    graph = defs.resolve_asset_graph()
    for stage in PIPELINE_STAGES:
        together, after = cli.stage_runs(defs, stage)
        runs = [(job, set(sel) if sel is not None else job_keys(job)) for job, sel in together]
        later = [(job, set(sel)) for job, sel in after]
        for job in stage:  # each job's assets, split between its runs without overlap
            parts = [keys for j, keys in runs + later if j == job]
            assert set().union(*parts) == job_keys(job)
            assert sum(len(p) for p in parts) == len(job_keys(job))
        for job, keys in runs:  # nothing run at the same time reads another job of the stage
            others = set().union(*(k for j, k in runs if j != job), *(k for _, k in later))
            for key in keys:
                assert not set(graph.get(key).parent_keys) & others, (job, key)
    together, after = cli.stage_runs(defs, ("derived_job", "forecast_job"))
    assert together[0] == ("derived_job", None)
    waiting = {k.to_user_string() for k in after[0][1]}
    assert after[0][0] == "forecast_job"
    assert {"china_share_forecast", "china_share_backtest"} <= waiting
    assert "api_price_forecast" not in waiting


@dg.asset
def fine() -> int:
    return 1


@dg.asset
def broken() -> int:
    raise ValueError("broken on purpose")


TOY = dg.Definitions(
    assets=[fine, broken],
    jobs=[
        dg.define_asset_job("fine_job", selection=["fine"]),
        dg.define_asset_job("broken_job", selection=["broken"]),
    ],
)


def test_jobs_run_together_and_a_failure_in_the_forked_one_is_reported(tmp_path, monkeypatch):
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        # broken_job runs in the forked process, fine_job here
        failed = cli.run_together(TOY, instance, [("broken_job", None), ("fine_job", None)])
        assert failed == ["broken_job"]
        assert cli.run_together(TOY, instance, [("fine_job", None), ("fine_job", None)]) == []
        runs = instance.get_run_records()
    statuses = sorted((r.dagster_run.job_name, r.dagster_run.status.value) for r in runs)
    assert statuses == [
        ("broken_job", "FAILURE"),
        ("fine_job", "SUCCESS"),
        ("fine_job", "SUCCESS"),
        ("fine_job", "SUCCESS"),
    ]


def test_a_stage_in_a_forked_process_reports_its_failed_jobs(tmp_path, monkeypatch):
    """The first stage runs in a forked process while the full definitions load: its failed jobs
    come back by name, and a process that dies before saying counts its whole stage as failed."""
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert cli._start_stage(TOY, instance, ("fine_job", "broken_job"))() == ["broken_job"]
        assert cli._start_stage(TOY, instance, ("fine_job",))() == []
        # an unknown job fails the stage's planning inside the child, before it says anything
        assert cli._start_stage(TOY, instance, ("fine_job", "no_such_job"))() == [
            "fine_job",
            "no_such_job",
        ]
        runs = instance.get_run_records()
    assert sorted(r.dagster_run.job_name for r in runs) == ["broken_job", "fine_job", "fine_job"]


def _job_layout(definitions: dg.Definitions, name: str) -> tuple:
    job = definitions.resolve_job_def(name)
    layer = job.asset_layer
    return (
        sorted(layer.executable_asset_keys),
        sorted(layer.asset_graph.asset_check_keys),
        sorted(node.name for node in job.graph.nodes),
        job.executor_def.name,
    )


def test_the_first_stage_definitions_give_its_jobs_what_the_full_definitions_give():
    """The command line's first stage runs from ``ingest_definitions`` (no forecasting or report
    library loaded): the same assets, checks, steps and executor as in the code location."""
    from pipelines.ingest_definitions import ingest_defs

    first = PIPELINE_STAGES[0]
    assert set(first) == {job.name for job in ingest_defs.jobs}
    for name in first:
        assert _job_layout(ingest_defs, name) == _job_layout(defs, name), name
