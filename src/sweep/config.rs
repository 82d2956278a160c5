//! The sweep file: TOML, every key known (an unknown key is an error, so a typo cannot silently
//! drop an axis), validated completely before any job runs.
//!
//! ```toml
//! models = ["toy", "resnet18"]            # built-in names or CSV paths (relative to this file)
//! layers = [1, 2, 3]                      # optional, 1-based; default: every layer
//! split_layers = false                    # true: one job per layer instead of one per model
//! objectives = [["latency", "energy"], ["energy", "none"]]
//! num_pop = [20, 50]
//! epochs = [10]
//! seeds = [1, 2]
//! slevel_max = 2                          # scalar search options apply to every job
//!
//! [[accelerators]]
//! name = "edge"
//! num_pe = 168
//! l1_size = 512
//! l2_size = 108000
//!
//! [[accelerators]]
//! name = "cloud"
//! hwconfig = "../data/hw/cloud.toml"     # GAMMA text or TOML; keys given here override it
//! ```
//!
//! Constraints and co-exploration (all optional):
//!
//! ```toml
//! mapping_constraints = ["none", "nvdla", "my_map.toml"]  # built-in maps or files; default none
//! flex_classes = [0, 5, 15]               # 0-15, per constraint; "none" gives one job, not one per class
//! accel_constraints = ["none", "fifo.toml"]  # accelerator-constraint files; default none
//! co_explore = true                       # search the PE count too (the accelerator's num_pe is the limit)
//! area_budgets_mm2 = [0.5, 20]            # hard area budgets; default none
//! area_model = "gamma"                    # gamma, maestro, or a TOML table file
//! energy_model = "tech.toml"              # maestro (the default) or an energy table file
//! pe_rate = 0.5                           # PE-count mutation rate when co-exploring
//! pe_draw = "upper-half"                  # co-exploration PE move: upper-half (default), joint, uniform
//! f1_tolerance = 1e-4                     # slack on the first objective for the second (default: the strategy's)
//! ```
//!
//! Every constraint is checked against every layer of every job it applies to before anything
//! runs, as `gammaflow search` does; an impossible rule is reported at its `mapping_constraints`
//! (or `accel_constraints`) entry.
//!
//! The job list is the product models × (layer groups) × accelerators × (mapping constraints ×
//! flexibility classes × accelerator constraints) × area budgets × objectives × num_pop × epochs ×
//! seeds, in that nesting order (seeds vary fastest). Omitted axes take `gammaflow
//! search`'s defaults (objectives latency/power, population 100, 100 epochs, seed 0).
//!
//! Instead of axes, an explicit list: `[[job]]` tables with `model`, `accelerator` (a name from
//! `[[accelerators]]`), and optional `layers`, `objectives` (one pair), `num_pop`, `epochs`,
//! `seed`, `mapping_constraint`, `flex_class`, `accel_constraint`, `area_budget_mm2`. The two
//! forms cannot be mixed.
//!
//! Adding an axis: a field in `RawSweep` (and `RawJob`), its validation in `expand`, and
//! whatever it sets in the job's [`SearchConfig`]; the job id then covers it automatically,
//! except for `SpaceOptions::constraint`, which is not serialised: [`ConstraintSpec::key`] carries
//! its identity into the id and the batching key.

use crate::energy::EnergyModel;
use crate::hardware::AreaModel;
use crate::hardware::{load_hwconfig, Hardware};
use crate::schema::Named;
use crate::search::constraint::{parse_accel, BUILTINS};
use crate::search::{MapConstraint, Objective, Rates, SearchConfig, SpaceOptions};
use crate::workload::builtin::{builtin_model, resolve_model};
use crate::workload::{Layer, Model};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// A sweep file error: the file, the line when known, the field, what is wrong. Same shape as the
/// model and hardware file errors.
#[derive(thiserror::Error, Debug)]
#[error("{file}{}, field {field}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub field: String,
    pub message: String,
}

type Axis<T> = Option<Spanned<Vec<Spanned<T>>>>;

/// The file as written. Every value that can be wrong after parsing keeps its span, so semantic
/// errors (unknown model, zero PEs) point at a line too.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    models: Axis<String>,
    layers: Axis<i64>,
    split_layers: Option<Spanned<bool>>,
    accelerators: Option<Spanned<Vec<RawAccel>>>,
    objectives: Axis<Vec<Spanned<String>>>,
    num_pop: Axis<i64>,
    epochs: Axis<i64>,
    seeds: Axis<i64>,
    slevel_min: Option<Spanned<i64>>,
    slevel_max: Option<Spanned<i64>>,
    par_rs: Option<bool>,
    factor_tiles: Option<bool>,
    gamma_compat: Option<bool>,
    free_rs: Option<bool>,
    fixed_cluster: Option<Spanned<i64>>,
    divisor_bias: Option<Spanned<f64>>,
    mapping_constraints: Axis<String>,
    flex_classes: Axis<i64>,
    accel_constraints: Axis<String>,
    co_explore: Option<bool>,
    area_budgets_mm2: Axis<f64>,
    area_model: Option<Spanned<String>>,
    energy_model: Option<Spanned<String>>,
    pe_rate: Option<Spanned<f64>>,
    f1_tolerance: Option<Spanned<f64>>,
    pe_draw: Option<Spanned<String>>,
    job: Option<Spanned<Vec<RawJob>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccel {
    name: Spanned<String>,
    hwconfig: Option<Spanned<String>>,
    num_pe: Option<Spanned<i64>>,
    l1_size: Option<Spanned<i64>>,
    l2_size: Option<Spanned<i64>>,
    noc_bw: Option<Spanned<i64>>,
    offchip_bw: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    model: Spanned<String>,
    layers: Axis<i64>,
    accelerator: Spanned<String>,
    objectives: Option<Spanned<Vec<Spanned<String>>>>,
    num_pop: Option<Spanned<i64>>,
    epochs: Option<Spanned<i64>>,
    seed: Option<Spanned<i64>>,
    mapping_constraint: Option<Spanned<String>>,
    flex_class: Option<Spanned<i64>>,
    accel_constraint: Option<Spanned<String>>,
    area_budget_mm2: Option<Spanned<f64>>,
}

/// A named accelerator of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Accelerator {
    pub name: String,
    pub hw: Hardware,
}

/// One search: some layers of one model on one accelerator with one configuration.
#[derive(Debug, Clone)]
pub struct Job {
    /// Position in the sweep's job list (0-based); sharding and row order use it.
    pub index: usize,
    /// Stable hash (16 hex digits) of everything that decides the job's result.
    pub id: String,
    pub model: Arc<Model>,
    /// 0-based layer indices into `model.layers`, ascending.
    pub layers: Vec<usize>,
    pub accelerator: Arc<Accelerator>,
    /// The search configuration; `cfg.space.constraint` is the resolved constraint of `cstr`.
    pub cfg: SearchConfig,
    /// The mapping / accelerator constraint as written in the sweep file.
    pub cstr: ConstraintSpec,
    /// The area budget as written (mm^2); `cfg.area_budget_um2` holds it in um^2.
    pub area_budget_mm2: Option<f64>,
}

/// A job's constraints as written in the sweep file, and their identity. `SpaceOptions` does not
/// serialise its constraint, so the identity (`key`: names, class, and the rules' file text) is
/// added to the job id and to the batching key explicitly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConstraintSpec {
    /// The `mapping_constraints` entry (a built-in name, lower case, or a path as written); None
    /// for "none".
    pub mapping: Option<String>,
    /// Flexibility class of `mapping` (None without a mapping constraint).
    pub flex_class: Option<u8>,
    /// The `accel_constraints` entry (a path as written); None for "none".
    pub accel: Option<String>,
    /// Canonical JSON of everything above plus the rules' text; empty without any constraint.
    pub key: String,
}

impl Job {
    /// Jobs with equal keys can share one `search()` call: the serialised configuration plus the
    /// constraint's identity (which the serialised configuration leaves out).
    pub fn group_key(&self) -> String {
        let cfg = serde_json::to_string(&self.cfg).expect("a search config serialises");
        format!("{cfg}\u{1f}{}", self.cstr.key)
    }
}

impl Job {
    /// The tasks `search_dedup` would get for this job: the layer's model index is the task index,
    /// as in `gammaflow search`, so the per-layer random streams are the same.
    pub fn tasks(&self) -> Vec<(usize, crate::workload::Layer, Hardware)> {
        self.layers.iter().map(|&i| (i, self.model.layers[i], self.accelerator.hw)).collect()
    }
}

/// A validated sweep: its job list and the hash that identifies it.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub path: PathBuf,
    /// The file's text, kept in `sweep.json` for reference.
    pub text: String,
    pub jobs: Vec<Job>,
    /// Hash of the ordered job ids: two configs with the same hash run the same jobs in the same
    /// order, however they are written (comments, key order, axis spelled as a `[[job]]` list).
    pub hash: String,
}

/// Reads and validates a sweep file. Relative model and hwconfig paths are taken relative to the
/// file's folder, so a sweep file works from any working directory.
pub fn load_sweep(path: &Path) -> Result<Sweep, super::SweepError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::error::Failed::msg(format!("{}: cannot read sweep config: {e}", path.display())))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let jobs = parse_sweep(&text, &path.display().to_string(), &base)?;
    let hash = sweep_hash(&jobs);
    Ok(Sweep { path: path.to_path_buf(), text, jobs, hash })
}

/// Hash of a job list (see [`Sweep::hash`]).
pub fn sweep_hash(jobs: &[Job]) -> String {
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    super::stable_hex(ids.join("\n").as_bytes())
}

/// The key written on the line holding `offset` (`key = value`), or the table of a `[table]` /
/// `[[table]]` header line: toml's type errors point at the value, and a missing key at the
/// table's header, and the message alone does not say which key or table is meant.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let start = text.as_bytes()[..offset.min(text.len())].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?.trim();
    let key = match line.split_once('=') {
        Some((k, _)) => k,
        None if line.starts_with('[') => line.trim_matches(|c| c == '[' || c == ']'),
        None => return None,
    };
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .then(|| key.to_string())
}

/// A constraint named in the sweep file, loaded.
struct CstrSrc {
    /// As written (built-in names in lower case).
    written: String,
    /// What identifies it: the name or path and the rules' text.
    ident: serde_json::Value,
    c: MapConstraint,
    span: Range<usize>,
    field: String,
}

/// One combination of mapping constraint, flexibility class and accelerator constraint.
struct Variant {
    spec: ConstraintSpec,
    c: Option<Arc<MapConstraint>>,
    /// Where an impossible rule is reported.
    blame: Option<(Range<usize>, String)>,
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    base: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, span: Option<Range<usize>>, field: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line: span.map(|s| crate::schema::line_of(self.text, s.start)),
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// A path from the file, relative to the file's folder.
    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    fn model(
        &self,
        name: &Spanned<String>,
        cache: &mut HashMap<String, Arc<Model>>,
        field: &str,
    ) -> Result<Arc<Model>, ConfigError> {
        if let Some(m) = cache.get(name.get_ref()) {
            return Ok(m.clone());
        }
        let arg = name.get_ref();
        // Built-in names first, exactly as `--model` resolves them; then a file path relative to
        // the sweep file. A bare word that is neither stays as written, so the error says
        // "unknown model" and lists the built-in names.
        let joined = self.path(arg);
        let looks_like_path =
            arg.contains(['/', '\\']) || Path::new(arg).extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let resolved = if builtin_model(arg).is_none() && (looks_like_path || joined.is_file()) {
            resolve_model(&joined.display().to_string())
        } else {
            resolve_model(arg)
        };
        let m = Arc::new(resolved.map_err(|e| self.err(Some(name.span()), field, e.to_string()))?);
        cache.insert(arg.clone(), m.clone());
        Ok(m)
    }

    fn accelerator(&self, a: &RawAccel, i: usize) -> Result<Accelerator, ConfigError> {
        let field = |k: &str| format!("accelerators[{i}].{k}");
        let name = a.name.get_ref().trim();
        if name.is_empty() {
            return Err(self.err(Some(a.name.span()), &field("name"), "an accelerator needs a non-empty name"));
        }
        // Result rows are line-based: a line break inside a name would split a row on resume.
        if name.chars().any(char::is_control) {
            return Err(self.err(Some(a.name.span()), &field("name"), "control characters are not allowed in names"));
        }
        let mut hw = match &a.hwconfig {
            Some(p) => load_hwconfig(&self.path(p.get_ref()))
                .map_err(|e| self.err(Some(p.span()), &field("hwconfig"), e.to_string()))?,
            None => Hardware::default(),
        };
        type Slot = fn(&mut Hardware) -> &mut i64;
        let keys: [(&str, &Option<Spanned<i64>>, Slot); 5] = [
            ("num_pe", &a.num_pe, |h| &mut h.num_pe),
            ("l1_size", &a.l1_size, |h| &mut h.l1_size),
            ("l2_size", &a.l2_size, |h| &mut h.l2_size),
            ("noc_bw", &a.noc_bw, |h| &mut h.noc_bw),
            ("offchip_bw", &a.offchip_bw, |h| &mut h.offchip_bw),
        ];
        for (k, v, slot) in keys {
            if let Some(v) = v {
                // Checked one key at a time (on an otherwise default accelerator) so the error
                // points at the line of the bad value.
                let mut probe = Hardware::default();
                *slot(&mut probe) = *v.get_ref();
                probe
                    .validate()
                    .map_err(|m| self.err(Some(v.span()), &field(k), format!("accelerator {name:?}: {m}")))?;
                *slot(&mut hw) = *v.get_ref();
            }
        }
        hw.validate().map_err(|m| {
            self.err(Some(a.name.span()), &format!("accelerators[{i}]"), format!("accelerator {name:?}: {m}"))
        })?;
        Ok(Accelerator { name: name.to_string(), hw })
    }

    /// A `mapping_constraints` entry: "none", a built-in map, or a TOML file (relative to the
    /// sweep file).
    fn map_constraint(&self, s: &Spanned<String>, field: &str) -> Result<Option<CstrSrc>, ConfigError> {
        let w = s.get_ref().trim();
        let lower = w.to_ascii_lowercase();
        if lower == "none" {
            return Ok(None);
        }
        let err = |m: String| self.err(Some(s.span()), field, m);
        if let Some(text) = crate::search::constraint::builtin_text(&lower) {
            let c = MapConstraint::parse(text, &format!("{lower}.toml")).map_err(|e| err(e.to_string()))?;
            let ident = json!({ "builtin": lower, "text": text });
            return Ok(Some(CstrSrc { written: lower, ident, c, span: s.span(), field: field.to_string() }));
        }
        let path = self.path(w);
        let looks_like_path = w.contains(['/', '\\']) || w.to_ascii_lowercase().ends_with(".toml");
        if !looks_like_path && !path.is_file() {
            return Err(err(format!(
                "unknown mapping constraint {w:?} (built-in: none, {}; or a TOML file path)",
                BUILTINS.join(", ")
            )));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| err(format!("cannot read mapping constraint file {}: {e}", path.display())))?;
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| w.to_string());
        let c = MapConstraint::parse(&text, &file).map_err(|e| err(e.to_string()))?;
        let ident = json!({ "file": w, "text": text });
        Ok(Some(CstrSrc { written: w.to_string(), ident, c, span: s.span(), field: field.to_string() }))
    }

    /// An `accel_constraints` entry: "none" or a TOML file (relative to the sweep file).
    fn accel_constraint(&self, s: &Spanned<String>, field: &str) -> Result<Option<CstrSrc>, ConfigError> {
        let w = s.get_ref().trim();
        if w.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        let err = |m: String| self.err(Some(s.span()), field, m);
        let path = self.path(w);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| err(format!("cannot read accelerator constraint file {}: {e}", path.display())))?;
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| w.to_string());
        let c = parse_accel(&text, &file).map_err(|e| err(e.to_string()))?;
        let ident = json!({ "file": w, "text": text });
        Ok(Some(CstrSrc { written: w.to_string(), ident, c, span: s.span(), field: field.to_string() }))
    }

    /// The constraint of a job, combined exactly as `gammaflow search --mapping-cstr M
    /// --flex-class K --accel-cstr A` combines it.
    fn variant(
        &self,
        map: Option<&CstrSrc>,
        class: Option<u8>,
        accel: Option<&CstrSrc>,
    ) -> Result<Variant, ConfigError> {
        let relaxed = match (map, class) {
            (Some(m), Some(k)) => {
                Some(m.c.with_class(k).map_err(|e| self.err(Some(m.span.clone()), &m.field, e.to_string()))?)
            }
            (Some(m), None) => Some(m.c.clone()),
            (None, _) => None,
        };
        let c = match (relaxed, accel) {
            (c, None) => c,
            (None, Some(a)) => Some(a.c.clone()),
            (Some(c), Some(a)) => {
                Some(c.with_accel(&a.c).map_err(|e| self.err(Some(a.span.clone()), &a.field, e.to_string()))?)
            }
        };
        let class = map.map(|_| class.unwrap_or(0));
        let key = if map.is_none() && accel.is_none() {
            String::new()
        } else {
            json!({
                "mapping": map.map(|m| &m.ident),
                "flex_class": class,
                "accel": accel.map(|a| &a.ident),
            })
            .to_string()
        };
        let spec = ConstraintSpec {
            mapping: map.map(|m| m.written.clone()),
            flex_class: class,
            accel: accel.map(|a| a.written.clone()),
            key,
        };
        // Layer checks blame the mapping constraint's entry, or the accelerator constraint's.
        let blame = map.or(accel).map(|s| (s.span.clone(), s.field.clone()));
        Ok(Variant { spec, c: c.map(Arc::new), blame })
    }

    /// Every rule of a job's constraint must be possible on every layer of the job (the check
    /// `gammaflow search` makes before it starts).
    fn check_layers(
        &self,
        v: &Variant,
        model: &Model,
        layers: &[usize],
        acc: &Accelerator,
        space: &SpaceOptions,
        checked: &mut std::collections::HashSet<(String, String, Layer)>,
    ) -> Result<(), ConfigError> {
        let (Some(c), Some((span, field))) = (&v.c, &v.blame) else { return Ok(()) };
        for &l in layers {
            let layer = model.layers[l];
            // The check depends on the constraint, the PEs and the layer's shape (the space options
            // are the same for every job of a sweep).
            if !checked.insert((v.spec.key.clone(), acc.name.clone(), layer)) {
                continue;
            }
            c.check_layer(&layer, acc.hw.num_pe, space).map_err(|e| {
                let class = v.spec.flex_class.map(|k| format!(", flexibility class {k}")).unwrap_or_default();
                self.err(
                    Some(span.clone()),
                    field,
                    format!("{e} (model {} layer {}, accelerator {}{class})", model.name, l + 1, acc.name),
                )
            })?;
        }
        Ok(())
    }

    /// A non-empty list axis; `default` when the key is absent.
    fn axis<T: Clone>(&self, axis: &Axis<T>, field: &str, default: Option<T>) -> Result<Vec<Spanned<T>>, ConfigError> {
        match axis {
            Some(a) if a.get_ref().is_empty() => {
                Err(self.err(Some(a.span()), field, "the list is empty: give at least one value or remove the key"))
            }
            Some(a) => Ok(a.get_ref().clone()),
            None => match default {
                Some(d) => Ok(vec![Spanned::new(0..0, d)]),
                None => Err(self.err(None, field, "missing: the sweep needs this key")),
            },
        }
    }

    fn int_in(&self, v: &Spanned<i64>, field: &str, lo: i64, hi: i64) -> Result<i64, ConfigError> {
        let x = *v.get_ref();
        if !(lo..=hi).contains(&x) {
            return Err(self.err(Some(v.span()), field, format!("{x} is out of range (allowed {lo}..={hi})")));
        }
        Ok(x)
    }

    fn objectives(
        &self,
        pair: &Spanned<Vec<Spanned<String>>>,
        field: &str,
    ) -> Result<(Objective, Option<Objective>), ConfigError> {
        let names = pair.get_ref();
        if names.len() != 2 {
            return Err(self.err(
                Some(pair.span()),
                field,
                format!("expected a pair [fitness1, fitness2], got {} value(s)", names.len()),
            ));
        }
        let parse = |s: &Spanned<String>, allow_none: bool| -> Result<Option<Objective>, ConfigError> {
            let n = s.get_ref().trim().to_ascii_lowercase();
            if allow_none && n == "none" {
                return Ok(None);
            }
            <Objective as Named>::from_name(&n).map(Some).ok_or_else(|| {
                let known = Objective::names().join(", ");
                let extra = if allow_none { " or none" } else { "" };
                self.err(
                    Some(s.span()),
                    field,
                    format!("unknown objective {:?} (expected {known}{extra})", s.get_ref()),
                )
            })
        };
        let f1 = parse(&names[0], false)?.expect("fitness1 cannot be none");
        Ok((f1, parse(&names[1], true)?))
    }

    /// Layer selections (0-based) of a model: every layer, or the listed ones.
    fn layers(
        &self,
        model: &Model,
        layers: &Option<Vec<Spanned<i64>>>,
        field: &str,
    ) -> Result<Vec<usize>, ConfigError> {
        let n = model.layers.len();
        let Some(list) = layers else { return Ok((0..n).collect()) };
        let mut out = Vec::with_capacity(list.len());
        for l in list {
            let v = *l.get_ref();
            if v < 1 || v as usize > n {
                return Err(self.err(
                    Some(l.span()),
                    field,
                    format!("layer {v} does not exist in model {} (layers 1..={n})", model.name),
                ));
            }
            if out.contains(&(v as usize - 1)) {
                return Err(self.err(Some(l.span()), field, format!("layer {v} is listed twice")));
            }
            out.push(v as usize - 1);
        }
        out.sort_unstable();
        Ok(out)
    }
}

/// Job id: a hash of the job's canonical JSON (model name and the shapes of its layers, so editing
/// a model CSV changes the id; the accelerator; the whole search configuration).
///
/// The constraint is not part of the serialised configuration, so its identity is added here;
/// only when there is one, so that the ids of unconstrained jobs stay what they were.
fn job_id(model: &Model, layers: &[usize], acc: &Accelerator, cfg: &SearchConfig, cstr: &ConstraintSpec) -> String {
    let mut doc = json!({
        "model": model.name,
        "layers": layers.iter().map(|&i| json!([i + 1, model.layers[i]])).collect::<Vec<_>>(),
        "accelerator": { "name": acc.name, "hw": acc.hw },
        "search": cfg,
    });
    if !cstr.key.is_empty() {
        doc["constraint"] = serde_json::Value::String(cstr.key.clone());
    }
    super::stable_hex(doc.to_string().as_bytes())
}

/// Parses and validates a sweep file's text into its job list. `file` names the file in errors;
/// relative paths are resolved against `base`.
pub fn parse_sweep(text: &str, file: &str, base: &Path) -> Result<Vec<Job>, ConfigError> {
    let cx = Ctx { text, file, base };
    let raw: RawSweep = toml::from_str(text).map_err(|e| {
        let span = e.span();
        let field = span.as_ref().and_then(|s| key_on_line(text, s.start)).unwrap_or_else(|| "-".to_string());
        cx.err(span, &field, crate::schema::suggest_in_serde_message(e.message().trim()))
    })?;
    expand(&cx, raw)
}

fn expand(cx: &Ctx, raw: RawSweep) -> Result<Vec<Job>, ConfigError> {
    // Options shared by every job (validated first: they are simplest to fix).
    let mut space = SpaceOptions::default();
    if let Some(v) = &raw.slevel_min {
        space.slevel_min = cx.int_in(v, "slevel_min", 1, 4)? as usize;
    }
    if let Some(v) = &raw.slevel_max {
        space.slevel_max = cx.int_in(v, "slevel_max", 1, 4)? as usize;
    }
    if space.slevel_min > space.slevel_max {
        let span = raw.slevel_max.as_ref().or(raw.slevel_min.as_ref()).map(|s| s.span());
        return Err(cx.err(
            span,
            "slevel_max",
            format!("slevel_min {} exceeds slevel_max {}", space.slevel_min, space.slevel_max),
        ));
    }
    space.par_rs = raw.par_rs.unwrap_or(false);
    space.factor_tiles = raw.factor_tiles.unwrap_or(false);
    space.gamma_compat = raw.gamma_compat.unwrap_or(false);
    space.rs_full = !raw.free_rs.unwrap_or(false);
    if let Some(v) = &raw.fixed_cluster {
        space.fixed_cluster = Some(cx.int_in(v, "fixed_cluster", 1, crate::hardware::MAX_NUM_PE)?);
    }
    if let Some(v) = &raw.divisor_bias {
        let b = *v.get_ref();
        if !(0.0..=1.0).contains(&b) {
            return Err(cx.err(Some(v.span()), "divisor_bias", format!("{b} is outside [0, 1]")));
        }
        space.divisor_bias = b;
    }
    space.co_explore = raw.co_explore.unwrap_or(false);
    if let Some(v) = &raw.pe_draw {
        let d = <crate::search::PeDraw as Named>::from_name(v.get_ref()).ok_or_else(|| {
            cx.err(
                Some(v.span()),
                "pe_draw",
                format!("unknown PE draw {:?} (expected joint, upper-half or uniform)", v.get_ref()),
            )
        })?;
        space.pe_draw = Some(d);
    }
    let mut base_cfg =
        SearchConfig { space, rates: Rates::default(), max_evals: None, max_time: None, ..SearchConfig::default() };
    if let Some(m) = &raw.area_model {
        let spec = m.get_ref().trim();
        let arg = match spec.to_ascii_lowercase().as_str() {
            "gamma" | "maestro" => spec.to_string(),
            _ => cx.path(spec).display().to_string(),
        };
        base_cfg.area_model =
            AreaModel::resolve(&arg).map_err(|e| cx.err(Some(m.span()), "area_model", e.to_string()))?;
    }
    if let Some(m) = &raw.energy_model {
        let spec = m.get_ref().trim();
        let arg =
            if spec.eq_ignore_ascii_case("maestro") { spec.to_string() } else { cx.path(spec).display().to_string() };
        // Part of every job's configuration, so of its id, only when it is not MAESTRO's table.
        base_cfg.energy_model =
            EnergyModel::resolve(&arg).map_err(|e| cx.err(Some(m.span()), "energy_model", e.to_string()))?;
    }
    if let Some(v) = &raw.pe_rate {
        let r = *v.get_ref();
        if !(0.0..=1.0).contains(&r) {
            return Err(cx.err(Some(v.span()), "pe_rate", format!("{r} is outside [0, 1]")));
        }
        base_cfg.pe_rate = r;
    }
    if let Some(v) = &raw.f1_tolerance {
        let r = *v.get_ref();
        if !(0.0..=1.0).contains(&r) {
            return Err(cx.err(Some(v.span()), "f1_tolerance", format!("{r} is outside [0, 1]")));
        }
        base_cfg.f1_tolerance = Some(r);
    }
    let budget = |v: &Spanned<f64>, field: &str| -> Result<f64, ConfigError> {
        let b = *v.get_ref();
        if !(b.is_finite() && b > 0.0) {
            return Err(cx.err(Some(v.span()), field, format!("{b} is not a positive area in mm^2")));
        }
        Ok(b)
    };

    let accs_raw = raw
        .accelerators
        .as_ref()
        .ok_or_else(|| cx.err(None, "accelerators", "missing: add at least one [[accelerators]] table"))?;
    if accs_raw.get_ref().is_empty() {
        return Err(cx.err(Some(accs_raw.span()), "accelerators", "the list is empty"));
    }
    let mut accs: Vec<Arc<Accelerator>> = Vec::new();
    for (i, a) in accs_raw.get_ref().iter().enumerate() {
        let acc = cx.accelerator(a, i)?;
        if accs.iter().any(|b| b.name == acc.name) {
            return Err(cx.err(
                Some(a.name.span()),
                &format!("accelerators[{i}].name"),
                format!("accelerator name {:?} is used twice", acc.name),
            ));
        }
        accs.push(Arc::new(acc));
    }

    let mut models = HashMap::new();
    let mut jobs = Vec::new();
    let mut checked = std::collections::HashSet::new();
    let mut push = |model: &Arc<Model>,
                    layers: Vec<usize>,
                    acc: &Arc<Accelerator>,
                    cfg: SearchConfig,
                    cstr: ConstraintSpec,
                    area_budget_mm2: Option<f64>| {
        let id = job_id(model, &layers, acc, &cfg, &cstr);
        jobs.push(Job {
            index: jobs.len(),
            id,
            model: model.clone(),
            layers,
            accelerator: acc.clone(),
            cfg,
            cstr,
            area_budget_mm2,
        });
    };

    if let Some(list) = &raw.job {
        let axes = [
            ("models", raw.models.is_some()),
            ("layers", raw.layers.is_some()),
            ("split_layers", raw.split_layers.is_some()),
            ("objectives", raw.objectives.is_some()),
            ("num_pop", raw.num_pop.is_some()),
            ("epochs", raw.epochs.is_some()),
            ("seeds", raw.seeds.is_some()),
            ("mapping_constraints", raw.mapping_constraints.is_some()),
            ("flex_classes", raw.flex_classes.is_some()),
            ("accel_constraints", raw.accel_constraints.is_some()),
            ("area_budgets_mm2", raw.area_budgets_mm2.is_some()),
        ];
        if let Some((k, _)) = axes.iter().find(|(_, present)| *present) {
            return Err(cx.err(
                Some(list.span()),
                "job",
                format!("an explicit [[job]] list replaces the axes: remove `{k}` or the [[job]] tables"),
            ));
        }
        if list.get_ref().is_empty() {
            return Err(cx.err(Some(list.span()), "job", "the list is empty"));
        }
        for (i, j) in list.get_ref().iter().enumerate() {
            let f = |k: &str| format!("job[{i}].{k}");
            let model = cx.model(&j.model, &mut models, &f("model"))?;
            if let Some(l) = &j.layers {
                if l.get_ref().is_empty() {
                    return Err(cx.err(
                        Some(l.span()),
                        &f("layers"),
                        "the list is empty: give at least one layer or remove the key",
                    ));
                }
            }
            let layers = cx.layers(&model, &j.layers.as_ref().map(|l| l.get_ref().clone()), &f("layers"))?;
            let acc = accs.iter().find(|a| a.name == j.accelerator.get_ref().trim()).ok_or_else(|| {
                let known: Vec<&str> = accs.iter().map(|a| a.name.as_str()).collect();
                cx.err(
                    Some(j.accelerator.span()),
                    &f("accelerator"),
                    format!("no accelerator named {:?} (defined: {})", j.accelerator.get_ref(), known.join(", ")),
                )
            })?;
            let mut cfg = base_cfg.clone();
            if let Some(o) = &j.objectives {
                (cfg.fitness1, cfg.fitness2) = cx.objectives(o, &f("objectives"))?;
            }
            if let Some(v) = &j.num_pop {
                cfg.num_pop = cx.int_in(v, &f("num_pop"), 2, 1 << 24)? as usize;
            }
            if let Some(v) = &j.epochs {
                cfg.epochs = cx.int_in(v, &f("epochs"), 1, 1 << 24)? as usize;
            }
            if let Some(v) = &j.seed {
                cfg.seed = cx.int_in(v, &f("seed"), 0, i64::MAX)? as u64;
            }
            let map = match &j.mapping_constraint {
                Some(s) => cx.map_constraint(s, &f("mapping_constraint"))?,
                None => None,
            };
            let class = match &j.flex_class {
                Some(v) if map.is_none() => {
                    return Err(cx.err(
                        Some(v.span()),
                        &f("flex_class"),
                        "a flexibility class needs a mapping_constraint other than none",
                    ))
                }
                Some(v) => Some(cx.int_in(v, &f("flex_class"), 0, 15)? as u8),
                None => None,
            };
            let accel = match &j.accel_constraint {
                Some(s) => cx.accel_constraint(s, &f("accel_constraint"))?,
                None => None,
            };
            let v = cx.variant(map.as_ref(), class, accel.as_ref())?;
            cx.check_layers(&v, &model, &layers, acc, &cfg.space, &mut checked)?;
            cfg.space.constraint = v.c.clone();
            let b = j.area_budget_mm2.as_ref().map(|v| budget(v, &f("area_budget_mm2"))).transpose()?;
            cfg.area_budget_um2 = b.map(|mm2| mm2 * 1e6);
            push(&model, layers, acc, cfg, v.spec, b);
        }
    } else {
        let model_names = cx.axis(&raw.models, "models", None)?;
        let layer_list = match &raw.layers {
            Some(_) => Some(cx.axis(&raw.layers, "layers", None)?.into_iter().collect::<Vec<_>>()),
            None => None,
        };
        let split = raw.split_layers.as_ref().is_some_and(|s| *s.get_ref());
        let defaults = SearchConfig::default();
        let default_pair = vec![
            Spanned::new(0..0, defaults.fitness1.name().to_string()),
            Spanned::new(0..0, defaults.fitness2.map_or("none", |o| o.name()).to_string()),
        ];
        let mut pairs = Vec::new();
        for (i, p) in cx.axis(&raw.objectives, "objectives", Some(default_pair))?.iter().enumerate() {
            pairs.push(cx.objectives(p, &format!("objectives[{i}]"))?);
        }
        let pops = cx
            .axis(&raw.num_pop, "num_pop", Some(defaults.num_pop as i64))?
            .iter()
            .map(|v| cx.int_in(v, "num_pop", 2, 1 << 24))
            .collect::<Result<Vec<_>, _>>()?;
        let epochs = cx
            .axis(&raw.epochs, "epochs", Some(defaults.epochs as i64))?
            .iter()
            .map(|v| cx.int_in(v, "epochs", 1, 1 << 24))
            .collect::<Result<Vec<_>, _>>()?;
        let seeds = cx
            .axis(&raw.seeds, "seeds", Some(defaults.seed as i64))?
            .iter()
            .map(|v| cx.int_in(v, "seeds", 0, i64::MAX))
            .collect::<Result<Vec<_>, _>>()?;
        let maps = cx
            .axis(&raw.mapping_constraints, "mapping_constraints", Some("none".to_string()))?
            .iter()
            .enumerate()
            .map(|(i, s)| cx.map_constraint(s, &format!("mapping_constraints[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let classes = cx
            .axis(&raw.flex_classes, "flex_classes", Some(0))?
            .iter()
            .enumerate()
            .map(|(i, v)| cx.int_in(v, &format!("flex_classes[{i}]"), 0, 15).map(|k| k as u8))
            .collect::<Result<Vec<_>, _>>()?;
        // Classes relax a mapping constraint: with none to relax they would be dropped unseen
        // (as a [[job]]'s flex_class without a mapping_constraint is refused).
        if let (Some(a), true) = (&raw.flex_classes, maps.iter().all(|m| m.is_none())) {
            return Err(cx.err(
                Some(a.span()),
                "flex_classes",
                "flexibility classes relax a mapping constraint: give mapping_constraints other than \"none\", or remove the key",
            ));
        }
        let accels = cx
            .axis(&raw.accel_constraints, "accel_constraints", Some("none".to_string()))?
            .iter()
            .enumerate()
            .map(|(i, s)| cx.accel_constraint(s, &format!("accel_constraints[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let budgets: Vec<Option<f64>> = match &raw.area_budgets_mm2 {
            None => vec![None],
            Some(_) => cx
                .axis(&raw.area_budgets_mm2, "area_budgets_mm2", None)?
                .iter()
                .enumerate()
                .map(|(i, v)| budget(v, &format!("area_budgets_mm2[{i}]")).map(Some))
                .collect::<Result<Vec<_>, _>>()?,
        };
        // mapping constraint x flexibility class x accelerator constraint; "none" is one variant
        // whatever the classes.
        let mut variants = Vec::new();
        for m in &maps {
            let ks: Vec<Option<u8>> = match m {
                Some(_) => classes.iter().map(|&k| Some(k)).collect(),
                None => vec![None],
            };
            for k in ks {
                for a in &accels {
                    variants.push(cx.variant(m.as_ref(), k, a.as_ref())?);
                }
            }
        }
        // Resolve every model before expanding, so a bad model is reported before anything else
        // of the product is built.
        let mut resolved = Vec::new();
        for (i, m) in model_names.iter().enumerate() {
            let model = cx.model(m, &mut models, &format!("models[{i}]"))?;
            let layers = cx.layers(&model, &layer_list, "layers")?;
            resolved.push((model, layers));
        }
        // Every constraint is checked against every layer it will meet before any job is built.
        for (model, layers) in &resolved {
            for acc in &accs {
                for v in &variants {
                    cx.check_layers(v, model, layers, acc, &base_cfg.space, &mut checked)?;
                }
            }
        }
        for (model, layers) in &resolved {
            let groups: Vec<Vec<usize>> =
                if split { layers.iter().map(|&l| vec![l]).collect() } else { vec![layers.clone()] };
            for layers in groups {
                for acc in &accs {
                    for v in &variants {
                        for &b in &budgets {
                            for &(f1, f2) in &pairs {
                                for &p in &pops {
                                    for &e in &epochs {
                                        for &s in &seeds {
                                            let mut cfg = SearchConfig {
                                                fitness1: f1,
                                                fitness2: f2,
                                                num_pop: p as usize,
                                                epochs: e as usize,
                                                seed: s as u64,
                                                area_budget_um2: b.map(|mm2| mm2 * 1e6),
                                                ..base_cfg.clone()
                                            };
                                            cfg.space.constraint = v.c.clone();
                                            push(model, layers.clone(), acc, cfg, v.spec.clone(), b);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // A fixed cluster size that no accelerator of a job can hold is caught here (and so by
    // `--dry-run`), not by a crash or an empty result mid-sweep.
    if let (Some(z), Some(v)) = (base_cfg.space.fixed_cluster, &raw.fixed_cluster) {
        for j in &jobs {
            crate::hardware::check_fixed_cluster(z, j.cfg.space.slevel_min, j.accelerator.hw.num_pe).map_err(|e| {
                cx.err(Some(v.span()), "fixed_cluster", format!("accelerator {:?}: {e}", j.accelerator.name))
            })?;
        }
    }
    // A scalar level range or fixed cluster size applies to every job: a job's constraint must
    // not silently replace it.
    for j in &jobs {
        let Some(c) = &j.cfg.space.constraint else { continue };
        let range = raw.slevel_min.as_ref().or(raw.slevel_max.as_ref());
        if let Some(v) = range {
            c.check_level_range(j.cfg.space.slevel_min, j.cfg.space.slevel_max)
                .map_err(|e| cx.err(Some(v.span()), "slevel_min", e.to_string()))?;
        }
        if let (Some(z), Some(v)) = (j.cfg.space.fixed_cluster, &raw.fixed_cluster) {
            c.check_fixed_cluster(z).map_err(|e| cx.err(Some(v.span()), "fixed_cluster", e.to_string()))?;
        }
    }
    // Two equal jobs would share an id and make "finished" ambiguous.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for j in &jobs {
        if let Some(first) = seen.insert(&j.id, j.index) {
            let field = if raw.job.is_some() {
                format!("job[{}]", j.index)
            } else {
                "models/accelerators/mapping_constraints/flex_classes/accel_constraints/area_budgets_mm2/objectives/num_pop/epochs/seeds".to_string()
            };
            return Err(cx.err(
                None,
                &field,
                format!("jobs {first} and {} are identical (a value is repeated in an axis or job list)", j.index),
            ));
        }
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Job>, ConfigError> {
        parse_sweep(text, "s.toml", Path::new("."))
    }

    const ACC: &str = "[[accelerators]]\nname = \"a\"\nnum_pe = 64\n";

    #[test]
    fn product_and_ids() {
        let text = format!("models = [\"toy\"]\nobjectives = [[\"latency\", \"energy\"], [\"edp\", \"none\"]]\nseeds = [1, 2, 3]\nnum_pop = [10]\nepochs = [2]\n{ACC}");
        let jobs = parse(&text).unwrap();
        assert_eq!(jobs.len(), 6);
        assert_eq!(jobs[0].layers, vec![0, 1, 2]);
        assert_eq!((jobs[0].cfg.seed, jobs[1].cfg.seed, jobs[3].cfg.fitness1), (1, 2, Objective::Edp));
        assert_eq!(jobs[3].cfg.fitness2, None);
        // Comments and key order do not change ids.
        let again = parse(&format!("# c\nepochs = [2]\nnum_pop = [10]\nseeds = [1, 2, 3]\nobjectives = [[\"latency\", \"energy\"], [\"edp\", \"none\"]]\nmodels = [\"toy\"]\n{ACC}")).unwrap();
        assert_eq!(sweep_hash(&jobs), sweep_hash(&again));
        let split = parse(&format!("models = [\"toy\"]\nlayers = [3, 1]\nsplit_layers = true\n{ACC}")).unwrap();
        assert_eq!(split.iter().map(|j| j.layers.clone()).collect::<Vec<_>>(), vec![vec![0], vec![2]]);
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = parse(&format!("models = [\"toy\"]\nepoch = [1]\n{ACC}")).unwrap_err().to_string();
        assert!(e.starts_with("s.toml line 2") && e.contains("epoch"), "{e}");
        let e = parse(&format!("models = [\"toy\"]\n{ACC}num_pe2 = 1\n")).unwrap_err().to_string();
        assert!(e.contains("line 5, field num_pe2") && e.contains("unknown field"), "{e}");
        assert!(e.contains("did you mean \"num_pe\""), "{e}");
        let e = parse(&format!("models = [\"toy\"]\nepoch = [1]\n{ACC}")).unwrap_err().to_string();
        assert!(e.contains("did you mean \"epochs\""), "{e}");
        let e = parse(&format!("models = [\"toy\"]\nnum_pop = 20\n{ACC}")).unwrap_err().to_string();
        assert!(e.contains("line 2, field num_pop"), "{e}");
        let e = parse(&format!("models = [\"toy\"]\nobjectives = [[\"latency\", \"speed\"]]\n{ACC}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, field objectives[0]") && e.contains("speed"), "{e}");
        let e = parse(&format!("models = []\n{ACC}")).unwrap_err().to_string();
        assert!(e.contains("line 1, field models") && e.contains("empty"), "{e}");
        let e = parse("models = [\"toy\"]\n[[accelerators]]\nname = \"z\"\nnum_pe = 0\n").unwrap_err().to_string();
        assert!(e.contains("line 4, field accelerators[0].num_pe"), "{e}");
        let e = parse(&format!("models = [\"nope\"]\n{ACC}")).unwrap_err().to_string();
        assert!(e.contains("line 1, field models[0]") && e.contains("nope"), "{e}");
        let e = parse(&format!("models = [\"toy\"]\nlayers = [4]\n{ACC}")).unwrap_err().to_string();
        assert!(e.contains("line 2, field layers") && e.contains("1..=3"), "{e}");
        let e = parse(&format!("models = [\"toy\"]\nseeds = [1, 1]\n{ACC}")).unwrap_err().to_string();
        assert!(e.contains("identical"), "{e}");
        let e = parse(&format!("models = [\"toy\"]\n[[job]]\nmodel = \"toy\"\naccelerator = \"a\"\n{ACC}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("field job") && e.contains("models"), "{e}");
        let e = parse(&format!("{ACC}[[job]]\nmodel = \"toy\"\naccelerator = \"b\"\n")).unwrap_err().to_string();
        assert!(e.contains("line 6, field job[0].accelerator"), "{e}");
    }

    #[test]
    fn flex_classes_need_a_mapping_constraint() {
        for maps in ["", "mapping_constraints = [\"none\"]\n"] {
            let e = parse(&format!("models = [\"toy\"]\n{maps}flex_classes = [1]\n{ACC}")).unwrap_err().to_string();
            assert!(e.contains("field flex_classes") && e.contains("relax a mapping constraint"), "{e}");
        }
    }

    #[test]
    fn constraint_ids_and_groups() {
        let axes = parse(&format!(
            "models = [\"toy\"]\nmapping_constraints = [\"none\", \"nvdla\"]\nflex_classes = [5]\n{ACC}"
        ))
        .unwrap();
        assert_eq!(axes.len(), 2);
        assert_eq!((axes[0].cstr.flex_class, axes[1].cstr.flex_class), (None, Some(5)));
        assert_eq!(axes[1].cfg.space.constraint.as_ref().unwrap().class, 5);
        // An unconstrained job keeps the id it had before constraints existed.
        assert_eq!(axes[0].id, parse(&format!("models = [\"toy\"]\n{ACC}")).unwrap()[0].id);
        // The constraint is not serialised with the config, yet ids and batching keys see it.
        assert_eq!(serde_json::to_string(&axes[0].cfg).unwrap(), serde_json::to_string(&axes[1].cfg).unwrap());
        assert_ne!(axes[0].id, axes[1].id);
        assert_ne!(axes[0].group_key(), axes[1].group_key());
        let one = parse(&format!(
            "{ACC}[[job]]\nmodel = \"toy\"\naccelerator = \"a\"\nmapping_constraint = \"NVDLA\"\nflex_class = 5\n"
        ))
        .unwrap();
        assert_eq!(one[0].id, axes[1].id);
    }

    #[test]
    fn energy_model_key_changes_ids_only_when_not_maestros() {
        let plain = parse(&format!("models = [\"toy\"]\nnum_pop = [10]\nepochs = [2]\n{ACC}")).unwrap();
        // The id of this job as computed before energy tables existed (the same sweep's
        // `--dry-run` config hash, from the build before this key): ids must not move.
        assert_eq!(sweep_hash(&plain), "102058fc1df9e7a1");
        assert_eq!(plain[0].cfg.energy_model, EnergyModel::MAESTRO);
        let dir = tempfile::tempdir().unwrap();
        let sub = |t: &str| parse_sweep(t, "s.toml", dir.path());
        let named =
            sub(&format!("models = [\"toy\"]\nnum_pop = [10]\nepochs = [2]\nenergy_model = \"maestro\"\n{ACC}"))
                .unwrap();
        assert_eq!(named[0].id, plain[0].id);
        // MAESTRO's table written out as a file is MAESTRO's table: same id.
        std::fs::write(dir.path().join("m.toml"), crate::energy::maestro_toml()).unwrap();
        let file = sub(&format!("models = [\"toy\"]\nnum_pop = [10]\nepochs = [2]\nenergy_model = \"m.toml\"\n{ACC}"))
            .unwrap();
        assert_eq!(file[0].id, plain[0].id);
        // Another table (relative to the sweep file) is another search: new id, new group.
        let other = crate::energy::maestro_toml().replace("mac = 0.0", "mac = 1.5");
        std::fs::write(dir.path().join("t.toml"), other).unwrap();
        let t = sub(&format!("models = [\"toy\"]\nnum_pop = [10]\nepochs = [2]\nenergy_model = \"t.toml\"\n{ACC}"))
            .unwrap();
        assert_eq!(t[0].cfg.energy_model.mac, 1.5);
        assert_ne!(t[0].id, plain[0].id);
        assert_ne!(t[0].group_key(), plain[0].group_key());
        // A bad table is reported at the key, with the table's own file, line and field.
        std::fs::write(dir.path().join("bad.toml"), crate::energy::maestro_toml().replace("mac = 0.0", "mac = -1"))
            .unwrap();
        let e = sub(&format!("models = [\"toy\"]\n\nenergy_model = \"bad.toml\"\n{ACC}")).unwrap_err().to_string();
        assert!(e.contains("s.toml line 3, field energy_model") && e.contains("bad.toml line 3, field mac"), "{e}");
    }

    #[test]
    fn explicit_jobs() {
        let jobs = parse(&format!("{ACC}[[job]]\nmodel = \"toy\"\nlayers = [2]\naccelerator = \"a\"\nobjectives = [\"energy\", \"none\"]\nnum_pop = 8\nepochs = 3\nseed = 5\n")).unwrap();
        assert_eq!(jobs.len(), 1);
        let j = &jobs[0];
        assert_eq!(
            (j.layers.clone(), j.cfg.fitness1, j.cfg.fitness2, j.cfg.num_pop, j.cfg.epochs, j.cfg.seed),
            (vec![1], Objective::Energy, None, 8, 3, 5)
        );
        // The same job written as axes has the same id.
        let axes = parse(&format!("models = [\"toy\"]\nlayers = [2]\nobjectives = [[\"energy\", \"none\"]]\nnum_pop = [8]\nepochs = [3]\nseeds = [5]\n{ACC}")).unwrap();
        assert_eq!(axes[0].id, j.id);
    }
}
