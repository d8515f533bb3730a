"""The README's Operate commands: each one is exercised by a test; the UI binds loopback (as
documented and by default); no secret is committed."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from pipelines.definitions import defs

from . import test_executors, test_postgres, test_webserver
from .procs import (
    LOOPBACK,
    PROJECT_ROOT,
    GraphQL,
    Server,
    cli,
    free_port,
    http_get,
    isolated_env,
    markdown_section,
    shell_commands,
    wait_for,
    with_ports,
)

README = PROJECT_ROOT / "README.md"

#: Each README Operate command (a pattern) and the test that runs it as written.
EXERCISED = {
    r"make setup": "the `make test` of .ci/run (test: setup)",
    r"export DAGSTER_HOME=\$PWD/\.dagster": "test_readme_dagster_home_is_what_make_sets",
    r"\.venv/bin/dagster dev -h 127\.0\.0\.1 -p 3000": "test_dagster_dev_serves_the_project_on_loopback",
    r"\.venv/bin/dagster code-server start .*": "test_webserver.stack",
    r"\.venv/bin/dagster-webserver .*": "test_webserver.stack",
    r"\.venv/bin/dagster-daemon run .*": "test_webserver.stack",
    r"deploy/ci/install-services\.sh": ".ci/run",
    r'eval "\$\(deploy/ci/start-postgres\.sh .*\)"': "conftest.postgres_server / .ci/run",
    r"export DAGSTER_HOME=/tmp/outlook-postgres-home": "test_postgres (its own DAGSTER_HOME)",
    r'mkdir -p "\$DAGSTER_HOME"': "test_postgres",
    r'cp deploy/postgres/dagster\.yaml "\$DAGSTER_HOME/dagster\.yaml"': "test_postgres",
    r"\.venv/bin/python -m pipelines\.instance_check": "test_postgres",
    r"\.venv/bin/python -m pipelines\.cli run": "test_postgres",
}


def readme_commands() -> list[str]:
    return shell_commands(markdown_section(README, "Operate"))


def test_every_readme_operate_command_is_exercised():
    commands = readme_commands()
    assert commands
    for command in commands:
        matches = [p for p in EXERCISED if re.fullmatch(p, command)]
        assert len(matches) == 1, f"no test runs this README command: {command}"
    for pattern in EXERCISED:
        assert any(re.fullmatch(pattern, c) for c in commands), f"stale entry: {pattern}"
    # The tests that run them read them from the README (so the two cannot drift apart).
    assert len(test_webserver.production_commands()) == 3
    assert len(test_postgres.readme_postgres_commands()) == 5
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "deploy/ci/install-services.sh" in ci and "deploy/ci/start-postgres.sh" in ci
    assert ci.rstrip().splitlines()[-1] == "make test"
    assert re.search(r"^test: setup\b", (PROJECT_ROOT / "Makefile").read_text(), re.M)
    assert len(test_executors.celery_commands()) == 2


def test_readme_dagster_home_is_what_make_sets():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "DAGSTER_HOME ?= $(CURDIR)/.dagster" in makefile
    assert "export DAGSTER_HOME=$PWD/.dagster" in readme_commands()
    ui = re.search(r"^ui:.*\n\t(.+)$", makefile, re.M)
    assert ui and ui.group(1).strip() == ".venv/bin/dagster dev -h 127.0.0.1 -p 3000".replace(
        ".venv/bin", "$(VENV)/bin"
    ), "make ui runs the README's command"


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on the port (from /proc/net/tcp and tcp6)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, _, state = line.split()[1:4]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:
                raw = bytes.fromhex(address)
                if width == 8:
                    found.add(".".join(str(b) for b in reversed(raw)))
                else:
                    found.add(raw.hex())
    return found


def test_listening_addresses_reads_proc_net_tcp():
    import socket

    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen()
        assert listening_addresses(sock.getsockname()[1]) == {LOOPBACK}


@pytest.mark.slow
def test_dagster_dev_serves_the_project_on_loopback():
    (command,) = [c for c in readme_commands() if " dev " in c]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="outlook-dev-") as tmp:
        env = isolated_env(Path(tmp))
        with Server(
            "dagster-dev", cli(with_ports(command, {3000: port})), env, PROJECT_ROOT, Path(tmp)
        ) as dev:
            wait_for(
                lambda: http_get(f"http://{LOOPBACK}:{port}/server_info")[0] == 200,
                180,
                "dagster dev",
                server=dev,
            )
            gql = GraphQL(port)
            wait_for(
                lambda: test_webserver.location_loaded(gql), 180, "the code location", server=dev
            )
            assert listening_addresses(port) == {LOOPBACK}
            assets = gql("{ assetNodes { assetKey { path } } }")["assetNodes"]
            expected = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
            assert {"/".join(a["assetKey"]["path"]) for a in assets} == expected


def test_webserver_binds_loopback_when_no_host_is_given():
    """The installed dagster-webserver's own default, which `dagster dev` falls back to."""
    from dagster_webserver.cli import dagster_webserver

    host = next(p for p in dagster_webserver.params if p.name == "host")
    assert host.default == LOOPBACK


def documented_commands() -> list[tuple[str, str]]:
    """(file, command) for every shell command of the docs and the Makefile recipes."""
    out = []
    for path in [README, *PROJECT_ROOT.glob("docs/*.md"), *PROJECT_ROOT.glob("deploy/*/README.md")]:
        out += [(path.name, c) for c in shell_commands(path.read_text(encoding="utf-8"))]
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    out += [("Makefile", line.strip()) for line in makefile.splitlines() if line.startswith("\t")]
    return out


def test_every_documented_server_binds_loopback():
    servers = 0
    for where, command in documented_commands():
        assert "0.0.0.0" not in command, f"{where}: {command}"
        if re.match(r"(\S*/)?dagster(-webserver | dev | code-server start )", command):
            servers += 1
            assert re.search(r"(^|\s)-h 127\.0\.0\.1(\s|$)", command), f"{where}: {command}"
    assert servers >= 3


SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "credentials in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"{}]+:[^/\s@'\"{}$]+@"),
    "password assignment": re.compile(r"(?i)\bpassword\s*[:=]\s*['\"][^'\"$\n]{4,}['\"]"),
}


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    files = []
    for name in filter(None, names):
        path = PROJECT_ROOT / name.decode()
        if path.is_file() and path.suffix not in {".so", ".png", ".parquet", ".lock"}:
            files.append(path)
    return files


def test_no_secret_is_committed():
    for path in tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for what, pattern in SECRET_PATTERNS.items():
            match = pattern.search(text)
            assert match is None, f"{path.relative_to(PROJECT_ROOT)}: {what}: {match.group(0)[:40]}"


def test_secret_patterns_catch_what_they_name():
    # Assembled at run time so that this file does not match its own scan.
    literal = "hunter" + "22"
    assert SECRET_PATTERNS["credentials in a URL"].search(f"postgresql://dagster:{literal}@db/x")
    assert not SECRET_PATTERNS["credentials in a URL"].search("redis://127.0.0.1:6379/0")
    assert not SECRET_PATTERNS["credentials in a URL"].search('f"postgresql://{user}:{pw}@{host}"')
    quoted = '"' + literal + '"'
    assert SECRET_PATTERNS["password assignment"].search("password = " + quoted)
    assert not SECRET_PATTERNS["password assignment"].search(
        "password:\n  env: DAGSTER_PG_PASSWORD"
    )


def test_instance_files_read_credentials_only_from_env():
    for path in [PROJECT_ROOT / "dagster.yaml", *PROJECT_ROOT.glob("deploy/**/*.yaml")]:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        stack = [("", config)]
        while stack:
            where, node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if re.fullmatch(
                        r"(?i)(.*password|.*token|.*secret_key|broker|backend|postgres_url)",
                        str(key),
                    ) and not str(key).startswith("generate"):
                        ok = isinstance(value, dict) and set(value) == {"env"}
                        assert ok or str(key).endswith(("SecretName", "Secret")), (
                            f"{path.name}: {where}.{key}"
                        )
                    stack.append((f"{where}.{key}", value))
            elif isinstance(node, list):
                stack += [(f"{where}[{i}]", v) for i, v in enumerate(node)]


def test_resources_take_secret_fields_from_env_vars():
    import dagster as dg

    for name, resource in (defs.resources or {}).items():
        fields = getattr(resource, "__dict__", {})
        for field, value in fields.items():
            if re.search(r"(?i)password|secret|token|credential|api_key", field):
                assert isinstance(value, dg.EnvVar) or value is None, f"{name}.{field}"
