//! Search quality against budget: the gap of the best runtime to the compute bound
//! (ceil(MACs / PEs)) and the energy of the best mapping, over seeds, per layer, for each
//! strategy and budget. Prints a Markdown table (BENCHMARKS.md) and a CSV of every run (its
//! last column, `mapping`, is the best mapping).
//!
//! `cargo run --release --example search_quality -- [--budgets 1e4,1e5] [--seeds 10]
//!  [--seed-start S] [--strategies islands,gamma] [--set all|gamma|1024|256|holdout]
//!  [--layers vgg16#3,bert#1] [--pop N] [--backend cpu|gpu|auto] [--csv FILE]`
//!
//! `all` (the default) is the 21 layers of BENCHMARKS.md's table; `holdout` is 18 other layers
//! of the same models on the same accelerators, to check that a search change generalises.
//! `--pop` overrides the population (48 per island for `islands`, 100 for the others).
//! `--layers` keeps only the named layers of the chosen sets and `--seed-start` shifts the seeds,
//! so that one table can be split into jobs run in parallel (`benches/device.sh`).

#[path = "common/args.rs"]
mod args;
use args::arg;

use gammaflow::eval::{BackendChoice, Evaluator};
use gammaflow::hardware::Hardware;
use gammaflow::search::{search, Objective, SearchConfig, Strategy};
use gammaflow::workload::builtin::resolve_model;
use gammaflow::workload::Layer;
use std::io::Write;

struct Set {
    name: &'static str,
    hw: Hardware,
    layers: Vec<(&'static str, usize)>,
}

fn sets() -> Vec<Set> {
    vec![
        Set {
            name: "gamma-168",
            hw: Hardware { num_pe: 168, l1_size: 512, l2_size: 108000, noc_bw: 81920000, offchip_bw: -1 },
            layers: vec![
                ("vgg16", 3),
                ("vgg16", 4),
                ("vgg16", 6),
                ("vgg16", 7),
                ("vgg16", 9),
                ("vgg16", 10),
                ("vgg16", 12),
                ("vgg16", 13),
                ("alexnet", 2),
                ("resnet50", 10),
                ("mnasnet", 6),
                ("mobilenet_v2", 8),
                ("bert", 1),
            ],
        },
        Set {
            name: "1024-unlimited",
            hw: Hardware { num_pe: 1024, l1_size: -1, l2_size: -1, noc_bw: -1, offchip_bw: -1 },
            layers: vec![("resnet50", 3), ("alexnet", 3), ("mobilenet_v2", 5), ("bert", 2)],
        },
        Set {
            name: "256-small",
            hw: Hardware { num_pe: 256, l1_size: 64, l2_size: 8192, noc_bw: -1, offchip_bw: -1 },
            layers: vec![("vgg16", 5), ("resnet50", 20), ("mnasnet", 10), ("mobilenet_v2", 12)],
        },
        // Held-out layers (`--set holdout`): other layers of the allowed models on the same three
        // accelerators, for checking that a change to the search is not tuned to the sets above.
        Set {
            name: "holdout-168",
            hw: Hardware { num_pe: 168, l1_size: 512, l2_size: 108000, noc_bw: 81920000, offchip_bw: -1 },
            layers: vec![
                ("resnet50", 2),
                ("resnet50", 13),
                ("resnet50", 30),
                ("resnet50", 47),
                ("mnasnet", 16),
                ("mnasnet", 23),
                ("mobilenet_v2", 20),
                ("mobilenet_v2", 34),
                ("alexnet", 4),
                ("bert", 28),
            ],
        },
        Set {
            name: "holdout-1024",
            hw: Hardware { num_pe: 1024, l1_size: -1, l2_size: -1, noc_bw: -1, offchip_bw: -1 },
            layers: vec![("resnet50", 25), ("mnasnet", 34), ("mobilenet_v2", 9), ("alexnet", 5)],
        },
        Set {
            name: "holdout-256",
            hw: Hardware { num_pe: 256, l1_size: 64, l2_size: 8192, noc_bw: -1, offchip_bw: -1 },
            layers: vec![("resnet50", 40), ("mnasnet", 22), ("mobilenet_v2", 17), ("bert", 3)],
        },
    ]
}

fn main() -> anyhow::Result<()> {
    let budgets = args::budgets("1e4,1e5")?;
    let seeds = args::seeds()?;
    let strategies = args::strategies()?;
    let which = arg("--set").unwrap_or_else(|| "all".into());
    // The objectives (default latency then energy); energy first gives the lowest energy a
    // layer allows at any latency, a floor for what the latency-first search can reach.
    let objective = |name: &str, default: &str| -> anyhow::Result<Objective> {
        let v = arg(name).unwrap_or_else(|| default.into());
        args::named::<Objective>(&v)
    };
    let (fitness1, fitness2) = (objective("--fitness1", "latency")?, objective("--fitness2", "energy")?);
    let mut csv = match arg("--csv") {
        Some(p) => Some(std::fs::File::create(p)?),
        None => None,
    };
    if let Some(f) = csv.as_mut() {
        writeln!(f, "set,layer,strategy,budget,seed,runtime,bound,gap,energy_nJ,evaluations,mapping")?;
    }
    // Every run's Pareto front (first and second objective), for choices made after the search.
    let mut pareto_csv = match arg("--pareto-csv") {
        Some(p) => Some(std::fs::File::create(p)?),
        None => None,
    };
    if let Some(f) = pareto_csv.as_mut() {
        writeln!(f, "set,layer,strategy,budget,seed,bound,fitness1,fitness2")?;
    }
    let only: Option<Vec<String>> = arg("--layers").map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let backend = args::named::<BackendChoice>(&arg("--backend").unwrap_or_else(|| "cpu".into()))?;
    let mut ev = Evaluator::new(backend)?;
    println!(
        "| set | layer | strategy | budget | median gap % | worst gap % | median energy nJ | evals used (median) |"
    );
    println!("|--|--|--|--|--|--|--|--|");
    // "all" is the three sets of BENCHMARKS.md's table, not the held-out ones.
    let chosen = |name: &str| if which == "all" { !name.starts_with("holdout") } else { name.starts_with(&which) };
    if let Some(o) = &only {
        let known: Vec<String> = sets()
            .iter()
            .filter(|s| chosen(s.name))
            .flat_map(|s| s.layers.iter().map(|(m, i)| format!("{m}#{i}")))
            .collect();
        if let Some(bad) = o.iter().find(|n| !known.contains(n)) {
            anyhow::bail!("--layers: {bad:?} is not a layer of the chosen sets ({})", known.join(", "));
        }
    }
    for set in sets().into_iter().filter(|s| chosen(s.name)) {
        let layers: Vec<(String, Layer)> = set
            .layers
            .iter()
            .map(|(m, i)| (format!("{m}#{i}"), m, i))
            .filter(|(name, _, _)| only.as_ref().is_none_or(|o| o.contains(name)))
            .map(|(name, m, i)| Ok((name, resolve_model(m)?.layers[i - 1])))
            .collect::<anyhow::Result<_>>()?;
        if layers.is_empty() {
            continue;
        }
        let tasks: Vec<(usize, Layer, Hardware)> =
            layers.iter().enumerate().map(|(i, (_, l))| (i, *l, set.hw)).collect();
        for &strategy in &strategies {
            for &budget in &budgets {
                // rows[layer] = (gap, energy, evals) per seed
                let mut rows: Vec<Vec<(f64, f64, u64)>> = vec![Vec::new(); tasks.len()];
                for seed in seeds.clone() {
                    let cfg = SearchConfig {
                        strategy,
                        fitness1,
                        fitness2: Some(fitness2),
                        num_pop: arg("--pop")
                            .map(|p| p.parse())
                            .transpose()?
                            .unwrap_or(if strategy == Strategy::Islands { 48 } else { 100 }),
                        epochs: 0,
                        max_evals: Some(budget),
                        seed,
                        ..SearchConfig::default()
                    };
                    let res = search(&tasks, &cfg, &mut ev, |_| {});
                    for (i, r) in res.iter().enumerate() {
                        let (gap, e, rt) = match &r.best {
                            Some(b) => {
                                let m = b.eval.metrics.unwrap_or_default();
                                (r.gap_to_bound().unwrap_or(f64::INFINITY), m.energy_nj, m.runtime_cycles)
                            }
                            None => (f64::INFINITY, f64::INFINITY, -1),
                        };
                        // The best mapping in `Genome::describe`'s form (no commas), to inspect or
                        // re-evaluate a run without repeating it.
                        let mapping = r.best.as_ref().map(|b| b.genome.describe()).unwrap_or_default();
                        rows[i].push((gap, e, r.evaluations));
                        if let Some(f) = pareto_csv.as_mut() {
                            for c in &r.pareto {
                                writeln!(
                                    f,
                                    "{},{},{},{budget},{seed},{},{},{}",
                                    set.name,
                                    layers[i].0,
                                    strategy.name(),
                                    r.bound_cycles,
                                    c.fit.f1,
                                    c.fit.f2
                                )?;
                            }
                        }
                        if let Some(f) = csv.as_mut() {
                            writeln!(
                                f,
                                "{},{},{},{budget},{seed},{rt},{},{gap},{e},{},{mapping}",
                                set.name,
                                layers[i].0,
                                strategy.name(),
                                r.bound_cycles,
                                r.evaluations
                            )?;
                        }
                    }
                }
                for (i, r) in rows.iter_mut().enumerate() {
                    let mut g: Vec<f64> = r.iter().map(|x| x.0).collect();
                    let mut e: Vec<f64> = r.iter().map(|x| x.1).collect();
                    let mut n: Vec<u64> = r.iter().map(|x| x.2).collect();
                    g.sort_by(f64::total_cmp);
                    e.sort_by(f64::total_cmp);
                    n.sort();
                    println!(
                        "| {} | {} | {} | {:.0e} | {:.4} | {:.4} | {:.4e} | {} |",
                        set.name,
                        layers[i].0,
                        strategy.name(),
                        budget as f64,
                        100.0 * median(&g),
                        100.0 * g.last().copied().unwrap_or(f64::NAN),
                        median(&e),
                        n[n.len() / 2]
                    );
                }
            }
        }
    }
    Ok(())
}

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
