//! Slurm job scripts for a sweep: one array job whose task I runs shard I/N, and a merge + report
//! job submitted after it.
//!
//! [`scripts`] is a pure function (sweep and options in, script text out); writing the files and
//! calling `sbatch` is the CLI's part (`gammaflow slurm`).
//!
//! - Task ids and shards: the array is `1-N` and task I runs `--shard I/N`, whose 1-based index
//!   is exactly `SLURM_ARRAY_TASK_ID`; no arithmetic in the script that could be off by one.
//! - Requeue: `--requeue` lets Slurm put a task back in the queue after a node failure or
//!   preemption (or `scontrol requeue`); the rerun resumes the shard's folder, skipping finished
//!   jobs. The log is opened in append mode so both attempts stay readable.
//! - Merge dependency: `afterany`, not `afterok`. Slurm never starts an `afterok` dependant once
//!   a task has failed (it pends forever as `DependencyNeverSatisfied`), so a failure would show
//!   nowhere; with `afterany` the merge job runs when every task has ended, and `gammaflow merge`
//!   itself refuses incomplete shards and names the ones to rerun. A requeued task is pending
//!   again, not ended, so the merge still waits for its rerun.
//! - Directives: defaults, then the caller's overrides in order (`KEY=VALUE` sets, `KEY` alone is
//!   a flag, `KEY=` removes); keys and the values the scripts depend on are checked here, so a bad
//!   option fails before anything is written or submitted.

use super::config::Sweep;
use crate::eval::BackendChoice;
use std::path::{Path, PathBuf};

/// Default number of array tasks when the caller gives none (fewer when the sweep has fewer
/// jobs).
pub const DEFAULT_SHARDS: usize = 8;

/// Sub-folder of the sweep's output folder holding the scripts and (in `logs/`) the job logs.
pub const SLURM_DIR: &str = "slurm";
/// Sub-folder of the sweep's output folder that the merge job writes (report in `all/report`).
pub const MERGED_DIR: &str = "all";

/// Why no script could be written.
#[derive(thiserror::Error, Debug)]
pub enum SlurmError {
    #[error("--shards {shards}: {message}")]
    Shards { shards: usize, message: String },
    /// A directive given by the caller: the option it came from (`--sbatch`, `--mem`, ...), what
    /// was given, and what is wrong.
    #[error("{option} {given:?}: {message}")]
    Directive { option: String, given: String, message: String },
    #[error("{what} {path:?}: {message}")]
    Path { what: &'static str, path: PathBuf, message: String },
}

/// One override of a job's `#SBATCH` directives, as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// Where it came from, for error messages: `--sbatch`, `--merge-sbatch`, `--mem`, ...
    pub option: String,
    /// `KEY=VALUE`, `KEY` (a flag such as `exclusive`) or `KEY=` (drop the default). A leading
    /// `--` on KEY is accepted.
    pub spec: String,
}

impl Override {
    pub fn new(option: &str, spec: impl Into<String>) -> Override {
        Override { option: option.to_string(), spec: spec.into() }
    }
}

/// What the scripts run and with which resources.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// The `gammaflow` binary as the compute nodes see it (absolute).
    pub program: PathBuf,
    /// The sweep file (absolute).
    pub config: PathBuf,
    /// The sweep's output folder (absolute): shards go to `shard-I-of-N/`, the merge to `all/`.
    pub outdir: PathBuf,
    /// Array tasks, one shard each.
    pub shards: usize,
    pub backend: BackendChoice,
    /// Passed to `gammaflow sweep --group-jobs` when set.
    pub group_jobs: Option<usize>,
    /// Passed as `gammaflow sweep --no-job-dirs`.
    pub no_job_dirs: bool,
    /// Overrides of the array job's directives, applied in order after the defaults.
    pub array: Vec<Override>,
    /// Overrides of the merge job's directives.
    pub merge: Vec<Override>,
}

/// The two scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripts {
    /// The array job: task I runs shard I/N.
    pub array: String,
    /// Merge and report; submit with `--dependency=afterany:<array job id>`.
    pub merge: String,
}

/// An ordered set of `#SBATCH` directives (key without `--`, optional value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Directives(Vec<(String, Option<String>)>);

impl Directives {
    fn set(&mut self, key: &str, value: Option<&str>) {
        // A flag and its negation cannot both stand; the later one wins.
        let opposite = match key {
            "requeue" => Some("no-requeue"),
            "no-requeue" => Some("requeue"),
            _ => None,
        };
        if let Some(o) = opposite {
            self.remove(o);
        }
        let value = value.map(str::to_string);
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_string(), value)),
        }
    }

    fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_deref())
    }

    fn lines(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("#SBATCH --{k}={v}\n"),
                None => format!("#SBATCH --{k}\n"),
            })
            .collect()
    }
}

/// Which job a directive is for: each refuses the keys it controls itself.
#[derive(Clone, Copy, PartialEq, Eq)]
enum JobKind {
    Array,
    Merge,
}

fn bad(o: &Override, message: impl Into<String>) -> SlurmError {
    SlurmError::Directive { option: o.option.clone(), given: o.spec.clone(), message: message.into() }
}

/// Slurm's time formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or `UNLIMITED` /
/// `INFINITE`.
fn valid_time(v: &str) -> bool {
    if v.eq_ignore_ascii_case("unlimited") || v.eq_ignore_ascii_case("infinite") {
        return true;
    }
    let num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (days, rest) = match v.split_once('-') {
        Some((d, r)) => (Some(d), r),
        None => (None, v),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    days.is_none_or(num) && parts.len() <= 3 && parts.iter().all(|p| num(p))
}

/// `--mem`: a number with an optional unit K, M (the default), G or T.
fn valid_mem(v: &str) -> bool {
    let digits = v.trim_end_matches(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't']);
    v.len() - digits.len() <= 1 && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `--array` of the array job: indices (`a`, `a-b`, `a-b:step`, comma-separated, optionally
/// `%K` to run at most K at once) that must all be shard indices 1..=N, so that a partial rerun
/// (`array=2,5`) or a throttle (`array=1-8%2`) is allowed but a 0-based range is not.
fn check_array(o: &Override, v: &str, n: usize) -> Result<(), SlurmError> {
    let (list, throttle) = match v.split_once('%') {
        Some((l, t)) => (l, Some(t)),
        None => (v, None),
    };
    if let Some(t) = throttle {
        if t.parse::<usize>().map_or(true, |t| t == 0) {
            return Err(bad(o, "the throttle after % must be a positive number"));
        }
    }
    let index = |s: &str| -> Result<usize, SlurmError> {
        let i: usize = s.parse().map_err(|_| bad(o, format!("{s:?} is not an array index")))?;
        if i == 0 || i > n {
            return Err(bad(
                o,
                format!("index {i} is not a shard: array task I runs shard I/{n}, so indices are 1..={n}"),
            ));
        }
        Ok(i)
    };
    for item in list.split(',') {
        let (range, step) = match item.split_once(':') {
            Some((r, s)) => (r, Some(s)),
            None => (item, None),
        };
        match range.split_once('-') {
            Some((a, b)) => {
                if index(a)? > index(b)? {
                    return Err(bad(o, format!("range {range} is empty")));
                }
            }
            None if step.is_some() => return Err(bad(o, "a step needs a range (a-b:step)")),
            None => {
                index(range)?;
            }
        }
        if let Some(s) = step {
            if s.parse::<usize>().map_or(true, |s| s == 0) {
                return Err(bad(o, "the step after : must be a positive number"));
            }
        }
    }
    Ok(())
}

fn apply(d: &mut Directives, o: &Override, kind: JobKind, shards: usize) -> Result<(), SlurmError> {
    let spec = o.spec.trim();
    let (key, value) = match spec.split_once('=') {
        Some((k, v)) => (k.trim(), Some(v.trim())),
        None => (spec, None),
    };
    let key = key.strip_prefix("--").unwrap_or(key);
    let key_ok = key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !key_ok {
        return Err(bad(o, "expected KEY=VALUE with KEY an sbatch long option such as mem, time or gres"));
    }
    if let Some(v) = value {
        if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(o, "the value has white space; give such an option on the sbatch command line instead"));
        }
    }
    match (key, kind) {
        ("dependency", JobKind::Merge) => {
            return Err(bad(o, "the merge job's dependency is the array job, set when it is submitted"))
        }
        ("array", JobKind::Merge) => return Err(bad(o, "the merge job is not an array")),
        ("array", JobKind::Array) if value.is_none_or(str::is_empty) => {
            return Err(bad(o, "the array job needs its array (task I runs shard I/N); use --shards to change N"))
        }
        _ => {}
    }
    match value {
        // `KEY=` drops a directive set so far; one that is not there is a typo or an empty
        // variable (`mem=$MEM`), not a wish to change nothing.
        Some("") if !d.has(key) => {
            let keys: Vec<&str> = d.0.iter().map(|(k, _)| k.as_str()).collect();
            return Err(bad(
                o,
                format!(
                    "{key}= drops a directive, but the job has no {key} directive to drop (it has {}); give {key}=VALUE to set one",
                    keys.join(", ")
                ),
            ));
        }
        Some("") => d.remove(key),
        Some(v) => {
            let fine = match key {
                "time" | "time-min" => valid_time(v),
                "mem" | "mem-per-cpu" | "mem-per-gpu" => valid_mem(v),
                "cpus-per-task" | "nodes" | "ntasks" => v.parse::<u32>().is_ok_and(|n| n > 0),
                "array" => {
                    check_array(o, v, shards)?;
                    true
                }
                _ => true,
            };
            if !fine {
                let expected = match key {
                    "time" | "time-min" => "a Slurm time: minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S",
                    "mem" | "mem-per-cpu" | "mem-per-gpu" => "a size: a number with an optional unit K, M, G or T",
                    _ => "a positive whole number",
                };
                return Err(bad(o, format!("{key} must be {expected}")));
            }
            d.set(key, Some(v));
        }
        None => d.set(key, None),
    }
    Ok(())
}

/// A path as UTF-8 for a script, or an error naming it.
fn utf8<'a>(what: &'static str, p: &'a Path) -> Result<&'a str, SlurmError> {
    if !p.is_absolute() {
        return Err(SlurmError::Path { what, path: p.into(), message: "must be absolute".into() });
    }
    let s =
        p.to_str().ok_or_else(|| SlurmError::Path { what, path: p.into(), message: "is not valid UTF-8".into() })?;
    // The scripts name every path in a comment too, where a line break would start a command.
    if s.chars().any(char::is_control) {
        return Err(SlurmError::Path {
            what,
            path: p.into(),
            message: "has a control character (a line break?)".into(),
        });
    }
    Ok(s)
}

fn quote(what: &'static str, p: &Path) -> Result<String, SlurmError> {
    let s = utf8(what, p)?;
    shlex::try_quote(s).map(|q| q.into_owned()).map_err(|e| SlurmError::Path {
        what,
        path: p.into(),
        message: e.to_string(),
    })
}

/// Job name from the config file's stem: Slurm shows it in `squeue`, so keep it short and plain.
fn job_name(config: &Path) -> String {
    let stem = config.file_stem().and_then(|s| s.to_str()).unwrap_or("sweep");
    let clean: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(40)
        .collect();
    format!("gf-{clean}")
}

/// The array and merge scripts for `sweep` (see the module docs for what they do and why).
pub fn scripts(sweep: &Sweep, o: &SlurmOptions) -> Result<Scripts, SlurmError> {
    let n = o.shards;
    let jobs = sweep.jobs.len();
    if n == 0 {
        return Err(SlurmError::Shards { shards: n, message: "at least one array task is needed".into() });
    }
    if n > jobs {
        return Err(SlurmError::Shards {
            shards: n,
            message: format!(
                "the sweep has only {jobs} job(s), so array tasks beyond {jobs} would have nothing to do; use --shards {jobs} or fewer"
            ),
        });
    }
    // The log paths go into #SBATCH lines, which take no shell quoting, and `%` starts one of
    // Slurm's filename patterns.
    let out = utf8("--outdir", &o.outdir)?;
    if out.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '%' | '"' | '\'' | '\\')) {
        return Err(SlurmError::Path {
            what: "--outdir",
            path: o.outdir.clone(),
            message: "has white space, a quote, a backslash or %, which #SBATCH --output cannot take; choose a plainer folder".into(),
        });
    }
    let program = quote("the gammaflow binary", &o.program)?;
    let config = quote("--config", &o.config)?;
    let outq = quote("--outdir", &o.outdir)?;
    let logs = format!("{out}/{SLURM_DIR}/logs");
    let name = job_name(&o.config);

    let mut array = Directives::default();
    array.set("job-name", Some(&name));
    array.set("array", Some(&format!("1-{n}")));
    array.set("cpus-per-task", Some("8"));
    array.set("mem", Some("8G"));
    array.set("time", Some("04:00:00"));
    if o.backend == BackendChoice::Gpu {
        array.set("gres", Some("gpu:1"));
    }
    array.set("requeue", None);
    array.set("open-mode", Some("append"));
    array.set("output", Some(&format!("{logs}/shard-%a-of-{n}.out")));
    for ov in &o.array {
        apply(&mut array, ov, JobKind::Array, n)?;
    }
    if o.backend == BackendChoice::Gpu && array.get("gres").is_none() && array.get("gpus").is_none() {
        log::warn!("--backend gpu without a gres or gpus directive: the tasks may get no GPU");
    }

    let mut merge = Directives::default();
    merge.set("job-name", Some(&format!("{name}-merge")));
    merge.set("cpus-per-task", Some("1"));
    merge.set("mem", Some("4G"));
    merge.set("time", Some("01:00:00"));
    merge.set("output", Some(&format!("{logs}/merge.out")));
    for ov in &o.merge {
        apply(&mut merge, ov, JobKind::Merge, n)?;
    }

    let backend = match o.backend {
        BackendChoice::Auto => "auto",
        BackendChoice::Cpu => "cpu",
        BackendChoice::Gpu => "gpu",
    };
    let mut extra = String::new();
    if let Some(g) = o.group_jobs {
        extra += &format!(" --group-jobs {g}");
    }
    if o.no_job_dirs {
        extra += " --no-job-dirs";
    }
    let version = env!("CARGO_PKG_VERSION");
    let array_text = format!(
        "#!/bin/bash
# Written by gammaflow {version} (`gammaflow slurm`) for the sweep
#   {cfg}
# ({jobs} jobs, config hash {hash}) as {n} array tasks. Task I runs shard I/{n}:
# SLURM_ARRAY_TASK_ID is the 1-based shard index, and shard I holds the jobs whose 0-based
# position k has k mod {n} = I-1. It writes {out}/shard-I-of-{n}/;
# a requeued task resumes there (finished jobs are skipped, a partial last row is dropped).
{directives}set -euo pipefail
: \"${{SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is an array job}}\"
echo \"shard ${{SLURM_ARRAY_TASK_ID}}/{n}: job ${{SLURM_JOB_ID:-?}} on $(hostname), attempt $(( ${{SLURM_RESTART_COUNT:-0}} + 1 ))\"
# The CPU evaluator uses one thread per allocated CPU, not every core of the node.
if [ -n \"${{SLURM_CPUS_PER_TASK:-}}\" ]; then export RAYON_NUM_THREADS=\"$SLURM_CPUS_PER_TASK\"; fi
exec {program} sweep --config {config} --outdir {outq} --shard \"${{SLURM_ARRAY_TASK_ID}}/{n}\" --backend {backend}{extra} -q
",
        cfg = o.config.display(),
        hash = sweep.hash,
        directives = array.lines(),
    );
    let merge_text = format!(
        "#!/bin/bash
# Written by gammaflow {version} (`gammaflow slurm`): merge and report of the {n} shards of
#   {cfg}
# Submit after the array job with --dependency=afterany:<array job id>: it runs once every task
# has ended, and `gammaflow merge` refuses incomplete shards, naming those to rerun.
{directives}set -euo pipefail
out={outq}
{program} merge --out \"$out/{MERGED_DIR}\" \"$out\"/shard-*-of-{n}
{program} report --input \"$out/{MERGED_DIR}\"
",
        cfg = o.config.display(),
        directives = merge.lines(),
    );
    Ok(Scripts { array: array_text, merge: merge_text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{load_sweep, Shard};

    /// A 10-job sweep file in a temp folder.
    fn sweep() -> (tempfile::TempDir, Sweep) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my sweep.toml");
        std::fs::write(
            &path,
            "models = [\"toy\"]\nseeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\nnum_pop = [4]\nepochs = [1]\n\
             [[accelerators]]\nname = \"a\"\nnum_pe = 64\n",
        )
        .unwrap();
        let s = load_sweep(&path).unwrap();
        (dir, s)
    }

    fn opts(shards: usize) -> SlurmOptions {
        SlurmOptions {
            program: "/opt/gf/bin/gammaflow".into(),
            config: "/home/u/my sweep.toml".into(),
            outdir: "/scratch/u/run".into(),
            shards,
            backend: BackendChoice::Cpu,
            group_jobs: None,
            no_job_dirs: false,
            array: Vec::new(),
            merge: Vec::new(),
        }
    }

    fn directive<'a>(script: &'a str, key: &str) -> Option<&'a str> {
        let pre = format!("#SBATCH --{key}");
        script.lines().find_map(|l| l.strip_prefix(&pre)).map(|rest| rest.strip_prefix('=').unwrap_or(rest))
    }

    #[test]
    fn array_tasks_are_the_shard_indices() {
        let (_d, s) = sweep();
        let sc = scripts(&s, &opts(4)).unwrap();
        assert_eq!(directive(&sc.array, "array"), Some("1-4"));
        assert!(sc.array.contains("--shard \"${SLURM_ARRAY_TASK_ID}/4\""), "{}", sc.array);
        // The task ids Slurm hands out for `1-4`, used verbatim as `--shard ID/4`, cover every job
        // exactly once, with task 1 taking job 0 (the first of the list); a 0-based id is refused.
        let mut owner = vec![0; s.jobs.len()];
        for id in 1..=4 {
            let shard = Shard::parse(&format!("{id}/4")).unwrap();
            for j in s.jobs.iter().filter(|j| shard.contains(j.index)) {
                owner[j.index] += 1;
            }
        }
        assert_eq!(owner, vec![1; s.jobs.len()]);
        assert!(Shard::parse("1/4").unwrap().contains(0));
        assert!(Shard::parse("0/4").is_err());
        // Directives precede every command (sbatch stops reading them at the first one).
        let first_cmd = sc.array.lines().position(|l| !l.starts_with('#')).unwrap();
        assert!(sc.array.lines().skip(first_cmd).all(|l| !l.starts_with("#SBATCH")));
        assert!(sc.merge.contains("merge --out \"$out/all\" \"$out\"/shard-*-of-4"), "{}", sc.merge);
        assert!(sc.merge.contains("report --input \"$out/all\""));
    }

    #[test]
    fn defaults_and_quoting() {
        let (_d, s) = sweep();
        let sc = scripts(&s, &opts(8)).unwrap();
        for (k, v) in [
            ("job-name", Some("gf-my_sweep")),
            ("cpus-per-task", Some("8")),
            ("mem", Some("8G")),
            ("time", Some("04:00:00")),
            ("requeue", Some("")),
            ("open-mode", Some("append")),
            ("output", Some("/scratch/u/run/slurm/logs/shard-%a-of-8.out")),
        ] {
            assert_eq!(directive(&sc.array, k), v, "{k}");
        }
        assert_eq!(directive(&sc.array, "gres"), None);
        assert_eq!(directive(&sc.merge, "requeue"), None);
        assert_eq!(directive(&sc.merge, "output"), Some("/scratch/u/run/slurm/logs/merge.out"));
        // The config path has a space: quoted for the shell.
        assert!(sc.array.contains("--config '/home/u/my sweep.toml'"), "{}", sc.array);
        assert!(sc.array.contains("exec /opt/gf/bin/gammaflow sweep"));
        assert!(sc.array.contains("--backend cpu -q"));
        // The GPU backend asks for a GPU.
        let gpu = scripts(&s, &SlurmOptions { backend: BackendChoice::Gpu, ..opts(8) }).unwrap();
        assert_eq!(directive(&gpu.array, "gres"), Some("gpu:1"));
        assert!(gpu.array.contains("--backend gpu"));
        let more = scripts(&s, &SlurmOptions { group_jobs: Some(16), no_job_dirs: true, ..opts(2) }).unwrap();
        assert!(more.array.contains("--group-jobs 16 --no-job-dirs -q"));
    }

    #[test]
    fn overrides_replace_add_and_remove() {
        let (_d, s) = sweep();
        let o = SlurmOptions {
            array: vec![
                Override::new("--mem", "mem=2G"),
                Override::new("--sbatch", "--mem=3G"),
                Override::new("--sbatch", "partition=short"),
                Override::new("--sbatch", "exclusive"),
                Override::new("--sbatch", "time="),
                Override::new("--sbatch", "no-requeue"),
                Override::new("--sbatch", "array=2,4%1"),
            ],
            merge: vec![Override::new("--merge-sbatch", "time=5")],
            ..opts(4)
        };
        let sc = scripts(&s, &o).unwrap();
        assert_eq!(directive(&sc.array, "mem"), Some("3G"));
        assert_eq!(sc.array.matches("#SBATCH --mem").count(), 1);
        assert_eq!(directive(&sc.array, "partition"), Some("short"));
        assert_eq!(directive(&sc.array, "exclusive"), Some(""));
        assert_eq!(directive(&sc.array, "time"), None);
        assert_eq!(directive(&sc.array, "requeue"), None);
        assert_eq!(directive(&sc.array, "no-requeue"), Some(""));
        assert_eq!(directive(&sc.array, "array"), Some("2,4%1"));
        assert_eq!(directive(&sc.merge, "time"), Some("5"));
        assert_eq!(directive(&sc.merge, "partition"), None);
    }

    #[test]
    fn bad_input_is_refused_with_the_option() {
        let (_d, s) = sweep();
        let err = |array: &[&str], merge: &[&str]| {
            let o = SlurmOptions {
                array: array.iter().map(|a| Override::new("--sbatch", *a)).collect(),
                merge: merge.iter().map(|a| Override::new("--merge-sbatch", *a)).collect(),
                ..opts(4)
            };
            scripts(&s, &o).unwrap_err().to_string()
        };
        let e = err(&["array=0-3"], &[]);
        assert!(e.contains("--sbatch \"array=0-3\"") && e.contains("1..=4"), "{e}");
        assert!(err(&["array=1-5"], &[]).contains("index 5"));
        assert!(err(&["array=3-2"], &[]).contains("empty"));
        assert!(err(&["array=1-4%0"], &[]).contains("throttle"));
        assert!(err(&["array="], &[]).contains("--shards"));
        assert!(err(&["time=1h"], &[]).contains("Slurm time"));
        assert!(err(&["mem=lots"], &[]).contains("size"));
        assert!(err(&["cpus-per-task=0"], &[]).contains("positive"));
        assert!(err(&["Mem=1G"], &[]).contains("KEY=VALUE"));
        assert!(err(&["comment=a b"], &[]).contains("white space"));
        assert!(err(&[], &["dependency=afterok:1"]).contains("dependency"));
        assert!(err(&[], &["array=1-2"]).contains("not an array"));
        // `KEY=` with nothing to drop (a typo, or `mem=$MEM` with MEM unset) is not a no-op.
        let e = err(&["gres="], &[]);
        assert!(e.contains("--sbatch \"gres=\"") && e.contains("no gres directive") && e.contains("mem"), "{e}");
        assert!(err(&[], &["partiton="]).contains("no partiton directive"));
        assert!(err(&["exclusive", "exclusive=", "exclusive="], &[]).contains("no exclusive directive"));
        for t in ["30", "5:00", "1:00:00", "2-0", "2-12:30", "2-12:30:00", "UNLIMITED"] {
            assert!(valid_time(t), "{t}");
        }
        for t in ["", "1:2:3:4", "x-1", "1-", "-1"] {
            assert!(!valid_time(t), "{t}");
        }
        let e = scripts(&s, &opts(11)).unwrap_err().to_string();
        assert!(e.contains("--shards 11") && e.contains("only 10 job(s)"), "{e}");
        assert!(scripts(&s, &opts(0)).is_err());
        let e = scripts(&s, &SlurmOptions { outdir: "/scratch/my run".into(), ..opts(2) }).unwrap_err().to_string();
        assert!(e.contains("--outdir") && e.contains("white space"), "{e}");
        let e = scripts(&s, &SlurmOptions { config: "/a\nrm -rf b.toml".into(), ..opts(2) }).unwrap_err().to_string();
        assert!(e.contains("--config") && e.contains("control character"), "{e}");
        let e = scripts(&s, &SlurmOptions { outdir: "run".into(), ..opts(2) }).unwrap_err().to_string();
        assert!(e.contains("absolute"), "{e}");
    }
}
