//! Both backends against MAESTRO's own outputs: every dev case (2,500), every dev-ext case
//! (1,500: 4 cluster levels, two SpatialMaps, row stationary, very large layers), both vendored
//! from the shared oracle, and the 23 hand-checked vectors. Crash kinds are checked against
//! MAESTRO's return codes, and every expected key must be compared (none skipped).

use gammaflow::energy::{parse_energy_model, EnergyModel};
use gammaflow::eval::{BackendChoice, Evaluator, Item, Problem};
use gammaflow::hardware::Hardware;
use gammaflow::mapping::{write_maestro, Genome};
use gammaflow::model::{
    evaluate, evaluate_with, l1_requirement_levels, l2_requirement_levels, Crash, Evaluation, Metrics,
};
use gammaflow::workload::Layer;
use serde_json::Value;

struct Case {
    id: String,
    layer: Layer,
    genome: Genome,
    hw: Hardware,
    raw: Value,
}

fn load_cases() -> Vec<Case> {
    parse_cases(include_str!("data/dev-cases.jsonl"))
}

fn load_ext_cases() -> Vec<Case> {
    parse_cases(include_str!("data/dev-ext-cases.jsonl"))
}

fn parse_cases(text: &str) -> Vec<Case> {
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            Case {
                id: v["id"].as_str().unwrap().to_string(),
                layer: serde_json::from_value(v["layer"].clone()).unwrap(),
                genome: serde_json::from_value(v["genome"].clone()).unwrap(),
                hw: Hardware {
                    num_pe: v["num_pe"].as_i64().unwrap(),
                    l1_size: v["l1_size"].as_i64().unwrap(),
                    l2_size: v["l2_size"].as_i64().unwrap(),
                    noc_bw: v["noc_bw"].as_i64().unwrap(),
                    offchip_bw: v["offchip_bw"].as_i64().unwrap(),
                },
                raw: v,
            }
        })
        .collect()
}

/// `%.6g` formatting, as MAESTRO prints doubles.
fn g6(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let exp = x.abs().log10().floor() as i32;
    // Round to 6 significant digits first; the exponent may move after rounding.
    let s = format!("{:.5e}", x);
    let (mant, e) = s.split_once('e').unwrap();
    let e: i32 = e.parse().unwrap();
    let _ = exp;
    if (-4..6).contains(&e) {
        let decimals = (5 - e).max(0) as usize;
        let f = format!("{:.*}", decimals, x);
        let f = if f.contains('.') { f.trim_end_matches('0').trim_end_matches('.').to_string() } else { f };
        f
    } else {
        let m = if mant.contains('.') { mant.trim_end_matches('0').trim_end_matches('.') } else { mant };
        format!("{}e{}{:02}", m, if e < 0 { '-' } else { '+' }, e.abs())
    }
}

fn float_matches(got: f64, want: &Value) -> bool {
    match want {
        Value::String(s) => g6(got) == *s,
        Value::Number(n) => {
            let w = n.as_f64().unwrap();
            if g6(got) == g6(w) {
                return true;
            }
            (got - w).abs() <= 6e-6 * w.abs()
        }
        _ => false,
    }
}

fn check(case: &Case, ev: &Evaluation) -> Vec<String> {
    let exp = &case.raw["expect"];
    let mut errs = Vec::new();
    let crash = exp["crash"].as_bool().unwrap();
    if ev.invalid.is_some() {
        errs.push(format!("input rejected: {:?}", ev.invalid));
        return errs;
    }
    if crash != ev.crash.is_some() {
        errs.push(format!("crash: want {crash}, got {:?}", ev.crash));
        return errs;
    }
    // The crash kind, from MAESTRO's exit status: SIGFPE (-8) is a division by zero (cluster
    // product above the PEs, or zero top-level compute), SIGABRT (-6) the occurrence assert,
    // exit(-1) (255) the zero unique tile.
    let rc = exp["returncode"].as_i64().unwrap();
    let kind_ok = matches!(
        (rc, ev.crash),
        (0, None)
            | (-8, Some(Crash::ClusterProduct | Crash::ZeroCompute))
            | (-6, Some(Crash::OccurrenceWrap))
            | (255, Some(Crash::ZeroUnique))
    );

    if !kind_ok {
        errs.push(format!("crash kind: MAESTRO returned {rc}, model says {:?}", ev.crash));
    }
    let positive = exp["all_metrics_positive"].as_bool();
    let got_positive = ev
        .metrics
        .map(|m| m.runtime_cycles > 0 && m.energy_nj > 0.0 && m.power > 0.0 && m.area > 0.0 && m.throughput > 0.0);
    if positive != got_positive {
        errs.push(format!("all_metrics_positive: want {positive:?}, got {got_positive:?}"));
    }
    if exp["valid"].as_bool().unwrap() != ev.valid {
        errs.push(format!("valid: want {}, got {}", exp["valid"], ev.valid));
    }
    if exp["valid_physical"].as_bool().unwrap() != ev.valid_physical {
        errs.push(format!("valid_physical: want {}, got {}", exp["valid_physical"], ev.valid_physical));
    }
    if exp["error"].is_null() != ev.error(&case.hw).is_none() {
        errs.push(format!("error: want {}, got {:?}", exp["error"], ev.error(&case.hw)));
    }
    if exp["expected_macs"].as_i64().unwrap() != ev.expected_macs {
        errs.push(format!("expected_macs: want {}, got {}", exp["expected_macs"], ev.expected_macs));
    }
    let Some(m) = ev.metrics else { return errs };
    let mv = serde_json::to_value(m).unwrap();
    for (k, want) in exp.as_object().unwrap() {
        let Some(got) = mv.get(k) else {
            // Verdict keys are compared above; any other key must be a metric we produce.
            if !VERDICT_KEYS.contains(&k.as_str()) {
                errs.push(format!("{k}: expected by the oracle but not produced"));
            }
            continue;
        };
        let ok = match k.as_str() {
            "throughput" | "energy_nJ" | "area" | "power" => {
                let g = match got {
                    Value::String(s) => s.parse::<f64>().unwrap_or(f64::NAN),
                    _ => got.as_f64().unwrap(),
                };
                float_matches(g, want)
            }
            _ => got.as_i64() == want.as_i64(),
        };
        if !ok {
            errs.push(format!("{k}: want {want}, got {got}"));
        }
    }
    let ext = ev.area_gamma_external(case.hw.num_pe).unwrap();
    let want = exp["area_gamma_external"].as_f64().unwrap();
    if (ext - want).abs() > 1e-12 * want.abs().max(1.0) {
        errs.push(format!("area_gamma_external: want {want}, got {ext}"));
    }
    errs
}

/// Keys of `expect` that are verdicts, checked by `check` itself rather than as metrics.
const VERDICT_KEYS: [&str; 8] = [
    "crash",
    "returncode",
    "valid",
    "valid_physical",
    "error",
    "expected_macs",
    "area_gamma_external",
    "all_metrics_positive",
];

fn assert_all_match(what: &str, cases: &[Case], evs: &[Evaluation]) {
    assert_eq!(evs.len(), cases.len(), "{what}: one evaluation per case");
    let mut failures = Vec::new();
    for (c, ev) in cases.iter().zip(evs) {
        let errs = check(c, ev);
        if !errs.is_empty() {
            failures.push(format!("{} ({}): {}", c.id, c.genome.describe(), errs.join(", ")));
        }
    }
    for f in failures.iter().take(30) {
        eprintln!("{f}");
    }
    assert!(failures.is_empty(), "{what}: {} of {} cases differ from MAESTRO", failures.len(), cases.len());
}

fn cpu_evals(cases: &[Case]) -> Vec<Evaluation> {
    cases.iter().map(|c| evaluate(&c.layer, &c.genome, &c.hw)).collect()
}

/// The cases through the library's batch API on the GPU backend, or None (said visibly) when
/// no adapter exists and `GAMMAFLOW_REQUIRE_GPU=1` is not set.
fn gpu_evals(cases: &[Case]) -> Option<Vec<Evaluation>> {
    let mut ev = match Evaluator::new(BackendChoice::Gpu) {
        Ok(ev) => ev,
        Err(e) => {
            if std::env::var("GAMMAFLOW_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("GAMMAFLOW_REQUIRE_GPU=1 but no GPU could be opened: {e}");
            }
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "ignored: no GPU ({e})");
            return None;
        }
    };
    let problems: Vec<Problem> = cases.iter().map(|c| Problem { layer: c.layer, hw: c.hw }).collect();
    let items: Vec<Item> =
        cases.iter().enumerate().map(|(i, c)| Item { problem: i, genome: c.genome, num_pe: None }).collect();
    let out = ev.evaluate(&problems, &items);
    assert!(ev.is_gpu(), "the GPU backend fell back to the CPU: {:?}", ev.fallback_reason);
    Some(out)
}

/// The buffer requirements the search checks before evaluating (L1 from the innermost tiles, L2
/// from the top level's tables and first case alone) are MAESTRO's own on every case it
/// completed.
#[test]
fn buffer_requirements_without_evaluation_match_maestro() {
    let mut checked = 0;
    for c in load_cases().iter().chain(&load_ext_cases()) {
        let exp = &c.raw["expect"];
        if exp["crash"].as_bool().unwrap() {
            continue;
        }
        let levels = &c.genome.levels;
        assert_eq!(l1_requirement_levels(&c.layer, levels), exp["l1_size_req"].as_i64().unwrap(), "{}: L1", c.id);
        assert_eq!(l2_requirement_levels(&c.layer, levels, c.hw.num_pe), exp["l2_size_req"].as_i64(), "{}: L2", c.id);
        checked += 1;
    }
    assert!(checked > 3000, "only {checked} completed cases");
}

#[test]
fn all_dev_cases_match_maestro() {
    let cases = load_cases();
    assert_eq!(cases.len(), 2500);
    assert_all_match("dev (CPU)", &cases, &cpu_evals(&cases));
}

#[test]
fn all_dev_ext_cases_match_maestro() {
    let cases = load_ext_cases();
    assert_eq!(cases.len(), 1500);
    // The families the main set lacks must really be there.
    let has = |f: &dyn Fn(&Case) -> bool| cases.iter().filter(|c| f(c)).count();
    assert!(has(&|c| c.genome.num_levels() == 4) >= 100);
    assert!(has(&|c| c.genome.levels.iter().any(|l| l.sp2.is_some())) >= 100);
    assert!(has(&|c| c.layer.shape().true_macs() > 1 << 32) >= 100);
    assert_all_match("dev-ext (CPU)", &cases, &cpu_evals(&cases));
}

#[test]
fn all_oracle_cases_match_maestro_on_the_gpu() {
    let mut cases = load_cases();
    cases.extend(load_ext_cases());
    if let Some(evs) = gpu_evals(&cases) {
        assert_all_match("dev + dev-ext (GPU)", &cases, &evs);
    }
}

#[test]
fn maestro_export_is_byte_identical() {
    for c in load_cases() {
        let want = c.raw["maestro"]["mapping_file"].as_str().unwrap();
        assert_eq!(write_maestro(&c.layer, &c.genome), want, "{}", c.id);
    }
}

#[test]
fn test_vectors_match() {
    // The 23 vectors are dev-00000..dev-00022 in genome form; check their names and the
    // expected CSV rows of the vectors file against the model too.
    let vectors: Value =
        serde_json::from_str(&include_str!("data/maestro-test-vectors.json").replace("-Infinity", "\"-inf\"")).unwrap();
    let vectors = vectors.as_array().unwrap();
    assert_eq!(vectors.len(), 23);
    let cases = load_cases();
    for (i, v) in vectors.iter().enumerate() {
        let c = &cases[i];
        assert_eq!(c.raw["source"], v["name"], "vector order");
        // The vectors name the layer block freely ("Layer CONV" for V21's DSCONV); the dev
        // cases carry GAMMA's exact text, checked byte for byte above. Compare the rest here.
        let body = |s: &str| s.lines().filter(|l| !l.starts_with("Layer ")).collect::<Vec<_>>().join("\n");
        assert_eq!(body(&write_maestro(&c.layer, &c.genome)), body(v["mapping_file"].as_str().unwrap()));
        let ev = evaluate(&c.layer, &c.genome, &c.hw);
        let exp = &v["expected"];
        if exp.is_null() {
            assert!(ev.crash.is_some(), "{}: MAESTRO crashed (rc {}), model did not", v["name"], v["oracle_rc"]);
            continue;
        }
        let m = ev.metrics.unwrap_or_else(|| panic!("{}: model crashed ({:?})", v["name"], ev.crash));
        let pairs = [
            ("Runtime (Cycles)", m.runtime_cycles),
            ("L1 SRAM Size Req (Bytes)", m.l1_size_req),
            ("L2 SRAM Size Req (Bytes)", m.l2_size_req),
            ("Num MACs", m.num_macs),
            ("input l1 read", m.l1_input_read),
            ("input l1 write", m.l1_input_write),
            ("input l2 read", m.l2_input_read),
            ("input l2 write", m.l2_input_write),
            ("filter l1 read", m.l1_weight_read),
            ("filter l1 write", m.l1_weight_write),
            ("filter l2 read", m.l2_weight_read),
            ("filter l2 write", m.l2_weight_write),
            ("output l1 read", m.l1_output_read),
            ("output l1 write", m.l1_output_write),
            ("output l2 read", m.l2_output_read),
            ("output l2 write", m.l2_output_write),
        ];
        for (k, got) in pairs {
            assert_eq!(exp[k].as_i64(), Some(got), "{} {k}", v["name"]);
        }
        for (k, got) in [
            ("Activity count-based Energy (nJ)", m.energy_nj),
            ("Throughput (MACs/Cycle)", m.throughput),
            ("Area", m.area),
            ("Power", m.power),
        ] {
            assert!(float_matches(got, &exp[k]), "{} {k}: want {}, got {got}", v["name"], exp[k]);
        }
    }
}

fn repo_file(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn maestro_energy_table_as_a_file_reproduces_the_oracle() {
    // The shipped file is read as any user table is: nothing in it is special-cased.
    let path = repo_file("data/energy/maestro.toml");
    let table = EnergyModel::resolve(path.to_str().unwrap()).unwrap();
    let mut cases = load_cases();
    cases.extend(load_ext_cases());
    let evs: Vec<Evaluation> = cases.iter().map(|c| evaluate_with(&c.layer, &c.genome, &c.hw, &table)).collect();
    assert_all_match("dev + dev-ext (CPU, data/energy/maestro.toml)", &cases, &evs);
    // Bit for bit the default's energies, not only to MAESTRO's 6 printed digits.
    for (c, e) in cases.iter().zip(&evs) {
        let d = evaluate(&c.layer, &c.genome, &c.hw);
        assert_eq!(d.metrics.map(|m| m.energy_nj.to_bits()), e.metrics.map(|m| m.energy_nj.to_bits()), "{}", c.id);
    }
}

/// Energy of `m` under a table of integer energies, summed exactly in integers.
fn exact_energy(m: &Metrics, l1: [i128; 6], l2: [i128; 6], mac: i128) -> i128 {
    let l1c =
        [m.l1_input_read, m.l1_input_write, m.l1_weight_read, m.l1_weight_write, m.l1_output_read, m.l1_output_write];
    let l2c =
        [m.l2_input_read, m.l2_input_write, m.l2_weight_read, m.l2_weight_write, m.l2_output_read, m.l2_output_write];
    let dot = |c: [i64; 6], e: [i128; 6]| c.iter().zip(e).map(|(&c, e)| c as i128 * e).sum::<i128>();
    dot(l1c, l1) + dot(l2c, l2) + m.num_macs as i128 * mac
}

#[test]
fn another_energy_table_changes_energy_and_nothing_else() {
    // Hand-computed: MAESTRO's worked example V01 (dev-00000, one level) under the example pJ
    // table (MAC 1, L1 1, L2 6, every L1 count included): L1 144+32+144+36+144+144 = 644,
    // L2 6 x (32+32+36+36+8+8) = 912, MACs 144: 1700 pJ = 1.7 nJ (MAESTRO's: 0.865205).
    let cases = load_cases();
    let example = EnergyModel::resolve(repo_file("data/energy/example_pj.toml").to_str().unwrap()).unwrap();
    let v01 = evaluate_with(&cases[0].layer, &cases[0].genome, &cases[0].hw, &example).metrics.unwrap();
    assert!((v01.energy_nj - 1.7).abs() < 1e-12, "{}", v01.energy_nj);

    // A table with a different energy for every count (so a swapped term shows), scale 1, and
    // L1 counted for every mapping: each case's energy is the exact integer sum.
    let (l1, l2, mac) = ([2, 3, 5, 7, 11, 13], [17, 19, 23, 29, 31, 37], 41);
    let mut text = String::from("scale = 1\nmac = 41\nl1_counted = \"always\"\n");
    let names = ["input_read", "input_write", "weight_read", "weight_write", "output_read", "output_write"];
    for (lvl, es) in [("l1", l1), ("l2", l2)] {
        for (n, e) in names.iter().zip(es) {
            text += &format!("{lvl}_{n} = {e}\n");
        }
    }
    let table = parse_energy_model(&text, "primes.toml").unwrap();
    let mut all = cases;
    all.extend(load_ext_cases());
    let mut changed = 0;
    for c in &all {
        let a = evaluate(&c.layer, &c.genome, &c.hw);
        let b = evaluate_with(&c.layer, &c.genome, &c.hw, &table);
        // Everything but energy is the same, verdicts included.
        let strip = |e: &Evaluation| {
            let mut e = *e;
            if let Some(m) = e.metrics.as_mut() {
                m.energy_nj = 0.0;
            }
            e
        };
        assert_eq!(strip(&a), strip(&b), "{}", c.id);
        let (Some(ma), Some(mb)) = (a.metrics, b.metrics) else { continue };
        let want = exact_energy(&ma, l1, l2, mac) as f64;
        assert!((mb.energy_nj - want).abs() <= 1e-12 * want.abs(), "{}: {} vs {want}", c.id, mb.energy_nj);
        changed += usize::from(mb.energy_nj != ma.energy_nj);
    }
    assert!(changed > 3000, "the table changed only {changed} energies");
}

#[test]
fn g6_formats_like_printf() {
    assert_eq!(g6(0.865205123), "0.865205");
    assert_eq!(g6(4760790000000.0), "4.76079e+12");
    assert_eq!(g6(14.98114999), "14.9811");
    assert_eq!(g6(100000.0), "100000");
    assert_eq!(g6(1234567.0), "1.23457e+06");
    assert_eq!(g6(0.0001234), "0.0001234");
    assert_eq!(g6(f64::NEG_INFINITY), "-inf");
}
