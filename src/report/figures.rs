//! Result data to chart specs ([`Figure`]): the search's convergence, per-layer breakdown, Pareto
//! fronts and co-exploration designs, and the grouped bars of the sweep report. Nothing here
//! draws; [`super::draw`] does.

use super::chart::{self, color, Axis, BarLayout, Bars, Figure, Mark, Note, Panel, Rule, Series};
use crate::model::Metrics;
use crate::search::shared::{best_design, pareto_designs, DesignResult};
use crate::search::{LayerResult, Objective, SearchConfig};
use crate::workload::{Layer, LayerKind};

/// How many layers the model-level convergence chart draws besides the total.
pub const CONVERGENCE_LAYERS: usize = 6;

/// An objective's unit as charts show it, and the factor from its natural value (areas are in
/// um^2 inside; charts show mm^2, the unit of `--area-budget`).
pub fn unit(o: Objective) -> (&'static str, f64) {
    match o {
        Objective::Latency => ("cycles", 1.0),
        Objective::Energy => ("nJ", 1.0),
        Objective::Power => ("mW", 1.0),
        Objective::Edp => ("nJ·cycles", 1.0),
        Objective::Area => ("mm²", 1e-6),
        Objective::Throughput => ("MACs/cycle", 1.0),
        Objective::LatencyArea => ("cycles·mm²", 1e-6),
        Objective::EnergyArea => ("nJ·mm²", 1e-6),
    }
}

/// "latency (cycles)".
pub fn axis_label(o: Objective) -> String {
    format!("{} ({})", o.name(), unit(o).0)
}

/// An objective from its name as results files write it (`latency`, `edp`, ...).
pub fn objective_named(name: &str) -> Option<Objective> {
    <Objective as crate::schema::Named>::from_name(name)
}

/// Model totals are sums of the layers' values only for these (layers run one after another).
pub fn additive(o: Objective) -> bool {
    matches!(o, Objective::Latency | Objective::Energy)
}

/// "K64 C64 Y56 X56 R3 S3" (GAMMA's columns; GEMM and FC as their raw columns).
pub fn shape_text(l: &Layer) -> String {
    match l.kind {
        LayerKind::Gemm => format!("GEMM M{} N{} K{}", l.k, l.c, l.y),
        LayerKind::Fc => format!("FC {}x{}", l.k, l.c),
        LayerKind::DsConv => format!("DW C{} Y{} X{} R{} S{}", l.c, l.y, l.x, l.r, l.s),
        LayerKind::Conv => format!("K{} C{} Y{} X{} R{} S{}", l.k, l.c, l.y, l.x, l.r, l.s),
    }
}

/// Layers that were searched (not copies of an earlier shape), each with how many selected
/// layers share its shape.
pub fn distinct(results: &[LayerResult]) -> Vec<(&LayerResult, usize)> {
    results
        .iter()
        .filter(|r| r.same_as.is_none())
        .map(|r| (r, 1 + results.iter().filter(|o| o.same_as == Some(r.index)).count()))
        .collect()
}

fn final_f1(cfg: &SearchConfig, r: &LayerResult) -> Option<f64> {
    cfg.value(cfg.fitness1, r.best.as_ref()?, &r.hw)
}

/// Best first objective (natural unit) after `evals` evaluations of the layer.
fn best_at(r: &LayerResult, evals: u64) -> Option<f64> {
    r.history.iter().take_while(|s| s.evaluations <= evals).filter_map(|s| s.best_f1).last()
}

/// Ranks layer shapes worst first by their final first objective, times the number of layers of
/// the shape where model totals are sums (for latency: the largest share of the model's runtime
/// first). A shape without a valid mapping comes first.
fn worst_first<'a>(cfg: &SearchConfig, reps: &[(&'a LayerResult, usize)]) -> Vec<(&'a LayerResult, usize)> {
    let o = cfg.fitness1;
    let sign = if o == Objective::Throughput { -1.0 } else { 1.0 };
    let mut v: Vec<(&LayerResult, usize)> = reps.to_vec();
    let key = |r: &LayerResult, n: usize| {
        let times = if additive(o) { n as f64 } else { 1.0 };
        final_f1(cfg, r).map_or(f64::INFINITY, |x| sign * x * times)
    };
    v.sort_by(|a, b| key(b.0, b.1).total_cmp(&key(a.0, a.1)).then(a.0.index.cmp(&b.0.index)));
    v
}

fn times(n: usize) -> String {
    if n > 1 {
        format!(" (×{n})")
    } else {
        String::new()
    }
}

/// Convergence of the whole model: best first objective (its unit) against evaluations per layer
/// (log), as the model total (latency and energy) and for the slowest
/// [`CONVERGENCE_LAYERS`] distinct layers, each with its compute bound dashed when the first
/// objective is latency.
pub fn convergence(model: &str, cfg: &SearchConfig, results: &[LayerResult]) -> Figure {
    let o = cfg.fitness1;
    let k = unit(o).1;
    let latency = o == Objective::Latency;
    let reps = distinct(results);
    let mut xs: Vec<u64> = reps.iter().flat_map(|(r, _)| r.history.iter().map(|s| s.evaluations)).collect();
    xs.sort_unstable();
    xs.dedup();
    let (x_lo, x_hi) = (xs.first().copied().unwrap_or(1) as f64, xs.last().copied().unwrap_or(1) as f64);
    let mut p = Panel::new(Axis::log("evaluations per layer"), Axis::linear(format!("best {}", axis_label(o))));
    if additive(o) && !reps.is_empty() {
        let total: Vec<(f64, f64)> = xs
            .iter()
            .filter_map(|&e| {
                let sum = reps.iter().map(|(r, n)| best_at(r, e).map(|v| v * *n as f64)).sum::<Option<f64>>()?;
                Some((e as f64, sum * k))
            })
            .collect();
        p.series.push(Series::new(format!("model total ({} layers)", results.len()), total, Mark::Line, chart::BLACK));
        if latency {
            let bound: i64 = results.iter().map(|r| r.bound_cycles).sum();
            p.rules.push(Rule {
                horizontal: true,
                value: bound as f64,
                label: format!("model compute bound {}", chart::short(bound as f64)),
                color: chart::BLACK,
                dashed: true,
            });
        }
    }
    let ranked = worst_first(cfg, &reps);
    for (i, (r, n)) in ranked.iter().take(CONVERGENCE_LAYERS).enumerate() {
        let pts: Vec<(f64, f64)> =
            r.history.iter().filter_map(|s| Some((s.evaluations as f64, s.best_f1? * k))).collect();
        let c = color(i);
        p.series.push(Series::new(format!("layer {}{}", r.index + 1, times(*n)), pts, Mark::Line, c));
        if latency {
            let b = r.bound_cycles as f64;
            p.series.push(Series::new("", vec![(x_lo, b), (x_hi, b)], Mark::Line, c).dashed().unlisted());
        }
    }
    if latency && !ranked.is_empty() {
        p.series.push(Series::new("compute bound (dashed)", Vec::new(), Mark::Line, chart::GREY).dashed());
    }
    let values: Vec<f64> =
        p.series.iter().flat_map(|s| s.points.iter().map(|q| q.1)).chain(p.rules.iter().map(|r| r.value)).collect();
    p.y.scale = chart::auto_scale(values);
    let mut fig = Figure::single(format!("{model}: convergence of {}", o.name()), p);
    if reps.len() > CONVERGENCE_LAYERS {
        fig.caption = format!(
            "The {} layer shapes with the largest share of the total, of {} distinct; every shape in convergence_layers.svg.",
            CONVERGENCE_LAYERS,
            reps.len()
        );
    }
    fig
}

/// Small multiples: one panel per distinct layer shape, best first objective against evaluations
/// (log) with its compute bound (latency).
pub fn convergence_layers(model: &str, cfg: &SearchConfig, results: &[LayerResult]) -> Option<Figure> {
    let o = cfg.fitness1;
    let k = unit(o).1;
    let reps = distinct(results);
    if reps.is_empty() {
        return None;
    }
    let panels: Vec<Panel> = reps
        .iter()
        .map(|(r, n)| {
            let pts: Vec<(f64, f64)> =
                r.history.iter().filter_map(|s| Some((s.evaluations as f64, s.best_f1? * k))).collect();
            let mut y: Vec<f64> = pts.iter().map(|q| q.1).collect();
            let gap = r.gap_to_bound().map(|g| format!(" · gap {:.2}%", 100.0 * g)).unwrap_or_default();
            let mut p = Panel::new(Axis::log("evaluations"), Axis::linear(axis_label(o)));
            p.title = format!("layer {}{}: {}{gap}", r.index + 1, times(*n), shape_text(&r.layer));
            p.series.push(Series::new(format!("best {}", o.name()), pts, Mark::Line, color(0)));
            if o == Objective::Latency {
                y.push(r.bound_cycles as f64);
                p.rules.push(Rule {
                    horizontal: true,
                    value: r.bound_cycles as f64,
                    label: "compute bound".into(),
                    color: chart::BLACK,
                    dashed: true,
                });
            }
            p.y.scale = chart::auto_scale(y);
            p
        })
        .collect();
    let columns = panels.len().clamp(1, 3);
    Some(Figure {
        title: format!("{model}: convergence per layer shape"),
        panels,
        columns,
        panel_size: (440, 280),
        caption: String::new(),
    })
}

/// A best mapping's energy split by where MAESTRO counts it (nJ).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EnergySplit {
    pub l2: f64,
    pub l1: f64,
    /// What the total has beyond the two buffer terms (a MAC term; 0 in MAESTRO's model).
    pub other: f64,
}

/// A mapping's energy split by the energy table it was computed with (MAESTRO's by default: L2
/// accesses only for multi-level mappings, no MAC term). `other` is the rest of `m.energy_nj`:
/// the MAC term, where the table has one.
pub fn energy_split(m: &Metrics, num_levels: usize, table: &crate::energy::EnergyModel) -> EnergySplit {
    let [l2, l1, _mac] = table.parts_nj(m, num_levels);
    let rest = m.energy_nj - l2 - l1;
    // Summation order leaves a rounding residue, not energy.
    let other = if rest.abs() <= 1e-9 * m.energy_nj.abs() { 0.0 } else { rest.max(0.0) };
    EnergySplit { l2, l1, other }
}

/// Per-layer bars of a model: runtime (with the compute bound marked) and energy split into L2,
/// L1 and MAC parts, each with its share of the model total.
pub fn layer_bars(model: &str, results: &[LayerResult], table: &crate::energy::EnergyModel) -> Option<Figure> {
    if results.is_empty() {
        return None;
    }
    // Horizontal bars are drawn bottom-up: list the layers in reverse so layer 1 is on top.
    let order: Vec<&LayerResult> = results.iter().rev().collect();
    let cats: Vec<String> = order.iter().map(|r| (r.index + 1).to_string()).collect();
    let metrics: Vec<Option<(Metrics, usize)>> =
        order.iter().map(|r| r.best.as_ref().and_then(|b| Some((b.eval.metrics?, b.genome.num_levels())))).collect();
    let runtime: Vec<Option<f64>> = metrics.iter().map(|m| m.map(|m| m.0.runtime_cycles as f64)).collect();
    let total_rt: f64 = runtime.iter().flatten().sum();
    let share = |v: Option<f64>, total: f64| {
        Some(match v {
            Some(v) if total > 0.0 && v < 0.0005 * total => "<0.1%".to_string(),
            Some(v) if total > 0.0 => format!("{:.1}%", 100.0 * v / total),
            Some(_) => String::new(),
            None => "no valid mapping".into(),
        })
    };
    let mut rt = Panel::new(Axis::linear("runtime (cycles)"), Axis::categorical("layer", cats.clone()));
    rt.title = "runtime per layer, share of the model's".into();
    rt.horizontal = true;
    rt.bars.push(Bars { name: "runtime".into(), values: runtime.clone(), errors: Vec::new(), color: color(0) });
    rt.bar_labels = runtime.iter().map(|v| share(*v, total_rt)).collect();
    rt.series.push(Series::new(
        "compute bound",
        order.iter().enumerate().map(|(i, r)| (r.bound_cycles as f64, i as f64 + 0.5)).collect(),
        Mark::Points,
        chart::BLACK,
    ));

    let splits: Vec<Option<EnergySplit>> = metrics.iter().map(|m| m.map(|(m, l)| energy_split(&m, l, table))).collect();
    let total_e: f64 = metrics.iter().flatten().map(|m| m.0.energy_nj).sum();
    let mut en = Panel::new(Axis::linear("energy (nJ)"), Axis::categorical("layer", cats));
    en.title = "energy per layer by component, share of the model's".into();
    en.horizontal = true;
    en.bar_layout = BarLayout::Stacked;
    let part = |f: fn(&EnergySplit) -> f64| splits.iter().map(|s| s.as_ref().map(f)).collect::<Vec<_>>();
    // Parts that are zero for every layer (L1 of multi-level mappings, MAC in MAESTRO's model)
    // are left out of the stack and the legend; the caption says why.
    for (name, values, c) in [
        ("L2 (global buffer) energy", part(|s| s.l2), color(3)),
        ("L1 (per PE) energy", part(|s| s.l1), color(1)),
        ("MAC and other energy", part(|s| s.other), color(4)),
    ] {
        if values.iter().flatten().any(|v| *v > 0.0) {
            en.bars.push(Bars { name: name.into(), values, errors: Vec::new(), color: c });
        }
    }
    en.bar_labels = metrics.iter().map(|m| share(m.map(|m| m.0.energy_nj), total_e)).collect();
    let h = (70 + 22 * results.len()).clamp(300, 4000) as u32;
    Some(Figure {
        title: format!("{model}: runtime and energy per layer"),
        panels: vec![rt, en],
        columns: 2,
        panel_size: (560, h),
        caption: "Energy as MAESTRO counts it: L2 accesses, L1 accesses only for 1-level mappings, no MAC term.".into(),
    })
}

/// The Pareto archive of one layer over the two objectives (their units), the lowest first
/// objective noted, and the area budget where an objective is area.
pub fn pareto(model: &str, cfg: &SearchConfig, r: &LayerResult) -> Option<Figure> {
    let f2 = cfg.fitness2?;
    let (o1, o2) = (cfg.fitness1, f2);
    let (k1, k2) = (unit(o1).1, unit(o2).1);
    let mut pts: Vec<(f64, f64)> =
        r.pareto.iter().filter_map(|c| Some((cfg.value(o1, c, &r.hw)? * k1, cfg.value(o2, c, &r.hw)? * k2))).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut p = Panel::new(
        Axis::auto(axis_label(o1), pts.iter().map(|q| q.0)),
        Axis::auto(axis_label(o2), pts.iter().map(|q| q.1)),
    );
    if let Some(b) = &r.best {
        if let (Some(a), Some(c)) = (cfg.value(o1, b, &r.hw), cfg.value(o2, b, &r.hw)) {
            p.notes.push(Note { x: a * k1, y: c * k2, text: format!("best {}", o1.name()) });
        }
    }
    if let Some(budget) = cfg.area_budget_um2 {
        for (o, horizontal) in [(o1, false), (o2, true)] {
            if o == Objective::Area {
                p.rules.push(Rule {
                    horizontal,
                    value: budget * 1e-6,
                    label: format!("area budget {} mm²", chart::plain(budget * 1e-6)),
                    color: chart::GREY,
                    dashed: true,
                });
            }
        }
    }
    p.series.push(Series::new(format!("Pareto front ({} mappings)", pts.len()), pts, Mark::LinePoints, color(0)));
    Some(Figure::single(
        format!("{model} layer {}: {} vs {} ({})", r.index + 1, o1.name(), o2.name(), shape_text(&r.layer)),
        p,
    ))
}

/// Co-exploration per layer: each distinct layer's chosen design as its area (mm²) against its
/// latency, the area budget, and the slowest layers labelled with their PEs, L1 and L2.
pub fn coexplore_layers(model: &str, cfg: &SearchConfig, results: &[LayerResult]) -> Option<Figure> {
    if !cfg.space.co_explore {
        return None;
    }
    let reps = distinct(results);
    let mut pts = Vec::new();
    for (r, _) in &reps {
        let Some(b) = &r.best else { continue };
        let (Some(m), Some(a)) = (b.eval.metrics, cfg.area(b, &r.hw)) else { continue };
        pts.push((r, a.total * 1e-6, m.runtime_cycles as f64, cfg.design_hw(&r.hw, &b.genome).num_pe, m));
    }
    if pts.is_empty() {
        return None;
    }
    let mut p = Panel::new(
        Axis::auto("area (mm²)", pts.iter().map(|q| q.1)),
        Axis::auto("latency (cycles)", pts.iter().map(|q| q.2)),
    );
    let mut slow: Vec<usize> = (0..pts.len()).collect();
    slow.sort_by(|&a, &b| pts[b].2.total_cmp(&pts[a].2));
    for &i in slow.iter().take(CONVERGENCE_LAYERS) {
        let (r, a, l, pe, m) = &pts[i];
        p.notes.push(Note {
            x: *a,
            y: *l,
            text: format!(
                "layer {}: {pe} PEs, L1 {}, L2 {}",
                r.index + 1,
                m.l1_size_req,
                chart::short(m.l2_size_req as f64)
            ),
        });
    }
    if let Some(b) = cfg.area_budget_um2 {
        p.rules.push(budget_rule(b));
    }
    p.series.push(Series::new(
        "chosen design of a layer",
        pts.iter().map(|q| (q.1, q.2)).collect(),
        Mark::Points,
        color(0),
    ));
    let mut fig = Figure::single(format!("{model}: co-explored design per layer"), p);
    fig.caption = format!(
        "Labelled: the {} slowest layers; L1 and L2 as the mappings require them (elements).",
        CONVERGENCE_LAYERS.min(pts.len())
    );
    Some(fig)
}

fn budget_rule(budget_um2: f64) -> Rule {
    Rule {
        horizontal: false,
        value: budget_um2 * 1e-6,
        label: format!("area budget {} mm²", chart::plain(budget_um2 * 1e-6)),
        color: chart::GREY,
        dashed: true,
    }
}

/// `--shared-hw`: every candidate design as its area (buffers as used, mm²) against the model's
/// total first objective, the Pareto front, the area budget, and the chosen design labelled.
pub fn shared_designs(model: &str, cfg: &SearchConfig, results: &[DesignResult]) -> Option<Figure> {
    let o = cfg.fitness1;
    let k = unit(o).1;
    let all: Vec<(f64, f64)> = results.iter().filter_map(|r| Some((r.area_used_um2 * 1e-6, r.total_f1? * k))).collect();
    if all.is_empty() {
        return None;
    }
    let front: Vec<(f64, f64)> =
        pareto_designs(results).iter().filter_map(|r| Some((r.area_used_um2 * 1e-6, r.total_f1? * k))).collect();
    let mut p = Panel::new(
        Axis::auto("area with buffers as used (mm²)", all.iter().map(|q| q.0)),
        Axis::auto(format!("model total {}", axis_label(o)), all.iter().map(|q| q.1)),
    );
    p.series.push(Series::new(format!("designs ({})", all.len()), all, Mark::Points, color(9)));
    p.series.push(Series::new("Pareto front", front, Mark::LinePoints, color(0)));
    if let Some(b) = cfg.area_budget_um2 {
        p.rules.push(budget_rule(b));
    }
    if let Some(b) = best_design(results, o) {
        if let Some(v) = b.total_f1 {
            p.notes.push(Note {
                x: b.area_used_um2 * 1e-6,
                y: v * k,
                text: format!(
                    "chosen: {} PEs, L1 {}, L2 {}",
                    b.design.num_pe,
                    b.l1_used,
                    chart::short(b.l2_used as f64)
                ),
            });
        }
    }
    let mut fig = Figure::single(format!("{model}: one accelerator for the model, {} vs area", o.name()), p);
    fig.caption = "L1 (per PE) and L2 in elements, as the chosen mappings use them.".into();
    Some(fig)
}

/// Values over seeds: the bar is the mean, the whisker spans min..max.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Spread {
    pub fn of(values: &[f64]) -> Option<Spread> {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(Spread { mean: v.iter().sum::<f64>() / v.len() as f64, min, max, n: v.len() })
    }
}

/// One group of bars per category, one bar per series, error bars where a spread has more than
/// one value; log values when they span a decade.
pub fn grouped_bars(
    title: &str,
    category_label: &str,
    categories: Vec<String>,
    value_label: &str,
    series: Vec<BarSeries>,
) -> Panel {
    let values = series.iter().flat_map(|s| s.1.iter().flatten().flat_map(|v| [v.min, v.max]));
    let mut p = Panel::new(Axis::categorical(category_label, categories), Axis::auto(value_label, values));
    p.title = title.to_string();
    for (i, (name, vals)) in series.into_iter().enumerate() {
        p.bars.push(Bars {
            name,
            values: vals.iter().map(|v| v.map(|v| v.mean)).collect(),
            errors: vals.iter().map(|v| v.filter(|v| v.n > 1).map(|v| (v.min, v.max))).collect(),
            color: color(i),
        });
    }
    p
}

/// A named series of bar values (one per category), e.g. a mapping constraint over the classes.
pub type BarSeries = (String, Vec<Option<Spread>>);

/// One accelerator's panel of the flexibility chart.
#[derive(Debug, Clone)]
pub struct FlexPanel {
    pub accelerator: String,
    /// The classes run, as category names.
    pub classes: Vec<String>,
    /// One series per mapping constraint.
    pub series: Vec<BarSeries>,
}

/// The sweep's flexibility chart: per accelerator (a panel each), the classes run (of the 16) as
/// categories and one bar per mapping constraint.
pub fn flexibility(title: &str, value_label: &str, panels: Vec<FlexPanel>) -> Figure {
    let n = panels.len();
    let panels: Vec<Panel> = panels
        .into_iter()
        .map(|f| {
            grouped_bars(
                &format!("accelerator {}", f.accelerator),
                "flexibility class",
                f.classes,
                value_label,
                f.series,
            )
        })
        .collect();
    Figure {
        title: title.to_string(),
        panels,
        columns: if n > 1 { 2 } else { 1 },
        panel_size: (760, 420),
        caption: "Classes: sum of the free axes (1 tile sizes, 2 loop order, 4 parallel dims, 8 cluster sizes). Bars: mean over seeds; whiskers: min-max.".into(),
    }
}
