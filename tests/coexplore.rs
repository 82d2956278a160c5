//! DiGamma co-exploration: the PE count searched with the mapping under an area budget.

use gammaflow::eval::{BackendChoice, Evaluator};
use gammaflow::hardware::{AreaModel, Hardware};
use gammaflow::search::{search, Objective, SearchConfig, SpaceOptions};
use gammaflow::workload::{Layer, LayerKind};

fn co_cfg(budget_mm2: Option<f64>, seed: u64) -> SearchConfig {
    SearchConfig {
        fitness1: Objective::Latency,
        fitness2: Some(Objective::Area),
        num_pop: 60,
        epochs: 40,
        seed,
        space: SpaceOptions { co_explore: true, ..SpaceOptions::default() },
        area_budget_um2: budget_mm2.map(|b| b * 1e6),
        ..SearchConfig::default()
    }
}

#[test]
fn no_design_exceeds_the_budget_or_the_pe_limit() {
    let layers = [
        (0, Layer::conv(64, 64, 56, 56, 3, 3), Hardware { num_pe: 2048, ..Hardware::default() }),
        (1, Layer::new(1, 96, 114, 114, 3, 3, LayerKind::DsConv), Hardware { num_pe: 512, ..Hardware::default() }),
        (2, Layer::new(1000, 512, 1, 1, 1, 1, LayerKind::Fc), Hardware { num_pe: 4096, ..Hardware::default() }),
    ];
    let mut ev = Evaluator::new(BackendChoice::Cpu).unwrap();
    for budget in [0.05, 0.3, 2.0] {
        let cfg = co_cfg(Some(budget), 1);
        for r in search(&layers, &cfg, &mut ev, |_| {}) {
            let limit = r.hw.num_pe;
            let best =
                r.best.as_ref().unwrap_or_else(|| panic!("layer {} found no design under {budget} mm^2", r.index));
            for c in std::iter::once(best).chain(r.pareto.iter()) {
                let pe = c.genome.levels[0].size;
                assert!(pe >= 1 && pe <= limit, "PE count {pe} outside 1..={limit}");
                let area = cfg.area(c, &r.hw).unwrap();
                assert!(area.total <= budget * 1e6, "area {} um^2 over the budget {budget} mm^2", area.total);
                assert!((area.pe + area.l1 + area.l2 - area.total).abs() <= 1e-6 * area.total);
                assert!(c.eval.valid_physical);
                // The evaluation used the design's own PE count.
                let again = gammaflow::model::evaluate(&r.layer, &c.genome, &cfg.design_hw(&r.hw, &c.genome));
                assert_eq!(again, c.eval);
            }
        }
    }
}

#[test]
fn tight_budgets_shrink_the_design() {
    let layer = Layer::conv(64, 64, 56, 56, 3, 3);
    let hw = Hardware { num_pe: 4096, ..Hardware::default() };
    let mut ev = Evaluator::new(BackendChoice::Cpu).unwrap();
    let pes: Vec<i64> = [0.1, 1.0]
        .iter()
        .map(|&b| {
            search(&[(0, layer, hw)], &co_cfg(Some(b), 2), &mut ev, |_| {})[0].best.as_ref().unwrap().genome.levels[0]
                .size
        })
        .collect();
    assert!(pes[0] < pes[1], "a 10x larger budget should buy more PEs: {pes:?}");
    // 0.1 mm^2 at 282 um^2 per PE alone caps the design at 354 PEs.
    assert!(pes[0] <= 354);
}

#[test]
fn a_large_budget_is_at_least_as_good_as_the_fixed_design() {
    // Co-exploring up to P PEs includes the fixed P-PE accelerator, so its best latency is never
    // worse on a layer small enough for both searches to converge.
    let layer = Layer::conv(16, 32, 10, 10, 3, 3);
    let hw = Hardware { num_pe: 64, ..Hardware::default() };
    let mut ev = Evaluator::new(BackendChoice::Cpu).unwrap();
    for seed in 0..3 {
        let fixed = SearchConfig { fitness2: None, num_pop: 100, epochs: 60, seed, ..SearchConfig::default() };
        let f = search(&[(0, layer, hw)], &fixed, &mut ev, |_| {})[0].best.clone().unwrap();
        let co = SearchConfig { fitness2: None, num_pop: 100, epochs: 60, ..co_cfg(Some(1000.0), seed) };
        let c = search(&[(0, layer, hw)], &co, &mut ev, |_| {})[0].best.clone().unwrap();
        let (fl, cl) = (f.eval.metrics.unwrap().runtime_cycles, c.eval.metrics.unwrap().runtime_cycles);
        assert!(cl <= fl, "seed {seed}: co-explored {cl} cycles worse than fixed {fl}");
    }
}

#[test]
fn area_models_rank_designs() {
    let layer = Layer::conv(32, 32, 16, 16, 3, 3);
    let hw = Hardware { num_pe: 1024, ..Hardware::default() };
    let mut ev = Evaluator::new(BackendChoice::Cpu).unwrap();
    // With area as the first objective the smallest design wins: one PE.
    let cfg = SearchConfig { fitness1: Objective::Area, fitness2: Some(Objective::Latency), ..co_cfg(None, 0) };
    let r = &search(&[(0, layer, hw)], &cfg, &mut ev, |_| {})[0];
    assert_eq!(r.best.as_ref().unwrap().genome.levels[0].size, 1);
    // A user table changes the numbers.
    let cheap =
        SearchConfig { area_model: AreaModel::Table { pe_um2: 1.0, bit_um2: 0.0, word_bits: 8.0 }, ..cfg.clone() };
    let r2 = &search(&[(0, layer, hw)], &cheap, &mut ev, |_| {})[0];
    let a = cheap.area(r2.best.as_ref().unwrap(), &r2.hw).unwrap();
    assert_eq!(a.total, 1.0);
}

#[test]
fn one_accelerator_for_a_whole_model() {
    use gammaflow::search::shared::{best_design, candidate_designs, pareto_designs, search_shared};
    let model = gammaflow::workload::builtin::builtin_model("toy").unwrap();
    let layers: Vec<(usize, Layer)> = model.layers.iter().copied().enumerate().collect();
    let base = Hardware::default();
    let budget = 0.05e6;
    let cfg = SearchConfig { num_pop: 24, epochs: 8, area_budget_um2: Some(budget), ..co_cfg(None, 4) };
    let designs = candidate_designs(256, &cfg.area_model, Some(budget), &base);
    assert!(!designs.is_empty());
    let mut ev = Evaluator::new(BackendChoice::Cpu).unwrap();
    let results = search_shared(&layers, &designs, &base, &cfg, &mut ev, |_| {});
    assert_eq!(results.len(), designs.len());
    for r in &results {
        assert!(r.design.area_um2 <= budget && r.design.num_pe <= 256);
        assert!(r.area_used_um2 <= r.design.area_um2 + 1e-6);
        if let Some(total) = r.total_runtime {
            // Every layer has a valid mapping within the shared buffers, and the totals add up.
            let mut sum = 0;
            for l in &r.layers {
                let b = l.best.as_ref().unwrap();
                let m = b.eval.metrics.unwrap();
                assert!(m.l1_size_req <= r.design.l1 && m.l2_size_req <= r.design.l2);
                assert_eq!(l.hw.num_pe, r.design.num_pe);
                sum += m.runtime_cycles;
            }
            assert_eq!(sum, total);
        }
    }
    let best = best_design(&results, Objective::Latency).expect("some design maps the toy model");
    for r in results.iter().filter(|r| r.total_f1.is_some()) {
        assert!(best.total_f1.unwrap() <= r.total_f1.unwrap());
    }
    let front = pareto_designs(&results);
    assert!(front.windows(2).all(|w| w[0].area_used_um2 <= w[1].area_used_um2 && w[0].total_f1 > w[1].total_f1));
}

/// Over random budgets, PE limits, layers, PE moves and strategies: no reported or archived
/// design is over the budget or the PE limit, and no runtime beats either bound.
#[test]
fn random_budgets_and_limits_are_never_exceeded() {
    use gammaflow::search::{PeDraw, Strategy};
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x17);
    let mut ev = Evaluator::new(BackendChoice::Cpu).unwrap();
    let mut checked = 0;
    for case in 0..24 {
        let layer = Layer::conv(
            rng.random_range(1..200),
            rng.random_range(1..200),
            rng.random_range(3..60),
            rng.random_range(3..60),
            3,
            3,
        );
        let limit = rng.random_range(1..20_000);
        let budget_mm2 = 10f64.powf(rng.random_range(-2.0..1.5));
        let draw = [PeDraw::Uniform, PeDraw::UpperHalf, PeDraw::Joint][case % 3];
        let strategy = [Strategy::Islands, Strategy::Gamma][case % 2];
        let cfg = SearchConfig {
            strategy,
            num_pop: 24,
            epochs: 0,
            max_evals: Some(1_500),
            space: SpaceOptions { co_explore: true, pe_draw: Some(draw), slevel_max: 3, ..SpaceOptions::default() },
            ..co_cfg(Some(budget_mm2), case as u64)
        };
        let hw = Hardware { num_pe: limit, ..Hardware::default() };
        let r = &search(&[(0, layer, hw)], &cfg, &mut ev, |_| {})[0];
        let Some(best) = r.best.as_ref() else { continue };
        for c in std::iter::once(best).chain(r.pareto.iter()) {
            let pe = c.genome.levels[0].size;
            assert!((1..=limit).contains(&pe), "case {case}: {pe} PEs, limit {limit}");
            let area = cfg.area(c, &r.hw).unwrap().total;
            assert!(area <= budget_mm2 * 1e6, "case {case}: {area} um^2 over {budget_mm2} mm^2");
            let rt = c.eval.metrics.unwrap().runtime_cycles;
            assert!(rt >= gammaflow::search::compute_bound(&layer, pe), "case {case}: below the design's bound");
            assert!(rt >= r.parallel_bound_cycles, "case {case}: below the parallelism bound");
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} designs checked");
}

#[test]
fn islands_is_strictly_lexicographic_unless_loop_orders_decide_the_second_objective() {
    use gammaflow::search::Strategy;
    let mut cfg = co_cfg(None, 0);
    // Latency then area (DiGamma's co-exploration): no slack on the latency.
    assert_eq!(cfg.f1_tolerance(), 0.0);
    assert!(!cfg.orders_matter());
    cfg.fitness2 = Some(Objective::Energy);
    assert_eq!(cfg.f1_tolerance(), 1e-4);
    assert!(cfg.orders_matter());
    cfg.fitness2 = Some(Objective::Power);
    assert_eq!(cfg.f1_tolerance(), 1e-4);
    // GAMMA's GA stays strict; an explicit tolerance wins.
    cfg.strategy = Strategy::Gamma;
    assert_eq!(cfg.f1_tolerance(), 0.0);
    cfg.f1_tolerance = Some(1e-3);
    assert_eq!(cfg.f1_tolerance(), 1e-3);
}

#[test]
fn islands_is_not_worse_than_gamma_at_a_small_budget_where_pes_and_tiling_must_move_together() {
    use gammaflow::search::Strategy;
    // MnasNet layer 30's shape at the edge setting (0.5 mm^2, at most 1,024 PEs): designs that
    // fill the PEs need a cluster size and the PE count changed together.
    let layer = [(0, Layer::conv(80, 480, 14, 14, 1, 1), Hardware { num_pe: 1024, ..Hardware::default() })];
    let mut ev = Evaluator::new(BackendChoice::Cpu).unwrap();
    let median = |strategy: Strategy, pop: usize, ev: &mut Evaluator| {
        let mut v: Vec<i64> = (0..5)
            .map(|seed| {
                let cfg = SearchConfig {
                    strategy,
                    num_pop: pop,
                    epochs: 0,
                    max_evals: Some(10_000),
                    ..co_cfg(Some(0.5), seed)
                };
                let r = search(&layer, &cfg, ev, |_| {});
                r[0].best.as_ref().unwrap().eval.metrics.unwrap().runtime_cycles
            })
            .collect();
        v.sort();
        v[2]
    };
    let (islands, gamma) = (median(Strategy::Islands, 48, &mut ev), median(Strategy::Gamma, 100, &mut ev));
    assert!(islands <= gamma, "islands {islands} vs gamma {gamma}");
}

/// MAESTRO's runtime can fall below ceil(MACs / PEs) where a tile does not divide its parent's
/// edge tile. On VGG16 layer 2, C (64) in top tiles of 24 with the cluster below in tiles of 23
/// gives such a runtime (a design co-exploration kept reaching at 20 mm^2): valid by GAMMA's rule
/// but not physical, so the search's PE count has to rise until runtime x PEs covers the MACs. The
/// same design with inner C tiles of 24 is physical.
#[test]
fn runtimes_below_the_compute_bound_are_not_physical() {
    use gammaflow::mapping::{Dim, Genome};
    use gammaflow::search::compute_bound;
    let layer = gammaflow::workload::builtin::resolve_model("vgg16").unwrap().layers[1];
    let (n0, cluster) = (112i64, 111i64);
    let pes = n0 * cluster;
    let hw = Hardware { num_pe: pes, ..Hardware::default() };
    let design = |inner_c: i64| {
        #[rustfmt::skip]
        let genes = [
            (Dim::Y, pes), (Dim::K, 64), (Dim::X, cluster), (Dim::Y, 2), (Dim::R, 3), (Dim::C, 24), (Dim::S, 3),
            (Dim::X, cluster), (Dim::K, 1), (Dim::X, 1), (Dim::S, 3), (Dim::R, 3), (Dim::C, inner_c), (Dim::Y, 1),
        ];
        gammaflow::model::evaluate(&layer, &Genome::from_genes(&genes).unwrap(), &hw)
    };
    let bound = compute_bound(&layer, pes);
    let uneven = design(23);
    let rt = uneven.metrics.unwrap().runtime_cycles;
    assert!(uneven.valid && rt < bound, "runtime {rt}, bound {bound}");
    assert!(!uneven.valid_physical);
    let even = design(24);
    assert!(even.valid_physical && even.metrics.unwrap().runtime_cycles >= bound);
}
