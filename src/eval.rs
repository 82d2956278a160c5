//! One evaluation API for both backends: a batch of (problem, genome) items in, one
//! [`Evaluation`] per item out, in order. The GPU backend computes the integer model in WGSL; the
//! floating-point outputs (energy, area, power) are then derived on the CPU by the same code for
//! both backends, so results are identical whichever backend ran. Energy comes from an
//! [`EnergyModel`] (MAESTRO's by default), applied on the host for both backends.

pub mod cases;

use crate::energy::EnergyModel;
use crate::gpu::{GpuContext, GpuError, GpuEvaluator, GpuOptions};
use crate::hardware::Hardware;
use crate::mapping::pack::{join64, pack_genome, stride_for, PackedProblem, PackedResult, Population};
use crate::mapping::Genome;
use crate::model::packed::STATUS_INVALID;
use crate::model::{evaluate_with, finish_with, validate_input, Crash, Evaluation, InputError, RawResult, TopResult};
use crate::workload::Layer;
use rayon::prelude::*;

/// Which backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// The GPU when an adapter exists, else the CPU.
    #[default]
    Auto,
    Cpu,
    Gpu,
}

impl crate::schema::Named for BackendChoice {
    const ALL: &'static [Self] = &[BackendChoice::Auto, BackendChoice::Cpu, BackendChoice::Gpu];
    fn name(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Cpu => "cpu",
            BackendChoice::Gpu => "gpu",
        }
    }
}

/// Why evaluation could not run (a mapping the model rejects is not an error: it comes back as an
/// [`Evaluation`] that says why).
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// `BackendChoice::Gpu` and no usable adapter.
    #[error("GPU backend requested but not available: {0}")]
    GpuUnavailable(#[source] GpuError),
    /// A GPU-only call on the CPU backend.
    #[error("not on the GPU backend")]
    NotOnGpu,
    /// The GPU failed mid-run (device lost, buffer mapping failed).
    #[error(transparent)]
    Gpu(#[from] GpuError),
    /// A problem index that does not fit the packed record's 32-bit field.
    #[error("problem index {0} too large")]
    ProblemIndex(usize),
    /// The GPU returned a different number of results than genomes were sent.
    #[error("GPU returned {got} results for {sent}")]
    ResultCount { got: usize, sent: usize },
}

/// A layer on an accelerator: what a genome is evaluated against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Problem {
    pub layer: Layer,
    pub hw: Hardware,
}

/// One genome to evaluate against `problems[problem]`; `num_pe` overrides the problem's PE count
/// (co-exploration evaluates every genome on its own PE count).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub problem: usize,
    pub genome: Genome,
    pub num_pe: Option<i64>,
}

enum Backend {
    Cpu,
    Gpu(Box<GpuEvaluator>),
}

/// The batch evaluator. Keeps the GPU device, pipeline and buffers across calls.
pub struct Evaluator {
    backend: Backend,
    /// Set when the GPU was asked for (or auto) but could not be used.
    pub fallback_reason: Option<String>,
    words: Vec<u32>,
    results: Vec<PackedResult>,
    counts: BackendCounts,
}

/// How many items each backend evaluated since the evaluator was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackendCounts {
    /// Items the GPU kernel evaluated.
    pub gpu: u64,
    /// Items evaluated on the CPU (CPU backend, or outside the kernel's range, or redone).
    pub cpu: u64,
    /// Items rejected before evaluation (invalid input or problem index).
    pub rejected: u64,
}

impl Evaluator {
    /// Opens the chosen backend. `Gpu` fails if no adapter can be used; `Auto` falls back to the
    /// CPU and records why in `fallback_reason`.
    pub fn new(choice: BackendChoice) -> Result<Evaluator, EvalError> {
        Self::with_options(choice, &GpuOptions::default())
    }

    pub fn with_options(choice: BackendChoice, opts: &GpuOptions) -> Result<Evaluator, EvalError> {
        let cpu = |reason| Evaluator {
            backend: Backend::Cpu,
            fallback_reason: reason,
            words: Vec::new(),
            results: Vec::new(),
            counts: BackendCounts::default(),
        };
        match choice {
            BackendChoice::Cpu => Ok(cpu(None)),
            BackendChoice::Gpu | BackendChoice::Auto => {
                let opened = GpuContext::new(opts).and_then(|ctx| {
                    // A software rasteriser (llvmpipe, WARP, SwiftShader) is much slower than the
                    // CPU backend: `auto` only takes real GPUs; `gpu` takes whatever is there.
                    if choice == BackendChoice::Auto && ctx.info().device_type == wgpu::DeviceType::Cpu {
                        return Err(GpuError::NoAdapter(format!(
                            "only a software adapter ({}), slower than the CPU backend; --backend gpu uses it anyway",
                            ctx.adapter_info()
                        )));
                    }
                    GpuEvaluator::new(ctx)
                });
                match opened {
                    Ok(g) => Ok(Evaluator {
                        backend: Backend::Gpu(Box::new(g)),
                        fallback_reason: None,
                        words: Vec::new(),
                        results: Vec::new(),
                        counts: BackendCounts::default(),
                    }),
                    Err(e) if choice == BackendChoice::Auto => {
                        Ok(cpu(Some(format!("no usable GPU ({e}); evaluating on the CPU"))))
                    }
                    Err(e) => Err(EvalError::GpuUnavailable(e)),
                }
            }
        }
    }

    /// Items per backend so far: lets callers (and tests) see that the GPU really ran.
    pub fn backend_counts(&self) -> BackendCounts {
        self.counts
    }

    pub fn is_gpu(&self) -> bool {
        matches!(self.backend, Backend::Gpu(_))
    }

    /// A short description of the backend (adapter name on the GPU).
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Cpu => format!("cpu ({} threads)", rayon::current_num_threads()),
            Backend::Gpu(g) => format!("gpu ({})", g.adapter_info()),
        }
    }

    /// Runs the GPU on already packed genomes and returns (seconds, results). The time covers
    /// upload, compute and readback, not packing or the CPU-side float completion.
    pub fn gpu_packed(
        &mut self,
        problems: &[PackedProblem],
        words: &[u32],
        stride: usize,
    ) -> Result<(f64, &[PackedResult]), EvalError> {
        let Backend::Gpu(gpu) = &mut self.backend else {
            return Err(EvalError::NotOnGpu);
        };
        let t = std::time::Instant::now();
        gpu.evaluate(problems, words, stride, &mut self.results)?;
        Ok((t.elapsed().as_secs_f64(), &self.results))
    }

    /// Evaluates packed genomes (layout in [`crate::mapping::pack`]) into `out` (cleared first;
    /// one result per genome, in order): the search's path, with no per-genome allocation. The
    /// CPU runs [`crate::model::packed::evaluate_packed`] on every core; the GPU computes the same
    /// integers. On input the kernel does not take (values past its range) the batch is computed
    /// on the CPU; if the device fails, the evaluator moves to the CPU as [`Evaluator::evaluate`]
    /// does.
    pub fn evaluate_packed(
        &mut self,
        problems: &[PackedProblem],
        words: &[u32],
        stride: usize,
        out: &mut Vec<PackedResult>,
    ) {
        if let Backend::Gpu(gpu) = &mut self.backend {
            match gpu.evaluate(problems, words, stride, out) {
                Ok(()) => return,
                Err(GpuError::InvalidInput(_)) => {}
                Err(e) => {
                    self.fallback_reason = Some(format!("GPU failed ({e}); continuing on the CPU"));
                    self.backend = Backend::Cpu;
                }
            }
        }
        cpu_packed(problems, words, stride, out);
    }

    /// Evaluates every item; one [`Evaluation`] per item, in order. Items are independent: an
    /// item with a bad problem index or an input outside MAESTRO's range gets an invalid verdict
    /// with its reason ([`Evaluation::invalid`]), and one outside the GPU kernel's range is
    /// evaluated on the CPU on its own, so no item changes another's result or backend. If the
    /// GPU fails mid-run (device lost, timeout, a status the kernel never writes), the batch is
    /// redone on the CPU and the evaluator stays on the CPU from then on, with the reason in
    /// [`Evaluator::fallback_reason`] (and a `log` warning).
    pub fn evaluate(&mut self, problems: &[Problem], items: &[Item]) -> Vec<Evaluation> {
        self.evaluate_with(problems, items, &EnergyModel::MAESTRO)
    }

    /// [`Evaluator::evaluate`] with energy from `energy` (the table changes `energy_nJ` only).
    pub fn evaluate_with(&mut self, problems: &[Problem], items: &[Item], energy: &EnergyModel) -> Vec<Evaluation> {
        if let Backend::Gpu(gpu) = &mut self.backend {
            match gpu_batch(gpu, problems, items, energy, &mut self.words, &mut self.results) {
                Ok((r, c)) => {
                    self.counts.gpu += c.gpu;
                    self.counts.cpu += c.cpu;
                    self.counts.rejected += c.rejected;
                    return r;
                }
                Err(e) => {
                    let why = format!("GPU failed ({e}); continuing on the CPU");
                    log::warn!("{why}");
                    self.fallback_reason = Some(why);
                    self.backend = Backend::Cpu;
                }
            }
        }
        let r = cpu_batch_with(problems, items, energy);
        let rejected = r.iter().filter(|e| e.invalid.is_some()).count() as u64;
        self.counts.rejected += rejected;
        self.counts.cpu += items.len() as u64 - rejected;
        r
    }
}

/// What the search needs of an evaluator: packed genomes in ([`crate::mapping::pack`]: one
/// record of `stride` words per genome, naming its problem), one packed result per genome out,
/// in order. [`Evaluator`] implements it on either backend; a user can plug in their own (a
/// remote service, a cache, another cost model that fills the same integers) and call
/// [`crate::search::search`] with it.
pub trait BatchEvaluator {
    /// Evaluates every record of `words` into `out` (cleared first).
    fn evaluate_packed(
        &mut self,
        problems: &[PackedProblem],
        words: &[u32],
        stride: usize,
        out: &mut Vec<PackedResult>,
    );
}

impl BatchEvaluator for Evaluator {
    fn evaluate_packed(
        &mut self,
        problems: &[PackedProblem],
        words: &[u32],
        stride: usize,
        out: &mut Vec<PackedResult>,
    ) {
        Evaluator::evaluate_packed(self, problems, words, stride, out)
    }
}

/// The CPU reference as a [`BatchEvaluator`], with no GPU to open.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuEvaluator;

impl BatchEvaluator for CpuEvaluator {
    fn evaluate_packed(
        &mut self,
        problems: &[PackedProblem],
        words: &[u32],
        stride: usize,
        out: &mut Vec<PackedResult>,
    ) {
        cpu_packed(problems, words, stride, out)
    }
}

/// Evaluates a stream of genomes in chunks with bounded memory, on any [`BatchEvaluator`]: `fill`
/// appends up to `chunk` genomes to the (emptied) population it is given and returns false once
/// there are no more; `sink` receives each chunk's population and its results, in order. One
/// population and one result buffer of `chunk` records are reused throughout, so a billion
/// genomes need no more memory than one chunk (on the CPU every chunk is spread over all cores;
/// a GPU chunk is cut further under the device's binding limits). Returns the genomes evaluated.
pub fn evaluate_stream(
    ev: &mut dyn BatchEvaluator,
    problems: &[PackedProblem],
    max_levels: usize,
    chunk: usize,
    mut fill: impl FnMut(&mut Population, usize) -> bool,
    mut sink: impl FnMut(&Population, &[PackedResult]),
) -> u64 {
    let chunk = chunk.max(1);
    let mut pop = Population::with_capacity(max_levels, chunk);
    let mut results = Vec::with_capacity(chunk);
    let mut total = 0u64;
    loop {
        pop.clear();
        let more = fill(&mut pop, chunk);
        if !pop.is_empty() {
            ev.evaluate_packed(problems, pop.words(), pop.stride(), &mut results);
            total += pop.len() as u64;
            sink(&pop, &results);
        }
        if !more {
            return total;
        }
    }
}

/// CPU twin of the GPU's packed evaluation, on the rayon pool.
pub fn cpu_packed(problems: &[PackedProblem], words: &[u32], stride: usize, out: &mut Vec<PackedResult>) {
    out.clear();
    words
        .par_chunks_exact(stride)
        .with_min_len(256)
        .map(|w| crate::model::packed::evaluate_packed(problems, w))
        .collect_into_vec(out);
}

fn hw_for(p: &Problem, it: &Item) -> Hardware {
    Hardware { num_pe: it.num_pe.unwrap_or(p.hw.num_pe), ..p.hw }
}

/// One item on the CPU reference, with its problem index checked.
fn cpu_item(problems: &[Problem], it: &Item, energy: &EnergyModel) -> Evaluation {
    match problems.get(it.problem) {
        Some(p) => evaluate_with(&p.layer, &it.genome, &hw_for(p, it), energy),
        None => Evaluation::rejected(InputError::ProblemIndex { index: it.problem, len: problems.len() }, 0),
    }
}

/// CPU backend: every item on the rayon pool (MAESTRO's energy table).
pub fn cpu_batch(problems: &[Problem], items: &[Item]) -> Vec<Evaluation> {
    cpu_batch_with(problems, items, &EnergyModel::MAESTRO)
}

/// [`cpu_batch`] with energy from `energy`.
pub fn cpu_batch_with(problems: &[Problem], items: &[Item], energy: &EnergyModel) -> Vec<Evaluation> {
    items.par_iter().with_min_len(256).map(|it| cpu_item(problems, it, energy)).collect()
}

/// Where one item of a GPU batch is evaluated.
enum Route {
    Gpu,
    Cpu,
}

/// The kernel's range for an item whose inputs already passed the CPU's check: values up to
/// [`crate::gpu::MAX_GPU_VALUE`], one spatial dim per level, a cluster product within 64 bits.
fn route(p: &Problem, it: &Item) -> Route {
    let max = i64::from(crate::gpu::MAX_GPU_VALUE);
    let in_range = |v: i64| (1..=max).contains(&v);
    let hw = hw_for(p, it);
    let levels = &it.genome.levels;
    let genes_ok = levels.iter().all(|l| l.sp2.is_none() && in_range(l.size) && l.order.iter().all(|g| in_range(g.1)));
    // A product above the PEs is the kernel's crash verdict; one past 64 bits would wrap there.
    let product = levels.iter().skip(1).try_fold(1u64, |a, l| a.checked_mul(l.size.unsigned_abs()));
    let problem_ok = PackedProblem::try_new(&p.layer, &hw).is_ok();
    if genes_ok && problem_ok && in_range(hw.num_pe) && product.is_some() {
        Route::Gpu
    } else {
        Route::Cpu
    }
}

fn gpu_batch(
    gpu: &mut GpuEvaluator,
    problems: &[Problem],
    items: &[Item],
    energy: &EnergyModel,
    words: &mut Vec<u32>,
    results: &mut Vec<PackedResult>,
) -> Result<(Vec<Evaluation>, BackendCounts), EvalError> {
    // Validate every item first, exactly as the CPU does: rejected items never reach a backend,
    // so their verdicts are the same whichever backend runs.
    let mut out: Vec<Option<Evaluation>> = vec![None; items.len()];
    let mut on_gpu = Vec::with_capacity(items.len());
    let mut on_cpu = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let Some(p) = problems.get(it.problem) else {
            out[i] = Some(cpu_item(problems, it, energy));
            continue;
        };
        let hw = hw_for(p, it);
        if let Err(e) = validate_input(&p.layer, &it.genome.levels, &hw) {
            out[i] = Some(Evaluation::rejected(e, p.layer.shape().true_macs()));
            continue;
        }
        match route(p, it) {
            Route::Gpu => on_gpu.push(i),
            Route::Cpu => on_cpu.push(i),
        }
    }
    if !on_gpu.is_empty() {
        let packed: Vec<PackedProblem> = problems.iter().map(|p| PackedProblem::new(&p.layer, &p.hw)).collect();
        let max_levels = on_gpu.iter().map(|&i| items[i].genome.num_levels()).max().unwrap_or(1);
        let stride = stride_for(max_levels);
        words.clear();
        words.reserve(on_gpu.len() * stride);
        for &i in &on_gpu {
            let it = &items[i];
            let p = &problems[it.problem];
            let pi = u32::try_from(it.problem).map_err(|_| EvalError::ProblemIndex(it.problem))?;
            pack_genome(&it.genome, pi, hw_for(p, it).num_pe, stride, words);
        }
        gpu.evaluate(&packed, words, stride, results)?;
        if results.len() != on_gpu.len() {
            return Err(EvalError::ResultCount { got: results.len(), sent: on_gpu.len() });
        }
        let done: Vec<Result<Evaluation, GpuError>> = on_gpu
            .par_iter()
            .zip(results.par_iter())
            .with_min_len(256)
            .map(|(&i, r)| {
                let it = &items[i];
                let p = &problems[it.problem];
                from_packed(&p.layer, &hw_for(p, it), it.genome.num_levels(), r, energy)
            })
            .collect();
        for (&i, e) in on_gpu.iter().zip(done) {
            out[i] = Some(e?);
        }
    }
    let cpu: Vec<Evaluation> = on_cpu.par_iter().map(|&i| cpu_item(problems, &items[i], energy)).collect();
    for (&i, e) in on_cpu.iter().zip(cpu) {
        out[i] = Some(e);
    }
    let rejected = (items.len() - on_gpu.len() - on_cpu.len()) as u64;
    let counts = BackendCounts { gpu: on_gpu.len() as u64, cpu: on_cpu.len() as u64, rejected };
    Ok((out.into_iter().map(|e| e.expect("every item answered")).collect(), counts))
}

/// Completes a packed integer result into an [`Evaluation`] (energy from `energy`, area,
/// validity). A status that is neither 0, a crash code nor [`STATUS_INVALID`] is an error, not a
/// verdict.
pub fn from_packed(
    layer: &Layer,
    hw: &Hardware,
    num_levels: usize,
    r: &PackedResult,
    energy: &EnergyModel,
) -> Result<Evaluation, GpuError> {
    if r.status == STATUS_INVALID {
        return Ok(Evaluation::rejected(InputError::Packed, layer.shape().true_macs()));
    }
    if r.status != 0 {
        let c = Crash::from_code(r.status).ok_or(GpuError::BadStatus { genome: 0, status: r.status })?;
        return Ok(Evaluation::crashed(c, layer.shape().true_macs()));
    }
    let raw = RawResult {
        top: TopResult {
            runtime: join64(r.runtime),
            macs: join64(r.macs),
            l2_read_i: join64(r.l2_read_i),
            l2_read_w: join64(r.l2_read_w),
            l2_write_o: join64(r.l2_write_o),
            ..TopResult::default()
        },
        l1: i64::from(r.l1),
        l2: i64::from(r.l2),
    };
    Ok(finish_with(layer, hw, &raw, num_levels, energy))
}
