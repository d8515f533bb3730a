//! Memory per chip during training: model states under ZeRO stages and activations (Korthikanti,
//! with FlashAttention's attention core and a mixture-of-experts MLP).

use crate::model::{ModelSpec, Recompute};

/// Bytes per parameter of mixed-precision Adam state: bf16 weights 2, bf16 gradients 2, fp32
/// master weights, momentum and variance 12 (Rajbhandari et al. 2020, "ZeRO", K = 12).
pub const WEIGHT_BYTES: f64 = 2.0;
pub const GRAD_BYTES: f64 = 2.0;
pub const OPTIMIZER_BYTES: f64 = 12.0;

/// Model-state bytes per chip for `phi` parameters held by the chip, sharded over `dp` ranks.
pub fn model_state_bytes(phi: f64, dp: f64, zero_stage: u8) -> f64 {
    let total = WEIGHT_BYTES + GRAD_BYTES + OPTIMIZER_BYTES;
    match zero_stage {
        0 => total * phi,
        1 => (WEIGHT_BYTES + GRAD_BYTES) * phi + OPTIMIZER_BYTES * phi / dp,
        2 => WEIGHT_BYTES * phi + (GRAD_BYTES + OPTIMIZER_BYTES) * phi / dp,
        _ => total * phi / dp,
    }
}

/// Bytes per token per hidden unit a layer keeps for its MLP. Dense, after Korthikanti's 19 for a
/// 4h MLP (input 2, first linear output 8, activation output 8, dropout mask 1) with intermediate
/// size `f h`: `3 + 4 f`; gated (SwiGLU: the first linear outputs gate and up, 2 x 2 f, and the
/// down projection's input 2 f): `3 + 6 f`. A mixture of experts keeps the input 2, the routed
/// copies 2 top_k and the 17 of the expert MLP scaled by the active expert parameters per layer over
/// a dense 8 h^2 MLP.
pub fn mlp_activation_factor(model: &ModelSpec, expert_params: f64) -> f64 {
    if model.experts <= 1 {
        let f = model.ffn_hidden / model.hidden;
        return if model.gated_mlp {
            3.0 + 6.0 * f
        } else {
            3.0 + 4.0 * f
        };
    }
    let k = f64::from(model.top_k);
    let active_per_layer = expert_params * k / f64::from(model.experts) / f64::from(model.layers);
    let ratio = active_per_layer / (8.0 * model.hidden * model.hidden);
    2.0 + 2.0 * k + 17.0 * ratio
}

/// Bytes per token per hidden unit a layer keeps outside its MLP: Korthikanti's attention 11 (QKV
/// input 2, Q 2, K 2, V 2, output-projection input 2, dropout mask 1) with the keys and values
/// scaled by `kv_share` (grouped-query attention, `ModelSpec::kv_share`), plus two layer norms 4.
/// FlashAttention keeps no s x s score matrix. 15 for multi-head attention.
pub fn attention_activation_factor(kv_share: f64) -> f64 {
    11.0 + 4.0 * kv_share
}

/// Activation bytes of one layer for one micro-batch of `micro_batch` sequences, split over `shard`
/// chips (tensor x context parallel, with sequence parallelism): `s b h (attention + mlp) / shard`
/// (`attention_activation_factor`), the layer input `2 s b h / shard` under full recompute.
pub fn layer_activation_bytes(
    model: &ModelSpec,
    mlp_factor: f64,
    kv_share: f64,
    micro_batch: f64,
    shard: f64,
    recompute: Recompute,
) -> f64 {
    let sbh = model.seq_len * micro_batch * model.hidden;
    match recompute {
        Recompute::None | Recompute::Selective => {
            sbh * (attention_activation_factor(kv_share) + mlp_factor) / shard
        }
        Recompute::Full => sbh * 2.0 / shard,
    }
}

/// Peak activation bytes on the first pipeline stage: its layers times the micro-batches in flight
/// under 1F1B (at most `pp`; interleaving with `vpp` chunks adds (pp - 1) / (pp vpp) of a stage),
/// plus fp32 logits, plus one layer's full activations while recomputing.
#[allow(clippy::too_many_arguments)]
pub fn activation_bytes(
    model: &ModelSpec,
    mlp_factor: f64,
    kv_share: f64,
    micro_batch: f64,
    shard: f64,
    pp: f64,
    vpp: f64,
    micro_batches: f64,
    recompute: Recompute,
) -> f64 {
    let layers_per_stage = (f64::from(model.layers) / (pp * vpp)).ceil() * vpp;
    let interleave = if vpp > 1.0 {
        1.0 + (pp - 1.0) / (pp * vpp)
    } else {
        1.0
    };
    let in_flight = micro_batches.min(pp) * interleave;
    let layer = |r| layer_activation_bytes(model, mlp_factor, kv_share, micro_batch, shard, r);
    let kept = layers_per_stage * in_flight * layer(recompute);
    let logits = 4.0 * model.seq_len * micro_batch * model.vocab / shard;
    let working = if recompute == Recompute::Full {
        layer(Recompute::None)
    } else {
        0.0
    };
    kept + logits + working
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_stages_by_hand() {
        // ZeRO paper: 7.5B params on 64 ranks: 120 GB, 31.4 GB, 16.6 GB, 1.88 GB.
        let phi = 7.5e9;
        assert!((model_state_bytes(phi, 64.0, 0) - 120e9).abs() < 1.0);
        assert!((model_state_bytes(phi, 64.0, 1) / 1e9 - 31.40625).abs() < 1e-9);
        assert!((model_state_bytes(phi, 64.0, 2) / 1e9 - 16.640625).abs() < 1e-9);
        assert!((model_state_bytes(phi, 64.0, 3) / 1e9 - 1.875).abs() < 1e-9);
    }

    #[test]
    fn activations_follow_korthikanti_table() {
        let m = ModelSpec {
            params_total: 1e9,
            params_active: 1e9,
            layers: 4,
            hidden: 1024.0,
            heads: 16,
            seq_len: 2048.0,
            vocab: 1000.0,
            experts: 1,
            top_k: 1,
            kv_heads: 16,
            ffn_hidden: 4096.0,
            gated_mlp: false,
        };
        let sbh = 2048.0 * 1024.0;
        let f = mlp_activation_factor(&m, 0.0);
        assert_eq!(f, 19.0);
        let none = layer_activation_bytes(&m, f, 1.0, 1.0, 1.0, Recompute::None);
        assert!((none - sbh * 34.0).abs() < 1e-6);
        assert!(
            (layer_activation_bytes(&m, f, 1.0, 2.0, 2.0, Recompute::Selective) - sbh * 34.0).abs()
                < 1e-6
        );
        let full = activation_bytes(&m, f, 1.0, 1.0, 1.0, 2.0, 1.0, 8.0, Recompute::Full);
        let expect = 2.0 * 2.0 * sbh * 2.0 + 4.0 * 2048.0 * 1000.0 + none;
        assert!((full - expect).abs() < 1e-6);
        // Interleaving 2 stages with 2 chunks each keeps 1 + 1/4 of a stage more in flight.
        let inter = activation_bytes(&m, f, 1.0, 1.0, 1.0, 2.0, 2.0, 8.0, Recompute::Full);
        assert!((inter - expect - 0.25 * 2.0 * 2.0 * sbh * 2.0).abs() < 1e-6);
    }

    #[test]
    fn moe_mlp_factor_by_hand() {
        // 4 experts of a dense-size MLP (8 h^2 each), top-2: 2 + 4 + 17 x 2 = 40.
        let h = 1024.0;
        let expert = 4.0 * 8.0 * h * h * 4.0;
        let m = ModelSpec {
            params_total: expert + 1e8,
            params_active: expert / 2.0 + 1e8,
            layers: 4,
            hidden: h,
            heads: 16,
            seq_len: 2048.0,
            vocab: 1000.0,
            experts: 4,
            top_k: 2,
            kv_heads: 16,
            ffn_hidden: 4.0 * h,
            gated_mlp: false,
        };
        assert!((mlp_activation_factor(&m, m.expert_params()) - 40.0).abs() < 1e-9);
    }

    #[test]
    fn gqa_and_swiglu_by_hand() {
        // Llama 3 405B shape (arXiv:2407.21783 Table 3): h 16,384, FFN 53,248 (f = 3.25), SwiGLU,
        // 128 heads, 8 KV heads. At TP 8 a rank holds 1 of 8 KV heads and 16 of 128 query heads.
        let h = 16384.0;
        let m = ModelSpec {
            params_total: 405e9,
            params_active: 405e9,
            layers: 126,
            hidden: h,
            heads: 128,
            seq_len: 8192.0,
            vocab: 128000.0,
            experts: 1,
            top_k: 1,
            kv_heads: 8,
            ffn_hidden: 53248.0,
            gated_mlp: true,
        };
        assert_eq!(mlp_activation_factor(&m, 0.0), 3.0 + 6.0 * 3.25);
        let share = m.kv_share(8.0);
        assert_eq!(share, 1.0 / 16.0);
        assert_eq!(attention_activation_factor(share), 11.25);
        // Fewer KV heads than TP ranks: each rank still holds one.
        assert_eq!(m.kv_share(16.0), 16.0 / 128.0);
        let sbh = 8192.0 * h;
        let none = layer_activation_bytes(&m, 22.5, share, 1.0, 8.0, Recompute::None);
        assert!((none - sbh * (11.25 + 22.5) / 8.0).abs() < 1e-3);
        // Multi-head attention and a 4h GELU MLP give Korthikanti's 34 exactly.
        let mha = ModelSpec {
            kv_heads: 128,
            ffn_hidden: 4.0 * h,
            gated_mlp: false,
            ..m
        };
        assert_eq!(mlp_activation_factor(&mha, 0.0), 19.0);
        assert_eq!(attention_activation_factor(mha.kv_share(8.0)), 15.0);
    }
}
