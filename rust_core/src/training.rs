//! Training step time, MFU and HFU for one scenario and one parallel layout.

use std::cmp::Ordering;

use crate::error::{count, efficiency, invalid, positive, unit_interval, InputError};
use crate::memory::{activation_bytes, mlp_activation_factor, model_state_bytes, GRAD_BYTES};
use crate::model::{ModelSpec, Recompute};

/// Bytes moved per parameter by an Adam update: read grad 2 + master, m, v 12; write master, m, v
/// 12 + bf16 weights 2.
pub const OPTIMIZER_TRAFFIC_BYTES: f64 = 28.0;
/// Bytes per activation element sent between chips (bf16).
pub const ACTIVATION_BYTES: f64 = 2.0;
/// Micro-batch sizes the search tries (sequences).
pub const MICRO_BATCHES: [u32; 5] = [1, 2, 4, 8, 16];
/// Virtual pipeline chunks per stage the search tries (interleaved 1F1B; 1 = plain 1F1B).
pub const VIRTUAL_STAGES: [u32; 6] = [1, 2, 3, 4, 5, 6];
/// Context-parallel sizes the search tries (each rank keeps at least `MIN_CP_TOKENS` tokens).
pub const CONTEXT_PARALLEL: [u32; 4] = [1, 2, 4, 8];
/// Shortest sequence slice a context-parallel rank holds (tokens).
pub const MIN_CP_TOKENS: f64 = 2048.0;

/// One scenario's inputs exactly as they arrive in a table row (NaN = absent optional value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainInput {
    pub peak_tflops: f64,
    pub memory_gb: f64,
    pub memory_bw_gbps: f64,
    pub scale_up_gbps: f64,
    pub scale_up_domain_chips: f64,
    pub scale_out_gbps: f64,
    pub power_w_per_chip: f64,
    pub pue: f64,
    pub price_usd_per_chip_hour: f64,
    pub params_b: f64,
    pub active_params_b: f64,
    pub layers: f64,
    pub hidden: f64,
    pub heads: f64,
    pub seq_len: f64,
    pub vocab: f64,
    pub experts: f64,
    pub top_k: f64,
    pub chips: f64,
    pub global_batch_tokens: f64,
    pub training_tokens: f64,
    pub compute_efficiency: f64,
    pub gemm_half_size: f64,
    pub scale_up_efficiency: f64,
    pub scale_out_efficiency: f64,
    pub dp_overlap_fraction: f64,
    pub usable_memory_fraction: f64,
    pub tp_overlap_fraction: f64,
    pub ep_overlap_fraction: f64,
    pub tp: f64,
    pub pp: f64,
    pub dp: f64,
    pub ep: f64,
    pub micro_batch: f64,
    pub zero_stage: f64,
    pub recompute: f64,
    /// Virtual pipeline chunks per stage of a fixed layout (NaN = 1).
    pub vpp: f64,
    /// Context-parallel size of a fixed layout (NaN = 1).
    pub cp: f64,
    /// Key/value heads, grouped-query attention (NaN = heads).
    pub kv_heads: f64,
    /// Intermediate size of the dense MLP (NaN = 4 x hidden).
    pub ffn_hidden: f64,
    /// 1 for a gated (SwiGLU-style) MLP, 0 for a plain one (NaN = 0).
    pub gated_mlp: f64,
}

/// The calibrated efficiency constants (see `calibration/constants.json`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constants {
    /// Largest achievable fraction of peak for the matmuls.
    pub compute_efficiency: f64,
    /// Per-chip GEMM size (micro-batch tokens x hidden / tp) at which half that fraction is reached.
    pub gemm_half_size: f64,
    pub scale_up_efficiency: f64,
    pub scale_out_efficiency: f64,
    /// Fraction of the pipeline compute time that can hide data-parallel gradient traffic and
    /// ZeRO-3 parameter gathers (prefetched under compute).
    pub dp_overlap_fraction: f64,
    pub usable_memory_fraction: f64,
    /// Share of tensor- and context-parallel collectives hidden under compute.
    pub tp_overlap_fraction: f64,
    /// Share of expert all-to-all hidden under compute (DualPipe-style schedules).
    pub ep_overlap_fraction: f64,
}

/// A parallel layout: tensor, context, pipeline (with virtual chunks), data, expert parallel;
/// micro-batch; ZeRO stage; recompute. Chips used = tp x cp x pp x dp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub tp: u32,
    pub cp: u32,
    pub pp: u32,
    pub vpp: u32,
    pub dp: u32,
    pub ep: u32,
    pub micro_batch: u32,
    pub zero_stage: u8,
    pub recompute: Recompute,
}

/// A validated scenario with the per-scenario quantities every layout evaluation reuses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scenario {
    pub model: ModelSpec,
    pub constants: Constants,
    pub chips: u32,
    pub batch_seqs: f64,
    pub training_tokens: f64,
    pub peak_flops: f64,
    pub memory_bytes: f64,
    pub memory_bw: f64,
    pub scale_up_bw: f64,
    pub scale_out_bw: f64,
    pub domain: f64,
    pub power_w_per_chip: f64,
    pub pue: f64,
    pub price_usd_per_chip_hour: f64,
    pub fixed: Option<Layout>,
    flops_model: f64,
    flops_hw: [f64; 3],
    params_shared: f64,
    params_expert: f64,
    mlp_factor: f64,
}

/// A layout's figures for each of its variants: compute time per recompute strategy (in
/// `Recompute::ALL` order), optimizer time for ZeRO stage 0 and for stages 1-3, states per ZeRO
/// stage 0-3 and activations per recompute strategy (seconds, bytes); a search computes them once
/// for the twelve ZeRO-stage and recompute variants of one layout.
#[derive(Debug, Clone, Copy)]
pub struct VariantTerms {
    t_compute: [f64; 3],
    t_opt: [f64; 2],
    states: [f64; 4],
    acts: [f64; 3],
}

/// The zero-stage- and recompute-independent terms of a layout evaluation (see `bound_terms`).
#[derive(Debug, Clone, Copy)]
pub struct BoundTerms {
    t: f64,
    c: f64,
    p: f64,
    v: f64,
    d: f64,
    e: f64,
    mb: f64,
    micro_batches: f64,
    layers_stage: f64,
    stage_share: f64,
    phi_shared: f64,
    phi_expert: f64,
    shard: f64,
    tokens_mb: f64,
    eff: f64,
    slots: f64,
    kv_share: f64,
}

/// The predicted performance of one layout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    pub layout: Layout,
    pub chips_used: u32,
    pub memory_per_chip_gb: f64,
    pub step_time_s: f64,
    pub tokens_per_s: f64,
    pub mfu: f64,
    pub hfu: f64,
}

fn fixed_layout(row: usize, x: &TrainInput) -> Result<Option<Layout>, InputError> {
    let fields = [
        ("tp", x.tp),
        ("pp", x.pp),
        ("dp", x.dp),
        ("ep", x.ep),
        ("micro_batch", x.micro_batch),
        ("zero_stage", x.zero_stage),
        ("recompute", x.recompute),
    ];
    if fields.iter().all(|(_, v)| v.is_nan()) {
        return Ok(None);
    }
    if let Some((name, _)) = fields.iter().find(|(_, v)| v.is_nan()) {
        return Err(invalid(
            row,
            name,
            "a fixed layout needs all of tp, pp, dp, ep, micro_batch, zero_stage, recompute".into(),
        ));
    }
    let zero = x.zero_stage;
    if !(zero == 0.0 || zero == 1.0 || zero == 2.0 || zero == 3.0) {
        return Err(invalid(
            row,
            "zero_stage",
            format!("must be 0, 1, 2 or 3, got {zero}"),
        ));
    }
    let optional_count = |field: &'static str, v: f64| {
        if v.is_nan() {
            Ok(1)
        } else {
            count(row, field, v)
        }
    };
    let micro_batch = count(row, "micro_batch", x.micro_batch)?;
    Ok(Some(Layout {
        tp: count(row, "tp", x.tp)?,
        cp: optional_count("cp", x.cp)?,
        pp: count(row, "pp", x.pp)?,
        vpp: optional_count("vpp", x.vpp)?,
        dp: count(row, "dp", x.dp)?,
        ep: count(row, "ep", x.ep)?,
        micro_batch,
        // zero is one of 0..=3 (checked above).
        zero_stage: zero as u8,
        recompute: Recompute::from_code(row, "recompute", x.recompute)?,
    }))
}

impl Scenario {
    /// Validates one input row; every rejection names the row and the field.
    pub fn new(row: usize, x: &TrainInput) -> Result<Scenario, InputError> {
        let params_total = positive(row, "params_b", x.params_b)? * 1e9;
        let params_active = positive(row, "active_params_b", x.active_params_b)? * 1e9;
        if params_active > params_total {
            return Err(invalid(
                row,
                "active_params_b",
                "must not exceed params_b".into(),
            ));
        }
        let experts = count(row, "experts", x.experts)?;
        let top_k = count(row, "top_k", x.top_k)?;
        if experts > 1 && top_k >= experts {
            return Err(invalid(
                row,
                "top_k",
                format!("must be below experts ({experts})"),
            ));
        }
        if experts > 1 && params_active < params_total * f64::from(top_k) / f64::from(experts) {
            return Err(invalid(
                row,
                "active_params_b",
                "must be at least params_b x top_k / experts (shared parameters cannot be negative)"
                    .into(),
            ));
        }
        if experts == 1 && params_active != params_total {
            return Err(invalid(
                row,
                "active_params_b",
                "must equal params_b when experts is 1".into(),
            ));
        }
        let hidden = f64::from(count(row, "hidden", x.hidden)?);
        let heads = count(row, "heads", x.heads)?;
        let kv_heads = if x.kv_heads.is_nan() {
            heads
        } else {
            count(row, "kv_heads", x.kv_heads)?
        };
        if kv_heads > heads {
            return Err(invalid(
                row,
                "kv_heads",
                format!("must not exceed heads ({heads})"),
            ));
        }
        let ffn_hidden = if x.ffn_hidden.is_nan() {
            4.0 * hidden
        } else {
            f64::from(count(row, "ffn_hidden", x.ffn_hidden)?)
        };
        let gated_mlp = if x.gated_mlp.is_nan() || x.gated_mlp == 0.0 {
            false
        } else if x.gated_mlp == 1.0 {
            true
        } else {
            return Err(invalid(
                row,
                "gated_mlp",
                format!(
                    "must be 0 (plain MLP) or 1 (gated, SwiGLU), got {}",
                    x.gated_mlp
                ),
            ));
        };
        let model = ModelSpec {
            params_total,
            params_active,
            layers: count(row, "layers", x.layers)?,
            hidden,
            heads,
            seq_len: f64::from(count(row, "seq_len", x.seq_len)?),
            vocab: f64::from(count(row, "vocab", x.vocab)?),
            experts,
            top_k,
            kv_heads,
            ffn_hidden,
            gated_mlp,
        };
        let constants = Constants {
            compute_efficiency: efficiency(row, "compute_efficiency", x.compute_efficiency)?,
            gemm_half_size: crate::error::non_negative(row, "gemm_half_size", x.gemm_half_size)?,
            scale_up_efficiency: efficiency(row, "scale_up_efficiency", x.scale_up_efficiency)?,
            scale_out_efficiency: efficiency(row, "scale_out_efficiency", x.scale_out_efficiency)?,
            dp_overlap_fraction: unit_interval(row, "dp_overlap_fraction", x.dp_overlap_fraction)?,
            usable_memory_fraction: efficiency(
                row,
                "usable_memory_fraction",
                x.usable_memory_fraction,
            )?,
            tp_overlap_fraction: unit_interval(row, "tp_overlap_fraction", x.tp_overlap_fraction)?,
            ep_overlap_fraction: unit_interval(row, "ep_overlap_fraction", x.ep_overlap_fraction)?,
        };
        let chips = count(row, "chips", x.chips)?;
        let global_batch_tokens = positive(row, "global_batch_tokens", x.global_batch_tokens)?;
        let batch_seqs = (global_batch_tokens / model.seq_len).floor();
        if batch_seqs < 1.0 {
            return Err(invalid(
                row,
                "global_batch_tokens",
                "must hold at least one sequence".into(),
            ));
        }
        let fixed = fixed_layout(row, x)?;
        if let Some(l) = fixed {
            let used = u64::from(l.tp) * u64::from(l.cp) * u64::from(l.pp) * u64::from(l.dp);
            if used != u64::from(chips) {
                return Err(invalid(
                    row,
                    "dp",
                    format!("tp x cp x pp x dp = {used} must equal chips ({chips})"),
                ));
            }
            if model.seq_len / f64::from(l.cp) < 1.0 {
                return Err(invalid(
                    row,
                    "cp",
                    format!("exceeds the sequence length ({})", model.seq_len),
                ));
            }
            if model.heads % l.tp != 0 {
                return Err(invalid(
                    row,
                    "tp",
                    format!("must divide heads ({})", model.heads),
                ));
            }
            if l.pp > model.layers {
                return Err(invalid(
                    row,
                    "pp",
                    format!("must not exceed layers ({})", model.layers),
                ));
            }
            if u64::from(l.pp) * u64::from(l.vpp) > u64::from(model.layers) {
                return Err(invalid(
                    row,
                    "vpp",
                    format!("pp x vpp must not exceed layers ({})", model.layers),
                ));
            }
            if l.dp % l.ep != 0 || experts % l.ep != 0 {
                return Err(invalid(row, "ep", "must divide both dp and experts".into()));
            }
            if f64::from(l.dp) > batch_seqs {
                return Err(invalid(
                    row,
                    "dp",
                    format!("exceeds the global batch ({batch_seqs} sequences)"),
                ));
            }
        }
        let mut flops_hw = [0.0; 3];
        for r in Recompute::ALL {
            flops_hw[r as usize] = model.hardware_flops_per_token(r);
        }
        Ok(Scenario {
            model,
            constants,
            chips,
            batch_seqs,
            training_tokens: positive(row, "training_tokens", x.training_tokens)?,
            peak_flops: positive(row, "peak_tflops", x.peak_tflops)? * 1e12,
            memory_bytes: positive(row, "memory_gb", x.memory_gb)? * 1e9,
            memory_bw: positive(row, "memory_bw_gbps", x.memory_bw_gbps)? * 1e9,
            scale_up_bw: positive(row, "scale_up_gbps", x.scale_up_gbps)? * 1e9,
            scale_out_bw: positive(row, "scale_out_gbps", x.scale_out_gbps)? * 1e9,
            domain: f64::from(count(
                row,
                "scale_up_domain_chips",
                x.scale_up_domain_chips,
            )?),
            power_w_per_chip: positive(row, "power_w_per_chip", x.power_w_per_chip)?,
            pue: {
                let pue = positive(row, "pue", x.pue)?;
                if pue < 1.0 {
                    return Err(invalid(row, "pue", format!("must be >= 1, got {pue}")));
                }
                pue
            },
            price_usd_per_chip_hour: positive(
                row,
                "price_usd_per_chip_hour",
                x.price_usd_per_chip_hour,
            )?,
            fixed,
            flops_model: model.model_flops_per_token(),
            flops_hw,
            params_shared: model.shared_params(),
            params_expert: model.expert_params(),
            mlp_factor: mlp_activation_factor(&model, model.expert_params()),
        })
    }

    /// Effective bandwidth (B/s) of a collective spanning `span` consecutive chips.
    fn link_bw(&self, span: f64) -> f64 {
        if span <= self.domain {
            self.scale_up_bw * self.constants.scale_up_efficiency
        } else {
            self.scale_out_bw * self.constants.scale_out_efficiency
        }
    }

    /// The terms of a layout's step-time lower bound that do not depend on its ZeRO stage or
    /// recompute strategy, shared by `evaluate_above` and `variants_that_can_beat` so both compute
    /// the bound with the same floating-point operations in the same order.
    ///
    /// A search computes them once per layout and passes them to `variants_that_can_beat` and to
    /// `evaluate_with` for each of its ZeRO stages and recompute strategies, which differ only there.
    pub(crate) fn bound_terms(&self, l: &Layout) -> BoundTerms {
        let m = &self.model;
        let k = &self.constants;
        let (t, c, p, v, d, e) = (
            f64::from(l.tp),
            f64::from(l.cp),
            f64::from(l.pp),
            f64::from(l.vpp),
            f64::from(l.dp),
            f64::from(l.ep),
        );
        let mb = f64::from(l.micro_batch);
        let micro_batches = (self.batch_seqs / (d * mb)).ceil();
        // Layers on the busiest stage: pp x vpp chunks of ceil(layers / (pp vpp)) layers (a fixed
        // layout may split unevenly; the slowest stage sets the pace).
        let chunks = p * v;
        let layers_total = f64::from(m.layers);
        let layers_stage = (layers_total / chunks).ceil() * v;
        let stage_share = layers_stage / layers_total;
        // Memory: states sharded over data x context ranks (experts over data x context / ep).
        let phi_shared = self.params_shared * stage_share / t;
        let phi_expert = self.params_expert * stage_share / (t * e);
        let shard = d * c;
        // Compute per micro-batch per chip (all of its pipeline chunks).
        let tokens_mb = mb * m.seq_len;
        let gemm = tokens_mb / c * m.hidden / t;
        let eff = k.compute_efficiency * gemm / (gemm + k.gemm_half_size);
        let slots = micro_batches + (p - 1.0) / v;
        let kv_share = m.kv_share(t);
        BoundTerms {
            t,
            c,
            p,
            v,
            d,
            e,
            mb,
            micro_batches,
            layers_stage,
            stage_share,
            phi_shared,
            phi_expert,
            shard,
            tokens_mb,
            eff,
            slots,
            kv_share,
        }
    }

    /// Compute time of one micro-batch per chip (all of its pipeline chunks), in seconds.
    fn compute_time(&self, b: &BoundTerms, recompute: Recompute) -> f64 {
        let flops_hw = self.flops_hw[recompute as usize];
        b.tokens_mb * flops_hw * b.stage_share / (b.t * b.c) / (self.peak_flops * b.eff)
    }

    /// Optimizer update time, bound by memory bandwidth, in seconds.
    fn optimizer_time(&self, b: &BoundTerms, zero_stage: u8) -> f64 {
        let phi_opt = if zero_stage >= 1 {
            b.phi_shared / b.shard + b.phi_expert / (b.shard / b.e)
        } else {
            b.phi_shared + b.phi_expert
        };
        OPTIMIZER_TRAFFIC_BYTES * phi_opt / self.memory_bw
    }

    /// Weights, gradients and optimizer states per chip at a ZeRO stage, in bytes.
    fn state_bytes(&self, b: &BoundTerms, zero_stage: u8) -> f64 {
        model_state_bytes(b.phi_shared, b.shard, zero_stage)
            + model_state_bytes(b.phi_expert, b.shard / b.e, zero_stage)
    }

    /// Activations kept per chip with a recompute strategy, in bytes.
    fn activation_bytes(&self, b: &BoundTerms, recompute: Recompute) -> f64 {
        activation_bytes(
            &self.model,
            self.mlp_factor,
            b.kv_share,
            b.mb,
            b.t * b.c,
            b.p,
            b.v,
            b.micro_batches,
            recompute,
        )
    }

    /// The memory a layout may use per chip, in bytes.
    fn memory_limit_bytes(&self) -> f64 {
        self.memory_bytes * self.constants.usable_memory_fraction
    }

    /// The MFU a layout could reach at most: compute plus optimizer time is a lower bound on the
    /// step (every other term is >= 0, and floating-point sums and products of non-negative terms
    /// are monotone).
    fn mfu_bound(&self, b: &BoundTerms, t_compute: f64, t_opt: f64) -> f64 {
        let n = f64::from(self.chips);
        let useful_tokens = self.batch_seqs * self.model.seq_len;
        let bound_step = b.slots * t_compute + t_opt;
        useful_tokens * self.flops_model / (bound_step * n * self.peak_flops)
    }

    /// `None` when `evaluate_above` would return `None` for every ZeRO stage (0-3) and recompute
    /// strategy of the layout whose `bound_terms` are `b` (its other fields as given): either no
    /// such layout's MFU bound exceeds `floor_mfu`, or even the smallest states plus the smallest
    /// activations exceed the chip's memory (each layout's memory is its own states plus its own
    /// activations, and a floating-point sum never falls below the sum of smaller terms); else the
    /// layout's `VariantTerms`. Each bound, state and activation figure is computed exactly as
    /// there, so a search that skips those layouts on `None` finds the same best layout; it only
    /// computes their shared terms once.
    pub(crate) fn variants_that_can_beat(
        &self,
        b: &BoundTerms,
        floor_mfu: f64,
    ) -> Option<VariantTerms> {
        let (t_compute, t_opt) = self.variant_times(b);
        let above = t_compute.iter().any(|&t_compute| {
            // Pruned there only when bound <= floor: a NaN bound (unordered) is never pruned.
            t_opt.iter().any(|&t_opt| {
                let bound = self.mfu_bound(b, t_compute, t_opt);
                !matches!(
                    bound.partial_cmp(&floor_mfu),
                    Some(Ordering::Less | Ordering::Equal)
                )
            })
        });
        if !above {
            return None;
        }
        let terms = self.with_memory(b, t_compute, t_opt);
        // A NaN term is skipped by `min`; a layout whose own memory is NaN does not fit there.
        let states = terms.states.iter().copied().fold(f64::INFINITY, f64::min);
        let acts = terms.acts.iter().copied().fold(f64::INFINITY, f64::min);
        // Skipped only when the smallest sum is ordered above the limit, as `memory > limit` there.
        (!matches!(
            (states + acts).partial_cmp(&self.memory_limit_bytes()),
            Some(Ordering::Greater)
        ))
        .then_some(terms)
    }

    /// Every `VariantTerms` figure of the layout, computed as `variants_that_can_beat` computes it.
    pub(crate) fn variant_terms(&self, b: &BoundTerms) -> VariantTerms {
        let (t_compute, t_opt) = self.variant_times(b);
        self.with_memory(b, t_compute, t_opt)
    }

    /// Compute time per recompute strategy (`Recompute::ALL` order) and optimizer time for ZeRO
    /// stage 0 and for stages 1-3, which share one.
    fn variant_times(&self, b: &BoundTerms) -> ([f64; 3], [f64; 2]) {
        (
            Recompute::ALL.map(|r| self.compute_time(b, r)),
            [self.optimizer_time(b, 0), self.optimizer_time(b, 1)],
        )
    }

    /// The layout's `VariantTerms`: its times, with states per ZeRO stage and activations per
    /// recompute strategy.
    fn with_memory(&self, b: &BoundTerms, t_compute: [f64; 3], t_opt: [f64; 2]) -> VariantTerms {
        VariantTerms {
            t_compute,
            t_opt,
            states: [0u8, 1, 2, 3].map(|z| self.state_bytes(b, z)),
            acts: Recompute::ALL.map(|r| self.activation_bytes(b, r)),
        }
    }

    /// The MFU at which this scenario's cluster would process `tokens_per_s` (the same expression
    /// as an evaluation's MFU, with tokens per second = useful tokens / step).
    pub fn mfu_at_tokens_per_s(&self, tokens_per_s: f64) -> f64 {
        tokens_per_s * self.flops_model / (f64::from(self.chips) * self.peak_flops)
    }

    /// Predicts one layout; `None` when its memory does not fit on the chip.
    ///
    /// Ranks are ordered tensor, context, data (expert inside data), pipeline, so a collective's
    /// span is the product of the sizes up to its own.
    pub fn evaluate(&self, l: &Layout) -> Option<Evaluation> {
        self.evaluate_above(l, f64::NEG_INFINITY)
    }

    /// As `evaluate`, but `None` as soon as the layout cannot reach an MFU above `floor_mfu`:
    /// compute plus optimizer time is a lower bound on the step (every other term is >= 0, and
    /// floating-point sums and products of non-negative terms are monotone), so a layout whose
    /// bound gives MFU <= `floor_mfu` never beats it. Exact: the search's answer is unchanged.
    pub fn evaluate_above(&self, l: &Layout, floor_mfu: f64) -> Option<Evaluation> {
        let b = self.bound_terms(l);
        self.evaluate_with(l, &b, &self.variant_terms(&b), floor_mfu)
    }

    /// `evaluate_above` with the layout's `bound_terms` and `variant_terms` already computed
    /// (those of `l`'s other fields: they do not depend on its ZeRO stage or recompute strategy).
    pub(crate) fn evaluate_with(
        &self,
        l: &Layout,
        b: &BoundTerms,
        variants: &VariantTerms,
        floor_mfu: f64,
    ) -> Option<Evaluation> {
        let m = &self.model;
        let k = &self.constants;
        let b = *b;
        let BoundTerms {
            t,
            c,
            v,
            d,
            e,
            micro_batches,
            layers_stage,
            phi_shared,
            phi_expert,
            shard,
            tokens_mb,
            slots,
            kv_share,
            ..
        } = b;
        let flops_hw = self.flops_hw[l.recompute as usize];
        let t_compute = variants.t_compute[l.recompute as usize];
        let t_opt = variants.t_opt[usize::from(l.zero_stage >= 1)];
        let n = f64::from(self.chips);
        let useful_tokens = self.batch_seqs * m.seq_len;
        if self.mfu_bound(&b, t_compute, t_opt) <= floor_mfu {
            return None;
        }
        let memory =
            variants.states[usize::from(l.zero_stage)] + variants.acts[l.recompute as usize];
        if memory.is_nan() || memory > self.memory_limit_bytes() {
            return None;
        }
        // Bytes of one sequence-parallel activation tensor of a micro-batch on a context rank.
        let msg = ACTIVATION_BYTES * tokens_mb / c * m.hidden;
        // Tensor-parallel all-gather/reduce-scatter pairs: 2 forward + 2 backward per layer, 2 more
        // with full recompute; partly hidden under compute.
        let t_tp = if l.tp > 1 {
            let n = if l.recompute == Recompute::Full {
                6.0
            } else {
                4.0
            };
            layers_stage * n * 2.0 * (t - 1.0) / t * msg / self.link_bw(t)
        } else {
            0.0
        };
        // Context parallel: each rank receives the other c - 1 ranks' keys and values (2 tensors
        // of `kv_share` times the query width per TP rank: grouped-query attention) forward, and
        // again with their gradients backward (3 passes), as a ring or an all-gather.
        let t_cp = if l.cp > 1 {
            layers_stage * 3.0 * 2.0 * kv_share * (c - 1.0) * msg / t / self.link_bw(t * c)
        } else {
            0.0
        };
        // Overlap hides at most that share of the micro-batch's compute time.
        let t_intra = (t_tp + t_cp - k.tp_overlap_fraction * t_compute).max(0.0);
        // Pipeline point-to-point: activations forward, gradients backward, once per chunk.
        let t_pp = if l.pp > 1 {
            2.0 * v * msg / t / self.link_bw(2.0 * t * c * d)
        } else {
            0.0
        };
        // Expert-parallel all-to-all: dispatch + combine, forward + backward, per MoE layer.
        let t_ep = if l.ep > 1 {
            let bytes = msg * f64::from(m.top_k) / t;
            let raw = layers_stage * 4.0 * bytes * (e - 1.0) / e / self.link_bw(t * c * e);
            (raw - k.ep_overlap_fraction * t_compute).max(0.0)
        } else {
            0.0
        };
        // Interleaved 1F1B: the bubble is (p - 1) / v micro-batch slots (`slots` above).
        let t_pipeline = slots * (t_compute + t_intra + t_pp + t_ep);
        // Data parallel: gradient reduce-scatter + parameter all-gather once per step; ZeRO-3
        // gathers parameters forward and backward and reduce-scatters gradients per micro-batch.
        let rounds = |ranks: f64| {
            if ranks <= 1.0 {
                0.0
            } else if l.zero_stage == 3 {
                3.0 * micro_batches * (ranks - 1.0) / ranks
            } else {
                2.0 * (ranks - 1.0) / ranks
            }
        };
        let dp_bytes = GRAD_BYTES * (rounds(shard) * phi_shared + rounds(shard / e) * phi_expert);
        let t_dp = dp_bytes / self.link_bw(t * c * d);
        let hidden_under = k.dp_overlap_fraction * micro_batches * t_compute;
        let t_dp_exposed = t_dp - t_dp.min(hidden_under);
        let step = t_pipeline + t_dp_exposed + t_opt;
        let processed_tokens = d * micro_batches * tokens_mb;
        Some(Evaluation {
            layout: *l,
            chips_used: l.tp * l.cp * l.pp * l.dp,
            memory_per_chip_gb: memory / 1e9,
            step_time_s: step,
            tokens_per_s: useful_tokens / step,
            mfu: useful_tokens * self.flops_model / (step * n * self.peak_flops),
            hfu: processed_tokens * flops_hw / (step * n * self.peak_flops),
        })
    }
}

/// Run totals for the chosen layout: days, chip-hours, energy (MWh, with PUE) and cost (USD).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunTotals {
    pub days_to_train: f64,
    pub chip_hours: f64,
    pub energy_mwh: f64,
    pub cost_usd: f64,
}

/// Totals of a training run at a predicted throughput, paying for every chip of the cluster.
pub fn run_totals(s: &Scenario, tokens_per_s: f64) -> RunTotals {
    let hours = s.training_tokens / tokens_per_s / 3600.0;
    let n = f64::from(s.chips);
    RunTotals {
        days_to_train: hours / 24.0,
        chip_hours: n * hours,
        energy_mwh: n * s.power_w_per_chip * s.pue * hours / 1e6,
        cost_usd: n * hours * s.price_usd_per_chip_hour,
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A Megatron calibration-style scenario on A100s with a fixed layout.
    pub fn a100_gpt(layers: u32, hidden: f64, heads: u32, chips: u32, batch: f64) -> TrainInput {
        let params_b = (12.0 * f64::from(layers) * hidden * hidden + 51200.0 * hidden) / 1e9;
        TrainInput {
            peak_tflops: 312.0,
            memory_gb: 80.0,
            memory_bw_gbps: 2039.0,
            scale_up_gbps: 300.0,
            scale_up_domain_chips: 8.0,
            scale_out_gbps: 25.0,
            power_w_per_chip: 800.0,
            pue: 1.2,
            price_usd_per_chip_hour: 2.0,
            params_b,
            active_params_b: params_b,
            layers: f64::from(layers),
            hidden,
            heads: f64::from(heads),
            seq_len: 2048.0,
            vocab: 51200.0,
            experts: 1.0,
            top_k: 1.0,
            chips: f64::from(chips),
            global_batch_tokens: batch * 2048.0,
            training_tokens: 1e12,
            compute_efficiency: 0.6,
            gemm_half_size: 1e6,
            scale_up_efficiency: 0.7,
            scale_out_efficiency: 0.5,
            dp_overlap_fraction: 0.0,
            usable_memory_fraction: 0.9,
            tp_overlap_fraction: 0.0,
            ep_overlap_fraction: 0.0,
            tp: f64::NAN,
            pp: f64::NAN,
            dp: f64::NAN,
            ep: f64::NAN,
            micro_batch: f64::NAN,
            zero_stage: f64::NAN,
            recompute: f64::NAN,
            vpp: f64::NAN,
            cp: f64::NAN,
            kv_heads: f64::NAN,
            ffn_hidden: f64::NAN,
            gated_mlp: f64::NAN,
        }
    }

    fn layout(tp: u32, pp: u32, dp: u32, mb: u32, r: Recompute) -> Layout {
        Layout {
            tp,
            cp: 1,
            pp,
            vpp: 1,
            dp,
            ep: 1,
            micro_batch: mb,
            zero_stage: 0,
            recompute: r,
        }
    }

    #[test]
    fn single_chip_step_by_hand() {
        // 1 chip, no parallelism: step = micro-batches x compute + optimizer; MFU = eff x f_model/f_hw.
        let x = a100_gpt(24, 2304.0, 24, 1, 4.0);
        let s = Scenario::new(0, &x).unwrap();
        let ev = s.evaluate(&layout(1, 1, 1, 1, Recompute::Full)).unwrap();
        let gemm = 2048.0 * 2304.0;
        let eff = 0.6 * gemm / (gemm + 1e6);
        let hw = s.model.hardware_flops_per_token(Recompute::Full);
        let t_compute = 4.0 * 2048.0 * hw / (312e12 * eff);
        let t_opt = 28.0 * s.model.params_total / 2039e9;
        assert!((ev.step_time_s - (t_compute + t_opt)).abs() / ev.step_time_s < 1e-12);
        let mfu = 4.0 * 2048.0 * s.model.model_flops_per_token() / (ev.step_time_s * 312e12);
        assert!((ev.mfu - mfu).abs() < 1e-12);
        assert!(ev.hfu > ev.mfu && ev.hfu <= 0.6);
    }

    #[test]
    fn tensor_parallel_beyond_domain_is_slower() {
        let mut x = a100_gpt(48, 6144.0, 48, 16, 16.0);
        let s = Scenario::new(0, &x).unwrap();
        let inside = s
            .evaluate(&layout(8, 2, 1, 1, Recompute::Selective))
            .unwrap();
        let outside = s
            .evaluate(&layout(16, 1, 1, 1, Recompute::Selective))
            .unwrap();
        assert!(outside.step_time_s > inside.step_time_s);
        x.scale_up_domain_chips = 16.0;
        let wide = Scenario::new(0, &x).unwrap();
        let now = wide
            .evaluate(&layout(16, 1, 1, 1, Recompute::Selective))
            .unwrap();
        assert!(now.step_time_s < outside.step_time_s);
    }

    #[test]
    fn pipeline_bubble_by_hand() {
        // Same per-stage work, 4 stages vs 1: the bubble adds (p - 1) micro-batch slots.
        let x = a100_gpt(8, 1024.0, 8, 4, 8.0);
        let s = Scenario::new(0, &x).unwrap();
        let ev = s.evaluate(&layout(1, 4, 1, 1, Recompute::None)).unwrap();
        let hw = s.model.hardware_flops_per_token(Recompute::None);
        let gemm = 2048.0 * 1024.0;
        let eff = 0.6 * gemm / (gemm + 1e6);
        let t_c = 2048.0 * hw / 4.0 / (312e12 * eff);
        let msg = 2.0 * 2048.0 * 1024.0;
        let t_pp = 2.0 * msg / (300e9 * 0.7);
        let t_opt = 28.0 * s.model.params_total / 4.0 / 2039e9;
        let expect = (8.0 + 3.0) * (t_c + t_pp) + t_opt;
        assert!((ev.step_time_s - expect).abs() / expect < 1e-12);
        // Interleaved with 2 chunks per stage: bubble (p - 1) / v, point-to-point twice per chunk.
        let mut inter = layout(1, 4, 1, 1, Recompute::None);
        inter.vpp = 2;
        let ev2 = s.evaluate(&inter).unwrap();
        let expect2 = (8.0 + 1.5) * (t_c + 2.0 * t_pp) + t_opt;
        assert!((ev2.step_time_s - expect2).abs() / expect2 < 1e-12);
    }

    #[test]
    fn zero3_gathers_per_micro_batch_and_overlap_hides_them() {
        // 8 chips of pure data parallel with ZeRO-3: 3 rounds of (d - 1) / d of the bf16
        // parameters per micro-batch over NVLink, none hidden; then fully hidden.
        let mut x = a100_gpt(8, 1024.0, 8, 8, 32.0);
        x.scale_up_domain_chips = 8.0;
        let s = Scenario::new(0, &x).unwrap();
        let mut l = layout(1, 1, 8, 1, Recompute::None);
        l.zero_stage = 3;
        let ev = s.evaluate(&l).unwrap();
        let hw = s.model.hardware_flops_per_token(Recompute::None);
        let gemm = 2048.0 * 1024.0;
        let eff = 0.6 * gemm / (gemm + 1e6);
        let t_c = 2048.0 * hw / (312e12 * eff);
        let phi = s.model.params_total;
        let t_dp = 2.0 * 3.0 * 4.0 * 7.0 / 8.0 * phi / (300e9 * 0.7);
        let t_opt = 28.0 * phi / 8.0 / 2039e9;
        let expect = 4.0 * t_c + t_dp + t_opt;
        assert!((ev.step_time_s - expect).abs() / expect < 1e-12);
        x.dp_overlap_fraction = 1.0;
        let hidden = Scenario::new(0, &x).unwrap().evaluate(&l).unwrap();
        let expect_hidden = 4.0 * t_c + (t_dp - 4.0 * t_c).max(0.0) + t_opt;
        assert!((hidden.step_time_s - expect_hidden).abs() / expect_hidden < 1e-12);
    }

    #[test]
    fn memory_rejects_what_does_not_fit() {
        // 175B on 8 chips cannot hold 16 bytes per parameter in 80 GB.
        let x = a100_gpt(96, 12288.0, 96, 8, 8.0);
        let s = Scenario::new(0, &x).unwrap();
        assert!(s.evaluate(&layout(8, 1, 1, 1, Recompute::Full)).is_none());
    }

    #[test]
    fn grouped_query_attention_shrinks_context_parallel_traffic() {
        // TP 2 x CP 2 x DP 4 on one 8-chip node: the K/V exchange carries kv_share = max(2, 2) / 8
        // of the multi-head bytes; nothing else in the step changes (no overlap).
        let mut x = a100_gpt(8, 1024.0, 8, 16, 16.0);
        let mut l = layout(2, 1, 4, 1, Recompute::None);
        l.cp = 2;
        let mha = Scenario::new(0, &x).unwrap().evaluate(&l).unwrap();
        x.kv_heads = 2.0;
        let gqa = Scenario::new(0, &x).unwrap().evaluate(&l).unwrap();
        let msg = 2.0 * 2048.0 / 2.0 * 1024.0;
        let t_cp = 8.0 * 3.0 * 2.0 * 1.0 * msg / 2.0 / (300e9 * 0.7);
        let expect = 4.0 * t_cp * (1.0 - 0.25);
        let diff = mha.step_time_s - gqa.step_time_s;
        assert!((diff - expect).abs() / expect < 1e-9);
        assert!(gqa.memory_per_chip_gb < mha.memory_per_chip_gb);
        // A gated MLP of the same width keeps 2 f more per token and hidden unit.
        x.gated_mlp = 1.0;
        let gated = Scenario::new(0, &x).unwrap().evaluate(&l).unwrap();
        let extra = 8.0 * 2048.0 * 1024.0 * 8.0 / 4.0 / 1e9;
        assert!((gated.memory_per_chip_gb - gqa.memory_per_chip_gb - extra).abs() < 1e-9);
    }

    #[test]
    fn invalid_rows_name_their_field() {
        let mut x = a100_gpt(24, 2304.0, 24, 8, 8.0);
        x.chips = 0.0;
        assert_eq!(Scenario::new(2, &x).unwrap_err().field, "chips");
        let mut x = a100_gpt(24, 2304.0, 24, 8, 8.0);
        x.memory_bw_gbps = f64::NAN;
        let err = Scenario::new(5, &x).unwrap_err();
        assert_eq!((err.row, err.field.as_str()), (5, "memory_bw_gbps"));
        let mut x = a100_gpt(24, 2304.0, 24, 8, 8.0);
        (
            x.tp,
            x.pp,
            x.dp,
            x.ep,
            x.micro_batch,
            x.zero_stage,
            x.recompute,
        ) = (3.0, 1.0, 2.0, 1.0, 1.0, 0.0, 0.0);
        assert_eq!(Scenario::new(0, &x).unwrap_err().field, "dp");
        x.dp = 8.0 / 3.0;
        assert_eq!(Scenario::new(0, &x).unwrap_err().field, "dp");
        (x.tp, x.dp, x.heads) = (8.0, 1.0, 12.0);
        assert_eq!(Scenario::new(0, &x).unwrap_err().field, "tp");
        x.tp = f64::NAN;
        assert_eq!(Scenario::new(0, &x).unwrap_err().field, "tp");
        let mut x = a100_gpt(24, 2304.0, 24, 8, 8.0);
        x.pue = 0.9;
        assert_eq!(Scenario::new(0, &x).unwrap_err().field, "pue");
        let mut x = a100_gpt(24, 2304.0, 24, 8, 8.0);
        x.kv_heads = 48.0;
        assert_eq!(Scenario::new(0, &x).unwrap_err().field, "kv_heads");
        x.kv_heads = 2.5;
        assert_eq!(Scenario::new(0, &x).unwrap_err().field, "kv_heads");
        x.kv_heads = 8.0;
        x.ffn_hidden = 0.0;
        assert_eq!(Scenario::new(0, &x).unwrap_err().field, "ffn_hidden");
        x.ffn_hidden = 6144.0;
        x.gated_mlp = 0.5;
        assert_eq!(Scenario::new(0, &x).unwrap_err().field, "gated_mlp");
        x.gated_mlp = 1.0;
        assert!(Scenario::new(0, &x).is_ok());
    }

    #[test]
    fn totals_by_hand() {
        let x = a100_gpt(24, 2304.0, 24, 8, 8.0);
        let s = Scenario::new(0, &x).unwrap();
        let t = run_totals(&s, 1e6);
        let hours = 1e12 / 1e6 / 3600.0;
        assert!((t.chip_hours - 8.0 * hours).abs() < 1e-9);
        assert!((t.cost_usd - 16.0 * hours).abs() < 1e-9);
        assert!((t.energy_mwh - 8.0 * 800.0 * 1.2 * hours / 1e6).abs() < 1e-12);
    }
}
