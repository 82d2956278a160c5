//! Single-thread throughput of the packed CPU evaluation path, with a checksum of every result
//! word: run it before and after a change to the model, and the checksums must match.
//!
//! `cargo run --release --example prof_eval -- LEVELS REPS` (defaults 2 and 10): 200,000 random
//! GAMMA-like mappings of ResNet-18 layer 2 on 1024 PEs; prints the best of REPS passes.

use gammaflow::hardware::Hardware;
use gammaflow::mapping::pack::{pack_genome, stride_for, PackedProblem};
use gammaflow::model::packed::evaluate_packed;
use gammaflow::search::{Space, SpaceOptions};
use gammaflow::workload::Layer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

fn main() {
    let layer = Layer::conv(64, 64, 56, 56, 3, 3);
    let hw = Hardware::default();
    let arg = |i: usize, default: usize, what: &str| {
        std::env::args().nth(i).map_or(default, |s| s.parse().unwrap_or_else(|_| panic!("{what}: not a count: {s:?}")))
    };
    let (levels, reps) = (arg(1, 2, "LEVELS").clamp(1, 4), arg(2, 10, "REPS").max(1));
    let space = Space::new(
        &layer,
        hw.num_pe,
        // Uniform cluster draws, as when the checksum was first recorded.
        SpaceOptions { slevel_min: levels, slevel_max: levels, factor_clusters: false, ..SpaceOptions::default() },
    );
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let stride = stride_for(levels);
    let n = 200_000;
    let mut words = Vec::new();
    for _ in 0..n {
        pack_genome(&space.random_genome(&mut rng), 0, hw.num_pe, stride, &mut words);
    }
    let pp = [PackedProblem::new(&layer, &hw)];
    let mut best = f64::MAX;
    let mut chk = 0xcbf29ce484222325u64;
    for rep in 0..reps {
        let t = Instant::now();
        for w in words.chunks(stride) {
            let r = evaluate_packed(&pp, w);
            if rep == 0 {
                for &b in bytemuck::bytes_of(&r) {
                    chk = (chk ^ b as u64).wrapping_mul(0x100000001b3);
                }
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{:.3e} evals/s (best of {reps}), checksum {chk}", n as f64 / best);
}
