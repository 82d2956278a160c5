//! GAMMA's output layout, written beside gammaflow's: `OUTDIR/<experiment>/result_c.csv`.
//!
//! GAMMA (`src/GAMMA/main.py`, `train.py`) makes one folder per run under its `--outdir`, named
//! from the run's settings (`GAMMA_vgg16-Lay1_SL-2-2_F1-latency_GEN-10_POP-20_Area--1.0_...`),
//! and writes `result_c.csv` there with pandas: an unnamed index column, then `runtime, area,
//! pe_area_ratio, PE, L1_size, L2_size, PE_area, L1_area, L2_area, best_sol`, numbers printed as
//! Python prints a float, the mapping as Python prints its list. Area is GAMMA's external model
//! (282 um^2 per PE, 0.086 um^2 per bit of L1·PEs + L2 at 8 bits per element).
//!
//! Differences: GAMMA rewrites the file after each layer, so a multi-layer run leaves only its last
//! layer (row 0); here every searched layer has a row, indexed 0, 1, ... in search order. A layer
//! without a valid mapping has empty values and `best_sol` `None`. GAMMA's pickle of the same
//! values (`result_c.plt`) is not written.

use crate::error::Context;
use crate::report::OutputError;
use crate::search::{LayerResult, Objective, SearchConfig};
use std::path::{Path, PathBuf};

/// The run settings that GAMMA's folder name records and [`SearchConfig`] does not hold, as
/// given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct GammaRun<'a> {
    pub model: &'a str,
    /// `--layer` (GAMMA's `--singlelayer`), 1-based.
    pub layer: Option<usize>,
    /// `--num-layers` (GAMMA's `--num_layer`).
    pub num_layers: Option<usize>,
    /// `--num-pe` as given (≤ 0 when co-exploring).
    pub num_pe: i64,
    pub l1_size: i64,
    pub l2_size: i64,
    pub area_budget_mm2: Option<f64>,
    pub pe_limit: Option<i64>,
}

/// Python's `repr` of a float (what numpy's `str` of a float64 gives): shortest round-trip
/// digits, positional for exponents -4..16 with at least one decimal, else `1e+16` style.
pub fn py_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{v:e}");
    let (mant, exp) = sci.split_once('e').expect("LowerExp has an exponent");
    let exp: i32 = exp.parse().expect("integer exponent");
    if v == 0.0 || (-4..16).contains(&exp) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            s + ".0"
        }
    } else {
        format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

/// GAMMA's spelling of an objective in its folder name.
fn gamma_objective(o: Objective) -> &'static str {
    match o {
        Objective::Edp => "EDP",
        o => o.name(),
    }
}

/// The experiment folder's name, as GAMMA's `main.py` builds it.
pub fn experiment_name(run: &GammaRun, cfg: &SearchConfig) -> String {
    let single = run.layer.unwrap_or(0);
    let num_layer = run.num_layers.unwrap_or(0);
    let mut s = format!("GAMMA_{}", run.model);
    if single > 0 {
        s += &format!("-Lay{single}");
    } else if num_layer > 0 {
        s += &format!("-nLay{num_layer}");
    }
    s += &format!("_SL-{}-{}", cfg.space.slevel_min, cfg.space.slevel_max);
    if let Some(z) = cfg.space.fixed_cluster.filter(|&z| z > 0) {
        s += &format!("_FixCl-{z}");
    }
    s += &format!(
        "_F1-{}_GEN-{}_POP-{}_Area-{}_MaxPEs-{}",
        gamma_objective(cfg.fitness1),
        cfg.epochs,
        cfg.num_pop,
        py_float(run.area_budget_mm2.unwrap_or(-1.0)),
        run.pe_limit.unwrap_or(-1)
    );
    if run.num_pe > 0 {
        s += &format!("_FixedPE-{}", run.num_pe);
    }
    if run.l2_size > 0 {
        s += &format!("_L2Size-{}", run.l2_size);
    }
    if run.l1_size > 0 {
        s += &format!("_L1Size-{}", run.l1_size);
    }
    if cfg.space.factor_tiles {
        s += "_factorOnly";
    }
    // GAMMA's --costmodel_cstr defaults to maestro_cstr, whose rules gammaflow always applies.
    s + "_CostModelCstr-maestro_cstr"
}

/// Python's `repr` of GAMMA's mapping list (`[['K', 64], ['C', 3], ...]`), from the genome's
/// JSON form (GAMMA's printed list).
fn py_list(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Array(items) => format!("[{}]", items.iter().map(py_list).collect::<Vec<_>>().join(", ")),
        serde_json::Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

/// Writes `outdir/<experiment>/result_c.csv` and returns its path.
pub fn write_gamma_layout(
    outdir: &Path,
    run: &GammaRun,
    cfg: &SearchConfig,
    results: &[LayerResult],
) -> Result<PathBuf, OutputError> {
    let dir = outdir.join(experiment_name(run, cfg));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut text = String::from(",runtime,area,pe_area_ratio,PE,L1_size,L2_size,PE_area,L1_area,L2_area,best_sol\n");
    for (i, r) in results.iter().enumerate() {
        let best = r.best.as_ref().and_then(|b| Some((b, b.eval.metrics?)));
        let Some((b, m)) = best else {
            text += &format!("{i},,,,,,,,,,None\n");
            continue;
        };
        let pe = cfg.design_hw(&r.hw, &b.genome).num_pe as f64;
        let (l1, l2) = (m.l1_size_req as f64, m.l2_size_req as f64);
        // GAMMA's external area model, in its order of operations.
        let area = pe * 282.0 + (l1 * pe + l2) * 0.086 * 8.0;
        let sol = py_list(&serde_json::to_value(b.genome).context("mapping as JSON")?);
        let values = [
            m.runtime_cycles as f64,
            area,
            pe * 282.0 / area,
            pe,
            l1,
            l2,
            pe * 282.0,
            l1 * pe * 0.086 * 8.0,
            l2 * 0.086 * 8.0,
        ];
        let values: Vec<String> = values.iter().map(|&v| py_float(v)).collect();
        // pandas quotes the list because it holds commas.
        text += &format!("{i},{},\"{sol}\"\n", values.join(","));
    }
    let path = dir.join("result_c.csv");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{BackendChoice, Evaluator};
    use crate::hardware::Hardware;
    use crate::search::search_dedup;
    use crate::workload::builtin::builtin_model;

    #[test]
    fn python_float_repr() {
        for (v, s) in [
            (767401.0, "767401.0"),
            (-1.0, "-1.0"),
            (0.5, "0.5"),
            (0.0, "0.0"),
            (2.0 / 3.0, "0.6666666666666666"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (123456789012345.6, "123456789012345.6"),
            (47376.0 * 0.086, "4074.336"),
        ] {
            assert_eq!(py_float(v), s, "{v}");
        }
    }

    #[test]
    fn experiment_name_as_gamma_builds_it() {
        // run_gamma.sh: --num_pe 168 --l1_size 512 --l2_size 108000 --epochs 10 --model vgg16
        // --singlelayer 1, with GAMMA's defaults (population 20, no area budget, no PE limit).
        let cfg = SearchConfig { num_pop: 20, epochs: 10, ..SearchConfig::default() };
        let run = GammaRun {
            model: "vgg16",
            layer: Some(1),
            num_layers: None,
            num_pe: 168,
            l1_size: 512,
            l2_size: 108000,
            area_budget_mm2: None,
            pe_limit: None,
        };
        assert_eq!(
            experiment_name(&run, &cfg),
            "GAMMA_vgg16-Lay1_SL-2-2_F1-latency_GEN-10_POP-20_Area--1.0_MaxPEs--1_FixedPE-168_L2Size-108000_L1Size-512_CostModelCstr-maestro_cstr"
        );
        let mut cfg = SearchConfig { fitness1: Objective::Edp, epochs: 2, num_pop: 20, ..SearchConfig::default() };
        cfg.space.fixed_cluster = Some(4);
        cfg.space.factor_tiles = true;
        let run = GammaRun {
            layer: None,
            num_layers: Some(2),
            num_pe: -1,
            l1_size: -1,
            l2_size: -1,
            area_budget_mm2: Some(0.5),
            pe_limit: Some(1024),
            ..run
        };
        assert_eq!(
            experiment_name(&run, &cfg),
            "GAMMA_vgg16-nLay2_SL-2-2_FixCl-4_F1-EDP_GEN-2_POP-20_Area-0.5_MaxPEs-1024_factorOnly_CostModelCstr-maestro_cstr"
        );
    }

    #[test]
    fn result_file_rows_match_the_search_results() {
        let model = builtin_model("toy").unwrap();
        let hw = Hardware { num_pe: 64, ..Hardware::default() };
        let tasks: Vec<_> = model.layers.iter().enumerate().map(|(i, l)| (i, *l, hw)).collect();
        let cfg = SearchConfig { num_pop: 10, epochs: 3, seed: 5, ..SearchConfig::default() };
        let mut ev = Evaluator::new(BackendChoice::Cpu).unwrap();
        let results = search_dedup(&tasks, &cfg, &mut ev, |_| {});
        let dir = tempfile::tempdir().unwrap();
        let run = GammaRun {
            model: "toy",
            layer: None,
            num_layers: None,
            num_pe: 64,
            l1_size: -1,
            l2_size: -1,
            area_budget_mm2: None,
            pe_limit: None,
        };
        let path = write_gamma_layout(dir.path(), &run, &cfg, &results).unwrap();
        assert_eq!(path.parent().unwrap().file_name().unwrap().to_str().unwrap(), experiment_name(&run, &cfg));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], ",runtime,area,pe_area_ratio,PE,L1_size,L2_size,PE_area,L1_area,L2_area,best_sol");
        assert_eq!(lines.len(), 1 + results.len());
        for (i, r) in results.iter().enumerate() {
            let b = r.best.as_ref().expect("toy layers map on 64 PEs");
            let m = b.eval.metrics.unwrap();
            let f: Vec<&str> = lines[i + 1].splitn(11, ',').collect();
            assert_eq!(f[0], i.to_string());
            assert_eq!(f[1], format!("{}.0", m.runtime_cycles));
            assert_eq!(f[4], "64.0");
            assert_eq!(f[5], format!("{}.0", m.l1_size_req));
            // Same area as gammaflow's GAMMA area model, up to the order of float operations.
            let area: f64 = f[2].parse().unwrap();
            let ours = cfg.area(b, &r.hw).unwrap().total;
            assert!((area - ours).abs() <= 1e-9 * ours, "{area} vs {ours}");
            assert!(f[10].starts_with("\"[['") && f[10].ends_with("]]\""), "{}", f[10]);
            // The list is GAMMA's printed genome: same dims and sizes as the JSON form.
            let json = serde_json::to_string(&b.genome).unwrap();
            assert_eq!(f[10].trim_matches('"').replace('\'', "\"").replace(", ", ","), json);
        }
    }
}
