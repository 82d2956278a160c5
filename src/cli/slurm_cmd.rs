//! `gammaflow slurm`: writes a sweep's Slurm array job (task I = shard I/N) and its merge + report
//! job into the sweep's output folder, and with `--submit` submits both with `sbatch`.
//!
//! A subcommand of its own rather than `gammaflow sweep --slurm`: it takes none of the options
//! that run a sweep here (`--shard`, `--dry-run`, `--max-jobs`) and many that only a scheduler
//! means (resources, directives, submission), so sharing one flag set would leave half of each
//! side meaningless.

use super::named;
use anyhow::{bail, Context};
use clap::Args;
use gammaflow::eval::BackendChoice;
use gammaflow::sweep::slurm::{scripts, Override, SlurmOptions, DEFAULT_SHARDS, MERGED_DIR, SLURM_DIR};
use gammaflow::sweep::store::{write_atomic, SweepMeta, META_FILE};
use gammaflow::sweep::{load_sweep, Shard};
use std::path::{Path, PathBuf};
use std::process::Command;

const HELP: &str = "\
Writes DIR/slurm/array.sh (array task I runs `gammaflow sweep --shard I/N` into DIR/shard-I-of-N;
SLURM_ARRAY_TASK_ID is the 1-based shard index) and DIR/slurm/merge.sh (gammaflow merge into
DIR/all, then gammaflow report), logs in DIR/slurm/logs/. With --submit both are submitted:

  sbatch --parsable DIR/slurm/array.sh                       -> array job id A
  sbatch --parsable --dependency=afterany:A DIR/slurm/merge.sh

afterany rather than afterok: a failed task would leave an afterok merge pending forever; this
merge runs when every task has ended and refuses incomplete shards, naming those to rerun
(sbatch --array=I DIR/slurm/array.sh resumes shard I). Tasks carry --requeue: a requeued task
resumes its shard, skipping finished jobs.

Directives: defaults (array: cpus-per-task=8, mem=8G, time=04:00:00, requeue, gres=gpu:1 with
--backend gpu; merge: 1 CPU, 4G, 01:00:00), then --cpus-per-task/--mem/--time/--partition, then
every --sbatch KEY=VALUE in order (KEY alone adds a flag such as exclusive, KEY= drops a
default); --merge-sbatch does the same for the merge job.";

#[derive(Args, Debug)]
// A negative number is a flag's value (refused with the flag named), not an unknown option.
#[command(after_long_help = HELP, allow_negative_numbers = true)]
pub struct SlurmArgs {
    /// Sweep file (TOML), as for `gammaflow sweep`.
    #[arg(long)]
    pub config: PathBuf,
    /// The sweep's output folder (shards in DIR/shard-I-of-N, merged results in DIR/all).
    #[arg(long, default_value = "sweep-out")]
    pub outdir: PathBuf,
    /// Array tasks, one shard each [default: 8, or the job count when smaller].
    #[arg(long)]
    pub shards: Option<usize>,
    /// Evaluator of the tasks; gpu also asks Slurm for one GPU per task (gres=gpu:1). Not auto by
    /// default: a node's GPU should be used only when the job asked for it.
    #[arg(long, value_parser = named::<BackendChoice>(), default_value = "cpu")]
    pub backend: BackendChoice,
    /// CPUs per array task (the CPU evaluator uses that many threads).
    #[arg(long)]
    pub cpus_per_task: Option<u32>,
    /// Memory per array task (Slurm size: 500M, 8G, ...).
    #[arg(long)]
    pub mem: Option<String>,
    /// Time limit per array task (Slurm time: minutes, H:M:S, D-H:M:S, ...).
    #[arg(long)]
    pub time: Option<String>,
    /// Partition of both jobs (default: the cluster's default partition).
    #[arg(long)]
    pub partition: Option<String>,
    /// An #SBATCH directive of the array job, KEY=VALUE (repeatable; replaces a default).
    #[arg(long = "sbatch", value_name = "KEY=VALUE")]
    pub sbatch: Vec<String>,
    /// An #SBATCH directive of the merge job, KEY=VALUE (repeatable).
    #[arg(long = "merge-sbatch", value_name = "KEY=VALUE")]
    pub merge_sbatch: Vec<String>,
    /// The gammaflow binary the jobs run, as the compute nodes see it [default: this binary].
    #[arg(long)]
    pub gammaflow: Option<PathBuf>,
    /// Passed to `gammaflow sweep --group-jobs`.
    #[arg(long, value_parser = crate::cli::checks::at_least_one)]
    pub group_jobs: Option<usize>,
    /// Passed to `gammaflow sweep --no-job-dirs`.
    #[arg(long)]
    pub no_job_dirs: bool,
    /// Submit both scripts with sbatch and print the job ids.
    #[arg(long)]
    pub submit: bool,
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    Ok(if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir()?.join(p) })
}

/// Refuses an output folder whose shard or merged folders hold another sweep: every task would
/// fail on it after queueing.
fn check_existing(outdir: &Path, hash: &str, shards: usize) -> anyhow::Result<()> {
    let dirs = (1..=shards).map(|i| Shard { index: i, count: shards }.dir_name()).chain([MERGED_DIR.to_string()]);
    for d in dirs {
        let dir = outdir.join(d);
        if dir.join(META_FILE).exists() {
            let meta = SweepMeta::read(&dir)?;
            if meta.config_hash != hash {
                bail!(
                    "{} holds results of another sweep (config hash {} from {}, now {hash}): use a new --outdir",
                    dir.display(),
                    meta.config_hash,
                    meta.config_file
                );
            }
        }
    }
    Ok(())
}

/// `sbatch --parsable ARGS`: the job id (the part before `;cluster`).
fn sbatch(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("sbatch").arg("--parsable").args(args).output().context("running sbatch")?;
    let (so, se) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("sbatch {} failed ({}): {}", args.join(" "), out.status, se.trim());
    }
    let id = so.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        bail!("sbatch {} printed {:?}, not a job id", args.join(" "), so.trim());
    }
    Ok(id)
}

pub fn run(a: SlurmArgs) -> anyhow::Result<()> {
    // Everything is checked before anything is written or submitted.
    let sweep = load_sweep(&a.config)?;
    let config = std::fs::canonicalize(&a.config).with_context(|| format!("{}", a.config.display()))?;
    let outdir = absolute(&a.outdir)?;
    let shards = a.shards.unwrap_or(DEFAULT_SHARDS.min(sweep.jobs.len()));
    let program = match &a.gammaflow {
        Some(p) => absolute(p)?,
        None => std::env::current_exe().context("locating this gammaflow binary (give --gammaflow)")?,
    };
    if !program.is_file() {
        bail!("--gammaflow {}: no such file", program.display());
    }
    // An empty value (an unset variable in `--mem "$MEM"`) would drop the default directive.
    for (flag, v) in [("--mem", &a.mem), ("--time", &a.time), ("--partition", &a.partition)] {
        if v.as_deref().is_some_and(|v| v.trim().is_empty()) {
            bail!("{flag} needs a value (to drop the default directive, give --sbatch {}=)", &flag[2..]);
        }
    }
    let mut array: Vec<Override> = Vec::new();
    if let Some(c) = a.cpus_per_task {
        array.push(Override::new("--cpus-per-task", format!("cpus-per-task={c}")));
    }
    if let Some(m) = &a.mem {
        array.push(Override::new("--mem", format!("mem={m}")));
    }
    if let Some(t) = &a.time {
        array.push(Override::new("--time", format!("time={t}")));
    }
    let mut merge: Vec<Override> = Vec::new();
    if let Some(p) = &a.partition {
        array.push(Override::new("--partition", format!("partition={p}")));
        merge.push(Override::new("--partition", format!("partition={p}")));
    }
    array.extend(a.sbatch.iter().map(|s| Override::new("--sbatch", s.as_str())));
    merge.extend(a.merge_sbatch.iter().map(|s| Override::new("--merge-sbatch", s.as_str())));
    let opts = SlurmOptions {
        program,
        config,
        outdir: outdir.clone(),
        shards,
        backend: a.backend,
        group_jobs: a.group_jobs,
        no_job_dirs: a.no_job_dirs,
        array,
        merge,
    };
    let text = scripts(&sweep, &opts)?;
    check_existing(&outdir, &sweep.hash, shards)?;
    if a.submit {
        let v = Command::new("sbatch").arg("--version").output();
        if !v.as_ref().is_ok_and(|o| o.status.success()) {
            bail!("--submit: sbatch cannot be run here (not on PATH, or not a Slurm login node); without --submit the scripts are only written");
        }
    }

    let dir = outdir.join(SLURM_DIR);
    let logs = dir.join("logs");
    // Slurm does not create the folder of --output: a missing one loses the logs silently.
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {} (is --outdir writable?)", logs.display()))?;
    let (array_sh, merge_sh) = (dir.join("array.sh"), dir.join("merge.sh"));
    for (path, body) in [(&array_sh, &text.array), (&merge_sh, &text.merge)] {
        write_atomic(path, body.as_bytes())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("making {} executable", path.display()))?;
        }
    }
    outln!(
        "{} jobs in {shards} array task(s): {} (task I runs shard I/{shards}), {} (merge into {} and report)",
        sweep.jobs.len(),
        array_sh.display(),
        merge_sh.display(),
        outdir.join(MERGED_DIR).display()
    );
    if !a.submit {
        // Quoted for the shell, so that the line can be pasted as it is whatever the folder's name.
        let q = |p: &std::path::Path| {
            let s = p.to_string_lossy();
            shlex::try_quote(&s).map(|q| q.into_owned()).unwrap_or_else(|_| s.into_owned())
        };
        outln!(
            "submit: A=$(sbatch --parsable {}) && sbatch --dependency=afterany:${{A%%;*}} {}",
            q(&array_sh),
            q(&merge_sh)
        );
        return Ok(());
    }
    let array_id = sbatch(&[array_sh.to_str().context("script path is not UTF-8")?])?;
    outln!("array job: {array_id}");
    let dep = format!("--dependency=afterany:{array_id}");
    let merge_id = sbatch(&[&dep, merge_sh.to_str().context("script path is not UTF-8")?]).with_context(|| {
        format!(
            "array job {array_id} is queued but its merge job is not: submit it with `sbatch {dep} {}` or cancel with `scancel {array_id}`",
            merge_sh.display()
        )
    })?;
    outln!("merge job: {merge_id}");
    outln!("logs in {}", logs.display());
    Ok(())
}
