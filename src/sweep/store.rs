//! The sweep output folder and its crash safety.
//!
//! - `sweep.json`: written (atomically) before any result; names the config by its hash, the
//!   shard, and the full job list (id, row count and layer numbers of every job), which is what
//!   resume and merge check against.
//! - `results.csv`, `results.jsonl`: the same rows (one per job and layer) in two formats, only
//!   ever appended to. A job's rows go out as one write per file followed by fsync, so a crash
//!   leaves at most one partial line at the end of each file and possibly a job whose rows are
//!   in one file but not the other.
//! - On resume a job counts as finished only when all of its rows are complete in *both* files
//!   (a CSV line with every column, a JSON line that parses as a whole row, each with one of the
//!   job's layers);
//!   anything else (partial last line, rows of an unfinished job, rows of another shard) is
//!   dropped by rewriting both files atomically (temp file, fsync, rename), and the job reruns.
//!   Reruns are deterministic, so the final files are the same as an uninterrupted run's, up to
//!   row order (merge and report sort by job and layer).

use super::config::{Job, Sweep};
use super::SweepError;
use crate::error::{refuse, Context, Failed};
use crate::search::LayerResult;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const META_FILE: &str = "sweep.json";
pub const CSV_FILE: &str = "results.csv";
pub const JSONL_FILE: &str = "results.jsonl";
const FORMAT: &str = "gammaflow-sweep/1";

/// `--shard I/N`: I is 1-based (1..=N); job k (0-based position in the job list) belongs to shard
/// I when k mod N = I - 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn parse(s: &str) -> Result<Shard, SweepError> {
        let bad = || Failed::msg(format!("--shard {s:?}: expected I/N with 1 <= I <= N, e.g. 3/8 (I is 1-based)"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) =
            (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index > count {
            return Err(bad().into());
        }
        if index == 0 {
            refuse!("--shard {s:?}: the shard index is 1-based (1..={count}); with a 0-based array index pass $((SLURM_ARRAY_TASK_ID + 1))/{count}");
        }
        Ok(Shard { index, count })
    }

    pub fn contains(&self, job_index: usize) -> bool {
        job_index % self.count == self.index - 1
    }

    /// Default output sub-folder: `shard-I-of-N`.
    pub fn dir_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobMeta {
    pub id: String,
    /// Number of result rows (layers) of the job.
    pub rows: usize,
    /// The 1-based layer numbers of those rows (absent in folders of older builds, where only
    /// the count is checked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<usize>,
}

/// Contents of `sweep.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepMeta {
    pub format: String,
    pub config_hash: String,
    pub config_file: String,
    pub shard: Option<Shard>,
    pub num_jobs: usize,
    pub config_text: String,
    pub jobs: Vec<JobMeta>,
}

impl SweepMeta {
    pub fn new(sweep: &Sweep, shard: Option<Shard>) -> SweepMeta {
        SweepMeta {
            format: FORMAT.to_string(),
            config_hash: sweep.hash.clone(),
            config_file: sweep.path.display().to_string(),
            shard,
            num_jobs: sweep.jobs.len(),
            config_text: sweep.text.clone(),
            jobs: sweep
                .jobs
                .iter()
                .map(|j| JobMeta { id: j.id.clone(), rows: j.layers.len(), layers: row_layers(j) })
                .collect(),
        }
    }

    pub fn read(dir: &Path) -> Result<SweepMeta, SweepError> {
        let path = dir.join(META_FILE);
        let text = fs::read_to_string(&path)
            .with_context(|| format!("{}: not a sweep output folder (no readable {META_FILE})", dir.display()))?;
        let meta: SweepMeta =
            serde_json::from_str(&text).with_context(|| format!("{}: not a gammaflow sweep file", path.display()))?;
        if meta.format != FORMAT {
            refuse!("{}: format {:?}, this build reads {FORMAT:?}", path.display(), meta.format);
        }
        Ok(meta)
    }

    /// Job id -> what its rows must be.
    fn expected(&self) -> HashMap<&str, Expected> {
        self.jobs
            .iter()
            .enumerate()
            .map(|(i, j)| {
                let layers = (!j.layers.is_empty()).then(|| j.layers.iter().copied().collect());
                (j.id.as_str(), Expected { index: i, rows: j.rows, layers })
            })
            .collect()
    }
}

/// The 1-based layer numbers of a job's rows.
fn row_layers(job: &Job) -> Vec<usize> {
    job.layers.iter().map(|&l| l + 1).collect()
}

/// What the rows of one job must be: its index in the job list, its row count and, when known,
/// its layer numbers (a row with another layer is not one of its rows).
struct Expected {
    index: usize,
    rows: usize,
    layers: Option<BTreeSet<usize>>,
}

/// One result row: a layer of a job. The field order is the CSV column order and the JSON key
/// order; `results.csv` and `results.jsonl` carry the same values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Position of the job in the sweep's job list.
    pub job: usize,
    pub job_id: String,
    /// 1-based layer index in the model.
    pub layer: usize,
    pub model: String,
    /// The layer's original stride (`2`, or `2x1` for Y then X; 1 for models without strides).
    pub stride: String,
    /// Set when the layer has the shape of an earlier layer of the job and reuses its search.
    pub same_as_layer: Option<usize>,
    pub accelerator: String,
    pub num_pe: i64,
    pub l1_size: i64,
    pub l2_size: i64,
    pub noc_bw: i64,
    pub offchip_bw: i64,
    pub fitness1: String,
    pub fitness2: String,
    pub num_pop: usize,
    pub epochs: usize,
    pub seed: u64,
    /// The job's mapping constraint as written in the sweep ("none" without one).
    pub mapping_constraint: String,
    /// Its flexibility class (empty without a mapping constraint).
    pub flex_class: Option<u8>,
    /// The accelerator constraint file as written ("none" without one).
    pub accel_constraint: String,
    /// Area budget in mm^2 (empty without one).
    pub area_budget_mm2: Option<f64>,
    pub status: String,
    pub best_fitness1: Option<f64>,
    pub best_fitness2: Option<f64>,
    pub runtime_cycles: Option<i64>,
    #[serde(rename = "energy_nJ")]
    pub energy_nj: Option<f64>,
    pub power: Option<f64>,
    pub area_um2: Option<f64>,
    #[serde(rename = "throughput_macs_per_cycle")]
    pub throughput: Option<f64>,
    pub num_macs: Option<i64>,
    #[serde(rename = "l1_size_req_elements")]
    pub l1_size_req: Option<i64>,
    #[serde(rename = "l2_size_req_elements")]
    pub l2_size_req: Option<i64>,
    /// PEs of the best design: the accelerator's, or the searched count when co-exploring.
    pub design_num_pe: Option<i64>,
    pub evaluations: u64,
    /// GAMMA's gene list (a JSON array; JSON text in the CSV).
    pub mapping: Option<serde_json::Value>,
    pub mapping_text: Option<String>,
}

pub const COLUMNS: [&str; 36] = [
    "job",
    "job_id",
    "layer",
    "model",
    "stride",
    "same_as_layer",
    "accelerator",
    "num_pe",
    "l1_size",
    "l2_size",
    "noc_bw",
    "offchip_bw",
    "fitness1",
    "fitness2",
    "num_pop",
    "epochs",
    "seed",
    "mapping_constraint",
    "flex_class",
    "accel_constraint",
    "area_budget_mm2",
    "status",
    "best_fitness1",
    "best_fitness2",
    "runtime_cycles",
    "energy_nJ",
    "power",
    "area_um2",
    "throughput_macs_per_cycle",
    "num_macs",
    "l1_size_req_elements",
    "l2_size_req_elements",
    "design_num_pe",
    "evaluations",
    "mapping",
    "mapping_text",
];

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

impl Row {
    fn csv_fields(&self) -> Vec<String> {
        vec![
            self.job.to_string(),
            self.job_id.clone(),
            self.layer.to_string(),
            self.model.clone(),
            self.stride.clone(),
            opt(&self.same_as_layer),
            self.accelerator.clone(),
            self.num_pe.to_string(),
            self.l1_size.to_string(),
            self.l2_size.to_string(),
            self.noc_bw.to_string(),
            self.offchip_bw.to_string(),
            self.fitness1.clone(),
            self.fitness2.clone(),
            self.num_pop.to_string(),
            self.epochs.to_string(),
            self.seed.to_string(),
            self.mapping_constraint.clone(),
            opt(&self.flex_class),
            self.accel_constraint.clone(),
            opt(&self.area_budget_mm2),
            self.status.clone(),
            opt(&self.best_fitness1),
            opt(&self.best_fitness2),
            opt(&self.runtime_cycles),
            opt(&self.energy_nj),
            opt(&self.power),
            opt(&self.area_um2),
            opt(&self.throughput),
            opt(&self.num_macs),
            opt(&self.l1_size_req),
            opt(&self.l2_size_req),
            opt(&self.design_num_pe),
            self.evaluations.to_string(),
            opt(&self.mapping),
            self.mapping_text.clone().unwrap_or_default(),
        ]
    }
}

/// The rows of a finished job, one per layer, in the job's layer order.
pub fn job_rows(job: &Job, results: &[LayerResult]) -> Vec<Row> {
    let cfg = &job.cfg;
    let hw = &job.accelerator.hw;
    results
        .iter()
        .map(|r| {
            let best = r.best.as_ref();
            let m = best.and_then(|b| b.eval.metrics);
            Row {
                job: job.index,
                job_id: job.id.clone(),
                layer: r.index + 1,
                model: job.model.name.clone(),
                stride: crate::workload::stride_text(job.model.stride(r.index)),
                same_as_layer: r.same_as.map(|i| i + 1),
                accelerator: job.accelerator.name.clone(),
                num_pe: hw.num_pe,
                l1_size: hw.l1_size,
                l2_size: hw.l2_size,
                noc_bw: hw.noc_bw,
                offchip_bw: hw.offchip_bw,
                fitness1: cfg.fitness1.name().to_string(),
                fitness2: cfg.fitness2.map_or("none", |o| o.name()).to_string(),
                num_pop: cfg.num_pop,
                epochs: cfg.epochs,
                seed: cfg.seed,
                mapping_constraint: job.cstr.mapping.clone().unwrap_or_else(|| "none".to_string()),
                flex_class: job.cstr.flex_class,
                accel_constraint: job.cstr.accel.clone().unwrap_or_else(|| "none".to_string()),
                area_budget_mm2: job.area_budget_mm2,
                status: if best.is_some() { "ok" } else { "no valid mapping found" }.to_string(),
                best_fitness1: best.and_then(|b| cfg.value(cfg.fitness1, b, &r.hw)),
                best_fitness2: best.and_then(|b| cfg.fitness2.and_then(|o| cfg.value(o, b, &r.hw))),
                runtime_cycles: m.map(|m| m.runtime_cycles),
                energy_nj: m.map(|m| m.energy_nj),
                power: m.map(|m| m.power),
                area_um2: best.and_then(|b| cfg.area(b, &r.hw)).map(|a| a.total),
                throughput: m.map(|m| m.throughput),
                num_macs: m.map(|m| m.num_macs),
                l1_size_req: m.map(|m| m.l1_size_req),
                l2_size_req: m.map(|m| m.l2_size_req),
                design_num_pe: best.map(|b| cfg.design_hw(&r.hw, &b.genome).num_pe),
                evaluations: r.evaluations,
                mapping: best.map(|b| serde_json::to_value(b.genome).expect("a genome serialises")),
                mapping_text: best.map(|b| b.genome.describe()),
            }
        })
        .collect()
}

fn csv_line(fields: &[String]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    w.write_record(fields).expect("writing to memory");
    w.into_inner().expect("writing to memory")
}

fn csv_header() -> String {
    String::from_utf8(csv_line(&COLUMNS.map(String::from))).expect("ascii")
}

/// A complete line of a results file, keyed by what resume and merge need.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub job: usize,
    pub job_id: String,
    pub layer: usize,
    /// The line as written, without its newline.
    pub line: String,
}

#[derive(Debug, Default)]
struct ScannedFile {
    rows: Vec<RawRow>,
    /// Bytes after the last newline (a write cut short), or unreadable lines.
    damaged: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Csv,
    Jsonl,
}

struct RowKey {
    job: usize,
    job_id: String,
    layer: usize,
}

/// The key of a complete row, or None when the line is not a whole row: a CSV line must have
/// every column, a JSON line must parse as a [`Row`] (a line cut down or edited to its key fields
/// is not a result, and its job is rerun).
fn parse_key(kind: Kind, line: &str) -> Option<RowKey> {
    match kind {
        Kind::Csv => {
            let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
            let rec = r.records().next()?.ok()?;
            if rec.len() != COLUMNS.len() {
                return None;
            }
            Some(RowKey { job: rec[0].parse().ok()?, job_id: rec[1].to_string(), layer: rec[2].parse().ok()? })
        }
        Kind::Jsonl => {
            let row: Row = serde_json::from_str(line).ok()?;
            Some(RowKey { job: row.job, job_id: row.job_id, layer: row.layer })
        }
    }
}

/// Reads the complete lines of a results file. Only text up to the last newline counts: a line
/// without its newline is what a kill in the middle of a write leaves.
fn scan(path: &Path, kind: Kind) -> Result<ScannedFile, SweepError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ScannedFile::default()),
        Err(e) => return Err(Failed { what: format!("reading {}", path.display()), cause: Some(Box::new(e)) }.into()),
    };
    let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut out = ScannedFile { rows: Vec::new(), damaged: end < bytes.len() };
    let text = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = text.lines();
    if kind == Kind::Csv {
        match lines.next() {
            None => {}
            Some(h) if h == csv_header().trim_end() => {}
            Some(_) => refuse!(
                "{}: unexpected header (written by another version of gammaflow?); use a new --outdir",
                path.display()
            ),
        }
    }
    for line in lines {
        match parse_key(kind, line) {
            Some(k) => out.rows.push(RawRow { job: k.job, job_id: k.job_id, layer: k.layer, line: line.to_string() }),
            None => out.damaged = true,
        }
    }
    Ok(out)
}

/// Jobs complete in a file: every expected layer present once, with the expected job index; a
/// row with a layer the job does not have makes its job incomplete.
fn complete_jobs(f: &ScannedFile, expected: &HashMap<&str, Expected>) -> HashSet<String> {
    let mut layers: HashMap<&str, BTreeSet<usize>> = HashMap::new();
    let mut foreign: HashSet<&str> = HashSet::new();
    for r in &f.rows {
        let Some(e) = expected.get(r.job_id.as_str()).filter(|e| e.index == r.job) else { continue };
        if e.layers.as_ref().is_some_and(|ls| !ls.contains(&r.layer)) {
            foreign.insert(&r.job_id);
        } else {
            layers.entry(&r.job_id).or_default().insert(r.layer);
        }
    }
    layers
        .into_iter()
        .filter(|(id, ls)| ls.len() == expected[id].rows && !foreign.contains(id))
        .map(|(id, _)| id.to_string())
        .collect()
}

/// Rows of finished jobs (with the job's index and one of its layers), first copy of each
/// (job, layer), in file order; and whether anything else was there.
fn keep_finished(
    f: &ScannedFile,
    finished: &HashSet<String>,
    expected: &HashMap<&str, Expected>,
) -> (Vec<RawRow>, bool) {
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    for r in &f.rows {
        let own = expected
            .get(r.job_id.as_str())
            .is_some_and(|e| e.index == r.job && e.layers.as_ref().is_none_or(|ls| ls.contains(&r.layer)));
        if own && finished.contains(&r.job_id) && seen.insert((r.job_id.as_str(), r.layer)) {
            kept.push(r.clone());
        }
    }
    let dropped = kept.len() != f.rows.len();
    (kept, f.damaged || dropped)
}

/// Finished jobs of a results folder and their rows (CSV, JSONL), read-only.
struct FolderRows {
    finished: HashSet<String>,
    csv: Vec<RawRow>,
    jsonl: Vec<RawRow>,
    damaged: bool,
}

fn read_folder(dir: &Path, expected: &HashMap<&str, Expected>) -> Result<FolderRows, SweepError> {
    let csv = scan(&dir.join(CSV_FILE), Kind::Csv)?;
    let jsonl = scan(&dir.join(JSONL_FILE), Kind::Jsonl)?;
    let a = complete_jobs(&csv, expected);
    let b = complete_jobs(&jsonl, expected);
    let finished: HashSet<String> = a.intersection(&b).cloned().collect();
    let (csv_rows, d1) = keep_finished(&csv, &finished, expected);
    let (jsonl_rows, d2) = keep_finished(&jsonl, &finished, expected);
    Ok(FolderRows { finished, csv: csv_rows, jsonl: jsonl_rows, damaged: d1 || d2 })
}

fn sync_dir(dir: &Path) {
    // Makes a rename durable on Linux; opening a folder fails on some platforms, harmlessly.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SweepError> {
    // A uniquely named temporary file in the same folder, persisted (renamed) over the target
    // once complete: readers see the old file or the new one, never a torn one. Every failure
    // (a full disk included) names the file.
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(parent)
        .with_context(|| format!("creating a temporary file in {} for {}", parent.display(), path.display()))?;
    tmp.write_all(bytes).with_context(|| format!("writing {}", path.display()))?;
    tmp.as_file().sync_all().with_context(|| format!("writing {} to disk", path.display()))?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| format!("replacing {}", path.display()))?;
    sync_dir(parent);
    Ok(())
}

fn file_bytes(header: Option<String>, rows: &[RawRow]) -> Vec<u8> {
    let mut s = header.unwrap_or_default();
    for r in rows {
        s.push_str(&r.line);
        s.push('\n');
    }
    s.into_bytes()
}

/// What opening a folder found.
#[derive(Debug, Default)]
pub struct OpenReport {
    /// Jobs already finished (all rows in both files).
    pub finished: HashSet<String>,
    /// Partial or orphan rows were dropped.
    pub repaired: bool,
}

/// An output folder open for appending.
pub struct Store {
    pub dir: PathBuf,
    csv: File,
    jsonl: File,
    /// Held while the store lives: a second process on the same folder would rewrite files
    /// under the first one's appends.
    _lock: File,
}

impl Store {
    /// Opens (or starts) the folder of `sweep` (restricted to `shard`): refuses a folder of another
    /// config or shard, drops partial rows, and reports the finished jobs.
    pub fn open(dir: &Path, sweep: &Sweep, shard: Option<Shard>) -> Result<(Store, OpenReport), SweepError> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let lock_path = dir.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("opening {}", lock_path.display()))?;
        if lock.try_lock().is_err() {
            refuse!("{}: another gammaflow sweep is writing this folder", dir.display());
        }
        let meta_path = dir.join(META_FILE);
        if meta_path.exists() {
            let meta = SweepMeta::read(dir)?;
            if meta.config_hash != sweep.hash {
                refuse!(
                    "{} holds results of a different sweep (config hash {} from {}, {} jobs); {} now gives hash {} ({} jobs). \
                     Refusing to mix results: use a new --outdir, or delete {} to start over",
                    dir.display(),
                    meta.config_hash,
                    meta.config_file,
                    meta.num_jobs,
                    sweep.path.display(),
                    sweep.hash,
                    sweep.jobs.len(),
                    dir.display()
                );
            }
            if meta.shard != shard {
                let show =
                    |s: Option<Shard>| s.map_or("the whole sweep (no --shard)".to_string(), |s| format!("shard {s}"));
                refuse!(
                    "{} was started for {}, not {}: use the same --shard or another --outdir",
                    dir.display(),
                    show(meta.shard),
                    show(shard)
                );
            }
        } else {
            if dir.join(CSV_FILE).exists() || dir.join(JSONL_FILE).exists() {
                refuse!(
                    "{} has results but no {META_FILE}: not a folder this sweep started; use a new --outdir",
                    dir.display()
                );
            }
            write_atomic(&meta_path, (serde_json::to_string_pretty(&SweepMeta::new(sweep, shard))? + "\n").as_bytes())?;
        }

        let expected: HashMap<&str, Expected> = sweep
            .jobs
            .iter()
            .filter(|j| shard.is_none_or(|s| s.contains(j.index)))
            .map(|j| {
                let layers = Some(row_layers(j).into_iter().collect());
                (j.id.as_str(), Expected { index: j.index, rows: j.layers.len(), layers })
            })
            .collect();
        let found = read_folder(dir, &expected)?;
        let (csv_path, jsonl_path) = (dir.join(CSV_FILE), dir.join(JSONL_FILE));
        if found.damaged || !csv_path.exists() || !jsonl_path.exists() {
            write_atomic(&csv_path, &file_bytes(Some(csv_header()), &found.csv))?;
            write_atomic(&jsonl_path, &file_bytes(None, &found.jsonl))?;
        }
        let open = |p: &Path| {
            OpenOptions::new().append(true).create(true).open(p).with_context(|| format!("opening {}", p.display()))
        };
        let store = Store { dir: dir.to_path_buf(), csv: open(&csv_path)?, jsonl: open(&jsonl_path)?, _lock: lock };
        Ok((store, OpenReport { finished: found.finished, repaired: found.damaged }))
    }

    /// Appends one finished job's rows to both files and forces them to disk. Each file gets one
    /// write, so an interruption leaves at most a partial last line, which resume drops.
    pub fn append(&mut self, rows: &[Row]) -> Result<(), SweepError> {
        let mut csv = Vec::new();
        let mut jsonl = Vec::new();
        for r in rows {
            csv.extend(csv_line(&r.csv_fields()));
            serde_json::to_writer(&mut jsonl, r)?;
            jsonl.push(b'\n');
        }
        let (csv_path, jsonl_path) = (self.dir.join(CSV_FILE), self.dir.join(JSONL_FILE));
        let ctx = |p: &Path| format!("appending to {} (finished jobs so far are kept; rerun to resume)", p.display());
        self.csv.write_all(&csv).with_context(|| ctx(&csv_path))?;
        self.jsonl.write_all(&jsonl).with_context(|| ctx(&jsonl_path))?;
        self.csv.sync_data().with_context(|| ctx(&csv_path))?;
        self.jsonl.sync_data().with_context(|| ctx(&jsonl_path))?;
        Ok(())
    }
}

/// Result of a merge.
#[derive(Debug)]
pub struct MergeSummary {
    pub jobs: usize,
    pub rows: usize,
}

/// Combines shard folders of one sweep into `out`: checks that they come from the same config and
/// together hold every job exactly once, then writes `results.csv` and `results.jsonl` with rows in
/// job order (and layer order within a job), and a `sweep.json` without shard.
pub fn merge(out: &Path, inputs: &[PathBuf]) -> Result<MergeSummary, SweepError> {
    if inputs.is_empty() {
        refuse!("merge: give at least one shard folder");
    }
    let metas: Vec<SweepMeta> = inputs.iter().map(|d| SweepMeta::read(d)).collect::<Result<_, SweepError>>()?;
    for (d, m) in inputs.iter().zip(&metas).skip(1) {
        if m.config_hash != metas[0].config_hash {
            refuse!(
                "{} (config hash {}) and {} (config hash {}) come from different sweep configs: refusing to merge",
                inputs[0].display(),
                metas[0].config_hash,
                d.display(),
                m.config_hash
            );
        }
    }
    let canon = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if inputs.iter().any(|d| canon(d) == canon(out)) {
        refuse!("merge: --out {} is one of the inputs; write the merged results to a new folder", out.display());
    }
    let meta = &metas[0];
    let expected = meta.expected();
    let mut owner: HashMap<String, usize> = HashMap::new();
    let mut csv_rows = Vec::new();
    let mut jsonl_rows = Vec::new();
    for (k, d) in inputs.iter().enumerate() {
        let f = read_folder(d, &expected)?;
        for id in &f.finished {
            if let Some(prev) = owner.insert(id.clone(), k) {
                let idx = expected[id.as_str()].index;
                refuse!(
                    "job #{idx} ({id}) is finished in both {} and {}: a folder was given twice or two shards overlap",
                    inputs[prev].display(),
                    d.display()
                );
            }
        }
        csv_rows.extend(f.csv);
        jsonl_rows.extend(f.jsonl);
    }
    let missing: Vec<(usize, &str)> = meta
        .jobs
        .iter()
        .enumerate()
        .filter(|(_, j)| !owner.contains_key(&j.id))
        .map(|(i, j)| (i, j.id.as_str()))
        .collect();
    if !missing.is_empty() {
        let mut msg = format!("{} of {} jobs are not finished in any input folder", missing.len(), meta.num_jobs);
        // Say which shards to rerun (they resume) or which are not among the inputs at all.
        let counts: BTreeSet<usize> = metas.iter().filter_map(|m| m.shard.map(|s| s.count)).collect();
        if let Some(&n) = counts.iter().next().filter(|_| counts.len() == 1) {
            let mut per: std::collections::BTreeMap<usize, usize> = Default::default();
            for (i, _) in &missing {
                *per.entry(i % n + 1).or_default() += 1;
            }
            for (s, c) in per {
                let given = metas.iter().zip(inputs).find(|(m, _)| m.shard == Some(Shard { index: s, count: n }));
                match given {
                    Some((_, d)) => {
                        msg += &format!(
                            "\n  shard {s}/{n} ({}): {c} job(s) unfinished; rerun that shard (it resumes)",
                            d.display()
                        )
                    }
                    None => msg += &format!("\n  shard {s}/{n}: {c} job(s), no folder given for this shard"),
                }
            }
        }
        for (i, id) in missing.iter().take(5) {
            msg += &format!("\n  e.g. job #{i} ({id})");
        }
        refuse!("{msg}");
    }
    let order = |rows: &mut Vec<RawRow>| rows.sort_by_key(|r| (r.job, r.layer));
    order(&mut csv_rows);
    order(&mut jsonl_rows);
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    if out.join(META_FILE).exists() {
        let old = SweepMeta::read(out)?;
        if old.config_hash != meta.config_hash {
            refuse!(
                "{} already holds another sweep (config hash {}); choose a new --out",
                out.display(),
                old.config_hash
            );
        }
    }
    let merged = SweepMeta { shard: None, ..meta.clone() };
    write_atomic(&out.join(CSV_FILE), &file_bytes(Some(csv_header()), &csv_rows))?;
    write_atomic(&out.join(JSONL_FILE), &file_bytes(None, &jsonl_rows))?;
    write_atomic(&out.join(META_FILE), (serde_json::to_string_pretty(&merged)? + "\n").as_bytes())?;
    Ok(MergeSummary { jobs: meta.num_jobs, rows: csv_rows.len() })
}

/// Complete rows of `results.jsonl` in a folder (a partial last line is ignored), parsed.
pub fn read_rows(dir: &Path) -> Result<Vec<Row>, SweepError> {
    let path = dir.join(JSONL_FILE);
    let f = scan(&path, Kind::Jsonl)?;
    if !path.exists() {
        refuse!("{}: no {JSONL_FILE} (run `gammaflow sweep` or `gammaflow merge` first)", dir.display());
    }
    if f.damaged {
        // Said, not silent: a report of a folder with damaged lines covers the whole rows only.
        log::warn!(
            "{}: lines that are not whole rows (a cut write or an edit) were left out; `gammaflow sweep` on \
             this folder reruns their jobs",
            path.display()
        );
    }
    f.rows
        .iter()
        .map(|r| {
            serde_json::from_str(&r.line)
                .with_context(|| format!("{}: row of job {} layer {}", path.display(), r.job_id, r.layer))
                .map_err(SweepError::from)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_spec() {
        let s = Shard::parse("2/4").unwrap();
        assert_eq!((s.index, s.count, s.dir_name()), (2, 4, "shard-2-of-4".to_string()));
        assert!(s.contains(1) && s.contains(5) && !s.contains(0) && !s.contains(2));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", "1/2/3", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert!(Shard::parse("0/4").unwrap_err().to_string().contains("1-based"));
    }

    #[test]
    fn columns_match_row_fields() {
        let row = Row {
            job: 0,
            job_id: "x".into(),
            layer: 1,
            model: "m".into(),
            stride: "2x1".into(),
            same_as_layer: None,
            accelerator: "a,b".into(),
            num_pe: 1,
            l1_size: -1,
            l2_size: -1,
            noc_bw: -1,
            offchip_bw: -1,
            fitness1: "latency".into(),
            fitness2: "none".into(),
            num_pop: 2,
            epochs: 1,
            seed: 0,
            mapping_constraint: "nvdla".into(),
            flex_class: Some(5),
            accel_constraint: "none".into(),
            area_budget_mm2: Some(0.5),
            status: "ok".into(),
            best_fitness1: Some(1.5),
            best_fitness2: None,
            runtime_cycles: Some(3),
            energy_nj: Some(0.25),
            power: None,
            area_um2: None,
            throughput: None,
            num_macs: None,
            l1_size_req: None,
            l2_size_req: None,
            design_num_pe: Some(1),
            evaluations: 9,
            mapping: Some(serde_json::json!([["K", 1]])),
            mapping_text: Some("K: C1".into()),
        };
        let v: serde_json::Value = serde_json::to_value(&row).unwrap();
        let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, COLUMNS.iter().copied().collect());
        let json = serde_json::to_string(&row).unwrap();
        let pos: Vec<usize> = COLUMNS.iter().map(|c| json.find(&format!("\"{c}\":")).unwrap()).collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "JSON keys follow the CSV columns");
        assert_eq!(row.csv_fields().len(), COLUMNS.len());
        let line = String::from_utf8(csv_line(&row.csv_fields())).unwrap();
        let k = parse_key(Kind::Csv, line.trim_end()).unwrap();
        assert_eq!((k.job, k.job_id.as_str(), k.layer), (0, "x", 1));
        let back: Row = serde_json::from_str(&json).unwrap();
        assert_eq!(back, row);
    }
}
