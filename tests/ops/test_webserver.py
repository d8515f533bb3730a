"""The production stack of the README (code server, webserver, one daemon, shared instance) serves
the project: the asset graph over GraphQL, a launched run, the catalogue in a real browser, and a
sensor that the daemon fires when a source file changes."""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.definitions import defs

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
    init_instance,
    isolated_env,
    markdown_section,
    service_unavailable,
    shell_commands,
    stop_all,
    wait_for,
    with_ports,
)

pytestmark = pytest.mark.slow

README = PROJECT_ROOT / "README.md"
WORKSPACE_ARG = "deploy/workspace.yaml"
WORKSPACE = PROJECT_ROOT / WORKSPACE_ARG
DOC_PORTS = (3000, 4000)  # webserver, code server, as the README writes them
SENSOR = "source_files_sensor"
#: The sensor's minimum interval (30 s) plus a run: the bound on seeing its run finish.
SENSOR_RUN_TIMEOUT_S = 150
RUN_TIMEOUT_S = 150

REPO = {"repositoryLocationName": LOCATION_NAME, "repositoryName": REPOSITORY_NAME}

SENSOR_QUERY = """
query($s: SensorSelector!) {
  sensorOrError(sensorSelector: $s) {
    __typename
    ... on Sensor {
      sensorState { status ticks(limit: 10) { status timestamp cursor runIds skipReason } }
    }
    ... on PythonError { message }
  }
}"""

RUN_QUERY = """
query($id: ID!) {
  runOrError(runId: $id) {
    __typename
    ... on Run { status jobName assetSelection { path } tags { key value } }
    ... on PythonError { message }
  }
}"""


@dataclass
class Stack:
    """The running production processes and the private instance they share."""

    env: dict[str, str]
    root: Path
    ports: dict[int, int]
    servers: list[Server]
    gql: GraphQL
    changed_source: Path | None = None
    changed_at: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def web_port(self) -> int:
        return self.ports[3000]

    def logs(self) -> str:
        return "\n".join(s.log_tail() for s in self.servers)


def production_commands() -> list[str]:
    """The README's production commands: code server, webserver, daemon (in that order)."""
    section = markdown_section(README, "Operate")
    wanted = ("dagster code-server start", "dagster-webserver", "dagster-daemon run")
    commands = [c for c in shell_commands(section) if any(w in c for w in wanted)]
    assert [next(w for w in wanted if w in c) for c in commands] == list(wanted), commands
    return commands


def rewrite_first_data_rows(path: Path) -> None:
    """A real content change that keeps the file valid: the data rows in reverse order."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([rows[0], *reversed(rows[1:])])


def sensor_ticks(gql: GraphQL) -> list[dict]:
    data = gql(SENSOR_QUERY, {"s": {**REPO, "sensorName": SENSOR}})["sensorOrError"]
    assert data["__typename"] == "Sensor", data
    return data["sensorState"]["ticks"]


@pytest.fixture(scope="module")
def stack() -> Stack:
    """Starts the README's production commands on free loopback ports over a private instance
    (the project's dagster.yaml, a copy of the sources, an empty warehouse); stops them after."""
    root = Path(tempfile.mkdtemp(prefix="outlook-stack-"))
    env = isolated_env(root)
    init_instance(env)
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
    stack = Stack(env, root, ports, servers, GraphQL(ports[3000]))
    try:
        for server in servers:
            server.start()
        wait_for(
            lambda: http_get(f"http://{LOOPBACK}:{ports[3000]}/server_info")[0] == 200,
            120,
            "the webserver to answer /server_info",
            server=servers[1],
        )
        wait_for(
            lambda: location_loaded(stack.gql), 180, "the code location to load", server=servers[0]
        )
        # The daemon's first sensor tick records the source fingerprints; a change made after it
        # must make a later tick request a run. Change the file now so the sensor's 30 s interval
        # passes while the other tests run.
        wait_for(
            lambda: sensor_ticks(stack.gql),
            120,
            f"the first tick of {SENSOR}",
            interval_s=1,
            server=servers[2],
        )
        target = Path(env["OUTLOOK_SOURCES"]) / "hardware_specs.csv"
        rewrite_first_data_rows(target)
        stack.changed_source, stack.changed_at = target, time.time()
        yield stack
    finally:
        stop_all(servers)
        shutil.rmtree(root, ignore_errors=True)


def location_loaded(gql: GraphQL) -> bool:
    data = gql(
        """{ workspaceOrError { __typename ... on Workspace { locationEntries {
               name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
    )["workspaceOrError"]
    entries = {e["name"]: e for e in data["locationEntries"]}
    entry = entries.get(LOCATION_NAME)
    if entry is None or entry["loadStatus"] != "LOADED":
        return False
    error = entry["locationOrLoadError"]
    assert error["__typename"] == "RepositoryLocation", f"code location failed to load: {error}"
    return True


def wait_for_run(stack: Stack, run_id: str, timeout_s: float) -> dict:
    """Polls the run until it ends; fails with the processes' logs if it does not succeed."""
    final = {"SUCCESS", "FAILURE", "CANCELED"}

    def done():
        run = stack.gql(RUN_QUERY, {"id": run_id})["runOrError"]
        return run if run.get("status") in final else None

    run = wait_for(done, timeout_s, f"run {run_id} to finish", interval_s=1)
    assert run["status"] == "SUCCESS", f"run {run_id}: {run['status']}\n{stack.logs()}"
    return run


def test_graphql_serves_every_asset_check_job_schedule_and_sensor(stack):
    data = stack.gql(
        """{ assetNodes { assetKey { path } groupName
               assetChecksOrError { __typename ... on AssetChecks { checks { name } } } } }"""
    )
    served = {"/".join(n["assetKey"]["path"]) for n in data["assetNodes"]}
    graph = defs.resolve_asset_graph()
    expected = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert served == expected

    served_checks = {
        ("/".join(n["assetKey"]["path"]), c["name"])
        for n in data["assetNodes"]
        if n["assetChecksOrError"]["__typename"] == "AssetChecks"
        for c in n["assetChecksOrError"]["checks"]
    }
    expected_checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert expected_checks and served_checks == expected_checks

    repo = stack.gql(
        """query($r: RepositorySelector!) { repositoryOrError(repositorySelector: $r) {
               __typename ... on Repository { jobs { name } schedules { name } sensors { name } } } }""",
        {"r": REPO},
    )["repositoryOrError"]
    assert repo["__typename"] == "Repository", repo
    assert {"ingest_job"} <= {j["name"] for j in repo["jobs"]}
    assert {s["name"] for s in repo["schedules"]} == {s.name for s in defs.schedules or []}
    assert {s["name"] for s in repo["sensors"]} == {s.name for s in defs.sensors or []}


def test_launch_ingest_job_through_graphql_writes_parquet(stack):
    launched = stack.gql(
        """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
               __typename ... on LaunchRunSuccess { run { runId } }
               ... on PythonError { message } ... on RunConfigValidationInvalid { errors { message } } } }""",
        {"p": {"selector": {**REPO, "jobName": "ingest_job"}, "runConfigData": {}}},
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    wait_for_run(stack, run_id, RUN_TIMEOUT_S)

    clean = Path(stack.env["OUTLOOK_WAREHOUSE"]) / "clean"
    ingest = defs.resolve_job_def("ingest_job")
    assets = {k.to_user_string() for k in ingest.asset_layer.executable_asset_keys}
    written = {p.stem for p in clean.glob("*.parquet")}
    assert assets <= written, f"no Parquet for {sorted(assets - written)}"
    for name in assets:
        assert pq.read_metadata(clean / f"{name}.parquet").num_rows > 0, name

    events = stack.gql(
        """query($id: ID!) { logsForRun(runId: $id) { __typename ... on EventConnection {
               events { __typename ... on MaterializationEvent { assetKey { path } } } } } }""",
        {"id": run_id},
    )["logsForRun"]["events"]
    materialized = {
        "/".join(e["assetKey"]["path"]) for e in events if e["__typename"] == "MaterializationEvent"
    }
    assert materialized == assets


def test_asset_catalogue_renders_asset_names_in_headless_chromium(stack, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        service_unavailable("Chromium is not installed (deploy/ci/install-services.sh installs it)")
    url = f"http://{LOOPBACK}:{stack.web_port}/assets?view=flat"
    argv = [
        browser,
        "--headless",
        "--no-sandbox",  # root in CI containers
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1600,6000",
        "--virtual-time-budget=20000",
        "--dump-dom",
        url,
    ]
    graph = defs.resolve_asset_graph()
    names = {k.path[-1] for k in graph.get_all_asset_keys()}

    def rendered():
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        dom = proc.stdout
        stack.notes.append(f"chromium exit {proc.returncode}, {len(dom)} chars of DOM")
        found = {n for n in names if f">{n}<" in dom or f"/assets/{n}" in dom}
        return found if found == names else None

    found = wait_for(rendered, 240, "the asset catalogue to list every asset", interval_s=1)
    assert found == names
    # The names come from the UI's JavaScript (GraphQL), not from the page the server sends.
    status, raw = http_get(url)
    assert status == 200
    assert not {n for n in names if f">{n}<" in raw.decode(errors="replace")}


def test_daemon_runs_sensor_on_changed_source_file(stack):
    assert stack.changed_source is not None
    changed_asset = stack.changed_source.stem

    def sensor_run():
        for tick in sensor_ticks(stack.gql):
            if tick["runIds"] and tick["timestamp"] >= stack.changed_at - 1:
                return tick
        return None

    tick = wait_for(sensor_run, SENSOR_RUN_TIMEOUT_S, f"{SENSOR} to request a run", interval_s=2)
    assert len(tick["runIds"]) == 1
    run = wait_for_run(stack, tick["runIds"][0], SENSOR_RUN_TIMEOUT_S)
    assert ["/".join(a["path"]) for a in run["assetSelection"]] == [changed_asset]
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags.get("dagster/sensor_name") == SENSOR
    assert tags.get("dagster/run_key", "").startswith("sources:")
    parquet = Path(stack.env["OUTLOOK_WAREHOUSE"]) / "clean" / f"{changed_asset}.parquet"
    assert parquet.stat().st_mtime >= stack.changed_at
