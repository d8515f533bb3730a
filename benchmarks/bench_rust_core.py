"""Layout-search speed: rust_core on one thread and on all threads vs the plain-Python reference.

Run from the repository root: ``.venv/bin/python benchmarks/bench_rust_core.py``. Each Rust
measurement runs in a fresh subprocess with ``RAYON_NUM_THREADS`` set, so the pool size is exact.
Prints layouts evaluated per second side by side and the time of the full training_scenarios grid.
The Rust search skips a layout whose compute-plus-optimizer bound cannot beat the best so far (exact:
same answer), so its "layouts" are layouts considered; the Python reference evaluates every one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Workload: GPT-style dense models (Megatron calibration shapes) on DGX A100-like chips.
CHIP = {
    "peak_tflops": 312.0,
    "memory_gb": 80.0,
    "memory_bw_gbps": 2039.0,
    "scale_up_gbps": 600.0,
    "scale_up_domain_chips": 8,
    "scale_out_gbps": 25.0,
    "power_w_per_chip": 800.0,
    "pue": 1.2,
    "price_usd_per_chip_hour": 2.0,
}
MODELS = [  # (layers, hidden, heads)
    (24, 2304, 24),
    (36, 4096, 32),
    (48, 8192, 64),
    (80, 12288, 96),
    (96, 16384, 128),
    (128, 25600, 160),
]
CHIPS = [64, 256, 1024, 4096, 16384]


def scenarios(repeat: int) -> pd.DataFrame:
    """The benchmark scenarios: every model x cluster size, `repeat` times."""
    rows = []
    for _ in range(repeat):
        for layers, hidden, heads in MODELS:
            params_b = (12 * layers * hidden**2 + 51200 * hidden) / 1e9
            for chips in CHIPS:
                rows.append(
                    {
                        **CHIP,
                        "params_b": params_b,
                        "active_params_b": params_b,
                        "layers": layers,
                        "hidden": hidden,
                        "heads": heads,
                        "seq_len": 2048,
                        "vocab": 51200,
                        "experts": 1,
                        "top_k": 1,
                        "chips": chips,
                        "global_batch_tokens": 2048 * 2048,
                        "training_tokens": 3e11,
                    }
                )
    return pd.DataFrame(rows)


def rust_rate(repeat: int, rounds: int) -> dict:
    """Layouts/s of rust_core.train_scenarios in this process (best of `rounds`)."""
    import rust_core

    frame = scenarios(repeat)
    rust_core.train_scenarios(frame.iloc[:2])
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        out = rust_core.train_scenarios(frame)
        best = min(best, time.perf_counter() - start)
    layouts = int(out["layouts_evaluated"].sum())
    return {"layouts": layouts, "seconds": best, "rate": layouts / best, "scenarios": len(frame)}


def shipped_grid() -> pd.DataFrame:
    """The training_scenarios grid built from the shipped source files (USD hourly rents only)."""
    from assets.derived import scenario_inputs
    from assets.ingest.hardware import resolve_specs

    sources = ROOT / "data" / "sources"
    specs = pd.read_csv(sources / "hardware_specs.csv")
    specs["is_default"] = specs["is_default"].astype(str).str.lower().eq("true")
    power = pd.read_csv(sources / "power_observations.csv")
    rents = pd.read_csv(sources / "gpu_rental_prices.csv")
    hourly = (rents["currency"] == "USD") & (rents["price_unit"] == "per_gpu_hour")
    rents["usd_per_gpu_hour"] = rents["price"].where(hourly)
    rents["usd_per_gpu_hour_high"] = rents["price_high"].where(hourly)
    chips, _ = scenario_inputs.chip_table(resolve_specs(specs), power, rents)
    return scenario_inputs.training_grid(chips)


def grid_time(rounds: int) -> dict:
    """Seconds to compute the full training_scenarios grid (search + Monte Carlo band)."""
    import rust_core

    frame = shipped_grid()
    best = best_mc = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        out = rust_core.train_scenarios(frame)
        best = min(best, time.perf_counter() - start)
        start = time.perf_counter()
        rust_core.train_uncertainty(frame)
        best_mc = min(best_mc, time.perf_counter() - start)
    layouts = int(out["layouts_evaluated"].sum())
    return {"scenarios": len(frame), "layouts": layouts, "seconds": best, "mc_seconds": best_mc}


def in_subprocess(threads: int | None, mode: str, repeat: int, rounds: int) -> dict:
    """Runs a measurement in a fresh interpreter with the given rayon pool size."""
    env = dict(os.environ)
    env.pop("RAYON_NUM_THREADS", None)
    if threads is not None:
        env["RAYON_NUM_THREADS"] = str(threads)
    cmd = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--repeat",
        str(repeat),
        "--rounds",
        str(rounds),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def python_rate(limit: int) -> dict:
    """Layouts/s of the plain-Python reference search on the first `limit` scenarios."""
    from tests.rust_core import reference_model

    frame = scenarios(1).iloc[:limit]
    constants = __import__("rust_core").calibration()["constants"]
    layouts = 0
    start = time.perf_counter()
    for row in frame.to_dict("records"):
        _, n = reference_model.search({**row, **constants})
        layouts += n
    seconds = time.perf_counter() - start
    return {"layouts": layouts, "seconds": seconds, "rate": layouts / seconds, "scenarios": limit}


def main() -> None:
    """Measures and prints the comparison."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", choices=["rust", "grid"])
    parser.add_argument("--repeat", type=int, default=20, help="copies of the 30-scenario set")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python-scenarios", type=int, default=30)
    args = parser.parse_args()
    if args.child == "rust":
        print(json.dumps(rust_rate(args.repeat, args.rounds)))
        return
    if args.child == "grid":
        print(json.dumps(grid_time(args.rounds)))
        return
    cores = os.cpu_count() or 1
    py = python_rate(args.python_scenarios)
    one = in_subprocess(1, "rust", args.repeat, args.rounds)
    every = in_subprocess(None, "rust", args.repeat, args.rounds)
    print(f"layout search, {one['scenarios']} scenarios ({one['layouts']:,} layouts) for Rust,")
    print(
        f"the {py['scenarios']} distinct ones ({py['layouts']:,} layouts) for the Python reference"
    )
    print("(Rust counts layouts considered; it skips those an exact bound rules out)")
    print(f"{'implementation':<28}{'layouts/s':>16}{'x Python':>12}")
    print(f"{'Python reference, 1 thread':<28}{py['rate']:>16,.0f}{1.0:>12.1f}")
    print(f"{'Rust, 1 thread':<28}{one['rate']:>16,.0f}{one['rate'] / py['rate']:>12.1f}")
    label = f"Rust, {cores} threads"
    print(f"{label:<28}{every['rate']:>16,.0f}{every['rate'] / py['rate']:>12.1f}")
    print(f"Rust scaling {cores} threads / 1 thread: {every['rate'] / one['rate']:.2f}x")
    grid = in_subprocess(None, "grid", 1, args.rounds)
    print(
        f"training_scenarios grid: {grid['scenarios']} scenarios, {grid['layouts']:,} layouts: "
        f"search {grid['seconds']:.3f} s, Monte Carlo band {grid['mc_seconds']:.3f} s "
        f"({cores} threads)"
    )


if __name__ == "__main__":
    main()
