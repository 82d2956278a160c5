//! GAMMA's and DiGamma's command line (`src/GAMMA/main.py`; DiGamma is integrated there), accepted
//! as an argv rewrite before clap parses it.
//!
//! - `gammaflow search ... --num_pe 168`: GAMMA spellings are aliases of gammaflow's options
//!   (same meaning, gammaflow's defaults).
//! - `gammaflow --num_pe 168 ...` (options and no command, as GAMMA's `python main.py ...`): runs
//!   `gammaflow search`, and options the command line leaves out take GAMMA's defaults
//!   (population 20, 2 generations, second objective energy, outdir `outdir`, the first 2 layers),
//!   so a GAMMA run script works with `gammaflow` put in front of it.
//!
//! GAMMA options that mean nothing here are accepted with a note or refused with an error that
//! says why; none is dropped silently. Values meaning "unset" in GAMMA (`--singlelayer 0`,
//! `--fixedCluster 0`, `--area_budget -1`, `--pe_limit -1`, `--num_layer 0`) are dropped, which
//! is their meaning.

use std::ffi::OsString;
use std::path::Path;

/// The rewritten command line and what the user should be told about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rewritten {
    pub args: Vec<OsString>,
    pub notes: Vec<String>,
}

/// How a GAMMA option is translated.
#[derive(Clone, Copy)]
enum Rule {
    /// Same meaning under gammaflow's name; takes a value.
    Value(&'static str),
    /// Same meaning, a switch.
    Switch(&'static str),
    /// A value where `<= 0` means unset in GAMMA (dropped), else the gammaflow option.
    PositiveOnly(&'static str),
    /// Objective names: GAMMA's `EDP` is gammaflow's `edp`.
    Objective(&'static str),
    Hwconfig,
    Model,
    MappingCstr,
    AccelCstr,
    CostmodelCstr,
    LogLevel,
}

/// GAMMA's options, as `main.py` declares them.
const GAMMA: &[(&str, Rule)] = &[
    ("fitness1", Rule::Objective("--fitness1")),
    ("fitness2", Rule::Objective("--fitness2")),
    ("num_pop", Rule::Value("--num-pop")),
    ("parRS", Rule::Switch("--par-rs")),
    ("epochs", Rule::Value("--epochs")),
    ("outdir", Rule::Value("--outdir")),
    ("num_pe", Rule::Value("--num-pe")),
    ("l1_size", Rule::Value("--l1-size")),
    ("l2_size", Rule::Value("--l2-size")),
    ("NocBW", Rule::Value("--noc-bw")),
    ("offchipBW", Rule::Value("--offchip-bw")),
    ("hwconfig", Rule::Hwconfig),
    ("model", Rule::Model),
    ("num_layer", Rule::PositiveOnly("--num-layers")),
    ("singlelayer", Rule::PositiveOnly("--layer")),
    ("slevel_min", Rule::Value("--slevel-min")),
    ("slevel_max", Rule::Value("--slevel-max")),
    ("fixedCluster", Rule::PositiveOnly("--fixed-cluster")),
    ("log_level", Rule::LogLevel),
    ("costmodel_cstr", Rule::CostmodelCstr),
    ("mapping_cstr", Rule::MappingCstr),
    ("accel_cstr", Rule::AccelCstr),
    ("area_budget", Rule::PositiveOnly("--area-budget")),
    ("pe_limit", Rule::PositiveOnly("--pe-limit")),
    ("use_factor", Rule::Switch("--factor-tiles")),
];

/// GAMMA's defaults where they differ from `gammaflow search`'s, applied when GAMMA's command
/// line is used without a command: (gammaflow option, value, GAMMA options that set it).
const GAMMA_DEFAULTS: &[(&str, &str, &[&str])] = &[
    ("--num-pop", "20", &["--num-pop"]),
    ("--epochs", "2", &["--epochs"]),
    ("--fitness2", "energy", &["--fitness2"]),
    ("--outdir", "outdir", &["--outdir"]),
    // GAMMA searches the first 2 layers unless told otherwise (`--num_layer 0` means all).
    ("--num-layers", "2", &["--num-layers", "--layer", "--num_layer", "--singlelayer"]),
];

/// The process's arguments, rewritten; the notes go to stderr (this is the binary's layer).
pub fn args_from_env() -> anyhow::Result<Vec<OsString>> {
    let r = rewrite(std::env::args_os().collect()).map_err(anyhow::Error::msg)?;
    for n in &r.notes {
        eprintln!("note: {n}");
    }
    Ok(r.args)
}

/// Rewrites `args` (with the program name first). Errors name the GAMMA option.
pub fn rewrite(args: Vec<OsString>) -> Result<Rewritten, String> {
    rewrite_in(args, Path::new("."))
}

/// [`rewrite`] with GAMMA's relative lookups (`data/HWconfigs`, `data/model`) under `root`.
pub fn rewrite_in(args: Vec<OsString>, root: &Path) -> Result<Rewritten, String> {
    let mut notes = Vec::new();
    let Some(first) = args.get(1).and_then(|a| a.to_str()) else {
        return Ok(Rewritten { args, notes });
    };
    let gamma_mode = first.starts_with("--") && !matches!(first, "--help" | "--version");
    let search = first == "search";
    if !gamma_mode && !search {
        return Ok(Rewritten { args, notes });
    }
    let mut out: Vec<OsString> = vec![args[0].clone(), "search".into()];
    let mut given: Vec<String> = Vec::new();
    let mut rest = args.into_iter().skip(if search { 2 } else { 1 });
    while let Some(arg) = rest.next() {
        let Some(s) = arg.to_str().map(str::to_string) else {
            out.push(arg);
            continue;
        };
        let Some(body) = s.strip_prefix("--") else {
            out.push(arg);
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (body.to_string(), None),
        };
        let Some(&(_, rule)) = GAMMA.iter().find(|(g, _)| *g == name) else {
            // gammaflow's own spelling (or an unknown option, which clap reports).
            given.push(format!("--{name}"));
            out.push(arg);
            continue;
        };
        let value = |rest: &mut dyn Iterator<Item = OsString>| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => rest
                    .next()
                    .and_then(|v| v.into_string().ok())
                    .ok_or_else(|| format!("GAMMA option --{name} needs a value")),
            }
        };
        given.push(format!("--{name}"));
        match rule {
            Rule::Value(to) => {
                let v = value(&mut rest)?;
                given.push(to.to_string());
                out.extend([to.into(), v.into()]);
            }
            Rule::Switch(to) => {
                if inline.is_some() {
                    return Err(format!("GAMMA option --{name} is a switch and takes no value"));
                }
                given.push(to.to_string());
                out.push(to.into());
            }
            Rule::Objective(to) => {
                let v = value(&mut rest)?;
                given.push(to.to_string());
                out.extend([to.into(), v.to_ascii_lowercase().into()]);
            }
            Rule::PositiveOnly(to) => {
                let v = value(&mut rest)?;
                // NaN is no number either: `n > 0.0` would read it as "unset" and drop it.
                let n: f64 = v
                    .parse()
                    .ok()
                    .filter(|n: &f64| !n.is_nan())
                    .ok_or_else(|| format!("GAMMA option --{name}: {v:?} is not a number"))?;
                // A value that only says "unset" still counts as given: GAMMA's `--num_layer 0`
                // means every layer, not the default 2.
                given.push(to.to_string());
                if n > 0.0 {
                    out.extend([to.into(), v.into()]);
                }
            }
            Rule::Hwconfig => {
                let v = value(&mut rest)?;
                out.extend(["--hwconfig".into(), resolve_hwconfig(&v, root, &mut notes).into()]);
            }
            Rule::Model => {
                let v = value(&mut rest)?;
                out.extend(["--model".into(), resolve_gamma_model(&v, root, &mut notes).into()]);
            }
            Rule::MappingCstr => {
                let v = value(&mut rest)?;
                out.extend(["--mapping-cstr".into(), constraint_arg(&v, "mapping_cstr")?.into()]);
            }
            Rule::AccelCstr => {
                let v = value(&mut rest)?;
                out.extend(["--accel-cstr".into(), constraint_arg(&v, "accel_cstr")?.into()]);
            }
            Rule::CostmodelCstr => {
                let v = value(&mut rest)?;
                if v != "maestro_cstr" {
                    return Err(format!(
                        "GAMMA option --costmodel_cstr {v}: only maestro_cstr exists here (MAESTRO's rules on \
                         mappings are built into gammaflow's search); other cost-model constraints are not supported"
                    ));
                }
                notes.push("--costmodel_cstr maestro_cstr: MAESTRO's rules are always applied (nothing to do)".into());
            }
            Rule::LogLevel => {
                let v = value(&mut rest)?;
                notes.push(format!(
                    "--log_level {v} ignored: gammaflow prints one line per layer and a progress bar (-q hides it)"
                ));
            }
        }
    }
    if gamma_mode {
        let mut applied = Vec::new();
        for (opt, v, set_by) in GAMMA_DEFAULTS {
            if !set_by.iter().any(|s| given.iter().any(|g| g == s)) {
                out.extend([OsString::from(*opt), OsString::from(*v)]);
                applied.push(format!("{opt} {v}"));
            }
        }
        // A GAMMA run also gets GAMMA's output folder, beside gammaflow's files.
        out.push(OsString::from("--gamma-layout"));
        if !applied.is_empty() {
            notes.push(format!("GAMMA's defaults: {}", applied.join(" ")));
        }
        let shown: Vec<String> = out.iter().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
        notes.push(format!("GAMMA's command line, run as: gammaflow {}", shown.join(" ")));
    }
    Ok(Rewritten { args: out, notes })
}

/// GAMMA reads `--hwconfig NAME` from its `data/HWconfigs/`; a path that exists is kept.
fn resolve_hwconfig(v: &str, root: &Path, notes: &mut Vec<String>) -> String {
    if root.join(v).is_file() || Path::new(v).is_absolute() {
        return v.to_string();
    }
    for dir in ["data/HWconfigs", "data/hw"] {
        let p = root.join(dir).join(v);
        if p.is_file() {
            let shown = Path::new(dir).join(v).display().to_string();
            notes.push(format!("--hwconfig {v}: read {shown}, as GAMMA looks in its data/HWconfigs"));
            return shown;
        }
    }
    v.to_string()
}

/// GAMMA reads `--model NAME` from `data/model/NAME.csv`; built-in names and paths are kept.
fn resolve_gamma_model(v: &str, root: &Path, notes: &mut Vec<String>) -> String {
    if gammaflow::workload::builtin::builtin_model(v).is_some() || Path::new(v).extension().is_some() || v.contains('/')
    {
        return v.to_string();
    }
    let rel = format!("data/model/{v}.csv");
    if root.join(&rel).is_file() {
        notes.push(format!("--model {v}: read {rel}, as GAMMA does"));
        return rel;
    }
    v.to_string()
}

/// GAMMA's constraints are Python modules (`dla_map`, `flexiblity_classes_example...`), which
/// gammaflow does not execute; built-in names and TOML files pass.
fn constraint_arg(v: &str, option: &str) -> Result<String, String> {
    let builtin = ["nvdla", "eyeriss", "tpu"].contains(&v);
    if builtin || v.ends_with(".toml") || v.contains('/') {
        return Ok(v.to_string());
    }
    Err(format!(
        "GAMMA option --{option} {v}: GAMMA's constraints are Python modules, which gammaflow does not run; \
         give a TOML file (data/constraints/*.toml show the format){}",
        if option == "mapping_cstr" {
            " or a built-in map (nvdla, eyeriss, tpu: gammaflow's own definitions) with --flex-class 0-15"
        } else {
            ""
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(args: &[&str]) -> Result<Rewritten, String> {
        let dir = std::env::temp_dir().join("gammaflow-gamma-args-none");
        rewrite_in(std::iter::once("gammaflow").chain(args.iter().copied()).map(OsString::from).collect(), &dir)
    }

    fn args(r: &Rewritten) -> Vec<String> {
        r.args.iter().skip(1).map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn gamma_spellings_become_gammaflow_options() {
        let r = rw(&[
            "search",
            "--num_pe",
            "168",
            "--NocBW=81920000",
            "--parRS",
            "--fitness1",
            "EDP",
            "--singlelayer",
            "3",
        ])
        .unwrap();
        assert_eq!(
            args(&r),
            ["search", "--num-pe", "168", "--noc-bw", "81920000", "--par-rs", "--fitness1", "edp", "--layer", "3"]
        );
        assert!(r.notes.is_empty(), "{:?}", r.notes);
    }

    #[test]
    fn no_command_means_search_with_gamma_defaults() {
        let r = rw(&["--num_pe", "64", "--epochs", "5"]).unwrap();
        assert_eq!(
            args(&r),
            [
                "search",
                "--num-pe",
                "64",
                "--epochs",
                "5",
                "--num-pop",
                "20",
                "--fitness2",
                "energy",
                "--outdir",
                "outdir",
                "--num-layers",
                "2",
                "--gamma-layout"
            ]
        );
        assert!(
            r.notes.iter().any(|n| n.contains("GAMMA's defaults: --num-pop 20 --fitness2 energy")),
            "{:?}",
            r.notes
        );
        // Unset values are dropped, and --num_layer 0 (all layers) suppresses the default of 2.
        let r =
            rw(&["--num_layer", "0", "--fixedCluster", "0", "--area_budget", "-1", "--pe_limit=-1", "--use_factor"])
                .unwrap();
        assert_eq!(
            args(&r),
            [
                "search",
                "--factor-tiles",
                "--num-pop",
                "20",
                "--epochs",
                "2",
                "--fitness2",
                "energy",
                "--outdir",
                "outdir",
                "--gamma-layout"
            ]
        );
        let r = rw(&["--num-pe", "64"]).unwrap();
        assert_eq!(args(&r)[..3], ["search", "--num-pe", "64"]);
    }

    #[test]
    fn other_commands_and_no_arguments_are_untouched() {
        for a in [&[][..], &["sweep", "--config", "x.toml"], &["--help"], &["import", "a.onnx"]] {
            let r = rw(a).unwrap();
            assert_eq!(args(&r), a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn options_without_meaning_are_noted_or_refused() {
        let r = rw(&["search", "--log_level", "2", "--costmodel_cstr", "maestro_cstr"]).unwrap();
        assert_eq!(args(&r), ["search"]);
        assert_eq!(r.notes.len(), 2);
        assert!(r.notes[0].contains("--log_level 2 ignored"));
        let e = rw(&["--costmodel_cstr", "other"]).unwrap_err();
        assert!(e.contains("--costmodel_cstr other"), "{e}");
        let e = rw(&["--mapping_cstr", "dla_map"]).unwrap_err();
        assert!(e.contains("--mapping_cstr dla_map") && e.contains("Python"), "{e}");
        assert_eq!(args(&rw(&["search", "--mapping_cstr", "nvdla"]).unwrap()), ["search", "--mapping-cstr", "nvdla"]);
        let e = rw(&["--accel_cstr", "dla_accel"]).unwrap_err();
        assert!(e.contains("--accel_cstr dla_accel"), "{e}");
        assert!(rw(&["--num_pe"]).unwrap_err().contains("--num_pe needs a value"));
        assert!(rw(&["--parRS=1"]).is_err());
        // A value meaning "unset" must be a number <= 0: NaN is refused, not dropped.
        for v in ["nan", "NaN", "x"] {
            let e = rw(&["--singlelayer", v]).unwrap_err();
            assert!(e.contains("--singlelayer") && e.contains("not a number"), "{e}");
        }
    }

    #[test]
    fn hwconfig_and_model_are_looked_up_where_gamma_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data/HWconfigs")).unwrap();
        std::fs::create_dir_all(dir.path().join("data/model")).unwrap();
        std::fs::write(dir.path().join("data/HWconfigs/hw.m"), "NumPEs: 8\n").unwrap();
        std::fs::write(dir.path().join("data/model/mine.csv"), "K,C,Y,X,R,S,T\n1,1,1,1,1,1,1\n").unwrap();
        let a = ["gammaflow", "search", "--hwconfig", "hw.m", "--model", "mine"].map(OsString::from).to_vec();
        let r = rewrite_in(a, dir.path()).unwrap();
        assert_eq!(args(&r), ["search", "--hwconfig", "data/HWconfigs/hw.m", "--model", "data/model/mine.csv"]);
        assert_eq!(r.notes.len(), 2);
        // Built-in names and missing files are left for the search to resolve (or report).
        let a = ["gammaflow", "search", "--hwconfig", "nope.m", "--model", "vgg16"].map(OsString::from).to_vec();
        assert_eq!(args(&rewrite_in(a, dir.path()).unwrap()), ["search", "--hwconfig", "nope.m", "--model", "vgg16"]);
    }
}
