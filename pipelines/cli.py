"""Command line: ``run`` materializes everything on the local instance; ``check-sources`` validates;
``what-if`` predicts one training scenario and appends it to ``what_if_runs``."""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
import time

from pipelines import settings


def loaded() -> None:
    """Call once the command's modules are loaded: freezes them (the collector never walks them
    again) and turns the collector back on. ``main`` turns it off first: loading Dagster, pandas,
    SciPy and the definitions makes no garbage worth collecting, yet each full collection meanwhile
    walks everything loaded so far (about 0.5 s of CPU in all)."""
    gc.freeze()
    gc.enable()


def check_sources() -> int:
    """Validates every source file without Dagster; prints each problem; exit 1 if any."""
    from assets.ingest import SOURCE_SPECS
    from assets.ingest.factory import validate_all

    loaded()
    problems = validate_all(SOURCE_SPECS)
    for p in problems:
        print(p)
    print(
        f"{len(SOURCE_SPECS)} source files in {settings.sources_dir()}: {len(problems)} problem(s)"
    )
    return 1 if problems else 0


def _checked_instance() -> bool:
    """Points DAGSTER_HOME at the project's instance when unset; False (with the one setting to
    fix printed) when the instance, sources or warehouse are not usable."""
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = str(settings.PROJECT_ROOT / ".dagster")
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
    from pipelines.instance_check import SettingError, check_all

    try:
        check_all()
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    return True


def run() -> int:
    """Materializes every asset in-process on the instance in $DAGSTER_HOME; prints the outputs."""
    import dagster as dg

    from pipelines import chart_memo, compute_logs, run_plan
    from pipelines.ingest_definitions import ingest_defs

    # The modules and definitions live as long as the process: frozen, the collector never walks
    # them again during the run (and forked runs and chart workers share their pages untouched).
    # The collector stays off until the full definitions are loaded too (`run_plan.run_jobs`).
    gc.freeze()
    if not _checked_instance():
        return 1
    from pipelines import recovery

    started = time.perf_counter()
    instance = compute_logs.captured_to_files(dg.DagsterInstance.get())
    try:
        with recovery.warehouse_lock(), chart_memo.memo_for_run():
            failed = run_plan.run_jobs(ingest_defs, instance)
    except recovery.WarehouseBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    print(f"\nmaterialized in {seconds:.1f} s; Dagster instance: {os.environ['DAGSTER_HOME']}")
    print(f"Parquet warehouse: {settings.warehouse_dir()}")
    for layer in settings.LAYERS:
        path = settings.layer_dir(layer)
        if os.path.isdir(path):
            files = sorted(
                os.path.relpath(os.path.join(d, f), path)
                for d, _, fs in os.walk(path)
                for f in fs
                if f.endswith(".parquet") or f.endswith(".md") or f.endswith(".png")
            )
            if files:
                print(
                    f"  {layer}/: {len(files)} file(s): {', '.join(files[:8])}{' ...' if len(files) > 8 else ''}"
                )
    print("Open the UI with: make ui   (http://127.0.0.1:3000)")
    return 1 if failed else 0


#: what-if options: (flag, config field, type, help). The config field's launchpad description says
#: the same; an option left out keeps the launchpad default.
WHAT_IF_OPTIONS = (
    ("--chip", "chip_id", str, "chip id or alias, e.g. 'Ascend 910B' or H100"),
    ("--chips", "chips", int, "cluster size in chips"),
    ("--model", "model_id", str, "llama2-7b | llama2-70b | llama3-405b | deepseek-v3-671b"),
    ("--precision", "precision", str, "bf16 | fp8"),
    ("--training-tokens", "training_tokens", float, "tokens to train on (default: published)"),
    ("--global-batch-tokens", "global_batch_tokens", int, "global batch (default: model's rule)"),
    ("--price", "price_usd_per_chip_hour", float, "USD per chip-hour (default: rental median)"),
    ("--chip-price-usd", "chip_price_usd", float, "ownership: chip price (default: chip_prices)"),
    ("--life-years", "life_years", float, "ownership: amortisation life (assumption)"),
    ("--usd-per-kwh", "usd_per_kwh", float, "ownership: electricity price (assumption)"),
    ("--hosting-usd-per-chip-hour", "hosting_usd_per_chip_hour", float, "ownership: hosting"),
    ("--peak-tflops", "peak_tflops", float, "override: dense peak TFLOPS"),
    ("--memory-gb", "memory_gb", float, "override: memory per chip"),
    ("--memory-bw-gbps", "memory_bw_gbps", float, "override: memory bandwidth"),
    ("--scale-up-gbps", "scale_up_gbps", float, "override: scale-up bandwidth per chip"),
    ("--scale-up-domain-chips", "scale_up_domain_chips", int, "override: scale-up domain"),
    ("--scale-out-gbps", "scale_out_gbps", float, "override: scale-out bandwidth per chip"),
    ("--power-w-per-chip", "power_w_per_chip", float, "override: IT watts per chip"),
)
#: Columns the what-if prints from its new row of what_if_runs.
WHAT_IF_SHOWN = (
    "scenario_id",
    "run_time_utc",
    "chip_id",
    "model_id",
    "precision",
    "chips",
    "training_tokens",
    "global_batch_tokens",
    "feasible",
    "tp",
    "pp",
    "dp",
    "mfu_pct",
    "mfu_pct_p5",
    "mfu_pct_p95",
    "days_to_train",
    "energy_mwh",
    "price_kind",
    "price_usd_per_chip_hour",
    "cost_usd",
    "cost_usd_p5",
    "cost_usd_p95",
    "price_basis",
)


def what_if_config(args: argparse.Namespace) -> dict:
    """The launchpad config of the what-if job from the command-line options that were given."""
    return {
        field: getattr(args, field)
        for _, field, _, _ in WHAT_IF_OPTIONS
        if getattr(args, field) is not None
    }


def what_if(args: argparse.Namespace) -> int:
    """Runs the what-if job in-process with the options as its config; prints the new row of
    warehouse/derived/what_if_runs.parquet, or the error (unknown names with the closest ones)."""
    from pipelines.definitions import defs

    if not _checked_instance():
        return 1
    import dagster as dg
    import pandas as pd

    from assets.derived.what_if_assets import RUNS_ASSET, runs_path
    from pipelines import compute_logs, recovery

    loaded()

    config = what_if_config(args)
    try:
        # One writer at a time: the append to what_if_runs never races a run or another what-if.
        with recovery.warehouse_lock():
            result = defs.resolve_job_def("what_if").execute_in_process(
                instance=compute_logs.captured_to_files(dg.DagsterInstance.get()),
                run_config={
                    "ops": {RUNS_ASSET: {"config": config}},
                    "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
                },
                raise_on_error=False,
            )
    except recovery.WarehouseBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data.error is not None:
                error = event.step_failure_data.error
                while error.cause is not None:
                    error = error.cause
                message = re.sub(r"^[\w.]+: ", "", error.message.strip())
                print(f"error: {message}", file=sys.stderr)
                if error.cls_name in ("FileNotFoundError", "DagsterInvariantViolationError"):
                    print(
                        "(the what-if reads the clean tables: run `make run` first)",
                        file=sys.stderr,
                    )
        return 1
    scenario = result.asset_materializations_for_node(RUNS_ASSET)[0].metadata["scenario_id"]
    table = pd.read_parquet(str(runs_path()))
    row = table[table["scenario_id"] == scenario.value].iloc[-1]
    width = max(len(c) for c in WHAT_IF_SHOWN)
    for column in WHAT_IF_SHOWN:
        print(f"{column:<{width}}  {row[column]}")
    print(f"\nappended to {runs_path()} ({len(table)} run(s) in the table)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="materialize every asset on the local instance")
    sub.add_parser("check-sources", help="validate the source CSVs and list every problem")
    scenario = sub.add_parser(
        "what-if",
        help="predict one training scenario and append it to what_if_runs",
        description="Predict one training scenario (MFU, days, energy, cost) and append it to "
        "warehouse/derived/what_if_runs.parquet. Options left out keep their default.",
    )
    for flag, field, type_, text in WHAT_IF_OPTIONS:
        scenario.add_argument(flag, dest=field, type=type_, help=text)
    args = parser.parse_args(argv)
    gc.disable()  # until the command's modules are loaded (`loaded`)
    try:
        if args.command == "what-if":
            return what_if(args)
        return {"run": run, "check-sources": check_sources}[args.command]()
    finally:
        # Everything left is freed by the exit: frozen, the interpreter's final collection skips
        # it (about 1 s after a full run). The collector is on again for a caller that goes on
        # (a command that stopped early, before its modules were loaded, left it off).
        gc.freeze()
        gc.enable()


if __name__ == "__main__":
    sys.exit(main())
