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

/// Bytes per token per hidden unit a layer keeps for its MLP: Korthikanti's 19 for a dense 4h MLP
/// (input 2, first linear output 8, activation output 8, dropout mask 1); for a mixture of experts
/// the input 2, the routed copies 2 top_k and the 17 of the expert MLP scaled by the active expert
/// parameters per layer over a dense 8 h^2 MLP.
pub fn mlp_activation_factor(model: &ModelSpec, expert_params: f64) -> f64 {
    if model.experts <= 1 {
        return 19.0;
    }
    let k = f64::from(model.top_k);
    let active_per_layer = expert_params * k / f64::from(model.experts) / f64::from(model.layers);
    let ratio = active_per_layer / (8.0 * model.hidden * model.hidden);
    2.0 + 2.0 * k + 17.0 * ratio
}

/// Activation bytes of one layer for one micro-batch of `micro_batch` sequences, split over `shard`
/// chips (tensor x context parallel, with sequence parallelism). FlashAttention keeps no s x s
/// score matrix, so the attention part is Korthikanti's 15 s b h; full recompute keeps the input.
pub fn layer_activation_bytes(
    model: &ModelSpec,
    mlp_factor: f64,
    micro_batch: f64,
    shard: f64,
    recompute: Recompute,
) -> f64 {
    let sbh = model.seq_len * micro_batch * model.hidden;
    match recompute {
        Recompute::None | Recompute::Selective => sbh * (15.0 + mlp_factor) / shard,
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
    let kept = layers_per_stage
        * in_flight
        * layer_activation_bytes(model, mlp_factor, micro_batch, shard, recompute);
    let logits = 4.0 * model.seq_len * micro_batch * model.vocab / shard;
    let working = if recompute == Recompute::Full {
        layer_activation_bytes(model, mlp_factor, micro_batch, shard, Recompute::None)
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
        };
        let sbh = 2048.0 * 1024.0;
        let f = mlp_activation_factor(&m, 0.0);
        assert_eq!(f, 19.0);
        let none = layer_activation_bytes(&m, f, 1.0, 1.0, Recompute::None);
        assert!((none - sbh * 34.0).abs() < 1e-6);
        assert!(
            (layer_activation_bytes(&m, f, 2.0, 2.0, Recompute::Selective) - sbh * 34.0).abs()
                < 1e-6
        );
        let full = activation_bytes(&m, f, 1.0, 1.0, 2.0, 1.0, 8.0, Recompute::Full);
        let expect = 2.0 * 2.0 * sbh * 2.0 + 4.0 * 2048.0 * 1000.0 + none;
        assert!((full - expect).abs() < 1e-6);
        // Interleaving 2 stages with 2 chunks each keeps 1 + 1/4 of a stage more in flight.
        let inter = activation_bytes(&m, f, 1.0, 1.0, 2.0, 2.0, 8.0, Recompute::Full);
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
        };
        assert!((mlp_activation_factor(&m, m.expert_params()) - 40.0).abs() < 1e-9);
    }
}
