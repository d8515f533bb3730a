//! The thin PyO3 layer: NumPy columns in, NumPy columns out, input errors as `ValueError`.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::chip::{chip_metrics_batch, ChipSpec};
use crate::error::InputError;

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

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(chip_metrics, m)?)?;
    Ok(())
}
