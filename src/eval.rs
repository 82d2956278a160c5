//! One evaluation API for both backends: a batch of (problem, genome) items in, one
//! [`Evaluation`] per item out, in order. The GPU backend computes the integer model in WGSL; the
//! floating-point outputs (energy, area, power) are then derived on the CPU by the same code for
//! both backends, so results are identical whichever backend ran.

use crate::gpu::{GpuContext, GpuError, GpuEvaluator, GpuOptions};
use crate::hardware::Hardware;
use crate::mapping::pack::{join64, pack_genome, stride_for, PackedProblem, PackedResult};
use crate::mapping::Genome;
use crate::model::{evaluate, finish, Crash, Evaluation, RawResult, TopResult};
use crate::workload::Layer;
use rayon::prelude::*;

/// Which backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// The GPU when an adapter exists, else the CPU.
    #[default]
    Auto,
    Cpu,
    Gpu,
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
}

impl Evaluator {
    /// Opens the chosen backend. `Gpu` fails if no adapter can be used; `Auto` falls back to the
    /// CPU and records why in `fallback_reason`.
    pub fn new(choice: BackendChoice) -> anyhow::Result<Evaluator> {
        Self::with_options(choice, &GpuOptions::default())
    }

    pub fn with_options(choice: BackendChoice, opts: &GpuOptions) -> anyhow::Result<Evaluator> {
        let cpu = |reason| Evaluator {
            backend: Backend::Cpu,
            fallback_reason: reason,
            words: Vec::new(),
            results: Vec::new(),
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
                    }),
                    Err(e) if choice == BackendChoice::Auto => {
                        Ok(cpu(Some(format!("no usable GPU ({e}); evaluating on the CPU"))))
                    }
                    Err(e) => Err(anyhow::anyhow!("GPU backend requested but not available: {e}")),
                }
            }
        }
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
    ) -> anyhow::Result<(f64, usize)> {
        let Backend::Gpu(gpu) = &mut self.backend else {
            anyhow::bail!("not on the GPU backend");
        };
        let t = std::time::Instant::now();
        gpu.evaluate(problems, words, stride, &mut self.results)?;
        Ok((t.elapsed().as_secs_f64(), self.results.len()))
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

    /// Evaluates every item. If the GPU fails mid-run (device lost), the batch is redone on the
    /// CPU and the evaluator stays on the CPU from then on, with the reason recorded.
    pub fn evaluate(&mut self, problems: &[Problem], items: &[Item]) -> Vec<Evaluation> {
        if let Backend::Gpu(gpu) = &mut self.backend {
            match gpu_batch(gpu, problems, items, &mut self.words, &mut self.results) {
                Ok(r) => return r,
                // Values the kernel does not take (beyond its 2^24 range) are computed on the
                // CPU; the device stays in use for later batches.
                Err(e) if matches!(e.downcast_ref::<GpuError>(), Some(GpuError::InvalidInput(_))) => {
                    return cpu_batch(problems, items);
                }
                Err(e) => {
                    self.fallback_reason = Some(format!("GPU failed ({e}); continuing on the CPU"));
                    eprintln!("warning: {}", self.fallback_reason.as_deref().unwrap_or_default());
                    self.backend = Backend::Cpu;
                }
            }
        }
        cpu_batch(problems, items)
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

/// CPU backend: every item on the rayon pool.
pub fn cpu_batch(problems: &[Problem], items: &[Item]) -> Vec<Evaluation> {
    items
        .par_iter()
        .with_min_len(256)
        .map(|it| {
            let p = &problems[it.problem];
            evaluate(&p.layer, &it.genome, &hw_for(p, it))
        })
        .collect()
}

fn gpu_batch(
    gpu: &mut GpuEvaluator,
    problems: &[Problem],
    items: &[Item],
    words: &mut Vec<u32>,
    results: &mut Vec<PackedResult>,
) -> anyhow::Result<Vec<Evaluation>> {
    // Packing keeps 32 bits: anything beyond the kernel's range is evaluated on the CPU instead.
    let in_range = |v: i64| (1..=crate::gpu::MAX_GPU_VALUE as i64).contains(&v);
    for it in items {
        let pe = hw_for(&problems[it.problem], it).num_pe;
        let genes_ok =
            it.genome.levels.iter().all(|l| l.order.iter().all(|g| in_range(g.1)) && (l.size <= 0 || in_range(l.size)));
        if !in_range(pe) || !genes_ok {
            return Err(GpuError::InvalidInput(format!(
                "genome outside the kernel's 1..=2^24 range: {}",
                it.genome.describe()
            ))
            .into());
        }
    }
    let packed: Vec<PackedProblem> = problems.iter().map(|p| PackedProblem::new(&p.layer, &p.hw)).collect();
    let max_levels = items.iter().map(|i| i.genome.num_levels()).max().unwrap_or(1);
    let stride = stride_for(max_levels);
    words.clear();
    words.reserve(items.len() * stride);
    for it in items {
        let p = &problems[it.problem];
        pack_genome(&it.genome, it.problem as u32, hw_for(p, it).num_pe, stride, words);
    }
    gpu.evaluate(&packed, words, stride, results)?;
    Ok(items
        .par_iter()
        .zip(results.par_iter())
        .with_min_len(256)
        .map(|(it, r)| {
            let p = &problems[it.problem];
            from_packed(&p.layer, &hw_for(p, it), it.genome.num_levels(), r)
        })
        .collect())
}

/// Completes a packed integer result into an [`Evaluation`] (energy, area, validity).
pub fn from_packed(layer: &Layer, hw: &Hardware, num_levels: usize, r: &PackedResult) -> Evaluation {
    if r.status != 0 {
        let c = Crash::from_code(r.status).unwrap_or(Crash::OccurrenceWrap);
        return Evaluation::crashed(c, layer.shape().true_macs());
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
        l1: r.l1 as i64,
        l2: r.l2 as i64,
    };
    finish(layer, hw, &raw, num_levels)
}
