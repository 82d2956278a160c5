//! `gammaflow sweep`, `gammaflow merge`, `gammaflow report`: many searches from one TOML file,
//! resumable and shardable (see `gammaflow::sweep`).
//!
//! Slurm job array, one shard per array task (I is 1-based):
//!
//! ```text
//! #SBATCH --array=1-8
//! gammaflow sweep --config sweep.toml --outdir runs/big --shard ${SLURM_ARRAY_TASK_ID}/8 -q
//! # then: gammaflow merge --out runs/big/all runs/big/shard-*-of-8
//! #       gammaflow report --input runs/big/all
//! ```

use super::named;
use clap::Args;
use gammaflow::eval::BackendChoice;
use gammaflow::sweep::{load_sweep, merge, report::report, Shard, SweepOptions, SLURM_HELP};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
// A negative number is a flag's value (refused with the flag named), not an unknown option.
#[command(after_long_help = SLURM_HELP, allow_negative_numbers = true)]
pub struct SweepArgs {
    /// Sweep file (TOML): axes whose product is the job list, or [[job]] tables.
    #[arg(long)]
    pub config: PathBuf,
    /// Output folder; with --shard I/N the shard writes DIR/shard-I-of-N.
    #[arg(long, default_value = "sweep-out")]
    pub outdir: PathBuf,
    /// Run only slice I of N (I is 1-based): jobs whose 0-based position k has k mod N = I-1.
    #[arg(long)]
    pub shard: Option<String>,
    #[arg(long, value_parser = named::<BackendChoice>(), default_value = "auto")]
    pub backend: BackendChoice,
    /// At most this many jobs share one batched search (results do not depend on it).
    #[arg(long, default_value_t = 64, value_parser = crate::cli::checks::at_least_one)]
    pub group_jobs: usize,
    /// Do not write jobs/<job-id>/ folders (only results.csv and results.jsonl).
    #[arg(long)]
    pub no_job_dirs: bool,
    /// Check the config and print the job count without running anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Stop after this many jobs (for tests of interrupted runs).
    #[arg(long, hide = true)]
    pub max_jobs: Option<usize>,
    /// No progress bar or notes.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Folder to write the merged results.csv, results.jsonl and sweep.json to.
    #[arg(long)]
    pub out: PathBuf,
    /// Shard folders of one sweep (together they must hold every job exactly once).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A sweep output folder (whole, shard or merged).
    #[arg(long)]
    pub input: PathBuf,
    /// Where summary.md, plots/ and report.html go (default: INPUT/report).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run_sweep(a: SweepArgs) -> anyhow::Result<()> {
    // Everything is validated before anything runs or any folder is created.
    let shard = a.shard.as_deref().map(Shard::parse).transpose()?;
    let sweep = load_sweep(&a.config)?;
    let outdir = match shard {
        Some(s) => a.outdir.join(s.dir_name()),
        None => a.outdir.clone(),
    };
    let in_slice = sweep.jobs.iter().filter(|j| shard.is_none_or(|s| s.contains(j.index))).count();
    // Not an error: an array of a fixed N may outnumber a sweep's jobs, and its empty shards
    // still write the folder that `gammaflow merge` expects. But it is said.
    if let Some(s) = shard.filter(|_| in_slice == 0 && !a.quiet) {
        eprintln!(
            "note: shard {s} holds no job: the sweep has {} job(s), so shards {}..={} are empty",
            sweep.jobs.len(),
            sweep.jobs.len() + 1,
            s.count
        );
    }
    if a.dry_run {
        let rows: usize = sweep.jobs.iter().map(|j| j.layers.len()).sum();
        outln!("{}: {} jobs ({} rows), config hash {}", a.config.display(), sweep.jobs.len(), rows, sweep.hash);
        if let Some(s) = shard {
            outln!("shard {s}: {in_slice} jobs, output {}", outdir.display());
        }
        return Ok(());
    }
    crate::cli::checks::outdir_writable(&outdir)?;
    let opts = SweepOptions {
        outdir: outdir.clone(),
        shard,
        backend: a.backend,
        quiet: a.quiet,
        group_jobs: a.group_jobs,
        job_dirs: !a.no_job_dirs,
        max_jobs: a.max_jobs,
    };
    let bar = if a.quiet { ProgressBar::hidden() } else { ProgressBar::new(1) };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} jobs [{elapsed_precise}, ETA {eta}] {msg}")
            .expect("valid template"),
    );
    let s = gammaflow::sweep::run_sweep(&sweep, &opts, |p| {
        bar.set_length(p.jobs_total as u64);
        bar.set_position(p.jobs_done as u64);
        let of = if p.epochs > 0 { format!("/{}", p.epochs) } else { String::new() };
        bar.set_message(format!(
            "group {}/{} ({} jobs): generation {}{of}",
            p.group + 1,
            p.groups,
            p.group_jobs,
            p.generation + 1
        ));
    });
    bar.finish_and_clear();
    let s = s?;
    let rate = s.evaluations as f64 / s.seconds.max(1e-9);
    outln!(
        "{} of {} job(s) finished ({} now, {} before){}{}; {} evaluations in {:.2} s ({rate:.0}/s); results in {}",
        s.already + s.ran,
        s.jobs,
        s.ran,
        s.already,
        if s.remaining > 0 { format!(", {} left (rerun to continue)", s.remaining) } else { String::new() },
        if s.rebuilt > 0 { format!(", {} deleted jobs/<id>/ folder(s) rebuilt", s.rebuilt) } else { String::new() },
        s.evaluations,
        s.seconds,
        outdir.display()
    );
    // The report of what is there so far (a partial sweep too): a failure here loses no results.
    let report_dir = outdir.join("report");
    match report(&outdir, &report_dir) {
        Ok(r) => {
            if let Some(why) = &r.charts_failed {
                eprintln!("warning: report without charts: {why}");
            }
            outln!("report: {}", report_dir.join("report.html").display());
        }
        Err(e) => eprintln!("warning: report not written: {e:#}"),
    }
    Ok(())
}

pub fn run_merge(a: MergeArgs) -> anyhow::Result<()> {
    crate::cli::checks::folder_writable("--out", &a.out)?;
    let m = merge(&a.out, &a.shards)?;
    outln!("merged {} folder(s): {} jobs, {} rows into {}", a.shards.len(), m.jobs, m.rows, a.out.display());
    Ok(())
}

pub fn run_report(a: ReportArgs) -> anyhow::Result<()> {
    // A --out given is checked first; then the input, so that a file given as --input is named
    // as such (and not the default --out beneath it).
    if let Some(out) = &a.out {
        crate::cli::checks::folder_writable("--out", out)?;
    }
    anyhow::ensure!(
        a.input.is_dir(),
        "--input {}: {}",
        a.input.display(),
        if a.input.exists() { "not a folder (give a sweep output folder)" } else { "no such folder" }
    );
    let out = a.out.unwrap_or_else(|| a.input.join("report"));
    crate::cli::checks::folder_writable("--out", &out)?;
    let r = report(&a.input, &out)?;
    // write! rather than print!: a closed pipe (`| head`) is not an error worth a panic.
    let mut so = std::io::stdout().lock();
    let _ = write!(so, "{}", r.table)
        .and_then(|_| writeln!(so, "summary, {} chart(s) and report.html in {}", r.plots.len(), out.display()));
    Ok(())
}
