//! Constrained map spaces: every genome the search produces satisfies its constraint, the fixed
//! built-in maps are single mappings, bad files are rejected with file/level/field, the CLI runs
//! each built-in, and more flexibility never makes the best latency worse.

use gammaflow::eval::{BackendChoice, Evaluator};
use gammaflow::hardware::Hardware;
use gammaflow::mapping::{Dim, Genome};
use gammaflow::search::constraint::{self, LevelRule, MapConstraint, SizeRule, BUILTINS};
use gammaflow::search::{operators, search, search_seeded, Objective, SearchConfig, Space, SpaceOptions};
use gammaflow::workload::builtin::resolve_model;
use gammaflow::workload::Layer;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::process::Command;
use std::sync::Arc;

fn cpu() -> Evaluator {
    Evaluator::new(BackendChoice::Cpu).unwrap()
}

fn opts(c: &MapConstraint) -> SpaceOptions {
    SpaceOptions { constraint: Some(Arc::new(c.clone())), ..SpaceOptions::default() }
}

fn resnet_layer(n: usize) -> Layer {
    resolve_model("resnet18").unwrap().layers[n - 1]
}

// ---------- random constraints ----------

fn arb_size() -> impl Strategy<Value = Option<SizeRule>> {
    prop_oneof![
        3 => Just(None),
        1 => (1i64..8).prop_map(|v| Some(SizeRule::Fixed(v))),
        1 => (0usize..6).prop_map(|i| Some(SizeRule::Same(Dim::from_index(i)))),
    ]
}

fn arb_level() -> impl Strategy<Value = LevelRule> {
    let dims = Just(Dim::ALL.to_vec()).prop_shuffle();
    // `fifo`: the accelerator rule Y' in {1, R}, X' in {1, S} (where no tile rule applies).
    (dims.clone(), 0usize..4, dims, 0usize..7, proptest::array::uniform6(arb_size()), arb_size(), any::<bool>())
        .prop_map(|(sp, nsp, order, nord, tiles, sp_sz, fifo)| {
            let mut choices: [Vec<SizeRule>; 6] = Default::default();
            if fifo {
                choices[Dim::Y.index()] = vec![SizeRule::Fixed(1), SizeRule::Same(Dim::R)];
                choices[Dim::X.index()] = vec![SizeRule::Fixed(1), SizeRule::Same(Dim::S)];
            }
            LevelRule { sp: sp[..nsp].to_vec(), sp_sz, order: order[..nord].to_vec(), tiles, choices }
        })
}

fn arb_case() -> impl Strategy<Value = (Layer, MapConstraint)> {
    let layer =
        (1i64..40, 1i64..40, 0i64..12, 0i64..12, prop_oneof![Just(1i64), Just(3)], prop_oneof![Just(1i64), Just(3)])
            .prop_map(|(k, c, y, x, r, s)| Layer::conv(k, c, y + r, x + s, r, s));
    let cstr = proptest::collection::vec(arb_level(), 1..4).prop_map(|mut levels| {
        levels[0].sp_sz = None;
        MapConstraint { name: "random".into(), source: "random.toml".into(), levels, class: 0, fixed: None }
    });
    (layer, cstr)
}

fn assert_in(space: &Space, c: &MapConstraint, g: &Genome, what: &str) {
    if let Err(e) = c.check_genome(g, space.bound) {
        panic!("{what}: {} breaks the constraint: {e}", g.describe());
    }
    assert!(space.contains(g), "{what}: {} is not a fixed point of repair", g.describe());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random genomes, every operator followed by repair, and a short search: all satisfy the
    /// constraint (for satisfiable random constraints over random layers).
    #[test]
    fn every_genome_satisfies_its_constraint((layer, c) in arb_case(), seed in 0u64..1000, class in 0u8..16) {
        let num_pe = 256;
        let c = if class % 3 == 0 { c.with_class(class).unwrap() } else { c };
        prop_assume!(c.check_layer(&layer, num_pe, &SpaceOptions::default()).is_ok());
        let space = Space::new(&layer, num_pe, opts(&c));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut pop: Vec<Genome> = (0..8).map(|_| space.random_genome(&mut rng)).collect();
        pop.extend(space.anchor_genome());
        for g in &pop {
            assert_in(&space, &c, g, "random genome");
        }
        for i in 0..pop.len() {
            let (mut a, mut b) = (pop[i].clone(), pop[(i + 1) % pop.len()].clone());
            operators::crossover(&mut a, &mut b, &mut rng);
            operators::mutate_order(&mut a, &mut rng);
            operators::mutate_tiles(&mut b, &space, 3, &mut rng);
            let mut d = pop[i].clone();
            operators::mutate_par_swap(&mut d);
            operators::grow(&mut d, &space, &mut rng);
            let mut e = pop[i].clone();
            operators::age(&mut e, &space);
            constraint::mutate_par(&mut e, &space, &mut rng);
            constraint::mutate_cluster(&mut e, &space, &mut rng);
            for mut g in [a, b, d, e] {
                space.repair(&mut g);
                assert_in(&space, &c, &g, "operator + repair");
            }
        }
        let cfg = SearchConfig { num_pop: 12, epochs: 4, seed, space: opts(&c), ..SearchConfig::default() };
        let hw = Hardware { num_pe, ..Hardware::default() };
        for r in search(&[(0, layer, hw)], &cfg, &mut cpu(), |_| {}) {
            for cand in r.best.iter().chain(&r.pareto) {
                assert_in(&space, &c, &cand.genome, "search result");
            }
        }
    }
}

// ---------- built-ins ----------

#[test]
fn fixed_builtins_are_one_mapping_per_layer() {
    let hw = Hardware::default();
    let model = resolve_model("resnet18").unwrap();
    for name in BUILTINS {
        let c = MapConstraint::resolve(name).unwrap().with_class(0).unwrap();
        let fa = c.fixed_axes(false);
        assert!(fa.tiles && fa.order && fa.par && fa.shape, "{name} must fix every axis");
        let mut layers = model.layers.clone();
        layers.dedup();
        for layer in layers.iter().take(6) {
            c.check_layer(layer, hw.num_pe, &SpaceOptions::default()).unwrap();
            let space = Space::new(layer, hw.num_pe, opts(&c));
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let first = space.random_genome(&mut rng);
            for _ in 0..50 {
                assert_eq!(space.random_genome(&mut rng), first, "{name}: class 0 must be a single mapping");
            }
        }
        // The whole search is that one genome, and it is the best.
        let layer = resnet_layer(2);
        let space = Space::new(&layer, hw.num_pe, opts(&c));
        let only = space.random_genome(&mut ChaCha8Rng::seed_from_u64(0));
        let cfg = SearchConfig { num_pop: 20, epochs: 5, seed: 1, space: opts(&c), ..SearchConfig::default() };
        let r = search(&[(1, layer, hw)], &cfg, &mut cpu(), |_| {}).remove(0);
        let best = r.best.unwrap_or_else(|| panic!("{name}: the fixed map is not valid on ResNet-18 layer 2"));
        assert_eq!(best.genome, only, "{name}");
        assert!(r.pareto.iter().all(|p| p.genome == only), "{name}: pareto holds another mapping");
    }
}

// ---------- bad files ----------

#[test]
fn bad_constraints_name_file_level_and_field() {
    let parse = |t: &str| MapConstraint::parse(t, "bad.toml");
    let layer = Layer::conv(32, 16, 10, 10, 3, 3);
    let check = |t: &str, pe: i64| parse(t).unwrap().check_layer(&layer, pe, &SpaceOptions::default()).unwrap_err();

    let e = check("[[level]]\n[[level]]\ntiles = { C = 32 }\n", 1024);
    assert_eq!(e, "bad.toml level 2, field tiles.C: fixed tile 32 exceeds the layer's C = 16");
    let e = check("[[level]]\ntiles = { Y = 9 }\n", 1024);
    assert!(e.contains("bad.toml level 1, field tiles.Y: fixed tile 9 exceeds the layer's Y' = 8"), "{e}");
    let e = check("[[level]]\ntiles = { C = 4 }\n[[level]]\ntiles = { C = 8 }\n", 1024);
    assert!(e.contains("level 2, field tiles.C: fixed tile 8 exceeds the enclosing level's C tile 4"), "{e}");
    let e = check("[[level]]\n[[level]]\nsp_sz = 32\n[[level]]\nsp_sz = 64\n", 1024);
    assert_eq!(e, "bad.toml level 3, field sp_sz: cluster sizes multiply to 2048, above the 1024 PEs");
    let e = check("[[level]]\n[[level]]\nsp_sz = \"R\"\n", 2);
    assert!(e.contains("level 2, field sp_sz: cluster sizes multiply to 3, above the 2 PEs"), "{e}");

    let e = parse("[[level]]\norder = [\"K\", \"C\", \"K\"]\n").unwrap_err();
    assert_eq!(e, "bad.toml level 1, field order: dimension K appears twice");
    let e = parse("[[level]]\n[[level]]\nsp = [\"Q\"]\n").unwrap_err();
    assert!(e.starts_with("bad.toml level 2, field sp: unknown dimension \"Q\""), "{e}");
    let e = parse("[[level]]\ntiles = { Q = 1 }\n").unwrap_err();
    assert!(e.starts_with("bad.toml level 1, field tiles.Q: unknown dimension"), "{e}");
    let e = parse("[[level]]\ntiles = { K = \"Z\" }\n").unwrap_err();
    assert!(e.starts_with("bad.toml level 1, field tiles.K: unknown dimension \"Z\""), "{e}");
    let e = parse("[[level]]\nspp = [\"K\"]\n").unwrap_err();
    assert!(e.starts_with("bad.toml level 1, field spp: unknown key"), "{e}");
    let e = parse("nme = \"x\"\n[[level]]\n").unwrap_err();
    assert!(e.starts_with("bad.toml, field nme: unknown key"), "{e}");
    let e = parse("[[level]]\ntiles = { K = 0 }\n").unwrap_err();
    assert!(e.contains("level 1, field tiles.K: 0 must be positive"), "{e}");
    let e = parse("[[level]]\nsp_sz = 4\n").unwrap_err();
    assert!(e.contains("level 1, field sp_sz"), "{e}");
    assert!(parse("").unwrap_err().contains("field level"));
    assert!(MapConstraint::resolve("nvdla").unwrap().with_class(16).is_err());
}

// ---------- CLI ----------

fn gammaflow(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gammaflow")).args(args).output().unwrap()
}

#[test]
fn cli_runs_each_builtin_and_rejects_bad_files_before_searching() {
    let dir = tempfile::tempdir().unwrap();
    let expect = [
        ("nvdla", "K: C64 Y'3 X'3 R3 S3 K1 |C16| C: K1 C1 Y'3 X'3 R3 S3"),
        ("eyeriss", "Y: K1 C1 Y'3 X'54 R3 S3 |C3| Y: K1 C1 Y'1 X'54 R3 S3"),
        ("tpu", "|C16| C:"),
    ];
    for (name, shape) in expect {
        for class in ["0", "15"] {
            let out = dir.path().join(format!("{name}{class}"));
            let o = gammaflow(&[
                "search",
                "--model",
                "resnet18",
                "--layer",
                "2",
                "--backend",
                "cpu",
                "--epochs",
                "6",
                "--num-pop",
                "16",
                "-q",
                "--mapping-cstr",
                name,
                "--flex-class",
                class,
                "--outdir",
                out.to_str().unwrap(),
            ]);
            let stdout = String::from_utf8_lossy(&o.stdout);
            assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
            assert!(stdout.contains("layer   2: latency = "), "{name}: {stdout}");
            if class == "0" {
                assert!(stdout.contains(shape), "{name}: {stdout}");
            }
        }
    }
    let bad = dir.path().join("big.toml");
    std::fs::write(&bad, "[[level]]\nsp = [\"K\"]\ntiles = { C = 4096 }\n[[level]]\n").unwrap();
    let out = dir.path().join("bad_out");
    let o = gammaflow(&[
        "search",
        "--model",
        "resnet18",
        "--layer",
        "2",
        "--backend",
        "cpu",
        "--mapping-cstr",
        bad.to_str().unwrap(),
        "--outdir",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(stderr.contains("big.toml level 1, field tiles.C: fixed tile 4096 exceeds the layer's C = 64"), "{stderr}");
    assert!(!out.exists(), "nothing may be searched or written");
    let o = gammaflow(&["search", "--model", "resnet18", "--layer", "2", "--flex-class", "3"]);
    assert!(!o.status.success(), "--flex-class needs --mapping-cstr");
}

// ---------- flexibility classes ----------

/// Best latency of each of the 16 classes of each built-in on ResNet-18 layer 2. Each class's
/// search starts from the best mappings of all its sub-classes (all in its space), so a class
/// whose free axes are a superset of another's can never end worse.
#[test]
fn flexibility_table_is_monotone() {
    let layer = resnet_layer(2);
    let hw = Hardware::default();
    let mut ev = cpu();
    let mut table = vec![[0f64; 3]; 16];
    for (ai, name) in BUILTINS.iter().enumerate() {
        let base = MapConstraint::resolve(name).unwrap();
        let mut bests: Vec<Genome> = Vec::new();
        for class in 0u8..16 {
            let c = base.with_class(class).unwrap();
            let seeds: Vec<Genome> =
                (0..class).filter(|&s| s & class == s).map(|s| bests[s as usize].clone()).collect();
            let space = Space::new(&layer, hw.num_pe, opts(&c));
            for s in &seeds {
                assert_in(&space, &c, s, "sub-class seed");
            }
            let cfg = SearchConfig {
                fitness2: None,
                num_pop: 60,
                epochs: 40,
                seed: 3,
                space: opts(&c),
                fitness1: Objective::Latency,
                ..SearchConfig::default()
            };
            let r = search_seeded(&[(1, layer, hw)], &cfg, &[seeds], &mut ev, |_| {}).remove(0);
            let best = r.best.unwrap_or_else(|| panic!("{name} class {class}: nothing valid"));
            table[class as usize][ai] = best.eval.metrics.unwrap().runtime_cycles as f64;
            bests.push(best.genome);
        }
    }
    println!("ResNet-18 layer 2, 1024 PEs: best latency (cycles) per flexibility class");
    println!("| class | tiles | order | par | shape | {} |", BUILTINS.join(" | "));
    for (c, row) in table.iter().enumerate() {
        let f = |b: usize| if c & b != 0 { "flex" } else { "fixed" };
        println!(
            "| {c:>2} | {} | {} | {} | {} | {} |",
            f(1),
            f(2),
            f(4),
            f(8),
            row.iter().map(|v| format!("{v:.0}")).collect::<Vec<_>>().join(" | ")
        );
    }
    for a in 0..16 {
        for b in 0..16 {
            if a != b && a & b == a {
                for ai in 0..3 {
                    assert!(
                        table[b][ai] <= table[a][ai],
                        "{}: class {b} ({}) worse than its sub-class {a} ({})",
                        BUILTINS[ai],
                        table[b][ai],
                        table[a][ai]
                    );
                }
            }
        }
    }
    // Full flexibility must actually help somewhere.
    assert!((0..3).any(|ai| table[15][ai] < table[0][ai]));
}

// ---------- accelerator constraints ----------

#[test]
fn accelerator_constraints_become_mapping_rules() {
    let a = constraint::load_accel("data/constraints/accel_fifo_bus.toml").unwrap();
    assert_eq!(a.levels.len(), 2);
    assert_eq!(a.levels[0].sp, vec![Dim::K, Dim::Y, Dim::X]);
    assert_eq!(a.levels[1].sp, vec![Dim::C, Dim::R, Dim::S]);
    assert_eq!(a.levels[1].choices[Dim::Y.index()], vec![SizeRule::Fixed(1), SizeRule::Same(Dim::R)]);
    let parse = |t: &str| constraint::parse_accel(t, "hw.toml").unwrap_err();
    assert!(parse("[[level]]\nbuffer = \"lifo\"\n").starts_with("hw.toml level 1, field buffer: unknown kind"));
    assert!(parse("[[level]]\n[[level]]\nnoc = \"bus\"\n").starts_with("hw.toml level 2, field noc: unknown key"));
    // A tree with an adder tree leaves R and S: the rules of one level intersect.
    let both =
        constraint::parse_accel("[[level]]\ndistribution = \"tree\"\nreduction = \"adder-tree\"\n", "t.toml").unwrap();
    assert_eq!(both.levels[0].sp, vec![Dim::R, Dim::S]);
    assert!(constraint::parse_accel(
        "[[level]]\ndistribution = \"bus\"\nreduction = \"reduce-and-forward\"\n",
        "ok.toml"
    )
    .is_ok());
    // NVDLA's inner C is not allowed under a tree with an adder tree: the merge says so.
    let tree = constraint::parse_accel(
        "[[level]]\n[[level]]\ndistribution = \"tree\"\nreduction = \"adder-tree\"\n",
        "tree.toml",
    )
    .unwrap();
    let e = MapConstraint::resolve("nvdla").unwrap().with_accel(&tree).unwrap_err();
    assert!(e.contains("nvdla.toml level 2, field sp"), "{e}");

    // A search under NVDLA's class 15 plus the accelerator's rules obeys both.
    let c = MapConstraint::resolve("nvdla").unwrap().with_class(15).unwrap().with_accel(&a).unwrap();
    let layer = resnet_layer(2);
    let hw = Hardware::default();
    let space = Space::new(&layer, hw.num_pe, opts(&c));
    let cfg = SearchConfig { num_pop: 30, epochs: 10, seed: 2, space: opts(&c), ..SearchConfig::default() };
    let r = search(&[(1, layer, hw)], &cfg, &mut cpu(), |_| {}).remove(0);
    let best = r.best.expect("something valid");
    for cand in std::iter::once(&best).chain(&r.pareto) {
        assert_in(&space, &c, &cand.genome, "accel search result");
        assert!(a.check_genome(&cand.genome, space.bound).is_ok());
    }
}
