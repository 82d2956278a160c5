//! `gammaflow eval`: bulk evaluation of JSON Lines cases, streamed in bounded memory.

use super::named;
use anyhow::Context;
use clap::Args;
use gammaflow::energy::EnergyModel;
use gammaflow::eval::cases::{evaluation_json, parse_line, Parsed};
use gammaflow::eval::{BackendChoice, Evaluator, Item};
use gammaflow::model::Evaluation;
use rayon::prelude::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, BufWriter, Write};

#[derive(Args, Debug)]
// A negative number is a flag's value (refused with the flag named), not an unknown option.
#[command(allow_negative_numbers = true)]
pub struct EvalArgs {
    /// JSON Lines file of cases (`-` for standard input); fields as in the oracle format:
    /// id, layer {K,C,Y,X,R,S,T}, genome, num_pe, l1_size, l2_size, noc_bw, offchip_bw.
    #[arg(long, short)]
    pub input: String,
    /// Output file (default: standard output).
    #[arg(long, short)]
    pub output: Option<String>,
    #[arg(long, value_parser = named::<BackendChoice>(), default_value = "auto")]
    pub backend: BackendChoice,
    /// Cases per batch: bounds memory, and sizes GPU dispatches.
    #[arg(long, default_value_t = 1 << 16, value_parser = crate::cli::checks::at_least_one)]
    pub batch: usize,
    /// Energy table: `maestro` (MAESTRO's constants, the default) or a TOML file (see
    /// data/energy/*.toml). Changes `energy_nJ` only.
    #[arg(long, default_value = "maestro")]
    pub energy_model: String,
}

/// An evaluated case (id, problem index, result), or the error line to print in its place.
type Rendered = Result<(Option<Value>, usize, Evaluation), Value>;

pub fn run(a: EvalArgs) -> anyhow::Result<()> {
    let energy = EnergyModel::resolve(&a.energy_model).map_err(|e| anyhow::anyhow!("--energy-model: {e}"))?;
    let input: Box<dyn BufRead> = if a.input == "-" {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        Box::new(BufReader::new(std::fs::File::open(&a.input).with_context(|| format!("opening {}", a.input))?))
    };
    if let Some(o) = &a.output {
        if a.input != "-" {
            crate::cli::checks::refuse_same_file(std::path::Path::new(&a.input), std::path::Path::new(o), "--output")?;
        }
    }
    let out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("creating {p}"))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let out_name = a.output.clone().unwrap_or_else(|| "standard output".into());
    let mut out = BufWriter::new(out);
    let mut ev = Evaluator::new(a.backend)?;
    if let Some(why) = &ev.fallback_reason {
        eprintln!("note: {why}");
    }
    let mut reported_fallback = ev.fallback_reason.clone();
    let batch = a.batch;
    let mut input = input;
    let mut buf = Vec::new();
    let mut lineno = 0usize;
    let (mut n_ok, mut n_err) = (0usize, 0usize);
    loop {
        let mut chunk = Vec::with_capacity(batch.min(1 << 20));
        loop {
            buf.clear();
            // Bytes, not `lines()`: a line that is not UTF-8 becomes that line's error instead
            // of ending the run and losing the batch read so far.
            let n = input
                .read_until(b'\n', &mut buf)
                .with_context(|| format!("{}: reading line {}", a.input, lineno + 1))?;
            if n == 0 {
                break;
            }
            lineno += 1;
            // A byte-order mark before the first line (Windows editors write one) is not data.
            let bytes = if lineno == 1 { buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&buf) } else { &buf[..] };
            let text = match std::str::from_utf8(bytes) {
                Ok(t) => t.trim_end_matches(['\n', '\r']).to_string(),
                // Not JSON either: parse_line reports it with its line number.
                Err(e) => format!("\u{FFFD} invalid UTF-8 at byte {}", e.valid_up_to()),
            };
            // Blank lines are not cases and get no output line.
            if text.trim().is_empty() {
                continue;
            }
            chunk.push((lineno, text));
            if chunk.len() == batch {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let parsed: Vec<Parsed> = chunk.par_iter().map(|(n, l)| parse_line(*n, l)).collect();
        let mut problems = Vec::new();
        let mut items = Vec::new();
        for p in parsed.iter().flatten() {
            items.push(Item { problem: problems.len(), genome: p.2, num_pe: None });
            problems.push(p.1);
        }
        let mut evals = ev.evaluate_with(&problems, &items, &energy).into_iter();
        // A mid-run fallback (device lost, timeout) is said once, when it happens.
        if ev.fallback_reason != reported_fallback {
            if let Some(why) = &ev.fallback_reason {
                eprintln!("warning: {why}");
            }
            reported_fallback = ev.fallback_reason.clone();
        }
        let mut next_problem = 0..;
        // Pair each parsed case with its evaluation (in order), then render in parallel.
        let paired: Vec<Rendered> = parsed
            .into_iter()
            .map(|p| {
                p.map(|(id, _, _)| {
                    (id, next_problem.next().unwrap_or(0), evals.next().expect("one evaluation per parsed case"))
                })
            })
            .collect();
        let texts: Vec<(bool, String)> = paired
            .into_par_iter()
            .map(|r| match r {
                Ok((id, pi, e)) => (true, evaluation_json(id, &problems[pi], &e).to_string()),
                Err(v) => (false, v.to_string()),
            })
            .collect();
        for (ok, t) in &texts {
            if *ok {
                n_ok += 1;
            } else {
                n_err += 1;
            }
            out.write_all(t.as_bytes())
                .and_then(|_| out.write_all(b"\n"))
                .with_context(|| format!("writing {out_name}"))?;
        }
        out.flush().with_context(|| format!("writing {out_name}"))?;
    }
    let c = ev.backend_counts();
    eprintln!(
        "evaluated {n_ok} cases on {} ({} by the GPU kernel, {} on the CPU), {n_err} lines rejected",
        ev.describe(),
        c.gpu,
        c.cpu
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error of a mistyped value names its path inside the case, not only serde's message.
    #[test]
    fn type_errors_name_the_field_path() {
        let g = r#"[["K",1],["K",1],["C",1],["Y",1],["X",1],["R",1],["S",1]]"#;
        let layer = r#"{"K":1,"C":1,"Y":1,"X":1,"R":1,"S":1,"T":1}"#;
        let msg = |line: &str| match parse_line(3, line) {
            Err(v) => v["error"].as_str().unwrap().to_string(),
            Ok(_) => panic!("accepted: {line}"),
        };
        let cases = [
            (
                format!(r#"{{"layer":{},"genome":{g},"num_pe":4}}"#, layer.replace("\"C\":1", "\"C\":\"a\"")),
                "field layer.C: invalid type",
            ),
            (
                format!(r#"{{"layer":{},"genome":{g},"num_pe":4}}"#, layer.replace("\"X\":1", "\"X\":2.5")),
                "field layer.X: invalid type",
            ),
            (
                format!(r#"{{"layer":{},"genome":{g},"num_pe":4}}"#, layer.replace(",\"S\":1", "")),
                "field layer: missing field `S`",
            ),
            (
                format!(r#"{{"layer":{layer},"genome":{},"num_pe":4}}"#, g.replace(r#"["Y",1]"#, r#"["Y","x"]"#)),
                "field genome[3][1]: invalid type",
            ),
            (
                format!(r#"{{"layer":{layer},"genome":{},"num_pe":4}}"#, g.replace(r#"["R",1]"#, r#"["R"]"#)),
                "field genome[5]: invalid length 1",
            ),
            (
                format!(r#"{{"layer":{layer},"genome":{},"num_pe":4}}"#, g.replace(r#"["S",1]"#, r#"["S",1,"K",2]"#)),
                "field genome[6]: invalid length 4",
            ),
            (format!(r#"{{"layer":{layer},"genome":{g},"num_pe":"4"}}"#), "field num_pe: invalid type"),
            (format!(r#"{{"layer":{layer},"genome":{g}}}"#), "line 3: missing field `num_pe`"),
            // A key given twice is refused, not read as its last value.
            (format!(r#"{{"layer":{layer},"genome":{g},"num_pe":16,"num_pe":1}}"#), r#"key "num_pe" given twice"#),
            (
                format!(r#"{{"layer":{},"genome":{g},"num_pe":4}}"#, layer.replace(r#""K":1"#, r#""K":1,"K":2"#)),
                r#"key "K" given twice (in layer)"#,
            ),
        ];
        assert!(parse_line(3, &format!(r#"{{"layer":{layer},"genome":{g},"num_pe":16}}"#)).is_ok());
        for (line, want) in cases {
            let m = msg(&line);
            assert!(m.starts_with("line 3: ") && m.contains(want), "{line}: {m}");
        }
    }
}
