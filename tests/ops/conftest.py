"""Fixtures that start real servers on loopback (PostgreSQL, Redis) and always stop them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .procs import LOOPBACK, PROJECT_ROOT, Server, free_port, service_unavailable, wait_for

#: `env` uses the server whose DAGSTER_PG_* are exported (CI starts one); otherwise tests start one.
POSTGRES_SOURCE_ENV = "OUTLOOK_TEST_POSTGRES"
PG_VARS = (
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_PORT",
    "DAGSTER_PG_USER",
    "DAGSTER_PG_PASSWORD",
    "DAGSTER_PG_DB",
)
START_PG = PROJECT_ROOT / "deploy" / "ci" / "start-postgres.sh"
STOP_PG = PROJECT_ROOT / "deploy" / "ci" / "stop-postgres.sh"


def _read_env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        out[name] = value
    return out


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[dict[str, str]]:
    """DAGSTER_PG_* of a PostgreSQL server on 127.0.0.1: the exported one, or one started here."""
    if os.environ.get(POSTGRES_SOURCE_ENV) == "env":
        missing = [v for v in PG_VARS if not os.environ.get(v)]
        if missing:
            pytest.fail(f"{POSTGRES_SOURCE_ENV}=env but {', '.join(missing)} not set")
        yield {v: os.environ[v] for v in PG_VARS}
        return
    # Under /tmp (not pytest's 0700 tmp dirs): the server runs as the postgres user when root.
    base = Path(tempfile.mkdtemp(prefix="outlook-pg-", dir="/tmp"))
    os.chmod(base, 0o755)
    cluster = base / "cluster"
    proc = subprocess.run(
        [str(START_PG), str(cluster)], capture_output=True, text=True, timeout=120
    )
    try:
        if proc.returncode == 2:
            service_unavailable(f"PostgreSQL cannot be started here: {proc.stderr.strip()}")
        assert proc.returncode == 0, f"start-postgres.sh failed:\n{proc.stdout}\n{proc.stderr}"
        yield _read_env_file(cluster / "env")
    finally:
        subprocess.run([str(STOP_PG), str(cluster), "--remove"], timeout=60, check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_env(postgres_server) -> Iterator[dict[str, str]]:
    """DAGSTER_PG_* naming a fresh, empty database on the test server (dropped afterwards)."""
    import psycopg2

    db = f"outlook_test_{uuid.uuid4().hex[:12]}"
    admin = dict(
        host=postgres_server["DAGSTER_PG_HOST"],
        port=int(postgres_server["DAGSTER_PG_PORT"]),
        user=postgres_server["DAGSTER_PG_USER"],
        password=postgres_server["DAGSTER_PG_PASSWORD"],
        dbname=postgres_server["DAGSTER_PG_DB"],
        connect_timeout=10,
    )
    conn = psycopg2.connect(**admin)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{db}"')
        yield {**postgres_server, "DAGSTER_PG_DB": db}
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    finally:
        conn.close()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """redis:// URL of a private redis-server on 127.0.0.1 (no persistence), stopped afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        service_unavailable(
            "redis-server is not installed (deploy/ci/install-services.sh installs it)"
        )
    port = free_port()
    root = tmp_path_factory.mktemp("redis")
    argv = [
        binary,
        "--bind",
        LOOPBACK,
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
        "--dir",
        str(root),
    ]
    with Server("redis", argv, os.environ, root, root) as server:
        import redis

        client = redis.Redis(host=LOOPBACK, port=port, socket_timeout=2)
        wait_for(client.ping, 20, "redis-server to answer PING", server=server)
        yield f"redis://{LOOPBACK}:{port}/0"
