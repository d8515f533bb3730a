"""End to end with the daemon: after a command-line run (whose runs show on the job pages), a
changed source CSV reaches outlook.md with no manual step (source sensor, then the automation
sensor's eager conditions on the ledger and the report)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import RunsFilter

from pipelines import recovery

from .procs import (
    LOCATION_NAME,
    LOOPBACK,
    PROJECT_ROOT,
    REPOSITORY_NAME,
    GraphQL,
    Server,
    cli,
    free_port,
    http_get,
    isolated_env,
    stop_all,
    wait_for,
    with_ports,
)
from .test_webserver import (
    DOC_PORTS,
    WORKSPACE,
    WORKSPACE_ARG,
    location_loaded,
    production_commands,
)

pytestmark = pytest.mark.slow

MARKER = " [edited for the automation test]"
SENSORS = ("source_files_sensor", "automation_sensor")
#: Source sensor (30 s) + ingest run + automation tick (30 s) + ledger and report runs, on 2 cores.
PROPAGATION_TIMEOUT_S = 900

JOB_RUNS_QUERY = """
query($s: PipelineSelector!) {
  pipelineOrError(params: $s) {
    __typename
    ... on Pipeline { runs(limit: 50) { runId } }
  }
}"""
TICKS_QUERY = """
query($s: SensorSelector!) {
  sensorOrError(sensorSelector: $s) {
    __typename
    ... on Sensor { sensorState { status ticks(limit: 5) { status } } }
  }
}"""


def cli_run_ids(output: str) -> dict[str, str]:
    """Job name → run id from the command line's summary lines (`ok  <job> [key]  run <id>`)."""
    out = {}
    for line in output.splitlines():
        parts = line.split()
        if parts[:1] == ["ok"] and "run" in parts:
            out[parts[1]] = parts[parts.index("run") + 1]
    return out


def edit_claim_text(path: Path, claim_id: str) -> str:
    """Appends MARKER to one claim's text (a valid content change); returns the new text."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("text")
    row = next(r for r in rows[1:] if r[0] == claim_id)
    row[column] += MARKER
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return row[column]


def test_changed_source_csv_reaches_the_report_through_the_daemon():
    root = Path(tempfile.mkdtemp(prefix="outlook-automation-"))
    env = isolated_env(root)
    env["OUTLOOK_UPSTREAM"] = "offline"
    # Sensors tick every 5 s instead of 30, so the chain edit -> ingest -> ledger takes seconds.
    env["OUTLOOK_SENSOR_INTERVAL_S"] = "5"
    servers: list[Server] = []
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        cli_runs = cli_run_ids(done.stdout)
        assert {"upstream_job", "ingest_job", "derived_job", "report_job"} <= set(cli_runs)
        pages = Path(env["OUTLOOK_WAREHOUSE"]) / "report"
        main_page = (pages / "outlook.md").read_text(encoding="utf-8")
        assert "## Sources and attribution" in main_page and "CC BY 4.0" in main_page
        # The claims ledger page lists every claim's text; the main page only the headline ones.
        report = pages / "ledger.md"
        before = report.read_text(encoding="utf-8")

        ports = {doc: free_port() for doc in DOC_PORTS}
        workspace = root / "workspace.yaml"
        workspace.write_text(with_ports(WORKSPACE.read_text(), ports))
        names = ("code-server", "webserver", "daemon")
        servers = [
            Server(
                name,
                cli(with_ports(cmd, ports).replace(WORKSPACE_ARG, str(workspace))),
                env,
                PROJECT_ROOT,
                root / "logs",
            )
            for name, cmd in zip(names, production_commands(), strict=True)
        ]
        for server in servers:
            server.start()
        gql = GraphQL(ports[3000])
        wait_for(
            lambda: http_get(f"http://{LOOPBACK}:{ports[3000]}/server_info")[0] == 200,
            180,
            "the webserver to answer /server_info",
            server=servers[1],
        )
        wait_for(lambda: location_loaded(gql), 240, "the code location to load", server=servers[0])

        # The command line's runs are runs of the code location: listed on each job's page.
        repo = {"repositoryLocationName": LOCATION_NAME, "repositoryName": REPOSITORY_NAME}
        for job in ("derived_job", "report_job"):
            data = gql(JOB_RUNS_QUERY, {"s": {**repo, "pipelineName": job}})["pipelineOrError"]
            assert data["__typename"] == "Pipeline", data
            assert cli_runs[job] in [r["runId"] for r in data["runs"]], job

        # Both sensors have ticked once (the first tick records the state) before the change.
        for sensor in SENSORS:

            def ticked(name=sensor):
                data = gql(TICKS_QUERY, {"s": {**repo, "sensorName": name}})["sensorOrError"]
                assert data["__typename"] == "Sensor", data
                return data["sensorState"]["ticks"]

            wait_for(ticked, 240, f"the first tick of {sensor}", interval_s=2, server=servers[2])

        edited = edit_claim_text(Path(env["OUTLOOK_SOURCES"]) / "claims.csv", "C01")
        after = wait_for(
            lambda: (
                (text := report.read_text(encoding="utf-8")) != before and MARKER in text and text
            ),
            PROPAGATION_TIMEOUT_S,
            "ledger.md to show the edited claim",
            interval_s=5,
            server=servers[2],
        )
        assert edited in after
    finally:
        stop_all(servers)
        runs = []
        home = env.get("DAGSTER_HOME")
        if home:
            instance = dg.DagsterInstance.from_config(home)
            runs = instance.get_runs(RunsFilter())
            instance.dispose()
        shutil.rmtree(root, ignore_errors=True)
    automated = [
        r
        for r in runs
        if r.asset_selection
        and dg.AssetKey("outlook_report") in r.asset_selection
        and r.tags.get(recovery.LAUNCHER_TAG) != "cli"
    ]
    assert automated, [(r.job_name, dict(r.tags)) for r in runs]
    assert all(
        r.tags.get(recovery.LAUNCHER_TAG) == "cli" for r in runs if r.run_id in cli_runs.values()
    )
