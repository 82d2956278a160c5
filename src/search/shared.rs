//! One accelerator for a whole model (DiGamma's chip-level question): every layer keeps its own
//! mapping, but PEs, L1 and L2 are shared, so the design is judged on the model's total latency
//! or energy and on its area. Candidate designs (PEs × L1 capacity, L2 filling the rest of the
//! area budget) are searched together: every (design, layer) pair is one task of a single
//! [`search`] run, so all designs' populations share each evaluation batch.

use super::engine::{search, LayerResult, Progress, SearchConfig};
use super::objective::Objective;
use crate::eval::BatchEvaluator;
use crate::hardware::{AreaModel, Hardware, UNLIMITED};
use crate::workload::Layer;
use serde::Serialize;

/// One candidate accelerator for the whole model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SharedDesign {
    pub num_pe: i64,
    /// Provisioned per-PE L1 and global L2 (elements): every layer's mapping must fit them.
    pub l1: i64,
    pub l2: i64,
    /// Area of the provisioned design, um^2.
    pub area_um2: f64,
}

/// How one design did on the whole model.
#[derive(Debug, Clone)]
pub struct DesignResult {
    pub design: SharedDesign,
    /// Per-layer search results on this design (same order as the model's selected layers).
    pub layers: Vec<LayerResult>,
    /// Sum of the layers' best values of the first objective; None if some layer has no valid
    /// mapping on this design.
    pub total_f1: Option<f64>,
    pub total_runtime: Option<i64>,
    pub total_energy_nj: Option<f64>,
    /// Largest L1 / L2 requirement of the chosen mappings (≤ the provisioned sizes).
    pub l1_used: i64,
    pub l2_used: i64,
    /// Area with buffers sized to what the mappings use: the chip one would build.
    pub area_used_um2: f64,
}

/// Candidate designs: PE counts of the form 2^k and 3·2^k up to `pe_limit`, each with L1
/// capacities from 32 to 4096 elements, and L2 taking what the area budget leaves (unlimited
/// without a budget). Designs whose PEs and L1s alone exceed the budget are dropped.
pub fn candidate_designs(
    pe_limit: i64,
    area: &AreaModel,
    budget_um2: Option<f64>,
    base: &Hardware,
) -> Vec<SharedDesign> {
    let mut pes: Vec<i64> = Vec::new();
    let mut p = 1i64;
    while p <= pe_limit {
        pes.push(p);
        if 3 * p / 2 <= pe_limit && p >= 2 {
            pes.push(3 * p / 2);
        }
        p *= 2;
    }
    if !pes.contains(&pe_limit) {
        pes.push(pe_limit);
    }
    pes.sort_unstable();
    pes.dedup();
    let l1s = [32i64, 128, 512, 4096];
    let mut out = Vec::new();
    for &pe in &pes {
        for &l1 in &l1s {
            let (l2, area_um2) = match (budget_um2, area) {
                (Some(b), AreaModel::Table { pe_um2, bit_um2, word_bits }) => {
                    let left = b - pe as f64 * pe_um2 - (pe * l1) as f64 * bit_um2 * word_bits;
                    let l2 = (left / (bit_um2 * word_bits)).floor();
                    if l2.is_nan() || l2 < 1.0 {
                        continue;
                    }
                    let l2 = (l2 as i64).min(UNLIMITED);
                    (l2, area.breakdown(pe, l1, l2, 0.0).total)
                }
                _ => {
                    let l2 = if base.l2_size > 0 { base.l2_size } else { UNLIMITED };
                    (l2, area.breakdown(pe, l1, l2, 0.0).total)
                }
            };
            out.push(SharedDesign { num_pe: pe, l1, l2, area_um2 });
        }
    }
    out
}

/// Searches every layer on every candidate design and scores the designs on the model.
pub fn search_shared(
    layers: &[(usize, Layer)],
    designs: &[SharedDesign],
    base: &Hardware,
    cfg: &SearchConfig,
    evaluator: &mut dyn BatchEvaluator,
    progress: impl FnMut(&Progress),
) -> Vec<DesignResult> {
    // The per-layer searches run on fixed hardware; the design is the variable here.
    let mut inner = cfg.clone();
    inner.space.co_explore = false;
    inner.area_budget_um2 = None;
    let stride = layers.iter().map(|l| l.0).max().unwrap_or(0) + 1;
    let mut tasks = Vec::with_capacity(designs.len() * layers.len());
    for (di, d) in designs.iter().enumerate() {
        let hw = Hardware { num_pe: d.num_pe, l1_size: d.l1, l2_size: d.l2, ..*base };
        for &(li, layer) in layers {
            tasks.push((di * stride + li, layer, hw));
        }
    }
    let mut found = search(&tasks, &inner, evaluator, progress).into_iter();
    designs
        .iter()
        .map(|d| {
            let mut rs: Vec<LayerResult> = found.by_ref().take(layers.len()).collect();
            for (r, &(li, _)) in rs.iter_mut().zip(layers) {
                r.index = li;
            }
            let bests: Option<Vec<_>> = rs.iter().map(|r| r.best.as_ref()).collect();
            let (mut total_f1, mut total_runtime, mut total_energy_nj) = (None, None, None);
            let (mut l1_used, mut l2_used) = (0, 0);
            if let Some(bs) = bests {
                let mut f1 = 0.0;
                let (mut rt, mut en) = (0i64, 0.0);
                for (b, r) in bs.iter().zip(&rs) {
                    let m = b.eval.metrics.unwrap_or_default();
                    f1 += inner.value(inner.fitness1, b, &r.hw).unwrap_or(f64::INFINITY);
                    rt += m.runtime_cycles;
                    en += m.energy_nj;
                    l1_used = l1_used.max(m.l1_size_req);
                    l2_used = l2_used.max(m.l2_size_req);
                }
                total_f1 = Some(f1);
                total_runtime = Some(rt);
                total_energy_nj = Some(en);
            }
            let area_used_um2 = if total_f1.is_some() {
                cfg.area_model.breakdown(d.num_pe, l1_used, l2_used, 0.0).total
            } else {
                d.area_um2
            };
            DesignResult {
                design: *d,
                layers: rs,
                total_f1,
                total_runtime,
                total_energy_nj,
                l1_used,
                l2_used,
                area_used_um2,
            }
        })
        .collect()
}

/// The best design for the model's total of `objective` (lowest; highest for throughput),
/// ties broken by smaller area.
pub fn best_design(results: &[DesignResult], objective: Objective) -> Option<&DesignResult> {
    let sign = if objective == Objective::Throughput { -1.0 } else { 1.0 };
    results.iter().filter(|r| r.total_f1.is_some()).min_by(|a, b| {
        (sign * a.total_f1.unwrap())
            .total_cmp(&(sign * b.total_f1.unwrap()))
            .then(a.area_used_um2.total_cmp(&b.area_used_um2))
    })
}

/// Designs not dominated in (model total of the first objective, area of the buffers used).
pub fn pareto_designs(results: &[DesignResult]) -> Vec<&DesignResult> {
    let mut v: Vec<&DesignResult> = results.iter().filter(|r| r.total_f1.is_some()).collect();
    v.sort_by(|a, b| {
        a.area_used_um2.total_cmp(&b.area_used_um2).then(a.total_f1.unwrap().total_cmp(&b.total_f1.unwrap()))
    });
    let mut out: Vec<&DesignResult> = Vec::new();
    for r in v {
        if out.last().is_none_or(|l| r.total_f1.unwrap() < l.total_f1.unwrap()) {
            out.push(r);
        }
    }
    out
}
