//! The `gammaflow` binary: the command line (argument parsing, progress bars, terminal output)
//! over the library. Nothing here is part of the library's API.

mod cli;

fn main() {
    if let Err(e) = cli::main() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
