//! Properties of the CPU reference model: the closed forms agree with plain case enumeration,
//! and physically valid mappings obey the model's invariants.

use gammaflow::hardware::Hardware;
use gammaflow::mapping::{Dim, Genome, Level};
use gammaflow::model::{evaluate, evaluate_raw_with};
use gammaflow::workload::{Layer, LayerKind};
use proptest::prelude::*;

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
        Genome { levels: out }
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
        prop_assert_eq!(m.num_macs, sh.true_macs());
        prop_assert_eq!(m.l1_input_read, m.num_macs);
        prop_assert_eq!(m.l1_weight_read, m.num_macs);
        prop_assert_eq!(m.l1_output_write, m.num_macs);
        prop_assert_eq!(m.l1_input_write, m.l2_input_read);
        let [k, c, y, x, r, s] = sh.dims;
        prop_assert_eq!(m.l2_input_write, c * y * x);
        prop_assert_eq!(m.l2_weight_write, if sh.depthwise { c * r * s } else { k * c * r * s });
        prop_assert!(m.energy_nj > 0.0 && m.area > 0.0 && m.power > 0.0);
        // Multi-level energy carries no L1 term (quirk Q1): it is the L2 part alone.
        if g.num_levels() > 1 {
            let l2 = [m.l2_input_read, m.l2_input_write, m.l2_weight_read, m.l2_weight_write, m.l2_output_write];
            let e: f64 = l2.iter().fold(0.0, |a, &c| a + c as f64 * 18.61) * 0.00023;
            prop_assert_eq!(m.energy_nj, e);
        }
    }

    #[test]
    fn loop_order_does_not_change_macs_runtime_or_l2_at_default_bandwidth((layer, g, mut hw) in case_strategy(), rot in 1usize..6) {
        hw.noc_bw = -1;
        hw.offchip_bw = -1;
        let a = evaluate(&layer, &g, &hw);
        prop_assume!(a.valid_physical);
        let mut h = g.clone();
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
