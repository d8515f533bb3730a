"""Accelerator specs and the alias table that maps every spelling of a chip to one id."""

from __future__ import annotations

import json

import pandas as pd

from assets.ingest.factory import Check, SourceSpec
from assets.ingest.schema import Column, Problem, SourceSchema, normalise_alias

CHIP_ALIASES = SourceSchema(
    asset="chip_aliases",
    file="chip_aliases.csv",
    description="Spellings of accelerator names (article, datasheets, press) mapped to one chip id.",
    columns=(
        Column("alias", "str", "A spelling of the chip name as found in a source", required=True),
        Column("chip_id", "str", "Canonical chip id (lowercase slug)", required=True),
        Column("note", "str", "Why this spelling maps here"),
    ),
    key=("alias",),
    provenance=False,
)


def _tflops(name: str, what: str) -> Column:
    return Column(name, "float", what, unit="TFLOPS", min=0.1, max=100_000)


HARDWARE_SPECS = SourceSchema(
    asset="hardware_specs",
    file="hardware_specs.csv",
    description=(
        "Accelerator specs, one row per (chip, source): vendor datasheets, measurements, analyst "
        "estimates and the article's claims side by side; `is_default` marks the row used downstream."
    ),
    columns=(
        Column("spec_id", "str", "Unique id of this (chip, source) row", required=True),
        Column("chip_id", "chip", "Chip id, resolved through chip_aliases", required=True),
        Column("vendor", "str", "Vendor", required=True),
        Column("model", "str", "Model / SKU name as the source gives it", required=True),
        Column(
            "launch_year",
            "int",
            "Year of launch or first shipment",
            unit="year",
            min=2010,
            max=2035,
        ),
        Column(
            "is_default", "bool", "This row supplies the chip's values downstream", required=True
        ),
        _tflops("bf16_dense_tflops", "Peak dense BF16 (or FP16) tensor throughput"),
        _tflops("bf16_sparse_tflops", "Peak 2:4-sparse BF16 (or FP16) tensor throughput"),
        _tflops("fp8_dense_tflops", "Peak dense FP8 tensor throughput"),
        _tflops("fp8_sparse_tflops", "Peak 2:4-sparse FP8 tensor throughput"),
        Column(
            "int8_dense_tops",
            "float",
            "Peak dense INT8 throughput",
            unit="TOPS",
            min=0.1,
            max=100_000,
        ),
        Column("memory_gb", "float", "Accelerator memory capacity", unit="GB", min=1, max=100_000),
        Column("memory_type", "str", "Memory technology (HBM3, LPDDR5, ...)"),
        Column("memory_bw_gbps", "float", "Memory bandwidth", unit="GB/s", min=1, max=2_000_000),
        Column(
            "scale_up_gbps",
            "float",
            "Scale-up link bandwidth per chip (NVLink, HCCS, UB)",
            unit="GB/s",
            min=0.1,
            max=100_000,
        ),
        Column(
            "scale_up_domain_chips",
            "int",
            "Chips in one scale-up domain",
            unit="chips",
            min=1,
            max=100_000,
        ),
        Column(
            "scale_out_gbps",
            "float",
            "Scale-out NIC bandwidth per chip",
            unit="GB/s",
            min=0.1,
            max=10_000,
        ),
        Column(
            "tdp_w",
            "float",
            "Thermal design power (or board/system power for system rows)",
            unit="W",
            min=1,
            max=1_000_000,
        ),
        Column(
            "list_price_usd",
            "float",
            "List or street price per chip",
            unit="USD",
            min=1,
            max=10_000_000,
        ),
        Column("export_control", "str", "Export-control status for China"),
    ),
    key=("spec_id",),
)

#: The spec values resolved per chip (numbers, then descriptive text).
SPEC_VALUES = [c.name for c in HARDWARE_SPECS.columns if c.dtype in ("float", "int")]
SPEC_TEXT = ["memory_type", "export_control"]
_NUMERIC = [c.name for c in HARDWARE_SPECS.columns if c.dtype == "float"]
_KIND_RANK = {"spec": 0, "measured": 1, "estimate": 2}
_CONFIDENCE_RANK = {"high": 0, "medium": 1, "low": 2}


def resolve_specs(hardware_specs: pd.DataFrame) -> pd.DataFrame:
    """One row per chip with sourced (non-claim) rows. Each value comes from the default row where it
    states one; otherwise from the best-ranked sourced rows (spec > measured > estimate, then
    confidence), taking the value most of them agree on, then the most recently published, then the
    lowest spec_id, so the choice is deterministic. `value_sources` names the row of each value;
    `low_confidence_fields` lists the values that came from a low- or unrated-confidence fallback."""
    sourced = hardware_specs[hardware_specs["kind"] != "claim"]
    columns = [*SPEC_VALUES, *SPEC_TEXT]
    keys = ["spec_id", "chip_id", "is_default", "kind", "confidence", "published"]
    long = (
        sourced[keys + columns]
        .astype({c: "object" for c in columns})
        .melt(id_vars=keys, value_vars=columns, var_name="column", value_name="value")
    )
    long = long[long["value"].notna()].assign(
        _default=lambda d: (~d["is_default"].astype(bool)).astype(int),
        _kind=lambda d: d["kind"].map(_KIND_RANK),
        _conf=lambda d: d["confidence"].map(_CONFIDENCE_RANK).fillna(3),
        _pub=lambda d: d["published"].where(d["published"] != "n.d.", "").astype(str),
        _value=lambda d: d["value"].astype(str),
    )
    tier = ["chip_id", "column", "_default", "_kind", "_conf"]
    long["_agree"] = -long.groupby([*tier, "_value"])["value"].transform("size")
    order = [*tier, "_agree", "_pub", "spec_id"]
    best = (
        long.sort_values(order, ascending=[True] * 6 + [False, True])
        .groupby(["chip_id", "column"])
        .head(1)
    )

    heads = (
        sourced.assign(_default=(~sourced["is_default"].astype(bool)).astype(int))
        .sort_values(["chip_id", "_default", "spec_id"])
        .groupby("chip_id")
        .head(1)
    )
    out = heads[["chip_id", "vendor", "model"]].copy()
    out["default_spec_id"] = heads["spec_id"].where(heads["is_default"].astype(bool))
    values = best.pivot(index="chip_id", columns="column", values="value").reindex(columns=columns)
    out = out.merge(values, left_on="chip_id", right_index=True, how="left")
    used = best.groupby("chip_id").apply(
        lambda g: json.dumps(dict(zip(g["column"], g["spec_id"], strict=True)), sort_keys=True),
        include_groups=False,
    )
    out["value_sources"] = out["chip_id"].map(used).fillna("{}")
    weak = best[(best["_default"] == 1) & (best["_conf"] >= _CONFIDENCE_RANK["low"])]
    flagged = weak.groupby("chip_id")["column"].agg(lambda cols: ",".join(sorted(cols)))
    out["low_confidence_fields"] = out["chip_id"].map(flagged).fillna("")
    dtypes = {
        c.name: {"float": "float64", "int": "Int64"}[c.dtype]
        for c in HARDWARE_SPECS.columns
        if c.name in SPEC_VALUES
    }
    text = [
        "chip_id",
        "vendor",
        "model",
        "default_spec_id",
        *SPEC_TEXT,
        "value_sources",
        "low_confidence_fields",
    ]
    return (
        out.astype({**dtypes, **dict.fromkeys(text, "string")})
        .sort_values("chip_id")
        .reset_index(drop=True)
    )


def one_default_per_chip(table: pd.DataFrame, file: str) -> list[Problem]:
    """Every chip with a non-claim row has exactly one default row, and no claim is a default."""
    problems = []
    claims = table[(table["kind"] == "claim") & table["is_default"]]
    problems += [
        Problem(
            file,
            int(r.source_line),
            "is_default",
            "a claim row cannot be the default; use a sourced row",
        )
        for r in claims.itertuples()
    ]
    for chip, rows in table.groupby("chip_id"):
        n_default = int(rows["is_default"].sum())
        sourced = rows[rows["kind"] != "claim"]
        if n_default > 1:
            lines = ", ".join(str(x) for x in rows.loc[rows["is_default"], "source_line"])
            problems.append(
                Problem(
                    file,
                    int(rows["source_line"].max()),
                    "is_default",
                    f"chip '{chip}' has {n_default} default rows (lines {lines}); mark exactly one",
                )
            )
        elif n_default == 0 and len(sourced):
            problems.append(
                Problem(
                    file,
                    int(sourced["source_line"].min()),
                    "is_default",
                    f"chip '{chip}' has sourced rows but none is marked is_default=true",
                )
            )
    return problems


def alias_is_not_another_chip(table: pd.DataFrame, file: str) -> list[Problem]:
    """An alias may not name another chip's id (exactly, or once case, spaces, hyphens and
    underscores are ignored), and two chip ids may not differ only that way: either would
    silently move one chip's rows onto another."""
    ids = {}
    problems = []
    for chip in sorted(set(table["chip_id"])):
        key = normalise_alias(chip)
        if key in ids and ids[key] != chip:
            line = int(table.loc[table["chip_id"] == chip, "source_line"].min())
            problems.append(
                Problem(
                    file,
                    line,
                    "chip_id",
                    f"chip id '{chip}' differs from chip id '{ids[key]}' only in case or separators",
                    chip,
                )
            )
        ids.setdefault(key, chip)
    for r in table.itertuples():
        other = ids.get(normalise_alias(r.alias))
        if other is not None and other != r.chip_id:
            same = "is" if r.alias == other else "differs only in case or separators from"
            problems.append(
                Problem(
                    file,
                    int(r.source_line),
                    "alias",
                    f"alias '{r.alias}' {same} the id of another chip ('{other}') but maps to "
                    f"'{r.chip_id}'",
                    r.alias,
                )
            )
    return problems


def unique_normalised_alias(table: pd.DataFrame, file: str) -> list[Problem]:
    """No two aliases may collide once case, spaces and hyphens are ignored, unless they agree."""
    keys = table.assign(key=table["alias"].map(normalise_alias))
    problems = []
    for _, rows in keys.groupby("key"):
        if rows["chip_id"].nunique() > 1:
            first = rows.iloc[0]
            for r in rows.iloc[1:].itertuples():
                problems.append(
                    Problem(
                        file,
                        int(r.source_line),
                        "alias",
                        f"'{r.alias}' collides with '{first.alias}' (line {first.source_line}) which maps to '{first.chip_id}'",
                    )
                )
    return problems


def claims_vs_default(table: pd.DataFrame) -> tuple[bool, str, dict]:
    """Lists each article/claim value that differs from the chip's resolved (sourced) value."""
    defaults = resolve_specs(table).set_index("chip_id")
    diffs = []
    for r in table[table["kind"] == "claim"].itertuples():
        for col in _NUMERIC:
            claimed = getattr(r, col)
            if pd.isna(claimed):
                continue
            sourced = defaults[col].get(r.chip_id) if r.chip_id in defaults.index else None
            if sourced is None or pd.isna(sourced):
                diffs.append(
                    {
                        "chip_id": r.chip_id,
                        "column": col,
                        "claimed": claimed,
                        "default": None,
                        "verdict": "no sourced value",
                    }
                )
            elif abs(claimed - sourced) > 0.05 * abs(sourced):
                diffs.append(
                    {
                        "chip_id": r.chip_id,
                        "column": col,
                        "claimed": claimed,
                        "default": float(sourced),
                        "verdict": "contradicted",
                    }
                )
    text = f"{len(diffs)} claimed value(s) differ from the default row or have no sourced value"
    return (
        not diffs,
        text,
        {"differences": pd.DataFrame(diffs).to_markdown(index=False) if diffs else ""},
    )


def chips_have_compute(table: pd.DataFrame) -> tuple[bool, str, dict]:
    """Every chip has a sourced dense BF16/FP16 peak, which every derived metric needs."""
    resolved = resolve_specs(table)
    missing = resolved.loc[resolved["bf16_dense_tflops"].isna(), "chip_id"].tolist()
    return (
        not missing,
        f"{len(missing)} chip(s) without a sourced bf16_dense_tflops",
        {"chips": ", ".join(missing)},
    )


CHIP_ALIASES_SPEC = SourceSpec(
    CHIP_ALIASES, rules=(unique_normalised_alias, alias_is_not_another_chip)
)
HARDWARE_SPECS_SPEC = SourceSpec(
    HARDWARE_SPECS,
    uses_aliases=True,
    rules=(one_default_per_chip,),
    checks=(
        Check(
            "claims_vs_datasheet",
            "Article claims that differ from the chip's default (sourced) value by more than 5%.",
            claims_vs_default,
            blocking=False,
        ),
        Check(
            "chips_have_compute",
            "Every chip has a sourced dense BF16/FP16 TFLOPS (derived metrics need it).",
            chips_have_compute,
            blocking=False,
        ),
    ),
)
