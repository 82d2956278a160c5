//! Properties of the CPU reference model: the closed forms agree with plain case enumeration,
//! and physically valid mappings obey the model's invariants.

use gammaflow::hardware::Hardware;
use gammaflow::mapping::{Dim, Genome, Level};
use gammaflow::model::{evaluate, evaluate_raw_with};
use gammaflow::workload::{Layer, LayerKind};
use proptest::prelude::*;

/// MAESTRO's energy per L2 access (nJ) for multi-level mappings, read off the oracle cases'
/// MAESTRO outputs (energy over the L2 accesses it counts); the cases must agree on it to their
/// printed precision (6 digits), or the per-access model itself is wrong.
static MAESTRO_L2_ACCESS_NJ: std::sync::LazyLock<f64> = std::sync::LazyLock::new(|| {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/dev-cases.jsonl")).unwrap();
    let mut per_access = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let e = &v["expect"];
        let multi = v["genome"].as_array().is_some_and(|g| g.len() > 7);
        if !multi || e["valid_physical"] != true || !e["energy_nJ"].is_f64() {
            continue;
        }
        let n: f64 = ["l2_input_read", "l2_input_write", "l2_weight_read", "l2_weight_write", "l2_output_write"]
            .iter()
            .map(|k| e[*k].as_f64().unwrap())
            .sum();
        // Small counts would hide the constant behind the 6-digit rounding of the energy.
        if n >= 1e4 {
            per_access.push(e["energy_nJ"].as_f64().unwrap() / n);
        }
    }
    assert!(per_access.len() >= 5, "too few multi-level oracle cases: {}", per_access.len());
    let (lo, hi) = per_access.iter().fold((f64::MAX, 0f64), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(hi - lo <= 1e-5 * hi, "MAESTRO's per-access energy varies: {lo} .. {hi}");
    (lo + hi) / 2.0
});

fn layer_strategy() -> impl Strategy<Value = Layer> {
    (1i64..=24, 1i64..=24, 1i64..=5, 1i64..=5, 0i64..=14, 0i64..=14, 0u8..10).prop_map(|(k, c, r, s, dy, dx, kind)| {
        let dw = kind < 2;
        Layer::new(
            if dw { 1 } else { k },
            c,
            r + dy,
            s + dx,
            r,
            s,
            if dw { LayerKind::DsConv } else { LayerKind::Conv },
        )
    })
}

/// A genome for `layer`: `levels` levels, tiles within the enclosing level (optionally past the
/// output extent, as GAMMA draws them), any parallel dim, random loop orders.
fn genome_strategy(layer: Layer, levels: usize, full_rs: bool) -> impl Strategy<Value = Genome> {
    let dims = layer.shape().dims;
    let level = (
        0usize..6,
        1i64..=6,
        Just(()).prop_perturb(|_, mut rng| {
            let mut o = Dim::ALL;
            for i in (1..6).rev() {
                o.swap(i, rng.random_range(0..=i));
            }
            o
        }),
        proptest::collection::vec(0.0f64..1.0, 6),
    );
    proptest::collection::vec(level, levels).prop_map(move |raw| {
        let mut parent = dims;
        let mut out = Vec::new();
        for (li, (par, z, order, fr)) in raw.into_iter().enumerate() {
            let mut tiles = [0i64; 6];
            for d in 0..6 {
                tiles[d] = 1 + ((parent[d] as f64) * fr[d]) as i64;
                if full_rs && d >= 4 {
                    tiles[d] = dims[d];
                }
                tiles[d] = tiles[d].min(parent[d]).max(1);
            }
            out.push(Level {
                par: Dim::from_index(par),
                size: if li == 0 { 1 } else { z },
                order: order.map(|d| (d, tiles[d.index()])),
                sp2: None,
            });
            parent = tiles;
        }
        Genome { levels: out.into() }
    })
}

fn case_strategy() -> impl Strategy<Value = (Layer, Genome, Hardware)> {
    (
        layer_strategy(),
        1usize..=3,
        any::<bool>(),
        prop::sample::select(vec![1i64, 2, 3, 7, 16, 64, 168, 1024]),
        prop::sample::select(vec![-1i64, -1, -1, 1, 5, 64]),
        prop::sample::select(vec![-1i64, -1, -1, 1, 9]),
    )
        .prop_flat_map(|(layer, levels, full_rs, pe, noc, off)| {
            genome_strategy(layer, levels, full_rs).prop_map(move |g| {
                (layer, g, Hardware { num_pe: pe, l1_size: -1, l2_size: -1, noc_bw: noc, offchip_bw: off })
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, max_global_rejects: 200_000, ..ProptestConfig::default() })]

    #[test]
    fn closed_forms_equal_enumeration((layer, g, hw) in case_strategy()) {
        let fast = evaluate_raw_with(&layer, &g, &hw, false).map(|r| r.0);
        let slow = evaluate_raw_with(&layer, &g, &hw, true).map(|r| r.0);
        prop_assert_eq!(fast, slow, "{}", g.describe());
    }

    #[test]
    fn physical_mappings_obey_invariants((layer, g, hw) in case_strategy()) {
        let e = evaluate(&layer, &g, &hw);
        prop_assume!(e.valid_physical);
        let m = e.metrics.unwrap();
        let sh = layer.shape();
        // Compute bound and MAESTRO's identities (spec §2.7).
        prop_assert!(m.runtime_cycles as i128 * hw.num_pe as i128 >= m.num_macs as i128);
        // The parallelism bound is a true bound: no mapping with this many levels beats it.
        let pb = gammaflow::search::parallel_bound(&layer, hw.num_pe, g.num_levels(), &Dim::ALL);
        prop_assert!(m.runtime_cycles >= pb, "runtime {} below the parallelism bound {pb}: {}", m.runtime_cycles, g.describe());
        prop_assert_eq!(m.num_macs, sh.true_macs());
        prop_assert_eq!(m.l1_input_read, m.num_macs);
        prop_assert_eq!(m.l1_weight_read, m.num_macs);
        prop_assert_eq!(m.l1_output_write, m.num_macs);
        prop_assert_eq!(m.l1_input_write, m.l2_input_read);
        let [k, c, y, x, r, s] = sh.dims;
        prop_assert_eq!(m.l2_input_write, c * y * x);
        prop_assert_eq!(m.l2_weight_write, if sh.depthwise { c * r * s } else { k * c * r * s });
        prop_assert!(m.energy_nj > 0.0 && m.area > 0.0 && m.power > 0.0);
        // Multi-level energy carries no L1 term (quirk Q1): it is one cost per L2 access (output
        // reads free), at the per-access cost MAESTRO's own outputs imply, not a constant of ours.
        if g.num_levels() > 1 {
            let l2 = [m.l2_input_read, m.l2_input_write, m.l2_weight_read, m.l2_weight_write, m.l2_output_write];
            let want = l2.iter().map(|&c| c as f64).sum::<f64>() * *MAESTRO_L2_ACCESS_NJ;
            prop_assert!((m.energy_nj - want).abs() <= 1e-5 * want, "{} vs {want}", m.energy_nj);
        }
    }

    #[test]
    fn loop_order_does_not_change_macs_runtime_or_l2_at_default_bandwidth((layer, g, mut hw) in case_strategy(), rot in 1usize..6) {
        hw.noc_bw = -1;
        hw.offchip_bw = -1;
        let a = evaluate(&layer, &g, &hw);
        prop_assume!(a.valid_physical);
        let mut h = g;
        for lv in h.levels.iter_mut() {
            lv.order.rotate_left(rot);
        }
        let b = evaluate(&layer, &h, &hw);
        let (ma, mb) = (a.metrics.unwrap(), b.metrics.expect("same shape, same validity"));
        prop_assert_eq!(ma.num_macs, mb.num_macs);
        prop_assert_eq!(ma.runtime_cycles, mb.runtime_cycles);
        prop_assert_eq!(ma.l2_size_req, mb.l2_size_req);
        prop_assert_eq!(ma.l1_size_req, mb.l1_size_req);
    }
}

/// Layers large enough that counts pass 2^32: closed forms and enumeration still agree, and the
/// sums stay exact (checked against the true MAC count on a physically valid mapping).
#[test]
fn large_layers_use_64_bit_counts() {
    let layer = Layer::conv(2048, 2048, 224, 224, 3, 3);
    let hw = Hardware { num_pe: 1, ..Hardware::default() };
    let g: Genome = serde_json::from_str(r#"[["K",1],["K",64],["C",64],["Y",32],["X",111],["R",3],["S",3]]"#).unwrap();
    let fast = evaluate_raw_with(&layer, &g, &hw, false).unwrap().0;
    let slow = evaluate_raw_with(&layer, &g, &hw, true).unwrap().0;
    assert_eq!(fast, slow);
    assert_eq!(fast.top.macs, layer.shape().true_macs());
    assert!(fast.top.runtime > 1 << 40);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// The PE-free L1 closed form used for design repair equals the model's L1 requirement.
    #[test]
    fn l1_requirement_matches_the_model((layer, g, hw) in case_strategy()) {
        let e = evaluate(&layer, &g, &hw);
        if let Some(m) = e.metrics {
            prop_assert_eq!(gammaflow::model::l1_requirement(&layer, &g), m.l1_size_req);
        }
    }
}

// ---- A second spatial dim per level (MAESTRO's two SpatialMaps, spread in lockstep) ----

fn metrics(layer: &Layer, g: &str, num_pe: i64) -> gammaflow::model::Metrics {
    let g: Genome = serde_json::from_str(g).unwrap();
    let hw = Hardware { num_pe, ..Hardware::default() };
    evaluate(layer, &g, &hw).metrics.expect("no crash")
}

/// Row stationary on one output row: input row i and filter row i on PE i. Hand-derived from the
/// spec's formulas with the second SpatialMap's rules: one all-Init case; the input is spread by
/// Y and the weights by R, so both are sent to the 3 PEs once (3 each), each PE makes one partial
/// sum (egress 3, spatial reduction is free), and the runtime is compute 1 + ingress delay 1.
#[test]
fn two_spatial_maps_spread_in_lockstep() {
    let layer = Layer::conv(1, 1, 3, 1, 3, 1);
    for pe in [3, 4] {
        let m = metrics(&layer, r#"[["Y",1,"R"],["Y",1],["R",1],["K",1],["C",1],["X",1],["S",1]]"#, pe);
        assert_eq!(m.num_macs, 3, "{pe} PEs");
        assert_eq!(m.runtime_cycles, 2, "{pe} PEs");
        assert_eq!((m.l2_input_read, m.l2_weight_read, m.l2_output_write), (3, 3, 3), "{pe} PEs");
        assert_eq!((m.l1_size_req, m.l2_size_req), (6, 18), "{pe} PEs");
    }
    // With R temporal instead, R takes three steps (Init + Steady x2) and every step counts one
    // MAC on each of the 3 PEs: MAESTRO's count is 9, not the layer's 3 (not physically valid).
    let g: Genome = serde_json::from_str(r#"[["Y",1],["Y",1],["R",1],["K",1],["C",1],["X",1],["S",1]]"#).unwrap();
    let one = evaluate(&layer, &g, &Hardware { num_pe: 3, ..Hardware::default() });
    assert_eq!(one.metrics.unwrap().num_macs, 9);
    assert!(!one.valid_physical);
}

/// The second spatial dim's edge reaches the sub-cluster: K=1 spread over 2 clusters makes the
/// first SpatialMap an `ee` edge with NE = 1, so the one evaluated sub-cluster takes the edge
/// size of every spatial dim, and C (tile 2 of 3, edge size 1) gives it one C step instead of
/// two. Hand-derived: sub-cluster runtime 2 (compute 1 + ingress 1), plus the top's ingress
/// delay 1 = 3 (4 if the sub-cluster saw C = 2). MAESTRO counts one MAC: with NE = 1 only the
/// edge cluster's partial sums are counted (its quirk Q3), as for one SpatialMap.
#[test]
fn second_spatial_edge_sets_the_sub_cluster_dims() {
    let layer = Layer::conv(1, 3, 1, 1, 1, 1);
    let m = metrics(
        &layer,
        r#"[["K",2,"C"],["K",1],["C",2],["Y",1],["X",1],["R",1],["S",1],["K",1],["K",1],["C",1],["Y",1],["X",1],["R",1],["S",1]]"#,
        2,
    );
    assert_eq!((m.runtime_cycles, m.num_macs), (3, 1));
}

/// Which spatial dim's partial-cluster flag a tensor follows: the one latest in the tensor's
/// variable list (W: K, C, R, S), not in loop order. Here C (first in loop order, 2 of 3 per
/// cluster, so its Init is an `ee` edge with NE = 2) and K (second, 1 of 2, unrolled) both
/// spread the weights; W follows C's `ee`: IN_W = PEmap(first) 2 + PEmap(ee) 1 = 3 (K's flag,
/// which is off, would give 2 + 2 = 4). Hand-derived, and checked by an independent reference.
#[test]
fn each_tensor_follows_its_last_coupled_spatial_dim() {
    let layer = Layer::conv(2, 3, 1, 1, 1, 1);
    let m = metrics(&layer, r#"[["K",1,"C"],["X",1],["C",2],["Y",1],["R",1],["S",1],["K",1]]"#, 2);
    assert_eq!((m.l2_weight_read, m.l2_size_req), (3, 16));
}

/// The MAESTRO export of such a genome has two SpatialMaps, each at its own loop position.
#[test]
fn second_spatial_dim_is_written_as_a_spatial_map() {
    let layer = Layer::conv(1, 1, 3, 1, 3, 1);
    let g: Genome = serde_json::from_str(r#"[["Y",1,"R"],["Y",1],["R",1],["K",1],["C",1],["X",1],["S",1]]"#).unwrap();
    let text = gammaflow::mapping::write_maestro(&layer, &g);
    assert!(text.contains("SpatialMap(1,1) Y';\nSpatialMap(1,1) R;\nTemporalMap(1,1) K;"), "{text}");
}

fn with_sp2(g: &Genome, picks: &[(bool, usize)]) -> Genome {
    let mut g = *g;
    for (lv, &(on, d)) in g.levels.iter_mut().zip(picks) {
        lv.sp2 = on.then(|| Dim::from_index(d));
    }
    g
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, max_global_rejects: 200_000, ..ProptestConfig::default() })]

    /// Any second spatial dim on any level evaluates without a panic (crashes come back as
    /// MAESTRO's crash codes) and the closed forms of the other levels still hold; one on the parallel dim itself (or on K of a DSCONV, which has no
    /// K loop) is the same single SpatialMap; physically valid results keep the invariants.
    #[test]
    fn second_spatial_dims_are_safe_and_reduce_to_one((layer, g, hw) in case_strategy(),
                                                     picks in proptest::collection::vec((any::<bool>(), 0usize..6), 3)) {
        let g2 = with_sp2(&g, &picks);
        let e = evaluate(&layer, &g2, &hw);
        // Levels with one spatial dim still use the closed forms, fed by masks that now carry
        // the second spatial dim's edge bit: they must agree with plain enumeration.
        let fast = evaluate_raw_with(&layer, &g2, &hw, false).map(|r| r.0);
        let slow = evaluate_raw_with(&layer, &g2, &hw, true).map(|r| r.0);
        prop_assert_eq!(fast, slow);
        if e.valid_physical {
            let m = e.metrics.unwrap();
            prop_assert!(m.runtime_cycles as i128 * hw.num_pe as i128 >= m.num_macs as i128);
        // The parallelism bound is a true bound: no mapping with this many levels beats it.
        let pb = gammaflow::search::parallel_bound(&layer, hw.num_pe, g.num_levels(), &Dim::ALL);
        prop_assert!(m.runtime_cycles >= pb, "runtime {} below the parallelism bound {pb}: {}", m.runtime_cycles, g.describe());
        }
        let dw = layer.shape().depthwise;
        let same: Vec<(bool, usize)> = g.levels.iter().map(|l| {
            let par = if dw && l.par == Dim::K { Dim::C } else { l.par };
            (true, par.index())
        }).collect();
        prop_assert_eq!(evaluate(&layer, &with_sp2(&g, &same), &hw), evaluate(&layer, &g, &hw));
        if dw {
            let k: Vec<(bool, usize)> = g.levels.iter().map(|_| (true, Dim::K.index())).collect();
            prop_assert_eq!(evaluate(&layer, &with_sp2(&g, &k), &hw), evaluate(&layer, &g, &hw));
        }
    }
}
