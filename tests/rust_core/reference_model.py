"""Plain-Python reference of the performance model in docs/model.md: the oracle for rust_core.

Written from the formulas in the document, one function per formula, with plain floats and loops so
it doubles as the single-thread baseline in benchmarks/bench_rust_core.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MICRO_BATCHES = (1, 2, 4, 8, 16)
BYTES_WEIGHT, BYTES_GRAD, BYTES_OPTIMIZER = 2.0, 2.0, 12.0
OPTIMIZER_TRAFFIC_BYTES = 28.0
ACTIVATION_BYTES = 2.0
NONE, SELECTIVE, FULL = 0, 1, 2


@dataclass(frozen=True)
class Layout:
    """A parallel layout as in docs/model.md."""

    tp: int
    pp: int
    dp: int
    ep: int
    micro_batch: int
    zero_stage: int
    recompute: int


def expert_params(total: float, active: float, experts: int, top_k: int) -> float:
    """Routed-expert parameters from total = shared + routed and active = shared + routed k/E."""
    if experts <= 1:
        return 0.0
    return (total - active) / (1.0 - top_k / experts)


def attention_flops(layers: int, seq_len: float, hidden: float) -> float:
    """Forward attention-score FLOPs per token: 4 L s h."""
    return 4.0 * layers * seq_len * hidden


def model_flops(active: float, layers: int, seq_len: float, hidden: float) -> float:
    """Model FLOPs per token: 6 N_active + 12 L s h."""
    return 6.0 * active + 3.0 * attention_flops(layers, seq_len, hidden)


def hardware_flops(
    active: float, layers: int, seq_len: float, hidden: float, vocab: float, recompute: int
) -> float:
    """Model FLOPs plus the forward work recomputation repeats."""
    base = model_flops(active, layers, seq_len, hidden)
    attn = attention_flops(layers, seq_len, hidden)
    if recompute == SELECTIVE:
        return base + attn
    if recompute == FULL:
        return base + 2.0 * max(active - vocab * hidden, 0.0) + attn
    return base


def state_bytes(phi: float, ranks: float, zero: int) -> float:
    """ZeRO model-state bytes for phi parameters over `ranks` data-parallel ranks."""
    if zero == 0:
        return 16.0 * phi
    if zero == 1:
        return 4.0 * phi + 12.0 * phi / ranks
    if zero == 2:
        return 2.0 * phi + 14.0 * phi / ranks
    return 16.0 * phi / ranks


def layer_activation(sc: dict, mb: float, tp: float, recompute: int) -> float:
    """Korthikanti activation bytes of one layer: s b h (34 + 5 a s / h) / t and variants."""
    sbh = sc["seq_len"] * mb * sc["hidden"]
    if recompute == NONE:
        return sbh * (34.0 + 5.0 * sc["heads"] * sc["seq_len"] / sc["hidden"]) / tp
    if recompute == SELECTIVE:
        return sbh * 34.0 / tp
    return sbh * 2.0 / tp


def activations(sc: dict, mb: float, tp: float, pp: float, n_micro: float, recompute: int) -> float:
    """First-stage activations under 1F1B plus fp32 logits plus the recompute working layer."""
    kept = sc["layers"] / pp * min(n_micro, pp) * layer_activation(sc, mb, tp, recompute)
    logits = 4.0 * sc["seq_len"] * mb * sc["vocab"] / tp
    work = layer_activation(sc, mb, tp, NONE) if recompute == FULL else 0.0
    return kept + logits + work


def bandwidth(sc: dict, span: float) -> float:
    """Effective B/s of a collective over `span` consecutive chips: scale-up inside the domain."""
    if span <= sc["scale_up_domain_chips"]:
        return sc["scale_up_gbps"] * 1e9 * sc["scale_up_efficiency"]
    return sc["scale_out_gbps"] * 1e9 * sc["scale_out_efficiency"]


def evaluate(sc: dict, lay: Layout) -> dict | None:
    """Step time, MFU and HFU of one layout; None when it does not fit in memory."""
    t, p, d, e, mb = (
        float(lay.tp),
        float(lay.pp),
        float(lay.dp),
        float(lay.ep),
        float(lay.micro_batch),
    )
    batch = math.floor(sc["global_batch_tokens"] / sc["seq_len"])
    n_micro = math.ceil(batch / (d * mb))
    total, active = sc["params_b"] * 1e9, sc["active_params_b"] * 1e9
    routed = expert_params(total, active, sc["experts"], sc["top_k"])
    shared = total - routed
    phi_s, phi_e = shared / (t * p), routed / (t * p * e)
    mem = state_bytes(phi_s, d, lay.zero_stage) + state_bytes(phi_e, d / e, lay.zero_stage)
    mem += activations(sc, mb, t, p, n_micro, lay.recompute)
    if mem > sc["memory_gb"] * 1e9 * sc["usable_memory_fraction"]:
        return None
    peak = sc["peak_tflops"] * 1e12
    tokens_mb = mb * sc["seq_len"]
    gemm = tokens_mb * sc["hidden"] / t
    eff = sc["compute_efficiency"] * gemm / (gemm + sc["gemm_half_size"])
    f_hw = hardware_flops(
        active, sc["layers"], sc["seq_len"], sc["hidden"], sc["vocab"], lay.recompute
    )
    t_compute = tokens_mb * f_hw / (t * p) / (peak * eff)
    per_stage = sc["layers"] / p
    msg = ACTIVATION_BYTES * tokens_mb * sc["hidden"]
    t_tp = 0.0
    if lay.tp > 1:
        rounds = 6.0 if lay.recompute == FULL else 4.0
        t_tp = per_stage * rounds * 2.0 * (t - 1.0) / t * msg / bandwidth(sc, t)
    t_pp = 2.0 * msg / t / bandwidth(sc, t * p) if lay.pp > 1 else 0.0
    t_ep = 0.0
    if lay.ep > 1:
        t_ep = per_stage * 4.0 * (msg * sc["top_k"] / t) * (e - 1.0) / e / bandwidth(sc, t * p * e)
    t_pipe = (n_micro + p - 1.0) * (t_compute + t_tp + t_pp + t_ep)
    rounds = 3.0 if lay.zero_stage == 3 else 2.0

    def ring(ranks: float) -> float:
        return rounds * (ranks - 1.0) / ranks if ranks > 1.0 else 0.0

    t_dp = BYTES_GRAD * (ring(d) * phi_s + ring(d / e) * phi_e) / bandwidth(sc, t * p * d)
    exposed = t_dp - min(t_dp, sc["dp_overlap_fraction"] * t_pipe)
    phi_opt = phi_s / d + phi_e / (d / e) if lay.zero_stage >= 1 else phi_s + phi_e
    t_opt = OPTIMIZER_TRAFFIC_BYTES * phi_opt / (sc["memory_bw_gbps"] * 1e9)
    step = t_pipe + exposed + t_opt
    n = float(sc["chips"])
    useful = batch * sc["seq_len"]
    f_model = model_flops(active, sc["layers"], sc["seq_len"], sc["hidden"])
    return {
        "layout": lay,
        "chips_used": lay.tp * lay.pp * lay.dp,
        "memory_per_chip_gb": mem / 1e9,
        "step_time_s": step,
        "tokens_per_s": useful / step,
        "mfu": useful * f_model / (step * n * peak),
        "hfu": d * n_micro * tokens_mb * f_hw / (step * n * peak),
    }


def divisors(n: int) -> list[int]:
    """Divisors of n, ascending."""
    return [k for k in range(1, n + 1) if n % k == 0]


def layouts(sc: dict):
    """Every layout the search tries, in its order (docs/model.md, "Layout search")."""
    n = int(sc["chips"])
    batch = math.floor(sc["global_batch_tokens"] / sc["seq_len"])
    for tp in divisors(int(sc["heads"])):
        if tp > n:
            break
        for pp in divisors(int(sc["layers"])):
            if tp * pp > n:
                break
            dp = min(n // (tp * pp), batch)
            per_replica = math.ceil(batch / dp)
            for ep in divisors(math.gcd(dp, int(sc["experts"]))):
                for mb in MICRO_BATCHES:
                    if mb > per_replica:
                        break
                    for zero in range(4):
                        for rec in (NONE, SELECTIVE, FULL):
                            yield Layout(tp, pp, dp, ep, mb, zero, rec)


def search(sc: dict) -> tuple[dict | None, int]:
    """Best MFU over every layout (first wins ties) and how many layouts were tried."""
    best, count = None, 0
    for lay in layouts(sc):
        count += 1
        ev = evaluate(sc, lay)
        if ev is not None and (best is None or ev["mfu"] > best["mfu"]):
            best = ev
    return best, count


def train(sc: dict) -> dict:
    """One training scenario: fixed layout if given, else the searched best, with run totals."""
    if "tp" in sc and sc["tp"] == sc["tp"]:
        keys = ("tp", "pp", "dp", "ep", "micro_batch", "zero_stage", "recompute")
        best, count = evaluate(sc, Layout(*(int(sc[k]) for k in keys))), 1
    else:
        best, count = search(sc)
    out = {"feasible": best is not None, "layouts_evaluated": count, "best": best}
    if best is not None:
        hours = sc["training_tokens"] / best["tokens_per_s"] / 3600.0
        n = float(sc["chips"])
        out |= {
            "days_to_train": hours / 24.0,
            "chip_hours": n * hours,
            "energy_mwh": n * sc["power_w_per_chip"] * sc["pue"] * hours / 1e6,
            "cost_usd": n * hours * sc["price_usd_per_chip_hour"],
        }
    return out
