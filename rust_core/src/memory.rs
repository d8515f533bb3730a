//! Memory per chip during training: model states under ZeRO stages and activations (Korthikanti).

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

/// Activation bytes of one layer for one micro-batch of `micro_batch` sequences with tensor and
/// sequence parallelism over `tp` chips (Korthikanti et al. 2022, Table 2: s b h (34 + 5 a s / h) / t).
pub fn layer_activation_bytes(
    model: &ModelSpec,
    micro_batch: f64,
    tp: f64,
    recompute: Recompute,
) -> f64 {
    let sbh = model.seq_len * micro_batch * model.hidden;
    let attn = 5.0 * f64::from(model.heads) * model.seq_len / model.hidden;
    match recompute {
        Recompute::None => sbh * (34.0 + attn) / tp,
        Recompute::Selective => sbh * 34.0 / tp,
        Recompute::Full => sbh * 2.0 / tp,
    }
}

/// Peak activation bytes on the first pipeline stage: its layers times the micro-batches in flight
/// under 1F1B (at most `pp`), plus fp32 logits, plus one layer's full activations while recomputing.
pub fn activation_bytes(
    model: &ModelSpec,
    micro_batch: f64,
    tp: f64,
    pp: f64,
    micro_batches: f64,
    recompute: Recompute,
) -> f64 {
    let layers_per_stage = f64::from(model.layers) / pp;
    let in_flight = micro_batches.min(pp);
    let kept =
        layers_per_stage * in_flight * layer_activation_bytes(model, micro_batch, tp, recompute);
    let logits = 4.0 * model.seq_len * micro_batch * model.vocab / tp;
    let working = if recompute == Recompute::Full {
        layer_activation_bytes(model, micro_batch, tp, Recompute::None)
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
        let none = layer_activation_bytes(&m, 1.0, 1.0, Recompute::None);
        assert!((none - sbh * (34.0 + 5.0 * 16.0 * 2048.0 / 1024.0)).abs() < 1e-6);
        assert!(
            (layer_activation_bytes(&m, 2.0, 2.0, Recompute::Selective) - sbh * 34.0).abs() < 1e-6
        );
        let full = activation_bytes(&m, 1.0, 1.0, 2.0, 8.0, Recompute::Full);
        let expect = 2.0 * 2.0 * sbh * 2.0 + 4.0 * 2048.0 * 1000.0 + none;
        assert!((full - expect).abs() < 1e-6);
    }
}
