//! The compiled part of the `gammaflow` Python package (`gammaflow._gammaflow`). The Python
//! wrappers in `gammaflow/__init__.py` check and convert arguments, then call these functions.
//!
//! - [`evaluate_lines`]: `gammaflow eval`'s parsing and output objects, on JSON texts of cases.
//! - [`evaluate_array`]: a numpy genome array packed straight into the packed layout, evaluated
//!   with [`Evaluator::evaluate_packed`] and completed with [`from_packed`], one array per field.
//! - [`search_json`]: a search from the library's `SearchOptions` as JSON (the CLI's options, defaults and checks),
//!   returning what `results.json` holds.

use gammaflow::energy::EnergyModel;
use gammaflow::eval::cases::{evaluation_json, parse_line};
use gammaflow::eval::{from_packed, BackendChoice, Evaluator, Item};
use gammaflow::hardware::Hardware;
use gammaflow::mapping::pack::{pack_into, stride_for, PackedProblem, PackedResult};
use gammaflow::mapping::{Dim, Genome, Level, Levels, MAX_LEVELS};
use gammaflow::model::Evaluation;
use gammaflow::report::search_out::results_json;
use gammaflow::search::{Prepared, SearchOptions};
use gammaflow::workload::Layer;
use numpy::{IntoPyArray, PyReadonlyArray4, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rayon::prelude::*;
use serde_json::Value;
use std::sync::Mutex;

/// Evaluators opened so far, one per backend choice: the GPU device and its buffers are kept
/// across calls instead of being opened again each time.
static EVALUATORS: Mutex<Vec<(BackendChoice, Evaluator)>> = Mutex::new(Vec::new());

fn backend_choice(name: &str) -> PyResult<BackendChoice> {
    match name.to_ascii_lowercase().as_str() {
        "auto" => Ok(BackendChoice::Auto),
        "cpu" => Ok(BackendChoice::Cpu),
        "gpu" => Ok(BackendChoice::Gpu),
        _ => Err(PyValueError::new_err(format!("backend: expected \"auto\", \"cpu\" or \"gpu\", got {name:?}"))),
    }
}

/// Runs `f` on the cached evaluator for `choice` (opened on first use).
fn with_evaluator<T>(choice: BackendChoice, f: impl FnOnce(&mut Evaluator) -> T) -> PyResult<T> {
    let mut cache = EVALUATORS.lock().unwrap_or_else(|e| e.into_inner());
    let pos = match cache.iter().position(|(c, _)| *c == choice) {
        Some(p) => p,
        None => {
            let ev = Evaluator::new(choice).map_err(|e| PyRuntimeError::new_err(format!("backend: {e:#}")))?;
            cache.push((choice, ev));
            cache.len() - 1
        }
    };
    Ok(f(&mut cache[pos].1))
}

/// The backend a choice resolves to, and why `auto` fell back to the CPU if it did.
#[pyfunction]
fn backend_info(py: Python<'_>, backend: &str) -> PyResult<(String, Option<String>)> {
    let choice = backend_choice(backend)?;
    py.detach(|| with_evaluator(choice, |ev| (ev.describe(), ev.fallback_reason.clone())))
}

/// The energy table of `energy_model` (None: MAESTRO's), or `ValueError` naming the keyword.
fn energy_table(energy_model: Option<&str>) -> PyResult<EnergyModel> {
    match energy_model {
        None => Ok(EnergyModel::MAESTRO),
        Some(spec) => EnergyModel::resolve(spec).map_err(|e| PyValueError::new_err(format!("energy_model: {e}"))),
    }
}

/// Cases evaluated per batch (as `gammaflow eval` does by default): bounds memory.
const BATCH: usize = 1 << 16;

/// `gammaflow eval` on JSON texts of cases: returns the JSON text of the list of output objects.
/// A case that does not parse raises `ValueError` naming `cases[i]` and the field.
#[pyfunction]
#[pyo3(signature = (lines, backend, energy_model=None))]
fn evaluate_lines(py: Python<'_>, lines: Vec<String>, backend: &str, energy_model: Option<&str>) -> PyResult<String> {
    let choice = backend_choice(backend)?;
    let energy = energy_table(energy_model)?;
    py.detach(|| {
        let mut out = Vec::with_capacity(lines.len());
        for (b, chunk) in lines.chunks(BATCH).enumerate() {
            let mut ids = Vec::with_capacity(chunk.len());
            let mut problems = Vec::with_capacity(chunk.len());
            let mut items = Vec::with_capacity(chunk.len());
            let parsed: Vec<_> = chunk.par_iter().enumerate().map(|(i, l)| (i, parse_line(i + 1, l))).collect();
            for (i, p) in parsed {
                match p {
                    Ok((id, problem, genome)) => {
                        ids.push(id);
                        items.push(Item { problem: problems.len(), genome, num_pe: None });
                        problems.push(problem);
                    }
                    Err(v) => {
                        let msg = v.get("error").and_then(Value::as_str).unwrap_or("invalid case");
                        let prefix = format!("line {}: ", i + 1);
                        let msg = msg.strip_prefix(&prefix).unwrap_or(msg);
                        return Err(PyValueError::new_err(format!("cases[{}]: {msg}", b * BATCH + i)));
                    }
                }
            }
            let evals = with_evaluator(choice, |ev| ev.evaluate_with(&problems, &items, &energy))?;
            let rendered: Vec<Value> = ids
                .into_par_iter()
                .zip(problems.par_iter().zip(evals.par_iter()))
                .map(|(id, (p, e))| evaluation_json(id, p, e))
                .collect();
            out.extend(rendered);
        }
        serde_json::to_string(&out).map_err(|e| PyRuntimeError::new_err(format!("serialising results: {e}")))
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HwIn {
    num_pe: i64,
    #[serde(default = "unlimited")]
    l1_size: i64,
    #[serde(default = "unlimited")]
    l2_size: i64,
    #[serde(default = "unlimited")]
    noc_bw: i64,
    #[serde(default = "unlimited")]
    offchip_bw: i64,
}

fn unlimited() -> i64 {
    -1
}

fn parse_layer(json: &str) -> PyResult<Layer> {
    // Unknown keys are refused (a misspelt `k` must not read as a missing `K`), as in
    // `evaluate`'s cases and `gammaflow eval`'s lines.
    let value: Value = serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("layer: {e}")))?;
    if let Some(k) = value.as_object().and_then(|m| m.keys().find(|k| !Layer::FIELDS.contains(&k.as_str()))) {
        let msg = gammaflow::schema::unknown_field(k, &Layer::FIELDS);
        return Err(PyValueError::new_err(format!("layer: {msg}")));
    }
    let layer: Layer = serde_json::from_value(value).map_err(|e| PyValueError::new_err(format!("layer: {e}")))?;
    layer.validate().map_err(|e| PyValueError::new_err(format!("layer field {}: {}", e.field, e.message)))?;
    Ok(layer)
}

fn parse_hw(json: &str) -> PyResult<Hardware> {
    let h: HwIn = serde_json::from_str(json).map_err(|e| {
        // serde's message ends with where in the JSON text (made by the wrapper, not the
        // caller) it was: the key and the value are what matter.
        let msg = e.to_string();
        PyValueError::new_err(format!("hw: {}", msg.split(" at line ").next().unwrap_or(&msg)))
    })?;
    let hw = Hardware {
        num_pe: h.num_pe,
        l1_size: h.l1_size,
        l2_size: h.l2_size,
        noc_bw: h.noc_bw,
        offchip_bw: h.offchip_bw,
    };
    hw.validate().map_err(|e| PyValueError::new_err(format!("hw: {e}")))?;
    Ok(hw)
}

/// Largest tile or cluster size a packed genome holds (its words are 32-bit).
const MAX_GENE: i64 = i32::MAX as i64;

/// Genome `n` of a (N, levels, 7, 2) row-major int64 array.
fn genome_at(g: &[i64], n: usize, levels: usize) -> Result<Genome, String> {
    let base = n * levels * 14;
    let mut lv = Levels::default();
    for l in 0..levels {
        let at = |gene: usize, k: usize| g[base + l * 14 + gene * 2 + k];
        let dim = |gene: usize| -> Result<Dim, String> {
            let d = at(gene, 0);
            if (0..6).contains(&d) {
                Ok(Dim::from_index(d as usize))
            } else {
                Err(format!("level {l}, gene {gene}: dim {d} is not 0..5 (K=0, C=1, Y=2, X=3, R=4, S=5)"))
            }
        };
        let mut order = [(Dim::K, 0i64); 6];
        for (i, o) in order.iter_mut().enumerate() {
            let t = at(i + 1, 1);
            if t > MAX_GENE {
                return Err(format!("level {l}, gene {}: tile {t} exceeds the maximum {MAX_GENE}", i + 1));
            }
            *o = (dim(i + 1)?, t);
        }
        let size = at(0, 1);
        if size > MAX_GENE {
            return Err(format!("level {l}, gene 0: cluster size {size} exceeds the maximum {MAX_GENE}"));
        }
        lv.push(Level::new(dim(0)?, size, order));
    }
    let genome = Genome { levels: lv };
    genome.check().map_err(|e| e.to_string())?;
    Ok(genome)
}

/// Output arrays of [`evaluate_array`], one value per genome.
#[derive(Default)]
struct Columns {
    f: [Vec<f64>; F_NAMES.len()],
    i: [Vec<i64>; I_NAMES.len()],
    b: [Vec<bool>; B_NAMES.len()],
    crash: Vec<u8>,
}

const F_NAMES: [&str; 5] = ["energy_nJ", "power", "area", "throughput", "area_gamma_external"];
const I_NAMES: [&str; 17] = [
    "runtime_cycles",
    "l1_size_req",
    "l2_size_req",
    "num_macs",
    "l1_input_read",
    "l1_input_write",
    "l1_weight_read",
    "l1_weight_write",
    "l1_output_read",
    "l1_output_write",
    "l2_input_read",
    "l2_input_write",
    "l2_weight_read",
    "l2_weight_write",
    "l2_output_read",
    "l2_output_write",
    "expected_macs",
];
const B_NAMES: [&str; 2] = ["valid", "valid_physical"];

impl Columns {
    fn with_capacity(n: usize) -> Self {
        Columns {
            f: std::array::from_fn(|_| Vec::with_capacity(n)),
            i: std::array::from_fn(|_| Vec::with_capacity(n)),
            b: std::array::from_fn(|_| Vec::with_capacity(n)),
            crash: Vec::with_capacity(n),
        }
    }

    /// Appends one evaluation; a crashed one (no metrics) gets NaN floats and zero counts.
    fn push(&mut self, e: &Evaluation, num_pe: i64) {
        let area_ext = e.area_gamma_external(num_pe).unwrap_or(f64::NAN);
        let (fv, iv) = match &e.metrics {
            Some(m) => (
                [m.energy_nj, m.power, m.area, m.throughput, area_ext],
                [
                    m.runtime_cycles,
                    m.l1_size_req,
                    m.l2_size_req,
                    m.num_macs,
                    m.l1_input_read,
                    m.l1_input_write,
                    m.l1_weight_read,
                    m.l1_weight_write,
                    m.l1_output_read,
                    m.l1_output_write,
                    m.l2_input_read,
                    m.l2_input_write,
                    m.l2_weight_read,
                    m.l2_weight_write,
                    m.l2_output_read,
                    m.l2_output_write,
                    e.expected_macs,
                ],
            ),
            None => {
                let mut iv = [0i64; I_NAMES.len()];
                iv[I_NAMES.len() - 1] = e.expected_macs;
                ([f64::NAN; F_NAMES.len()], iv)
            }
        };
        for (c, v) in self.f.iter_mut().zip(fv) {
            c.push(v);
        }
        for (c, v) in self.i.iter_mut().zip(iv) {
            c.push(v);
        }
        self.b[0].push(e.valid);
        self.b[1].push(e.valid_physical);
        self.crash.push(e.crash.map(|c| c.code() as u8).unwrap_or(0));
    }
}

/// Genomes per chunk: packed words, integer results and evaluations are held for one chunk only.
const CHUNK: usize = 1 << 18;

/// Evaluates a (N, levels, 7, 2) int64 genome array on one layer and accelerator.
fn run_array(
    layer: &Layer,
    hw: &Hardware,
    g: &[i64],
    n: usize,
    levels: usize,
    choice: BackendChoice,
    energy: &EnergyModel,
) -> PyResult<Columns> {
    let stride = stride_for(levels);
    let problems = [PackedProblem::new(layer, hw)];
    let mut cols = Columns::with_capacity(n);
    let mut words = Vec::new();
    let mut results: Vec<PackedResult> = Vec::new();
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        words.clear();
        words.resize((end - start) * stride, 0u32);
        words
            .par_chunks_mut(stride)
            .enumerate()
            .with_min_len(1024)
            .try_for_each(|(j, w)| {
                let genome = genome_at(g, start + j, levels).map_err(|e| (start + j, e))?;
                pack_into(&genome, 0, hw.num_pe, w);
                Ok(())
            })
            .map_err(|(i, e): (usize, String)| PyValueError::new_err(format!("genomes[{i}]: {e}")))?;
        with_evaluator(choice, |ev| ev.evaluate_packed(&problems, &words, stride, &mut results))?;
        // A status the model never writes is an error, not a verdict.
        let done: Result<Vec<Evaluation>, _> =
            results.par_iter().with_min_len(1024).map(|r| from_packed(layer, hw, levels, r, energy)).collect();
        let evals = done.map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("evaluation failed: {e}")))?;
        for e in &evals {
            cols.push(e, hw.num_pe);
        }
    }
    Ok(cols)
}

/// `evaluate_array` with the layer and accelerator as JSON texts.
#[pyfunction]
#[pyo3(signature = (layer_json, hw_json, genomes, backend, energy_model=None))]
fn evaluate_array<'py>(
    py: Python<'py>,
    layer_json: &str,
    hw_json: &str,
    genomes: PyReadonlyArray4<'py, i64>,
    backend: &str,
    energy_model: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let choice = backend_choice(backend)?;
    let energy = energy_table(energy_model)?;
    let layer = parse_layer(layer_json)?;
    let hw = parse_hw(hw_json)?;
    let shape = genomes.shape().to_vec();
    let (n, levels) = (shape[0], shape[1]);
    if !(1..=MAX_LEVELS).contains(&levels) || shape[2] != 7 || shape[3] != 2 {
        return Err(PyValueError::new_err(format!(
            "genomes: expected shape (N, levels, 7, 2) with 1 <= levels <= {MAX_LEVELS}, got {shape:?}"
        )));
    }
    let view = genomes.as_array();
    let owned;
    let g: &[i64] = match view.as_slice() {
        Some(s) => s,
        None => {
            owned = view.as_standard_layout().into_owned();
            owned.as_slice().expect("standard layout")
        }
    };
    let cols = py.detach(|| run_array(&layer, &hw, g, n, levels, choice, &energy))?;
    let d = PyDict::new(py);
    let Columns { f, i, b, crash } = cols;
    for (name, v) in F_NAMES.iter().zip(f) {
        d.set_item(name, v.into_pyarray(py))?;
    }
    for (name, v) in I_NAMES.iter().zip(i) {
        d.set_item(name, v.into_pyarray(py))?;
    }
    for (name, v) in B_NAMES.iter().zip(b) {
        d.set_item(name, v.into_pyarray(py))?;
    }
    d.set_item("crash", crash.into_pyarray(py))?;
    Ok(d)
}

/// The CLI's `search` on the library's options as a JSON object (the keywords of
/// `gammaflow.search`, named as the CLI's flags; defaults and checks are the library's, which the
/// CLI uses too): returns the JSON text of what `results.json` holds. Writes no files.
#[pyfunction]
fn search_json(py: Python<'_>, options: &str) -> PyResult<String> {
    let opts: SearchOptions = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(options))
        .map_err(|e| {
            let msg = gammaflow::schema::suggest_in_serde_message(&e.inner().to_string());
            // serde's message ends with where in the JSON text it was: the keyword is what matters.
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            PyValueError::new_err(match e.path().to_string().as_str() {
                "." => msg,
                path => format!("{path}: {msg}"),
            })
        })?;
    gammaflow::search::clear_stop();
    let mut interrupt: Option<PyErr> = None;
    let text = py.detach(|| {
        let p: Prepared = opts.prepare().map_err(|e| PyValueError::new_err(e.to_string()))?;
        // Ctrl-C is seen by Python only when its signal handlers run: they are checked once a
        // round, and an interrupt ends the search after that round with what it found.
        let results = with_evaluator(opts.backend, |ev| {
            p.run(ev, |_| {
                if interrupt.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        interrupt = Some(e);
                        gammaflow::search::request_stop();
                    }
                }
            })
        })?;
        let doc = results_json(&p.model.name, &p.cfg, &results);
        serde_json::to_string(&doc).map_err(|e| PyRuntimeError::new_err(format!("serialising results: {e}")))
    });
    gammaflow::search::clear_stop();
    match (interrupt, text) {
        // A KeyboardInterrupt (another exception a signal handler raised is passed on as it is)
        // carries what was found as its second argument; the wrapper makes it `.results`.
        (Some(e), Ok(text)) if e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) => {
            Err(SearchInterrupted::new_err(("search interrupted: `.results` holds what it found", text)))
        }
        (Some(e), _) => Err(e),
        (None, text) => text,
    }
}

pyo3::create_exception!(
    _gammaflow,
    SearchInterrupted,
    pyo3::exceptions::PyKeyboardInterrupt,
    "Ctrl-C during a search: a KeyboardInterrupt whose second argument is the JSON of what was found."
);

/// For the rate comparison of BENCHMARKS.md: the Rust packed API on the same genomes as
/// [`evaluate_array`] gets: packs them (untimed), then times [`Evaluator::evaluate_packed`] and
/// [`from_packed`] into a `Vec<Evaluation>`. Returns (seconds evaluating, seconds packing,
/// number of valid mappings).
#[pyfunction]
fn rust_packed_seconds<'py>(
    py: Python<'py>,
    layer_json: &str,
    hw_json: &str,
    genomes: PyReadonlyArray4<'py, i64>,
    backend: &str,
) -> PyResult<(f64, f64, usize)> {
    let choice = backend_choice(backend)?;
    let layer = parse_layer(layer_json)?;
    let hw = parse_hw(hw_json)?;
    let shape = genomes.shape().to_vec();
    let (n, levels) = (shape[0], shape[1]);
    let view = genomes.as_array().as_standard_layout().into_owned();
    let g = view.as_slice().expect("standard layout");
    py.detach(|| {
        let stride = stride_for(levels);
        let problems = [PackedProblem::new(&layer, &hw)];
        let t = std::time::Instant::now();
        let mut words = Vec::with_capacity(n * stride);
        for i in 0..n {
            let genome = genome_at(g, i, levels).map_err(|e| PyValueError::new_err(format!("genomes[{i}]: {e}")))?;
            gammaflow::mapping::pack::pack_genome(&genome, 0, hw.num_pe, stride, &mut words);
        }
        let pack_secs = t.elapsed().as_secs_f64();
        let mut results = Vec::new();
        let t = std::time::Instant::now();
        with_evaluator(choice, |ev| ev.evaluate_packed(&problems, &words, stride, &mut results))?;
        let evals: Vec<Evaluation> = results
            .par_iter()
            .with_min_len(1024)
            .map(|r| from_packed(&layer, &hw, levels, r, &EnergyModel::MAESTRO))
            .collect::<Result<_, _>>()
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("evaluation failed: {e}")))?;
        let secs = t.elapsed().as_secs_f64();
        Ok((secs, pack_secs, evals.iter().filter(|e| e.valid_physical).count()))
    })
}

#[pymodule]
fn _gammaflow(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(backend_info, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_lines, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_array, m)?)?;
    m.add_function(wrap_pyfunction!(search_json, m)?)?;
    m.add("SearchInterrupted", m.py().get_type::<SearchInterrupted>())?;
    m.add_function(wrap_pyfunction!(rust_packed_seconds, m)?)?;
    m.add("MAX_LEVELS", MAX_LEVELS)?;
    Ok(())
}
