//! Co-exploration quality (DiGamma's setting, `--co-explore`): latency then area under an area
//! budget and a PE limit, per layer, over seeds, for each strategy and budget. `--csv FILE`
//! writes every run (its last column, `mapping`, is the design found); `benches/coexplore_table.py` turns the files into BENCHMARKS.md's table.
//!
//! `cargo run --release --example coexplore_quality -- --budgets 1e4,1e6 --seeds 10 --csv c.csv`
//! (`--setting edge|mid|cloud` and `--layer vgg16#2` narrow the run)

#[path = "common/args.rs"]
mod args;
use args::arg;

use gammaflow::eval::{BackendChoice, Evaluator};
use gammaflow::hardware::Hardware;
use gammaflow::search::{compute_bound, search, Objective, SearchConfig, SpaceOptions, Strategy};
use gammaflow::workload::builtin::resolve_model;
use std::io::Write;

/// (name, area budget mm^2, PE limit).
const SETTINGS: [(&str, f64, i64); 3] = [("edge", 0.5, 1024), ("mid", 4.0, 4096), ("cloud", 20.0, 16384)];
const LAYERS: [(&str, usize); 8] = [
    ("resnet50", 5),
    ("resnet50", 40),
    ("vgg16", 2),
    ("vgg16", 8),
    ("mnasnet", 4),
    ("mnasnet", 30),
    ("bert", 1),
    ("bert", 25),
];

fn main() -> anyhow::Result<()> {
    let budgets = args::budgets("1e4")?;
    let seeds = args::seeds()?;
    let strategies = args::strategies()?;
    let which = arg("--setting").unwrap_or_else(|| "all".into());
    // `--layer vgg16#2` runs one of the layers only.
    let only = arg("--layer");
    let pe_draw = arg("--pe-draw").map(|s| args::named::<gammaflow::search::PeDraw>(&s)).transpose()?;
    let mut csv = arg("--csv").map(std::fs::File::create).transpose()?;
    if let Some(f) = csv.as_mut() {
        writeln!(
            f,
            "setting,layer,strategy,budget,seed,runtime,pes,area_um2,area_budget_um2,pe_limit,l1_elements,l2_elements,\
             design_bound,parallel_bound,evaluations,mapping"
        )?;
    }
    let mut ev = Evaluator::new(BackendChoice::Cpu)?;
    let tasks: Vec<(String, gammaflow::workload::Layer)> = LAYERS
        .iter()
        .map(|(m, i)| Ok((format!("{m}#{i}"), resolve_model(m)?.layers[i - 1])))
        .collect::<anyhow::Result<_>>()?;
    for &(setting, mm2, limit) in SETTINGS.iter().filter(|s| which == "all" || s.0 == which) {
        let hw = Hardware { num_pe: limit, ..Hardware::default() };
        let t: Vec<_> = tasks
            .iter()
            .enumerate()
            .filter(|(_, (name, _))| only.as_ref().is_none_or(|o| o == name))
            .map(|(i, (_, l))| (i, *l, hw))
            .collect();
        for &strategy in &strategies {
            for &budget in &budgets {
                for seed in seeds.clone() {
                    let cfg =
                        SearchConfig {
                            strategy,
                            fitness1: Objective::Latency,
                            fitness2: Some(Objective::Area),
                            num_pop: arg("--pop")
                                .map(|p| p.parse().unwrap())
                                .unwrap_or(if strategy == Strategy::Islands { 48 } else { 100 }),
                            epochs: 0,
                            max_evals: Some(budget),
                            seed,
                            space: SpaceOptions { co_explore: true, pe_draw, ..SpaceOptions::default() },
                            area_budget_um2: Some(mm2 * 1e6),
                            ..SearchConfig::default()
                        };
                    for r in search(&t, &cfg, &mut ev, |_| {}) {
                        let Some(b) = r.best.as_ref() else { continue };
                        let m = b.eval.metrics.unwrap_or_default();
                        let pes = b.genome.levels[0].size;
                        let area = cfg.area(b, &r.hw).map(|a| a.total).unwrap_or(f64::NAN);
                        if let Some(f) = csv.as_mut() {
                            writeln!(
                                f,
                                "{setting},{},{},{budget},{seed},{},{pes},{area},{},{limit},{},{},{},{},{},{}",
                                tasks[r.index].0,
                                strategy.name(),
                                m.runtime_cycles,
                                mm2 * 1e6,
                                m.l1_size_req,
                                m.l2_size_req,
                                compute_bound(&r.layer, pes),
                                r.parallel_bound_cycles,
                                r.evaluations,
                                // The design in `Genome::describe`'s form (no commas).
                                b.genome.describe()
                            )?;
                        }
                    }
                    println!("{setting} {} {budget} seed {seed} done", strategy.name());
                }
            }
        }
    }
    Ok(())
}
