"""Hypothesis strategies for valid rust_core scenarios (shared by the property tests)."""

from __future__ import annotations

import math

from hypothesis import strategies as st


@st.composite
def training_scenario(draw, moe: bool | None = None) -> dict:
    """A random valid training scenario (chip, model, run, constants) as one row dict."""
    heads = draw(st.sampled_from([4, 8, 12, 16, 32, 64]))
    hidden = heads * draw(st.sampled_from([32, 64, 128]))
    layers = draw(st.integers(1, 48))
    vocab = draw(st.sampled_from([1000, 32000, 51200]))
    dense = 12 * layers * hidden**2 + vocab * hidden
    total = dense * draw(st.floats(0.5, 2.0))
    is_moe = draw(st.booleans()) if moe is None else moe
    if is_moe:
        experts = draw(st.sampled_from([4, 8, 16, 64]))
        top_k = draw(st.integers(1, min(8, experts - 1)))
        # a hair above total x top_k / experts: the core's check must not fail on rounding
        active = min(total, total * draw(st.floats(top_k / experts, 1.0)) * (1 + 1e-12))
    else:
        experts, top_k, active = 1, 1, total
    seq_len = draw(st.sampled_from([256, 1024, 2048, 4096, 8192]))
    # Optional shape (NaN = the GPT default): grouped-query KV heads, MLP width, gated MLP.
    kv_heads = draw(st.sampled_from([math.nan, *(k for k in (1, 2, 4, 8) if k <= heads), heads]))
    ffn_hidden = draw(st.one_of(st.just(math.nan), st.integers(hidden, 6 * hidden)))
    gated_mlp = draw(st.sampled_from([math.nan, 0, 1]))
    return {
        "peak_tflops": draw(st.floats(50, 2000)),
        "memory_gb": draw(st.floats(16, 192)),
        "memory_bw_gbps": draw(st.floats(300, 8000)),
        "scale_up_gbps": draw(st.floats(20, 1800)),
        "scale_up_domain_chips": draw(st.sampled_from([1, 2, 4, 8, 16, 72, 384])),
        "scale_out_gbps": draw(st.floats(2, 100)),
        "power_w_per_chip": draw(st.floats(100, 2000)),
        "pue": draw(st.floats(1.0, 2.0)),
        "price_usd_per_chip_hour": draw(st.floats(0.2, 10)),
        "params_b": total / 1e9,
        "active_params_b": active / 1e9,
        "layers": layers,
        "hidden": hidden,
        "heads": heads,
        "seq_len": seq_len,
        "vocab": vocab,
        "experts": experts,
        "top_k": top_k,
        "kv_heads": kv_heads,
        "ffn_hidden": ffn_hidden,
        "gated_mlp": gated_mlp,
        "chips": draw(st.integers(1, 4096)),
        "global_batch_tokens": draw(st.integers(1, 2048)) * seq_len,
        "training_tokens": draw(st.floats(1e9, 2e13)),
        "compute_efficiency": draw(st.floats(0.2, 1.0)),
        "gemm_half_size": draw(st.floats(0.0, 1e7)),
        "scale_up_efficiency": draw(st.floats(0.05, 1.0)),
        "scale_out_efficiency": draw(st.floats(0.05, 1.0)),
        "dp_overlap_fraction": draw(st.floats(0.0, 1.0)),
        "usable_memory_fraction": draw(st.floats(0.5, 1.0)),
        "tp_overlap_fraction": draw(st.floats(0.0, 1.0)),
        "ep_overlap_fraction": draw(st.floats(0.0, 1.0)),
    }
