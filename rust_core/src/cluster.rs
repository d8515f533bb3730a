//! Cluster equivalence (chips of type B matching N chips of type A) and data-centre power.

use rayon::prelude::*;

use crate::error::{count, invalid, positive, InputError};
use crate::search::{reaches, search, search_reaching};
use crate::training::{Scenario, TrainInput};

/// Two chips training the same model with the same global batch; `a.chips` is N_A.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EquivalenceInput {
    pub a: TrainInput,
    /// Chip B's scenario; its `chips` is ignored (the solver sets it).
    pub b: TrainInput,
    /// Largest cluster of chip B the solver may try.
    pub max_chips_b: f64,
    /// A cluster size of chip B to evaluate as well (NaN = none), e.g. 10,000.
    pub chips_b_eval: f64,
}

/// Effective throughputs and the solved chip count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EquivalenceResult {
    pub tokens_per_s_a: f64,
    pub mfu_a: f64,
    /// Smallest N_B whose searched best throughput reaches chip A's (NaN if none up to the max).
    pub chips_b_needed: f64,
    pub tokens_per_s_b_needed: f64,
    pub mfu_b_needed: f64,
    pub tokens_per_s_b_eval: f64,
    pub mfu_b_eval: f64,
    /// Effective throughput of `chips_b_eval` chips B over that of N_A chips A.
    pub throughput_ratio_b_eval_vs_a: f64,
    /// Layout searches the solver ran.
    pub searches: u32,
    /// Why a NaN output is NaN (`Status::Ok` when nothing is).
    pub status: Status,
}

/// Why an equivalence output is missing, reported beside the NaN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    /// No layout of chip A fits in memory at N_A: nothing to match.
    AInfeasible = 1,
    /// No layout of chip B fits at `chips_b_eval`.
    BEvalInfeasible = 2,
    /// Chip B does not reach chip A's throughput by `max_chips_b`.
    NotReached = 3,
}

/// Names of the chip fields that carry an `a_`/`b_` prefix in the input table.
const CHIP_FIELDS: [&str; 9] = [
    "peak_tflops",
    "memory_gb",
    "memory_bw_gbps",
    "scale_up_gbps",
    "scale_up_domain_chips",
    "scale_out_gbps",
    "power_w_per_chip",
    "pue",
    "price_usd_per_chip_hour",
];

/// An error of one side's scenario named by its input column (`b_memory_bw_gbps`, `chips_a`).
fn side_error(err: InputError, prefix: &str) -> InputError {
    if CHIP_FIELDS.contains(&err.field.as_str()) || err.field.ends_with("_efficiency") {
        err.prefixed(prefix)
    } else {
        err.renamed("chips", "chips_a")
    }
}

fn at(b: &Scenario, chips: u32) -> Scenario {
    let mut s = *b;
    s.chips = chips;
    s
}

/// Tokens per second and MFU of the searched best layout at `chips` (0 and NaN when none fits).
fn best_at(b: &Scenario, chips: u32) -> (f64, f64) {
    search(&at(b, chips))
        .0
        .map_or((0.0, f64::NAN), |e| (e.tokens_per_s, e.mfu))
}

/// Whether the searched best at `chips` reaches `tokens_per_s` (see `search::reaches`).
fn reaches_at(b: &Scenario, chips: u32, tokens_per_s: f64) -> bool {
    reaches(&at(b, chips), tokens_per_s)
}

/// Solves for the smallest N_B with throughput_B(N_B) >= throughput_A(N_A): doubling to bracket,
/// then bisection. Each throughput is a full layout search at that size, so scale-out efficiency
/// changes with N; bisection assumes the best throughput does not fall as chips are added.
pub fn equivalence_one(row: usize, x: &EquivalenceInput) -> Result<EquivalenceResult, InputError> {
    let a = Scenario::new(row, &x.a).map_err(|e| side_error(e, "a_"))?;
    let b =
        Scenario::new(row, &TrainInput { chips: 1.0, ..x.b }).map_err(|e| side_error(e, "b_"))?;
    if a.fixed.is_some() || b.fixed.is_some() {
        return Err(invalid(
            row,
            "tp",
            "cluster equivalence searches layouts; leave them empty".into(),
        ));
    }
    let max_b = count(row, "max_chips_b", x.max_chips_b)?;
    let eval_b = if x.chips_b_eval.is_nan() {
        None
    } else {
        Some(count(row, "chips_b_eval", x.chips_b_eval)?)
    };
    let (tokens_a, mfu_a) = best_at(&a, a.chips);
    let mut searches = 1u32;
    let mut r = EquivalenceResult {
        tokens_per_s_a: if tokens_a > 0.0 { tokens_a } else { f64::NAN },
        mfu_a,
        chips_b_needed: f64::NAN,
        tokens_per_s_b_needed: f64::NAN,
        mfu_b_needed: f64::NAN,
        tokens_per_s_b_eval: f64::NAN,
        mfu_b_eval: f64::NAN,
        throughput_ratio_b_eval_vs_a: f64::NAN,
        searches,
        status: Status::Ok,
    };
    if tokens_a <= 0.0 {
        r.status = Status::AInfeasible;
    }
    if let Some(n) = eval_b {
        let (t, m) = best_at(&b, n);
        searches += 1;
        if t > 0.0 {
            r.tokens_per_s_b_eval = t;
            r.mfu_b_eval = m;
            if tokens_a > 0.0 {
                r.throughput_ratio_b_eval_vs_a = t / tokens_a;
            }
        } else if r.status == Status::Ok {
            r.status = Status::BEvalInfeasible;
        }
    }
    if tokens_a > 0.0 {
        // Each step asks only whether a chip count reaches A's throughput; the best layout is
        // searched once, at the answer. `searches` counts the chip counts tried.
        let mut hi = 1u32;
        let mut found = None;
        loop {
            searches += 1;
            if reaches_at(&b, hi, tokens_a) {
                found = Some(hi);
                break;
            }
            if hi >= max_b {
                break;
            }
            hi = hi.saturating_mul(2).min(max_b);
        }
        if let Some(mut n) = found {
            let mut lo = n / 2; // throughput at lo is below target (or lo = 0)
            while n - lo > 1 {
                let mid = lo + (n - lo) / 2;
                searches += 1;
                if reaches_at(&b, mid, tokens_a) {
                    n = mid;
                } else {
                    lo = mid;
                }
            }
            // The best layout there: reaches_at(n) held, so the search may skip what cannot.
            let (t, m) = search_reaching(&at(&b, n), tokens_a)
                .map_or((0.0, f64::NAN), |e| (e.tokens_per_s, e.mfu));
            r.chips_b_needed = f64::from(n);
            r.tokens_per_s_b_needed = t;
            r.mfu_b_needed = m;
        } else if r.status == Status::Ok {
            r.status = Status::NotReached;
        }
    }
    r.searches = searches;
    Ok(r)
}

/// Solves every row in parallel; the first invalid row is the error.
pub fn equivalence_batch(
    inputs: &[EquivalenceInput],
) -> Result<Vec<EquivalenceResult>, InputError> {
    let results = inputs
        .par_iter()
        .enumerate()
        .map(|(row, x)| equivalence_one(row, x))
        .collect::<Vec<_>>();
    crate::error::first_error(results)
}

/// IT and facility megawatts of a cluster: chips x IT watts per chip (chip plus its share of the
/// server and network) x PUE.
pub fn cluster_mw(
    row: usize,
    chips: f64,
    power_w_per_chip: f64,
    pue: f64,
) -> Result<(f64, f64), InputError> {
    let n = f64::from(count(row, "chips", chips)?);
    let w = positive(row, "power_w_per_chip", power_w_per_chip)?;
    let pue = positive(row, "pue", pue)?;
    if pue < 1.0 {
        return Err(invalid(row, "pue", format!("must be >= 1, got {pue}")));
    }
    let it = n * w / 1e6;
    Ok((it, it * pue))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::train_one;
    use crate::training::tests::a100_gpt;

    #[test]
    fn power_by_hand() {
        // 50,000 chips x 1,275 W x 1.3 = 82.875 MW facility, 63.75 MW IT.
        let (it, all) = cluster_mw(0, 50_000.0, 1275.0, 1.3).unwrap();
        assert!((it - 63.75).abs() < 1e-12 && (all - 82.875).abs() < 1e-9);
        assert_eq!(cluster_mw(4, 0.0, 1.0, 1.0).unwrap_err().field, "chips");
        assert_eq!(cluster_mw(4, 1.0, 1.0, 0.5).unwrap_err().field, "pue");
    }

    #[test]
    fn same_chip_needs_about_as_many() {
        let a = a100_gpt(40, 6144.0, 48, 256, 1024.0);
        let x = EquivalenceInput {
            a,
            b: a,
            max_chips_b: 4096.0,
            chips_b_eval: 256.0,
        };
        let r = equivalence_one(0, &x).unwrap();
        assert!(r.chips_b_needed <= 256.0);
        assert!(r.tokens_per_s_b_needed >= r.tokens_per_s_a);
        assert!((r.throughput_ratio_b_eval_vs_a - 1.0).abs() < 1e-12);
        // One chip fewer than the solution does not reach the target.
        let mut b = Scenario::new(0, &a).unwrap();
        b.chips = (r.chips_b_needed as u32) - 1;
        let t = train_one(&b).best.map_or(0.0, |e| e.tokens_per_s);
        assert!(t < r.tokens_per_s_a);
    }

    #[test]
    fn slower_chip_needs_more_and_unreachable_is_nan() {
        let a = a100_gpt(40, 6144.0, 48, 256, 1024.0);
        let mut slow = a;
        slow.peak_tflops = 156.0;
        let r = equivalence_one(
            0,
            &EquivalenceInput {
                a,
                b: slow,
                max_chips_b: 4096.0,
                chips_b_eval: f64::NAN,
            },
        )
        .unwrap();
        assert!(r.chips_b_needed > 256.0 && r.chips_b_needed <= 1024.0);
        assert!(r.tokens_per_s_b_eval.is_nan());
        let capped = EquivalenceInput {
            a,
            b: slow,
            max_chips_b: 300.0,
            chips_b_eval: f64::NAN,
        };
        let r = equivalence_one(0, &capped).unwrap();
        assert!(r.chips_b_needed.is_nan());
        assert_eq!(r.status, Status::NotReached);
    }

    #[test]
    fn infeasible_a_gives_nan_and_a_reason() {
        // 1T parameters on 8 chips A: no layout fits, so no ratio (not inf).
        let a = a100_gpt(128, 25600.0, 160, 8, 8.0);
        let b = a100_gpt(128, 25600.0, 160, 8, 8.0);
        let r = equivalence_one(
            0,
            &EquivalenceInput {
                a,
                b,
                max_chips_b: 64.0,
                chips_b_eval: 4096.0,
            },
        )
        .unwrap();
        assert!(r.throughput_ratio_b_eval_vs_a.is_nan());
        assert!(r.tokens_per_s_b_eval > 0.0);
        assert_eq!(r.status, Status::AInfeasible);
    }

    #[test]
    fn errors_name_the_prefixed_column() {
        let a = a100_gpt(40, 6144.0, 48, 256, 1024.0);
        let mut b = a;
        b.memory_bw_gbps = -1.0;
        let x = EquivalenceInput {
            a,
            b,
            max_chips_b: 64.0,
            chips_b_eval: f64::NAN,
        };
        assert_eq!(
            equivalence_one(3, &x).unwrap_err().field,
            "b_memory_bw_gbps"
        );
        let mut bad_a = a;
        bad_a.chips = 0.0;
        let y = EquivalenceInput { a: bad_a, ..x };
        assert_eq!(equivalence_one(0, &y).unwrap_err().field, "chips_a");
        // rows are reported in order: the first bad row, not any
        let good = EquivalenceInput { b: a, ..x };
        let err = equivalence_batch(&[good, x, y]).unwrap_err();
        assert_eq!((err.row, err.field.as_str()), (1, "b_memory_bw_gbps"));
    }
}
