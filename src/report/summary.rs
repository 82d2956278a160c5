//! The table printed at the end of a search: one row per layer (shape, runtime against the
//! compute bound, share of the model's runtime, energy, design) and the model totals, aligned so
//! it reads at a glance. Built as text here; the binary prints it.

use super::chart::short;
use super::figures::{additive, shape_text, unit};
use crate::search::{LayerResult, Objective, SearchConfig};

/// `1234567` as `1,234,567`.
pub fn thousands(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn percent(x: f64) -> String {
    if x.is_finite() {
        format!("{:.2}%", 100.0 * x)
    } else {
        "-".into()
    }
}

/// Column texts padded: the second column (shape) left-aligned, the others right-aligned.
fn align(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let width: Vec<usize> =
        (0..n).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, s)| if c == 1 { format!("{s:<w$}", w = width[c]) } else { format!("{s:>w$}", w = width[c]) })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The per-layer table with a totals row (no timing: the caller adds wall time).
pub fn search_table(model: &str, cfg: &SearchConfig, results: &[LayerResult]) -> String {
    let o = cfg.fitness1;
    let show_f1 = o != Objective::Latency;
    let (u, k) = unit(o);
    let mut header = vec!["#".to_string(), "shape".to_string()];
    if show_f1 {
        header.push(format!("{} ({u})", o.name()));
    }
    header.extend(
        ["runtime (cycles)", "bound", "gap", "time share", "energy (nJ)", "PEs", "L1", "L2", "evaluations"]
            .map(String::from),
    );
    let total_rt: i64 = results.iter().filter_map(|r| r.best.as_ref()?.eval.metrics.map(|m| m.runtime_cycles)).sum();
    let mut rows = vec![header];
    for r in results {
        let same = r.same_as.map(|i| format!(" (= #{})", i + 1)).unwrap_or_default();
        let mut row = vec![(r.index + 1).to_string(), format!("{}{same}", shape_text(&r.layer))];
        match r.best.as_ref().and_then(|b| Some((b, b.eval.metrics?))) {
            Some((b, m)) => {
                if show_f1 {
                    row.push(cfg.value(o, b, &r.hw).map_or("-".into(), |v| short(v * k)));
                }
                row.extend([
                    thousands(m.runtime_cycles),
                    thousands(r.bound_cycles),
                    r.gap_to_bound().map_or("-".into(), percent),
                    percent(m.runtime_cycles as f64 / total_rt.max(1) as f64),
                    short(m.energy_nj),
                    cfg.design_hw(&r.hw, &b.genome).num_pe.to_string(),
                    thousands(m.l1_size_req),
                    thousands(m.l2_size_req),
                ]);
            }
            None => {
                if show_f1 {
                    row.push("-".into());
                }
                row.extend(["no valid mapping".to_string(), thousands(r.bound_cycles)]);
                row.extend((0..6).map(|_| "-".to_string()));
            }
        }
        row.push(thousands(r.evaluations as i64));
        rows.push(row);
    }
    let t = super::search_out::totals(results);
    let bound: i64 = results.iter().map(|r| r.bound_cycles).sum();
    let complete = t.layers_without_valid_mapping == 0;
    let mut total = vec!["total".to_string(), String::new()];
    if show_f1 {
        let sum = results
            .iter()
            .map(|r| r.best.as_ref().and_then(|b| cfg.value(o, b, &r.hw)))
            .sum::<Option<f64>>()
            .filter(|_| additive(o));
        total.push(sum.map_or("-".into(), |v| short(v * k)));
    }
    total.extend([
        thousands(t.runtime_cycles),
        thousands(bound),
        if complete { percent(t.runtime_cycles as f64 / bound.max(1) as f64 - 1.0) } else { "-".into() },
        "100.00%".to_string(),
        short(t.energy_nj),
        String::new(),
        String::new(),
        String::new(),
        thousands(t.evaluations as i64),
    ]);
    rows.push(total);
    let distinct = results.iter().filter(|r| r.same_as.is_none()).count();
    let mut out = format!(
        "summary of {model}: {} layers ({distinct} distinct shapes), {} then {}; gap = runtime / compute bound - 1\n",
        results.len(),
        o.name(),
        cfg.fitness2.map_or("nothing", |f| f.name())
    );
    out.push_str(&align(&rows));
    if !complete {
        out.push_str(&format!(
            "{} of {} layers have no valid mapping: the totals leave them out\n",
            t.layers_without_valid_mapping,
            results.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(-1234567), "-1,234,567");
    }

    #[test]
    fn columns_line_up() {
        let t = align(&[vec!["#".into(), "shape".into(), "x".into()], vec!["10".into(), "K1".into(), "1,000".into()]]);
        assert_eq!(t, " #  shape      x\n10  K1     1,000\n");
    }
}
