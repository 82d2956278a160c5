//! The command line end to end: eval streaming and its error lines, search output files and
//! their determinism, clear errors on bad input.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gammaflow"));
    // The CLI tests exercise the CPU path; GPU parity has its own test.
    c.env_remove("GAMMAFLOW_ADAPTER");
    c
}

fn run_ok(c: &mut Command) -> (String, String) {
    let out = c.output().expect("runs");
    let (so, se) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "failed: {so}\n{se}");
    (so, se)
}

#[test]
fn eval_streams_cases_and_reports_bad_lines() {
    let dev = include_str!("data/dev-cases.jsonl");
    let mut input: Vec<String> = dev.lines().take(40).map(String::from).collect();
    input.insert(3, "{not json".into());
    input.insert(7, r#"{"id":"zero","layer":{"K":0,"C":1,"Y":3,"X":3,"R":1,"S":1,"T":1},"genome":[["K",1],["K",1],["C",1],["Y",1],["X",1],["R",1],["S",1]],"num_pe":4}"#.into());
    input.insert(9, r#"{"id":"dupdim","layer":{"K":2,"C":1,"Y":3,"X":3,"R":1,"S":1,"T":1},"genome":[["K",1],["K",1],["K",1],["Y",1],["X",1],["R",1],["S",1]],"num_pe":4}"#.into());
    input.insert(11, "".into());
    input.insert(13, "\u{FFFD} invalid UTF-8 at byte 0".into());
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in.jsonl");
    let outp = dir.path().join("out.jsonl");
    // Line 14 is raw bytes that are not UTF-8.
    let mut bytes = Vec::new();
    for (i, l) in input.iter().enumerate() {
        if i == 13 {
            bytes.extend_from_slice(b"\xff\xfe{");
        } else {
            bytes.extend_from_slice(l.as_bytes());
        }
        bytes.push(b'\n');
    }
    fs::write(&inp, bytes).unwrap();
    run_ok(bin().args(["eval", "--backend", "cpu", "--batch", "7", "--input"]).arg(&inp).arg("--output").arg(&outp));
    let out = fs::read_to_string(&outp).unwrap();
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 44, "one output per non-blank input line, in order");
    assert!(lines[12]["error"].as_str().unwrap().contains("invalid UTF-8"), "{}", lines[12]);
    assert!(lines[3]["error"].as_str().unwrap().starts_with("line 4:"), "{}", lines[3]);
    assert_eq!(lines[7]["id"], "zero");
    assert!(lines[7]["error"].as_str().unwrap().contains("field K"), "{}", lines[7]);
    assert!(lines[9]["error"].as_str().unwrap().contains("more than once"), "{}", lines[9]);
    // The good lines, in order, match MAESTRO's answers.
    let good: Vec<&serde_json::Value> = lines.iter().filter(|l| l.get("line").is_none()).collect();
    for (got, want_line) in good.iter().zip(dev.lines()) {
        let want: serde_json::Value = serde_json::from_str(want_line).unwrap();
        assert_eq!(got["id"], want["id"]);
        for k in [
            "runtime_cycles",
            "num_macs",
            "l1_size_req",
            "l2_size_req",
            "l2_input_read",
            "valid",
            "valid_physical",
            "crash",
        ] {
            assert_eq!(got[k], want["expect"][k], "{} {k}", want["id"]);
        }
    }
}

#[test]
fn eval_reads_stdin() {
    let line = include_str!("data/dev-cases.jsonl").lines().next().unwrap();
    let mut child = bin()
        .args(["eval", "--backend", "cpu", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("{line}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["runtime_cycles"], 145);
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for e in walk(dir) {
        v.push((e.strip_prefix(dir).unwrap().display().to_string(), fs::read(&e).unwrap()));
    }
    v.sort();
    v
}

fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn search_writes_identical_files_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "search",
        "--model",
        "toy",
        "--epochs",
        "8",
        "--num-pop",
        "20",
        "--seed",
        "5",
        "--backend",
        "cpu",
        "-q",
        "--outdir",
    ];
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    run_ok(bin().args(args).arg(&a));
    run_ok(bin().args(args).arg(&b));
    let (fa, fb) = (files(&a), files(&b));
    let names: Vec<&str> = fa.iter().map(|f| f.0.as_str()).collect();
    for want in [
        "results.csv",
        "results.json",
        "history.csv",
        "pareto.csv",
        "convergence.svg",
        "mappings/layer_001.m",
        "pareto/layer_001.svg",
    ] {
        assert!(names.contains(&want), "missing {want}: {names:?}");
    }
    assert_eq!(fa, fb, "same seed, different files");
    let csv = fs::read_to_string(a.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "header + one row per toy layer:\n{csv}");
    let m = fs::read_to_string(a.join("mappings/layer_001.m")).unwrap();
    assert!(m.starts_with("Network 0 {") && m.contains("SpatialMap"));
}

#[test]
fn bad_inputs_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("bad.csv");
    fs::write(&model, "K,C,Y,X,R,S,T\n64,3,224,224,7,7,1\n8,8,3,3,5,1,1\n").unwrap();
    let out = bin().args(["search", "--backend", "cpu", "-q", "--model"]).arg(&model).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv") && err.contains("line 3") && err.contains("R"), "{err}");
    let out = bin().args(["search", "--backend", "cpu", "-q", "--model", "toy", "--layer", "9"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--layer 9"));
    // Absurd PE counts (a count ≤ 0 means co-exploration, as in GAMMA).
    for args in [["--num-pe", "100000000"], ["--pe-limit", "0"]] {
        let out = bin()
            .args(["search", "--backend", "cpu", "-q", "--model", "toy", "--co-explore"])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(
            String::from_utf8_lossy(&out.stderr).to_lowercase().contains("num_pe"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out =
        bin().args(["search", "--backend", "cpu", "-q", "--model", "toy", "--area-budget", "-1"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--area-budget"));
}

/// Whether a GPU adapter can be opened; without one the GPU comparisons skip, unless
/// `GAMMAFLOW_REQUIRE_GPU=1` makes that a failure.
fn gpu_or_skip(test: &str) -> bool {
    match gammaflow::gpu::GpuContext::new(&gammaflow::gpu::GpuOptions::default()) {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var("GAMMAFLOW_REQUIRE_GPU").as_deref() != Ok("1"),
                "{test}: GAMMAFLOW_REQUIRE_GPU=1 but no GPU adapter: {e}"
            );
            // Straight to the terminal: the harness captures eprint!, and a skip must be seen.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "ignored: no GPU ({test}: {e})");
            false
        }
    }
}

#[test]
fn cpu_and_gpu_searches_write_identical_files() {
    if !gpu_or_skip("cpu_and_gpu_searches_write_identical_files") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "search",
        "--model",
        "toy",
        "--epochs",
        "6",
        "--num-pop",
        "24",
        "--seed",
        "9",
        "--slevel-max",
        "3",
        "-q",
        "--outdir",
    ];
    let (c, g) = (dir.path().join("cpu"), dir.path().join("gpu"));
    run_ok(bin().args(base).arg(&c).args(["--backend", "cpu"]));
    let (_, err) = run_ok(bin().args(base).arg(&g).args(["--backend", "gpu"]));
    assert!(err.contains("backend gpu"), "did not run on the GPU: {err}");
    assert_eq!(files(&c), files(&g), "CPU and GPU runs wrote different files");
}

#[test]
fn cpu_and_gpu_eval_outputs_are_identical() {
    if !gpu_or_skip("cpu_and_gpu_eval_outputs_are_identical") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in.jsonl");
    // Plus tiles beyond the kernel's 32-bit words: they must not be truncated on the way.
    let big = r#"{"id":"big","layer":{"K":64,"C":64,"Y":56,"X":56,"R":3,"S":3,"T":1},"genome":[["K",1024],["K",4294967297],["C",64],["Y",54],["X",54],["R",3],["S",3]],"num_pe":1024}"#;
    fs::write(&inp, format!("{}{big}\n", include_str!("data/dev-cases.jsonl"))).unwrap();
    let mut outs = Vec::new();
    let mut summaries = Vec::new();
    for be in ["cpu", "gpu"] {
        let o = dir.path().join(format!("{be}.jsonl"));
        let (_, err) = run_ok(bin().args(["eval", "--backend", be, "--input"]).arg(&inp).arg("--output").arg(&o));
        outs.push(fs::read(&o).unwrap());
        summaries.push(err);
    }
    // The GPU run really used the kernel for the in-range cases: the one huge tile (and the
    // cases with a second spatial dim, none here) go to the CPU alone, not the whole batch.
    let gpu_count = |s: &str| -> u64 {
        let at = s.find(" by the GPU kernel").unwrap_or_else(|| panic!("no summary: {s}"));
        s[..at].rsplit('(').next().unwrap().trim().parse().unwrap()
    };
    assert_eq!(gpu_count(&summaries[0]), 0, "{}", summaries[0]);
    assert!(gpu_count(&summaries[1]) >= 2400, "GPU kernel evaluated too few cases: {}", summaries[1]);
    assert_eq!(outs[0].len(), outs[1].len());
    assert!(outs[0] == outs[1], "eval output differs between CPU and GPU");
    let last = String::from_utf8_lossy(&outs[1]).lines().last().unwrap().to_string();
    assert!(
        last.contains("\"big\"") && last.contains("4294967297"),
        "the huge tile is rejected with its value: {last}"
    );
}

/// A CSV file as (header, rows), cells unquoted.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn eval_energy_model_changes_energy_only() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in.jsonl");
    fs::write(&inp, include_str!("data/dev-cases.jsonl").lines().take(300).collect::<Vec<_>>().join("\n")).unwrap();
    let eval = |extra: &[&str], out: &str| {
        let o = dir.path().join(out);
        run_ok(bin().args(["eval", "--backend", "cpu", "-i"]).arg(&inp).arg("-o").arg(&o).args(extra));
        let lines: Vec<serde_json::Value> =
            fs::read_to_string(&o).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        lines
    };
    let default = eval(&[], "a.jsonl");
    let table = repo("data/energy/maestro.toml");
    assert_eq!(eval(&["--energy-model", table.to_str().unwrap()], "b.jsonl"), default);
    let pj = repo("data/energy/example_pj.toml");
    let other = eval(&["--energy-model", pj.to_str().unwrap()], "c.jsonl");
    // MAESTRO's worked example V01 under the pJ table: 644 L1 + 6 x 152 L2 + 144 MAC pJ = 1.7 nJ.
    assert!((other[0]["energy_nJ"].as_f64().unwrap() - 1.7).abs() < 1e-12, "{}", other[0]);
    let mut changed = 0;
    for (d, o) in default.iter().zip(&other) {
        let (mut d, mut o) = (d.clone(), o.clone());
        changed += usize::from(d["energy_nJ"] != o["energy_nJ"]);
        d.as_object_mut().unwrap().remove("energy_nJ");
        o.as_object_mut().unwrap().remove("energy_nJ");
        assert_eq!(d, o);
    }
    assert!(changed > 250, "{changed}");
    // A bad table stops the run before any line, naming file, line and field.
    let bad = dir.path().join("bad.toml");
    fs::write(&bad, fs::read_to_string(&pj).unwrap().replace("mac = 1.0", "mac = -1.0")).unwrap();
    let o = bin().args(["eval", "-i"]).arg(&inp).arg("--energy-model").arg(&bad).output().unwrap();
    assert!(!o.status.success() && o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--energy-model") && err.contains("bad.toml line 6, field mac"), "{err}");
}

#[test]
fn search_energy_model_changes_energy_columns_only() {
    // Latency then power: energy is no objective, so the search is the same and only the
    // energy columns differ.
    let dir = tempfile::tempdir().unwrap();
    let args = ["search", "--model", "toy", "--num-pe", "64", "--max-evals", "600", "--backend", "cpu", "-q"];
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_ok(bin().args(args).arg("--outdir").arg(&a));
    let pj = repo("data/energy/example_pj.toml");
    let (so, _) = run_ok(bin().args(args).arg("--outdir").arg(&b).arg("--energy-model").arg(&pj));
    assert!(so.contains("energy"), "{so}");
    let ((ha, ra), (hb, rb)) = (read_csv(&a.join("results.csv")), read_csv(&b.join("results.csv")));
    assert_eq!(ha, hb);
    let e = ha.iter().position(|h| h == "energy_nJ").unwrap();
    assert_eq!(ra.len(), 3);
    for (x, y) in ra.iter().zip(&rb) {
        assert_ne!(x[e], y[e]);
        let strip =
            |r: &Vec<String>| r.iter().enumerate().filter(|(i, _)| *i != e).map(|(_, v)| v.clone()).collect::<Vec<_>>();
        assert_eq!(strip(x), strip(y));
    }
    // Units in the column names; model CSVs without strides report stride 1.
    for col in
        ["runtime_cycles", "bound_cycles", "energy_nJ", "area_um2", "throughput_macs_per_cycle", "l1_size_req_elements"]
    {
        assert!(ha.iter().any(|h| h == col), "no {col} in {ha:?}");
    }
    let s = ha.iter().position(|h| h == "stride").unwrap();
    assert!(ra.iter().all(|r| r[s] == "1"));
    // The table is part of results.json's config only when it is not MAESTRO's.
    let json = |d: &Path| -> serde_json::Value {
        serde_json::from_str(&fs::read_to_string(d.join("results.json")).unwrap()).unwrap()
    };
    let (ja, jb) = (json(&a), json(&b));
    assert!(ja["config"].get("energy_model").is_none());
    assert_eq!(jb["config"]["energy_model"]["mac"], 1.0);
    assert_eq!(jb["config"]["energy_model"]["l1_counted"], "always");
    assert_ne!(ja["totals"]["energy_nJ"], jb["totals"]["energy_nJ"]);
    assert_eq!(ja["totals"]["runtime_cycles"], jb["totals"]["runtime_cycles"]);
    assert_eq!(ja["layers"][0]["best"]["mapping"], jb["layers"][0]["best"]["mapping"]);
    // A bad table is refused before the search (named flag, file, line, field).
    let o = bin()
        .args(args)
        .arg("--outdir")
        .arg(dir.path().join("c"))
        .args(["--energy-model", "/no/such.toml"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--energy-model") && err.contains("/no/such.toml"), "{err}");
}

/// A co-explored search's results.csv: the design's bound is ceil(MACs / its PEs), no runtime
/// beats any bound, the parallelism bound is at least the compute bound, and the design uses at
/// most its area budget (shares of the budget in [0, 1]).
#[test]
fn co_exploration_reports_bounds_and_budget_use() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("co");
    run_ok(
        bin()
            .args([
                "search",
                "--model",
                "resnet18",
                "--num-layers",
                "3",
                "--num-pe",
                "-1",
                "--pe-limit",
                "4096",
                "--area-budget",
                "2",
                "--max-evals",
                "3000",
                "--backend",
                "cpu",
                "--outdir",
            ])
            .arg(&out),
    );
    let (h, rows) = read_csv(&out.join("results.csv"));
    let col = |row: &[String], name: &str| -> f64 {
        let i = h.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name} in {h:?}"));
        row[i].parse().unwrap_or_else(|_| panic!("{name} = {:?}", row[i]))
    };
    assert_eq!(rows.len(), 3);
    for r in &rows {
        let (rt, pes, macs) = (col(r, "runtime_cycles"), col(r, "num_pe"), col(r, "num_macs"));
        let design = col(r, "design_bound_cycles");
        assert_eq!(design, (macs / pes).ceil(), "{r:?}");
        assert!(rt >= design && rt >= col(r, "parallel_bound_cycles"), "{r:?}");
        assert!(col(r, "parallel_bound_cycles") >= col(r, "bound_cycles"));
        assert!((col(r, "gap_to_design_bound") - (rt / design - 1.0)).abs() < 1e-9);
        let share = col(r, "area_budget_share");
        assert!(share > 0.0 && share <= 1.0, "{share}");
        assert!((share - col(r, "area_um2") / 2e6).abs() < 1e-9);
    }
}

/// Options another option would silently override, and budgets no design can meet, are refused
/// before any work starts, naming both options; the output folder is not created.
#[test]
fn conflicting_or_impossible_search_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let search = |args: &[&str]| {
        bin()
            .args(["search", "--backend", "cpu", "-q", "--model", "resnet18", "--layer", "2", "--max-evals", "50"])
            .arg("--outdir")
            .arg(&out)
            .args(args)
            .output()
            .unwrap()
    };
    for (args, must) in [
        // nvdla fixes its inner cluster size (16) and its level count (2).
        (&["--mapping-cstr", "nvdla", "--fixed-cluster", "4"][..], &["--fixed-cluster 4", "nvdla", "16"][..]),
        (&["--mapping-cstr", "nvdla", "--slevel-min", "3", "--slevel-max", "3"], &["--slevel-min", "nvdla", "2"]),
        (&["--mapping-cstr", "eyeriss", "--slevel-min", "1", "--slevel-max", "1"], &["--slevel-max", "eyeriss"]),
        // MAESTRO's area is known only after an evaluation: shared-hw designs cannot be sized by it.
        (&["--shared-hw", "--area-model", "maestro"], &["--shared-hw", "--area-model", "maestro"]),
        (&["--shared-hw", "--area-model", "maestro", "--area-budget", "1e-9"], &["--shared-hw", "maestro"]),
        // Below the area of the PEs alone (282 um^2 each under the default model).
        (&["--co-explore", "--area-budget", "1e-9"], &["--area-budget", "1 PE"]),
        (&["--num-pe", "1024", "--area-budget", "0.01"], &["--area-budget", "1024 PE"]),
    ] {
        let o = search(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} accepted:\n{err}");
        assert!(o.status.code() == Some(1) && !err.contains("panicked"), "{args:?}: {err}");
        for m in must {
            assert!(err.contains(m), "{args:?}: the error does not name {m:?}:\n{err}");
        }
        assert!(!out.exists(), "{args:?} created the output folder");
    }
    // Not conflicts: flexibility class 15 frees the cluster size and 16 is nvdla's own; the
    // default level range with a constraint; a budget that fits one co-explored PE.
    for args in [
        &["--mapping-cstr", "nvdla", "--flex-class", "15", "--fixed-cluster", "4"][..],
        &["--mapping-cstr", "nvdla", "--fixed-cluster", "16"],
        &["--mapping-cstr", "eyeriss", "--slevel-max", "4"],
        &["--co-explore", "--area-budget", "0.01"],
        &["--shared-hw", "--area-budget", "0.1"],
    ] {
        let o = search(args);
        assert!(o.status.success(), "{args:?} refused:\n{}", String::from_utf8_lossy(&o.stderr));
    }
    // An area model name that is neither built in nor a file says what it expected.
    let o = search(&["--area-model", "gama"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("not gamma or maestro") && !err.contains("hardware"), "{err}");

    // A sweep's scalar options apply to every job: a constraint may not silently replace them.
    let cfg = dir.path().join("sweep.toml");
    for (key, field) in [("fixed_cluster = 4", "fixed_cluster"), ("slevel_min = 3\nslevel_max = 3", "slevel_min")] {
        let text = format!(
            "models = [\"toy\"]\nmapping_constraints = [\"none\", \"nvdla\"]\n{key}\n\
             [[accelerators]]\nname = \"edge\"\nnum_pe = 64\n"
        );
        fs::write(&cfg, text).unwrap();
        let o = bin().args(["sweep", "--dry-run", "--config"]).arg(&cfg).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{key} with nvdla accepted:\n{err}");
        assert!(err.contains("sweep.toml line 3") && err.contains(field) && err.contains("nvdla"), "{err}");
    }
}

/// A results folder whose rows were edited (a row cut down to its key, a layer number the job
/// does not have) does not count those jobs as finished: merge refuses the folder and a resumed
/// sweep reruns them, ending with the files of an untouched run.
#[test]
fn tampered_sweep_rows_are_rerun_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sweep.toml");
    fs::write(
        &cfg,
        "models = [\"toy\"]\nlayers = [1, 2]\nnum_pop = [8]\nepochs = [2]\nseeds = [1, 2]\n\
         [[accelerators]]\nname = \"edge\"\nnum_pe = 64\n",
    )
    .unwrap();
    let sw = dir.path().join("sw");
    let sweep = || {
        run_ok(
            bin()
                .args(["sweep", "--backend", "cpu", "-q", "--no-job-dirs", "--config"])
                .arg(&cfg)
                .arg("--outdir")
                .arg(&sw),
        )
    };
    sweep();
    let (csv, jsonl) = (sw.join("results.csv"), sw.join("results.jsonl"));
    let (clean_csv, clean_jsonl) = (fs::read_to_string(&csv).unwrap(), fs::read_to_string(&jsonl).unwrap());
    let mut j: Vec<String> = clean_jsonl.lines().map(String::from).collect();
    let mut c: Vec<String> = clean_csv.lines().map(String::from).collect();
    assert_eq!((j.len(), c.len()), (4, 5), "2 jobs x 2 layers (+ header)");
    // Job 0, layer 2: only the key fields left, in the JSONL file.
    let v: serde_json::Value = serde_json::from_str(&j[1]).unwrap();
    j[1] = serde_json::json!({"job": v["job"], "job_id": v["job_id"], "layer": v["layer"]}).to_string();
    // Job 1, layer 2 renumbered 7 (the job has layers 1 and 2) in both files.
    j[3] = j[3].replace("\"layer\":2,", "\"layer\":7,");
    let id1 = serde_json::from_str::<serde_json::Value>(&j[3]).unwrap()["job_id"].as_str().unwrap().to_string();
    c[4] = c[4].replace(&format!(",{id1},2,"), &format!(",{id1},7,"));
    assert!(j[3].contains("\"layer\":7,") && c[4].contains(&format!(",{id1},7,")));
    fs::write(&jsonl, j.join("\n") + "\n").unwrap();
    fs::write(&csv, c.join("\n") + "\n").unwrap();

    let m = bin().arg("merge").arg("--out").arg(dir.path().join("all")).arg(&sw).output().unwrap();
    let err = String::from_utf8_lossy(&m.stderr);
    assert!(!m.status.success(), "merge accepted tampered rows");
    assert!(err.contains("2 of 2 jobs are not finished"), "{err}");

    let (so, se) = sweep();
    assert!(format!("{so}{se}").contains("2 now, 0 before"), "{so}{se}");
    assert_eq!(fs::read_to_string(&csv).unwrap(), clean_csv);
    assert_eq!(fs::read_to_string(&jsonl).unwrap(), clean_jsonl);
}

/// The population's memory is checked against the model's real layer count (its distinct
/// shapes), not only the guess made before the model is read: a model of 20,000 distinct layers
/// at a population of 250,000 is 5e9 individuals, refused with a message, not an allocation
/// failure mid-search.
#[test]
fn a_large_model_is_checked_against_memory_before_the_search() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("many.csv");
    let mut text = String::from("K,C,Y,X,R,S,T\n");
    for i in 1..=20_000 {
        text += &format!("{i},1,4,4,1,1,1\n");
    }
    fs::write(&model, text).unwrap();
    let out = bin()
        .args(["search", "--backend", "cpu", "-q", "--num-pop", "250000", "--max-evals", "1000000", "--model"])
        .arg(&model)
        .arg("--outdir")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--num-pop 250000") && !err.contains("allocation"), "{err}");
    assert!(!dir.path().join("out").exists());
}

/// A search into the folder of an earlier, larger one leaves no per-layer file of a layer it
/// does not have, and leaves files that are not gammaflow's alone.
#[test]
fn rerun_into_a_used_folder_drops_the_old_per_layer_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = |layers: &str| {
        run_ok(
            bin()
                .args([
                    "search",
                    "--model",
                    "resnet18",
                    "--num-layers",
                    layers,
                    "--max-evals",
                    "200",
                    "--backend",
                    "cpu",
                    "-q",
                    "--no-png",
                    "--outdir",
                ])
                .arg(&out),
        );
    };
    run("3");
    assert!(out.join("mappings/layer_003.m").is_file() && out.join("pareto/layer_003.svg").is_file());
    fs::write(out.join("mappings/notes.m"), "mine").unwrap();
    fs::write(out.join("pareto/layer_x.svg"), "mine").unwrap();
    run("1");
    let mut left: Vec<String> = walk(&out.join("mappings"))
        .into_iter()
        .chain(walk(&out.join("pareto")))
        .map(|p| p.strip_prefix(&out).unwrap().to_string_lossy().replace('\\', "/"))
        .collect();
    left.sort();
    assert_eq!(left, ["mappings/layer_001.m", "mappings/notes.m", "pareto/layer_001.svg", "pareto/layer_x.svg"]);
}

/// Flag values that would mean nothing, or that clap took for unknown options (a negative
/// number), are refused before any work with the flag named: a PE limit without co-exploration
/// or outside 1..=2^24, an accelerator value out of range, a count of 0 where 0 would be read as
/// 1, an empty Slurm value that would drop a default, a `KEY=` with nothing to drop.
#[test]
fn meaningless_flag_values_are_refused_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = toy_sweep(dir.path());
    let cases = dir.path().join("cases.jsonl");
    fs::write(&cases, "").unwrap();
    let file = dir.path().join("a-file");
    fs::write(&file, "").unwrap();
    let (cfg, cases, file) = (cfg.to_str().unwrap(), cases.to_str().unwrap(), file.to_str().unwrap());
    let out = dir.path().join("out");
    let search = ["search", "--backend", "cpu", "-q", "--model", "toy", "--max-evals", "20", "--outdir"];
    let search = |more: &[&'static str]| -> Vec<String> {
        search
            .iter()
            .map(|s| s.to_string())
            .chain([out.to_str().unwrap().to_string()])
            .chain(more.iter().map(|s| s.to_string()))
            .collect()
    };
    let owned = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
    let slurm_out = dir.path().join("slurm-out");
    let slurm = |more: &[&str]| -> Vec<String> {
        owned(&["slurm", "--config", cfg, "--outdir", slurm_out.to_str().unwrap()])
            .into_iter()
            .chain(owned(more))
            .collect()
    };
    for (args, code, must) in [
        (search(&["--pe-limit", "5"]), 1, &["--pe-limit 5", "--co-explore"][..]),
        (search(&["--co-explore", "--pe-limit", "0"]), 1, &["--pe-limit", "16777216"]),
        (search(&["--shared-hw", "--pe-limit", "99999999999"]), 1, &["--pe-limit", "99999999999"]),
        (search(&["--shared-hw", "--pe-limit", "-5"]), 1, &["--pe-limit", "-5"]),
        (search(&["--fixed-cluster", "-4"]), 1, &["--fixed-cluster", "-4"]),
        (search(&["--layer", "-1"]), 2, &["--layer"]),
        (search(&["--num-pe", "9223372036854775807"]), 1, &["--num-pe", "num_pe"]),
        (search(&["--noc-bw", "4294967296"]), 1, &["--noc-bw"]),
        (owned(&["eval", "--backend", "cpu", "-i", cases, "--batch", "0"]), 2, &["--batch", "at least 1"]),
        (owned(&["bench", "--backend", "cpu", "--sizes", "10", "--num-pe", "-1"]), 1, &["--num-pe", "-1"]),
        (owned(&["sweep", "--backend", "cpu", "-q", "--config", cfg, "--group-jobs", "0"]), 2, &["--group-jobs"]),
        (
            owned(&["sweep", "--backend", "cpu", "-q", "--config", cfg, "--outdir", file]),
            1,
            &["--outdir", "not a folder"],
        ),
        (slurm(&["--group-jobs", "0"]), 2, &["--group-jobs", "at least 1"]),
        (slurm(&["--mem", ""]), 1, &["--mem needs a value"]),
        (slurm(&["--time", " "]), 1, &["--time needs a value"]),
        (slurm(&["--sbatch", "gres="]), 1, &["gres=", "no gres directive"]),
        (slurm(&["--merge-sbatch", "partiton="]), 1, &["no partiton directive"]),
    ] {
        let o = bin().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}:\n{err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        for m in must {
            assert!(err.contains(m), "{args:?}: the error does not name {m:?}:\n{err}");
        }
        assert!(!out.exists() && !slurm_out.exists(), "{args:?} wrote output");
    }
    // Still fine: a PE limit with co-exploration (GAMMA's --num-pe <= 0 included) and a KEY= that
    // drops a default.
    run_ok(bin().args(search(&["--num-pe", "-1", "--pe-limit", "64"])));
    run_ok(bin().args(slurm(&["--sbatch", "time="])));
    let script = fs::read_to_string(slurm_out.join("slurm/array.sh")).unwrap();
    assert!(!script.contains("--time") && script.contains("#SBATCH --mem=8G"), "{script}");
}

/// A shard beyond the sweep's job count is empty: it succeeds (an array of fixed size still
/// merges) and says so.
#[test]
fn an_empty_shard_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = toy_sweep(dir.path());
    let (_, se) = run_ok(bin().args(["sweep", "--dry-run", "--shard", "3/3", "--config"]).arg(&cfg));
    assert!(se.contains("shard 3/3 holds no job: the sweep has 1 job(s)"), "{se}");
}

/// A closed standard output (`| head`) costs the terminal text only: no panic, the results and
/// the report are written; `import`'s CSV (its product) stops quietly too, and a failed write
/// of it is an error.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = toy_sweep(dir.path());
    let out = dir.path().join("out");
    let onnx = repo("tests/data/onnx/resnet18.onnx");
    let sweep =
        ["sweep", "--backend", "cpu", "-q", "--config", cfg.to_str().unwrap(), "--outdir", out.to_str().unwrap()];
    let import = ["import", onnx.to_str().unwrap()];
    for args in [&sweep[..], &import[..]] {
        let mut child = bin().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // The reader goes away before anything is printed.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success() && !err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(out.join("results.csv").is_file() && out.join("report/report.html").is_file());
    if Path::new("/dev/full").exists() {
        let o = bin().args(import).stdout(fs::File::create("/dev/full").unwrap()).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.code() == Some(1) && err.contains("writing the model CSV"), "{err}");
    }
}

/// `merge --out` and `report --out` naming a file: refused with the flag before anything is read
/// (before: "creating FILE: File exists", "creating FILE/plots: Not a directory").
#[test]
fn merge_and_report_outputs_that_are_files_are_refused_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    fs::write(&file, "").unwrap();
    let file = file.to_str().unwrap();
    for args in [&["merge", "--out", file, "shard-folder"][..], &["report", "--input", "x", "--out", file]] {
        let o = bin().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(&format!("--out {file} exists and is not a folder")), "{args:?}: {err}");
    }
}

/// A one-job sweep file (the toy model, population 8, one epoch, 64 PEs) in `dir`.
fn toy_sweep(dir: &std::path::Path) -> std::path::PathBuf {
    let cfg = dir.join("sweep.toml");
    fs::write(&cfg, "models = [\"toy\"]\nnum_pop = [8]\nepochs = [1]\n[[accelerators]]\nname = \"a\"\nnum_pe = 64\n")
        .unwrap();
    cfg
}

/// An output that is the input under another name (a hard link, a symbolic link) is refused
/// before anything is written, for `eval` and `import`, and the input is left as it was.
#[cfg(unix)]
#[test]
fn outputs_that_are_the_input_under_another_name_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in.jsonl");
    let text: String = include_str!("data/dev-cases.jsonl").lines().take(3).map(|l| format!("{l}\n")).collect();
    fs::write(&inp, &text).unwrap();
    let hard = dir.path().join("hard.jsonl");
    fs::hard_link(&inp, &hard).unwrap();
    let soft = dir.path().join("soft.jsonl");
    std::os::unix::fs::symlink(&inp, &soft).unwrap();
    for o in [&hard, &soft] {
        let out = bin().args(["eval", "--backend", "cpu", "-i"]).arg(&inp).arg("-o").arg(o).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("is the input file"), "{err}");
        assert_eq!(fs::read_to_string(&inp).unwrap(), text);
    }
    let onnx = dir.path().join("m.onnx");
    fs::copy(repo("tests/data/onnx/convs.onnx"), &onnx).unwrap();
    let before = fs::read(&onnx).unwrap();
    let link = dir.path().join("m2.onnx");
    fs::hard_link(&onnx, &link).unwrap();
    for o in [&onnx, &link] {
        let out = bin().arg("import").arg(&onnx).arg("-o").arg(o).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("--out") && err.contains("is the input file"), "{err}");
        assert_eq!(fs::read(&onnx).unwrap(), before);
    }
}

/// Inputs refused before any work, each naming what is wrong: a flag pair that would drop an
/// output unseen, a file where a folder is meant, a misspelt key of an accelerator constraint
/// whatever its value, and the flag a constraint came from.
#[test]
fn refusals_name_the_right_flag_or_field() {
    let dir = tempfile::tempdir().unwrap();
    let fail = |args: &[&str], want: &[&str]| {
        let out = bin().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "accepted: {args:?}");
        for w in want {
            assert!(err.contains(w), "{args:?}: {err}");
        }
    };
    let outdir = dir.path().join("o");
    let o = outdir.to_str().unwrap();
    let quick = ["search", "--model", "toy", "--max-evals", "50", "--backend", "cpu", "-q", "--no-png", "--outdir", o];
    fail(&[&quick[..], &["--shared-hw", "--gamma-layout"]].concat(), &["--gamma-layout", "--shared-hw"]);
    assert!(!outdir.exists(), "nothing is written before the refusal");
    let file = dir.path().join("afile");
    fs::write(&file, "x").unwrap();
    fail(&["report", "--input", file.to_str().unwrap()], &["--input", "not a folder"]);
    for (body, field) in [("buffr = 3", "buffr"), ("sp = [\"K\"]", "sp")] {
        let accel = dir.path().join("accel.toml");
        fs::write(&accel, format!("name = \"x\"\n[[level]]\n{body}\n")).unwrap();
        fail(
            &[&quick[..], &["--accel-cstr", accel.to_str().unwrap()]].concat(),
            &["line 3", &format!("field {field}"), "unknown field"],
        );
    }
    let fifo = repo("data/constraints/accel_fifo_bus.toml");
    fail(
        &[&quick[..], &["--accel-cstr", fifo.to_str().unwrap(), "--slevel-min", "3", "--slevel-max", "3"]].concat(),
        &["conflict with --accel-cstr"],
    );
}

/// Ctrl-C during a search keeps what was found: the search ends after its round, writes every
/// output with each layer's best so far, and exits with 130.
#[cfg(unix)]
#[test]
fn an_interrupted_search_writes_what_it_found() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let mut child = bin()
        .args([
            "search",
            "--model",
            "resnet18",
            "--max-evals",
            "1000000000000",
            "--backend",
            "cpu",
            "-q",
            "--no-png",
            "--outdir",
        ])
        .arg(&out)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("searching") {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "the search ended before it started");
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}: {rest}");
    assert!(rest.contains("interrupted"), "{rest}");
    let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let layers = json["layers"].as_array().unwrap();
    assert!(!layers.is_empty() && layers.iter().all(|l| !l["best"].is_null()), "every layer has its best so far");
    assert!(out.join("results.csv").exists());
}

/// `--gamma-layout` names its folder after the model and the settings: a name past the 255 bytes
/// a file name may have is refused before the search, not after it.
#[test]
fn gamma_layout_names_too_long_are_refused_before_the_search() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join(format!("{}.csv", "m".repeat(200)));
    fs::write(&model, "K,C,Y,X,R,S,T\n8,8,8,8,3,3,1\n").unwrap();
    let out = dir.path().join("o");
    let r = bin()
        .args(["search", "--model", model.to_str().unwrap(), "--gamma-layout", "--max-evals", "50", "--backend", "cpu"])
        .args(["-q", "--no-png", "--outdir", out.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && err.contains("--gamma-layout") && err.contains("255"), "{err}");
    assert!(!out.exists(), "refused before any output");
}

/// Options that are accepted but change less than they seem get a note on standard error.
#[test]
fn options_that_do_less_than_they_seem_get_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o");
    let note = |extra: &[&str], want: &str| {
        let (_, err) = run_ok(
            bin()
                .args([
                    "search",
                    "--model",
                    "toy",
                    "--max-evals",
                    "50",
                    "--backend",
                    "cpu",
                    "-q",
                    "--no-png",
                    "--outdir",
                ])
                .arg(&o)
                .args(extra),
        );
        assert!(err.contains(want), "{extra:?}: {err}");
    };
    note(&["--fitness1", "latency", "--fitness2", "latency"], "breaks no ties");
    note(&["--co-explore", "--num-pe", "16", "--pe-limit", "64"], "--num-pe 16 is not used");
    note(&["--num-layers", "10"], "toy has 3 layer(s)");
}
