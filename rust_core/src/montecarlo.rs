//! Seeded Monte Carlo over the uncertain constants: percentiles of MFU, cost and power.

use rayon::prelude::*;

use crate::cluster::cluster_mw;
use crate::error::{invalid, InputError};
use crate::search::train_one;
use crate::training::{run_totals, Scenario, TrainInput};

/// Largest number of draws per row (bounds the memory a row can ask for).
pub const MAX_SAMPLES: u32 = 10_000_000;

/// Percentiles reported by every Monte Carlo output (5th, 50th, 95th).
pub const PERCENTILES: [f64; 3] = [5.0, 50.0, 95.0];

/// SplitMix64 (Steele, Lea and Flood 2014): small, seedable, identical in the Python reference.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) from the top 53 bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform in [low, high].
    pub fn uniform(&mut self, band: Band) -> f64 {
        band.low + (band.high - band.low) * self.next_f64()
    }

    /// Split uniform with its median at `centre` (clamped into the band): half the draws uniform
    /// in [low, centre], half in [centre, high], so p5 <= centre <= p95 whatever the skew of
    /// the band around it. One draw of the stream, as `uniform`.
    pub fn split(&mut self, band: Band, centre: f64) -> f64 {
        let c = centre.clamp(band.low, band.high);
        let u = self.next_f64();
        if u < 0.5 {
            band.low + (c - band.low) * 2.0 * u
        } else {
            c + (band.high - c) * (2.0 * u - 1.0)
        }
    }
}

/// A uniform range of an uncertain input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub low: f64,
    pub high: f64,
}

/// The q-th percentile of sorted values, interpolating linearly between ranks (NumPy's default).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = q / 100.0 * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = rank - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

fn percentiles(mut values: Vec<f64>) -> [f64; 3] {
    values.sort_by(f64::total_cmp);
    PERCENTILES.map(|q| percentile(&values, q))
}

fn band(
    row: usize,
    field: &'static str,
    low: f64,
    high: f64,
    check: fn(usize, &'static str, f64) -> Result<f64, InputError>,
) -> Result<Band, InputError> {
    // Errors name the input column: `<field>_low` / `<field>_high`.
    let end = |e: InputError, suffix: &str| InputError {
        field: format!("{field}{suffix}"),
        ..e
    };
    check(row, field, low).map_err(|e| end(e, "_low"))?;
    check(row, field, high).map_err(|e| end(e, "_high"))?;
    if low > high {
        return Err(end(
            invalid(row, field, format!("band low {low} exceeds high {high}")),
            "_low",
        ));
    }
    Ok(Band { low, high })
}

fn samples_and_seed(row: usize, samples: f64, seed: f64) -> Result<(usize, u64), InputError> {
    let n = crate::error::count(row, "mc_samples", samples)?;
    if n > MAX_SAMPLES {
        return Err(invalid(
            row,
            "mc_samples",
            format!("must be at most {MAX_SAMPLES}, got {n}"),
        ));
    }
    if !(seed.is_finite() && seed >= 0.0 && seed.fract() == 0.0 && seed <= 9_007_199_254_740_992.0)
    {
        return Err(invalid(
            row,
            "mc_seed",
            format!("must be a whole number in [0, 2^53], got {seed}"),
        ));
    }
    // Both checked above: n >= 1 fits usize, seed is an exact integer.
    Ok((n as usize, seed as u64))
}

/// Uncertain training inputs: the scenario plus a uniform band for each uncertain constant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainUncertaintyInput {
    pub base: TrainInput,
    /// (low, high) for compute_efficiency, scale_up_efficiency, scale_out_efficiency,
    /// dp_overlap_fraction, price_usd_per_chip_hour, in that (sampling) order.
    pub bands: [(f64, f64); 5],
    pub samples: f64,
    pub seed: f64,
}

/// Percentiles (5, 50, 95) of MFU and run cost; NaN when no layout fits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainUncertainty {
    pub mfu: [f64; 3],
    pub cost_usd: [f64; 3],
}

/// Samples the constants and re-evaluates the nominal best layout (chosen before the uncertainty
/// resolves) for each draw.
pub fn train_uncertainty_one(
    row: usize,
    x: &TrainUncertaintyInput,
) -> Result<TrainUncertainty, InputError> {
    use crate::error::{efficiency, positive, unit_interval};
    let nominal = Scenario::new(row, &x.base)?;
    let b = &x.bands;
    let bands = [
        band(row, "compute_efficiency", b[0].0, b[0].1, efficiency)?,
        band(row, "scale_up_efficiency", b[1].0, b[1].1, efficiency)?,
        band(row, "scale_out_efficiency", b[2].0, b[2].1, efficiency)?,
        band(row, "dp_overlap_fraction", b[3].0, b[3].1, unit_interval)?,
        band(row, "price_usd_per_chip_hour", b[4].0, b[4].1, positive)?,
    ];
    let (n, seed) = samples_and_seed(row, x.samples, x.seed)?;
    let nan = TrainUncertainty {
        mfu: [f64::NAN; 3],
        cost_usd: [f64::NAN; 3],
    };
    let Some(best) = train_one(&nominal).best else {
        return Ok(nan);
    };
    let mut rng = SplitMix64::new(seed);
    let mut mfu = Vec::with_capacity(n);
    let mut cost = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = nominal;
        s.constants.compute_efficiency = rng.uniform(bands[0]);
        s.constants.scale_up_efficiency = rng.uniform(bands[1]);
        s.constants.scale_out_efficiency = rng.uniform(bands[2]);
        s.constants.dp_overlap_fraction = rng.uniform(bands[3]);
        // The row's price is the median of observations: the band's median stays at it.
        s.price_usd_per_chip_hour = rng.split(bands[4], nominal.price_usd_per_chip_hour);
        if let Some(ev) = s.evaluate(&best.layout) {
            mfu.push(ev.mfu);
            cost.push(run_totals(&s, ev.tokens_per_s).cost_usd);
        }
    }
    Ok(TrainUncertainty {
        mfu: percentiles(mfu),
        cost_usd: percentiles(cost),
    })
}

/// Runs every row in parallel; the first invalid row is the error.
pub fn train_uncertainty_batch(
    inputs: &[TrainUncertaintyInput],
) -> Result<Vec<TrainUncertainty>, InputError> {
    let results = inputs
        .par_iter()
        .enumerate()
        .map(|(row, x)| train_uncertainty_one(row, x))
        .collect::<Vec<_>>();
    crate::error::first_error(results)
}

/// Uncertain power inputs: chips, a band of IT watts per chip and a band of PUE.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerInput {
    pub chips: f64,
    pub power_w_per_chip: (f64, f64),
    pub pue: (f64, f64),
    pub samples: f64,
    pub seed: f64,
}

/// Facility MW at the band midpoints and its Monte Carlo percentiles (5, 50, 95).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerResult {
    pub it_mw: f64,
    pub facility_mw: f64,
    pub facility_mw_pct: [f64; 3],
}

/// Megawatts at the midpoints, and percentiles drawing watts per chip then PUE for each sample.
pub fn power_one(row: usize, x: &PowerInput) -> Result<PowerResult, InputError> {
    let w = band(
        row,
        "power_w_per_chip",
        x.power_w_per_chip.0,
        x.power_w_per_chip.1,
        crate::error::positive,
    )?;
    let pue = band(row, "pue", x.pue.0, x.pue.1, crate::error::positive)?;
    let (it, facility) = cluster_mw(
        row,
        x.chips,
        (w.low + w.high) / 2.0,
        (pue.low + pue.high) / 2.0,
    )?;
    cluster_mw(row, x.chips, w.low, pue.low)?;
    let (n, seed) = samples_and_seed(row, x.samples, x.seed)?;
    let mut rng = SplitMix64::new(seed);
    let mut draws = Vec::with_capacity(n);
    for _ in 0..n {
        let watts = rng.uniform(w);
        let p = rng.uniform(pue);
        draws.push(it / ((w.low + w.high) / 2.0) * watts * p);
    }
    Ok(PowerResult {
        it_mw: it,
        facility_mw: facility,
        facility_mw_pct: percentiles(draws),
    })
}

/// Runs every row in parallel; the first invalid row is the error.
pub fn power_batch(inputs: &[PowerInput]) -> Result<Vec<PowerResult>, InputError> {
    let results = inputs
        .par_iter()
        .enumerate()
        .map(|(row, x)| power_one(row, x))
        .collect::<Vec<_>>();
    crate::error::first_error(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::tests::a100_gpt;

    #[test]
    fn splitmix_reference_values() {
        // First outputs for seed 1234567 (reference values of the published SplitMix64).
        let mut r = SplitMix64::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
        let u = SplitMix64::new(7).next_f64();
        assert!((0.0..1.0).contains(&u));
    }

    #[test]
    fn split_uniform_keeps_its_median_at_the_centre() {
        let mut rng = SplitMix64::new(7);
        let band = Band {
            low: 1.0,
            high: 10.0,
        };
        let mut draws: Vec<f64> = (0..2001).map(|_| rng.split(band, 1.5)).collect();
        draws.sort_by(f64::total_cmp);
        assert!(draws.iter().all(|&d| (1.0..=10.0).contains(&d)));
        assert!(percentile(&draws, 5.0) <= 1.5 && percentile(&draws, 95.0) >= 1.5);
        assert!((percentile(&draws, 50.0) - 1.5).abs() < 0.2);
        // a centre outside the band is clamped into it
        assert!(rng.split(band, 20.0) <= 10.0);
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(percentile(&v, 50.0), 3.0);
        assert!((percentile(&v, 95.0) - 8.8).abs() < 1e-12);
        assert!((percentile(&v, 5.0) - 1.2).abs() < 1e-12);
    }

    fn uncertain() -> TrainUncertaintyInput {
        TrainUncertaintyInput {
            base: a100_gpt(40, 6144.0, 48, 256, 1024.0),
            bands: [(0.5, 0.7), (0.5, 0.9), (0.3, 0.6), (0.0, 0.5), (1.5, 2.5)],
            samples: 200.0,
            seed: 42.0,
        }
    }

    #[test]
    fn training_band_is_ordered_and_reproducible() {
        let r = train_uncertainty_one(0, &uncertain()).unwrap();
        assert!(r.mfu[0] <= r.mfu[1] && r.mfu[1] <= r.mfu[2] && r.mfu[2] <= 0.7);
        assert!(r.cost_usd[0] < r.cost_usd[2]);
        assert_eq!(r, train_uncertainty_one(0, &uncertain()).unwrap());
        let mut other = uncertain();
        other.seed = 43.0;
        assert_ne!(r, train_uncertainty_one(0, &other).unwrap());
    }

    #[test]
    fn degenerate_bands_give_the_point_value() {
        let mut x = uncertain();
        x.bands = [(0.6, 0.6), (0.7, 0.7), (0.5, 0.5), (0.0, 0.0), (2.0, 2.0)];
        let r = train_uncertainty_one(0, &x).unwrap();
        let s = Scenario::new(0, &x.base).unwrap();
        let best = train_one(&s).best.unwrap();
        assert!((r.mfu[0] - best.mfu).abs() < 1e-15 && (r.mfu[2] - best.mfu).abs() < 1e-15);
    }

    #[test]
    fn bad_bands_are_named() {
        let mut x = uncertain();
        x.bands[1] = (0.9, 0.5);
        assert_eq!(
            train_uncertainty_one(2, &x).unwrap_err().field,
            "scale_up_efficiency_low"
        );
        let mut x = uncertain();
        x.seed = -1.0;
        assert_eq!(train_uncertainty_one(0, &x).unwrap_err().field, "mc_seed");
        let mut x = uncertain();
        x.samples = 1e9;
        assert_eq!(
            train_uncertainty_one(0, &x).unwrap_err().field,
            "mc_samples"
        );
        let p = PowerInput {
            chips: 10.0,
            power_w_per_chip: (1.0, 2.0),
            pue: (1.3, 1.1),
            samples: 10.0,
            seed: 1.0,
        };
        assert_eq!(power_one(0, &p).unwrap_err().field, "pue_low");
    }

    #[test]
    fn power_band_brackets_midpoint() {
        let p = PowerInput {
            chips: 50_000.0,
            power_w_per_chip: (1200.0, 1300.0),
            pue: (1.1, 1.5),
            samples: 1000.0,
            seed: 3.0,
        };
        let r = power_one(0, &p).unwrap();
        assert!((r.facility_mw - 50_000.0 * 1250.0 * 1.3 / 1e6).abs() < 1e-9);
        assert!(r.facility_mw_pct[0] >= 50_000.0 * 1200.0 * 1.1 / 1e6);
        assert!(r.facility_mw_pct[2] <= 50_000.0 * 1300.0 * 1.5 / 1e6);
        assert!(r.facility_mw_pct[0] < r.facility_mw && r.facility_mw < r.facility_mw_pct[2]);
    }
}
