//! `gammaflow report`: a summary table, charts (SVG and PNG) and `report.html` of a sweep's
//! results.
//!
//! Rows are aggregated per *configuration*: everything that identifies a search except the layer
//! (model, accelerator, objectives, population, epochs, seed). A configuration's value of an
//! objective is the sum over its layers of the best mapping's value (the total `gammaflow search`
//! prints for latency and energy), whether those layers were one job or, with `split_layers`,
//! one job each. A configuration with a layer without a valid mapping has no total and counts as
//! incomplete. Lower is better except for throughput.
//!
//! Charts aggregate over seeds: a *setting* is a configuration without its seed, a bar is the
//! mean over a setting's seeds and its whisker spans their min and max; where several settings
//! compete for a bar (say two population sizes on the accelerator chart), the one with the best
//! mean is shown. Categorical axes (accelerators, population sizes, flexibility classes) are bar
//! groups; value axes are logarithmic when the values span a decade or more.

use super::store::{read_rows, Row, SweepMeta, CSV_FILE, JSONL_FILE, META_FILE};
use super::SweepError;
use crate::error::Context;
use crate::report::chart::{color, Axis, Figure, Mark, Panel, Series};
use crate::report::figures::{self, grouped_bars, objective_named, Spread};
use crate::report::html::{Cell, Page};
use crate::report::search_out::Charts;
use crate::search::Objective;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::fs;
use std::path::Path;

/// One configuration's totals.
#[derive(Debug, Clone)]
struct JobTotal {
    /// First job of the configuration (orders the table and breaks ties).
    job: usize,
    /// The job id, or how many jobs made up the configuration.
    id: String,
    /// The job id when the configuration is one job.
    job_id: Option<String>,
    /// The configuration without its seed: runs with the same setting differ only in the seed.
    setting: String,
    model: String,
    layers: Vec<usize>,
    accelerator: String,
    f1: String,
    f2: String,
    num_pop: usize,
    epochs: usize,
    seed: u64,
    /// Mapping constraint as written ("none" without one) and its flexibility class.
    map: String,
    flex_class: Option<u8>,
    total_f1: Option<f64>,
    total_f2: Option<f64>,
}

/// The columns that identify a configuration but its seed (a sweep axis that adds a row column
/// belongs here).
fn setting_key(r: &Row) -> String {
    let hw = [r.num_pe, r.l1_size, r.l2_size, r.noc_bw, r.offchip_bw];
    format!(
        "{}\u{1f}{}\u{1f}{hw:?}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1f}{}\u{1f}{:?}",
        r.model,
        r.accelerator,
        r.fitness1,
        r.fitness2,
        r.num_pop,
        r.epochs,
        r.mapping_constraint,
        r.flex_class,
        r.accel_constraint,
        r.area_budget_mm2
    )
}

/// The columns that identify a configuration.
fn config_key(r: &Row) -> String {
    format!("{}\u{1f}{}", setting_key(r), r.seed)
}

fn maximised(objective: &str) -> bool {
    objective == "throughput"
}

/// `a` better than `b` on (f1, then f2), job order breaking ties so the choice is deterministic.
fn better(a: &JobTotal, b: &JobTotal) -> bool {
    let key = |j: &JobTotal| {
        let s1 = if maximised(&j.f1) { -1.0 } else { 1.0 };
        let s2 = if maximised(&j.f2) { -1.0 } else { 1.0 };
        (j.total_f1.map_or(f64::INFINITY, |v| s1 * v), j.total_f2.map_or(f64::INFINITY, |v| s2 * v), j.job)
    };
    let (ka, kb) = (key(a), key(b));
    ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(ka.2.cmp(&kb.2)).is_lt()
}

fn totals(rows: &[Row]) -> Vec<JobTotal> {
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by_key(|r| (r.job, r.layer));
    let mut order: Vec<String> = Vec::new();
    let mut by_key: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in sorted {
        let k = config_key(r);
        let v = by_key.entry(k.clone()).or_default();
        if v.is_empty() {
            order.push(k);
        }
        // A layer listed by two jobs of one configuration counts once (the first job's row).
        if !v.iter().any(|x| x.layer == r.layer) {
            v.push(r);
        }
    }
    order
        .iter()
        .map(|k| {
            let mut rs = by_key[k].clone();
            rs.sort_by_key(|r| r.layer);
            let r0 = rs[0];
            let sum = |f: fn(&Row) -> Option<f64>| rs.iter().map(|r| f(r)).sum::<Option<f64>>();
            let jobs: BTreeSet<&str> = rs.iter().map(|r| r.job_id.as_str()).collect();
            JobTotal {
                job: rs.iter().map(|r| r.job).min().unwrap_or(0),
                id: if jobs.len() == 1 { format!("`{}`", r0.job_id) } else { format!("{} jobs", jobs.len()) },
                job_id: (jobs.len() == 1).then(|| r0.job_id.clone()),
                setting: setting_key(r0),
                model: r0.model.clone(),
                layers: rs.iter().map(|r| r.layer).collect(),
                accelerator: r0.accelerator.clone(),
                f1: r0.fitness1.clone(),
                f2: r0.fitness2.clone(),
                num_pop: r0.num_pop,
                epochs: r0.epochs,
                seed: r0.seed,
                map: r0.mapping_constraint.clone(),
                flex_class: r0.flex_class,
                total_f1: sum(|r| r.best_fitness1),
                total_f2: if r0.fitness2 == "none" { None } else { sum(|r| r.best_fitness2) },
            }
        })
        .collect()
}

/// `1-3,5` for [1, 2, 3, 5].
fn ranges(v: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        parts.push(if j > i { format!("{}-{}", v[i], v[j]) } else { v[i].to_string() });
        i = j + 1;
    }
    parts.join(",")
}

/// Model labels: the model's name, plus its layers when jobs of that model cover different
/// layer sets (their totals are then not comparable, so they are kept apart).
fn label_models(jobs: &mut [JobTotal]) {
    let mut sets: BTreeMap<String, BTreeSet<Vec<usize>>> = BTreeMap::new();
    for j in jobs.iter() {
        sets.entry(j.model.clone()).or_default().insert(j.layers.clone());
    }
    for j in jobs.iter_mut() {
        if sets[&j.model].len() > 1 {
            j.model = format!("{} [layers {}]", j.model, ranges(&j.layers));
        }
    }
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "-".to_string(),
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
        Some(x) => format!("{x:.6e}"),
    }
}

/// A file-name-safe form of a label.
fn slug(s: &str) -> String {
    let s: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    s.trim_matches('_').to_string()
}

/// Distinct values in order of first appearance.
fn ordered<'a>(it: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for s in it {
        if !v.iter().any(|x| x == s) {
            v.push(s.to_string());
        }
    }
    v
}

fn best<'a>(it: impl Iterator<Item = &'a JobTotal>) -> Option<&'a JobTotal> {
    it.filter(|j| j.total_f1.is_some()).fold(None, |acc: Option<&JobTotal>, j| match acc {
        Some(b) if !better(j, b) => Some(b),
        _ => Some(j),
    })
}

/// Non-dominated jobs over (f1, f2), both as costs.
fn pareto(jobs: &[&JobTotal]) -> Vec<(f64, f64)> {
    let cost = |j: &JobTotal| -> Option<(f64, f64)> {
        let (a, b) = (j.total_f1?, j.total_f2?);
        Some((if maximised(&j.f1) { -a } else { a }, if maximised(&j.f2) { -b } else { b }))
    };
    let pts: Vec<((f64, f64), (f64, f64))> =
        jobs.iter().filter_map(|j| Some((cost(j)?, (j.total_f1?, j.total_f2?)))).collect();
    let mut front: Vec<(f64, f64)> = pts
        .iter()
        .filter(|(c, _)| !pts.iter().any(|(o, _)| o.0 <= c.0 && o.1 <= c.1 && (o.0 < c.0 || o.1 < c.1)))
        .map(|(_, v)| *v)
        .collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    front.dedup();
    front
}

/// A table of the report, rendered as markdown (summary.md, stdout) and HTML (report.html).
struct Table {
    title: Option<String>,
    header: Vec<String>,
    /// Right-aligned columns.
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
    /// Job id per row, for the HTML link to the job's own report.
    jobs: Vec<Option<String>>,
}

impl Table {
    fn markdown(&self) -> String {
        let mut t = String::new();
        if let Some(title) = &self.title {
            let _ = writeln!(t, "\n**{title}**\n");
        }
        let _ = writeln!(t, "| {} |", self.header.join(" | "));
        let align: Vec<&str> = self.numeric.iter().map(|n| if *n { "---:" } else { "---" }).collect();
        let _ = writeln!(t, "|{}|", align.join("|"));
        for r in &self.rows {
            let _ = writeln!(t, "| {} |", r.join(" | "));
        }
        t
    }

    /// `link(job id)` gives the href of a job's page, if it has one.
    fn html(&self, page: &mut Page, link: &dyn Fn(&str) -> Option<String>) {
        if let Some(title) = &self.title {
            page.para(title);
        }
        let rows: Vec<Vec<Cell>> = self
            .rows
            .iter()
            .zip(&self.jobs)
            .map(|(r, job)| {
                r.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let text = c.trim_matches('`').to_string();
                        let last = i + 1 == r.len();
                        match job.as_deref().filter(|_| last).and_then(link) {
                            Some(to) => Cell::link(text, to),
                            None if self.numeric.get(i).copied().unwrap_or(false) => Cell::num(text),
                            None => Cell::text(text),
                        }
                    })
                    .collect()
            })
            .collect();
        let header: Vec<&str> = self.header.iter().map(String::as_str).collect();
        page.table(&header, &rows);
    }
}

/// One table per model and first objective: a row per (mapping constraint, flexibility class),
/// a column per accelerator, each cell the best total fitness1 of those runs.
fn flex_tables(jobs: &[JobTotal], accs: &[String], models: &[String]) -> Vec<Table> {
    let mut out = Vec::new();
    for m in models {
        let of_model: Vec<&JobTotal> = jobs.iter().filter(|j| &j.model == m).collect();
        for f1 in ordered(of_model.iter().map(|j| j.f1.as_str())) {
            let with_f1: Vec<&JobTotal> = of_model.iter().copied().filter(|j| j.f1 == f1).collect();
            let mut keys: Vec<(String, Option<u8>)> =
                with_f1.iter().map(|j| (j.map.clone(), j.flex_class)).collect::<BTreeSet<_>>().into_iter().collect();
            keys.sort_by(|a, b| (a.0 != "none", &a.0, a.1).cmp(&(b.0 != "none", &b.0, b.1)));
            let mut header = vec!["mapping constraint".to_string(), "flex class".to_string()];
            header.extend(accs.iter().cloned());
            let rows: Vec<Vec<String>> = keys
                .iter()
                .map(|(map, k)| {
                    let mut row = vec![map.clone(), k.map_or("-".to_string(), |k| k.to_string())];
                    row.extend(accs.iter().map(|a| {
                        num(best(
                            with_f1
                                .iter()
                                .copied()
                                .filter(|j| &j.accelerator == a && &j.map == map && j.flex_class == *k),
                        )
                        .and_then(|b| b.total_f1))
                    }));
                    row
                })
                .collect();
            let mut numeric = vec![false, true];
            numeric.extend(accs.iter().map(|_| true));
            out.push(Table {
                title: Some(format!("{m}: best {f1} per flexibility class and accelerator")),
                header,
                numeric,
                jobs: vec![None; rows.len()],
                rows,
            });
        }
    }
    out
}

/// What `report` produced.
#[derive(Debug)]
pub struct ReportOutput {
    /// The markdown summary table.
    pub table: String,
    /// Paths of the plots (SVG; a PNG of each lies beside it), relative to the output folder.
    pub plots: Vec<String>,
    /// Why charts are missing, if they are (no font).
    pub charts_failed: Option<String>,
}

/// The best setting's spread over seeds among `runs` (mean is best; lower is better except for
/// throughput), scaled to the chart's unit. Runs without a total are left out.
fn best_spread<'a>(runs: impl Iterator<Item = &'a JobTotal>, f1: &str, k: f64) -> Option<Spread> {
    let mut by: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for j in runs {
        if let Some(v) = j.total_f1 {
            by.entry(j.setting.as_str()).or_default().push(v * k);
        }
    }
    let sign = if maximised(f1) { -1.0 } else { 1.0 };
    by.values().filter_map(|v| Spread::of(v)).min_by(|a, b| (sign * a.mean).total_cmp(&(sign * b.mean)))
}

/// A path from folder `from` to `to` for a link (both exist; absolute when they share no root).
fn relative(from: &Path, to: &Path) -> String {
    let (Ok(a), Ok(b)) = (fs::canonicalize(from), fs::canonicalize(to)) else {
        return to.display().to_string();
    };
    let (ac, bc): (Vec<_>, Vec<_>) = (a.components().collect(), b.components().collect());
    let common = ac.iter().zip(&bc).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return b.display().to_string();
    }
    let mut parts: Vec<String> = vec!["..".to_string(); ac.len() - common];
    parts.extend(bc[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Reads the results of `input` (a sweep, shard or merged folder) and writes `summary.md`,
/// `plots/*.svg` and `*.png`, and `report.html` into `out`.
pub fn report(input: &Path, out: &Path) -> Result<ReportOutput, SweepError> {
    let rows = read_rows(input)?;
    let meta = SweepMeta::read(input).ok();
    let mut jobs = totals(&rows);
    label_models(&mut jobs);

    let accs = ordered(jobs.iter().map(|j| j.accelerator.as_str()));
    let models = ordered(jobs.iter().map(|j| j.model.as_str()));
    let mut keys: Vec<(usize, String, String, String, String)> = Vec::new();
    for j in &jobs {
        let k = (j.model.clone(), j.accelerator.clone(), j.f1.clone(), j.f2.clone());
        if !keys.iter().any(|x| (&x.1, &x.2, &x.3, &x.4) == (&k.0, &k.1, &k.2, &k.3)) {
            keys.push((j.job, k.0, k.1, k.2, k.3));
        }
    }
    let mut main = Table {
        title: None,
        header: [
            "model",
            "accelerator",
            "fitness1",
            "fitness2",
            "runs",
            "incomplete",
            "best fitness1",
            "its fitness2",
            "num_pop",
            "epochs",
            "seed",
            "job",
        ]
        .map(String::from)
        .to_vec(),
        numeric: vec![false, false, false, false, true, true, true, true, true, true, true, false],
        rows: Vec::new(),
        jobs: Vec::new(),
    };
    for (_, m, a, f1, f2) in &keys {
        let members: Vec<&JobTotal> =
            jobs.iter().filter(|j| (&j.model, &j.accelerator, &j.f1, &j.f2) == (m, a, f1, f2)).collect();
        let incomplete = members.iter().filter(|j| j.total_f1.is_none()).count();
        let mut row = vec![
            m.clone(),
            a.clone(),
            Objective::labelled(f1),
            Objective::labelled(f2),
            members.len().to_string(),
            incomplete.to_string(),
        ];
        let b = best(members.iter().copied());
        match b {
            Some(b) => row.extend([
                num(b.total_f1),
                num(b.total_f2),
                b.num_pop.to_string(),
                b.epochs.to_string(),
                b.seed.to_string(),
                b.id.clone(),
            ]),
            None => row.extend((0..6).map(|_| "-".to_string())),
        }
        main.rows.push(row);
        main.jobs.push(b.and_then(|b| b.job_id.clone()));
    }
    let mut tables = vec![main];
    // Best fitness1 per flexibility class and accelerator, when the sweep varies the class.
    let classes: BTreeSet<Option<u8>> = jobs.iter().map(|j| j.flex_class).collect();
    if classes.len() > 1 {
        tables.extend(flex_tables(&jobs, &accs, &models));
    }
    let table: String = tables.iter().map(Table::markdown).collect();

    let plot_dir = out.join("plots");
    fs::create_dir_all(&plot_dir).with_context(|| format!("creating {}", plot_dir.display()))?;
    // Plots of an earlier report of a different sweep would otherwise linger beside the new ones.
    for e in fs::read_dir(&plot_dir)?.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if (n.ends_with(".svg") || n.ends_with(".png"))
            && ["accelerators_", "num_pop_", "pareto_", "flexibility_"].iter().any(|p| n.starts_with(p))
        {
            fs::remove_file(e.path())?;
        }
    }
    let mut charts = Charts::new(out, true);
    for m in &models {
        let of_model: Vec<&JobTotal> = jobs.iter().filter(|j| &j.model == m).collect();
        for f1 in ordered(of_model.iter().map(|j| j.f1.as_str())) {
            let with_f1: Vec<&JobTotal> = of_model.iter().copied().filter(|j| j.f1 == f1).collect();
            let f2s = ordered(with_f1.iter().map(|j| j.f2.as_str()));
            let o1 = objective_named(&f1);
            let k = o1.map_or(1.0, |o| figures::unit(o).1);
            let value_label = o1.map_or(format!("total {f1}"), |o| format!("total {}", figures::axis_label(o)));
            let caption = "Bars: mean over seeds of the best setting; whiskers: min-max over its seeds.";

            // Best total per accelerator (a bar group each), a bar per second objective.
            let series: Vec<figures::BarSeries> = f2s
                .iter()
                .map(|f2| {
                    let vals = accs
                        .iter()
                        .map(|a| {
                            best_spread(with_f1.iter().copied().filter(|j| &j.f2 == f2 && &j.accelerator == a), &f1, k)
                        })
                        .collect();
                    (format!("{f1} then {f2}"), vals)
                })
                .collect();
            let panel = grouped_bars("", "accelerator", accs.clone(), &value_label, series);
            let mut fig = Figure::single(format!("{m}: best {f1} per accelerator"), panel);
            fig.caption = caption.into();
            charts.add(
                Some(fig),
                &format!("plots/accelerators_{}_{}", slug(m), slug(&f1)),
                &format!("{m}: best {f1} per accelerator"),
            );

            // Effect of the population size, when the sweep varies it: a panel per accelerator,
            // each on its own value range (one shared axis flattens an edge and a cloud design).
            let pops: BTreeSet<usize> = with_f1.iter().map(|j| j.num_pop).collect();
            if pops.len() > 1 {
                let mut panels = Vec::new();
                for a in &accs {
                    let mut series = Vec::new();
                    for (i, f2) in f2s.iter().enumerate() {
                        let mut pts = Vec::new();
                        let mut whiskers = Vec::new();
                        for &p in &pops {
                            let runs = with_f1
                                .iter()
                                .copied()
                                .filter(|j| &j.accelerator == a && &j.f2 == f2 && j.num_pop == p);
                            if let Some(v) = best_spread(runs, &f1, k) {
                                pts.push((p as f64, v.mean));
                                whiskers.push((v.n > 1).then_some((v.min, v.max)));
                            }
                        }
                        if !pts.is_empty() {
                            let mut s = Series::new(format!("{f1} then {f2}"), pts, Mark::LinePoints, color(i));
                            s.whiskers = whiskers;
                            series.push(s);
                        }
                    }
                    if series.is_empty() {
                        continue;
                    }
                    let ys: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).collect();
                    let mut panel = Panel::new(
                        Axis::auto("population size (num_pop)", pops.iter().map(|&p| p as f64)),
                        Axis::auto(value_label.clone(), ys),
                    );
                    panel.title = format!("accelerator {a}");
                    panel.series = series;
                    panels.push(panel);
                }
                let n = panels.len();
                let fig = Figure {
                    title: format!("{m}: best {f1} by population size"),
                    panels,
                    columns: n.clamp(1, 2),
                    panel_size: (620, 400),
                    caption: "Points: mean over seeds of the best setting; whiskers: min-max over its seeds.".into(),
                };
                charts.add(
                    Some(fig),
                    &format!("plots/num_pop_{}_{}", slug(m), slug(&f1)),
                    &format!("{m}: best {f1} by population size"),
                );
            }

            // Best per flexibility class, a panel per accelerator and a bar per mapping
            // constraint, when the sweep varies the class.
            let classes: BTreeSet<u8> = with_f1.iter().filter_map(|j| j.flex_class).collect();
            if classes.len() > 1 {
                let maps = ordered(with_f1.iter().filter(|j| j.flex_class.is_some()).map(|j| j.map.as_str()));
                let cats: Vec<String> = classes.iter().map(|c| c.to_string()).collect();
                let panels = accs
                    .iter()
                    .map(|a| {
                        let series = maps
                            .iter()
                            .map(|map| {
                                let vals = classes
                                    .iter()
                                    .map(|&c| {
                                        best_spread(
                                            with_f1.iter().copied().filter(|j| {
                                                &j.accelerator == a && &j.map == map && j.flex_class == Some(c)
                                            }),
                                            &f1,
                                            k,
                                        )
                                    })
                                    .collect();
                                (map.clone(), vals)
                            })
                            .collect();
                        figures::FlexPanel { accelerator: a.clone(), classes: cats.clone(), series }
                    })
                    .collect();
                let fig = figures::flexibility(&format!("{m}: best {f1} per flexibility class"), &value_label, panels);
                charts.add(
                    Some(fig),
                    &format!("plots/flexibility_{}_{}", slug(m), slug(&f1)),
                    &format!("{m}: best {f1} per flexibility class"),
                );
            }

            // Pareto front over the model's runs, per objective pair; runs coloured by accelerator
            // (drawn first, so the front's dots stay on top).
            for f2 in f2s.iter().filter(|f| *f != "none") {
                let k2 = objective_named(f2).map_or(1.0, |o| figures::unit(o).1);
                let pair: Vec<&JobTotal> = with_f1.iter().copied().filter(|j| &j.f2 == f2).collect();
                let mut series: Vec<Series> = accs
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let pts = pair
                            .iter()
                            .filter(|j| &j.accelerator == a)
                            .filter_map(|j| Some((j.total_f1? * k, j.total_f2? * k2)))
                            .collect();
                        Series::new(a.clone(), pts, Mark::Points, color(i + 1))
                    })
                    .filter(|s| !s.points.is_empty())
                    .collect();
                let front: Vec<(f64, f64)> = pareto(&pair).into_iter().map(|(a, b)| (a * k, b * k2)).collect();
                series.push(Series::new("Pareto front", front, Mark::LinePoints, color(0)));
                let xs: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
                let ys: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).collect();
                let label2 =
                    objective_named(f2).map_or(format!("total {f2}"), |o| format!("total {}", figures::axis_label(o)));
                let mut panel = Panel::new(Axis::auto(value_label.clone(), xs), Axis::auto(label2, ys));
                panel.series = series;
                let title = format!("{m}: {f1} vs {f2} across runs");
                charts.add(
                    Some(Figure::single(title.clone(), panel)),
                    &format!("plots/pareto_{}_{}_{}", slug(m), slug(&f1), slug(f2)),
                    &title,
                );
            }
        }
    }
    let plots: Vec<String> = charts.written.iter().map(|(stem, _)| format!("{stem}.svg")).collect();

    let mut md = String::from("# Sweep report\n\n");
    let found: BTreeSet<usize> = rows.iter().map(|r| r.job).collect();
    let intro = match &meta {
        Some(m) => format!(
            "Input `{}`: config `{}` (hash `{}`), {} of {} jobs with results.",
            input.display(),
            m.config_file,
            m.config_hash,
            found.len(),
            m.num_jobs
        ),
        None => format!("Input `{}`: {} jobs with results.", input.display(), found.len()),
    };
    let about = "Values are totals over a run's layers of the best mapping's value; a run is one configuration \
           (model, accelerator, objectives, num_pop, epochs, seed, constraint, flexibility class, \
           area budget), whether its layers were one job or \
           one job each. Runs with a layer without a valid mapping have no total (column incomplete). \
           Best = lowest (highest for throughput), ties broken by fitness2.";
    let _ = writeln!(md, "{intro}\n");
    md += about;
    md += "\n\n";
    md += &table;
    md += "\n## Plots\n\n";
    for p in &plots {
        let _ = writeln!(md, "![{p}]({p})\n");
    }
    fs::write(out.join("summary.md"), md).with_context(|| format!("writing {}", out.join("summary.md").display()))?;

    // report.html: the same tables and the charts, with links to the input's files and to each
    // best job's own page.
    let mut page = Page::new("Sweep report");
    charts.note_on(&mut page);
    page.heading("Settings");
    let mut settings = vec![("input".to_string(), input.display().to_string())];
    if let Some(m) = &meta {
        settings.push(("config".into(), format!("{} (hash {})", m.config_file, m.config_hash)));
        if let Some(s) = m.shard {
            settings.push(("shard".into(), s.to_string()));
        }
        settings.push(("jobs".into(), format!("{} of {} with results", found.len(), m.num_jobs)));
    } else {
        settings.push(("jobs".into(), format!("{} with results", found.len())));
    }
    page.settings(&settings);
    page.heading("Summary");
    page.para(about);
    let to_input = relative(out, input);
    let link = |id: &str| {
        input.join("jobs").join(id).join("report.html").is_file().then(|| format!("{to_input}/jobs/{id}/report.html"))
    };
    for t in &tables {
        t.html(&mut page, &link);
    }
    if !charts.written.is_empty() {
        page.heading("Charts");
        charts.show_on(&mut page);
    }
    page.heading("Files");
    let mut files = vec![("summary.md".to_string(), "these tables as markdown".to_string())];
    for (name, what) in [
        (CSV_FILE, "every job's rows (one per layer)"),
        (JSONL_FILE, "the same rows as JSON Lines"),
        (META_FILE, "the sweep's config hash and job list"),
    ] {
        if input.join(name).is_file() {
            files.push((format!("{to_input}/{name}"), what.to_string()));
        }
    }
    page.files(&files);
    let html = out.join("report.html");
    fs::write(&html, page.finish()).with_context(|| format!("writing {}", html.display()))?;
    Ok(ReportOutput { table, plots, charts_failed: charts.failed.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_ranges() {
        assert_eq!(ranges(&[1, 2, 3, 5, 7, 8]), "1-3,5,7-8");
        assert_eq!(ranges(&[4]), "4");
    }

    fn jt(job: usize, f1: f64, f2: f64) -> JobTotal {
        JobTotal {
            job,
            id: String::new(),
            job_id: None,
            setting: format!("s{job}"),
            model: "m".into(),
            layers: vec![1],
            accelerator: "a".into(),
            f1: "latency".into(),
            f2: "energy".into(),
            num_pop: 2,
            epochs: 1,
            seed: 0,
            map: "none".into(),
            flex_class: None,
            total_f1: Some(f1),
            total_f2: Some(f2),
        }
    }

    #[test]
    fn best_and_front() {
        let js = [jt(0, 5.0, 1.0), jt(1, 3.0, 4.0), jt(2, 3.0, 2.0), jt(3, 6.0, 0.5), jt(4, 7.0, 3.0)];
        assert_eq!(best(js.iter()).unwrap().job, 2);
        let refs: Vec<&JobTotal> = js.iter().collect();
        assert_eq!(pareto(&refs), vec![(3.0, 2.0), (5.0, 1.0), (6.0, 0.5)]);
    }
}
