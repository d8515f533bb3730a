"""Command-line runs carry the code location's repository label, which is how the UI lists a job's
runs, so they show on the job pages of the location the webserver loads."""

from __future__ import annotations

import dagster as dg
import yaml
from dagster._core.remote_origin import GrpcServerCodeLocationOrigin, RemoteRepositoryOrigin
from dagster._core.storage.dagster_run import RunsFilter
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG

from pipelines import run_plan, settings


def workspace_label() -> str:
    """The repository label the webserver computes for the deployed workspace's location."""
    config = yaml.safe_load((settings.PROJECT_ROOT / "deploy" / "workspace.yaml").read_text())
    grpc = config["load_from"][0]["grpc_server"]
    origin = GrpcServerCodeLocationOrigin(
        host=grpc["host"], port=grpc["port"], location_name=grpc["location_name"]
    )
    return RemoteRepositoryOrigin(origin, "__repository__").get_label()


def test_cli_run_tags_match_the_label_the_ui_filters_job_runs_by(instance):
    tags = run_plan.location_tags()
    assert tags[REPOSITORY_LABEL_TAG] == workspace_label() == "__repository__@compute_outlook"

    @dg.asset
    def tiny() -> int:
        return 1

    job = dg.define_asset_job("tiny_job", selection=[tiny])
    defs = dg.Definitions(assets=[tiny], jobs=[job])
    result = defs.resolve_job_def("tiny_job").execute_in_process(instance=instance, tags=tags)
    assert result.success
    listed = instance.get_runs(
        RunsFilter(job_name="tiny_job", tags={REPOSITORY_LABEL_TAG: workspace_label()})
    )
    assert [run.run_id for run in listed] == [result.run_id]
