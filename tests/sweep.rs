//! `gammaflow sweep / merge / report` end to end: interrupted and killed runs resume to the same
//! results as an uninterrupted run, shards merge to the unsharded results, a job's result does
//! not depend on its batch group and equals a standalone `gammaflow search`, a changed config is
//! refused, malformed configs are rejected with file, line and field.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gammaflow"));
    c.env_remove("GAMMAFLOW_ADAPTER");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("runs")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    let (so, se) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{args:?} failed:\n{so}\n{se}");
    so.into_owned()
}

fn fails(args: &[&str]) -> String {
    let out = run(args);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// 2 models (one a CSV next to the config) x 2 accelerators x 2 objective pairs x 2 populations
/// x 3 seeds = 48 jobs of 2-3 layers, each a fraction of a second.
const CONFIG: &str = r#"
models = ["toy", "tiny.csv"]
objectives = [["latency", "energy"], ["energy", "none"]]
num_pop = [8, 12]
epochs = [4]
seeds = [1, 2, 3]

[[accelerators]]
name = "small"
num_pe = 64
l1_size = 512
l2_size = 108000

[[accelerators]]
name = "big"
num_pe = 256
"#;

const TINY_CSV: &str = "K,C,Y,X,R,S,T\n8,4,10,10,3,3,1\n16,8,6,6,1,1,1\n8,4,10,10,3,3,1\n";

/// A temp folder holding `sweep.toml` (with `config`) and the model CSV it names.
fn setup(config: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("tiny.csv"), TINY_CSV).unwrap();
    let cfg = dir.path().join("sweep.toml");
    fs::write(&cfg, config).unwrap();
    (dir, cfg)
}

fn sweep(cfg: &Path, out: &Path, extra: &[&str]) -> String {
    let mut a = vec!["sweep", "--config", p(cfg), "--outdir", p(out), "--backend", "cpu", "-q"];
    a.extend_from_slice(extra);
    ok(&a)
}

/// The data lines of results.csv and results.jsonl, each sorted (row order depends on grouping).
fn rows(dir: &Path) -> (Vec<String>, Vec<String>) {
    let read = |name: &str, skip: usize| {
        let text = fs::read_to_string(dir.join(name)).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'), "{name} ends mid-line");
        let mut v: Vec<String> = text.lines().skip(skip).map(String::from).collect();
        v.sort();
        v
    };
    (read("results.csv", 1), read("results.jsonl", 0))
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.strip_prefix(dir).unwrap().to_path_buf(), fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn jsonl(dir: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(dir.join("results.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn interrupted_runs_resume_to_the_uninterrupted_result() {
    let (tmp, cfg) = setup(CONFIG);
    let full = tmp.path().join("full");
    let out = sweep(&cfg, &full, &[]);
    assert!(out.contains("48 of 48 job(s) finished (48 now, 0 before)"), "{out}");
    let (csv, json) = rows(&full);
    // toy has 3 layers, tiny.csv 3 (its third repeats the first's shape).
    assert_eq!((csv.len(), json.len()), (48 * 3, 48 * 3));
    assert!(jsonl(&full).iter().any(|r| r["model"] == "tiny" && r["layer"] == 3 && r["same_as_layer"] == 1));

    // Stopped twice (after 5, then 7 more jobs), then finished by the same command.
    let part = tmp.path().join("part");
    let o = sweep(&cfg, &part, &["--max-jobs", "5"]);
    assert!(o.contains("5 of 48") && o.contains("43 left"), "{o}");
    let o = sweep(&cfg, &part, &["--max-jobs", "7"]);
    assert!(o.contains("12 of 48 job(s) finished (7 now, 5 before)"), "{o}");
    sweep(&cfg, &part, &[]);
    assert_eq!(rows(&part), (csv.clone(), json.clone()));
    assert_eq!(files(&part.join("jobs")), files(&full.join("jobs")));
    // Nothing left to do: a rerun changes nothing.
    let o = sweep(&cfg, &part, &[]);
    assert!(o.contains("48 of 48 job(s) finished (0 now, 48 before)"), "{o}");
    assert_eq!(rows(&part), (csv.clone(), json.clone()));
    // Deleted jobs/<id>/ folders of finished jobs are rebuilt on resume (and said), with the
    // same files and no duplicated rows.
    let mut ids: Vec<_> = fs::read_dir(part.join("jobs")).unwrap().map(|e| e.unwrap().path()).collect();
    ids.sort();
    for d in &ids[..2] {
        fs::remove_dir_all(d).unwrap();
    }
    let o = sweep(&cfg, &part, &[]);
    assert!(o.contains("(0 now, 48 before), 2 deleted jobs/<id>/ folder(s) rebuilt"), "{o}");
    assert_eq!(files(&part.join("jobs")), files(&full.join("jobs")));
    assert_eq!(rows(&part), (csv, json));

    // A comment or key order change is the same sweep (same jobs): accepted.
    fs::write(&cfg, format!("# reordered\nseeds = [1, 2, 3]\n{}", CONFIG.replace("seeds = [1, 2, 3]\n", ""))).unwrap();
    let o = sweep(&cfg, &part, &[]);
    assert!(o.contains("(0 now, 48 before)"), "{o}");
}

#[test]
fn killed_runs_and_truncated_lines_are_recovered() {
    let (tmp, cfg) = setup(CONFIG);
    let full = tmp.path().join("full");
    sweep(&cfg, &full, &["--no-job-dirs"]);
    let want = rows(&full);

    // What kill -9 in the middle of a write leaves: the last row of results.jsonl cut in half
    // (its job is then unfinished although complete in results.csv) and a partial CSV line.
    let cut = tmp.path().join("cut");
    sweep(&cfg, &cut, &["--no-job-dirs", "--max-jobs", "6"]);
    let j = fs::read_to_string(cut.join("results.jsonl")).unwrap();
    let last_start = j[..j.len() - 1].rfind('\n').unwrap() + 1;
    let cut_at = last_start + (j.len() - last_start) / 2;
    fs::write(cut.join("results.jsonl"), &j[..cut_at]).unwrap();
    let mut c = fs::read(cut.join("results.csv")).unwrap();
    c.extend_from_slice(b"7,0123456789abcdef,1,toy,,sm");
    fs::write(cut.join("results.csv"), c).unwrap();
    // A report of the damaged folder says that it left lines out.
    let r = run(&["report", "--input", p(&cut)]);
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success() && e.contains("not whole rows"), "{e}");
    let o = sweep(&cfg, &cut, &["--no-job-dirs"]);
    assert!(o.contains("48 of 48 job(s) finished (43 now, 5 before)"), "{o}");
    assert_eq!(rows(&cut), want);

    // A real SIGKILL at whatever point the run has reached once it has written something.
    let killed = tmp.path().join("killed");
    let slow =
        CONFIG.replace("epochs = [4]", "epochs = [60]").replace("seeds = [1, 2, 3]", "seeds = [1, 2, 3, 4, 5, 6]");
    fs::write(&cfg, &slow).unwrap();
    let mut child = bin()
        .args(["sweep", "--config", p(&cfg), "--outdir", p(&killed), "--backend", "cpu", "-q", "--group-jobs", "2"])
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while fs::metadata(killed.join("results.jsonl")).map_or(0, |m| m.len()) == 0
        && t0.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    sweep(&cfg, &killed, &[]);
    let whole = tmp.path().join("whole");
    sweep(&cfg, &whole, &[]);
    assert_eq!(rows(&killed), rows(&whole));
    assert_eq!(files(&killed.join("jobs")), files(&whole.join("jobs")));
}

#[test]
fn shards_merge_to_the_unsharded_sweep() {
    let (tmp, cfg) = setup(CONFIG);
    let full = tmp.path().join("full");
    sweep(&cfg, &full, &["--no-job-dirs"]);
    let base = tmp.path().join("sharded");
    for s in ["1/3", "2/3", "3/3"] {
        sweep(&cfg, &base, &["--no-job-dirs", "--shard", s]);
    }
    let shard = |i: usize| base.join(format!("shard-{i}-of-3"));
    // Shard 2 holds jobs 1, 4, 7, ... (0-based positions k with k mod 3 = 1).
    let jobs2: std::collections::BTreeSet<u64> = jsonl(&shard(2)).iter().map(|r| r["job"].as_u64().unwrap()).collect();
    assert_eq!(jobs2, (1..48).step_by(3).collect());

    let merged = tmp.path().join("merged");
    let o = ok(&["merge", "--out", p(&merged), p(&shard(3)), p(&shard(1)), p(&shard(2))]);
    assert!(o.contains("48 jobs, 144 rows"), "{o}");
    assert_eq!(rows(&merged), rows(&full));
    // Merged rows are in job order, then layer order.
    let keys: Vec<(u64, u64)> =
        jsonl(&merged).iter().map(|r| (r["job"].as_u64().unwrap(), r["layer"].as_u64().unwrap())).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    // The merged folder is the finished unsharded sweep: resuming it there runs nothing.
    let o = sweep(&cfg, &merged, &["--no-job-dirs"]);
    assert!(o.contains("(0 now, 48 before)"), "{o}");

    let e = fails(&["merge", "--out", p(&tmp.path().join("m2")), p(&shard(1)), p(&shard(2))]);
    assert!(e.contains("16 of 48 jobs") && e.contains("shard 3/3: 16 job(s), no folder given"), "{e}");
    let e =
        fails(&["merge", "--out", p(&tmp.path().join("m3")), p(&shard(1)), p(&shard(2)), p(&shard(3)), p(&shard(1))]);
    assert!(e.contains("finished in both"), "{e}");
    // An unfinished shard is named, with what to do.
    let partial = tmp.path().join("partial");
    sweep(&cfg, &partial, &["--no-job-dirs", "--shard", "3/3", "--max-jobs", "4"]);
    let e = fails(&[
        "merge",
        "--out",
        p(&tmp.path().join("m4")),
        p(&shard(1)),
        p(&shard(2)),
        p(&partial.join("shard-3-of-3")),
    ]);
    assert!(e.contains("shard 3/3") && e.contains("12 job(s) unfinished; rerun"), "{e}");

    // Report on the merged folder: table on stdout and in summary.md, one chart of each kind (as
    // SVG and PNG), report.html (tests/report.rs checks chart content and opens the pages).
    let o = ok(&["report", "--input", p(&merged)]);
    assert!(o.contains("| toy | small | latency (cycles) | energy (nJ) | 6 | 0 |"), "{o}");
    assert!(o.contains("| tiny | big | energy (nJ) | none | 6 | 0 |"), "{o}");
    let md = fs::read_to_string(merged.join("report/summary.md")).unwrap();
    assert!(md.contains("48 of 48 jobs") && md.contains("| toy | small | latency (cycles) | energy (nJ) |"), "{md}");
    for plot in ["accelerators_toy_latency", "pareto_toy_latency_energy", "num_pop_tiny_energy"] {
        let svg = fs::read_to_string(merged.join("report/plots").join(format!("{plot}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<rect") && svg.contains("<text"), "{plot}");
        assert!(merged.join("report/plots").join(format!("{plot}.png")).is_file(), "{plot}.png");
    }
    let html = fs::read_to_string(merged.join("report/report.html")).unwrap();
    assert!(html.contains("plots/accelerators_toy_latency.svg") && html.contains("<td>small</td>"), "{html}");
}

#[test]
fn a_job_equals_a_standalone_search_whatever_its_group() {
    let (tmp, cfg) = setup(CONFIG);
    let grouped = tmp.path().join("grouped");
    let single = tmp.path().join("single");
    sweep(&cfg, &grouped, &[]);
    sweep(&cfg, &single, &["--group-jobs", "1"]);
    assert_eq!(rows(&grouped), rows(&single));
    assert_eq!(files(&grouped.join("jobs")), files(&single.join("jobs")));

    // The job `tiny` on `small`, energy only, population 12, seed 2, against `gammaflow search`.
    let r = jsonl(&grouped)
        .into_iter()
        .find(|r| {
            r["model"] == "tiny"
                && r["accelerator"] == "small"
                && r["fitness1"] == "energy"
                && r["num_pop"] == 12
                && r["seed"] == 2
        })
        .unwrap();
    let alone = tmp.path().join("alone");
    let model = tmp.path().join("tiny.csv");
    ok(&[
        "search",
        "--model",
        p(&model),
        "--num-pe",
        "64",
        "--l1-size",
        "512",
        "--l2-size",
        "108000",
        "--fitness1",
        "energy",
        "--fitness2",
        "none",
        "--num-pop",
        "12",
        "--epochs",
        "4",
        "--seed",
        "2",
        "--backend",
        "cpu",
        "-q",
        // Job folders have SVG charts only.
        "--no-png",
        "--outdir",
        p(&alone),
    ]);
    assert_eq!(files(&grouped.join("jobs").join(r["job_id"].as_str().unwrap())), files(&alone));
}

#[test]
fn a_changed_config_or_shard_is_refused() {
    let (tmp, cfg) = setup(CONFIG);
    let out = tmp.path().join("out");
    sweep(&cfg, &out, &["--no-job-dirs", "--max-jobs", "3"]);
    let before = rows(&out);
    fs::write(&cfg, CONFIG.replace("seeds = [1, 2, 3]", "seeds = [1, 2, 4]")).unwrap();
    let e = fails(&["sweep", "--config", p(&cfg), "--outdir", p(&out), "--backend", "cpu", "-q"]);
    assert!(e.contains("different sweep") && e.contains("new --outdir"), "{e}");
    assert_eq!(rows(&out), before, "a refused run must not touch the results");
    // Editing a model file changes its jobs too.
    fs::write(&cfg, CONFIG).unwrap();
    fs::write(tmp.path().join("tiny.csv"), TINY_CSV.replace("16,8,6,6", "16,8,7,7")).unwrap();
    let e = fails(&["sweep", "--config", p(&cfg), "--outdir", p(&out), "--backend", "cpu", "-q"]);
    assert!(e.contains("different sweep"), "{e}");
    fs::write(tmp.path().join("tiny.csv"), TINY_CSV).unwrap();
    // A shard folder resumed as another shard (here: renamed to look like shard 1 of 1).
    sweep(&cfg, &tmp.path().join("s"), &["--no-job-dirs", "--shard", "1/2", "--max-jobs", "1"]);
    fs::rename(tmp.path().join("s/shard-1-of-2"), tmp.path().join("s/shard-1-of-1")).unwrap();
    let e = fails(&[
        "sweep",
        "--config",
        p(&cfg),
        "--outdir",
        p(&tmp.path().join("s")),
        "--shard",
        "1/1",
        "--backend",
        "cpu",
    ]);
    assert!(e.contains("shard 1/2") && e.contains("shard 1/1"), "{e}");
}

#[test]
fn malformed_configs_are_rejected_with_file_and_field() {
    let acc = "[[accelerators]]\nname = \"a\"\nnum_pe = 64\n";
    let cases: Vec<(String, &str)> = vec![
        (
            format!("models = [\"toy\"]\nepoch = [4]\n{acc}"),
            " line 2, field epoch: unknown field \"epoch\" (did you mean \"epochs\"?",
        ),
        (
            format!("models = [\"toy\"]\n{acc}l3_size = 5\n"),
            " line 5, field l3_size: unknown field \"l3_size\" (did you mean \"l2_size\"?",
        ),
        (
            format!("models = [\"toy\"]\nobjectives = [[\"latency\", \"speed\"]]\n{acc}"),
            " line 2, field objectives[0]: unknown objective \"speed\"",
        ),
        (
            format!("models = [\"toy\"]\nobjectives = [[\"none\", \"latency\"]]\n{acc}"),
            " line 2, field objectives[0]: unknown objective \"none\"",
        ),
        (format!("models = [\"toy\"]\nseeds = []\n{acc}"), " line 2, field seeds: the list is empty"),
        (
            "models = [\"toy\"]\n[[accelerators]]\nname = \"z\"\nnum_pe = 0\n".to_string(),
            " line 4, field accelerators[0].num_pe",
        ),
        (format!("models = [\"toy\", \"resnet19\"]\n{acc}"), " line 1, field models[1]: unknown model \"resnet19\""),
        (format!("models = [\"toy\"]\nlayers = [0]\n{acc}"), " line 2, field layers: layer 0 does not exist"),
        (format!("models = [\"toy\"]\nnum_pop = [1]\n{acc}"), " line 2, field num_pop: 1 is out of range"),
        ("models = [\"toy\"]\n".to_string(), ", field accelerators: missing"),
        (format!("models = [\"toy\"]\n{acc}hwconfig = \"nope.m\"\n"), " line 5, field accelerators[0].hwconfig"),
    ];
    let (tmp, cfg) = setup("");
    let out = tmp.path().join("never");
    for (text, want) in cases {
        fs::write(&cfg, &text).unwrap();
        let e = fails(&["sweep", "--config", p(&cfg), "--outdir", p(&out), "--backend", "cpu"]);
        assert!(e.contains(&format!("{}{want}", cfg.display())), "config:\n{text}\nwant {want:?}, got: {e}");
        assert!(!out.exists(), "nothing may be written for an invalid config");
    }
    fs::write(&cfg, format!("models = [\"toy\"]\n{acc}")).unwrap();
    for bad in ["0/2", "3/2", "1/0", "x"] {
        let e = fails(&["sweep", "--config", p(&cfg), "--outdir", p(&out), "--shard", bad]);
        assert!(e.contains("--shard"), "{e}");
    }
    assert!(!out.exists());
}

#[test]
fn example_configs_are_valid_with_the_stated_job_counts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for (file, jobs) in [
        ("sweep_small.toml", "48 jobs (144 rows)"),
        ("sweep_1000.toml", "1080 jobs (1080 rows)"),
        ("sweep_flex.toml", "5760 jobs (5760 rows)"),
    ] {
        let o = ok(&["sweep", "--config", p(&root.join(file)), "--dry-run"]);
        assert!(o.contains(jobs), "{file}: {o}");
    }
}

/// A small map of our own: K across clusters, C inside clusters of 4, a loop-order prefix.
const MINE: &str =
    "name = \"mine\"\n[[level]]\nsp = [\"K\"]\norder = [\"C\", \"K\"]\n[[level]]\nsp = [\"C\"]\nsp_sz = 4\n";

const CSTR_CONFIG: &str = r#"
models = ["toy"]
mapping_constraints = ["none", "nvdla", "mine.toml"]
flex_classes = [0, 5, 15]
num_pop = [6]
epochs = [2]

[[accelerators]]
name = "a"
num_pe = 64

[[accelerators]]
name = "b"
num_pe = 256
"#;

#[test]
fn constraint_and_flex_axes_expand_and_rows_carry_the_class() {
    let (tmp, cfg) = setup(CSTR_CONFIG);
    fs::write(tmp.path().join("mine.toml"), MINE).unwrap();
    // 2 accelerators x ("none" once + 2 maps x 3 classes) = 14 jobs of 3 layers.
    let o = ok(&["sweep", "--config", p(&cfg), "--dry-run"]);
    assert!(o.contains("14 jobs (42 rows)"), "{o}");
    let hash = |o: &str| o.split("config hash ").nth(1).unwrap().trim().to_string();
    let before = hash(&o);
    // An accelerator-constraint axis multiplies every variant, "none" included.
    let fifo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/constraints/accel_fifo_bus.toml");
    fs::write(&cfg, format!("accel_constraints = [\"none\", \"{}\"]\n{CSTR_CONFIG}", p(&fifo))).unwrap();
    assert!(ok(&["sweep", "--config", p(&cfg), "--dry-run"]).contains("28 jobs (84 rows)"));
    // The constraint file's content is part of the job ids.
    fs::write(&cfg, CSTR_CONFIG).unwrap();
    fs::write(tmp.path().join("mine.toml"), MINE.replace("sp_sz = 4", "sp_sz = 2")).unwrap();
    assert_ne!(hash(&ok(&["sweep", "--config", p(&cfg), "--dry-run"])), before);
    fs::write(tmp.path().join("mine.toml"), MINE).unwrap();

    let out = tmp.path().join("out");
    sweep(&cfg, &out, &["--no-job-dirs"]);
    let all = jsonl(&out);
    assert_eq!(all.len(), 42);
    let count = |m: &str, k: serde_json::Value| {
        all.iter().filter(|r| r["mapping_constraint"] == m && r["flex_class"] == k).count()
    };
    assert_eq!(count("none", serde_json::Value::Null), 6);
    for k in [0, 5, 15] {
        assert_eq!(count("nvdla", k.into()), 6, "class {k}");
        assert_eq!(count("mine.toml", k.into()), 6, "class {k}");
    }
    assert!(all.iter().all(|r| r["accel_constraint"] == "none" && r["area_budget_mm2"].is_null()));
    let csv = fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains(",mapping_constraint,flex_class,accel_constraint,area_budget_mm2,"));
    // Grouping does not change results, constraints included.
    let single = tmp.path().join("single");
    sweep(&cfg, &single, &["--no-job-dirs", "--group-jobs", "1"]);
    assert_eq!(rows(&out), rows(&single));
    let r = ok(&["report", "--input", p(&out)]);
    assert!(r.contains("best latency per flexibility class and accelerator") && r.contains("| nvdla | 15 |"), "{r}");
}

#[test]
fn bad_constraints_are_rejected_with_file_and_field() {
    let acc = "[[accelerators]]\nname = \"a\"\nnum_pe = 64\n";
    let (tmp, cfg) = setup("");
    fs::write(
        tmp.path().join("big.toml"),
        "name = \"big\"\n[[level]]\nsp = [\"K\"]\n[level.tiles]\nK = 1000\n[[level]]\nsp = [\"C\"]\n",
    )
    .unwrap();
    // The constraint's own error, as `gammaflow search` reports it.
    let own = fails(&[
        "search",
        "--model",
        "toy",
        "--num-pe",
        "64",
        "--mapping-cstr",
        p(&tmp.path().join("big.toml")),
        "--backend",
        "cpu",
    ]);
    let own = own.trim().strip_prefix("error: layer 1: ").unwrap_or_else(|| panic!("{own}")).to_string();
    let cases: Vec<(String, String)> = vec![
        (
            format!("models = [\"toy\"]\nmapping_constraints = [\"nvdla\", \"nvdlaa\"]\n{acc}"),
            " line 2, field mapping_constraints[1]: unknown mapping constraint \"nvdlaa\"".into(),
        ),
        (
            format!("models = [\"toy\"]\nmapping_constraints = [\"nvdla\"]\nflex_classes = [0, 16]\n{acc}"),
            " line 3, field flex_classes[1]: 16 is out of range (allowed 0..=15)".into(),
        ),
        (
            format!("models = [\"toy\"]\nmapping_constraints = [\"none\", \"big.toml\"]\n{acc}"),
            format!(" line 2, field mapping_constraints[1]: {own} (model toy layer 1, accelerator a"),
        ),
        (
            format!("models = [\"toy\"]\nmapping_constraints = [\"missing.toml\"]\n{acc}"),
            " line 2, field mapping_constraints[0]: cannot read mapping constraint file".into(),
        ),
        (
            format!("models = [\"toy\"]\naccel_constraints = [\"nope.toml\"]\n{acc}"),
            " line 2, field accel_constraints[0]: cannot read accelerator constraint file".into(),
        ),
        (
            format!("models = [\"toy\"]\narea_budgets_mm2 = [1, -2.5]\n{acc}"),
            " line 2, field area_budgets_mm2[1]: -2.5 is not a positive area".into(),
        ),
        (format!("models = [\"toy\"]\narea_model = \"nope.toml\"\n{acc}"), " line 2, field area_model:".into()),
        (
            format!(
                "{acc}[[job]]\nmodel = \"toy\"\naccelerator = \"a\"\nmapping_constraint = \"tpu\"\nflex_class = 99\n"
            ),
            " line 8, field job[0].flex_class: 99 is out of range".into(),
        ),
    ];
    let out = tmp.path().join("never");
    for (text, want) in cases {
        fs::write(&cfg, &text).unwrap();
        let e = fails(&["sweep", "--config", p(&cfg), "--outdir", p(&out), "--backend", "cpu"]);
        assert!(e.contains(&format!("{}{want}", cfg.display())), "config:\n{text}\nwant {want:?}, got: {e}");
        assert!(!out.exists(), "nothing may be written for an invalid config");
    }
}

#[test]
fn co_exploration_rows_respect_the_area_budget() {
    let config = r#"
models = ["toy"]
co_explore = true
area_budgets_mm2 = [0.02, 2]
objectives = [["latency", "energy"]]
num_pop = [12]
epochs = [4]

[[accelerators]]
name = "limit-1024"
num_pe = 1024
"#;
    let (tmp, cfg) = setup(config);
    let out = tmp.path().join("out");
    sweep(&cfg, &out, &["--no-job-dirs"]);
    let rows = jsonl(&out);
    assert_eq!(rows.len(), 6);
    let mut found = 0;
    for r in &rows {
        let budget = r["area_budget_mm2"].as_f64().expect("a budget on every row");
        if r["status"] == "ok" {
            found += 1;
            let area = r["area_um2"].as_f64().unwrap();
            assert!(area <= budget * 1e6, "{r}");
            let pe = r["design_num_pe"].as_i64().unwrap();
            assert!((1..=1024).contains(&pe), "{r}");
        }
    }
    assert!(found >= 3, "{rows:?}");
    // The chosen PE counts are the searched ones, not the limit; the tight budget binds (the loose
    // one's best design of some layer would not fit it).
    assert!(rows.iter().any(|r| r["design_num_pe"].as_i64().is_some_and(|p| p != 1024)));
    assert!(rows.iter().any(|r| r["area_budget_mm2"] == 2.0 && r["area_um2"].as_f64().unwrap_or(0.0) > 0.02e6));
}

#[test]
fn a_constrained_job_equals_a_standalone_search() {
    let (tmp, cfg) = setup(CSTR_CONFIG);
    fs::write(tmp.path().join("mine.toml"), MINE).unwrap();
    let out = tmp.path().join("out");
    sweep(&cfg, &out, &[]);
    for (map, class) in [("nvdla", "5"), ("mine.toml", "15")] {
        let r = jsonl(&out)
            .into_iter()
            .find(|r| {
                r["mapping_constraint"] == map
                    && r["flex_class"] == class.parse::<u64>().unwrap()
                    && r["accelerator"] == "b"
            })
            .unwrap();
        let alone = tmp.path().join(format!("alone-{map}"));
        let m = if map == "nvdla" { map.to_string() } else { p(&tmp.path().join(map)).to_string() };
        ok(&[
            "search",
            "--model",
            "toy",
            "--num-pe",
            "256",
            "--num-pop",
            "6",
            "--epochs",
            "2",
            "--mapping-cstr",
            &m,
            "--flex-class",
            class,
            "--backend",
            "cpu",
            "-q",
            "--no-png",
            "--outdir",
            p(&alone),
        ]);
        let job = out.join("jobs").join(r["job_id"].as_str().unwrap());
        assert_eq!(files(&job), files(&alone), "{map} class {class}");
    }
}

#[test]
fn a_locked_folder_is_refused_and_a_lost_jsonl_is_rebuilt() {
    let (dir, cfg) = setup(CONFIG);
    let out = dir.path().join("out");
    sweep(&cfg, &out, &["--max-jobs", "3"]);
    // Another process holding the folder's lock: this run must not write under it.
    let lock = fs::OpenOptions::new().write(true).open(out.join(".lock")).unwrap();
    lock.lock().unwrap();
    let err = fails(&["sweep", "--config", p(&cfg), "--outdir", p(&out), "--backend", "cpu", "-q"]);
    assert!(err.contains("another gammaflow sweep"), "{err}");
    lock.unlock().unwrap();
    drop(lock);
    // A crash between writing the two result files on first open leaves no results.jsonl: the
    // next run rebuilds it from the rows both files agree on, and finishes.
    fs::remove_file(out.join("results.jsonl")).unwrap();
    sweep(&cfg, &out, &[]);
    let fresh = dir.path().join("fresh");
    sweep(&cfg, &fresh, &[]);
    assert_eq!(rows(&out), rows(&fresh));
}
