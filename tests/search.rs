//! The GA: determinism, every reported mapping valid and inside its space, and the known optimum
//! found on layers small enough to enumerate.

use gammaflow::eval::{BackendChoice, Evaluator};
use gammaflow::hardware::Hardware;
use gammaflow::mapping::{Dim, Genome, Level};
use gammaflow::model::evaluate;
use gammaflow::search::{search, Objective, SearchConfig, Space, SpaceOptions, Strategy};
use gammaflow::workload::Layer;

fn cpu() -> Evaluator {
    Evaluator::new(BackendChoice::Cpu).unwrap()
}

fn run(layers: &[Layer], hw: Hardware, cfg: &SearchConfig) -> Vec<gammaflow::search::LayerResult> {
    let tasks: Vec<_> = layers.iter().enumerate().map(|(i, l)| (i, *l, hw)).collect();
    search(&tasks, cfg, &mut cpu(), |_| {})
}

#[test]
fn same_seed_same_result_and_seed_matters() {
    let layers = [Layer::conv(64, 64, 56, 56, 3, 3), Layer::conv(32, 16, 14, 14, 1, 1)];
    let cfg = SearchConfig { num_pop: 30, epochs: 15, seed: 7, ..SearchConfig::default() };
    let a = run(&layers, Hardware::default(), &cfg);
    let b = run(&layers, Hardware::default(), &cfg);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.best.as_ref().unwrap().genome, y.best.as_ref().unwrap().genome);
        assert_eq!(x.history, y.history);
        assert_eq!(x.pareto.len(), y.pareto.len());
    }
    // A layer's search does not depend on which other layers run beside it.
    let alone = run(&layers[..1], Hardware::default(), &cfg);
    assert_eq!(alone[0].best.as_ref().unwrap().genome, a[0].best.as_ref().unwrap().genome);
    let other = run(&layers, Hardware::default(), &SearchConfig { seed: 8, ..cfg.clone() });
    let differs = other.iter().zip(&a).any(|(x, y)| x.history != y.history);
    assert!(differs, "a different seed should change the search");
}

#[test]
fn reported_mappings_are_valid_and_inside_the_space() {
    let hw = Hardware { num_pe: 168, l1_size: 512, l2_size: 108000, noc_bw: 81920000, offchip_bw: -1 };
    let layers = [
        Layer::conv(64, 3, 32, 32, 3, 3),
        Layer::new(1, 32, 18, 18, 3, 3, gammaflow::workload::LayerKind::DsConv),
        Layer::new(128, 256, 1, 1, 1, 1, gammaflow::workload::LayerKind::Fc),
    ];
    for opts in [
        SpaceOptions::default(),
        SpaceOptions { slevel_min: 1, slevel_max: 3, par_rs: true, ..SpaceOptions::default() },
        SpaceOptions { factor_tiles: true, fixed_cluster: Some(4), ..SpaceOptions::default() },
        SpaceOptions { gamma_compat: true, rs_full: false, ..SpaceOptions::default() },
    ] {
        let cfg = SearchConfig {
            num_pop: 40,
            epochs: 12,
            seed: 3,
            space: opts.clone(),
            fitness2: Some(Objective::Energy),
            ..SearchConfig::default()
        };
        for r in run(&layers, hw, &cfg) {
            let space = Space::new(&r.layer, hw.num_pe, opts.clone());
            let best = r.best.as_ref().unwrap_or_else(|| panic!("layer {} found nothing with {opts:?}", r.index));
            for c in std::iter::once(best).chain(r.pareto.iter()) {
                assert!(space.contains(&c.genome), "{} outside the space {opts:?}", c.genome.describe());
                let again = evaluate(&r.layer, &c.genome, &hw);
                assert!(again.valid_physical, "{} reported but not physically valid", c.genome.describe());
                assert_eq!(again, c.eval);
                let m = again.metrics.unwrap();
                assert!(m.l1_size_req <= 512 && m.l2_size_req <= 108000);
                assert_eq!(m.num_macs, r.layer.shape().true_macs());
                if opts.factor_tiles {
                    for lv in &c.genome.levels {
                        for (d, t) in lv.order {
                            assert_eq!(space.bound[d.index()] % t, 0, "tile {t} of {d} is not a factor");
                        }
                    }
                }
                if opts.rs_full {
                    for lv in &c.genome.levels {
                        assert_eq!(lv.tile(Dim::R), r.layer.shape().dims[4]);
                        assert_eq!(lv.tile(Dim::S), r.layer.shape().dims[5]);
                    }
                }
            }
            // The Pareto archive holds no dominated pair.
            for x in &r.pareto {
                for y in &r.pareto {
                    assert!(!x.fit.dominates(&y.fit));
                }
            }
        }
    }
}

/// Every 1-level genome of the space (parallel dim × tiles; loop order fixed, since at default
/// bandwidths runtime does not depend on it): the exhaustive optimum of latency.
fn exhaustive_best_latency(layer: &Layer, hw: &Hardware) -> i64 {
    let space = Space::new(layer, hw.num_pe, SpaceOptions { slevel_min: 1, slevel_max: 1, ..SpaceOptions::default() });
    let b = space.bound;
    let mut best = i64::MAX;
    for par in &Dim::ALL[..4] {
        for k in 1..=b[0] {
            for c in 1..=b[1] {
                for y in 1..=b[2] {
                    for x in 1..=b[3] {
                        let t = [k, c, y, x, b[4], b[5]];
                        let g = Genome {
                            levels: vec![Level {
                                par: *par,
                                size: hw.num_pe,
                                order: Dim::ALL.map(|d| (d, t[d.index()])),
                                sp2: None,
                            }]
                            .into(),
                        };
                        let e = evaluate(layer, &g, hw);
                        if e.valid_physical {
                            best = best.min(e.metrics.unwrap().runtime_cycles);
                        }
                    }
                }
            }
        }
    }
    best
}

#[test]
fn finds_the_exhaustive_optimum_on_small_layers() {
    let cases = [
        (Layer::conv(6, 4, 6, 6, 3, 3), Hardware { num_pe: 4, ..Hardware::default() }),
        (Layer::conv(8, 3, 7, 5, 1, 1), Hardware { num_pe: 6, ..Hardware::default() }),
        (Layer::conv(5, 6, 5, 5, 2, 2), Hardware { num_pe: 7, l1_size: 60, ..Hardware::default() }),
    ];
    for (layer, hw) in cases {
        let want = exhaustive_best_latency(&layer, &hw);
        let cfg = SearchConfig {
            num_pop: 60,
            epochs: 40,
            seed: 1,
            fitness2: None,
            space: SpaceOptions { slevel_min: 1, slevel_max: 1, ..SpaceOptions::default() },
            ..SearchConfig::default()
        };
        let r = &run(&[layer], hw, &cfg)[0];
        let got = r.best.as_ref().unwrap().eval.metrics.unwrap().runtime_cycles;
        assert_eq!(got, want, "{layer:?} on {hw:?}");
    }
}

#[test]
fn resnet18_layer2_reaches_the_compute_bound() {
    // GAMMA's budget (100 x 100) on ResNet-18 layer 2, 1024 PEs: the GA is stochastic, so the
    // claim is about the typical run: the median of seven seeds within 0.1% of MACs / PEs and
    // every run within 1%.
    let layer = Layer::conv(64, 64, 56, 56, 3, 3);
    let hw = Hardware::default();
    let bound = layer.shape().true_macs() as f64 / hw.num_pe as f64;
    let mut got: Vec<f64> = (0..7)
        .map(|seed| {
            let r = &run(&[layer], hw, &SearchConfig { seed, ..SearchConfig::default() })[0];
            r.best.as_ref().unwrap().eval.metrics.unwrap().runtime_cycles as f64
        })
        .collect();
    got.sort_by(f64::total_cmp);
    assert!(got[0] >= bound, "runtime below the compute bound is impossible");
    assert!(got[3] <= bound * 1.001, "median best runtime {} not within 0.1% of the bound {bound}: {got:?}", got[3]);
    assert!(got[6] <= bound * 1.01, "worst run {} not within 1%: {got:?}", got[6]);
}

#[test]
fn reports_when_nothing_is_valid() {
    // An L1 cap of 1 element admits no mapping at all.
    let hw = Hardware { num_pe: 16, l1_size: 1, ..Hardware::default() };
    let cfg = SearchConfig { num_pop: 10, epochs: 3, ..SearchConfig::default() };
    let r = &run(&[Layer::conv(8, 8, 8, 8, 3, 3)], hw, &cfg)[0];
    assert!(r.best.is_none() && r.pareto.is_empty());
    assert_eq!(r.evaluations, 30, "restarts from fresh genomes each generation");
}

#[test]
fn evaluation_budget_stops_the_search() {
    let cfg = SearchConfig { num_pop: 50, epochs: 100, max_evals: Some(200), ..SearchConfig::default() };
    let r = &run(&[Layer::conv(16, 16, 16, 16, 3, 3)], Hardware::default(), &cfg)[0];
    assert!(r.evaluations >= 200 && r.evaluations < 300, "{}", r.evaluations);
}

/// Every 2-level mapping of a tiny 1x1 layer with the loop order fixed (order does not change
/// runtime at unlimited bandwidth): (number of mappings, best runtime).
fn exhaustive_two_level(layer: &Layer, hw: &Hardware) -> (u64, i64) {
    let space = Space::new(layer, hw.num_pe, SpaceOptions::default());
    let b = space.bound;
    let (mut count, mut best) = (0u64, i64::MAX);
    let dims = [Dim::K, Dim::C, Dim::Y, Dim::X, Dim::R, Dim::S];
    for p0 in &dims[..4] {
        for p1 in &dims[..4] {
            for t0 in 0..(b[0] * b[1] * b[2] * b[3]) {
                let top = [
                    t0 % b[0] + 1,
                    t0 / b[0] % b[1] + 1,
                    t0 / (b[0] * b[1]) % b[2] + 1,
                    t0 / (b[0] * b[1] * b[2]) + 1,
                    b[4],
                    b[5],
                ];
                let inner_n = top[0] * top[1] * top[2] * top[3];
                for t1 in 0..inner_n {
                    let inner = [
                        t1 % top[0] + 1,
                        t1 / top[0] % top[1] + 1,
                        t1 / (top[0] * top[1]) % top[2] + 1,
                        t1 / (top[0] * top[1] * top[2]) + 1,
                        b[4],
                        b[5],
                    ];
                    for z in 1..=top[p1.index()].min(hw.num_pe) {
                        count += 1;
                        let g = Genome {
                            levels: vec![
                                Level::new(*p0, hw.num_pe, Dim::ALL.map(|d| (d, top[d.index()]))),
                                Level::new(*p1, z, Dim::ALL.map(|d| (d, inner[d.index()]))),
                            ]
                            .into(),
                        };
                        let e = evaluate(layer, &g, hw);
                        if e.valid_physical {
                            best = best.min(e.metrics.unwrap().runtime_cycles);
                        }
                    }
                }
            }
        }
    }
    (count, best)
}

#[test]
fn default_strategy_finds_the_two_level_optimum() {
    // Small enough to enumerate (orders aside), large enough that the budget covers little of it.
    let layer = Layer::conv(6, 5, 4, 3, 1, 1);
    let hw = Hardware { num_pe: 7, ..Hardware::default() };
    let (count, want) = exhaustive_two_level(&layer, &hw);
    let budget = 20_000;
    assert!(count > 10 * budget, "the space ({count} mappings) should dwarf the budget");
    for seed in 0..5 {
        let cfg = SearchConfig { seed, max_evals: Some(budget), epochs: 0, fitness2: None, ..SearchConfig::default() };
        let r = &run(&[layer], hw, &cfg)[0];
        let got = r.best.as_ref().unwrap().eval.metrics.unwrap().runtime_cycles;
        assert_eq!(got, want, "seed {seed}: {} evaluations", r.evaluations);
        assert!(r.evaluations <= budget);
    }
}

#[test]
fn budget_is_kept_and_a_layer_at_its_bound_stops_early() {
    // 64 x 64 x 16 x 16 on 64 PEs: the bound is reachable (K split over the PEs).
    let layer = Layer::conv(64, 64, 16, 16, 1, 1);
    let hw = Hardware { num_pe: 64, ..Hardware::default() };
    for strategy in [Strategy::Islands, Strategy::Gamma, Strategy::Random] {
        let cfg = SearchConfig { strategy, num_pop: 40, epochs: 0, max_evals: Some(3000), ..SearchConfig::default() };
        let r = &run(&[layer], hw, &cfg)[0];
        assert!(r.evaluations <= 3000, "{strategy:?}: {}", r.evaluations);
        assert_eq!(r.bound_cycles, 64 * 64 * 16 * 16 / 64);
        if strategy != Strategy::Islands {
            assert_eq!(r.evaluations, 3000, "{strategy:?} spends its budget");
        }
    }
    // MobileNet-V2 layer 8 (depth-wise) on GAMMA's example accelerator reaches ceil(MACs / PEs).
    let layer = Layer::new(1, 144, 56, 56, 3, 3, gammaflow::workload::LayerKind::DsConv);
    let hw = Hardware { num_pe: 168, l1_size: 512, l2_size: 108000, noc_bw: 81920000, offchip_bw: -1 };
    let cfg = SearchConfig {
        max_evals: Some(400_000),
        epochs: 0,
        fitness2: Some(Objective::Energy),
        ..SearchConfig::default()
    };
    let r = &run(&[layer], hw, &cfg)[0];
    assert_eq!(r.gap_to_bound(), Some(0.0));
    assert!(r.evaluations < 400_000, "at the bound the search stops after its order phase: {}", r.evaluations);
}

#[test]
fn tile_mutation_rate_is_per_locus() {
    use gammaflow::search::operators::mutate_tiles;
    use rand::SeedableRng;
    let layer = Layer::conv(1024, 1024, 226, 226, 3, 3);
    let space = Space::new(&layer, 1 << 20, SpaceOptions { divisor_bias: 0.0, ..SpaceOptions::default() });
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let (mut changed, mut single) = (0, 0);
    let n = 4000;
    for _ in 0..n {
        let g = space.random_genome(&mut rng);
        let mut m = g;
        mutate_tiles(&mut m, &space, 3, 0.53, &mut rng);
        let diff: usize = g
            .levels
            .iter()
            .zip(m.levels.iter())
            .map(|(a, b)| {
                (a.par != b.par || a.size != b.size) as usize
                    + a.order.iter().zip(&b.order).filter(|(x, y)| x != y).count()
            })
            .sum();
        changed += (diff > 0) as usize;
        single += (diff == 1) as usize;
    }
    // Per locus: 1 - 0.47^3 = 0.90 of the calls change something, 3 * 0.53 * 0.47^2 = 0.35
    // exactly one gene (all-or-nothing at 0.53 would give 0.53 and ~0).
    let (c, s) = (changed as f64 / n as f64, single as f64 / n as f64);
    assert!((0.8..0.95).contains(&c), "share of calls changing a gene: {c}");
    assert!((0.25..0.45).contains(&s), "share changing exactly one gene: {s}");
}

#[test]
fn cluster_sizes_are_drawn_as_factors_of_the_parent_tile() {
    use rand::SeedableRng;
    let layer = Layer::conv(96, 60, 30, 30, 3, 3);
    let space = Space::new(&layer, 168, SpaceOptions { slevel_min: 3, slevel_max: 3, ..SpaceOptions::default() });
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut nontrivial = 0;
    for _ in 0..2000 {
        let g = space.random_genome(&mut rng);
        for li in 1..g.levels.len() {
            let m = g.levels[li - 1].tile(g.levels[li].par).min(168);
            let z = g.levels[li].size;
            assert_eq!(m % z, 0, "cluster {z} does not divide min(parent tile, PEs) = {m}: {}", g.describe());
            nontrivial += (z > 1) as usize;
        }
    }
    assert!(nontrivial > 500, "factor draws should not collapse to 1 ({nontrivial})");
}

#[test]
fn islands_beat_random_search_at_equal_budget() {
    let layers =
        [Layer::conv(128, 64, 30, 30, 3, 3), Layer::conv(96, 32, 58, 58, 3, 3), Layer::conv(512, 256, 9, 9, 1, 1)];
    let hw = Hardware { num_pe: 168, l1_size: 512, l2_size: 108000, noc_bw: 81920000, offchip_bw: -1 };
    let gap = |strategy| {
        let mut total = 0.0;
        for seed in 0..3 {
            let cfg = SearchConfig { strategy, seed, epochs: 0, max_evals: Some(10_000), ..SearchConfig::default() };
            total += run(&layers, hw, &cfg).iter().map(|r| r.gap_to_bound().unwrap()).sum::<f64>();
        }
        total
    };
    let (isl, rnd) = (gap(Strategy::Islands), gap(Strategy::Random));
    assert!(isl < rnd, "islands {isl} vs random {rnd} (summed gaps to the bound)");
}

/// `f1_tolerance`: the reported mapping is the lowest second cost among the archived mappings
/// within the tolerance of the fastest, and on a layer whose front is dense near the best it is
/// not the fastest one (the option does something).
#[test]
fn f1_tolerance_trades_a_little_latency_for_energy() {
    let hw = Hardware { num_pe: 168, l1_size: 512, l2_size: 108000, noc_bw: 81920000, offchip_bw: -1 };
    let layers = [gammaflow::workload::builtin::resolve_model("vgg16").unwrap().layers[2]];
    let tol = 1e-2;
    let mut traded = 0;
    for seed in 0..3 {
        let cfg = SearchConfig {
            fitness1: Objective::Latency,
            fitness2: Some(Objective::Energy),
            num_pop: 48,
            epochs: 0,
            max_evals: Some(20_000),
            seed,
            f1_tolerance: Some(tol),
            ..SearchConfig::default()
        };
        let r = &run(&layers, hw, &cfg)[0];
        let best = r.best.as_ref().expect("a valid mapping");
        let fastest = &r.pareto[0];
        assert!(best.fit.f1 <= fastest.fit.f1 * (1.0 + tol), "{} vs {}", best.fit.f1, fastest.fit.f1);
        for c in r.pareto.iter().filter(|c| c.fit.f1 <= fastest.fit.f1 * (1.0 + tol)) {
            assert!(best.fit.f2 <= c.fit.f2, "an archived mapping in the band has less energy");
        }
        let m = best.eval.metrics.unwrap();
        assert_eq!(best.fit.f1, m.runtime_cycles as f64, "the reported fitness is the mapping's own");
        if best.fit.f1 > fastest.fit.f1 {
            assert!(best.fit.f2 < fastest.fit.f2);
            traded += 1;
        }
    }
    assert!(traded > 0, "no seed traded latency for energy within 1%");
}

/// Both bounds hold for what the search reports, and the parallelism bound is the tighter one.
#[test]
fn reported_runtimes_respect_both_bounds() {
    let model = gammaflow::workload::builtin::resolve_model("resnet18").unwrap();
    // One cluster level spreads one dim: ResNet-18's extents cannot fill 1024 PEs that way.
    let hw = Hardware { num_pe: 1024, ..Hardware::default() };
    let space = SpaceOptions { slevel_min: 1, slevel_max: 1, ..SpaceOptions::default() };
    let cfg =
        SearchConfig { num_pop: 48, epochs: 0, max_evals: Some(5_000), seed: 3, space, ..SearchConfig::default() };
    let mut tighter = 0;
    for r in run(&model.layers, hw, &cfg) {
        let rt = r.best.as_ref().expect("valid").eval.metrics.unwrap().runtime_cycles;
        assert!(r.parallel_bound_cycles >= r.bound_cycles);
        assert!(rt >= r.parallel_bound_cycles, "layer {}: {rt} < {}", r.index, r.parallel_bound_cycles);
        tighter += (r.parallel_bound_cycles > r.bound_cycles) as usize;
    }
    assert!(tighter > 0, "one level cannot use 1024 PEs on any ResNet-18 layer, yet no bound was tighter");
}

/// The search runs on any [`BatchEvaluator`]: the CPU reference plugged in directly, or a
/// user's wrapper around it, gives the same result as the library's evaluator, and the wrapper
/// sees every evaluation the search counts.
#[test]
fn the_search_takes_any_batch_evaluator() {
    use gammaflow::eval::{BatchEvaluator, CpuEvaluator};
    use gammaflow::mapping::pack::{PackedProblem, PackedResult};
    struct Counting(u64);
    impl BatchEvaluator for Counting {
        fn evaluate_packed(&mut self, p: &[PackedProblem], w: &[u32], stride: usize, out: &mut Vec<PackedResult>) {
            self.0 += (w.len() / stride) as u64;
            CpuEvaluator.evaluate_packed(p, w, stride, out)
        }
    }
    let model = gammaflow::workload::builtin::resolve_model("resnet18").unwrap();
    let hw = Hardware { num_pe: 168, ..Hardware::default() };
    let tasks: Vec<_> = model.layers[..3].iter().enumerate().map(|(i, l)| (i, *l, hw)).collect();
    let cfg = SearchConfig { num_pop: 24, epochs: 0, max_evals: Some(2_000), seed: 9, ..SearchConfig::default() };
    let want = search(&tasks, &cfg, &mut cpu(), |_| {});
    let mut counting = Counting(0);
    let got = search(&tasks, &cfg, &mut counting, |_| {});
    let plain = search(&tasks, &cfg, &mut CpuEvaluator, |_| {});
    let key = |rs: &[gammaflow::search::LayerResult]| {
        rs.iter().map(|r| (r.best.as_ref().map(|b| (b.genome, b.fit.f1, b.fit.f2)), r.evaluations)).collect::<Vec<_>>()
    };
    assert_eq!(key(&got), key(&want));
    assert_eq!(key(&plain), key(&want));
    assert_eq!(counting.0, want.iter().map(|r| r.evaluations).sum::<u64>());
}

#[test]
fn islands_first_populations_are_a_random_one_and_one_inside_a_basin() {
    // 1e4 evaluations at 48 per island: two islands, whose first round is 2 x (48 random + 48
    // seeded inside one structural basin) on a fixed accelerator and 2 x 48 when co-exploring.
    let layer = [Layer::conv(64, 64, 56, 56, 3, 3)];
    let cfg = SearchConfig { num_pop: 48, epochs: 0, max_evals: Some(10_000), seed: 3, ..SearchConfig::default() };
    let r = run(&layer, Hardware::default(), &cfg);
    assert_eq!(r[0].history[0].evaluations, 192);
    assert_eq!(r[0].evaluations, 10_000);
    let co = SearchConfig {
        fitness2: Some(Objective::Area),
        space: SpaceOptions { co_explore: true, ..SpaceOptions::default() },
        ..cfg
    };
    let r = run(&layer, Hardware::default(), &co);
    assert_eq!(r[0].history[0].evaluations, 96);
}
