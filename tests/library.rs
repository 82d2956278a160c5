//! The library boundary: packed populations, the streaming evaluation API, compact results with
//! accessors, and search options shared with the CLI.

use gammaflow::energy::EnergyModel;
use gammaflow::eval::{evaluate_stream, from_packed, BatchEvaluator, CpuEvaluator};
use gammaflow::hardware::Hardware;
use gammaflow::mapping::pack::{PackedProblem, PackedResult, Population};
use gammaflow::mapping::GenomeError;
use gammaflow::search::{Space, SpaceOptions};
use gammaflow::workload::Layer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn setup() -> (Layer, Hardware, Space) {
    let layer = Layer::conv(32, 48, 14, 14, 3, 3);
    let hw = Hardware { num_pe: 168, l1_size: 512, l2_size: 108_000, ..Hardware::default() };
    let space = Space::new(&layer, hw.num_pe, SpaceOptions { slevel_min: 1, slevel_max: 3, ..SpaceOptions::default() });
    (layer, hw, space)
}

#[test]
fn streamed_chunks_equal_one_batch_and_stay_within_the_chunk() {
    let (layer, hw, space) = setup();
    let problems = [PackedProblem::new(&layer, &hw)];
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let genomes: Vec<_> = (0..5_000).map(|_| space.random_genome(&mut rng)).collect();
    let mut all = Population::new(3);
    for g in &genomes {
        all.push(g, 0, hw.num_pe).unwrap();
    }
    let mut whole = Vec::new();
    CpuEvaluator.evaluate_packed(&problems, all.words(), all.stride(), &mut whole);
    assert_eq!(whole.len(), genomes.len());

    let chunk = 777;
    let mut next = 0;
    let (mut streamed, mut sizes) = (Vec::<PackedResult>::new(), Vec::new());
    let n = evaluate_stream(
        &mut CpuEvaluator,
        &problems,
        3,
        chunk,
        |pop, room| {
            assert!(pop.is_empty(), "each chunk starts from an emptied population");
            let end = (next + room).min(genomes.len());
            for g in &genomes[next..end] {
                pop.push(g, 0, hw.num_pe).unwrap();
            }
            next = end;
            next < genomes.len()
        },
        |pop, res| {
            assert_eq!(pop.len(), res.len());
            sizes.push(res.len());
            streamed.extend_from_slice(res);
        },
    );
    assert_eq!(n, genomes.len() as u64);
    assert_eq!(streamed, whole);
    assert!(sizes.iter().all(|&s| s <= chunk), "{sizes:?}");
    assert_eq!(sizes.len(), genomes.len().div_ceil(chunk));
}

#[test]
fn population_records_round_trip_and_refuse_deeper_genomes() {
    let (_, hw, space) = setup();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut pop = Population::with_capacity(2, 16);
    let mut pushed = Vec::new();
    while pushed.len() < 50 {
        let g = space.random_genome(&mut rng);
        match pop.push(&g, 7, hw.num_pe) {
            Ok(()) => pushed.push(g),
            Err(GenomeError::TooManyLevels { levels, max }) => assert_eq!((levels, max), (3, 2)),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(pop.len(), pushed.len());
    for (i, g) in pushed.iter().enumerate() {
        let (problem, num_pe, back) = pop.get(i).unwrap();
        assert_eq!((problem, num_pe), (7, hw.num_pe));
        assert_eq!(&back.levels[..], &g.levels[..]);
    }
    pop.clear();
    assert!(pop.is_empty());
}

#[test]
fn compact_result_accessors_agree_with_the_full_metrics() {
    let (layer, hw, space) = setup();
    let problems = [PackedProblem::new(&layer, &hw)];
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut pop = Population::new(3);
    let mut levels = Vec::new();
    for _ in 0..2_000 {
        let g = space.random_genome(&mut rng);
        levels.push(g.levels.len());
        pop.push(&g, 0, hw.num_pe).unwrap();
    }
    let mut res = Vec::new();
    CpuEvaluator.evaluate_packed(&problems, pop.words(), pop.stride(), &mut res);
    let mut completed = 0;
    for (r, &l) in res.iter().zip(&levels) {
        let e = from_packed(&layer, &hw, l, r, &EnergyModel::MAESTRO).unwrap();
        assert_eq!(r.completed(), e.crash.is_none(), "{r:?}");
        if let Some(m) = e.metrics {
            completed += 1;
            assert_eq!(r.runtime_cycles(), m.runtime_cycles);
            assert_eq!(r.num_macs(), m.num_macs);
            assert_eq!(i64::from(r.l1_size_req()), m.l1_size_req);
            assert_eq!(i64::from(r.l2_size_req()), m.l2_size_req);
        }
    }
    assert!(completed > 1_000, "too few completed mappings to compare: {completed}");
}
