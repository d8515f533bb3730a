//! Inference: prefill (compute-bound) and decode (memory-bound) throughput, KV cache, batch that
//! fits, weight precision, MoE active parameters, tensor parallelism, speculative decoding, cost.

use rayon::prelude::*;

use crate::error::{count, efficiency, invalid, non_negative, positive, InputError};

/// Bytes per element exchanged by tensor-parallel all-reduces (bf16 activations).
const ACTIVATION_BYTES: f64 = 2.0;

/// One serving scenario as it arrives in a table row (NaN = absent optional value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InferenceInput {
    pub peak_tflops: f64,
    pub memory_gb: f64,
    pub memory_bw_gbps: f64,
    pub scale_up_gbps: f64,
    pub price_usd_per_chip_hour: f64,
    pub params_b: f64,
    pub active_params_b: f64,
    pub layers: f64,
    pub hidden: f64,
    pub heads: f64,
    pub kv_heads: f64,
    pub experts: f64,
    pub top_k: f64,
    pub weight_bits: f64,
    pub kv_bits: f64,
    pub tp: f64,
    pub prompt_tokens: f64,
    pub output_tokens: f64,
    pub max_batch: f64,
    pub draft_params_b: f64,
    pub draft_length: f64,
    pub acceptance_rate: f64,
    pub compute_efficiency: f64,
    pub memory_bw_efficiency: f64,
    pub scale_up_efficiency: f64,
    pub usable_memory_fraction: f64,
}

/// Predicted serving performance and cost of one scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InferenceResult {
    pub feasible: bool,
    pub batch: f64,
    pub weights_gb_per_chip: f64,
    pub kv_cache_gb_per_seq: f64,
    pub decode_step_s: f64,
    pub memory_bound: bool,
    pub tokens_per_target_step: f64,
    pub spec_speedup: f64,
    pub latency_s_per_output_token: f64,
    pub decode_tokens_per_s_per_chip: f64,
    pub prefill_tokens_per_s_per_chip: f64,
    pub cost_usd_per_mtok_output: f64,
    pub cost_usd_per_mtok_input: f64,
}

struct Serving {
    peak: f64,
    bw: f64,
    link: f64,
    memory: f64,
    price: f64,
    shared: f64,
    routed: f64,
    active: f64,
    draft: f64,
    layers: f64,
    hidden: f64,
    kv_per_token: f64,
    experts: f64,
    top_k: f64,
    weight_bytes: f64,
    tp: f64,
    prompt: f64,
    output: f64,
    max_batch: f64,
    draft_length: f64,
    acceptance: f64,
}

fn validate(row: usize, x: &InferenceInput) -> Result<Serving, InputError> {
    let total = positive(row, "params_b", x.params_b)? * 1e9;
    let active = positive(row, "active_params_b", x.active_params_b)? * 1e9;
    let experts = f64::from(count(row, "experts", x.experts)?);
    let top_k = f64::from(count(row, "top_k", x.top_k)?);
    if active > total {
        return Err(invalid(
            row,
            "active_params_b",
            "must not exceed params_b".into(),
        ));
    }
    if experts > 1.0 && (top_k >= experts || active < total * top_k / experts) {
        return Err(invalid(
            row,
            "active_params_b",
            "an MoE needs top_k < experts and active >= params_b x top_k / experts".into(),
        ));
    }
    if experts == 1.0 && active != total {
        return Err(invalid(
            row,
            "active_params_b",
            "must equal params_b when experts is 1".into(),
        ));
    }
    let routed = if experts > 1.0 {
        (total - active) / (1.0 - top_k / experts)
    } else {
        0.0
    };
    let heads = f64::from(count(row, "heads", x.heads)?);
    let kv_heads = f64::from(count(row, "kv_heads", x.kv_heads)?);
    if kv_heads > heads {
        return Err(invalid(row, "kv_heads", "must not exceed heads".into()));
    }
    let hidden = f64::from(count(row, "hidden", x.hidden)?);
    let layers = f64::from(count(row, "layers", x.layers)?);
    let weight_bits = x.weight_bits;
    if ![4.0, 8.0, 16.0].contains(&weight_bits) {
        return Err(invalid(
            row,
            "weight_bits",
            format!("must be 4, 8 or 16, got {weight_bits}"),
        ));
    }
    let kv_bits = x.kv_bits;
    if ![8.0, 16.0].contains(&kv_bits) {
        return Err(invalid(
            row,
            "kv_bits",
            format!("must be 8 or 16, got {kv_bits}"),
        ));
    }
    let acceptance = x.acceptance_rate;
    if !(acceptance.is_finite() && (0.0..=1.0).contains(&acceptance)) {
        return Err(invalid(
            row,
            "acceptance_rate",
            format!("must be in [0, 1], got {acceptance}"),
        ));
    }
    let draft = non_negative(row, "draft_params_b", x.draft_params_b)? * 1e9;
    let draft_length = non_negative(row, "draft_length", x.draft_length)?;
    if draft_length.fract() != 0.0 {
        return Err(invalid(
            row,
            "draft_length",
            format!("must be a whole number, got {draft_length}"),
        ));
    }
    if (draft > 0.0) != (draft_length > 0.0) {
        return Err(invalid(
            row,
            "draft_length",
            "must be > 0 exactly when draft_params_b > 0".into(),
        ));
    }
    let compute = efficiency(row, "compute_efficiency", x.compute_efficiency)?;
    let mem_eff = efficiency(row, "memory_bw_efficiency", x.memory_bw_efficiency)?;
    let link_eff = efficiency(row, "scale_up_efficiency", x.scale_up_efficiency)?;
    let usable = efficiency(row, "usable_memory_fraction", x.usable_memory_fraction)?;
    Ok(Serving {
        peak: positive(row, "peak_tflops", x.peak_tflops)? * 1e12 * compute,
        bw: positive(row, "memory_bw_gbps", x.memory_bw_gbps)? * 1e9 * mem_eff,
        link: positive(row, "scale_up_gbps", x.scale_up_gbps)? * 1e9 * link_eff,
        memory: positive(row, "memory_gb", x.memory_gb)? * 1e9 * usable,
        price: positive(row, "price_usd_per_chip_hour", x.price_usd_per_chip_hour)?,
        shared: total - routed,
        routed,
        active,
        draft,
        layers,
        hidden,
        kv_per_token: 2.0 * layers * kv_heads * (hidden / heads) * kv_bits / 8.0,
        experts,
        top_k,
        weight_bytes: weight_bits / 8.0,
        tp: f64::from(count(row, "tp", x.tp)?),
        prompt: f64::from(count(row, "prompt_tokens", x.prompt_tokens)?),
        output: f64::from(count(row, "output_tokens", x.output_tokens)?),
        max_batch: f64::from(count(row, "max_batch", x.max_batch)?),
        draft_length,
        acceptance,
    })
}

/// Expected tokens accepted per target-model step with `gamma` drafted tokens at acceptance rate
/// `alpha` (Leviathan et al. 2023, Eq. 1): (1 - alpha^(gamma+1)) / (1 - alpha).
pub fn expected_tokens_per_step(alpha: f64, gamma: f64) -> f64 {
    if alpha >= 1.0 {
        gamma + 1.0
    } else {
        (1.0 - alpha.powf(gamma + 1.0)) / (1.0 - alpha)
    }
}

impl Serving {
    /// Seconds for one target-model step that appends `q` tokens to each of `b` sequences.
    fn target_step(&self, b: f64, q: f64) -> (f64, bool) {
        let context = self.prompt + self.output / 2.0;
        let touched = if self.experts > 1.0 {
            1.0 - (1.0 - self.top_k / self.experts).powf(b * q)
        } else {
            0.0
        };
        let bytes = (self.shared + self.routed * touched) * self.weight_bytes
            + b * context * self.kv_per_token;
        let t_mem = bytes / (self.tp * self.bw);
        let flops = b * q * (2.0 * self.active + 4.0 * self.layers * self.hidden * context);
        let t_compute = flops / (self.tp * self.peak);
        let t_tp = if self.tp > 1.0 {
            2.0 * self.layers * 2.0 * (self.tp - 1.0) / self.tp
                * ACTIVATION_BYTES
                * b
                * q
                * self.hidden
                / self.link
        } else {
            0.0
        };
        (t_mem.max(t_compute) + t_tp, t_mem >= t_compute)
    }

    /// Seconds for one draft-model step (dense, sharing the same chips): weights or FLOPs bound.
    fn draft_step(&self, b: f64) -> f64 {
        let t_mem = self.draft * self.weight_bytes / (self.tp * self.bw);
        let t_compute = b * 2.0 * self.draft / (self.tp * self.peak);
        t_mem.max(t_compute)
    }

    fn evaluate(&self) -> InferenceResult {
        let weights = (self.shared + self.routed + self.draft) * self.weight_bytes;
        let per_seq = self.kv_per_token * (self.prompt + self.output);
        let free = self.tp * self.memory - weights;
        let fit = (free / per_seq).floor();
        let batch = fit.min(self.max_batch);
        let prefill_flops = 2.0 * self.active + 2.0 * self.layers * self.hidden * self.prompt;
        let prefill = self.peak / prefill_flops;
        let mut r = InferenceResult {
            feasible: batch >= 1.0,
            batch: f64::NAN,
            weights_gb_per_chip: weights / self.tp / 1e9,
            kv_cache_gb_per_seq: per_seq / 1e9,
            decode_step_s: f64::NAN,
            memory_bound: false,
            tokens_per_target_step: f64::NAN,
            spec_speedup: f64::NAN,
            latency_s_per_output_token: f64::NAN,
            decode_tokens_per_s_per_chip: f64::NAN,
            prefill_tokens_per_s_per_chip: prefill,
            cost_usd_per_mtok_output: f64::NAN,
            cost_usd_per_mtok_input: self.price / 3600.0 / prefill * 1e6,
        };
        if !r.feasible {
            return r;
        }
        let (plain, memory_bound) = self.target_step(batch, 1.0);
        let (cycle, tokens) = if self.draft_length > 0.0 {
            let (verify, _) = self.target_step(batch, self.draft_length + 1.0);
            let cycle = self.draft_length * self.draft_step(batch) + verify;
            (
                cycle,
                expected_tokens_per_step(self.acceptance, self.draft_length),
            )
        } else {
            (plain, 1.0)
        };
        let per_chip = batch * tokens / cycle / self.tp;
        r.batch = batch;
        r.decode_step_s = plain;
        r.memory_bound = memory_bound;
        r.tokens_per_target_step = tokens;
        r.spec_speedup = plain / (cycle / tokens);
        r.latency_s_per_output_token = cycle / tokens;
        r.decode_tokens_per_s_per_chip = per_chip;
        r.cost_usd_per_mtok_output = self.price / 3600.0 / per_chip * 1e6;
        r
    }
}

/// Validates and evaluates one serving scenario.
pub fn inference_one(row: usize, x: &InferenceInput) -> Result<InferenceResult, InputError> {
    Ok(validate(row, x)?.evaluate())
}

/// Evaluates every row in parallel; the first invalid row is the error.
pub fn inference_batch(inputs: &[InferenceInput]) -> Result<Vec<InferenceResult>, InputError> {
    let results = inputs
        .par_iter()
        .enumerate()
        .map(|(row, x)| inference_one(row, x))
        .collect::<Vec<_>>();
    crate::error::first_error(results)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Llama-2-7B-shaped dense model on one H100-class chip, bf16.
    pub fn dense_7b() -> InferenceInput {
        InferenceInput {
            peak_tflops: 989.0,
            memory_gb: 80.0,
            memory_bw_gbps: 3350.0,
            scale_up_gbps: 900.0,
            price_usd_per_chip_hour: 2.0,
            params_b: 7.0,
            active_params_b: 7.0,
            layers: 32.0,
            hidden: 4096.0,
            heads: 32.0,
            kv_heads: 32.0,
            experts: 1.0,
            top_k: 1.0,
            weight_bits: 16.0,
            kv_bits: 16.0,
            tp: 1.0,
            prompt_tokens: 1000.0,
            output_tokens: 200.0,
            max_batch: 1.0,
            draft_params_b: 0.0,
            draft_length: 0.0,
            acceptance_rate: 0.0,
            compute_efficiency: 1.0,
            memory_bw_efficiency: 1.0,
            scale_up_efficiency: 1.0,
            usable_memory_fraction: 1.0,
        }
    }

    #[test]
    fn batch_one_decode_is_weights_over_bandwidth() {
        let r = inference_one(0, &dense_7b()).unwrap();
        // KV per token: 2 x 32 layers x 4096 x 2 bytes = 524,288 B; context 1000 + 100.
        let kv = 524_288.0 * 1100.0;
        let t = (14e9 + kv) / 3350e9;
        assert!((r.decode_step_s - t).abs() / t < 1e-12);
        assert!(r.memory_bound);
        assert!((r.kv_cache_gb_per_seq - 524_288.0 * 1200.0 / 1e9).abs() < 1e-12);
        let cost = 2.0 / 3600.0 / (1.0 / t) * 1e6;
        assert!((r.cost_usd_per_mtok_output - cost).abs() / cost < 1e-12);
        let prefill = 989e12 / (14e9 + 2.0 * 32.0 * 4096.0 * 1000.0);
        assert!((r.prefill_tokens_per_s_per_chip - prefill).abs() / prefill < 1e-12);
    }

    #[test]
    fn batch_is_what_fits() {
        let mut x = dense_7b();
        x.max_batch = 10_000.0;
        let r = inference_one(0, &x).unwrap();
        let fit = ((80e9_f64 - 14e9) / (524_288.0 * 1200.0)).floor();
        assert_eq!(r.batch, fit);
        x.weight_bits = 4.0;
        assert!(inference_one(0, &x).unwrap().batch > fit);
        x.memory_gb = 10.0;
        x.weight_bits = 16.0;
        assert!(!inference_one(0, &x).unwrap().feasible);
    }

    #[test]
    fn speculative_decoding_by_hand() {
        assert!((expected_tokens_per_step(0.8, 4.0) - (1.0 - 0.8f64.powi(5)) / 0.2).abs() < 1e-12);
        assert_eq!(expected_tokens_per_step(1.0, 4.0), 5.0);
        assert_eq!(expected_tokens_per_step(0.0, 4.0), 1.0);
        let mut x = dense_7b();
        (x.draft_params_b, x.draft_length, x.acceptance_rate) = (0.5, 4.0, 0.8);
        let r = inference_one(0, &x).unwrap();
        assert!(r.spec_speedup > 1.5 && r.spec_speedup < 3.36);
        x.acceptance_rate = 0.0;
        assert!(inference_one(0, &x).unwrap().spec_speedup < 1.0);
    }

    #[test]
    fn moe_reads_fewer_weights_at_batch_one() {
        let mut x = dense_7b();
        (x.params_b, x.active_params_b, x.experts, x.top_k) = (16.0, 4.0, 64.0, 6.0);
        let r = inference_one(0, &x).unwrap();
        let mut dense = dense_7b();
        (dense.params_b, dense.active_params_b) = (16.0, 16.0);
        assert!(r.decode_step_s < inference_one(0, &dense).unwrap().decode_step_s);
    }

    #[test]
    fn invalid_rows_name_their_field() {
        let mut x = dense_7b();
        x.weight_bits = 6.0;
        assert_eq!(inference_one(3, &x).unwrap_err().field, "weight_bits");
        let mut x = dense_7b();
        x.draft_params_b = 1.0;
        assert_eq!(inference_one(0, &x).unwrap_err().field, "draft_length");
        let mut x = dense_7b();
        x.acceptance_rate = 1.5;
        assert_eq!(inference_one(0, &x).unwrap_err().field, "acceptance_rate");
        let mut x = dense_7b();
        x.kv_heads = 64.0;
        assert_eq!(inference_one(0, &x).unwrap_err().field, "kv_heads");
    }
}
