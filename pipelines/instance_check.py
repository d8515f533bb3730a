"""Checks the instance and the data paths before anything runs, so a misconfiguration surfaces as
one line naming the setting to fix instead of a stack trace from deep inside a run."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines import settings

DAGSTER_HOME_ENV = "DAGSTER_HOME"
INSTANCE_FILE = "dagster.yaml"
PG_CONNECT_TIMEOUT_S = 3
#: postgres_db fields of dagster-postgres, in the order a connection error points at them.
PG_FIELDS = ("hostname", "port", "username", "password", "db_name")


class SettingError(Exception):
    """A misconfigured setting: the message is one line that names the setting and the fix."""

    def __init__(self, setting: str, problem: str, fix: str):
        self.setting = setting
        super().__init__(f"{setting}: {problem}; {fix}")


@dataclass(frozen=True)
class InstanceSummary:
    """What a healthy configuration resolved to, for the one-line report of `main`."""

    dagster_home: Path
    storage: str
    sources: Path
    warehouse: str

    def line(self) -> str:
        """The report line printed when every check passes."""
        return (
            f"ok: instance {self.dagster_home} ({self.storage}), sources {self.sources}, "
            f"warehouse {self.warehouse}"
        )


def env_refs(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every ``{env: NAME}`` leaf of a parsed dagster.yaml as (dotted config path, NAME)."""
    if isinstance(node, Mapping):
        if set(node) == {"env"} and isinstance(node["env"], str):
            yield path, node["env"]
            return
        for key, value in node.items():
            yield from env_refs(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from env_refs(value, f"{path}[{i}]")


def check_dagster_home(environ: Mapping[str, str]) -> Path:
    """The instance folder named by DAGSTER_HOME: set, absolute, an existing directory."""
    raw = environ.get(DAGSTER_HOME_ENV, "")
    if not raw:
        raise SettingError(
            DAGSTER_HOME_ENV,
            "not set, so runs would go to a throwaway instance and vanish",
            "set it to the instance folder (make sets it to .dagster/ of the project)",
        )
    home = Path(raw)
    if not home.is_absolute():
        raise SettingError(
            f"{DAGSTER_HOME_ENV}={raw}", "not an absolute path", "give the full path"
        )
    if not home.is_dir():
        raise SettingError(
            f"{DAGSTER_HOME_ENV}={raw}",
            "no such directory",
            "create it (make setup does) or point DAGSTER_HOME at the instance folder",
        )
    return home


def load_instance_yaml(home: Path) -> dict[str, Any]:
    """The parsed $DAGSTER_HOME/dagster.yaml ({} when absent, as Dagster treats it)."""
    path = home / INSTANCE_FILE
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise SettingError(
            f"{path}{where}", problem, "fix the YAML (deploy/ and dagster.yaml show the layout)"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingError(str(path), "not a mapping of settings", "fix the YAML")
    return data


def check_env_refs(config: Mapping[str, Any], path: Path, environ: Mapping[str, str]) -> None:
    """Every environment variable the instance file reads must be set."""
    for where, name in env_refs(config):
        if not environ.get(name):
            raise SettingError(name, f"not set (read by {where} in {path})", f"export {name}")


def validate_instance_config(home: Path) -> None:
    """Dagster's own validation of the instance file, reduced to its first error."""
    from dagster._core.errors import DagsterInvalidConfigError
    from dagster._core.instance.config import dagster_instance_config

    try:
        dagster_instance_config(str(home))
    except DagsterInvalidConfigError as exc:
        first = exc.errors[0].message if exc.errors else str(exc).splitlines()[0]
        raise SettingError(
            str(home / INSTANCE_FILE), " ".join(first.split()), "fix that entry"
        ) from None


def _pg_setting_names(pg_db: Mapping[str, Any], path: Path) -> dict[str, str]:
    """For each postgres_db field, the setting a user edits: its env var or its place in the file."""
    names = {}
    for field in PG_FIELDS:
        value = pg_db.get(field)
        if isinstance(value, Mapping) and "env" in value:
            names[field] = str(value["env"])
        else:
            names[field] = f"storage.postgres.postgres_db.{field} in {path}"
    return names


def _resolve(value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, Mapping) and "env" in value:
        return environ.get(str(value["env"]), "")
    return value


def check_postgres(
    pg: Mapping[str, Any], path: Path, environ: Mapping[str, str], timeout_s: int
) -> str:
    """Opens (and closes) one connection to the instance database; a failure names the setting."""
    import psycopg2

    if "postgres_url" in pg:
        setting = "storage.postgres.postgres_url"
        url = _resolve(pg["postgres_url"], environ)
        target = "the database in postgres_url"
        kwargs: dict[str, Any] = {"dsn": url}
        names = dict.fromkeys(PG_FIELDS, setting)
    else:
        pg_db = pg.get("postgres_db") or {}
        names = _pg_setting_names(pg_db, path)
        values = {field: _resolve(pg_db.get(field), environ) for field in PG_FIELDS}
        port = values["port"] if values["port"] not in (None, "") else 5432
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise SettingError(
                f"{names['port']}={port}", "not a port number", "give the server's TCP port"
            ) from None
        target = f"PostgreSQL at {values['hostname']}:{port}"
        kwargs = {
            "host": values["hostname"],
            "port": port,
            "user": values["username"],
            "password": values["password"] or "",
            "dbname": values["db_name"],
        }
    try:
        conn = psycopg2.connect(connect_timeout=timeout_s, **kwargs)
    except psycopg2.OperationalError as exc:
        text = " ".join(str(exc).split())
        lowered = text.lower()
        if "password authentication failed" in lowered or (
            "role" in lowered and "does not exist" in lowered
        ):
            setting = f"{names['username']} / {names['password']}"
            fix = "give the user and password of the instance database"
        elif "database" in lowered and "does not exist" in lowered:
            setting = names["db_name"]
            fix = "create the database or name an existing one"
        elif "could not translate host name" in lowered or "name or service" in lowered:
            setting = names["hostname"]
            fix = "give a host name this machine resolves"
        else:
            setting = f"{names['hostname']} / {names['port']}"
            fix = "start the server or point the settings at a running one"
        first_clause = text.split(" Is the server")[0]
        raise SettingError(setting, f"cannot connect to {target} ({first_clause})", fix) from None
    conn.close()
    return target


def check_sqlite(sqlite: Mapping[str, Any], home: Path, environ: Mapping[str, str]) -> str:
    """The SQLite base_dir exists (or can be created) and is writable."""
    base = _resolve(sqlite.get("base_dir"), environ) or str(home)
    try:
        Path(base).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingError(
            f"storage.sqlite.base_dir={base}", f"cannot create it ({exc.strerror})", "fix the path"
        ) from None
    if not os.access(base, os.W_OK):
        raise SettingError(
            f"storage.sqlite.base_dir={base}", "not writable", "fix permissions or the path"
        )
    return f"sqlite {base}"


def check_sources(environ: Mapping[str, str]) -> Path:
    """The source folder exists and holds CSV files."""
    raw = environ.get(settings.SOURCES_ENV)
    folder = Path(raw) if raw else settings.PROJECT_ROOT / "data" / "sources"
    label = f"{settings.SOURCES_ENV}={raw}" if raw else f"{settings.SOURCES_ENV} (default {folder})"
    if not folder.is_dir():
        raise SettingError(
            label, "no such directory", "point it at the folder of source CSVs (data/sources)"
        )
    if not any(folder.glob("*.csv")):
        raise SettingError(label, "holds no .csv files", "point it at the folder of source CSVs")
    return folder


def check_warehouse(environ: Mapping[str, str]) -> str:
    """The warehouse root is a writable local folder, or a URL whose filesystem is installed."""
    raw = environ.get(settings.WAREHOUSE_ENV)
    root = raw or str(settings.PROJECT_ROOT / "warehouse")
    label = f"{settings.WAREHOUSE_ENV}={raw}" if raw else f"{settings.WAREHOUSE_ENV} (default)"
    if "://" in root and not root.startswith("file://"):
        import fsspec

        protocol = root.split("://", 1)[0]
        try:
            fsspec.get_filesystem_class(protocol)
        except (ImportError, ValueError) as exc:
            raise SettingError(
                label,
                f"no filesystem for '{protocol}://' ({' '.join(str(exc).split())[:120]})",
                "install its fsspec package or use a local path",
            ) from None
        return root
    local = Path(root.removeprefix("file://"))
    if local.exists() and not local.is_dir():
        raise SettingError(label, "is a file, not a folder", "point it at a folder")
    existing = local
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise SettingError(
            label, f"{existing} is not writable", "point it at a folder this user can write"
        )
    return str(local)


def check_all(
    environ: Mapping[str, str] | None = None, pg_timeout_s: int = PG_CONNECT_TIMEOUT_S
) -> InstanceSummary:
    """Runs every check in the order a user would fix them; raises the first SettingError."""
    env = os.environ if environ is None else environ
    home = check_dagster_home(env)
    config = load_instance_yaml(home)
    path = home / INSTANCE_FILE
    check_env_refs(config, path, env)
    validate_instance_config(home)
    storage_cfg = config.get("storage") or {}
    if "postgres" in storage_cfg:
        storage = check_postgres(storage_cfg["postgres"], path, env, pg_timeout_s)
    elif "sqlite" in storage_cfg:
        storage = check_sqlite(storage_cfg["sqlite"], home, env)
    elif storage_cfg:
        storage = f"{next(iter(storage_cfg))} storage"
    else:
        storage = check_sqlite({}, home, env)
    return InstanceSummary(home, storage, check_sources(env), check_warehouse(env))


def open_instance(home: Path) -> None:
    """Opens the instance once, which creates its storage where it does not exist yet (SQLite
    files and their schema, or the PostgreSQL tables): `make setup` does this, so the first run
    does not, and a storage that cannot be created fails here, before any run."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)):
        pass


def main() -> int:
    """Prints one line: what the configuration resolved to, or the setting to fix (exit 1); with
    ``--open``, then opens the instance (`open_instance`)."""
    try:
        summary = check_all()
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if "--open" in sys.argv[1:]:
        open_instance(summary.dagster_home)
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
