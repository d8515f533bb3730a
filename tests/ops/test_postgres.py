"""The README's PostgreSQL commands, run as written against a real server on loopback: the pipeline
materializes through the dagster-postgres instance and its runs, event log, materializations and
check results are rows in PostgreSQL."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.jobs import PIPELINE_JOBS

from .procs import PROJECT_ROOT, cli, code_blocks, isolated_env, markdown_section, shell_commands

pytestmark = pytest.mark.slow

#: Events every successful run stores (their stored names, e.g. RUN_START is "PIPELINE_START").
RUN_EVENTS = (
    dg.DagsterEventType.RUN_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.RUN_SUCCESS,
)
PG_INSTANCE = PROJECT_ROOT / "deploy" / "postgres" / "dagster.yaml"
RUN_TIMEOUT_S = 300


def readme_postgres_commands() -> list[str]:
    """The README's PostgreSQL block, after the lines the fixtures stand in for: installing the
    packages (done by .ci/run) and starting the server (the fixture runs the same script)."""
    section = markdown_section(PROJECT_ROOT / "README.md", "Operate")
    commands = shell_commands(section)
    start = next(i for i, c in enumerate(commands) if "start-postgres.sh" in c)
    assert "install-services.sh" in commands[start - 1]
    tail = commands[start + 1 :]
    end = next(i for i, c in enumerate(tail) if "pipelines.cli run" in c)
    return tail[: end + 1]


def query(pg_env: dict[str, str], sql: str, args: tuple = ()) -> list[tuple]:
    import psycopg2

    conn = psycopg2.connect(
        host=pg_env["DAGSTER_PG_HOST"],
        port=int(pg_env["DAGSTER_PG_PORT"]),
        user=pg_env["DAGSTER_PG_USER"],
        password=pg_env["DAGSTER_PG_PASSWORD"],
        dbname=pg_env["DAGSTER_PG_DB"],
        connect_timeout=10,
    )
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


def run_shell(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """One documented command, with "$DAGSTER_HOME" expanded the way the shell would."""
    expanded = command.replace('"$DAGSTER_HOME', f'"{env["DAGSTER_HOME"]}')
    return subprocess.run(
        cli(expanded),
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


def run_readme_snippets(root: Path, warehouse: Path) -> None:
    """The README's Python snippets, as written, in a folder whose `warehouse/` is this run's."""
    snippets = code_blocks(markdown_section(PROJECT_ROOT / "README.md", "Operate"), "python")
    assert snippets, "the Operate section shows how to read the outputs"
    workdir = root / "reader"
    workdir.mkdir()
    (workdir / "warehouse").symlink_to(warehouse, target_is_directory=True)
    for snippet in snippets:
        proc = subprocess.run(
            [sys.executable, "-c", snippet],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, f"README snippet failed:\n{snippet}\n{proc.stderr}"
        empty = re.search(r"(?<!\d)0 rows", proc.stdout)
        assert empty is None, f"a README query read nothing:\n{proc.stdout}"


def test_pipeline_materializes_through_postgres_instance(pg_env):
    with tempfile.TemporaryDirectory(prefix="outlook-pg-run-") as tmp:
        env = isolated_env(Path(tmp))
        env.update(pg_env)
        commands = readme_postgres_commands()
        assert [c.split()[0] for c in commands] == [
            "export",
            "mkdir",
            "cp",
            ".venv/bin/python",
            ".venv/bin/python",
        ], commands
        # The README's instance folder is its own, never the project's .dagster/ (whose
        # dagster.yaml is a link: `cp` onto it would overwrite the project's file).
        documented_home = Path(commands[0].split("=", 1)[1])
        assert documented_home.is_absolute()
        assert PROJECT_ROOT not in (documented_home, *documented_home.parents)
        outputs = {}
        for command in commands[1:]:
            proc = run_shell(command, env)
            assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
            outputs[command] = proc.stdout
        assert (Path(env["DAGSTER_HOME"]) / "dagster.yaml").read_text() == PG_INSTANCE.read_text()
        check_line = outputs[commands[3]].strip()
        assert check_line.startswith("ok: instance ")
        assert f"PostgreSQL at 127.0.0.1:{pg_env['DAGSTER_PG_PORT']}" in check_line
        # The embedded SQLite storage was never created: everything went to PostgreSQL.
        assert not (Path(env["DAGSTER_HOME"]) / "history").exists()
        run_readme_snippets(Path(tmp), Path(env["OUTLOOK_WAREHOUSE"]))

    runs = query(pg_env, "select run_id, pipeline_name, status from runs")
    by_job = {job: (run_id, status) for run_id, job, status in runs}
    assert set(PIPELINE_JOBS) <= set(by_job), runs
    assert {by_job[j][1] for j in PIPELINE_JOBS} == {"SUCCESS"}

    for job in PIPELINE_JOBS:
        types = {
            t
            for (t,) in query(
                pg_env,
                "select dagster_event_type from event_logs where run_id = %s",
                (by_job[job][0],),
            )
        }
        assert {e.value for e in RUN_EVENTS} <= types, job

    expected_assets = set()
    for job in PIPELINE_JOBS:
        keys = defs.resolve_job_def(job).asset_layer.executable_asset_keys
        expected_assets |= {k.to_user_string() for k in keys}
    materialized = {
        "/".join(json.loads(key))
        for (key,) in query(
            pg_env,
            "select distinct asset_key from event_logs "
            "where dagster_event_type = 'ASSET_MATERIALIZATION'",
        )
    }
    assert materialized == expected_assets

    graph = defs.resolve_asset_graph()
    expected_checks = {
        (k.asset_key.to_user_string(), k.name)
        for k in graph.asset_check_keys
        if k.asset_key.to_user_string() in expected_assets
    }
    executions = query(
        pg_env, "select asset_key, check_name, execution_status from asset_check_executions"
    )
    evaluated = {("/".join(json.loads(key)), name) for key, name, _ in executions}
    assert expected_checks and evaluated == expected_checks
    assert {status for _, _, status in executions} <= {"SUCCEEDED", "FAILED"}
    evaluations = query(
        pg_env,
        "select count(*) from event_logs where dagster_event_type = 'ASSET_CHECK_EVALUATION'",
    )[0][0]
    assert evaluations == len(executions)


def test_command_line_hold_pools_one_connection_and_gives_back_dagsters_engine(
    pg_env, tmp_path, monkeypatch
):
    """While the command line holds the PostgreSQL instance, its event-log and run storages reuse
    one server connection (one backend process) and still store every event; afterwards Dagster's
    own connection-per-call engines are back and the pooled connections are closed."""
    import uuid

    import sqlalchemy.pool
    from dagster_postgres.utils import create_pg_connection

    from pipelines import storage_hold
    from tests.pipelines.held_job import TINY_MESSAGE, tiny_job

    for name, value in pg_env.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "dagster.yaml").write_text(PG_INSTANCE.read_text())
    job = tiny_job()
    run_id = str(uuid.uuid4())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storages = (instance.event_log_storage, instance.run_storage)
        originals = [s._engine for s in storages]
        with storage_hold.storage_held_open(instance, run_id):
            pooled = [s._engine for s in storages]
            for storage in storages:
                assert isinstance(storage._engine.pool, sqlalchemy.pool.QueuePool)
                backends = set()
                for _ in range(3):
                    with create_pg_connection(storage._engine) as conn:
                        backends.add(conn.exec_driver_sql("select pg_backend_pid()").scalar())
                assert len(backends) == 1, "each call opened a new server connection"
            result = job.execute_in_process(instance=instance, run_id=run_id)
        assert result.success
        assert [s._engine for s in storages] == originals
        assert all(isinstance(e.pool, sqlalchemy.pool.NullPool) for e in originals)
        assert all(e.pool.checkedout() == 0 and e.pool.checkedin() == 0 for e in pooled)
        assert TINY_MESSAGE in [e.user_message for e in instance.all_logs(run_id)]
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
