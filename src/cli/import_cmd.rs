//! `gammaflow import`: an ONNX graph's layers as a GAMMA model file.

use anyhow::Context;
use clap::Args;
use gammaflow::workload::onnx::import_onnx;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// ONNX file to import.
    pub input: PathBuf,
    /// Model CSV to write (loadable with `--model FILE`); without it the CSV goes to stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Write GAMMA's seven columns only (`K,C,Y,X,R,S,T`, for GAMMA's own loader, which reads the
    /// last column as the layer type); by default `stride`, `dilation` and `node` columns follow.
    #[arg(long)]
    pub plain: bool,
}

pub fn run(a: ImportArgs) -> anyhow::Result<()> {
    if let Some(out) = &a.out {
        crate::cli::checks::refuse_same_file(&a.input, out, "--out")?;
    }
    let imp = import_onnx(&a.input)?;
    let csv = imp.to_csv(a.plain);
    match &a.out {
        Some(path) => {
            std::fs::write(path, csv).with_context(|| format!("writing {}", path.display()))?;
            outln!("{}", imp.summary());
            outln!("wrote {} layer(s) to {}", imp.layers.len(), path.display());
        }
        None => {
            // The CSV is the product: a failed write is an error, except a reader that stopped
            // reading (`| head`), which wanted no more.
            let mut so = std::io::stdout().lock();
            match so.write_all(csv.as_bytes()).and_then(|_| so.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(e).context("writing the model CSV to standard output")
                }
                _ => {}
            }
            eprintln!("{}", imp.summary());
        }
    }
    Ok(())
}
