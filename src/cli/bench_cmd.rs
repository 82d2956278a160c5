//! `gammaflow bench`: evaluation throughput of the CPU (one thread, all threads) and the GPU in
//! one run, on random GAMMA-like populations, for evaluation alone and end to end.

use super::named;
use anyhow::{bail, Context};
use clap::Args;
use gammaflow::eval::{cpu_batch, BackendChoice, Evaluator, Item, Problem};
use gammaflow::hardware::Hardware;
use gammaflow::mapping::pack::{pack_genome, stride_for, PackedProblem};
use gammaflow::model::packed::evaluate_packed;
use gammaflow::search::{Space, SpaceOptions};
use gammaflow::workload::Layer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;

#[derive(Args, Debug)]
// A negative number is a flag's value (refused with the flag named), not an unknown option.
#[command(allow_negative_numbers = true)]
pub struct BenchArgs {
    /// Population sizes (accepts 1e5 notation).
    #[arg(long, value_delimiter = ',', default_value = "1e3,1e5,1e6")]
    pub sizes: Vec<String>,
    /// Cluster levels of the random mappings.
    #[arg(long, default_value_t = 2)]
    pub levels: usize,
    /// Layer as K,C,Y,X,R,S (input Y/X). Default: ResNet-18 layer 2.
    #[arg(long, default_value = "64,64,56,56,3,3")]
    pub layer: String,
    #[arg(long, default_value_t = 1024)]
    pub num_pe: i64,
    /// Draw tiles as GAMMA does (Y/X up to the input size), not within the output extents.
    #[arg(long)]
    pub gamma_compat: bool,
    /// Skip the single-thread CPU run (slow on large sizes).
    #[arg(long)]
    pub no_single_thread: bool,
    #[arg(long, value_parser = named::<BackendChoice>(), default_value = "auto")]
    pub backend: BackendChoice,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Serialize, Default, Clone)]
pub struct Row {
    pub size: usize,
    pub cpu_1t_eval: Option<f64>,
    pub cpu_all_eval: f64,
    pub cpu_all_end_to_end: f64,
    pub gpu_eval: Option<f64>,
    pub gpu_end_to_end: Option<f64>,
    pub gpu_over_cpu_eval: Option<f64>,
    pub gpu_over_cpu_end_to_end: Option<f64>,
}

fn parse_size(s: &str) -> anyhow::Result<usize> {
    let v: f64 = s.trim().parse().with_context(|| format!("--sizes: {s:?} is not a number"))?;
    if !(1.0..=1e9).contains(&v) {
        bail!("--sizes: {s} must be between 1 and 1e9");
    }
    // A population is a whole number of genomes: 1.5 is a typo, not 1.
    if v.fract() != 0.0 {
        bail!("--sizes: {s} is not a whole number of genomes");
    }
    Ok(v as usize) // exact: a whole number within 1..=1e9
}

/// Chunk of the population, generated deterministically from (seed, chunk index).
const CHUNK: usize = 1 << 20;

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    let dims: Vec<i64> = a
        .layer
        .split(',')
        .map(|x| x.trim().parse())
        .collect::<Result<_, _>>()
        .context("--layer: expected K,C,Y,X,R,S")?;
    if dims.len() != 6 {
        bail!("--layer: expected 6 numbers K,C,Y,X,R,S");
    }
    if a.levels == 0 || a.levels > 4 {
        bail!("--levels must be 1..4, got {}", a.levels);
    }
    let layer = Layer::conv(dims[0], dims[1], dims[2], dims[3], dims[4], dims[5]);
    layer.validate().map_err(|e| anyhow::anyhow!("--layer field {}: {}", e.field, e.message))?;
    if !(1..=4).contains(&a.levels) {
        bail!("--levels must be 1..4");
    }
    let hw = Hardware { num_pe: a.num_pe, ..Hardware::default() };
    hw.validate().map_err(|e| anyhow::anyhow!("--num-pe: {e}"))?;
    let sizes: Vec<usize> = a.sizes.iter().map(|s| parse_size(s)).collect::<anyhow::Result<_>>()?;
    let opts = SpaceOptions {
        slevel_min: a.levels,
        slevel_max: a.levels,
        gamma_compat: a.gamma_compat,
        ..SpaceOptions::default()
    };
    let space = Space::new(&layer, hw.num_pe, opts);
    let problems = [Problem { layer, hw }];
    let packed_problems = [PackedProblem::new(&layer, &hw)];
    let stride = stride_for(a.levels);
    let mut gpu = match a.backend {
        BackendChoice::Cpu => None,
        choice => {
            let ev = Evaluator::new(choice)?;
            if let Some(w) = &ev.fallback_reason {
                eprintln!("note: {w}");
            }
            ev.is_gpu().then_some(ev)
        }
    };
    if let Some(g) = gpu.as_mut() {
        // Compile and first-dispatch costs are paid once per process; keep them out of the rates.
        let mut rng = ChaCha8Rng::seed_from_u64(a.seed ^ 0x5EED);
        let mut w = Vec::new();
        for _ in 0..256 {
            pack_genome(&space.random_genome(&mut rng), 0, hw.num_pe, stride, &mut w);
        }
        g.gpu_packed(&packed_problems, &w, stride)?;
    }
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    eprintln!(
        "layer {:?}, {} PEs, {}-level GAMMA-like mappings; CPU: {} threads; GPU: {}",
        dims,
        hw.num_pe,
        a.levels,
        rayon::current_num_threads(),
        gpu.as_ref().map(|g| g.describe()).unwrap_or_else(|| "none".into())
    );
    let mut rows = Vec::new();
    for &n in &sizes {
        let mut row = Row { size: n, ..Row::default() };
        let (mut t1, mut tall, mut tall_e2e, mut tgpu, mut tgpu_e2e) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut done = 0;
        let mut chunk_idx = 0u64;
        while done < n {
            let m = CHUNK.min(n - done);
            let mut rng = ChaCha8Rng::seed_from_u64(a.seed.wrapping_add(chunk_idx.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
            let items: Vec<Item> =
                (0..m).map(|_| Item { problem: 0, genome: space.random_genome(&mut rng), num_pe: None }).collect();
            let mut words = Vec::with_capacity(m * stride);
            for it in &items {
                pack_genome(&it.genome, 0, hw.num_pe, stride, &mut words);
            }
            // Evaluation alone: the integer model on packed genomes (what the GPU kernel does).
            let eval_packed = || -> u64 {
                words
                    .par_chunks(stride)
                    .with_min_len(256)
                    .map(|w| evaluate_packed(&packed_problems, w).status as u64)
                    .sum()
            };
            if !a.no_single_thread {
                let t = Instant::now();
                std::hint::black_box(single.install(eval_packed));
                t1 += t.elapsed().as_secs_f64();
            }
            let t = Instant::now();
            std::hint::black_box(eval_packed());
            tall += t.elapsed().as_secs_f64();
            // End to end: genomes in, full evaluations (energy, area, validity) out.
            let t = Instant::now();
            std::hint::black_box(cpu_batch(&problems, &items).len());
            tall_e2e += t.elapsed().as_secs_f64();
            if let Some(g) = gpu.as_mut() {
                let (kernel, _) = g.gpu_packed(&packed_problems, &words, stride)?;
                tgpu += kernel;
                let t = Instant::now();
                std::hint::black_box(g.evaluate(&problems, &items).len());
                tgpu_e2e += t.elapsed().as_secs_f64();
            }
            done += m;
            chunk_idx += 1;
        }
        let rate = |t: f64| n as f64 / t.max(1e-12);
        row.cpu_1t_eval = (!a.no_single_thread).then(|| rate(t1));
        row.cpu_all_eval = rate(tall);
        row.cpu_all_end_to_end = rate(tall_e2e);
        if gpu.is_some() {
            row.gpu_eval = Some(rate(tgpu));
            row.gpu_end_to_end = Some(rate(tgpu_e2e));
            row.gpu_over_cpu_eval = Some(rate(tgpu) / rate(tall));
            row.gpu_over_cpu_end_to_end = Some(rate(tgpu_e2e) / rate(tall_e2e));
        }
        if !a.json {
            print_row(&row, rows.is_empty());
        }
        rows.push(row);
    }
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}

fn print_row(r: &Row, header: bool) {
    let f = |v: Option<f64>| v.map(|x| format!("{x:.3e}")).unwrap_or_else(|| "-".into());
    let x = |v: Option<f64>| v.map(|x| format!("{x:.2}x")).unwrap_or_else(|| "-".into());
    if header {
        table_line(["size", "cpu-1t eval", "cpu eval", "cpu e2e", "gpu eval", "gpu e2e", "gpu/cpu", "gpu/cpu"]);
        table_line(["", "evals/s", "evals/s", "evals/s", "evals/s", "evals/s", "eval", "e2e"]);
    }
    table_line([
        &r.size.to_string(),
        &f(r.cpu_1t_eval),
        &f(Some(r.cpu_all_eval)),
        &f(Some(r.cpu_all_end_to_end)),
        &f(r.gpu_eval),
        &f(r.gpu_end_to_end),
        &x(r.gpu_over_cpu_eval),
        &x(r.gpu_over_cpu_end_to_end),
    ]);
}

/// One line of the throughput table: the size, five rates and two ratios, right-aligned.
fn table_line(c: [&str; 8]) {
    outln!(
        "{:>10} | {:>11} | {:>11} | {:>11} | {:>11} | {:>11} | {:>8} | {:>8}",
        c[0],
        c[1],
        c[2],
        c[3],
        c[4],
        c[5],
        c[6],
        c[7]
    );
}
