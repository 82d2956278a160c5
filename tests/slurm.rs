//! `gammaflow slurm` without a cluster: the scripts it writes, run by bash the way Slurm runs them
//! (one process per array task with `SLURM_ARRAY_TASK_ID` = 1..N, then the merge script), give the
//! single-machine sweep's results byte for byte; submission passes the array job's id to the merge
//! job's dependency; bad input is refused before anything is written. `tests/slurm/run.sh` (run
//! by `.ci/run`) does the same under a real Slurm, with a requeued task.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn gf() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gammaflow"));
    c.env_remove("GAMMAFLOW_ADAPTER");
    c
}

fn check(out: Output, what: &str) -> String {
    let (so, se) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed:\n{so}\n{se}");
    so.into_owned()
}

fn ok(args: &[&str]) -> String {
    check(gf().args(args).output().unwrap(), &format!("{args:?}"))
}

fn fails(args: &[&str]) -> String {
    let out = gf().args(args).output().unwrap();
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// 7 jobs of a fraction of a second: with 3 shards, shard 1 gets jobs 0, 3, 6 and the others two.
const CONFIG: &str = r#"
models = ["toy"]
num_pop = [8]
epochs = [4]
seeds = [1, 2, 3, 4, 5, 6, 7]

[[accelerators]]
name = "edge"
num_pe = 168
"#;

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sweep.toml");
    fs::write(&cfg, CONFIG).unwrap();
    (dir, cfg)
}

/// Runs a written script with bash as an array task (or the merge job when `task` is None).
fn run_script(script: &Path, task: Option<usize>) -> Output {
    let mut c = Command::new("bash");
    c.arg(script).env_remove("SLURM_ARRAY_TASK_ID").env("SLURM_CPUS_PER_TASK", "1");
    if let Some(t) = task {
        c.env("SLURM_ARRAY_TASK_ID", t.to_string());
    }
    c.output().unwrap()
}

fn jobs_in(dir: &Path) -> Vec<u64> {
    let text = fs::read_to_string(dir.join("results.jsonl")).unwrap();
    let mut v: Vec<u64> =
        text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["job"].as_u64().unwrap()).collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn array_tasks_run_by_bash_give_the_single_machine_results() {
    let (tmp, cfg) = setup();
    let out = tmp.path().join("run");
    let o = ok(&["slurm", "--config", p(&cfg), "--outdir", p(&out), "--shards", "3", "--no-job-dirs"]);
    assert!(o.contains("7 jobs in 3 array task(s)") && o.contains("--dependency=afterany:"), "{o}");
    let (array, merge) = (out.join("slurm/array.sh"), out.join("slurm/merge.sh"));
    assert!(out.join("slurm/logs").is_dir(), "Slurm does not create the log folder itself");

    // Outside an array job the script stops with a reason instead of running an unsharded sweep.
    let r = run_script(&array, None);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("submit this script with sbatch"));

    // Tasks in any order, as Slurm may start them; task id I is shard I/3.
    for t in [3, 1, 2] {
        let so = check(run_script(&array, Some(t)), &format!("array task {t}"));
        assert!(so.contains(&format!("shard {t}/3")) && so.contains("attempt 1"), "{so}");
    }
    assert_eq!(jobs_in(&out.join("shard-1-of-3")), vec![0, 3, 6]);
    assert_eq!(jobs_in(&out.join("shard-2-of-3")), vec![1, 4]);
    assert_eq!(jobs_in(&out.join("shard-3-of-3")), vec![2, 5]);
    // A requeued task reruns the script: it resumes and finds its shard done.
    let so = check(run_script(&array, Some(1)), "task 1 again");
    assert!(so.contains("3 of 3 job(s) finished (0 now, 3 before)"), "{so}");

    let so = check(run_script(&merge, None), "merge script");
    assert!(so.contains("7 jobs, 21 rows"), "{so}");
    assert!(out.join("all/report/summary.md").is_file());

    // The same config on one machine, put in merge's canonical row order.
    let single = tmp.path().join("single");
    ok(&["sweep", "--config", p(&cfg), "--outdir", p(&single), "--backend", "cpu", "--no-job-dirs", "-q"]);
    let canon = tmp.path().join("single-all");
    ok(&["merge", "--out", p(&canon), p(&single)]);
    for f in ["results.csv", "results.jsonl", "sweep.json"] {
        let (a, b) = (fs::read(canon.join(f)).unwrap(), fs::read(out.join("all").join(f)).unwrap());
        assert!(!a.is_empty() && a == b, "{f} differs from the single-machine run");
    }
}

#[cfg(unix)]
#[test]
fn submit_passes_the_array_id_to_the_merge_dependency() {
    use std::os::unix::fs::PermissionsExt;
    let (tmp, cfg) = setup();
    // A stand-in sbatch: records its arguments, answers like `sbatch --parsable` on a cluster
    // with a name (array job 41, merge job 42).
    let bin = tmp.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let log = tmp.path().join("sbatch.log");
    let fake = bin.join("sbatch");
    fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\ncase \"$*\" in --version) echo 'slurm 0';; *dependency*) echo 42;; *) echo '41;gftest';; esac\n",
            log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = tmp.path().join("run");
    let o = check(
        gf().args(["slurm", "--config", p(&cfg), "--outdir", p(&out), "--submit", "--partition", "short"])
            .env("PATH", &path)
            .output()
            .unwrap(),
        "slurm --submit",
    );
    assert!(o.contains("array job: 41\n") && o.contains("merge job: 42\n"), "{o}");
    let calls: Vec<String> = fs::read_to_string(&log).unwrap().lines().map(String::from).collect();
    assert_eq!(
        calls,
        vec![
            "--version".to_string(),
            format!("--parsable {}", out.join("slurm/array.sh").display()),
            format!("--parsable --dependency=afterany:41 {}", out.join("slurm/merge.sh").display()),
        ]
    );
    // --shards defaults to the job count when the sweep has fewer than 8 jobs.
    let array = fs::read_to_string(out.join("slurm/array.sh")).unwrap();
    assert!(array.contains("#SBATCH --array=1-7\n") && array.contains("#SBATCH --partition=short\n"), "{array}");
    assert!(fs::read_to_string(out.join("slurm/merge.sh")).unwrap().contains("#SBATCH --partition=short\n"));
}

#[test]
fn bad_input_is_refused_before_anything_is_written() {
    let (tmp, cfg) = setup();
    let out = tmp.path().join("run");
    let o = p(&out);
    let e = fails(&["slurm", "--config", p(&tmp.path().join("nope.toml")), "--outdir", o]);
    assert!(e.contains("nope.toml") && e.contains("cannot read"), "{e}");
    let bad = tmp.path().join("bad.toml");
    fs::write(&bad, "models = [\"toy\"]\nepoch = [1]\n[[accelerators]]\nname = \"a\"\n").unwrap();
    let e = fails(&["slurm", "--config", p(&bad), "--outdir", o]);
    assert!(e.contains("bad.toml line 2") && e.contains("epoch"), "{e}");
    let e = fails(&["slurm", "--config", p(&cfg), "--outdir", o, "--sbatch", "time=forever"]);
    assert!(e.contains("--sbatch \"time=forever\"") && e.contains("Slurm time"), "{e}");
    let e = fails(&["slurm", "--config", p(&cfg), "--outdir", o, "--mem", "lots"]);
    assert!(e.contains("--mem \"mem=lots\""), "{e}");
    let e = fails(&["slurm", "--config", p(&cfg), "--outdir", o, "--shards", "8"]);
    assert!(e.contains("--shards 8") && e.contains("only 7 job(s)"), "{e}");
    let e = fails(&["slurm", "--config", p(&cfg), "--outdir", o, "--sbatch", "array=0-6"]);
    assert!(e.contains("1..=7"), "{e}");
    // No sbatch on PATH: refused before the scripts are written.
    let e = String::from_utf8_lossy(
        &gf()
            .args(["slurm", "--config", p(&cfg), "--outdir", o, "--submit"])
            .env("PATH", tmp.path().join("empty"))
            .output()
            .unwrap()
            .stderr,
    )
    .into_owned();
    assert!(e.contains("--submit: sbatch cannot be run here"), "{e}");
    assert!(!out.exists(), "nothing may be written after a refusal");

    // An output folder that cannot be created.
    let file = tmp.path().join("a-file");
    fs::write(&file, "").unwrap();
    let e = fails(&["slurm", "--config", p(&cfg), "--outdir", p(&file.join("run"))]);
    assert!(e.contains("is --outdir writable?"), "{e}");

    // A shard folder started by another sweep: every task would fail on it after queueing.
    let other = tmp.path().join("other.toml");
    fs::write(&other, CONFIG.replace("epochs = [4]", "epochs = [3]")).unwrap();
    ok(&["sweep", "--config", p(&other), "--outdir", o, "--shard", "2/7", "--backend", "cpu", "--no-job-dirs", "-q"]);
    let e = fails(&["slurm", "--config", p(&cfg), "--outdir", o]);
    assert!(e.contains("shard-2-of-7") && e.contains("another sweep"), "{e}");
    assert!(!out.join("slurm").exists());
}

/// The printed submit line is quoted for the shell: pasted as it is, a folder named with `$( )`
/// runs nothing.
#[test]
fn the_submit_hint_is_shell_quoted() {
    let (tmp, cfg) = setup();
    let out = tmp.path().join("o$(id)x");
    let o = ok(&["slurm", "--config", p(&cfg), "--outdir", p(&out), "--no-job-dirs"]);
    let line = o.lines().find(|l| l.starts_with("submit: ")).expect("a submit line");
    let array = out.join("slurm/array.sh");
    assert!(line.contains(&format!("'{}'", array.display())), "{line}");
    assert!(!line.contains(&format!(" {} ", array.display())), "{line}");
}
