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

fn better(candidate: &Evaluation, best: &Option<Evaluation>) -> bool {
    best.as_ref().is_none_or(|b| candidate.mfu > b.mfu)
}

/// Tries every layout: tp | heads, cp in `CONTEXT_PARALLEL` (each rank keeping at least
/// `MIN_CP_TOKENS`), pp | layers, vpp in `VIRTUAL_STAGES` with pp vpp | layers (vpp > 1 only when
/// pp > 1), dp = min(chips / (tp cp pp), batch), ep | gcd(dp, experts), every micro-batch up to the
/// per-replica batch, ZeRO 0-3, each recompute strategy. Ties keep the first layout in this order.
pub fn search(s: &Scenario) -> (Option<Evaluation>, u64) {
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
                            for zero_stage in 0..=3u8 {
                                for recompute in Recompute::ALL {
                                    let l = Layout {
                                        tp,
                                        cp,
                                        pp,
                                        vpp,
                                        dp,
                                        ep,
                                        micro_batch,
                                        zero_stage,
                                        recompute,
                                    };
                                    evaluated += 1;
                                    if let Some(ev) = s.evaluate(&l) {
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
