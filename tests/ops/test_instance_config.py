"""The instance configurations load as Dagster reads them, and a misconfigured setting gives one
line naming what to fix (pipelines.instance_check)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines import instance_check
from pipelines.instance_check import SettingError, check_all, env_refs

from .procs import PROJECT_ROOT, free_port

PROJECT_YAML = PROJECT_ROOT / "dagster.yaml"
PG_YAML = PROJECT_ROOT / "deploy" / "postgres" / "dagster.yaml"
PG_VARS = (
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_PORT",
    "DAGSTER_PG_USER",
    "DAGSTER_PG_PASSWORD",
    "DAGSTER_PG_DB",
)
CORES = 2  # the machine the embedded instance is sized for


@pytest.fixture
def home(tmp_path) -> Path:
    folder = tmp_path / "dagster_home"
    folder.mkdir()
    shutil.copy(PROJECT_YAML, folder / "dagster.yaml")
    return folder


@pytest.fixture
def environ(home, tmp_path) -> dict[str, str]:
    """A complete, healthy environment: instance folder, a sources folder with a CSV, a warehouse."""
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "fx_rates.csv").write_text("fx_id\n")
    return {
        "DAGSTER_HOME": str(home),
        "OUTLOOK_SOURCES": str(sources),
        "OUTLOOK_WAREHOUSE": str(tmp_path / "warehouse"),
    }


def use_postgres(home: Path, environ: dict[str, str], port: int) -> dict[str, str]:
    shutil.copy(PG_YAML, home / "dagster.yaml")
    return {
        **environ,
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": str(port),
        "DAGSTER_PG_USER": "dagster",
        "DAGSTER_PG_PASSWORD": "not-a-real-password",
        "DAGSTER_PG_DB": "dagster",
    }


def one_line_error(environ: dict[str, str], **kwargs) -> str:
    with pytest.raises(SettingError) as info:
        check_all(environ, **kwargs)
    message = str(info.value)
    assert "\n" not in message, message
    return message


def test_embedded_instance_is_sqlite_in_the_instance_folder_with_queue_retries_no_telemetry(home):
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        run = instance.create_run_for_job(dg.GraphDefinition("noop").to_job())
        assert (home / "history" / "runs.db").is_file()
        assert instance.get_run_by_id(run.run_id) is not None
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        assert 1 <= queue.max_concurrent_runs <= CORES
        assert {"key": "dagster/backfill", "limit": 1} in queue.tag_concurrency_limits
        assert instance.run_retries_enabled and instance.run_retries_max_retries >= 1
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        assert instance.run_monitoring_enabled
        assert instance.telemetry_enabled is False
    finally:
        instance.dispose()


def test_instance_folder_is_git_ignored_and_linked_by_make():
    proc = subprocess.run(
        ["git", "check-ignore", "-q", ".dagster/history/runs.db"], cwd=PROJECT_ROOT, check=False
    )
    assert proc.returncode == 0, ".dagster/ must be git-ignored"
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "DAGSTER_HOME ?= $(CURDIR)/.dagster" in makefile
    assert "ln -sf $(CURDIR)/dagster.yaml $@" in makefile


def test_postgres_instance_takes_every_credential_from_the_environment():
    config = yaml.safe_load(PG_YAML.read_text())
    pg_db = config["storage"]["postgres"]["postgres_db"]
    for field in ("hostname", "port", "username", "password", "db_name"):
        assert set(pg_db[field]) == {"env"}, f"{field} must come from an env var"
    assert {name for _, name in env_refs(config)} == set(PG_VARS)
    # Apart from storage, the same policies as the embedded instance.
    project = yaml.safe_load(PROJECT_YAML.read_text())
    for section in ("concurrency", "run_retries", "retention", "telemetry"):
        assert config[section] == project[section], section


def test_postgres_instance_config_validates_and_points_at_the_env_server(home, environ):
    from dagster_postgres.utils import pg_url_from_config

    env = use_postgres(home, environ, 6543)
    instance_check.validate_instance_config(home)
    pg = yaml.safe_load(PG_YAML.read_text())["storage"]["postgres"]
    resolved = {
        **pg,
        "postgres_db": {
            k: (env[v["env"]] if isinstance(v, dict) and "env" in v else v)
            for k, v in pg["postgres_db"].items()
        },
    }
    resolved["postgres_db"]["port"] = int(resolved["postgres_db"]["port"])
    url = pg_url_from_config(resolved)
    assert url.startswith("postgresql+psycopg2://dagster:")
    assert "@127.0.0.1:6543/dagster" in url


def test_healthy_sqlite_configuration_reports_one_ok_line(environ, home):
    summary = check_all(environ)
    assert summary.dagster_home == home
    assert summary.storage == f"sqlite {home}"
    line = summary.line()
    assert line.startswith("ok: instance ") and "\n" not in line


def test_dagster_home_errors_name_the_variable(environ, tmp_path):
    assert one_line_error({**environ, "DAGSTER_HOME": ""}).startswith("DAGSTER_HOME: not set")
    assert "not an absolute path" in one_line_error({**environ, "DAGSTER_HOME": "rel/home"})
    missing = str(tmp_path / "nowhere")
    assert one_line_error({**environ, "DAGSTER_HOME": missing}).startswith(
        f"DAGSTER_HOME={missing}: no such directory"
    )


def test_invalid_instance_file_names_the_file_and_line(environ, home):
    (home / "dagster.yaml").write_text("run_retries:\n  enabled: [unclosed\n")
    message = one_line_error(environ)
    assert message.startswith(f"{home / 'dagster.yaml'} line ")
    (home / "dagster.yaml").write_text("run_retries:\n  enabled: maybe\n")
    message = one_line_error(environ)
    assert message.startswith(str(home / "dagster.yaml")) and "enabled" in message


def test_unset_database_variable_is_named(environ, home):
    env = use_postgres(home, environ, free_port())
    del env["DAGSTER_PG_PASSWORD"]
    message = one_line_error(env)
    assert message.startswith(
        "DAGSTER_PG_PASSWORD: not set (read by storage.postgres.postgres_db.password"
    )
    assert message.endswith("export DAGSTER_PG_PASSWORD")


def test_unreachable_database_names_host_and_port(environ, home):
    port = free_port()  # nothing listens there
    message = one_line_error(use_postgres(home, environ, port), pg_timeout_s=2)
    assert message.startswith("DAGSTER_PG_HOST / DAGSTER_PG_PORT: cannot connect to PostgreSQL at ")
    assert f"127.0.0.1:{port}" in message and "Connection refused" in message


def test_bad_port_is_named(environ, home):
    env = {**use_postgres(home, environ, 5432), "DAGSTER_PG_PORT": "fivefourthreetwo"}
    assert one_line_error(env).startswith("DAGSTER_PG_PORT=fivefourthreetwo: not a port number")


def test_wrong_password_and_database_name_the_setting(environ, home, postgres_server):
    env = use_postgres(home, environ, int(postgres_server["DAGSTER_PG_PORT"]))
    env.update(postgres_server)
    assert check_all(env).storage.startswith("PostgreSQL at 127.0.0.1:")
    wrong = one_line_error({**env, "DAGSTER_PG_PASSWORD": "wrong"})
    assert wrong.startswith("DAGSTER_PG_USER / DAGSTER_PG_PASSWORD: cannot connect")
    assert "password authentication failed" in wrong
    no_db = one_line_error({**env, "DAGSTER_PG_DB": "no_such_db"})
    assert no_db.startswith("DAGSTER_PG_DB: cannot connect") and "no_such_db" in no_db


def test_source_folder_errors_name_outlook_sources(environ, tmp_path):
    missing = str(tmp_path / "no_sources")
    assert one_line_error({**environ, "OUTLOOK_SOURCES": missing}).startswith(
        f"OUTLOOK_SOURCES={missing}: no such directory"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no .csv files" in one_line_error({**environ, "OUTLOOK_SOURCES": str(empty)})


def test_warehouse_errors_name_outlook_warehouse(environ, tmp_path):
    a_file = tmp_path / "file.parquet"
    a_file.write_bytes(b"")
    assert one_line_error({**environ, "OUTLOOK_WAREHOUSE": str(a_file)}).startswith(
        f"OUTLOOK_WAREHOUSE={a_file}: is a file, not a folder"
    )
    message = one_line_error({**environ, "OUTLOOK_WAREHOUSE": "nosuchfs://bucket/warehouse"})
    assert message.startswith("OUTLOOK_WAREHOUSE=nosuchfs://bucket/warehouse: no filesystem for")


def test_command_prints_the_one_line_and_exits_nonzero(environ, tmp_path):
    env = {**environ, "OUTLOOK_SOURCES": str(tmp_path / "gone"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.instance_check"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: OUTLOOK_SOURCES=")


def test_open_creates_the_instance_storage_that_make_setup_leaves(environ, home):
    # Without --open the check only reads; with it the SQLite storage exists before any run.
    command = [sys.executable, "-m", "pipelines.instance_check"]
    for args, created in (([], False), (["--open"], True)):
        proc = subprocess.run(
            command + args, cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True
        )
        assert proc.returncode == 0 and proc.stdout.startswith("ok: instance "), proc.stderr
        assert (home / "history" / "runs.db").is_file() is created
        assert (home / "history" / "runs" / "index.db").is_file() is created
