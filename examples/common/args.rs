//! Command-line reading shared by the benchmark examples (`#[path]`-included: each example is
//! its own crate).

use gammaflow::search::Strategy;

/// The value after `name` on the command line.
pub fn arg(name: &str) -> Option<String> {
    let a: Vec<String> = std::env::args().collect();
    a.iter().position(|x| x == name).and_then(|i| a.get(i + 1).cloned())
}

/// `--budgets 1e4,1e6` (evaluations per layer), else `default`.
pub fn budgets(default: &str) -> anyhow::Result<Vec<u64>> {
    Ok(arg("--budgets")
        .unwrap_or_else(|| default.into())
        .split(',')
        .map(|s| s.trim().parse::<f64>().map(|v| v as u64))
        .collect::<Result<_, _>>()?)
}

/// `--seeds N` (seeds 0..N, 10 by default), shifted by `--seed-start S` (seeds S..S+N), so that
/// runs split over machines or processes can be concatenated.
pub fn seeds() -> anyhow::Result<std::ops::Range<u64>> {
    let n: u64 = arg("--seeds").map(|s| s.parse()).transpose()?.unwrap_or(10);
    let start: u64 = arg("--seed-start").map(|s| s.parse()).transpose()?.unwrap_or(0);
    Ok(start..start + n)
}

/// `--strategies islands,gamma` (the default).
pub fn strategies() -> anyhow::Result<Vec<Strategy>> {
    arg("--strategies").unwrap_or_else(|| "islands,gamma".into()).split(',').map(named).collect()
}

/// A named library value (objective, strategy, PE draw), or an error listing the names.
pub fn named<T: gammaflow::schema::Named>(s: &str) -> anyhow::Result<T> {
    T::from_name(s).ok_or_else(|| anyhow::anyhow!("unknown value {s:?} (expected one of: {})", T::names().join(", ")))
}
