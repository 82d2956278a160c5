//! Files a search writes into its output folder. Nothing here depends on wall time or on the
//! backend, so the same seed gives byte-identical files on the CPU and the GPU.

use super::svg::{chart, Series};
use crate::mapping::write_maestro;
use crate::search::{Candidate, LayerResult, SearchConfig};
use crate::workload::stride_text;
use anyhow::Context;
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
        "mapping": c.genome,
        "mapping_text": c.genome.describe(),
    })
}

/// Units are in the names where they are known (MAESTRO states none for its area and power).
const CSV_HEADER: [&str; 30] = [
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
    "energy_nJ",
    "power",
    "area_maestro",
    "area_um2",
    "area_pe_um2",
    "area_l1_um2",
    "area_l2_um2",
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

/// Writes results.csv, results.json, history.csv, pareto.csv, mappings/*.m and the SVG plots.
pub fn write_search_outputs(
    dir: &Path,
    model: &str,
    cfg: &SearchConfig,
    results: &[LayerResult],
) -> anyhow::Result<()> {
    fs::create_dir_all(dir.join("mappings")).with_context(|| format!("creating {}", dir.display()))?;
    fs::create_dir_all(dir.join("pareto"))?;
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
                row.extend([
                    "ok".to_string(),
                    opt(cfg.value(cfg.fitness1, b, &r.hw)),
                    opt(cfg.fitness2.and_then(|o| cfg.value(o, b, &r.hw))),
                    m.runtime_cycles.to_string(),
                    r.bound_cycles.to_string(),
                    opt(r.gap_to_bound()),
                    format!("{}", m.energy_nj),
                    format!("{}", m.power),
                    format!("{}", m.area),
                    format!("{}", a.total),
                    format!("{}", a.pe),
                    format!("{}", a.l1),
                    format!("{}", a.l2),
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
                row.extend((0..13).map(|_| String::new()));
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

    // Convergence against evaluations: best runtime over the compute bound for latency (1 = at
    // the bound), else the best first objective over its final value.
    let latency = cfg.fitness1 == crate::search::Objective::Latency;
    let series: Vec<Series> = results
        .iter()
        .filter(|r| r.same_as.is_none())
        .filter_map(|r| {
            let norm = if latency { r.bound_cycles.max(1) as f64 } else { r.history.last()?.best_f1? };
            Some(Series {
                name: format!("layer {}", r.index + 1),
                points: r.history.iter().filter_map(|s| Some((s.evaluations as f64, s.best_f1? / norm))).collect(),
            })
        })
        .collect();
    let title = format!("{model}: convergence of {}", cfg.fitness1.name());
    let ylabel = if latency {
        "best runtime / compute bound".to_string()
    } else {
        format!("best {} / final best", cfg.fitness1.name())
    };
    fs::write(dir.join("convergence.svg"), chart(&title, "evaluations", &ylabel, &series, false))?;
    if let Some(f2) = cfg.fitness2 {
        for r in results {
            let pts: Vec<(f64, f64)> = r
                .pareto
                .iter()
                .filter_map(|c| Some((cfg.value(cfg.fitness1, c, &r.hw)?, cfg.value(f2, c, &r.hw)?)))
                .collect();
            let s = Series { name: format!("layer {}", r.index + 1), points: pts };
            let svg = chart(
                &format!("{model} layer {}: Pareto front", r.index + 1),
                cfg.fitness1.name(),
                f2.name(),
                &[s],
                true,
            );
            fs::write(dir.join("pareto").join(format!("layer_{:03}.svg", r.index + 1)), svg)?;
        }
    }
    Ok(())
}
