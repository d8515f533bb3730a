//! The thin PyO3 layer: NumPy columns in, NumPy columns out, input errors as `ValueError`.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::chip::{chip_metrics_batch, ChipSpec};
use crate::error::InputError;
use crate::search::train_batch;
use crate::training::{Evaluation, RunTotals, TrainInput};

fn value_error(err: InputError) -> PyErr {
    PyValueError::new_err(err.to_string())
}

fn column<'a>(name: &str, array: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    array.as_slice().map_err(|_| {
        PyValueError::new_err(format!(
            "column '{name}' must be a contiguous float64 array"
        ))
    })
}

fn same_length(lengths: &[(&str, usize)]) -> PyResult<usize> {
    let n = lengths[0].1;
    for (name, len) in lengths {
        if *len != n {
            return Err(PyValueError::new_err(format!(
                "column '{name}' has {len} rows, expected {n}"
            )));
        }
    }
    Ok(n)
}

/// Per-chip metrics over columns; NaN marks an unknown optional input.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn chip_metrics<'py>(
    py: Python<'py>,
    peak_tflops: PyReadonlyArray1<'py, f64>,
    memory_bw_gbps: PyReadonlyArray1<'py, f64>,
    interconnect_gbps: PyReadonlyArray1<'py, f64>,
    tdp_w: PyReadonlyArray1<'py, f64>,
    price_usd: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let cols = [
        ("peak_tflops", column("peak_tflops", &peak_tflops)?),
        ("memory_bw_gbps", column("memory_bw_gbps", &memory_bw_gbps)?),
        (
            "interconnect_gbps",
            column("interconnect_gbps", &interconnect_gbps)?,
        ),
        ("tdp_w", column("tdp_w", &tdp_w)?),
        ("price_usd", column("price_usd", &price_usd)?),
    ];
    let lengths: Vec<(&str, usize)> = cols.iter().map(|(n, c)| (*n, c.len())).collect();
    let n = same_length(&lengths)?;
    let specs: Vec<ChipSpec> = (0..n)
        .map(|i| ChipSpec {
            peak_tflops: cols[0].1[i],
            memory_bw_gbps: cols[1].1[i],
            interconnect_gbps: cols[2].1[i],
            tdp_w: cols[3].1[i],
            price_usd: cols[4].1[i],
        })
        .collect();
    let metrics = py
        .detach(|| chip_metrics_batch(&specs))
        .map_err(value_error)?;
    let out = PyDict::new(py);
    let pick =
        |f: fn(&crate::chip::ChipMetrics) -> f64| metrics.iter().map(f).collect::<Vec<f64>>();
    out.set_item(
        "tflops_per_w",
        PyArray1::from_vec(py, pick(|m| m.tflops_per_w)),
    )?;
    out.set_item(
        "tflops_per_kusd",
        PyArray1::from_vec(py, pick(|m| m.tflops_per_kusd)),
    )?;
    out.set_item(
        "ridge_flop_per_byte",
        PyArray1::from_vec(py, pick(|m| m.ridge_flop_per_byte)),
    )?;
    out.set_item(
        "interconnect_bytes_per_kflop",
        PyArray1::from_vec(py, pick(|m| m.interconnect_bytes_per_kflop)),
    )?;
    Ok(out)
}

/// Reads one float64 column from a dict of NumPy arrays, copying it (any stride) into a Vec.
fn dict_column(cols: &Bound<'_, PyDict>, name: &str, rows: usize) -> PyResult<Vec<f64>> {
    let item = cols
        .get_item(name)?
        .ok_or_else(|| PyValueError::new_err(format!("missing input column '{name}'")))?;
    let array: PyReadonlyArray1<'_, f64> = item.extract().map_err(|_| {
        PyValueError::new_err(format!("column '{name}' must be a 1-D float64 array"))
    })?;
    let values: Vec<f64> = array.as_array().iter().copied().collect();
    if values.len() != rows {
        return Err(PyValueError::new_err(format!(
            "column '{name}' has {} rows, expected {rows}",
            values.len()
        )));
    }
    Ok(values)
}

/// Reads the named columns of a dict into one Vec per name, all of `rows` rows.
fn dict_columns<const K: usize>(
    cols: &Bound<'_, PyDict>,
    names: [&str; K],
    rows: usize,
) -> PyResult<Vec<Vec<f64>>> {
    names.iter().map(|n| dict_column(cols, n, rows)).collect()
}

fn put(out: &Bound<'_, PyDict>, name: &str, values: Vec<f64>) -> PyResult<()> {
    out.set_item(name, PyArray1::from_vec(out.py(), values))
}

/// Training scenarios over columns (see `rust_core.train_scenarios` for names and units).
#[pyfunction]
fn train_scenarios<'py>(
    py: Python<'py>,
    columns: &Bound<'py, PyDict>,
    rows: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let c = dict_columns(columns, TRAIN_COLUMNS, rows)?;
    let inputs: Vec<TrainInput> = (0..rows)
        .map(|i| TrainInput {
            peak_tflops: c[0][i],
            memory_gb: c[1][i],
            memory_bw_gbps: c[2][i],
            scale_up_gbps: c[3][i],
            scale_up_domain_chips: c[4][i],
            scale_out_gbps: c[5][i],
            power_w_per_chip: c[6][i],
            pue: c[7][i],
            price_usd_per_chip_hour: c[8][i],
            params_b: c[9][i],
            active_params_b: c[10][i],
            layers: c[11][i],
            hidden: c[12][i],
            heads: c[13][i],
            seq_len: c[14][i],
            vocab: c[15][i],
            experts: c[16][i],
            top_k: c[17][i],
            chips: c[18][i],
            global_batch_tokens: c[19][i],
            training_tokens: c[20][i],
            compute_efficiency: c[21][i],
            gemm_half_size: c[22][i],
            scale_up_efficiency: c[23][i],
            scale_out_efficiency: c[24][i],
            dp_overlap_fraction: c[25][i],
            usable_memory_fraction: c[26][i],
            tp: c[27][i],
            pp: c[28][i],
            dp: c[29][i],
            ep: c[30][i],
            micro_batch: c[31][i],
            zero_stage: c[32][i],
            recompute: c[33][i],
        })
        .collect();
    let results = py.detach(|| train_batch(&inputs)).map_err(value_error)?;
    let out = PyDict::new(py);
    let best = |f: fn(&Evaluation) -> f64| -> Vec<f64> {
        results
            .iter()
            .map(|r| r.best.as_ref().map_or(f64::NAN, f))
            .collect()
    };
    let total = |f: fn(&RunTotals) -> f64| -> Vec<f64> {
        results
            .iter()
            .map(|r| r.totals.as_ref().map_or(f64::NAN, f))
            .collect()
    };
    put(
        &out,
        "feasible",
        results
            .iter()
            .map(|r| f64::from(u8::from(r.best.is_some())))
            .collect(),
    )?;
    put(
        &out,
        "layouts_evaluated",
        results.iter().map(|r| r.layouts_evaluated as f64).collect(),
    )?;
    put(&out, "tp", best(|e| f64::from(e.layout.tp)))?;
    put(&out, "pp", best(|e| f64::from(e.layout.pp)))?;
    put(&out, "dp", best(|e| f64::from(e.layout.dp)))?;
    put(&out, "ep", best(|e| f64::from(e.layout.ep)))?;
    put(
        &out,
        "micro_batch",
        best(|e| f64::from(e.layout.micro_batch)),
    )?;
    put(&out, "zero_stage", best(|e| f64::from(e.layout.zero_stage)))?;
    put(
        &out,
        "recompute",
        best(|e| f64::from(e.layout.recompute as u8)),
    )?;
    put(&out, "chips_used", best(|e| f64::from(e.chips_used)))?;
    put(&out, "memory_per_chip_gb", best(|e| e.memory_per_chip_gb))?;
    put(&out, "step_time_s", best(|e| e.step_time_s))?;
    put(&out, "tokens_per_s", best(|e| e.tokens_per_s))?;
    put(&out, "mfu", best(|e| e.mfu))?;
    put(&out, "hfu", best(|e| e.hfu))?;
    put(&out, "days_to_train", total(|t| t.days_to_train))?;
    put(&out, "chip_hours", total(|t| t.chip_hours))?;
    put(&out, "energy_mwh", total(|t| t.energy_mwh))?;
    put(&out, "cost_usd", total(|t| t.cost_usd))?;
    Ok(out)
}

/// Input column names of `train_scenarios`, in `TrainInput` field order.
const TRAIN_COLUMNS: [&str; 34] = [
    "peak_tflops",
    "memory_gb",
    "memory_bw_gbps",
    "scale_up_gbps",
    "scale_up_domain_chips",
    "scale_out_gbps",
    "power_w_per_chip",
    "pue",
    "price_usd_per_chip_hour",
    "params_b",
    "active_params_b",
    "layers",
    "hidden",
    "heads",
    "seq_len",
    "vocab",
    "experts",
    "top_k",
    "chips",
    "global_batch_tokens",
    "training_tokens",
    "compute_efficiency",
    "gemm_half_size",
    "scale_up_efficiency",
    "scale_out_efficiency",
    "dp_overlap_fraction",
    "usable_memory_fraction",
    "tp",
    "pp",
    "dp",
    "ep",
    "micro_batch",
    "zero_stage",
    "recompute",
];

/// The calibrated constants file (JSON text), embedded at build time.
#[pyfunction]
fn calibration_json() -> &'static str {
    include_str!("../calibration/constants.json")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(chip_metrics, m)?)?;
    m.add_function(wrap_pyfunction!(train_scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(calibration_json, m)?)?;
    Ok(())
}
