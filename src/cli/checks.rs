//! Checks of the CLI's own flags before any work starts (the search options themselves are
//! checked by the library's `SearchOptions::check`).

use anyhow::{bail, Context};
use std::path::Path;

/// Proves that `dir` can be created and written, without creating it (a run refused later,
/// e.g. by a constraint check, must leave nothing behind): a probe file is created and removed
/// in `dir`, or in its nearest existing ancestor when `dir` does not exist yet. A search then
/// never finds out only after all its work that it cannot save the results.
pub fn outdir_writable(dir: &Path) -> anyhow::Result<()> {
    folder_writable("--outdir", dir)
}

/// [`outdir_writable`] for the folder given with `flag` (`--out` of merge and report).
pub fn folder_writable(flag: &str, dir: &Path) -> anyhow::Result<()> {
    if dir.exists() && !dir.is_dir() {
        bail!("{flag} {} exists and is not a folder", dir.display());
    }
    let abs = if dir.is_absolute() { dir.to_path_buf() } else { std::env::current_dir()?.join(dir) };
    let existing = abs.ancestors().find(|p| p.exists()).unwrap_or(Path::new("/"));
    if !existing.is_dir() {
        bail!("{flag} {}: {} is not a folder", dir.display(), existing.display());
    }
    let probe = tempfile::NamedTempFile::new_in(existing)
        .with_context(|| format!("{flag} {}: {} is not writable", dir.display(), existing.display()))?;
    drop(probe);
    Ok(())
}

/// Value parser of a count flag where 0 would mean nothing (`--batch`, `--group-jobs`): refused
/// with the flag named, rather than read as 1.
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// Refuses an output file that is the input file: the same path, a symbolic link to it, or (on
/// Unix) a hard link, which names the same inode under another path. Writing it would destroy
/// the input. Paths that do not exist yet are never the input.
pub fn refuse_same_file(input: &Path, output: &Path, out_flag: &str) -> anyhow::Result<()> {
    let same = match (std::fs::canonicalize(input), std::fs::canonicalize(output)) {
        (Ok(i), Ok(o)) => i == o || same_inode(&i, &o),
        _ => false,
    };
    anyhow::ensure!(
        !same,
        "{out_flag} {} is the input file {}: writing it would destroy the input",
        output.display(),
        input.display()
    );
    Ok(())
}

#[cfg(unix)]
fn same_inode(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_inode(_: &Path, _: &Path) -> bool {
    false
}
