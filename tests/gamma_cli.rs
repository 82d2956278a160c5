//! GAMMA's command line: the example command lines of GAMMA's README and run scripts, run verbatim
//! with `gammaflow` in front, give byte-identical output files to the gammaflow-spelled commands;
//! GAMMA spellings under `search` are aliases; options without meaning here are noted or refused.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run_in(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_gammaflow"))
        .current_dir(dir)
        .env_remove("GAMMAFLOW_ADAPTER")
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every file under `dir`, relative path and bytes, sorted.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.strip_prefix(dir).unwrap().to_path_buf(), fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Runs GAMMA's line (after `python main.py`) and gammaflow's spelling of it, each in a fresh
/// folder prepared by `setup`, and compares everything they write under `outdir/`.
fn same_results(gamma: &str, ours: &str, setup: impl Fn(&Path)) -> Output {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    setup(a.path());
    setup(b.path());
    let out = run_in(a.path(), &words(gamma));
    run_in(b.path(), &words(ours));
    let (fa, fb) = (files(&a.path().join("outdir")), files(&b.path().join("outdir")));
    assert!(fa.iter().any(|(p, _)| p == Path::new("results.csv")), "{gamma}: no results.csv in {fa:?}");
    assert_eq!(fa.len(), fb.len(), "{gamma}");
    for ((pa, ba), (pb, bb)) in fa.iter().zip(&fb) {
        assert_eq!(pa, pb);
        assert!(ba == bb, "{gamma}: {} differs", pa.display());
    }
    out
}

fn repo(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p).display().to_string()
}

#[test]
fn run_gamma_sh() {
    // GAMMA's run_gamma.sh, verbatim after `python main.py`.
    let gamma =
        "--fitness1 latency --fitness2 power --num_pe 168 --l1_size 512 --l2_size 108000 --NocBW 81920000 --epochs 10 \
                 --model vgg16 --singlelayer 1";
    // GAMMA's defaults for what the line leaves out: population 20, outdir `outdir`.
    let ours =
        "search --fitness1 latency --fitness2 power --num-pe 168 --l1-size 512 --l2-size 108000 --noc-bw 81920000 \
                --epochs 10 --model vgg16 --layer 1 --num-pop 20 --outdir outdir --gamma-layout";
    let out = same_results(gamma, ours, |_| {});
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("note: GAMMA's command line, run as: gammaflow search --fitness1 latency"), "{stderr}");
    // The search really ran: one layer, GAMMA's budget of 20 x 10 on 168 PEs.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("layer   1:")
            && stderr.contains(
                "on 168 PEs (L1 512, L2 108000), strategy islands, population 20, budget 200 evaluations per layer"
            ),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn run_gamma_with_hwconfig_sh() {
    // GAMMA's run_gamma_with_hwconfig.sh: GAMMA reads hw_config.m from its data/HWconfigs/.
    let gamma = "--fitness1 latency --fitness2 power  --epochs 10 --model vgg16 --singlelayer 1 --hwconfig hw_config.m";
    let hw = repo("data/hw/gamma_example.m"); // the same four values as GAMMA's hw_config.m
    let ours = format!(
        "search --fitness1 latency --fitness2 power --epochs 10 --model vgg16 --layer 1 --hwconfig {hw} --num-pop 20 --outdir outdir --gamma-layout"
    );
    let out = same_results(gamma, &ours, |dir| {
        fs::create_dir_all(dir.join("data/HWconfigs")).unwrap();
        fs::copy(&hw, dir.join("data/HWconfigs/hw_config.m")).unwrap();
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--hwconfig hw_config.m: read data/HWconfigs/hw_config.m"), "{stderr}");
    assert!(stderr.contains("on 168 PEs (L1 512, L2 108000)"), "{stderr}");
}

#[test]
fn gamma_defaults_and_digamma_co_exploration() {
    // GAMMA's README (co-exploration): `--num_pe -1` with an area budget and a PE limit; with
    // nothing else given, GAMMA searches the first 2 layers of resnet18, population 20, 2
    // generations, second objective energy.
    let gamma = "--num_pe -1 --area_budget 0.5 --pe_limit 1024 --model resnet18";
    let ours = "search --num-pe -1 --area-budget 0.5 --pe-limit 1024 --model resnet18 --num-pop 20 --epochs 2 \
                --fitness2 energy --outdir outdir --num-layers 2 --gamma-layout";
    let out = same_results(gamma, ours, |_| {});
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GAMMA's defaults: --num-pop 20 --epochs 2 --fitness2 energy --outdir outdir --num-layers 2"),
        "{stderr}"
    );
    assert!(stderr.contains("searching 2 layer(s) of resnet18 on up to 1024 co-explored PEs"), "{stderr}");
}

#[test]
fn gamma_spellings_under_search_are_aliases_with_gammaflow_defaults() {
    let gamma =
        "search --model toy --num_pe 64 --num_pop 8 --epochs 3 --slevel_max 3 --parRS --use_factor --fixedCluster 4 \
                 --outdir outdir --singlelayer 0 --area_budget -1 --fitness1 EDP";
    let ours = "search --model toy --num-pe 64 --num-pop 8 --epochs 3 --slevel-max 3 --par-rs --factor-tiles \
                --fixed-cluster 4 --outdir outdir --fitness1 edp";
    let out = same_results(gamma, ours, |_| {});
    // Every layer of toy: no GAMMA default of 2 layers under `search`.
    assert_eq!(String::from_utf8_lossy(&out.stdout).matches("layer ").count(), 3);
}

#[test]
fn options_without_meaning_are_noted_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        run_in(dir.path(), &words("--model toy --log_level 2 --costmodel_cstr maestro_cstr --epochs 1 --num_pop 4"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("note: --log_level 2 ignored"), "{stderr}");
    assert!(stderr.contains("note: --costmodel_cstr maestro_cstr: MAESTRO's rules are always applied"), "{stderr}");

    // GAMMA's README: `python main.py --mapping_cstr dla_map` names a Python module.
    let o = Command::new(env!("CARGO_BIN_EXE_gammaflow"))
        .current_dir(dir.path())
        .args(["--mapping_cstr", "dla_map"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("GAMMA option --mapping_cstr dla_map") && stderr.contains("TOML"), "{stderr}");
}
