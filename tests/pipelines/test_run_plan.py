"""The command line's plan of runs: every asset runs exactly once, each run after the runs it reads
from and as soon as they are done, a failure in a forked run counts and skips what reads it, and
the first stage's own definitions give its jobs what the full definitions give."""

from __future__ import annotations

import shutil

import dagster as dg

from pipelines import run_plan, settings
from pipelines.definitions import defs
from pipelines.jobs import PIPELINE_STAGES


def job_keys(name: str) -> set:
    return set(defs.resolve_job_def(name).asset_layer.executable_asset_keys)


def test_every_asset_runs_once_and_after_everything_it_reads_from_its_stage():
    graph = defs.resolve_asset_graph()
    for stage in PIPELINE_STAGES:
        runs = run_plan.stage_runs(defs, stage)
        assets = [
            set(run.selection) if run.selection is not None else job_keys(run.job) for run in runs
        ]
        for job in stage:  # each job's assets, split between its runs without overlap
            parts = [keys for run, keys in zip(runs, assets, strict=True) if run.job == job]
            assert set().union(*parts) == job_keys(job)
            assert sum(len(p) for p in parts) == len(job_keys(job))
        owner = {key: i for i, keys in enumerate(assets) for key in keys}
        for i, (run, keys) in enumerate(zip(runs, assets, strict=True)):
            assert all(d < i for d in run.after), run  # listed after what it reads from
            for key in keys:  # whatever it reads from its stage is its own or done before it
                for parent in graph.get(key).parent_keys:
                    if parent in owner and owner[parent] != i:
                        assert owner[parent] in run.after, (run.job, key, parent)
    runs = run_plan.stage_runs(defs, ("derived_job", "forecast_job"))
    position = {
        key.to_user_string(): i
        for i, run in enumerate(runs)
        for key in (run.selection or job_keys(run.job))
    }
    derived = position["domestic_share_observed"]
    assert runs[derived] == run_plan.PlannedRun("derived_job")  # the whole job, at once
    assert runs[position["api_price_forecast"]].after == frozenset()
    # the China share forecasts wait for the derived job only, not for the other forecasts
    assert runs[position["china_share_forecast"]].after == {derived}
    history = runs[position["forecast_vintage_history"]]
    assert {position["api_price_forecast"], position["china_share_forecast"]} <= history.after


@dg.asset
def fine() -> int:
    return 1


@dg.asset
def broken() -> int:
    raise ValueError("broken on purpose")


@dg.asset(deps=[broken])
def after_broken() -> int:
    return 2


TOY = dg.Definitions(
    assets=[fine, broken, after_broken],
    jobs=[
        dg.define_asset_job("fine_job", selection=["fine"]),
        dg.define_asset_job("broken_job", selection=["broken"]),
        dg.define_asset_job("after_broken_job", selection=["after_broken"]),
    ],
)


def test_planned_runs_go_at_once_and_a_failure_skips_what_reads_it(tmp_path, monkeypatch, capfd):
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    plan = run_plan.stage_runs(TOY, ("broken_job", "fine_job", "after_broken_job"))
    assert plan == [
        run_plan.PlannedRun("broken_job"),
        run_plan.PlannedRun("fine_job"),
        run_plan.PlannedRun(
            "after_broken_job", None, frozenset({0})
        ),  # all of it, after broken_job
    ]
    with dg.DagsterInstance.get() as instance:
        # each run in its own forked process; the one reading the failed run is skipped
        assert run_plan.run_planned(TOY, instance, plan, []) == ["broken_job"]
        assert "SKIPPED after_broken_job: broken_job failed" in capfd.readouterr().out
        # a job that failed earlier in the pipeline skips every run of a later stage
        assert run_plan.run_planned(TOY, instance, plan[1:2], ["ingest_job"]) == ["ingest_job"]
        assert run_plan.run_planned(TOY, instance, plan[1:2], []) == []
        runs = instance.get_run_records()
    statuses = sorted((r.dagster_run.job_name, r.dagster_run.status.value) for r in runs)
    assert statuses == [("broken_job", "FAILURE"), ("fine_job", "SUCCESS"), ("fine_job", "SUCCESS")]


def test_a_stage_in_a_forked_process_reports_its_failed_jobs(tmp_path, monkeypatch):
    """The first stage runs in a forked process while the full definitions load: its failed jobs
    come back by name, and a process that dies before saying counts its whole stage as failed."""
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert run_plan._start_stage(TOY, instance, ("fine_job", "broken_job"))() == ["broken_job"]
        assert run_plan._start_stage(TOY, instance, ("fine_job",))() == []
        # an unknown job fails the stage's planning inside the child, before it says anything
        assert run_plan._start_stage(TOY, instance, ("fine_job", "no_such_job"))() == [
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
