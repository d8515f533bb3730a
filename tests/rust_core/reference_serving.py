"""Plain-Python reference of docs/model.md's inference, equivalence, power and Monte Carlo parts."""

from __future__ import annotations

import math

from tests.rust_core import reference_model as train_ref

MASK64 = (1 << 64) - 1


def splitmix64(state: int) -> tuple[int, int]:
    """One SplitMix64 step: (new state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


class Uniform:
    """Uniform draws in [low, high] from SplitMix64's top 53 bits."""

    def __init__(self, seed: int) -> None:
        self.state = seed

    def __call__(self, low: float, high: float) -> float:
        self.state, out = splitmix64(self.state)
        return low + (high - low) * ((out >> 11) * (1.0 / 9007199254740992.0))


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolation percentile between ranks (NumPy's default method)."""
    v = sorted(values)
    rank = q / 100.0 * (len(v) - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (rank - lo)


def accepted_tokens(alpha: float, gamma: float) -> float:
    """Leviathan et al. 2023: expected tokens per target step, (1 - a^(g+1)) / (1 - a)."""
    return gamma + 1.0 if alpha >= 1.0 else (1.0 - alpha ** (gamma + 1.0)) / (1.0 - alpha)


def inference(sc: dict) -> dict:
    """Serving performance and cost per docs/model.md, "Inference"."""
    total, active = sc["params_b"] * 1e9, sc["active_params_b"] * 1e9
    e, k = sc["experts"], sc["top_k"]
    routed = (total - active) / (1.0 - k / e) if e > 1 else 0.0
    shared = total - routed
    wbytes = sc["weight_bits"] / 8.0
    peak = sc["peak_tflops"] * 1e12 * sc["compute_efficiency"]
    bw = sc["memory_bw_gbps"] * 1e9 * sc["memory_bw_efficiency"]
    link = sc["scale_up_gbps"] * 1e9 * sc["scale_up_efficiency"]
    tp, L, h = sc["tp"], sc["layers"], sc["hidden"]
    kv_tok = 2.0 * L * sc["kv_heads"] * (h / sc["heads"]) * sc["kv_bits"] / 8.0
    prompt, output = sc["prompt_tokens"], sc["output_tokens"]
    draft = sc["draft_params_b"] * 1e9
    weights = (total + draft) * wbytes
    per_seq = kv_tok * (prompt + output)
    fit = math.floor(
        (tp * sc["memory_gb"] * 1e9 * sc["usable_memory_fraction"] - weights) / per_seq
    )
    batch = min(fit, sc["max_batch"])
    prefill = peak / (2.0 * active + 2.0 * L * h * prompt)
    out = {
        "feasible": batch >= 1,
        "weights_gb_per_chip": weights / tp / 1e9,
        "kv_cache_gb_per_seq": per_seq / 1e9,
        "prefill_tokens_per_s_per_chip": prefill,
        "cost_usd_per_mtok_input": sc["price_usd_per_chip_hour"] / 3600.0 / prefill * 1e6,
    }
    if batch < 1:
        return out
    ctx = prompt + output / 2.0

    def target(q: float) -> tuple[float, bool]:
        touched = 1.0 - (1.0 - k / e) ** (batch * q) if e > 1 else 0.0
        t_mem = ((shared + routed * touched) * wbytes + batch * ctx * kv_tok) / (tp * bw)
        t_cmp = batch * q * (2.0 * active + 4.0 * L * h * ctx) / (tp * peak)
        t_tp = 2.0 * L * 2.0 * (tp - 1.0) / tp * 2.0 * batch * q * h / link if tp > 1 else 0.0
        return max(t_mem, t_cmp) + t_tp, t_mem >= t_cmp

    plain, mem_bound = target(1.0)
    gamma = sc["draft_length"]
    if gamma > 0:
        draft_step = max(draft * wbytes / (tp * bw), batch * 2.0 * draft / (tp * peak))
        cycle = gamma * draft_step + target(gamma + 1.0)[0]
        tokens = accepted_tokens(sc["acceptance_rate"], gamma)
    else:
        cycle, tokens = plain, 1.0
    per_chip = batch * tokens / cycle / tp
    return out | {
        "batch": batch,
        "decode_step_s": plain,
        "memory_bound": mem_bound,
        "tokens_per_target_step": tokens,
        "spec_speedup": plain / (cycle / tokens),
        "latency_s_per_output_token": cycle / tokens,
        "decode_tokens_per_s_per_chip": per_chip,
        "cost_usd_per_mtok_output": sc["price_usd_per_chip_hour"] / 3600.0 / per_chip * 1e6,
    }


def throughput(sc: dict, chips: int) -> float:
    """Best searched tokens/s with `chips` chips (0 when nothing fits)."""
    best, _ = train_ref.search({**sc, "chips": chips})
    return 0.0 if best is None else best["tokens_per_s"]


def chips_needed(a: dict, b: dict, max_b: int) -> int | None:
    """Smallest N_B reaching chip A's throughput, by doubling then bisection."""
    target = throughput(a, a["chips"])
    if target <= 0:
        return None
    hi = 1
    while throughput(b, hi) < target:
        if hi >= max_b:
            return None
        hi = min(hi * 2, max_b)
    lo = hi // 2
    while hi - lo > 1:
        mid = lo + (hi - lo) // 2
        if throughput(b, mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi


def power(chips: float, w: tuple, pue: tuple, samples: int, seed: int) -> dict:
    """Facility MW at band midpoints and Monte Carlo percentiles (draw W then PUE per sample)."""
    mid_w, mid_pue = (w[0] + w[1]) / 2.0, (pue[0] + pue[1]) / 2.0
    it = chips * mid_w / 1e6
    draw = Uniform(seed)
    values = []
    for _ in range(samples):
        watts = draw(*w)
        values.append(it / mid_w * watts * draw(*pue))
    return {
        "it_mw": it,
        "facility_mw": it * mid_pue,
        **{f"facility_mw_p{q}": percentile(values, q) for q in (5, 50, 95)},
    }


def train_uncertainty(sc: dict, bands: dict, samples: int, seed: int) -> dict:
    """Percentiles of MFU and cost re-evaluating the nominal best layout under sampled constants."""
    best, _ = train_ref.search(sc)
    if best is None:
        return {}
    draw = Uniform(seed)
    mfu, cost = [], []
    order = (
        "compute_efficiency",
        "scale_up_efficiency",
        "scale_out_efficiency",
        "dp_overlap_fraction",
        "price_usd_per_chip_hour",
    )
    for _ in range(samples):
        s = dict(sc)
        for name in order[:-1]:
            s[name] = draw(*bands[name])
        # price: split uniform, median at the row's price (clamped into its band)
        low, high = bands["price_usd_per_chip_hour"]
        centre = min(max(sc["price_usd_per_chip_hour"], low), high)
        u = draw(0.0, 1.0)
        s["price_usd_per_chip_hour"] = (
            low + (centre - low) * 2.0 * u
            if u < 0.5
            else centre + (high - centre) * (2.0 * u - 1.0)
        )
        ev = train_ref.evaluate(s, best["layout"])
        hours = s["training_tokens"] / ev["tokens_per_s"] / 3600.0
        mfu.append(ev["mfu"])
        cost.append(s["chips"] * hours * s["price_usd_per_chip_hour"])
    return {
        **{f"mfu_p{q}": percentile(mfu, q) for q in (5, 50, 95)},
        **{f"cost_usd_p{q}": percentile(cost, q) for q in (5, 50, 95)},
    }
