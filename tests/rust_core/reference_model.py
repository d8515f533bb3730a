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


VIRTUAL_STAGES = (1, 2, 3, 4, 5, 6)
CONTEXT_PARALLEL = (1, 2, 4, 8)
MIN_CP_TOKENS = 2048.0


@dataclass(frozen=True)
class Layout:
    """A parallel layout as in docs/model.md (chips used = tp cp pp dp)."""

    tp: int
    pp: int
    dp: int
    ep: int
    micro_batch: int
    zero_stage: int
    recompute: int
    vpp: int = 1
    cp: int = 1


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


def _given(sc: dict, name: str) -> float | None:
    """An optional shape field: None when absent or NaN."""
    value = sc.get(name, math.nan)
    return None if value != value else float(value)


def kv_share(sc: dict, tp: float) -> float:
    """Key (or value) width per tensor-parallel rank over its query width: max(kv_heads, tp) /
    heads (kv_heads defaults to heads)."""
    kv = _given(sc, "kv_heads")
    return max(sc["heads"] if kv is None else kv, tp) / sc["heads"]


def mlp_factor(sc: dict, routed: float) -> float:
    """Bytes per token per hidden unit the MLP keeps: dense 3 + 4 f (19 for the 4h default), gated
    3 + 6 f, f = ffn_hidden / h; MoE 2 + 2k + 17 x active expert parameters per layer over 8 h^2."""
    if sc["experts"] <= 1:
        ffn = _given(sc, "ffn_hidden")
        f = (4.0 * sc["hidden"] if ffn is None else ffn) / sc["hidden"]
        return 3.0 + 6.0 * f if _given(sc, "gated_mlp") == 1.0 else 3.0 + 4.0 * f
    per_layer = routed * sc["top_k"] / sc["experts"] / sc["layers"]
    return 2.0 + 2.0 * sc["top_k"] + 17.0 * per_layer / (8.0 * sc["hidden"] ** 2)


def layer_activation(
    sc: dict, mlp: float, kv: float, mb: float, shard: float, recompute: int
) -> float:
    """Activation bytes of one layer with FlashAttention: s b h (11 + 4 kv_share + mlp) / shard,
    2 s b h / shard under full recompute."""
    sbh = sc["seq_len"] * mb * sc["hidden"]
    if recompute == FULL:
        return sbh * 2.0 / shard
    return sbh * (11.0 + 4.0 * kv + mlp) / shard


def activations(
    sc: dict,
    mlp: float,
    kv: float,
    mb: float,
    shard: float,
    pp: int,
    vpp: int,
    n_micro: float,
    rec: int,
) -> float:
    """First-stage activations under (interleaved) 1F1B plus fp32 logits plus the working layer."""
    per_stage = math.ceil(sc["layers"] / (pp * vpp)) * vpp
    flight = min(n_micro, pp) * (1.0 + (pp - 1.0) / (pp * vpp) if vpp > 1 else 1.0)
    kept = per_stage * flight * layer_activation(sc, mlp, kv, mb, shard, rec)
    logits = 4.0 * sc["seq_len"] * mb * sc["vocab"] / shard
    work = layer_activation(sc, mlp, kv, mb, shard, NONE) if rec == FULL else 0.0
    return kept + logits + work


def bandwidth(sc: dict, span: float) -> float:
    """Effective B/s of a collective over `span` consecutive chips: scale-up inside the domain."""
    if span <= sc["scale_up_domain_chips"]:
        return sc["scale_up_gbps"] * 1e9 * sc["scale_up_efficiency"]
    return sc["scale_out_gbps"] * 1e9 * sc["scale_out_efficiency"]


def evaluate(sc: dict, lay: Layout) -> dict | None:
    """Step time, MFU and HFU of one layout; None when it does not fit in memory."""
    t, c, p, v, d, e, mb = (
        float(lay.tp),
        float(lay.cp),
        float(lay.pp),
        float(lay.vpp),
        float(lay.dp),
        float(lay.ep),
        float(lay.micro_batch),
    )
    batch = math.floor(sc["global_batch_tokens"] / sc["seq_len"])
    n_micro = math.ceil(batch / (d * mb))
    total, active = sc["params_b"] * 1e9, sc["active_params_b"] * 1e9
    routed = expert_params(total, active, sc["experts"], sc["top_k"])
    shared = total - routed
    per_stage = math.ceil(sc["layers"] / (lay.pp * lay.vpp)) * lay.vpp
    share = per_stage / sc["layers"]
    phi_s, phi_e = shared * share / t, routed * share / (t * e)
    ranks = d * c
    mem = state_bytes(phi_s, ranks, lay.zero_stage) + state_bytes(phi_e, ranks / e, lay.zero_stage)
    kv = kv_share(sc, t)
    mem += activations(
        sc, mlp_factor(sc, routed), kv, mb, t * c, lay.pp, lay.vpp, n_micro, lay.recompute
    )
    if mem > sc["memory_gb"] * 1e9 * sc["usable_memory_fraction"]:
        return None
    peak = sc["peak_tflops"] * 1e12
    tokens_mb = mb * sc["seq_len"]
    gemm = tokens_mb / c * sc["hidden"] / t
    eff = sc["compute_efficiency"] * gemm / (gemm + sc["gemm_half_size"])
    f_hw = hardware_flops(
        active, sc["layers"], sc["seq_len"], sc["hidden"], sc["vocab"], lay.recompute
    )
    t_compute = tokens_mb * f_hw * share / (t * c) / (peak * eff)
    msg = ACTIVATION_BYTES * tokens_mb / c * sc["hidden"]
    t_tp = 0.0
    if lay.tp > 1:
        rounds = 6.0 if lay.recompute == FULL else 4.0
        t_tp = per_stage * rounds * 2.0 * (t - 1.0) / t * msg / bandwidth(sc, t)
    t_cp = 0.0
    if lay.cp > 1:
        t_cp = per_stage * 3.0 * 2.0 * kv * (c - 1.0) * msg / t / bandwidth(sc, t * c)
    hidden_tp = max(0.0, t_tp + t_cp - sc["tp_overlap_fraction"] * t_compute)
    t_pp = 2.0 * v * msg / t / bandwidth(sc, 2.0 * t * c * d) if lay.pp > 1 else 0.0
    t_ep = 0.0
    if lay.ep > 1:
        raw = per_stage * 4.0 * (msg * sc["top_k"] / t) * (e - 1.0) / e / bandwidth(sc, t * c * e)
        t_ep = max(0.0, raw - sc["ep_overlap_fraction"] * t_compute)
    t_pipe = (n_micro + (p - 1.0) / v) * (t_compute + hidden_tp + t_pp + t_ep)

    def ring(n_ranks: float) -> float:
        if n_ranks <= 1.0:
            return 0.0
        if lay.zero_stage == 3:
            return 3.0 * n_micro * (n_ranks - 1.0) / n_ranks
        return 2.0 * (n_ranks - 1.0) / n_ranks

    t_dp = BYTES_GRAD * (ring(ranks) * phi_s + ring(ranks / e) * phi_e) / bandwidth(sc, t * c * d)
    exposed = max(0.0, t_dp - sc["dp_overlap_fraction"] * n_micro * t_compute)
    phi_opt = phi_s / ranks + phi_e / (ranks / e) if lay.zero_stage >= 1 else phi_s + phi_e
    t_opt = OPTIMIZER_TRAFFIC_BYTES * phi_opt / (sc["memory_bw_gbps"] * 1e9)
    step = t_pipe + exposed + t_opt
    n = float(sc["chips"])
    useful = batch * sc["seq_len"]
    f_model = model_flops(active, sc["layers"], sc["seq_len"], sc["hidden"])
    return {
        "layout": lay,
        "chips_used": lay.tp * lay.cp * lay.pp * lay.dp,
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
        for cp in CONTEXT_PARALLEL:
            if cp > 1 and sc["seq_len"] / cp < MIN_CP_TOKENS:
                break
            for pp in divisors(int(sc["layers"])):
                if tp * cp * pp > n:
                    break
                dp = min(n // (tp * cp * pp), batch)
                per_replica = math.ceil(batch / dp)
                for vpp in VIRTUAL_STAGES:
                    if vpp > 1 and (pp == 1 or int(sc["layers"]) % (pp * vpp) != 0):
                        continue
                    for ep in divisors(math.gcd(dp, int(sc["experts"]))):
                        for mb in MICRO_BATCHES:
                            if mb > per_replica:
                                break
                            for zero in range(4):
                                for rec in (NONE, SELECTIVE, FULL):
                                    yield Layout(tp, pp, dp, ep, mb, zero, rec, vpp, cp)


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
        extra = [
            int(sc[k]) if sc.get(k, math.nan) == sc.get(k, math.nan) else 1 for k in ("vpp", "cp")
        ]
        best, count = evaluate(sc, Layout(*(int(sc[k]) for k in keys), *extra)), 1
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


FSDP_MAX_PARAMS = 20e9
PRACTITIONER_MAX_TP, PRACTITIONER_MAX_EP = 8, 64
PRACTITIONER_CP_TOKENS = 16384.0


def practitioner(sc: dict) -> tuple[str, dict | None]:
    """The practitioner layout family and its first fitting layout (docs/model.md, "Practitioner
    layouts"): FSDP for small dense models, otherwise Megatron-style (with EP for MoE)."""
    n = int(sc["chips"])
    batch = math.floor(sc["global_batch_tokens"] / sc["seq_len"])
    layers, experts = int(sc["layers"]), int(sc["experts"])
    if experts == 1 and sc["params_b"] * 1e9 <= FSDP_MAX_PARAMS and n <= batch:
        per_replica = math.ceil(batch / n)
        for mb in reversed(MICRO_BATCHES):
            if mb > 1 and mb > per_replica:
                continue
            for rec in (SELECTIVE, FULL):
                ev = evaluate(sc, Layout(1, 1, n, 1, mb, 3, rec))
                if ev is not None:
                    return "fsdp", ev
        return "fsdp", None
    family = "megatron-moe" if experts > 1 else "megatron"
    cap = max(1, min(PRACTITIONER_MAX_TP, int(sc["scale_up_domain_chips"]), n))
    tp = max(k for k in divisors(int(sc["heads"])) if k <= cap)
    cp = next(
        (c for c in CONTEXT_PARALLEL if sc["seq_len"] / c <= PRACTITIONER_CP_TOKENS),
        CONTEXT_PARALLEL[-1],
    )
    for pp in divisors(layers):
        if tp * cp * pp > n:
            break
        dp = min(n // (tp * cp * pp), batch)
        vpp = 1 if pp == 1 else max(v for v in VIRTUAL_STAGES if layers % (pp * v) == 0)
        ep = max(k for k in divisors(math.gcd(dp, experts)) if k <= PRACTITIONER_MAX_EP)
        for rec in (SELECTIVE, FULL):
            ev = evaluate(sc, Layout(tp, pp, dp, ep, 1, 1, rec, vpp, cp))
            if ev is not None:
                return family, ev
    return family, None
