//! The thin PyO3 layer: NumPy columns in, NumPy columns out, input errors as `ValueError`.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::chip::{chip_metrics_batch, ChipSpec};
use crate::cluster::{equivalence_batch, EquivalenceInput, EquivalenceResult};
use crate::error::InputError;
use crate::inference::{inference_batch, InferenceInput, InferenceResult};
use crate::montecarlo::{
    power_batch, train_uncertainty_batch, PowerInput, TrainUncertaintyInput, PERCENTILES,
};
use crate::search::{train_batch, TrainResult};
use crate::smoothing::smoothing_pass;
use crate::training::{Evaluation, RunTotals, TrainInput};

fn value_error(err: InputError) -> PyErr {
    PyValueError::new_err(err.to_string())
}

/// Rows computed per native call between checks for Ctrl-C.
const CHUNK_ROWS: usize = 64;
/// Most layout evaluations one call may run (about ten minutes at 10M per second on two cores).
pub const MAX_LAYOUTS_PER_CALL: u64 = 6_000_000_000;

/// Runs `f` over `inputs` in chunks with the interpreter released, checking for signals (Ctrl-C
/// raises `KeyboardInterrupt`) and the work cap between chunks; row numbers in errors stay global.
fn chunked<I: Sync, O: Send>(
    py: Python<'_>,
    inputs: &[I],
    f: impl Fn(&[I]) -> Result<Vec<O>, InputError> + Send + Sync,
    work: impl Fn(&O) -> u64,
) -> PyResult<Vec<O>> {
    let mut out = Vec::with_capacity(inputs.len());
    let mut done = 0u64;
    for (k, chunk) in inputs.chunks(CHUNK_ROWS).enumerate() {
        let start = k * CHUNK_ROWS;
        let results = py.detach(|| f(chunk)).map_err(|mut e| {
            e.row += start;
            value_error(e)
        })?;
        done = done.saturating_add(results.iter().map(&work).sum::<u64>());
        out.extend(results);
        py.check_signals()?;
        if done > MAX_LAYOUTS_PER_CALL && out.len() < inputs.len() {
            return Err(PyValueError::new_err(format!(
                "work cap: rows 0-{} already evaluated {done} layouts (cap {MAX_LAYOUTS_PER_CALL}); \
                 split the table into smaller calls",
                out.len() - 1
            )));
        }
    }
    Ok(out)
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

/// Column access by name over one input dict; chip fields may carry a prefix (`a_`, `b_`).
struct Columns<'a, 'py> {
    dict: &'a Bound<'py, PyDict>,
    rows: usize,
}

impl Columns<'_, '_> {
    fn get(&self, name: &str) -> PyResult<Vec<f64>> {
        dict_column(self.dict, name, self.rows)
    }

    /// An optional column: all NaN when absent.
    fn optional(&self, name: &str) -> PyResult<Vec<f64>> {
        if self.dict.contains(name)? {
            self.get(name)
        } else {
            Ok(vec![f64::NAN; self.rows])
        }
    }

    /// Training inputs; chip fields read as `<prefix><name>`, the chip count from `chips_column`.
    fn train_inputs(&self, prefix: &str, chips_column: &str) -> PyResult<Vec<TrainInput>> {
        let chip = |name: &str| self.get(&format!("{prefix}{name}"));
        let (peak, mem, bw, up, domain, out) = (
            chip("peak_tflops")?,
            chip("memory_gb")?,
            chip("memory_bw_gbps")?,
            chip("scale_up_gbps")?,
            chip("scale_up_domain_chips")?,
            chip("scale_out_gbps")?,
        );
        let (power, pue, price) = (
            chip("power_w_per_chip")?,
            chip("pue")?,
            chip("price_usd_per_chip_hour")?,
        );
        let m: Vec<Vec<f64>> = MODEL_COLUMNS
            .iter()
            .map(|n| self.get(n))
            .collect::<PyResult<_>>()?;
        // A constant may be given per chip (`<prefix><name>`) or for both (`<name>`).
        let k: Vec<Vec<f64>> = CONSTANT_COLUMNS
            .iter()
            .map(|n| {
                let own = format!("{prefix}{n}");
                if !prefix.is_empty() && self.dict.contains(&own)? {
                    self.get(&own)
                } else {
                    self.get(n)
                }
            })
            .collect::<PyResult<_>>()?;
        let l: Vec<Vec<f64>> = LAYOUT_COLUMNS
            .iter()
            .map(|n| self.optional(n))
            .collect::<PyResult<_>>()?;
        let chips = self.get(chips_column)?;
        let shape: Vec<Vec<f64>> = SHAPE_COLUMNS
            .iter()
            .map(|n| self.optional(n))
            .collect::<PyResult<_>>()?;
        Ok((0..self.rows)
            .map(|i| TrainInput {
                peak_tflops: peak[i],
                memory_gb: mem[i],
                memory_bw_gbps: bw[i],
                scale_up_gbps: up[i],
                scale_up_domain_chips: domain[i],
                scale_out_gbps: out[i],
                power_w_per_chip: power[i],
                pue: pue[i],
                price_usd_per_chip_hour: price[i],
                params_b: m[0][i],
                active_params_b: m[1][i],
                layers: m[2][i],
                hidden: m[3][i],
                heads: m[4][i],
                seq_len: m[5][i],
                vocab: m[6][i],
                experts: m[7][i],
                top_k: m[8][i],
                chips: chips[i],
                global_batch_tokens: m[9][i],
                training_tokens: m[10][i],
                compute_efficiency: k[0][i],
                gemm_half_size: k[1][i],
                scale_up_efficiency: k[2][i],
                scale_out_efficiency: k[3][i],
                dp_overlap_fraction: k[4][i],
                usable_memory_fraction: k[5][i],
                tp_overlap_fraction: k[6][i],
                ep_overlap_fraction: k[7][i],
                tp: l[0][i],
                pp: l[1][i],
                dp: l[2][i],
                ep: l[3][i],
                micro_batch: l[4][i],
                zero_stage: l[5][i],
                recompute: l[6][i],
                vpp: l[7][i],
                cp: l[8][i],
                kv_heads: shape[0][i],
                ffn_hidden: shape[1][i],
                gated_mlp: shape[2][i],
            })
            .collect())
    }
}

fn put(out: &Bound<'_, PyDict>, name: &str, values: Vec<f64>) -> PyResult<()> {
    out.set_item(name, PyArray1::from_vec(out.py(), values))
}

fn flag(b: bool) -> f64 {
    f64::from(u8::from(b))
}

/// Training scenarios over columns (see `rust_core.train_scenarios` for names and units).
#[pyfunction]
fn train_scenarios<'py>(
    py: Python<'py>,
    columns: &Bound<'py, PyDict>,
    rows: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let inputs = Columns {
        dict: columns,
        rows,
    }
    .train_inputs("", "chips")?;
    let results = chunked(py, &inputs, train_batch, |r| r.layouts_evaluated)?;
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
        results.iter().map(|r| flag(r.best.is_some())).collect(),
    )?;
    put(
        &out,
        "layouts_evaluated",
        results.iter().map(|r| r.layouts_evaluated as f64).collect(),
    )?;
    put(&out, "tp", best(|e| f64::from(e.layout.tp)))?;
    put(&out, "cp", best(|e| f64::from(e.layout.cp)))?;
    put(&out, "pp", best(|e| f64::from(e.layout.pp)))?;
    put(&out, "vpp", best(|e| f64::from(e.layout.vpp)))?;
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
    put_practitioner(&out, &results)?;
    put(&out, "days_to_train", total(|t| t.days_to_train))?;
    put(&out, "chip_hours", total(|t| t.chip_hours))?;
    put(&out, "energy_mwh", total(|t| t.energy_mwh))?;
    put(&out, "cost_usd", total(|t| t.cost_usd))?;
    Ok(out)
}

/// The practitioner layout beside the searched best: family code, layout, memory and MFU.
fn put_practitioner(out: &Bound<'_, PyDict>, results: &[TrainResult]) -> PyResult<()> {
    let col = |f: fn(&Evaluation) -> f64| -> Vec<f64> {
        results
            .iter()
            .map(|r| r.practitioner.best.as_ref().map_or(f64::NAN, f))
            .collect()
    };
    put(
        out,
        "practitioner_family",
        results
            .iter()
            .map(|r| f64::from(r.practitioner.family as u8))
            .collect(),
    )?;
    put(out, "practitioner_tp", col(|e| f64::from(e.layout.tp)))?;
    put(out, "practitioner_cp", col(|e| f64::from(e.layout.cp)))?;
    put(out, "practitioner_pp", col(|e| f64::from(e.layout.pp)))?;
    put(out, "practitioner_vpp", col(|e| f64::from(e.layout.vpp)))?;
    put(out, "practitioner_dp", col(|e| f64::from(e.layout.dp)))?;
    put(out, "practitioner_ep", col(|e| f64::from(e.layout.ep)))?;
    put(
        out,
        "practitioner_micro_batch",
        col(|e| f64::from(e.layout.micro_batch)),
    )?;
    put(
        out,
        "practitioner_zero_stage",
        col(|e| f64::from(e.layout.zero_stage)),
    )?;
    put(
        out,
        "practitioner_recompute",
        col(|e| f64::from(e.layout.recompute as u8)),
    )?;
    put(
        out,
        "practitioner_memory_per_chip_gb",
        col(|e| e.memory_per_chip_gb),
    )?;
    put(out, "practitioner_tokens_per_s", col(|e| e.tokens_per_s))?;
    put(out, "practitioner_mfu", col(|e| e.mfu))
}

/// Monte Carlo percentiles of MFU and cost (see `rust_core.train_uncertainty`).
#[pyfunction]
fn train_uncertainty<'py>(
    py: Python<'py>,
    columns: &Bound<'py, PyDict>,
    rows: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let cols = Columns {
        dict: columns,
        rows,
    };
    let base = cols.train_inputs("", "chips")?;
    let names = [
        "compute_efficiency",
        "scale_up_efficiency",
        "scale_out_efficiency",
        "dp_overlap_fraction",
        "price_usd_per_chip_hour",
    ];
    let mut bands = Vec::new();
    for n in names {
        bands.push((
            cols.get(&format!("{n}_low"))?,
            cols.get(&format!("{n}_high"))?,
        ));
    }
    let (samples, seed) = (cols.get("mc_samples")?, cols.get("mc_seed")?);
    let inputs: Vec<TrainUncertaintyInput> = (0..rows)
        .map(|i| TrainUncertaintyInput {
            base: base[i],
            bands: [0, 1, 2, 3, 4].map(|j| (bands[j].0[i], bands[j].1[i])),
            samples: samples[i],
            seed: seed[i],
        })
        .collect();
    // Each row runs a full layout search first: chunked, so Ctrl-C is honoured between chunks.
    let results = chunked(py, &inputs, train_uncertainty_batch, |_| 0)?;
    let out = PyDict::new(py);
    for (j, q) in PERCENTILES.iter().enumerate() {
        put(
            &out,
            &format!("mfu_p{q}"),
            results.iter().map(|r| r.mfu[j]).collect(),
        )?;
        put(
            &out,
            &format!("cost_usd_p{q}"),
            results.iter().map(|r| r.cost_usd[j]).collect(),
        )?;
    }
    Ok(out)
}

/// Serving throughput and cost per scenario (see `rust_core.inference_costs`).
#[pyfunction]
fn inference_costs<'py>(
    py: Python<'py>,
    columns: &Bound<'py, PyDict>,
    rows: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let cols = Columns {
        dict: columns,
        rows,
    };
    let c: Vec<Vec<f64>> = INFERENCE_COLUMNS
        .iter()
        .map(|n| cols.get(n))
        .collect::<PyResult<_>>()?;
    let inputs: Vec<InferenceInput> = (0..rows)
        .map(|i| InferenceInput {
            peak_tflops: c[0][i],
            memory_gb: c[1][i],
            memory_bw_gbps: c[2][i],
            scale_up_gbps: c[3][i],
            price_usd_per_chip_hour: c[4][i],
            params_b: c[5][i],
            active_params_b: c[6][i],
            layers: c[7][i],
            hidden: c[8][i],
            heads: c[9][i],
            kv_heads: c[10][i],
            experts: c[11][i],
            top_k: c[12][i],
            weight_bits: c[13][i],
            kv_bits: c[14][i],
            tp: c[15][i],
            prompt_tokens: c[16][i],
            output_tokens: c[17][i],
            max_batch: c[18][i],
            draft_params_b: c[19][i],
            draft_length: c[20][i],
            acceptance_rate: c[21][i],
            compute_efficiency: c[22][i],
            memory_bw_efficiency: c[23][i],
            scale_up_efficiency: c[24][i],
            usable_memory_fraction: c[25][i],
        })
        .collect();
    let results = py
        .detach(|| inference_batch(&inputs))
        .map_err(value_error)?;
    let out = PyDict::new(py);
    let pick = |f: fn(&InferenceResult) -> f64| -> Vec<f64> { results.iter().map(f).collect() };
    put(&out, "feasible", pick(|r| flag(r.feasible)))?;
    put(&out, "batch", pick(|r| r.batch))?;
    put(&out, "weights_gb_per_chip", pick(|r| r.weights_gb_per_chip))?;
    put(&out, "kv_cache_gb_per_seq", pick(|r| r.kv_cache_gb_per_seq))?;
    put(&out, "decode_step_s", pick(|r| r.decode_step_s))?;
    put(&out, "memory_bound", pick(|r| flag(r.memory_bound)))?;
    put(
        &out,
        "tokens_per_target_step",
        pick(|r| r.tokens_per_target_step),
    )?;
    put(&out, "spec_speedup", pick(|r| r.spec_speedup))?;
    put(
        &out,
        "latency_s_per_output_token",
        pick(|r| r.latency_s_per_output_token),
    )?;
    put(
        &out,
        "decode_tokens_per_s_per_chip",
        pick(|r| r.decode_tokens_per_s_per_chip),
    )?;
    put(
        &out,
        "prefill_tokens_per_s_per_chip",
        pick(|r| r.prefill_tokens_per_s_per_chip),
    )?;
    put(
        &out,
        "cost_usd_per_mtok_output",
        pick(|r| r.cost_usd_per_mtok_output),
    )?;
    put(
        &out,
        "cost_usd_per_mtok_input",
        pick(|r| r.cost_usd_per_mtok_input),
    )?;
    Ok(out)
}

/// Chips of type B matching N chips of type A (see `rust_core.cluster_equivalence`).
#[pyfunction]
fn cluster_equivalence<'py>(
    py: Python<'py>,
    columns: &Bound<'py, PyDict>,
    rows: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let cols = Columns {
        dict: columns,
        rows,
    };
    let a = cols.train_inputs("a_", "chips_a")?;
    let b = cols.train_inputs("b_", "chips_a")?;
    let (max_b, eval_b) = (cols.get("max_chips_b")?, cols.optional("chips_b_eval")?);
    let inputs: Vec<EquivalenceInput> = (0..rows)
        .map(|i| EquivalenceInput {
            a: a[i],
            b: b[i],
            max_chips_b: max_b[i],
            chips_b_eval: eval_b[i],
        })
        .collect();
    // The layouts of each search are not returned: each search counts as 1,000 layouts.
    let results = chunked(py, &inputs, equivalence_batch, |r| {
        u64::from(r.searches) * 1000
    })?;
    let out = PyDict::new(py);
    let pick = |f: fn(&EquivalenceResult) -> f64| -> Vec<f64> { results.iter().map(f).collect() };
    put(&out, "tokens_per_s_a", pick(|r| r.tokens_per_s_a))?;
    put(&out, "mfu_a", pick(|r| r.mfu_a))?;
    put(&out, "chips_b_needed", pick(|r| r.chips_b_needed))?;
    put(
        &out,
        "tokens_per_s_b_needed",
        pick(|r| r.tokens_per_s_b_needed),
    )?;
    put(&out, "mfu_b_needed", pick(|r| r.mfu_b_needed))?;
    put(&out, "tokens_per_s_b_eval", pick(|r| r.tokens_per_s_b_eval))?;
    put(&out, "mfu_b_eval", pick(|r| r.mfu_b_eval))?;
    put(
        &out,
        "throughput_ratio_b_eval_vs_a",
        pick(|r| r.throughput_ratio_b_eval_vs_a),
    )?;
    put(&out, "searches", pick(|r| f64::from(r.searches)))?;
    put(&out, "status", pick(|r| f64::from(r.status as u8)))?;
    Ok(out)
}

/// Cluster megawatts with a Monte Carlo band (see `rust_core.datacenter_power`).
#[pyfunction]
fn datacenter_power<'py>(
    py: Python<'py>,
    columns: &Bound<'py, PyDict>,
    rows: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let cols = Columns {
        dict: columns,
        rows,
    };
    let names = [
        "chips",
        "power_w_per_chip_low",
        "power_w_per_chip_high",
        "pue_low",
        "pue_high",
        "mc_samples",
        "mc_seed",
    ];
    let c: Vec<Vec<f64>> = names.iter().map(|n| cols.get(n)).collect::<PyResult<_>>()?;
    let inputs: Vec<PowerInput> = (0..rows)
        .map(|i| PowerInput {
            chips: c[0][i],
            power_w_per_chip: (c[1][i], c[2][i]),
            pue: (c[3][i], c[4][i]),
            samples: c[5][i],
            seed: c[6][i],
        })
        .collect();
    let results = py.detach(|| power_batch(&inputs)).map_err(value_error)?;
    let out = PyDict::new(py);
    put(&out, "it_mw", results.iter().map(|r| r.it_mw).collect())?;
    put(
        &out,
        "facility_mw",
        results.iter().map(|r| r.facility_mw).collect(),
    )?;
    for (j, q) in PERCENTILES.iter().enumerate() {
        put(
            &out,
            &format!("facility_mw_p{q}"),
            results.iter().map(|r| r.facility_mw_pct[j]).collect(),
        )?;
    }
    Ok(out)
}

/// Model and run columns shared by the training functions, in the order `train_inputs` reads them.
const MODEL_COLUMNS: [&str; 11] = [
    "params_b",
    "active_params_b",
    "layers",
    "hidden",
    "heads",
    "seq_len",
    "vocab",
    "experts",
    "top_k",
    "global_batch_tokens",
    "training_tokens",
];

/// Optional model-shape columns of the training functions (NaN or absent = the GPT default:
/// multi-head attention, a plain 4h MLP), in the order `train_inputs` reads them.
const SHAPE_COLUMNS: [&str; 3] = ["kv_heads", "ffn_hidden", "gated_mlp"];

const CONSTANT_COLUMNS: [&str; 8] = [
    "compute_efficiency",
    "gemm_half_size",
    "scale_up_efficiency",
    "scale_out_efficiency",
    "dp_overlap_fraction",
    "usable_memory_fraction",
    "tp_overlap_fraction",
    "ep_overlap_fraction",
];

const LAYOUT_COLUMNS: [&str; 9] = [
    "tp",
    "pp",
    "dp",
    "ep",
    "micro_batch",
    "zero_stage",
    "recompute",
    "vpp",
    "cp",
];

/// Input columns of `inference_costs`, in `InferenceInput` field order.
const INFERENCE_COLUMNS: [&str; 26] = [
    "peak_tflops",
    "memory_gb",
    "memory_bw_gbps",
    "scale_up_gbps",
    "price_usd_per_chip_hour",
    "params_b",
    "active_params_b",
    "layers",
    "hidden",
    "heads",
    "kv_heads",
    "experts",
    "top_k",
    "weight_bits",
    "kv_bits",
    "tp",
    "prompt_tokens",
    "output_tokens",
    "max_batch",
    "draft_params_b",
    "draft_length",
    "acceptance_rate",
    "compute_efficiency",
    "memory_bw_efficiency",
    "scale_up_efficiency",
    "usable_memory_fraction",
];

/// The calibrated constants file (JSON text), embedded at build time.
/// Two NumPy arrays returned together.
type ArrayPair<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// The exponential-smoothing state recursion over a parameter grid (see
/// `rust_core.smoothing_states`): flat states and running cross-product sums.
#[pyfunction]
fn smoothing_states<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f64>,
    alpha: PyReadonlyArray1<'py, f64>,
    beta: PyReadonlyArray1<'py, f64>,
    phi: PyReadonlyArray1<'py, f64>,
) -> PyResult<ArrayPair<'py>> {
    let (y, alpha) = (column("y", &y)?, column("alpha", &alpha)?);
    let (beta, phi) = (column("beta", &beta)?, column("phi", &phi)?);
    let pass = py
        .detach(|| smoothing_pass(y, alpha, beta, phi))
        .map_err(value_error)?;
    Ok((
        PyArray1::from_vec(py, pass.states),
        PyArray1::from_vec(py, pass.cross),
    ))
}

#[pyfunction]
fn calibration_json() -> &'static str {
    include_str!("../calibration/constants.json")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(chip_metrics, m)?)?;
    m.add_function(wrap_pyfunction!(train_scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(calibration_json, m)?)?;
    m.add_function(wrap_pyfunction!(train_uncertainty, m)?)?;
    m.add_function(wrap_pyfunction!(inference_costs, m)?)?;
    m.add_function(wrap_pyfunction!(cluster_equivalence, m)?)?;
    m.add_function(wrap_pyfunction!(datacenter_power, m)?)?;
    m.add_function(wrap_pyfunction!(smoothing_states, m)?)?;
    Ok(())
}
