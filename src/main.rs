fn main() {
    if let Err(e) = gammaflow::cli::main() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
