//! Criterion benchmarks of evaluation throughput (regression tracking): the CPU model on one
//! thread, the CPU batch on all threads and, when an adapter exists, the GPU batch, all on
//! GAMMA-like 2-level mappings of ResNet-18 layer 2 (K=64 C=64 Y=X=56 R=S=3) on 1024 PEs.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use gammaflow::eval::{cpu_batch, BackendChoice, Evaluator, Item, Problem};
use gammaflow::hardware::Hardware;
use gammaflow::model::evaluate;
use gammaflow::search::{Space, SpaceOptions};
use gammaflow::workload::Layer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

fn population(n: usize, gamma_compat: bool) -> (Problem, Vec<Item>) {
    let layer = Layer::conv(64, 64, 56, 56, 3, 3);
    let hw = Hardware::default();
    let space = Space::new(&layer, hw.num_pe, SpaceOptions { gamma_compat, ..SpaceOptions::default() });
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let items = (0..n).map(|_| Item { problem: 0, genome: space.random_genome(&mut rng), num_pe: None }).collect();
    (Problem { layer, hw }, items)
}

fn bench(c: &mut Criterion) {
    const N: usize = 1 << 14;
    let mut g = c.benchmark_group("resnet18_l2_2level");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    for compat in [false, true] {
        let (p, items) = population(N, compat);
        let tag = if compat { "gamma_compat" } else { "sane" };
        g.bench_function(format!("cpu_1thread_{tag}"), |b| {
            b.iter(|| {
                let mut valid = 0usize;
                for it in &items {
                    valid += evaluate(&p.layer, &it.genome, &p.hw).valid as usize;
                }
                black_box(valid)
            })
        });
        let problems = [p];
        g.bench_function(format!("cpu_all_threads_{tag}"), |b| {
            b.iter(|| black_box(cpu_batch(&problems, &items).len()))
        });
        match Evaluator::new(BackendChoice::Gpu) {
            Ok(mut gpu) => {
                g.bench_function(format!("gpu_end_to_end_{tag}"), |b| {
                    b.iter_batched(|| (), |_| black_box(gpu.evaluate(&problems, &items).len()), BatchSize::SmallInput)
                });
            }
            Err(e) => eprintln!("skipping GPU benchmark: {e}"),
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
