//! Layout search: every valid parallel layout of a scenario, keeping the best predicted MFU.

use rayon::prelude::*;

use crate::error::InputError;
use crate::model::Recompute;
use crate::training::{
    run_totals, Evaluation, Layout, RunTotals, Scenario, TrainInput, CONTEXT_PARALLEL,
    MICRO_BATCHES, MIN_CP_TOKENS, VIRTUAL_STAGES,
};

/// The search result of one scenario: the best layout (if any fits) and how many were tried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainResult {
    pub best: Option<Evaluation>,
    /// The layout practitioners would run at this scale (see `practitioner`).
    pub practitioner: Practitioner,
    pub totals: Option<RunTotals>,
    pub layouts_evaluated: u64,
}

/// Divisors of `n` in increasing order.
pub fn divisors(n: u32) -> Vec<u32> {
    let mut small = Vec::new();
    let mut large = Vec::new();
    let mut i = 1u32;
    while u64::from(i) * u64::from(i) <= u64::from(n) {
        if n % i == 0 {
            small.push(i);
            if i != n / i {
                large.push(n / i);
            }
        }
        i += 1;
    }
    small.extend(large.into_iter().rev());
    small
}

/// Highest ZeRO stage the search tries (stages 0 to 3).
const ZERO_STAGE_MAX: u8 = 3;
/// Layouts the search tries per micro-batch size: every ZeRO stage x every recompute strategy.
const LAYOUTS_PER_MICRO_BATCH: u64 = (ZERO_STAGE_MAX as u64 + 1) * Recompute::ALL.len() as u64;

fn better(candidate: &Evaluation, best: &Option<Evaluation>) -> bool {
    best.as_ref().is_none_or(|b| candidate.mfu > b.mfu)
}

/// Tries every layout: tp | heads, cp in `CONTEXT_PARALLEL` (each rank keeping at least
/// `MIN_CP_TOKENS`), pp | layers, vpp in `VIRTUAL_STAGES` with pp vpp | layers (vpp > 1 only when
/// pp > 1), dp = min(chips / (tp cp pp), batch), ep | gcd(dp, experts), every micro-batch up to the
/// per-replica batch, ZeRO 0-3, each recompute strategy. Ties keep the first layout in this order.
pub fn search(s: &Scenario) -> (Option<Evaluation>, u64) {
    search_with(s, true)
}

/// True when some layout of `s` reaches `tokens_per_s`; the same answer as
/// `search(s).0.is_some_and(|b| b.tokens_per_s >= tokens_per_s)`, but it stops at the first layout
/// that reaches the target and skips, by the exact MFU bound, every layout that cannot (its floor
/// sits a relative 1e-9 below the target's MFU, so rounding never skips one that reaches it).
/// Cluster equivalence asks this at each chip count it tries.
pub fn reaches(s: &Scenario, tokens_per_s: f64) -> bool {
    let floor = s.mfu_at_tokens_per_s(tokens_per_s) * (1.0 - 1e-9);
    let (found, _) = search_from(s, true, floor, |ev| ev.tokens_per_s >= tokens_per_s);
    found.is_some_and(|ev| ev.tokens_per_s >= tokens_per_s)
}

/// `search(s).0` for a scenario of which some layout reaches `tokens_per_s` (`reaches` said so):
/// from the start it skips, by the same exact bound and floor as `reaches`, every layout that
/// cannot reach it, which never skips the best one or one tied with it (their MFU is at least the
/// target's). The same best layout, fewer layouts evaluated; equivalence searches its answer so.
pub fn search_reaching(s: &Scenario, tokens_per_s: f64) -> Option<Evaluation> {
    let floor = s.mfu_at_tokens_per_s(tokens_per_s) * (1.0 - 1e-9);
    search_from(s, true, floor, |_| false).0
}

/// The search, with (`prune`) or without the exact bound that skips layouts unable to beat the best.
fn search_with(s: &Scenario, prune: bool) -> (Option<Evaluation>, u64) {
    search_from(s, prune, f64::NEG_INFINITY, |_| false)
}

/// Layouts in search order, pruned (when `prune`) below the best found or `start_floor`, whichever
/// is higher; returns at once with the first evaluation `stop` accepts.
fn search_from(
    s: &Scenario,
    prune: bool,
    start_floor: f64,
    stop: impl Fn(&Evaluation) -> bool,
) -> (Option<Evaluation>, u64) {
    let mut best: Option<Evaluation> = None;
    let mut evaluated = 0u64;
    let n = u64::from(s.chips);
    let batch = s.batch_seqs;
    let pps = divisors(s.model.layers);
    for tp in divisors(s.model.heads) {
        if u64::from(tp) > n {
            break;
        }
        for &cp in CONTEXT_PARALLEL.iter() {
            if cp > 1 && s.model.seq_len / f64::from(cp) < MIN_CP_TOKENS {
                break;
            }
            for &pp in pps.iter() {
                let group = u64::from(tp) * u64::from(cp) * u64::from(pp);
                if group > n {
                    break;
                }
                let dp_max = (n / group) as f64;
                // dp <= batch (>= 1) and <= chips, so it fits in u32.
                let dp = dp_max.min(batch) as u32;
                let per_replica = (batch / f64::from(dp)).ceil();
                for &vpp in VIRTUAL_STAGES.iter() {
                    if vpp > 1 && (pp == 1 || s.model.layers % (pp * vpp) != 0) {
                        continue;
                    }
                    for ep in divisors(gcd(dp, s.model.experts)) {
                        for &micro_batch in MICRO_BATCHES.iter() {
                            if f64::from(micro_batch) > per_replica {
                                break;
                            }
                            let base = Layout {
                                tp,
                                cp,
                                pp,
                                vpp,
                                dp,
                                ep,
                                micro_batch,
                                zero_stage: 0,
                                recompute: Recompute::None,
                            };
                            let floor = |best: &Option<Evaluation>| match best {
                                Some(b) if prune => b.mfu.max(start_floor),
                                _ if prune => start_floor,
                                _ => f64::NEG_INFINITY,
                            };
                            // Skipped when no ZeRO stage and recompute strategy of this layout
                            // can both fit and beat the best: each would be evaluated and
                            // rejected, and is counted as evaluated.
                            let terms = s.bound_terms(&base);
                            let variants = if prune {
                                match s.variants_that_can_beat(&terms, floor(&best)) {
                                    Some(variants) => variants,
                                    None => {
                                        evaluated += LAYOUTS_PER_MICRO_BATCH;
                                        continue;
                                    }
                                }
                            } else {
                                s.variant_terms(&terms)
                            };
                            for zero_stage in 0..=ZERO_STAGE_MAX {
                                for recompute in Recompute::ALL {
                                    let l = Layout {
                                        zero_stage,
                                        recompute,
                                        ..base
                                    };
                                    evaluated += 1;
                                    let floor = floor(&best);
                                    if let Some(ev) = s.evaluate_with(&l, &terms, &variants, floor)
                                    {
                                        if stop(&ev) {
                                            return (Some(ev), evaluated);
                                        }
                                        if better(&ev, &best) {
                                            best = Some(ev);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    (best, evaluated)
}

/// Dense models up to this many parameters run as FSDP / ZeRO-3 (when every chip gets a sequence).
pub const FSDP_MAX_PARAMS: f64 = 20e9;
/// Largest tensor-parallel group practitioners use: one 8-GPU node.
pub const PRACTITIONER_MAX_TP: u32 = 8;
/// Largest expert-parallel group practitioners use (DeepSeek-V3: EP 64).
pub const PRACTITIONER_MAX_EP: u32 = 64;
/// Longest sequence slice practitioners keep per rank before adding context parallelism.
pub const PRACTITIONER_CP_TOKENS: f64 = 16384.0;

/// The layout family practitioners use at a scenario's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Family {
    /// ZeRO-3 / FSDP data parallel, no model parallelism.
    Fsdp = 1,
    /// Megatron-style: TP within a node, PP so the model fits, interleaved stages, DP the rest.
    Megatron = 2,
    /// Megatron-style with expert parallelism for the MoE layers (as DeepSeek-V3).
    MegatronMoe = 3,
}

/// The practitioner layout of a scenario: its family and, if one fits, its evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Practitioner {
    pub family: Family,
    pub best: Option<Evaluation>,
}

/// The layout practitioners would run (docs/model.md, "Practitioner layouts"), evaluated by the
/// same model as the search; the first candidate that fits in memory, in rule order.
///
/// * FSDP (dense, <= `FSDP_MAX_PARAMS`, chips <= batch sequences): tp = cp = pp = 1, dp = chips,
///   ZeRO-3; the largest micro-batch of 16, 8, 4, 2, 1 (within the per-replica batch) that fits,
///   selective before full recompute.
/// * Megatron (otherwise): tp = largest divisor of heads <= min(8, scale-up domain, chips);
///   cp = smallest of 1, 2, 4, 8 keeping <= 16,384 tokens per rank; pp = smallest divisor of
///   layers that fits; vpp = largest of 1..=6 with pp vpp | layers (1 when pp = 1);
///   dp = min(chips / (tp cp pp), batch); ep (MoE) = largest divisor of gcd(dp, experts) <= 64;
///   ZeRO-1 (distributed optimizer); micro-batch 1; selective then full recompute.
pub fn practitioner(s: &Scenario) -> Practitioner {
    let m = &s.model;
    let n = s.chips;
    let batch = s.batch_seqs;
    let recomputes = [Recompute::Selective, Recompute::Full];
    let fits = |base: Layout, micro_batches: &[u32]| {
        micro_batches.iter().find_map(|&micro_batch| {
            recomputes.iter().find_map(|&recompute| {
                s.evaluate(&Layout {
                    micro_batch,
                    recompute,
                    ..base
                })
            })
        })
    };
    // FSDP / ZeRO-3 base; the Megatron family changes the parallel sizes and the ZeRO stage.
    let mut l = Layout {
        tp: 1,
        cp: 1,
        pp: 1,
        vpp: 1,
        dp: n,
        ep: 1,
        micro_batch: 1,
        zero_stage: 3,
        recompute: Recompute::Selective,
    };
    if m.experts == 1 && m.params_total <= FSDP_MAX_PARAMS && f64::from(n) <= batch {
        let per_replica = (batch / f64::from(n)).ceil();
        let sizes: Vec<u32> = MICRO_BATCHES
            .iter()
            .rev()
            .copied()
            .filter(|&mb| mb == 1 || f64::from(mb) <= per_replica)
            .collect();
        return Practitioner {
            family: Family::Fsdp,
            best: fits(l, &sizes),
        };
    }
    let family = if m.experts > 1 {
        Family::MegatronMoe
    } else {
        Family::Megatron
    };
    let tp_cap = PRACTITIONER_MAX_TP.min(s.domain as u32).min(n).max(1);
    let tp = divisors(m.heads)
        .into_iter()
        .filter(|&d| d <= tp_cap)
        .max()
        .unwrap_or(1);
    let cp = CONTEXT_PARALLEL
        .iter()
        .copied()
        .find(|&c| m.seq_len / f64::from(c) <= PRACTITIONER_CP_TOKENS)
        .unwrap_or(CONTEXT_PARALLEL[CONTEXT_PARALLEL.len() - 1]);
    for pp in divisors(m.layers) {
        let group = u64::from(tp) * u64::from(cp) * u64::from(pp);
        if group > u64::from(n) {
            break;
        }
        // dp <= batch (>= 1) and <= chips, so it fits in u32.
        let dp = ((u64::from(n) / group) as f64).min(batch) as u32;
        let vpp = if pp == 1 {
            1
        } else {
            VIRTUAL_STAGES
                .iter()
                .copied()
                .filter(|&v| m.layers % (pp * v) == 0)
                .max()
                .unwrap_or(1)
        };
        let ep = divisors(gcd(dp, m.experts))
            .into_iter()
            .filter(|&e| e <= PRACTITIONER_MAX_EP)
            .max()
            .unwrap_or(1);
        (l.tp, l.cp, l.pp, l.vpp, l.dp, l.ep, l.zero_stage) = (tp, cp, pp, vpp, dp, ep, 1);
        if let Some(ev) = fits(l, &[1]) {
            return Practitioner {
                family,
                best: Some(ev),
            };
        }
    }
    Practitioner { family, best: None }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Evaluates one scenario: its fixed layout if given, otherwise the searched best.
pub fn train_one(s: &Scenario) -> TrainResult {
    let (best, layouts_evaluated) = match s.fixed {
        Some(l) => (s.evaluate(&l), 1),
        None => search(s),
    };
    TrainResult {
        best,
        practitioner: practitioner(s),
        totals: best.map(|b| run_totals(s, b.tokens_per_s)),
        layouts_evaluated,
    }
}

/// Validates and evaluates every row in parallel; the first invalid row is the error.
pub fn train_batch(inputs: &[TrainInput]) -> Result<Vec<TrainResult>, InputError> {
    let scenarios = crate::error::first_error(
        inputs
            .par_iter()
            .enumerate()
            .map(|(row, x)| Scenario::new(row, x))
            .collect::<Vec<_>>(),
    )?;
    Ok(scenarios.par_iter().map(train_one).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::tests::a100_gpt;

    #[test]
    fn divisors_by_hand() {
        assert_eq!(divisors(1), vec![1]);
        assert_eq!(divisors(12), vec![1, 2, 3, 4, 6, 12]);
        assert_eq!(divisors(105), vec![1, 3, 5, 7, 15, 21, 35, 105]);
    }

    /// Shapes the exact-search tests compare on: (layers, hidden, heads, chips, batch sequences).
    const SHAPES: [(u32, f64, u32, u32, f64); 5] = [
        (24, 2304.0, 24, 8, 64.0),
        (40, 6144.0, 48, 256, 1024.0),
        (80, 8192.0, 64, 1024, 512.0),
        (96, 12288.0, 96, 3072, 1536.0),
        (32, 4096.0, 32, 7, 3.0),
    ];

    #[test]
    fn pruning_never_changes_the_answer() {
        for (layers, hidden, heads, chips, batch) in SHAPES {
            let s = Scenario::new(0, &a100_gpt(layers, hidden, heads, chips, batch)).unwrap();
            let (pruned, n_pruned) = search_with(&s, true);
            let (full, n_full) = search_with(&s, false);
            assert_eq!(pruned, full, "{layers} layers on {chips} chips");
            assert_eq!(n_pruned, n_full);
        }
    }

    #[test]
    fn reaches_answers_as_the_full_search() {
        for (layers, hidden, heads, chips, batch) in SHAPES {
            let s = Scenario::new(0, &a100_gpt(layers, hidden, heads, chips, batch)).unwrap();
            let best = search_with(&s, false).0.unwrap().tokens_per_s;
            // Targets on both sides of the best, including the best itself and its neighbours.
            for target in [
                0.0,
                0.5 * best,
                f64::from_bits(best.to_bits() - 1),
                best,
                f64::from_bits(best.to_bits() + 1),
                1.5 * best,
            ] {
                assert_eq!(
                    reaches(&s, target),
                    best >= target,
                    "{layers} layers on {chips} chips, target {target} vs best {best}"
                );
            }
        }
    }

    #[test]
    fn search_reaching_finds_the_full_search_best() {
        for (layers, hidden, heads, chips, batch) in SHAPES {
            let s = Scenario::new(0, &a100_gpt(layers, hidden, heads, chips, batch)).unwrap();
            let best = search_with(&s, false).0.unwrap();
            let t = best.tokens_per_s;
            for target in [0.0, 0.5 * t, f64::from_bits(t.to_bits() - 1), t] {
                assert_eq!(
                    search_reaching(&s, target),
                    Some(best),
                    "{layers} layers on {chips} chips, target {target} vs best {t}"
                );
            }
        }
    }

    #[test]
    fn search_never_loses_to_a_fixed_layout() {
        let x = a100_gpt(40, 6144.0, 48, 256, 1024.0);
        let s = Scenario::new(0, &x).unwrap();
        let (best, n) = search(&s);
        let best = best.unwrap();
        assert!(n > 100);
        let mut fixed = x;
        (
            fixed.tp,
            fixed.pp,
            fixed.dp,
            fixed.ep,
            fixed.micro_batch,
            fixed.zero_stage,
            fixed.recompute,
        ) = (8.0, 1.0, 32.0, 1.0, 1.0, 0.0, 2.0);
        let f = train_one(&Scenario::new(0, &fixed).unwrap());
        assert_eq!(f.layouts_evaluated, 1);
        assert!(f.best.unwrap().mfu <= best.mfu);
        assert!(best.mfu > 0.0 && best.mfu <= 1.0);
    }

    #[test]
    fn practitioner_layout_by_rule_and_never_beats_search() {
        // 175B on 1,024 A100s: Megatron, TP 8 in the node, smallest PP that fits, interleaved.
        let x = a100_gpt(96, 12288.0, 96, 1024, 1536.0);
        let r = train_one(&Scenario::new(0, &x).unwrap());
        let p = r.practitioner.best.unwrap();
        assert_eq!(r.practitioner.family, Family::Megatron);
        let l = p.layout;
        assert_eq!(
            (l.tp, l.cp, l.ep, l.micro_batch, l.zero_stage),
            (8, 1, 1, 1, 1)
        );
        assert_eq!(l.dp, 1024 / (8 * l.pp));
        assert!(l.pp > 1 && 96 % (l.pp * l.vpp) == 0);
        assert!(p.mfu <= r.best.unwrap().mfu);
        // 1.3B on 8 chips: FSDP, ZeRO-3 over every chip.
        let x = a100_gpt(24, 2048.0, 16, 8, 64.0);
        let r = train_one(&Scenario::new(0, &x).unwrap());
        assert_eq!(r.practitioner.family, Family::Fsdp);
        let l = r.practitioner.best.unwrap().layout;
        assert_eq!((l.tp, l.pp, l.dp, l.zero_stage), (1, 1, 8, 3));
        assert!(r.practitioner.best.unwrap().mfu <= r.best.unwrap().mfu);
    }

    #[test]
    fn too_large_a_model_has_no_layout() {
        // 1T parameters on 8 x 80 GB: 16 TB of model state cannot fit.
        let x = a100_gpt(128, 25600.0, 160, 8, 8.0);
        let r = train_one(&Scenario::new(0, &x).unwrap());
        assert!(r.best.is_none() && r.totals.is_none());
        assert!(r.layouts_evaluated > 0);
    }

    #[test]
    fn batch_reports_first_bad_row() {
        let good = a100_gpt(24, 2304.0, 24, 8, 8.0);
        let mut bad = good;
        bad.heads = -1.0;
        let err = train_batch(&[good, good, bad]).unwrap_err();
        assert_eq!((err.row, err.field.as_str()), (2, "heads"));
        assert_eq!(train_batch(&[good, good]).unwrap().len(), 2);
    }
}
