//! Per-chip efficiency metrics derived from a spec sheet.

use crate::error::{positive, InputError};
use rayon::prelude::*;

/// One chip's spec in the units the metrics need.
#[derive(Debug, Clone, Copy)]
pub struct ChipSpec {
    pub peak_tflops: f64,
    pub memory_bw_gbps: f64,
    pub interconnect_gbps: f64,
    pub tdp_w: f64,
    pub price_usd: f64,
}

/// Metrics for one chip; a metric whose input is missing (NaN) is NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChipMetrics {
    pub tflops_per_w: f64,
    pub tflops_per_kusd: f64,
    pub ridge_flop_per_byte: f64,
    pub interconnect_bytes_per_kflop: f64,
}

fn optional(row: usize, field: &'static str, value: f64) -> Result<Option<f64>, InputError> {
    if value.is_nan() {
        Ok(None)
    } else {
        positive(row, field, value).map(Some)
    }
}

/// Computes the metrics for one chip. Peak TFLOPS is required; other inputs may be NaN (unknown).
pub fn chip_metrics(row: usize, spec: &ChipSpec) -> Result<ChipMetrics, InputError> {
    let peak = positive(row, "peak_tflops", spec.peak_tflops)?;
    let flops = peak * 1e12;
    let bw = optional(row, "memory_bw_gbps", spec.memory_bw_gbps)?;
    let link = optional(row, "interconnect_gbps", spec.interconnect_gbps)?;
    let tdp = optional(row, "tdp_w", spec.tdp_w)?;
    let price = optional(row, "price_usd", spec.price_usd)?;
    Ok(ChipMetrics {
        tflops_per_w: tdp.map_or(f64::NAN, |w| peak / w),
        tflops_per_kusd: price.map_or(f64::NAN, |p| peak / (p / 1e3)),
        ridge_flop_per_byte: bw.map_or(f64::NAN, |b| flops / (b * 1e9)),
        interconnect_bytes_per_kflop: link.map_or(f64::NAN, |l| l * 1e9 / flops * 1e3),
    })
}

/// Computes metrics for every chip in parallel; the first invalid row is the error.
pub fn chip_metrics_batch(specs: &[ChipSpec]) -> Result<Vec<ChipMetrics>, InputError> {
    let results = specs
        .par_iter()
        .enumerate()
        .map(|(row, spec)| chip_metrics(row, spec))
        .collect::<Vec<_>>();
    crate::error::first_error(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h100() -> ChipSpec {
        ChipSpec {
            peak_tflops: 989.0,
            memory_bw_gbps: 3350.0,
            interconnect_gbps: 900.0,
            tdp_w: 700.0,
            price_usd: 25_000.0,
        }
    }

    #[test]
    fn h100_by_hand() {
        let m = chip_metrics(0, &h100()).unwrap();
        assert!((m.tflops_per_w - 989.0 / 700.0).abs() < 1e-12);
        assert!((m.tflops_per_kusd - 989.0 / 25.0).abs() < 1e-12);
        // 989e12 FLOP/s / 3350e9 B/s = 295.2 FLOP per byte.
        assert!((m.ridge_flop_per_byte - 295.223_880_597).abs() < 1e-6);
        assert!((m.interconnect_bytes_per_kflop - 900e9 / 989e12 * 1e3).abs() < 1e-12);
    }

    #[test]
    fn missing_inputs_give_nan_not_error() {
        let mut spec = h100();
        spec.price_usd = f64::NAN;
        spec.tdp_w = f64::NAN;
        let m = chip_metrics(0, &spec).unwrap();
        assert!(m.tflops_per_kusd.is_nan() && m.tflops_per_w.is_nan());
        assert!(m.ridge_flop_per_byte.is_finite());
    }

    #[test]
    fn invalid_rows_are_located() {
        let mut bad = h100();
        bad.memory_bw_gbps = -1.0;
        let err = chip_metrics_batch(&[h100(), bad]).unwrap_err();
        assert_eq!(err.row, 1);
        assert_eq!(err.field, "memory_bw_gbps");
        let mut zero = h100();
        zero.peak_tflops = 0.0;
        assert_eq!(chip_metrics(3, &zero).unwrap_err().field, "peak_tflops");
        let mut inf = h100();
        inf.tdp_w = f64::INFINITY;
        assert!(chip_metrics(0, &inf).is_err());
    }
}
