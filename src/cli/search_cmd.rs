//! `gammaflow search`: GAMMA's search over a model's layers on one accelerator.

use super::named;
use anyhow::{bail, Context};
use clap::{Args, Parser};
use gammaflow::eval::{BackendChoice, Evaluator};
use gammaflow::hardware::Hardware;
use gammaflow::report::search_out::{totals, write_search_outputs_with, write_shared_report, OutputOptions};
use gammaflow::search::shared::{best_design, candidate_designs, pareto_designs, search_shared, DesignResult};
use gammaflow::search::{LayerResult, Objective, PeDraw, Prepared, SearchConfig, SearchOptions, Strategy};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser, Debug)]
// A negative number is a flag's value (refused with the flag named), not an unknown option.
#[command(name = "search", allow_negative_numbers = true)]
pub struct SearchArgs {
    #[command(flatten)]
    pub a: SearchOpts,
}

#[derive(Args, Debug, Clone)]
pub struct SearchOpts {
    /// Search strategy: `islands` (default: many small GAs with restarts in unexplored basins,
    /// neighbourhood polish and a loop-order phase for the second objective), `gamma` (GAMMA's GA
    /// as published) or `random` (the baseline).
    #[arg(long, value_parser = named::<Strategy>(), default_value = "islands")]
    pub strategy: Strategy,
    /// First objective.
    #[arg(long, value_parser = named::<Objective>(), default_value = "latency")]
    pub fitness1: Objective,
    /// Second objective (breaks ties of the first; spans the Pareto front). `none` to disable.
    #[arg(long, default_value = "power")]
    pub fitness2: String,
    /// Built-in model name or a model CSV path.
    #[arg(long, default_value = "resnet18")]
    pub model: String,
    /// Search only this layer (1-based).
    #[arg(long)]
    pub layer: Option<usize>,
    /// Search only the first N layers.
    #[arg(long)]
    pub num_layers: Option<usize>,
    /// Accelerator file: GAMMA's hwconfig text format, or TOML (`.toml`). Flags below override it.
    #[arg(long)]
    pub hwconfig: Option<PathBuf>,
    /// PEs; ≤ 0 means co-exploration, as in GAMMA.
    #[arg(long, allow_hyphen_values = true)]
    pub num_pe: Option<i64>,
    /// L1 (per PE) cap in elements; ≤ 0 means unlimited.
    #[arg(long, allow_hyphen_values = true)]
    pub l1_size: Option<i64>,
    /// L2 cap in elements; ≤ 0 means unlimited.
    #[arg(long, allow_hyphen_values = true)]
    pub l2_size: Option<i64>,
    #[arg(long, allow_hyphen_values = true)]
    pub noc_bw: Option<i64>,
    #[arg(long, allow_hyphen_values = true)]
    pub offchip_bw: Option<i64>,
    #[arg(long, default_value_t = 2)]
    pub slevel_min: usize,
    #[arg(long, default_value_t = 2)]
    pub slevel_max: usize,
    /// Generations of `--strategy gamma`. Without --max-evals the budget of every strategy is
    /// epochs x num-pop evaluations per layer (default 100 x 100); with --max-evals and no
    /// --epochs the search runs until the budget is spent.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Population per layer (per island for `islands`, default 48 there; 100 otherwise).
    #[arg(long)]
    pub num_pop: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value = "out")]
    pub outdir: PathBuf,
    #[arg(long, value_parser = named::<BackendChoice>(), default_value = "auto")]
    pub backend: BackendChoice,
    /// Evaluation budget per layer (each distinct layer shape gets it; `islands` spends none on
    /// repeats or on mappings over a buffer cap). A layer whose latency reaches the compute bound
    /// stops early once its second-objective phase is done.
    #[arg(long)]
    pub max_evals: Option<u64>,
    /// Stop after this many seconds of wall time (results then depend on machine speed).
    #[arg(long)]
    pub max_time: Option<f64>,
    /// Allow R and S as parallel dims.
    #[arg(long)]
    pub par_rs: bool,
    /// Fix the cluster size of every inner level.
    #[arg(long)]
    pub fixed_cluster: Option<i64>,
    /// Only tiles that divide their dimension.
    #[arg(long)]
    pub factor_tiles: bool,
    /// GAMMA's own tile ranges (Y/X tiles up to the input size; MAESTRO then sees impossible
    /// mappings, which `valid_physical` still rejects).
    #[arg(long)]
    pub gamma_compat: bool,
    /// Share of tile and cluster draws that pick a divisor of the enclosing extent (0 = GAMMA's
    /// uniform draws).
    #[arg(long, default_value_t = 0.25)]
    pub divisor_bias: f64,
    /// Let R and S tiles be partial (GAMMA fixes them to the full R and S by default).
    #[arg(long)]
    pub free_rs: bool,
    #[arg(long, default_value_t = 0.57)]
    pub crossover_rate: f64,
    #[arg(long, default_value_t = 0.47)]
    pub order_rate: f64,
    #[arg(long, default_value_t = 0.53)]
    pub tile_rate: f64,
    #[arg(long, default_value_t = 0.1)]
    pub par_swap_rate: f64,
    #[arg(long, default_value_t = 0.57)]
    pub grow_rate: f64,
    #[arg(long, default_value_t = 0.27)]
    pub aging_rate: f64,
    #[arg(long, default_value_t = 0.05)]
    pub elite_ratio: f64,
    #[arg(long, default_value_t = 0.4)]
    pub parents_ratio: f64,
    /// Co-exploration (DiGamma): search the PE count with the mapping (also implied by
    /// `--num-pe` ≤ 0, as in GAMMA). L1 and L2 are sized from the mapping's requirements.
    #[arg(long)]
    pub co_explore: bool,
    /// Largest PE count a co-explored design may have (default: --num-pe if positive, else 1024).
    #[arg(long)]
    pub pe_limit: Option<i64>,
    /// Hard area budget in mm^2: no reported design exceeds it.
    #[arg(long, allow_hyphen_values = true)]
    pub area_budget: Option<f64>,
    /// Area model: `gamma` (282 um^2/PE + 0.086 um^2/bit), `maestro`, or a TOML table
    /// (`kind = "table"`, `pe_um2`, `bit_um2`, `word_bits`).
    #[arg(long, default_value = "gamma")]
    pub area_model: String,
    /// Energy table: `maestro` (MAESTRO's constants, the default) or a TOML file with the energy
    /// per L1/L2 read and write of each tensor, per MAC, and the scale to nJ
    /// (data/energy/*.toml show the format). Changes energy, EDP and energy-area only.
    #[arg(long, default_value = "maestro")]
    pub energy_model: String,
    /// One accelerator for the whole model: search PEs, L1 and L2 shared by every layer (each
    /// layer keeps its own mapping), judged on the model's total first objective and on area.
    #[arg(long)]
    pub shared_hw: bool,
    /// Rate of the PE-count mutation when co-exploring.
    #[arg(long, default_value_t = 0.5)]
    pub pe_rate: f64,
    /// How co-exploration redraws the PE count: joint (a target PE count reached by changing the
    /// parallel tiling with it), upper-half (DiGamma's; the default), uniform.
    #[arg(long, value_parser = named::<PeDraw>())]
    pub pe_draw: Option<PeDraw>,
    /// Relative slack on the first objective within which the second decides: the reported
    /// mapping has the lowest second objective among the found mappings whose first is at most
    /// (1 + T) x the best (e.g. 1e-4: a runtime 0.01% above the fastest for less energy).
    /// 0 = strictly the fastest, ties broken by the second (GAMMA). Default: 1e-4 for
    /// `islands`, 0 for `gamma` and `random`.
    #[arg(long)]
    pub f1_tolerance: Option<f64>,
    /// Mapping constraint: a built-in accelerator map (nvdla, eyeriss, tpu) or a TOML file
    /// (data/constraints/*.toml shows the format). It fixes the number of cluster levels.
    #[arg(long)]
    pub mapping_cstr: Option<String>,
    /// Flexibility class of --mapping-cstr, 0-15: the sum of the axes left free (1 tile sizes,
    /// 2 loop order, 4 parallel dims, 8 cluster sizes); 0 = the map as written.
    #[arg(long, requires = "mapping_cstr")]
    pub flex_class: Option<u8>,
    /// Accelerator constraint file (TOML, per level: buffer fifo|scratchpad, distribution
    /// bus|tree|systolic, reduction temporal|reduce-and-forward|adder-tree), turned into mapping
    /// rules and added to --mapping-cstr (never relaxed by --flex-class).
    #[arg(long)]
    pub accel_cstr: Option<String>,
    /// Also write GAMMA's output folder (`OUTDIR/GAMMA_<settings>/result_c.csv`).
    #[arg(long)]
    pub gamma_layout: bool,
    /// Charts as SVG only, without the PNG beside each (as in a sweep's job folders).
    #[arg(long)]
    pub no_png: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

impl SearchOpts {
    /// The library's options these flags set (all but the output flags).
    pub fn options(&self) -> SearchOptions {
        SearchOptions {
            strategy: self.strategy,
            fitness1: self.fitness1,
            fitness2: self.fitness2.clone(),
            model: self.model.clone(),
            layer: self.layer,
            num_layers: self.num_layers,
            hwconfig: self.hwconfig.clone(),
            num_pe: self.num_pe,
            l1_size: self.l1_size,
            l2_size: self.l2_size,
            noc_bw: self.noc_bw,
            offchip_bw: self.offchip_bw,
            slevel_min: self.slevel_min,
            slevel_max: self.slevel_max,
            epochs: self.epochs,
            num_pop: self.num_pop,
            seed: self.seed,
            backend: self.backend,
            max_evals: self.max_evals,
            max_time: self.max_time,
            par_rs: self.par_rs,
            fixed_cluster: self.fixed_cluster,
            factor_tiles: self.factor_tiles,
            gamma_compat: self.gamma_compat,
            divisor_bias: self.divisor_bias,
            free_rs: self.free_rs,
            crossover_rate: self.crossover_rate,
            order_rate: self.order_rate,
            tile_rate: self.tile_rate,
            par_swap_rate: self.par_swap_rate,
            grow_rate: self.grow_rate,
            aging_rate: self.aging_rate,
            elite_ratio: self.elite_ratio,
            parents_ratio: self.parents_ratio,
            co_explore: self.co_explore,
            pe_limit: self.pe_limit,
            area_budget: self.area_budget,
            area_model: self.area_model.clone(),
            energy_model: self.energy_model.clone(),
            pe_rate: self.pe_rate,
            pe_draw: self.pe_draw,
            f1_tolerance: self.f1_tolerance,
            mapping_cstr: self.mapping_cstr.clone(),
            flex_class: self.flex_class,
            accel_cstr: self.accel_cstr.clone(),
            shared_hw: self.shared_hw,
        }
    }
}

/// Runs `search`. A first Ctrl-C (or SIGTERM) ends the search after its current round and still
/// writes every output with what was found so far, then exits with 130; a second one quits at
/// once without writing.
pub fn run(args: SearchArgs) -> anyhow::Result<()> {
    let outdir = args.a.outdir.clone();
    let hits = std::sync::atomic::AtomicU32::new(0);
    let handler = move || {
        if hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            eprintln!(
                "\ninterrupted: finishing this round, then writing what was found to {} (interrupt again to quit \
                 without writing)",
                outdir.display()
            );
            gammaflow::search::request_stop();
        } else {
            std::process::exit(130);
        }
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        eprintln!("note: Ctrl-C will end the search without writing its results ({e})");
    }
    let outdir = args.a.outdir.clone();
    let r = run_inner(args);
    if r.is_ok() && gammaflow::search::stop_requested() {
        eprintln!("interrupted: the results of the evaluations done so far are in {}", outdir.display());
        std::process::exit(130);
    }
    r
}

fn run_inner(args: SearchArgs) -> anyhow::Result<()> {
    let a = args.a;
    // The output folder and every option (in `prepare`) are checked before a model is read or a
    // device opened.
    crate::cli::checks::outdir_writable(&a.outdir)?;
    anyhow::ensure!(
        !(a.shared_hw && a.gamma_layout),
        "--gamma-layout writes GAMMA's folder of per-layer searches, which --shared-hw's per-design \
         results have no form of: leave one of them out"
    );
    let opts = a.options();
    let prepared = opts.prepare()?;
    let Prepared { model, hw, cfg, tasks } = &prepared;
    let selected: Vec<usize> = tasks.iter().map(|t| t.0).collect();
    if a.gamma_layout {
        // GAMMA's folder name carries the model's name and the settings: checked before the work.
        let name = gammaflow::report::gamma_layout::experiment_name(&gamma_run(&a, &model.name, hw), cfg);
        anyhow::ensure!(
            name.len() <= 255,
            "--gamma-layout: GAMMA's folder name for these settings would be {} bytes, over the 255 a file name \
             may have (it holds the model's name): use a shorter model file name or leave --gamma-layout out",
            name.len()
        );
    }
    if cfg.fitness2 == Some(cfg.fitness1) {
        eprintln!(
            "note: --fitness2 is --fitness1 ({}): it breaks no ties (give another objective or none)",
            cfg.fitness1.name()
        );
    }
    if let (Some(n), Some(l)) = (a.num_pe.filter(|&n| n > 0), a.pe_limit) {
        if (opts.co_explores() || a.shared_hw) && n != l {
            eprintln!("note: the PE count is searched up to --pe-limit {l}; --num-pe {n} is not used");
        }
    }
    if let Some(k) = a.num_layers.filter(|&k| k > model.layers.len()) {
        eprintln!("note: --num-layers {k}: {} has {} layer(s); searching all of them", model.name, model.layers.len());
    }
    if let Some(c) = &cfg.space.constraint {
        let (name, src, levels) = (&c.name, &c.source, c.levels.len());
        eprintln!("mapping constraint {name} ({src}), flexibility class {}, {levels} cluster level(s)", c.class);
    }
    let mut ev = Evaluator::new(a.backend)?;
    if let Some(why) = &ev.fallback_reason {
        eprintln!("note: {why}");
    }
    if a.shared_hw {
        return run_shared(
            &a,
            model,
            &selected.iter().map(|&i| (i, model.layers[i])).collect::<Vec<_>>(),
            hw,
            cfg,
            &mut ev,
        );
    }
    eprintln!(
        "searching {} layer(s) of {} on {} PEs (L1 {}, L2 {}), strategy {}, population {}, budget {} evaluations per layer, {} then {}, backend {}",
        tasks.len(),
        model.name,
        if cfg.space.co_explore { format!("up to {} co-explored", hw.num_pe) } else { hw.num_pe.to_string() },
        hw.l1_cap(),
        hw.l2_cap(),
        cfg.strategy.name(),
        cfg.num_pop,
        cfg.budget(),
        cfg.fitness1.name(),
        cfg.fitness2.map(|o| o.name()).unwrap_or("nothing"),
        ev.describe()
    );
    let bar = if a.quiet { ProgressBar::hidden() } else { ProgressBar::new(1) };
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} evals {msg}").expect("valid template"));
    let start = Instant::now();
    let f1_name = cfg.fitness1.name();
    let results = prepared.run(&mut ev, |p| {
        bar.set_length(p.budget);
        bar.set_position(p.evaluations);
        let rate = p.evaluations as f64 / p.elapsed.as_secs_f64().max(1e-9);
        let best = p.total_best_f1.map(|b| format!("{b:.6e}")).unwrap_or_else(|| "none yet".into());
        bar.set_message(format!("best {f1_name} {best} | {rate:.0} evals/s"));
    });
    bar.finish_and_clear();
    let wall = start.elapsed().as_secs_f64();
    let out_opts = OutputOptions { png: !a.no_png };
    write_search_outputs_with(&a.outdir, &model.name, cfg, &results, out_opts)
        .with_context(|| format!("writing results to {}", a.outdir.display()))?;
    if a.gamma_layout {
        let run = gamma_run(&a, &model.name, hw);
        gammaflow::report::gamma_layout::write_gamma_layout(&a.outdir, &run, cfg, &results)
            .context("writing GAMMA's output layout")?;
    }
    for r in &results {
        match &r.best {
            Some(b) => {
                let m = b.eval.metrics.unwrap_or_default();
                let same = r.same_as.map(|i| format!(" (same shape as layer {})", i + 1)).unwrap_or_default();
                outln!(
                    "layer {:>3}{same}: {} = {} | runtime {} cycles (bound {}, gap {:.4}%), energy {:.6e} nJ, PEs {}, L1 {}, L2 {} | {}",
                    r.index + 1,
                    cfg.fitness1.name(),
                    cfg.value(cfg.fitness1, b, &r.hw).unwrap_or(f64::NAN),
                    m.runtime_cycles,
                    r.bound_cycles,
                    100.0 * r.gap_to_bound().unwrap_or(f64::NAN),
                    m.energy_nj,
                    cfg.design_hw(&r.hw, &b.genome).num_pe,
                    m.l1_size_req,
                    m.l2_size_req,
                    b.genome.describe()
                );
            }
            None => outln!("layer {:>3}: no valid mapping found in {} evaluations", r.index + 1, r.evaluations),
        }
    }
    // The at-a-glance table last, so it is what the terminal shows when the search ends.
    outln!("\n{}", gammaflow::report::summary::search_table(&model.name, cfg, &results));
    let t = totals(&results);
    outln!(
        "total: runtime {} cycles, energy {:.6e} nJ over {} layer(s); {} evaluations in {:.2} s ({:.0}/s); results in {}",
        t.runtime_cycles,
        t.energy_nj,
        t.layers - t.layers_without_valid_mapping,
        t.evaluations,
        wall,
        t.evaluations as f64 / wall.max(1e-9),
        a.outdir.display()
    );
    if t.layers_without_valid_mapping > 0 {
        outln!("warning: {} layer(s) have no valid mapping", t.layers_without_valid_mapping);
    }
    Ok(())
}

/// What GAMMA's output folder is named after.
fn gamma_run<'a>(a: &SearchOpts, model: &'a str, hw: &Hardware) -> gammaflow::report::gamma_layout::GammaRun<'a> {
    gammaflow::report::gamma_layout::GammaRun {
        model,
        layer: a.layer,
        num_layers: a.num_layers,
        num_pe: a.num_pe.unwrap_or(hw.num_pe),
        l1_size: hw.l1_size,
        l2_size: hw.l2_size,
        area_budget_mm2: a.area_budget,
        pe_limit: a.pe_limit,
    }
}

/// `--shared-hw`: one accelerator for all selected layers.
fn run_shared(
    a: &SearchOpts,
    model: &gammaflow::workload::Model,
    layers: &[(usize, gammaflow::workload::Layer)],
    hw: &Hardware,
    cfg: &SearchConfig,
    ev: &mut Evaluator,
) -> anyhow::Result<()> {
    let pe_limit = if cfg.space.co_explore { hw.num_pe } else { a.pe_limit.unwrap_or(hw.num_pe) };
    let designs = candidate_designs(pe_limit, &cfg.area_model, cfg.area_budget_um2, hw);
    if designs.is_empty() {
        bail!("no candidate design fits the area budget of {} mm^2", cfg.area_budget_um2.unwrap_or(0.0) / 1e6);
    }
    eprintln!(
        "searching one accelerator for {} layer(s) of {}: {} candidate designs up to {pe_limit} PEs, strategy {}, {} evaluations per layer and design, backend {}",
        layers.len(),
        model.name,
        designs.len(),
        cfg.strategy.name(),
        cfg.budget(),
        ev.describe()
    );
    let bar = if a.quiet { ProgressBar::hidden() } else { ProgressBar::new(1) };
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} evals {msg}").expect("valid template"));
    let start = Instant::now();
    let mut results = search_shared(layers, &designs, hw, cfg, ev, |p| {
        bar.set_length(p.budget);
        bar.set_position(p.evaluations);
        bar.set_message(format!(
            "{} evals, {:.0} evals/s",
            p.evaluations,
            p.evaluations as f64 / p.elapsed.as_secs_f64().max(1e-9)
        ));
    });
    bar.finish_and_clear();
    let wall = start.elapsed().as_secs_f64();
    for d in &mut results {
        LayerResult::set_strides(&mut d.layers, model);
    }
    write_shared_outputs(&a.outdir, &model.name, cfg, &results, OutputOptions { png: !a.no_png })
        .with_context(|| format!("writing results to {}", a.outdir.display()))?;
    let evals: u64 = results.iter().flat_map(|r| r.layers.iter()).map(|l| l.evaluations).sum();
    match best_design(&results, cfg.fitness1) {
        Some(b) => {
            let d = &b.design;
            outln!(
                "best design for total {}: {} PEs, L1 {} (uses {}), L2 {} (uses {}), area {:.1} um^2 as used | total {} {}, runtime {} cycles, energy {:.6e} nJ",
                cfg.fitness1.name(),
                d.num_pe,
                d.l1,
                b.l1_used,
                d.l2,
                b.l2_used,
                b.area_used_um2,
                cfg.fitness1.name(),
                b.total_f1.unwrap_or(f64::NAN),
                b.total_runtime.unwrap_or(0),
                b.total_energy_nj.unwrap_or(0.0)
            );
            for p in pareto_designs(&results) {
                outln!(
                    "  pareto: {:>6} PEs, L1 {:>5} (uses {:>5}), L2 uses {:>8}, area {:>12.1} um^2, total {} {}",
                    p.design.num_pe,
                    p.design.l1,
                    p.l1_used,
                    p.l2_used,
                    p.area_used_um2,
                    cfg.fitness1.name(),
                    p.total_f1.unwrap_or(f64::NAN)
                );
            }
        }
        None => outln!("no candidate design maps every layer validly"),
    }
    outln!(
        "{evals} evaluations in {wall:.2} s ({:.0}/s); results in {}",
        evals as f64 / wall.max(1e-9),
        a.outdir.display()
    );
    Ok(())
}

/// designs.csv (every candidate), the best design's per-layer outputs, pareto_designs.svg/.png and
/// report.html.
fn write_shared_outputs(
    dir: &std::path::Path,
    model: &str,
    cfg: &SearchConfig,
    results: &[DesignResult],
    opts: OutputOptions,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut w = csv::Writer::from_path(dir.join("designs.csv"))?;
    w.write_record([
        "num_pe",
        "l1_size_elements",
        "l2_size_elements",
        "area_provisioned_um2",
        "l1_used_elements",
        "l2_used_elements",
        "area_used_um2",
        "feasible",
        "total_fitness1",
        "total_runtime_cycles",
        "total_bound_cycles",
        "gap_to_total_bound",
        "total_energy_nJ",
    ])?;
    for r in results {
        let d = &r.design;
        // The model's bound at this design: every layer at ceil(MACs / the design's PEs).
        let bound: i64 = r.layers.iter().map(|l| gammaflow::search::compute_bound(&l.layer, d.num_pe)).sum();
        w.write_record([
            d.num_pe.to_string(),
            d.l1.to_string(),
            d.l2.to_string(),
            format!("{}", d.area_um2),
            r.l1_used.to_string(),
            r.l2_used.to_string(),
            format!("{}", r.area_used_um2),
            r.total_f1.is_some().to_string(),
            r.total_f1.map(|v| format!("{v}")).unwrap_or_default(),
            r.total_runtime.map(|v| v.to_string()).unwrap_or_default(),
            bound.to_string(),
            r.total_runtime.map(|v| format!("{}", v as f64 / bound.max(1) as f64 - 1.0)).unwrap_or_default(),
            r.total_energy_nj.map(|v| format!("{v}")).unwrap_or_default(),
        ])?;
    }
    w.flush()?;
    if let Some(b) = best_design(results, cfg.fitness1) {
        write_search_outputs_with(&dir.join("best_design"), model, cfg, &b.layers, opts)?;
    }
    Ok(write_shared_report(dir, model, cfg, results, opts)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flags' defaults are the library's: a CLI search and a library (or Python) search with
    /// the same options left out run the same configuration.
    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let cli = SearchArgs::parse_from(["search"]).a.options();
        assert_eq!(cli, SearchOptions::default());
        // Every flag that is set reaches the options (one changed value per field type).
        let cli = SearchArgs::parse_from([
            "search",
            "--strategy",
            "gamma",
            "--fitness1",
            "latency-area",
            "--pe-draw",
            "upper-half",
            "--tile-rate",
            "0.25",
            "--layer",
            "3",
            "--co-explore",
            "--accel-cstr",
            "a.toml",
        ])
        .a
        .options();
        assert_eq!(cli.strategy, Strategy::Gamma);
        assert_eq!(cli.fitness1, Objective::LatencyArea);
        assert_eq!(cli.pe_draw, Some(PeDraw::UpperHalf));
        assert_eq!(cli.tile_rate, 0.25);
        assert_eq!(cli.layer, Some(3));
        assert!(cli.co_explore);
        assert_eq!(cli.accel_cstr.as_deref(), Some("a.toml"));
    }

    #[test]
    fn named_flags_accept_every_name_and_nothing_else() {
        use gammaflow::schema::Named;
        for o in Objective::ALL {
            let a = SearchArgs::try_parse_from(["search", "--fitness1", o.name()]).unwrap();
            assert_eq!(a.a.fitness1, *o);
        }
        for s in Strategy::ALL {
            assert_eq!(SearchArgs::try_parse_from(["search", "--strategy", s.name()]).unwrap().a.strategy, *s);
        }
        for d in PeDraw::ALL {
            assert_eq!(SearchArgs::try_parse_from(["search", "--pe-draw", d.name()]).unwrap().a.pe_draw, Some(*d));
        }
        let err = SearchArgs::try_parse_from(["search", "--fitness1", "latncy"]).unwrap_err().to_string();
        assert!(err.contains("latency"), "{err}");
    }
}
