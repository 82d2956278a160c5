//! The `gammaflow` command line.

/// `println!` for the binary's terminal lines, without its panic when standard output is closed
/// (`gammaflow sweep ... | head -1`): the rest of the text is lost, never the work (a sweep still
/// writes its report). Output that is the command's product goes through `write!` with its
/// errors handled instead (`gammaflow import`'s CSV, `gammaflow eval`'s lines).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod bench_cmd;
mod checks;
mod eval_cmd;
mod gamma_args;
mod import_cmd;
mod search_cmd;
mod slurm_cmd;
mod sweep_cmd;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use gammaflow::schema::Named;

/// The value parser of a flag that takes one of the library's named values (objectives,
/// strategies, backends, PE draws): `--help` lists the names, anything else is refused.
pub fn named<T: Named + Clone + Send + Sync>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::ALL.iter().map(|v| v.name()))
        .map(|s| T::from_name(&s).expect("the parser accepts only listed names"))
}

#[derive(Parser, Debug)]
#[command(
    name = "gammaflow",
    version,
    about = "GAMMA-style mapping search and accelerator co-design on a MAESTRO-compatible cost model, batched on the GPU"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

// Parsed once per process: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Search mappings for a model (or some of its layers) on an accelerator (the main job;
    /// the default when no command is given).
    Search(search_cmd::SearchArgs),
    /// Evaluate mappings in bulk: JSON Lines cases in, one JSON line per case out.
    Eval(eval_cmd::EvalArgs),
    /// Evaluation throughput: CPU (one thread, all threads) and GPU in one run.
    Bench(bench_cmd::BenchArgs),
    /// Run many searches from one TOML file (axes or a job list), batched, resumable, shardable.
    Sweep(sweep_cmd::SweepArgs),
    /// Merge the shard folders of one sweep into one results folder.
    Merge(sweep_cmd::MergeArgs),
    /// Summary table and plots of a sweep's results.
    Report(sweep_cmd::ReportArgs),
    /// Write (and with --submit, submit) a sweep's Slurm array job and its dependent merge job.
    Slurm(slurm_cmd::SlurmArgs),
    /// Import an ONNX graph's Conv/Gemm/MatMul layers as a GAMMA model file.
    Import(import_cmd::ImportArgs),
}

/// Prints the library's `log` records on standard error: the library reports notes (`info`)
/// and fallbacks (`warn`) through `log`, and the binary decides how they are shown.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Info && m.target().starts_with("gammaflow")
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            let kind = if r.level() <= log::Level::Warn { "warning" } else { "note" };
            eprintln!("{kind}: {}", r.args());
        }
    }
    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

pub fn main() -> anyhow::Result<()> {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
    let cli = Cli::parse_from(gamma_args::args_from_env()?);
    match cli.command {
        Some(Command::Search(a)) => search_cmd::run(a),
        Some(Command::Eval(a)) => eval_cmd::run(a),
        Some(Command::Bench(a)) => bench_cmd::run(a),
        Some(Command::Sweep(a)) => sweep_cmd::run_sweep(a),
        Some(Command::Merge(a)) => sweep_cmd::run_merge(a),
        Some(Command::Report(a)) => sweep_cmd::run_report(a),
        Some(Command::Slurm(a)) => slurm_cmd::run(a),
        Some(Command::Import(a)) => import_cmd::run(a),
        None => search_cmd::run(search_cmd::SearchArgs::parse_from(["search"])),
    }
}
