//! `gammaflow report`: a summary table and SVG plots of a sweep's results.
//!
//! Rows are aggregated per *configuration*: everything that identifies a search except the layer
//! (model, accelerator, objectives, population, epochs, seed). A configuration's value of an
//! objective is the sum over its layers of the best mapping's value (the total `gammaflow search`
//! prints for latency and energy), whether those layers were one job or, with `split_layers`,
//! one job each. A configuration with a layer without a valid mapping has no total and counts as
//! incomplete. Lower is better except for throughput.

use super::store::{read_rows, Row, SweepMeta};
use crate::report::svg::{chart, Series};
use crate::search::Objective;
use anyhow::Context;
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

/// The columns that identify a configuration (a sweep axis that adds a row column belongs here).
fn config_key(r: &Row) -> String {
    let hw = [r.num_pe, r.l1_size, r.l2_size, r.noc_bw, r.offchip_bw];
    format!(
        "{}\u{1f}{}\u{1f}{hw:?}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1f}{}\u{1f}{:?}",
        r.model,
        r.accelerator,
        r.fitness1,
        r.fitness2,
        r.num_pop,
        r.epochs,
        r.seed,
        r.mapping_constraint,
        r.flex_class,
        r.accel_constraint,
        r.area_budget_mm2
    )
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

/// One table per model and first objective: a row per (mapping constraint, flexibility class),
/// a column per accelerator, each cell the best total fitness1 of those runs.
fn flex_table(jobs: &[JobTotal], accs: &[String], models: &[String]) -> String {
    let mut t = String::new();
    for m in models {
        let of_model: Vec<&JobTotal> = jobs.iter().filter(|j| &j.model == m).collect();
        for f1 in ordered(of_model.iter().map(|j| j.f1.as_str())) {
            let with_f1: Vec<&JobTotal> = of_model.iter().copied().filter(|j| j.f1 == f1).collect();
            let mut rows: Vec<(String, Option<u8>)> =
                with_f1.iter().map(|j| (j.map.clone(), j.flex_class)).collect::<BTreeSet<_>>().into_iter().collect();
            rows.sort_by(|a, b| (a.0 != "none", &a.0, a.1).cmp(&(b.0 != "none", &b.0, b.1)));
            let _ = writeln!(t, "\n**{m}: best {f1} per flexibility class and accelerator**\n");
            let _ = writeln!(t, "| mapping constraint | flex class | {} |", accs.join(" | "));
            let _ = writeln!(t, "|---|---:|{}", "---:|".repeat(accs.len()));
            for (map, k) in rows {
                let cells: Vec<String> = accs
                    .iter()
                    .map(|a| {
                        num(best(
                            with_f1
                                .iter()
                                .copied()
                                .filter(|j| &j.accelerator == a && j.map == map && j.flex_class == k),
                        )
                        .and_then(|b| b.total_f1))
                    })
                    .collect();
                let k = k.map_or("-".to_string(), |k| k.to_string());
                let _ = writeln!(t, "| {map} | {k} | {} |", cells.join(" | "));
            }
        }
    }
    t
}

/// What `report` produced.
#[derive(Debug)]
pub struct ReportOutput {
    /// The markdown summary table.
    pub table: String,
    /// Paths of the plots, relative to the output folder.
    pub plots: Vec<String>,
}

/// Reads the results of `input` (a sweep, shard or merged folder) and writes `summary.md` and
/// `plots/*.svg` into `out`.
pub fn report(input: &Path, out: &Path) -> anyhow::Result<ReportOutput> {
    let rows = read_rows(input)?;
    let meta = SweepMeta::read(input).ok();
    let mut jobs = totals(&rows);
    label_models(&mut jobs);

    let accs = ordered(jobs.iter().map(|j| j.accelerator.as_str()));
    let models = ordered(jobs.iter().map(|j| j.model.as_str()));
    let mut table = String::new();
    table += "| model | accelerator | fitness1 | fitness2 | runs | incomplete | best fitness1 | its fitness2 | num_pop | epochs | seed | job |\n";
    table += "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
    let mut keys: Vec<(usize, String, String, String, String)> = Vec::new();
    for j in &jobs {
        let k = (j.model.clone(), j.accelerator.clone(), j.f1.clone(), j.f2.clone());
        if !keys.iter().any(|x| (&x.1, &x.2, &x.3, &x.4) == (&k.0, &k.1, &k.2, &k.3)) {
            keys.push((j.job, k.0, k.1, k.2, k.3));
        }
    }
    for (_, m, a, f1, f2) in &keys {
        let members: Vec<&JobTotal> =
            jobs.iter().filter(|j| (&j.model, &j.accelerator, &j.f1, &j.f2) == (m, a, f1, f2)).collect();
        let incomplete = members.iter().filter(|j| j.total_f1.is_none()).count();
        let row = match best(members.iter().copied()) {
            Some(b) => format!(
                "{} | {} | {} | {} | {} | {}",
                num(b.total_f1),
                num(b.total_f2),
                b.num_pop,
                b.epochs,
                b.seed,
                b.id
            ),
            None => "- | - | - | - | - | -".to_string(),
        };
        let (f1, f2) = (Objective::labelled(f1), Objective::labelled(f2));
        let _ = writeln!(table, "| {m} | {a} | {f1} | {f2} | {} | {incomplete} | {row} |", members.len());
    }

    // Best fitness1 per flexibility class and accelerator, when the sweep varies the class.
    let classes: BTreeSet<Option<u8>> = jobs.iter().map(|j| j.flex_class).collect();
    if classes.len() > 1 {
        table += &flex_table(&jobs, &accs, &models);
    }

    let plot_dir = out.join("plots");
    fs::create_dir_all(&plot_dir).with_context(|| format!("creating {}", plot_dir.display()))?;
    // Plots of an earlier report of a different sweep would otherwise linger beside the new ones.
    for e in fs::read_dir(&plot_dir)?.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.ends_with(".svg") && ["accelerators_", "num_pop_", "pareto_"].iter().any(|p| n.starts_with(p)) {
            fs::remove_file(e.path())?;
        }
    }
    let mut plots = Vec::new();
    let mut save = |name: String, svg: String| -> anyhow::Result<()> {
        fs::write(plot_dir.join(&name), svg).with_context(|| format!("writing {name}"))?;
        plots.push(format!("plots/{name}"));
        Ok(())
    };
    let acc_axis = format!(
        "accelerator ({})",
        accs.iter().enumerate().map(|(i, a)| format!("{} = {a}", i + 1)).collect::<Vec<_>>().join(", ")
    );
    for m in &models {
        let of_model: Vec<&JobTotal> = jobs.iter().filter(|j| &j.model == m).collect();
        for f1 in ordered(of_model.iter().map(|j| j.f1.as_str())) {
            let with_f1: Vec<&JobTotal> = of_model.iter().copied().filter(|j| j.f1 == f1).collect();
            let f2s = ordered(with_f1.iter().map(|j| j.f2.as_str()));
            // Best total per accelerator, one series per second objective.
            let series: Vec<Series> = f2s
                .iter()
                .map(|f2| Series {
                    name: format!("{f1} then {f2}"),
                    points: accs
                        .iter()
                        .enumerate()
                        .filter_map(|(i, a)| {
                            let b = best(with_f1.iter().copied().filter(|j| &j.f2 == f2 && &j.accelerator == a))?;
                            Some(((i + 1) as f64, b.total_f1?))
                        })
                        .collect(),
                })
                .collect();
            let title = format!("{m}: best {f1} per accelerator");
            save(
                format!("accelerators_{}_{}.svg", slug(m), slug(&f1)),
                chart(&title, &acc_axis, &format!("best total {f1}"), &series, true),
            )?;

            // Effect of the population size, when the sweep varies it.
            let pops: BTreeSet<usize> = with_f1.iter().map(|j| j.num_pop).collect();
            if pops.len() > 1 {
                let mut series = Vec::new();
                for a in &accs {
                    for f2 in &f2s {
                        let points: Vec<(f64, f64)> = pops
                            .iter()
                            .filter_map(|&p| {
                                let b = best(
                                    with_f1
                                        .iter()
                                        .copied()
                                        .filter(|j| &j.accelerator == a && &j.f2 == f2 && j.num_pop == p),
                                )?;
                                Some((p as f64, b.total_f1?))
                            })
                            .collect();
                        if !points.is_empty() {
                            let name = if f2s.len() > 1 { format!("{a} ({f1} then {f2})") } else { a.clone() };
                            series.push(Series { name, points });
                        }
                    }
                }
                let title = format!("{m}: best {f1} vs population size");
                save(
                    format!("num_pop_{}_{}.svg", slug(m), slug(&f1)),
                    chart(&title, "num_pop", &format!("best total {f1}"), &series, false),
                )?;
            }

            // Pareto front over the model's runs, per objective pair; runs coloured by accelerator
            // (drawn first, so the front's dots stay on top).
            for f2 in f2s.iter().filter(|f| *f != "none") {
                let pair: Vec<&JobTotal> = with_f1.iter().copied().filter(|j| &j.f2 == f2).collect();
                let mut series: Vec<Series> = accs
                    .iter()
                    .map(|a| Series {
                        name: a.clone(),
                        points: pair
                            .iter()
                            .filter(|j| &j.accelerator == a)
                            .filter_map(|j| Some((j.total_f1?, j.total_f2?)))
                            .collect(),
                    })
                    .filter(|s| !s.points.is_empty())
                    .collect();
                series.push(Series { name: "Pareto front".into(), points: pareto(&pair) });
                let title = format!("{m}: {f1} vs {f2} across runs");
                save(
                    format!("pareto_{}_{}_{}.svg", slug(m), slug(&f1), slug(f2)),
                    chart(&title, &format!("total {f1}"), &format!("total {f2}"), &series, true),
                )?;
            }
        }
    }

    let mut md = String::from("# Sweep report\n\n");
    let found: BTreeSet<usize> = rows.iter().map(|r| r.job).collect();
    match &meta {
        Some(m) => {
            let _ = writeln!(
                md,
                "Input `{}`: config `{}` (hash `{}`), {} of {} jobs with results.\n",
                input.display(),
                m.config_file,
                m.config_hash,
                found.len(),
                m.num_jobs
            );
        }
        None => {
            let _ = writeln!(md, "Input `{}`: {} jobs with results.\n", input.display(), found.len());
        }
    }
    md += "Values are totals over a run's layers of the best mapping's value; a run is one configuration \
           (model, accelerator, objectives, num_pop, epochs, seed, constraint, flexibility class, \
           area budget), whether its layers were one job or \
           one job each. Runs with a layer without a valid mapping have no total (column incomplete). \
           Best = lowest (highest for throughput), ties broken by fitness2.\n\n";
    md += &table;
    md += "\n## Plots\n\n";
    for p in &plots {
        let _ = writeln!(md, "![{p}]({p})\n");
    }
    fs::write(out.join("summary.md"), md).with_context(|| format!("writing {}", out.join("summary.md").display()))?;
    Ok(ReportOutput { table, plots })
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
