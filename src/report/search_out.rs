//! Files a search writes into its output folder. Nothing here depends on wall time or on the
//! backend, so the same seed gives byte-identical files on the CPU and the GPU.

use super::chart::{short, Figure};
use super::html::{Cell, Page};
use super::summary::thousands;
use super::{draw, figures};
use crate::error::Context;
use crate::mapping::write_maestro;
use crate::report::OutputError;
use crate::search::{Candidate, LayerResult, SearchConfig};
use crate::workload::stride_text;
use serde::Serialize;
use serde_json::json;
use std::fs;
use std::path::Path;

/// Model-level sums of the per-layer best mappings (layers run one after another).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Totals {
    pub layers: usize,
    pub layers_without_valid_mapping: usize,
    pub runtime_cycles: i64,
    #[serde(rename = "energy_nJ")]
    pub energy_nj: f64,
    pub macs: i64,
    pub evaluations: u64,
}

pub fn totals(results: &[LayerResult]) -> Totals {
    let mut t = Totals { layers: results.len(), ..Totals::default() };
    for r in results {
        t.evaluations += r.evaluations;
        match r.best.as_ref().and_then(|b| b.eval.metrics) {
            Some(m) => {
                t.runtime_cycles += m.runtime_cycles;
                t.energy_nj += m.energy_nj;
                t.macs += m.num_macs;
            }
            None => t.layers_without_valid_mapping += 1,
        }
    }
    t
}

/// ceil(MACs / the design's PEs): the compute bound of the design found (the task's PEs unless
/// co-exploring).
fn design_bound(cfg: &SearchConfig, r: &LayerResult, c: &Candidate) -> i64 {
    crate::search::compute_bound(&r.layer, cfg.design_hw(&r.hw, &c.genome).num_pe)
}

fn candidate_json(c: &Candidate, cfg: &SearchConfig, r: &LayerResult) -> serde_json::Value {
    let m = c.eval.metrics.unwrap_or_default();
    json!({
        "fitness1": cfg.value(cfg.fitness1, c, &r.hw),
        "fitness2": cfg.fitness2.and_then(|o| cfg.value(o, c, &r.hw)),
        "runtime_cycles": m.runtime_cycles,
        "energy_nJ": m.energy_nj,
        "power": m.power,
        "area_maestro": m.area,
        "area_um2": cfg.area(c, &r.hw),
        "throughput_macs_per_cycle": m.throughput,
        "num_macs": m.num_macs,
        "l1_size_req_elements": m.l1_size_req,
        "l2_size_req_elements": m.l2_size_req,
        "num_pe": cfg.design_hw(&r.hw, &c.genome).num_pe,
        "design_bound_cycles": design_bound(cfg, r, c),
        "area_budget_share": cfg.area_budget_um2.and_then(|b| Some(cfg.area(c, &r.hw)?.total / b)),
        "mapping": c.genome,
        "mapping_text": c.genome.describe(),
    })
}

/// Units are in the names where they are known (MAESTRO states none for its area and power).
const CSV_HEADER: [&str; 35] = [
    "layer",
    "K",
    "C",
    "Y",
    "X",
    "R",
    "S",
    "T",
    "stride",
    "status",
    "fitness1",
    "fitness2",
    "runtime_cycles",
    "bound_cycles",
    "gap_to_bound",
    "parallel_bound_cycles",
    "gap_to_parallel_bound",
    "design_bound_cycles",
    "gap_to_design_bound",
    "energy_nJ",
    "power",
    "area_maestro",
    "area_um2",
    "area_pe_um2",
    "area_l1_um2",
    "area_l2_um2",
    "area_budget_share",
    "throughput_macs_per_cycle",
    "num_macs",
    "num_pe",
    "l1_size_req_elements",
    "l2_size_req_elements",
    "evaluations",
    "mapping",
    "mapping_text",
];

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// What results.json holds: the model, the config, the mapping constraint, the totals and one
/// object per layer (its best mapping and Pareto front).
pub fn results_json(model: &str, cfg: &SearchConfig, results: &[LayerResult]) -> serde_json::Value {
    let layers_json: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            json!({
                "layer": r.index + 1,
                "shape": r.layer,
                "stride": stride_text(r.stride),
                "hardware": r.hw,
                "evaluations": r.evaluations,
                "bound_cycles": r.bound_cycles,
                "gap_to_bound": r.gap_to_bound(),
                "parallel_bound_cycles": r.parallel_bound_cycles,
                "gap_to_parallel_bound": r.gap_to_parallel_bound(),
                "same_as_layer": r.same_as.map(|i| i + 1),
                "best": r.best.as_ref().map(|b| candidate_json(b, cfg, r)),
                "status": if r.best.is_some() { "ok" } else { "no valid mapping found" },
                "pareto": r.pareto.iter().map(|c| candidate_json(c, cfg, r)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "model": model,
        "config": cfg,
        "mapping_constraint": cfg.space.constraint.as_ref().map(|c| json!({"name": c.name, "source": c.source, "flex_class": c.class})),
        "totals": totals(results),
        "layers": layers_json,
    })
}

/// What a search folder gets besides its result files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputOptions {
    /// A PNG beside every SVG chart (most of a folder's size; sweeps' job folders leave them out).
    pub png: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions { png: true }
    }
}

/// [`write_search_outputs_with`] with the default options (SVG and PNG charts).
pub fn write_search_outputs(
    dir: &Path,
    model: &str,
    cfg: &SearchConfig,
    results: &[LayerResult],
) -> Result<(), OutputError> {
    write_search_outputs_with(dir, model, cfg, results, OutputOptions::default())
}

/// Removes the per-layer files of an earlier search in `dir` (`mappings/layer_NNN.m`,
/// `pareto/layer_NNN.svg|png`): files of layers this search does not have would otherwise sit
/// beside its own and read as its results. Other files are left alone.
fn remove_previous_layer_files(dir: &Path) -> Result<(), OutputError> {
    for (sub, exts) in [("mappings", &["m"][..]), ("pareto", &["svg", "png"][..])] {
        let folder = dir.join(sub);
        for entry in fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))? {
            let path = entry?.path();
            let ours = path.file_stem().and_then(|s| s.to_str()).is_some_and(|s| {
                s.strip_prefix("layer_").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            }) && path.extension().and_then(|e| e.to_str()).is_some_and(|e| exts.contains(&e));
            if ours && path.is_file() {
                fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// Writes results.csv, results.json, history.csv, pareto.csv, mappings/*.m, the charts (SVG, and
/// PNG with `opts.png`) and report.html; an earlier search's per-layer files in `dir` are removed
/// first. A chart that cannot be drawn (no font) is a warning, not an error: the results are
/// written regardless and the page says what is missing.
pub fn write_search_outputs_with(
    dir: &Path,
    model: &str,
    cfg: &SearchConfig,
    results: &[LayerResult],
    opts: OutputOptions,
) -> Result<(), OutputError> {
    fs::create_dir_all(dir.join("mappings")).with_context(|| format!("creating {}", dir.display()))?;
    fs::create_dir_all(dir.join("pareto"))?;
    remove_previous_layer_files(dir)?;
    let mut w = csv::Writer::from_path(dir.join("results.csv"))?;
    w.write_record(CSV_HEADER)?;
    for r in results {
        let l = &r.layer;
        let dims = [l.k, l.c, l.y, l.x, l.r, l.s, l.kind.code()].map(|v| v.to_string());
        let mut row: Vec<String> = vec![(r.index + 1).to_string()];
        row.extend(dims);
        row.push(stride_text(r.stride));
        match &r.best {
            Some(b) => {
                let m = b.eval.metrics.unwrap_or_default();
                let a = cfg.area(b, &r.hw).unwrap_or_default();
                let design = design_bound(cfg, r, b);
                row.extend([
                    "ok".to_string(),
                    opt(cfg.value(cfg.fitness1, b, &r.hw)),
                    opt(cfg.fitness2.and_then(|o| cfg.value(o, b, &r.hw))),
                    m.runtime_cycles.to_string(),
                    r.bound_cycles.to_string(),
                    opt(r.gap_to_bound()),
                    r.parallel_bound_cycles.to_string(),
                    opt(r.gap_to_parallel_bound()),
                    design.to_string(),
                    format!("{}", m.runtime_cycles as f64 / design.max(1) as f64 - 1.0),
                    format!("{}", m.energy_nj),
                    format!("{}", m.power),
                    format!("{}", m.area),
                    format!("{}", a.total),
                    format!("{}", a.pe),
                    format!("{}", a.l1),
                    format!("{}", a.l2),
                    opt(cfg.area_budget_um2.map(|budget| a.total / budget)),
                    format!("{}", m.throughput),
                    m.num_macs.to_string(),
                    cfg.design_hw(&r.hw, &b.genome).num_pe.to_string(),
                    m.l1_size_req.to_string(),
                    m.l2_size_req.to_string(),
                    r.evaluations.to_string(),
                    serde_json::to_string(&b.genome)?,
                    b.genome.describe(),
                ]);
                fs::write(
                    dir.join("mappings").join(format!("layer_{:03}.m", r.index + 1)),
                    write_maestro(&r.layer, &b.genome),
                )?;
            }
            None => {
                row.push("no valid mapping found".into());
                row.extend((0..3).map(|_| String::new()));
                row.push(r.bound_cycles.to_string());
                row.push(String::new());
                row.push(r.parallel_bound_cycles.to_string());
                row.extend((0..16).map(|_| String::new()));
                row.push(r.evaluations.to_string());
                row.extend([String::new(), String::new()]);
            }
        }
        w.write_record(&row)?;
    }
    w.flush()?;
    let doc = results_json(model, cfg, results);
    fs::write(dir.join("results.json"), serde_json::to_string_pretty(&doc)? + "\n")?;

    let mut h = csv::Writer::from_path(dir.join("history.csv"))?;
    h.write_record(["layer", "generation", "evaluations", "best_fitness1", "best_fitness2", "valid_fraction"])?;
    for r in results {
        for s in &r.history {
            h.write_record([
                (r.index + 1).to_string(),
                s.generation.to_string(),
                s.evaluations.to_string(),
                opt(s.best_f1),
                opt(s.best_f2),
                format!("{}", s.valid_fraction),
            ])?;
        }
    }
    h.flush()?;

    let mut p = csv::Writer::from_path(dir.join("pareto.csv"))?;
    p.write_record(["layer", "fitness1", "fitness2", "mapping"])?;
    for r in results {
        for c in &r.pareto {
            p.write_record([
                (r.index + 1).to_string(),
                opt(cfg.value(cfg.fitness1, c, &r.hw)),
                opt(cfg.fitness2.and_then(|o| cfg.value(o, c, &r.hw))),
                serde_json::to_string(&c.genome)?,
            ])?;
        }
    }
    p.flush()?;

    write_charts_and_page(dir, model, cfg, results, opts)
}

/// Charts written into an output folder, and the first reason one could not be.
pub struct Charts<'a> {
    dir: &'a Path,
    /// Write a PNG beside each SVG.
    pub png: bool,
    /// (path stem relative to the folder, caption) of every chart written.
    pub written: Vec<(String, String)>,
    pub failed: Option<String>,
}

impl<'a> Charts<'a> {
    pub fn new(dir: &'a Path, png: bool) -> Charts<'a> {
        Charts { dir, png, written: Vec::new(), failed: None }
    }

    /// Writes `stem.svg` (and `stem.png`); a failure is logged once and remembered for the page.
    pub fn add(&mut self, fig: Option<Figure>, stem: &str, caption: &str) {
        let Some(fig) = fig else { return };
        if self.failed.is_some() {
            return;
        }
        match draw::write_files(&fig, self.dir, stem, self.png) {
            Ok(()) => self.written.push((stem.to_string(), caption.to_string())),
            Err(e) => {
                log::warn!("{}: charts not written: {e}", self.dir.display());
                self.failed = Some(e.to_string());
            }
        }
    }

    /// Shows every chart written on the page.
    pub fn show_on(&self, page: &mut Page) {
        for (stem, caption) in &self.written {
            page.figure(stem, caption, self.png);
        }
    }

    /// Notes the failure on the page, if any.
    pub fn note_on(&self, page: &mut Page) {
        if let Some(why) = &self.failed {
            page.note(&format!("Charts were not drawn: {why}. The result files below are complete."));
        }
    }
}

fn cap(v: i64) -> String {
    if v <= 0 {
        "unlimited".into()
    } else {
        thousands(v)
    }
}

/// The settings a reader needs to know what was run (every field is in results.json).
pub fn settings_rows(model: &str, cfg: &SearchConfig, results: &[LayerResult]) -> Vec<(String, String)> {
    let distinct = results.iter().filter(|r| r.same_as.is_none()).count();
    let mut rows = vec![
        ("model".to_string(), model.to_string()),
        ("layers".into(), format!("{} searched, {distinct} distinct shapes", results.len())),
    ];
    if let Some(hw) = results.first().map(|r| r.hw) {
        let pes = if cfg.space.co_explore {
            format!("co-explored, up to {}", thousands(hw.num_pe))
        } else {
            thousands(hw.num_pe)
        };
        rows.push(("PEs".into(), pes));
        rows.push(("L1 per PE / L2 (elements)".into(), format!("{} / {}", cap(hw.l1_size), cap(hw.l2_size))));
        rows.push((
            "NoC / off-chip bandwidth (elements/cycle)".into(),
            format!("{} / {}", cap(hw.noc_bw), cap(hw.offchip_bw)),
        ));
    }
    rows.push(("strategy".into(), cfg.strategy.name().to_string()));
    rows.push((
        "objectives".into(),
        format!("{}, then {}", cfg.fitness1.name(), cfg.fitness2.map_or("nothing", |o| o.name())),
    ));
    rows.push(("budget".into(), format!("{} evaluations per layer shape", thousands(cfg.budget() as i64))));
    rows.push(("population".into(), cfg.num_pop.to_string()));
    rows.push(("seed".into(), cfg.seed.to_string()));
    rows.push(("cluster levels".into(), format!("{}..{}", cfg.space.slevel_min, cfg.space.slevel_max)));
    if let Some(c) = &cfg.space.constraint {
        rows.push(("mapping constraint".into(), format!("{} ({}), flexibility class {}", c.name, c.source, c.class)));
    }
    let area = match cfg.area_model {
        crate::hardware::AreaModel::Table { pe_um2, bit_um2, word_bits } => {
            format!("{pe_um2} um² per PE + {bit_um2} um² per bit, {word_bits} bits per element")
        }
        crate::hardware::AreaModel::Maestro => "MAESTRO's".to_string(),
    };
    rows.push(("area model".into(), area));
    if let Some(b) = cfg.area_budget_um2 {
        rows.push(("area budget".into(), format!("{} mm²", super::chart::plain(b * 1e-6))));
    }
    rows
}

/// Results table of the page: one row per layer and the totals.
fn layer_rows(cfg: &SearchConfig, results: &[LayerResult]) -> (Vec<String>, Vec<Vec<Cell>>) {
    let (o1, o2) = (cfg.fitness1, cfg.fitness2);
    let k1 = figures::unit(o1).1;
    // Latency is the runtime column already.
    let show_f1 = o1 != crate::search::Objective::Latency;
    let mut header = vec!["#".to_string(), "shape".into()];
    if show_f1 {
        header.push(format!("best {}", figures::axis_label(o1)));
    }
    if let Some(o) = o2 {
        header.push(format!("its {}", figures::axis_label(o)));
    }
    header.extend(
        [
            "runtime (cycles)",
            "bound (cycles)",
            "gap",
            "energy (nJ)",
            "PEs",
            "L1 (elements)",
            "L2 (elements)",
            "evaluations",
            "mapping",
        ]
        .map(String::from),
    );
    let mut rows = Vec::new();
    for r in results {
        let same = r.same_as.map(|i| format!(" (same as #{})", i + 1)).unwrap_or_default();
        let mut row =
            vec![Cell::num((r.index + 1).to_string()), Cell::text(format!("{}{same}", figures::shape_text(&r.layer)))];
        match r.best.as_ref().and_then(|b| Some((b, b.eval.metrics?))) {
            Some((b, m)) => {
                if show_f1 {
                    row.push(Cell::num(cfg.value(o1, b, &r.hw).map_or("-".into(), |v| short(v * k1))));
                }
                if let Some(o) = o2 {
                    row.push(Cell::num(cfg.value(o, b, &r.hw).map_or("-".into(), |v| short(v * figures::unit(o).1))));
                }
                let m_file = format!("mappings/layer_{:03}.m", r.index + 1);
                row.extend([
                    Cell::num(thousands(m.runtime_cycles)),
                    Cell::num(thousands(r.bound_cycles)),
                    Cell::num(r.gap_to_bound().map_or("-".into(), |g| format!("{:.2}%", 100.0 * g))),
                    Cell::num(short(m.energy_nj)),
                    Cell::num(cfg.design_hw(&r.hw, &b.genome).num_pe.to_string()),
                    Cell::num(thousands(m.l1_size_req)),
                    Cell::num(thousands(m.l2_size_req)),
                    Cell::num(thousands(r.evaluations as i64)),
                    Cell::link(format!("layer_{:03}.m", r.index + 1), m_file),
                ]);
            }
            None => {
                if show_f1 {
                    row.push(Cell::text(""));
                }
                if o2.is_some() {
                    row.push(Cell::text(""));
                }
                row.extend([Cell::text("no valid mapping"), Cell::num(thousands(r.bound_cycles))]);
                row.extend((0..5).map(|_| Cell::text("")));
                row.push(Cell::num(thousands(r.evaluations as i64)));
                row.push(Cell::text(""));
            }
        }
        rows.push(row);
    }
    let t = totals(results);
    let bound: i64 = results.iter().map(|r| r.bound_cycles).sum();
    let mut total = vec![Cell::text("total"), Cell::text(format!("{} layers", results.len()))];
    let sum = |o: crate::search::Objective| {
        results
            .iter()
            .map(|r| r.best.as_ref().and_then(|b| cfg.value(o, b, &r.hw)))
            .sum::<Option<f64>>()
            .filter(|_| figures::additive(o))
            .map_or(String::new(), |v| short(v * figures::unit(o).1))
    };
    if show_f1 {
        total.push(Cell::num(sum(o1)));
    }
    if let Some(o) = o2 {
        total.push(Cell::num(sum(o)));
    }
    let complete = t.layers_without_valid_mapping == 0;
    total.extend([
        Cell::num(thousands(t.runtime_cycles)),
        Cell::num(thousands(bound)),
        Cell::num(if complete {
            format!("{:.2}%", 100.0 * (t.runtime_cycles as f64 / bound.max(1) as f64 - 1.0))
        } else {
            String::new()
        }),
        Cell::num(short(t.energy_nj)),
        Cell::text(""),
        Cell::text(""),
        Cell::text(""),
        Cell::num(thousands(t.evaluations as i64)),
        Cell::text(""),
    ]);
    rows.push(total);
    (header, rows)
}

/// The charts of a search folder and its report.html.
fn write_charts_and_page(
    dir: &Path,
    model: &str,
    cfg: &SearchConfig,
    results: &[LayerResult],
    opts: OutputOptions,
) -> Result<(), OutputError> {
    let mut charts = Charts::new(dir, opts.png);
    charts.add(
        Some(figures::convergence(model, cfg, results)),
        "convergence",
        "Best first objective against evaluations: the model total and the slowest layers, compute bounds dashed",
    );
    charts.add(
        figures::convergence_layers(model, cfg, results),
        "convergence_layers",
        "Convergence of every distinct layer shape, with its compute bound",
    );
    charts.add(
        figures::layer_bars(model, results, &cfg.energy_model),
        "layers",
        "Runtime and energy per layer, share of the model total",
    );
    charts.add(
        figures::coexplore_layers(model, cfg, results),
        "coexplore",
        "Co-explored designs: area against latency, area budget dashed",
    );
    let mut paretos = Vec::new();
    for r in results {
        let stem = format!("pareto/layer_{:03}", r.index + 1);
        let before = charts.written.len();
        charts.add(figures::pareto(model, cfg, r), &stem, &format!("Layer {}: Pareto front", r.index + 1));
        if charts.written.len() > before {
            paretos.push(charts.written.pop().expect("just written"));
        }
    }

    let mut page = Page::new(format!("{model}: mapping search"));
    charts.note_on(&mut page);
    page.heading("Settings");
    page.settings(&settings_rows(model, cfg, results));
    page.heading("Results per layer");
    let (header, rows) = layer_rows(cfg, results);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    page.table(&header, &rows);
    if !charts.written.is_empty() || !paretos.is_empty() {
        page.heading("Charts");
        charts.show_on(&mut page);
        if !paretos.is_empty() {
            page.heading("Pareto fronts");
            page.figure_grid(&paretos, charts.png);
        }
    }
    page.heading("Files");
    let mut files = vec![
        ("results.csv".to_string(), "one row per layer: objectives, metrics, design, mapping".to_string()),
        ("results.json".to_string(), "the same with the full configuration, totals and Pareto fronts".to_string()),
        ("history.csv".to_string(), "best objectives after every round of each layer".to_string()),
        ("pareto.csv".to_string(), "the non-dominated mappings of each layer".to_string()),
    ];
    if results.iter().any(|r| r.best.is_some()) {
        files.push(("mappings/".to_string(), "MAESTRO mapping file of every layer's best mapping".to_string()));
    }
    page.files(&files);
    fs::write(dir.join("report.html"), page.finish())
        .with_context(|| format!("writing {}", dir.join("report.html").display()))?;
    Ok(())
}

/// `--shared-hw`'s folder: `pareto_designs.svg`/`.png` and a report.html over the designs (each
/// layer's results are in `best_design/`, with their own page).
pub fn write_shared_report(
    dir: &Path,
    model: &str,
    cfg: &SearchConfig,
    results: &[crate::search::shared::DesignResult],
    opts: OutputOptions,
) -> Result<(), OutputError> {
    use crate::search::shared::{best_design, pareto_designs};
    let mut charts = Charts::new(dir, opts.png);
    charts.add(
        figures::shared_designs(model, cfg, results),
        "pareto_designs",
        "Candidate designs: area against the model total, Pareto front, area budget and the chosen design",
    );
    let mut page = Page::new(format!("{model}: one accelerator for the model"));
    charts.note_on(&mut page);
    page.heading("Settings");
    let layers: Vec<LayerResult> = results.first().map(|r| r.layers.clone()).unwrap_or_default();
    let mut settings = settings_rows(model, cfg, &layers);
    settings.retain(|(k, _)| k != "PEs" && k != "L1 per PE / L2 (elements)");
    settings.push(("candidate designs".into(), results.len().to_string()));
    page.settings(&settings);
    let best = best_design(results, cfg.fitness1);
    page.heading("Pareto designs");
    let o = cfg.fitness1;
    let label = format!("model total {}", figures::axis_label(o));
    let header = [
        "PEs",
        "L1 (elements)",
        "L1 used",
        "L2 (elements)",
        "L2 used",
        "area used (mm²)",
        label.as_str(),
        "runtime (cycles)",
        "energy (nJ)",
        "chosen",
    ];
    let rows: Vec<Vec<Cell>> = pareto_designs(results)
        .into_iter()
        .map(|r| {
            let chosen = best.is_some_and(|b| std::ptr::eq(b, r));
            vec![
                Cell::num(thousands(r.design.num_pe)),
                Cell::num(thousands(r.design.l1)),
                Cell::num(thousands(r.l1_used)),
                Cell::num(thousands(r.design.l2)),
                Cell::num(thousands(r.l2_used)),
                Cell::num(format!("{:.4}", r.area_used_um2 * 1e-6)),
                Cell::num(r.total_f1.map_or("-".into(), |v| short(v * figures::unit(o).1))),
                Cell::num(r.total_runtime.map_or("-".into(), thousands)),
                Cell::num(r.total_energy_nj.map_or("-".into(), short)),
                if chosen { Cell::link("yes: best_design/", "best_design/report.html") } else { Cell::text("") },
            ]
        })
        .collect();
    page.table(&header, &rows);
    if !charts.written.is_empty() {
        page.heading("Charts");
        charts.show_on(&mut page);
    }
    page.heading("Files");
    let mut files = vec![("designs.csv".to_string(), "every candidate design with its totals".to_string())];
    if best.is_some() {
        files.push(("best_design/report.html".to_string(), "the chosen design's per-layer results".to_string()));
    }
    page.files(&files);
    fs::write(dir.join("report.html"), page.finish())
        .with_context(|| format!("writing {}", dir.join("report.html").display()))?;
    Ok(())
}
