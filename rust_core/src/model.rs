//! Transformer workload: parameter split (dense vs expert) and FLOPs per token, model vs hardware.

use crate::error::InputError;

/// Activation recomputation strategy (Korthikanti et al. 2022).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recompute {
    /// Keep every activation.
    None = 0,
    /// Recompute only the attention core (QK^T, softmax, attention over V).
    Selective = 1,
    /// Keep each layer's input and recompute the whole layer forward.
    Full = 2,
}

impl Recompute {
    /// All strategies in search order.
    pub const ALL: [Recompute; 3] = [Recompute::None, Recompute::Selective, Recompute::Full];

    /// Parses the numeric code used in scenario tables (0 none, 1 selective, 2 full).
    pub fn from_code(row: usize, field: &'static str, code: f64) -> Result<Recompute, InputError> {
        if code == 0.0 {
            Ok(Recompute::None)
        } else if code == 1.0 {
            Ok(Recompute::Selective)
        } else if code == 2.0 {
            Ok(Recompute::Full)
        } else {
            Err(InputError {
                row,
                field: field.into(),
                reason: format!("must be 0 (none), 1 (selective) or 2 (full), got {code}"),
            })
        }
    }
}

/// A decoder-only transformer as the performance model sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelSpec {
    /// Total parameters (count, not billions).
    pub params_total: f64,
    /// Parameters used per token (equal to total for a dense model).
    pub params_active: f64,
    pub layers: u32,
    pub hidden: f64,
    pub heads: u32,
    pub seq_len: f64,
    pub vocab: f64,
    /// Routed experts per MoE layer (1 = dense).
    pub experts: u32,
    /// Experts each token is routed to (1 for dense).
    pub top_k: u32,
    /// Key/value heads (grouped-query attention; equal to `heads` for multi-head attention).
    pub kv_heads: u32,
    /// Intermediate size of the dense MLP (4 h for a GPT-style MLP).
    pub ffn_hidden: f64,
    /// Gated MLP (SwiGLU-style: gate and up projections, then the down projection).
    pub gated_mlp: bool,
}

impl ModelSpec {
    /// Parameters held in routed experts: solves total = shared + experts, active = shared + experts k/E.
    pub fn expert_params(&self) -> f64 {
        if self.experts <= 1 {
            return 0.0;
        }
        let frac = f64::from(self.top_k) / f64::from(self.experts);
        (self.params_total - self.params_active) / (1.0 - frac)
    }

    /// Parameters every token uses (attention, embeddings, shared experts).
    pub fn shared_params(&self) -> f64 {
        self.params_total - self.expert_params()
    }

    /// Key (or value) activation width per tensor-parallel rank over its query width:
    /// `max(kv_heads, tp) / heads` (a rank holds at least one KV head; with fewer KV heads than
    /// ranks they are replicated). 1 for multi-head attention, since `tp` divides `heads`.
    pub fn kv_share(&self, tp: f64) -> f64 {
        f64::from(self.kv_heads).max(tp) / f64::from(self.heads)
    }

    /// Attention-score FLOPs per token, forward only: 2 matmuls (QK^T, AV) of 2 s h each per layer.
    pub fn attention_fwd_flops_per_token(&self) -> f64 {
        4.0 * f64::from(self.layers) * self.seq_len * self.hidden
    }

    /// Model FLOPs per token (forward + backward): 6 N_active + 12 L s h (Korthikanti et al. 2022).
    pub fn model_flops_per_token(&self) -> f64 {
        6.0 * self.params_active + 3.0 * self.attention_fwd_flops_per_token()
    }

    /// Hardware FLOPs per token: model FLOPs plus what recomputation executes again.
    pub fn hardware_flops_per_token(&self, recompute: Recompute) -> f64 {
        let extra = match recompute {
            Recompute::None => 0.0,
            Recompute::Selective => self.attention_fwd_flops_per_token(),
            Recompute::Full => {
                let layer_params = (self.params_active - self.vocab * self.hidden).max(0.0);
                2.0 * layer_params + self.attention_fwd_flops_per_token()
            }
        };
        self.model_flops_per_token() + extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GPT-style model with Megatron's parameter count 12 L h^2 + V h.
    pub fn gpt(layers: u32, hidden: f64, heads: u32) -> ModelSpec {
        let params = 12.0 * f64::from(layers) * hidden * hidden + 51200.0 * hidden;
        ModelSpec {
            params_total: params,
            params_active: params,
            layers,
            hidden,
            heads,
            seq_len: 2048.0,
            vocab: 51200.0,
            experts: 1,
            top_k: 1,
            kv_heads: heads,
            ffn_hidden: 4.0 * hidden,
            gated_mlp: false,
        }
    }

    #[test]
    fn model_flops_match_megatron_formula() {
        // 72 B L s h^2 (1 + s/6h + V/12hL) per iteration of B sequences = per token / (B s).
        let m = gpt(96, 12288.0, 96);
        let (l, h, s, v) = (96.0, 12288.0, 2048.0, 51200.0);
        let megatron = 72.0 * l * h * h * (1.0 + s / (6.0 * h) + v / (12.0 * h * l));
        assert!((m.model_flops_per_token() - megatron).abs() / megatron < 1e-12);
    }

    #[test]
    fn full_recompute_matches_narayanan_eq3() {
        // 96 B s l h^2 (1 + s/6h + V/16lh) per iteration (Narayanan et al. 2021, Eq. 3).
        let m = gpt(24, 2304.0, 24);
        let (l, h, s, v) = (24.0, 2304.0, 2048.0, 51200.0);
        let eq3 = 96.0 * l * h * h * (1.0 + s / (6.0 * h) + v / (16.0 * l * h));
        let hw = m.hardware_flops_per_token(Recompute::Full);
        assert!((hw - eq3).abs() / eq3 < 1e-12);
    }

    #[test]
    fn six_nd_plus_attention_by_hand() {
        // 7e9 params, 32 layers, h 4096, s 4096: 6*7e9 + 12*32*4096*4096 = 4.2e10 + 6.442450944e9.
        let m = ModelSpec {
            params_total: 7e9,
            params_active: 7e9,
            layers: 32,
            hidden: 4096.0,
            heads: 32,
            seq_len: 4096.0,
            vocab: 32000.0,
            experts: 1,
            top_k: 1,
            kv_heads: 32,
            ffn_hidden: 4.0 * 4096.0,
            gated_mlp: false,
        };
        assert!((m.model_flops_per_token() - 48_442_450_944.0).abs() < 1e-3);
        assert!(m.hardware_flops_per_token(Recompute::Selective) > m.model_flops_per_token());
    }

    #[test]
    fn moe_split_recovers_active_count() {
        // DeepSeek-V3 shape: 671B total, 37B active, 256 routed experts, top-8.
        let m = ModelSpec {
            params_total: 671e9,
            params_active: 37e9,
            layers: 61,
            hidden: 7168.0,
            heads: 128,
            seq_len: 4096.0,
            vocab: 129280.0,
            experts: 256,
            top_k: 8,
            kv_heads: 128,
            ffn_hidden: 4.0 * 7168.0,
            gated_mlp: false,
        };
        let active = m.shared_params() + m.expert_params() * 8.0 / 256.0;
        assert!((active - 37e9).abs() / 37e9 < 1e-12);
        assert!((m.expert_params() - 634e9 / (1.0 - 8.0 / 256.0)).abs() < 1.0);
    }
}
