//! Search flags checked before any work starts: values a search cannot use (NaN, infinite,
//! negative or absurd numbers, conflicting flags, a population that cannot fit in memory, an
//! output folder that cannot be written) are errors naming the flag, not panics or a lost run.

use super::search_cmd::SearchOpts;
use anyhow::{bail, Context};
use std::path::Path;

/// Longest `--max-time` accepted (about three years): beyond it the value is a typo, and
/// `Duration` cannot hold much more anyway.
pub const MAX_TIME_S: f64 = 1e8;

/// Every check of `SearchOpts` that `search` runs before reading a model or opening a device.
pub fn search_opts(a: &SearchOpts) -> anyhow::Result<()> {
    search_values(a)?;
    outdir_writable(&a.outdir)
}

/// The checks of [`search_opts`] that do not touch the file system (the Python API writes no
/// output folder).
pub fn search_values(a: &SearchOpts) -> anyhow::Result<()> {
    if let Some(t) = a.max_time {
        if !(t.is_finite() && t > 0.0 && t <= MAX_TIME_S) {
            let shown = if t.abs() >= 1e9 { format!("{t:e}") } else { t.to_string() };
            bail!("--max-time must be a positive number of seconds up to {MAX_TIME_S:e}, got {shown}");
        }
    }
    if a.max_evals == Some(0) {
        bail!("--max-evals 0 would stop before the first evaluation");
    }
    match (a.layer, a.num_layers) {
        (Some(l), Some(k)) => bail!("--layer {l} and --num-layers {k} conflict: give one of them"),
        (Some(0), None) => bail!("--layer is 1-based: 0 names no layer"),
        (None, Some(0)) => bail!("--num-layers 0 selects no layer"),
        _ => {}
    }
    if a.epochs == Some(0) {
        bail!("--epochs must be at least 1");
    }
    if let Some(z) = a.fixed_cluster {
        // The PE count the genomes are bounded by: the accelerator's, or the co-exploration limit.
        let num_pe = match (a.co_explores(), a.pe_limit, a.num_pe) {
            (true, Some(l), _) => l,
            (true, None, Some(p)) if p > 0 => p,
            (true, None, _) => 1024,
            (false, _, _) => a.hardware()?.num_pe,
        };
        crate::hardware::check_fixed_cluster(z, a.slevel_min.max(1), num_pe)
            .map_err(|e| anyhow::anyhow!("--fixed-cluster: {e}"))?;
    }
    crate::energy::EnergyModel::resolve(&a.energy_model).map_err(|e| anyhow::anyhow!("--energy-model: {e}"))?;
    population_fits(a.num_pop.unwrap_or(100), layer_count_hint(a))?;
    Ok(())
}

/// Layers searched at once, for the memory estimate (the model is not read yet: `--layer`
/// means 1, otherwise `--num-layers`, else a typical model's 60).
fn layer_count_hint(a: &SearchOpts) -> usize {
    match (a.layer, a.num_layers) {
        (Some(_), _) => 1,
        (None, Some(k)) => k.min(1000),
        (None, None) => 60,
    }
}

/// Bytes one individual costs at the peak of a generation: its packed record with fitness and
/// key in the pool, the offspring buffer and the selection's output, plus its packed result,
/// fitness and selection scratch (4-level records: the largest).
fn bytes_per_individual() -> u64 {
    let record = 4 * crate::mapping::pack::stride_for(4) + 16 + 8;
    let one = 3 * record + std::mem::size_of::<crate::mapping::pack::PackedResult>() + 16 + 48;
    one as u64
}

/// Refuses a population whose estimated memory exceeds what the machine has available
/// (`MemAvailable` on Linux; elsewhere only an absolute ceiling of 2^32 individuals applies).
pub fn population_fits(num_pop: usize, layers: usize) -> anyhow::Result<()> {
    if num_pop < 2 {
        bail!("--num-pop must be at least 2, got {num_pop}");
    }
    let individuals = (num_pop as u64).saturating_mul(layers.max(1) as u64);
    if individuals > 1 << 32 {
        bail!("--num-pop {num_pop} over {layers} layer(s) is {individuals} individuals, beyond any machine's memory");
    }
    let need = individuals.saturating_mul(bytes_per_individual());
    if let Some(avail) = available_memory() {
        if need > avail {
            bail!(
                "--num-pop {num_pop} over {layers} layer(s) needs about {:.1} GiB, but only {:.1} GiB of memory is available",
                need as f64 / (1u64 << 30) as f64,
                avail as f64 / (1u64 << 30) as f64
            );
        }
    }
    Ok(())
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Proves that `dir` can be created and written, without creating it (a run refused later,
/// e.g. by a constraint check, must leave nothing behind): a probe file is created and removed
/// in `dir`, or in its nearest existing ancestor when `dir` does not exist yet. A search then
/// never finds out only after all its work that it cannot save the results.
pub fn outdir_writable(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() && !dir.is_dir() {
        bail!("--outdir {} exists and is not a folder", dir.display());
    }
    let abs = if dir.is_absolute() { dir.to_path_buf() } else { std::env::current_dir()?.join(dir) };
    let existing = abs.ancestors().find(|p| p.exists()).unwrap_or(Path::new("/"));
    if !existing.is_dir() {
        bail!("--outdir {}: {} is not a folder", dir.display(), existing.display());
    }
    let probe = tempfile::NamedTempFile::new_in(existing)
        .with_context(|| format!("--outdir {}: {} is not writable", dir.display(), existing.display()))?;
    drop(probe);
    Ok(())
}
