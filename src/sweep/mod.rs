//! Big sweeps: many searches (jobs) described by one TOML file, run in shared batches, written as
//! they finish so that no finished work is ever lost, sharded across machines and merged back.
//!
//! - [`config`]: the TOML schema (axes whose Cartesian product is the job list, or an explicit
//!   `[[job]]` list), validated up front with file, line and field in every error.
//! - [`store`]: the output folder: `sweep.json` (which config it belongs to), append-only
//!   `results.csv` / `results.jsonl` (one row per job and layer) and their crash recovery, merge.
//! - [`run`]: grouping jobs into shared `search()` calls, executing them and appending rows.
//! - [`report`]: summary table, charts (SVG and PNG) and `report.html` of a finished (or partial)
//!   sweep.
//! - [`slurm`]: the Slurm array and merge job scripts of a sweep (`gammaflow slurm`).
//!
//! Determinism: a job's result is exactly what `gammaflow search` gives for the same model,
//! layers, accelerator and options, whichever other jobs run beside it and whichever shard runs
//! it (see [`run`] for how grouping keeps that true).
//!
//! Slurm job array ([`slurm`] writes it, with the merge as a dependent job; the same text is in
//! `gammaflow sweep --help`):
//!
//! ```text
//! #!/bin/bash
//! #SBATCH --array=1-8            # shard index I is 1-based: I = 1..N
//! #SBATCH --cpus-per-task=16     # add --gres=gpu:1 for --backend gpu
//! #SBATCH --requeue              # a requeued task resumes where it stopped
//! gammaflow sweep --config sweep.toml --outdir runs/big --shard ${SLURM_ARRAY_TASK_ID}/8 -q
//! ```
//!
//! Each array task writes `runs/big/shard-I-of-8/`; when all are done:
//! `gammaflow merge --out runs/big/all runs/big/shard-*-of-8` then
//! `gammaflow report --input runs/big/all`.

pub mod config;
pub mod report;
pub mod run;
pub mod slurm;
pub mod store;

pub use config::{load_sweep, Accelerator, ConfigError, Job, Sweep};
/// Why a sweep, a merge or a sweep report could not run. Messages name the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The sweep file is invalid (file, line and field in the message).
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// A folder refused, a file unreadable or unwritable, results that do not match.
    #[error(transparent)]
    Failed(#[from] crate::error::Failed),
    /// A job's output folder could not be written.
    #[error(transparent)]
    Output(#[from] crate::report::OutputError),
    /// The evaluation backend could not be opened.
    #[error(transparent)]
    Eval(#[from] crate::eval::EvalError),
    #[error("{0}")]
    Csv(#[from] csv::Error),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub use run::{run_sweep, SweepOptions, SweepProgress, SweepSummary};
pub use store::{merge, Shard};

/// Help text shown after `gammaflow sweep --help` (and copied into README by hand).
pub const SLURM_HELP: &str = "\
Config: see examples/sweep_small.toml (examples/sweep_flex.toml for mapping_constraints,
flex_classes, accel_constraints, co_explore, area_budgets_mm2, area_model). Every key is checked
before anything runs; an unknown key, an empty axis, a bad objective, accelerator or constraint, or
a constraint impossible on some layer is reported with file, line and field.

Output (--outdir DIR): sweep.json (config hash, job list), results.csv and results.jsonl (one row
per job and layer, appended and fsync'ed as each job finishes), jobs/<job-id>/ (the files of
`gammaflow search` for that job). Rerunning the same command resumes: finished jobs are skipped
and a partial last line left by a kill is dropped. A folder started with another config is
refused.

Sharding: --shard I/N (I is 1-based, 1..=N) runs the jobs whose 0-based position k in the job
list has k mod N = I-1, into DIR/shard-I-of-N/. `gammaflow slurm --config sweep.toml --outdir DIR
--shards N --submit` writes and submits the Slurm array job and its merge + report job (see
`gammaflow slurm --help`); by hand, the array job is:

  #!/bin/bash
  #SBATCH --array=1-8            # I = 1..N: SLURM_ARRAY_TASK_ID is the shard index
  #SBATCH --cpus-per-task=16     # add --gres=gpu:1 and --backend gpu to use a GPU
  #SBATCH --requeue              # a requeued task resumes: finished jobs are skipped
  gammaflow sweep --config sweep.toml --outdir runs/big --shard ${SLURM_ARRAY_TASK_ID}/8 -q

  # after every array task has finished:
  gammaflow merge --out runs/big/all runs/big/shard-*-of-8
  gammaflow report --input runs/big/all";

/// 64-bit FNV-1a with a final avalanche (splitmix64's finaliser). Hand-written rather than std's
/// `DefaultHasher`, whose output may change between Rust releases: job ids must stay stable so
/// that a sweep can be resumed by a later build.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// [`stable_hash`] as 16 hex digits.
pub fn stable_hex(bytes: &[u8]) -> String {
    format!("{:016x}", stable_hash(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable() {
        // Pinned values: changing the hash would orphan every existing sweep folder.
        assert_eq!(stable_hex(b""), "f52a15e9a9b5e89b");
        assert_eq!(stable_hex(b"gammaflow"), "d9d9a9db3727097e");
    }
}
