"""Builds one Dagster ingest asset per source schema: validate, reject visibly, write Parquet, check."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dagster as dg
import pandas as pd
from upath import UPath

from assets.ingest import source_file
from assets.ingest.schema import (
    Problem,
    SourceSchema,
    Validated,
    normalise_alias,
    rejected_frame,
    validate_file,
)
from pipelines import io, settings

OWNERS = ["team:compute-outlook"]
GROUP = "ingest"

#: A rule over the typed table of one file; returns problems located by the row's source line.
RowRule = Callable[[pd.DataFrame, str], list[Problem]]
#: A transform from the validated table (and upstream tables) to the clean table.
Transform = Callable[..., pd.DataFrame]


@dataclass(frozen=True)
class Check:
    """An asset check over the clean table: returns (passed, description, metadata). ``needs``
    names upstream tables passed to ``fn`` as keyword arguments. A blocking check runs before
    the table is published: if it fails, the published table stays as it was."""

    name: str
    description: str
    fn: Callable[..., tuple[bool, str, dict]]
    blocking: bool = True
    needs: tuple[str, ...] = ()

    def audit(self, table: pd.DataFrame, **tables: pd.DataFrame) -> list[str]:
        """The check as a blocking audit: its description when it fails, nothing when it passes."""
        passed, description, _ = self.fn(table, **{n: tables[n] for n in self.needs})
        return [] if passed else [description]


def check_results(
    checks: Sequence[Check], table: pd.DataFrame, tables: dict[str, pd.DataFrame]
) -> tuple[list[dg.AssetCheckResult], list[str]]:
    """Every check's result on a table, and the reasons of the blocking checks that failed."""
    results, refused = [], []
    for check in checks:
        passed, description, meta = check.fn(table, **{n: tables[n] for n in check.needs})
        results.append(
            dg.AssetCheckResult(
                check_name=check.name,
                passed=passed,
                severity=dg.AssetCheckSeverity.ERROR
                if check.blocking
                else dg.AssetCheckSeverity.WARN,
                description=description,
                metadata=meta,
            )
        )
        if check.blocking and not passed:
            refused.append(f"{check.name}: {description}")
    return results, refused


def rejected_path(asset: str) -> UPath:
    """Where the rejected rows of one asset are kept for the user to see."""
    return UPath(settings.layer_dir("rejected")) / f"{asset}.parquet"


def record_rejected(asset: str, validated: Validated) -> None:
    """Writes the rejected rows (with their reasons) atomically; clears them after a clean run."""
    path = rejected_path(asset)
    if validated.problems:
        io.write_parquet_atomic(io.arrow_table(validated.rejected.astype(str)), path)
    elif path.exists():
        path.unlink()
    staged = io.staged_path(asset)
    if validated.ok and staged.exists():
        staged.unlink()


def aliases_map(chip_aliases: pd.DataFrame) -> dict[str, str]:
    """Normalised alias → chip id, every chip id being an alias of itself."""
    out = {normalise_alias(c): c for c in chip_aliases["chip_id"]}
    out.update(
        zip(chip_aliases["alias"].map(normalise_alias), chip_aliases["chip_id"], strict=True)
    )
    return out


def load_source(
    schema: SourceSchema,
    aliases: dict[str, str] | None = None,
    rules: Sequence[RowRule] = (),
) -> Validated:
    """Validates one source file from the configured folder, then applies the file's row rules."""
    folder = settings.sources_dir()
    path = folder / schema.file
    unusable = source_file.folder_problem(str(folder))
    if unusable is not None:
        problem = Problem(str(folder), 0, "", unusable)
        return Validated(pd.DataFrame(), [problem], rejected_frame([problem]))
    validated = validate_file(path, schema, aliases)
    if validated.ok:
        extra = [p for rule in rules for p in rule(validated.table, str(path))]
        if extra:
            bad_lines = {p.line for p in extra}
            validated = Validated(
                validated.table[~validated.table["source_line"].isin(bad_lines)],
                extra,
                rejected_frame(extra),
            )
    return validated


def table_schema(
    schema: SourceSchema, added: Sequence[tuple[str, str, str, str]] = ()
) -> dg.TableSchema:
    """The clean table's column schema: the source columns, then the columns the transform adds."""
    types = {
        "str": "string",
        "published": "string",
        "chip": "string",
        "float": "double",
        "int": "int64",
        "bool": "boolean",
        "date": "timestamp",
    }
    cols = [(c.name, types[c.dtype], c.unit, c.description) for c in schema.all_columns]
    cols.append(
        ("source_line", "int64", "", "Line of the source CSV this row came from (1 = header)")
    )
    return io.column_schema(*cols, *added)


@dataclass(frozen=True)
class SourceSpec:
    """Everything about one source file: its schema, what it needs upstream, rules, transform, checks."""

    schema: SourceSchema
    uses_aliases: bool = False
    upstream: tuple[str, ...] = ()
    transform: Transform | None = None
    rules: tuple[RowRule, ...] = ()
    added_columns: tuple[tuple[str, str, str, str], ...] = ()
    checks: tuple[Check, ...] = ()


def ingest_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    """One ingest asset: the file is validated (fail with file/line/column/reason, rejected rows kept
    in ``warehouse/rejected/``, last good Parquet untouched), transformed, written, and checked."""
    schema = spec.schema
    needed = [n for c in spec.checks for n in c.needs if n not in spec.upstream]
    inputs = (["chip_aliases"] if spec.uses_aliases else []) + list(spec.upstream) + needed
    for check in spec.checks:
        if check.blocking and not check.needs:
            io.register_audit(schema.asset, check.name, check.audit)
    check_specs = [
        dg.AssetCheckSpec(
            c.name, asset=schema.asset, description=c.description, blocking=c.blocking
        )
        for c in spec.checks
    ]

    @dg.asset(
        name=schema.asset,
        group_name=GROUP,
        description=f"{schema.description} Source: `{schema.file}`.",
        kinds={"csv", "pandas"},
        owners=OWNERS,
        io_manager_key="clean_io",
        ins={name: dg.AssetIn(name) for name in inputs},
        check_specs=check_specs,
        metadata={
            "dagster/column_schema": table_schema(schema, spec.added_columns),
            "source_file": schema.file,
            "primary_key": list(schema.key),
        },
    )
    def _asset(context, **upstream_tables: pd.DataFrame):
        aliases = aliases_map(upstream_tables["chip_aliases"]) if spec.uses_aliases else None
        validated = load_source(schema, aliases, spec.rules)
        record_rejected(schema.asset, validated)
        if not validated.ok:
            raise dg.Failure(
                description=validated.message(),
                metadata={
                    "problems": len(validated.problems),
                    "rejected_rows": dg.MetadataValue.path(str(rejected_path(schema.asset))),
                },
            )
        table = validated.table
        if spec.transform is not None:
            extra = {k: upstream_tables[k] for k in spec.upstream}
            table = spec.transform(table, **extra)
        results, refused = check_results(spec.checks, table, upstream_tables)
        yield from results
        if refused:
            raise io.refuse_publish(
                table, schema.asset, refused, table_schema(schema, spec.added_columns)
            )
        source = settings.sources_dir() / schema.file
        yield dg.Output(table, metadata={"source_file": dg.MetadataValue.path(str(source))})

    return _asset


def validate_all(specs: Sequence[SourceSpec]) -> list[Problem]:
    """Validates every source file outside Dagster (for the command line) exactly as a run would:
    the file's rows, its cross-row rules, its transform and its blocking checks, upstream first."""
    folder = settings.sources_dir()
    unusable = source_file.folder_problem(str(folder))
    if unusable is not None:
        return [Problem(str(folder), 0, "", unusable)]
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    ordered = sorted(specs, key=lambda s: s.schema.asset != "chip_aliases")
    for spec in ordered:
        aliases = None
        if spec.uses_aliases:
            aliases = aliases_map(tables["chip_aliases"]) if "chip_aliases" in tables else {}
        result = load_source(spec.schema, aliases, spec.rules)
        problems += result.problems
        if not result.ok:
            continue
        table = result.table
        needed = set(spec.upstream) | {n for c in spec.checks for n in c.needs}
        if not needed <= set(tables):
            continue
        if spec.transform is not None:
            table = spec.transform(table, **{k: tables[k] for k in spec.upstream})
        _, refused = check_results(spec.checks, table, tables)
        file = str(settings.sources_dir() / spec.schema.file)
        problems += [
            Problem(file, 0, "", f"blocking check {reason}; the run would not publish this table")
            for reason in refused
        ]
        if not refused:
            tables[spec.schema.asset] = table
    return problems
