"""Process and environment helpers for the operations tests: free loopback ports, servers that are
always stopped, bounded waits, GraphQL over HTTP and the README's Operate commands."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"
#: Set (to 1) where the servers must run (CI): a missing server fails the test instead of skipping.
REQUIRE_SERVICES_ENV = "OUTLOOK_TEST_REQUIRE_SERVICES"
LOCATION_NAME = "compute_outlook"
REPOSITORY_NAME = "__repository__"

T = TypeVar("T")


def service_unavailable(reason: str) -> None:
    """Skips with the reason, or fails with it where the environment demands the servers."""
    if os.environ.get(REQUIRE_SERVICES_ENV, "") not in ("", "0"):
        pytest.fail(f"{reason} (and {REQUIRE_SERVICES_ENV} demands it)")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = LOOPBACK) -> bool:
    """Whether a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(
    probe: Callable[[], T | None],
    timeout_s: float,
    what: str,
    interval_s: float = 0.5,
    server: Server | None = None,
) -> T:
    """Polls probe until it returns a truthy value; fails naming `what` (and the server's log)."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server is not None and server.proc is not None and server.proc.poll() is not None:
            pytest.fail(
                f"{server.name} exited ({server.proc.returncode}) while waiting for {what}\n{server.log_tail()}"
            )
        try:
            value = probe()
        except Exception as exc:
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(interval_s)
    detail = f" (last error: {last_error!r})" if last_error else ""
    log = f"\n{server.log_tail()}" if server is not None else ""
    pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}{detail}{log}")


class Server:
    """A background process in its own session, logging to a file, stopped with its children."""

    def __init__(
        self, name: str, argv: list[str], env: Mapping[str, str], cwd: Path, log_dir: Path
    ):
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        """Launches the process; its output goes to the log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        return self

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM to the whole process group, SIGKILL after the grace period."""
        if self.proc is None or self.proc.poll() is not None and not _group_alive(self.proc.pid):
            return
        _signal_group(self.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while grace_s and time.monotonic() < deadline:
            if self.proc.poll() is not None and not _group_alive(self.proc.pid):
                return
            time.sleep(0.2)
        _signal_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return f"[{self.name}: no log]"
        return f"--- {self.name} log (tail) ---\n{text[-chars:]}"

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_all(servers: list[Server], grace_s: float = 15.0) -> None:
    """Stops several servers at once: SIGTERM to all, then SIGKILL to whatever outlives the grace."""
    running = [s for s in servers if s.proc is not None]
    for server in running:
        _signal_group(server.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(
        s.proc.poll() is None or _group_alive(s.proc.pid) for s in running
    ):
        time.sleep(0.2)
    for server in running:
        server.stop(grace_s=0)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def http_get(url: str, timeout_s: float = 10.0) -> tuple[int, bytes]:
    """Status and body of a GET (errors as their status)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class GraphQL:
    """A minimal client for the webserver's GraphQL endpoint."""

    def __init__(self, port: int):
        self.url = f"http://{LOOPBACK}:{port}/graphql"

    def __call__(
        self, query: str, variables: Mapping[str, Any] | None = None, timeout_s: float = 60.0
    ) -> dict:
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        req = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            payload = json.loads(resp.read())
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]


def copy_sources(dest: Path) -> Path:
    """A private copy of the project's source CSVs (what OUTLOOK_SOURCES names, else data/sources)."""
    src = Path(os.environ.get("OUTLOOK_SOURCES") or PROJECT_ROOT / "data" / "sources")
    shutil.copytree(src, dest)
    return dest


def isolated_env(root: Path, instance_yaml: Path = PROJECT_ROOT / "dagster.yaml") -> dict[str, str]:
    """Environment for a private instance: DAGSTER_HOME with the given dagster.yaml, a copy of the
    sources and an empty warehouse, all under root."""
    home = root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(instance_yaml, home / "dagster.yaml")
    env = dict(os.environ)
    env.update(
        DAGSTER_HOME=str(home),
        OUTLOOK_SOURCES=str(copy_sources(root / "sources")),
        OUTLOOK_WAREHOUSE=str(root / "warehouse"),
        PYTHONUNBUFFERED="1",
    )
    return env


def init_instance(env: Mapping[str, str]) -> None:
    """Creates the instance's storage once, before several processes open it at the same moment
    (on an empty SQLite instance they would race to create the schema)."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    instance.dispose()


def cli(command: str) -> list[str]:
    """A documented shell command as argv, with `.venv/bin/` mapped to this interpreter's folder."""
    argv = shlex.split(command)
    if argv and argv[0].startswith(".venv/bin/"):
        argv[0] = str(VENV_BIN / argv[0].removeprefix(".venv/bin/"))
    return argv


def with_ports(command: str, ports: Mapping[int, int]) -> str:
    """The command with each documented port replaced by a test port (whole numbers only)."""
    for documented, actual in ports.items():
        command = re.sub(rf"(?<![\d.]){documented}(?!\d)", str(actual), command)
    return command


def markdown_section(path: Path, heading: str) -> str:
    """The text of one `## heading` section of a Markdown file (up to the next `## `)."""
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if match is None:
        raise AssertionError(f"{path.name} has no '## {heading}' section")
    return match.group(1)


def code_blocks(markdown: str, lang: str) -> list[str]:
    """The fenced code blocks of one language, in order."""
    return [m.group(1) for m in re.finditer(rf"^```{lang}\n(.*?)^```", markdown, re.M | re.S)]


def shell_commands(markdown: str) -> list[str]:
    """Every command line of the bash blocks (comments, blank lines and trailing `&` removed)."""
    commands = []
    for block in code_blocks(markdown, "bash"):
        for line in block.splitlines():
            line = line.split(" #")[0].strip() if not line.lstrip().startswith("#") else ""
            if line:
                commands.append(line.removesuffix("&").strip())
    return commands
