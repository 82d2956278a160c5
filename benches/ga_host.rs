//! Host-side cost of one GA generation without evaluation: breeding a population of packed
//! records (crossover, per-locus mutation, repair, packing) and selecting the next one (keys,
//! duplicate removal, partial selection). `cargo bench --bench ga_host`; throughput is genomes
//! per second on one thread.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gammaflow::hardware::Hardware;
use gammaflow::mapping::pack::stride_for;
use gammaflow::search::engine::Cx;
use gammaflow::search::objective::Fitness;
use gammaflow::search::pool::{exact_key, Pool, Select, View};
use gammaflow::search::strategy::breed;
use gammaflow::search::{SearchConfig, Space};
use gammaflow::workload::Layer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn generation(c: &mut Criterion) {
    let layer = Layer::conv(64, 64, 56, 56, 3, 3);
    let hw = Hardware::default();
    let cfg = SearchConfig::default();
    let space = Space::new(&layer, hw.num_pe, cfg.space.clone());
    let stride = stride_for(2);
    let cx = Cx {
        cfg: &cfg,
        space: &space,
        hw: &hw,
        stride,
        bound: 1,
        remaining: u64::MAX,
        budget: u64::MAX,
        best: None,
        pareto: &[],
    };
    let n = 100_000;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut pool = Pool::new(stride);
    for _ in 0..n {
        let g = space.random_genome(&mut rng);
        pool.push(&g, hw.num_pe, Fitness { f1: rng.random_range(1.0..2.0), f2: 0.0 }, rng.random());
    }
    let n_parents = 40_000;
    let mut grp = c.benchmark_group("ga_host");
    grp.throughput(Throughput::Elements(n as u64));
    grp.sample_size(10);
    // One thread, as the target is per core.
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    // The GA's loop in place: breed from the parents at the front of the sorted pool, keep the
    // elites, select the next pool from elites and offspring (fitness is synthetic: no model).
    grp.bench_function("breed_and_select_1e5", |b| {
        let mut out = Vec::new();
        let (mut fits, mut keys) = (Vec::new(), Vec::new());
        let mut sel = Select::default();
        let mut gen = 0u64;
        pool.select_front(Pool::new(stride).view(), n, n_parents, &mut sel);
        b.iter(|| {
            one.install(|| {
                gen += 1;
                pool.truncate(n_parents);
                out.clear();
                breed(&cx, &pool, n - n / 20, &mut rng, &mut out);
                pool.truncate(n / 20);
                fits.clear();
                keys.clear();
                for (i, rec) in out.chunks_exact(stride).enumerate() {
                    let k = exact_key(rec, false);
                    fits.push(Fitness { f1: 1.0 + ((k ^ gen) % 977) as f64 + i as f64 * 1e-9, f2: 0.0 });
                    keys.push(k);
                }
                // Selected straight from the bred buffer, keeping only the parents, as the engine
                // does.
                pool.select_front(View { words: &out, fit: &fits, key: &keys }, n, n_parents, &mut sel);
                pool.len()
            })
        })
    });
    grp.finish();
}

criterion_group!(benches, generation);
criterion_main!(benches);
