//! The options of a search as users give them: the flags of `gammaflow search`, the keywords of
//! the Python package's `search()` (same names, snake case), or JSON. [`SearchOptions::prepare`]
//! checks them all before any work starts and turns them into a model, an accelerator, a
//! [`SearchConfig`] and the layer tasks; [`Prepared::run`] searches.
//!
//! Error messages name the option as the CLI spells it (`--num-pe`); [`OptionError::option`]
//! holds its field name (`num_pe`) for callers that spell it otherwise.

use super::constraint::load_accel;
use super::{
    search_dedup, LayerResult, MapConstraint, Objective, PeDraw, Progress, Rates, SearchConfig, SpaceOptions, Strategy,
};
use crate::energy::EnergyModel;
use crate::eval::{BackendChoice, BatchEvaluator};
use crate::hardware::{load_hwconfig, AreaModel, Hardware};
use crate::schema::Named;
use crate::workload::builtin::resolve_model;
use crate::workload::{Layer, Model};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// An option whose value a search cannot use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct OptionError {
    /// The option's field name in [`SearchOptions`] (`num_pe`).
    pub option: &'static str,
    /// What is wrong, naming the option as the CLI spells it.
    pub message: String,
}

fn invalid(option: &'static str, message: impl Into<String>) -> OptionError {
    OptionError { option, message: message.into() }
}

macro_rules! bail_opt {
    ($opt:expr, $($fmt:tt)*) => {
        return Err(invalid($opt, format!($($fmt)*)))
    };
}

/// Longest `max_time` accepted (about three years): beyond it the value is a typo, and
/// `Duration` cannot hold much more anyway.
pub const MAX_TIME_S: f64 = 1e8;

/// Every option of a search (the CLI's `search` flags but its output ones). `Default` is the
/// CLI's defaults; JSON objects deserialize with unknown keys refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchOptions {
    /// Search strategy: `islands` (default: many small GAs with restarts in unexplored basins,
    /// neighbourhood polish and a loop-order phase for the second objective), `gamma` (GAMMA's GA
    /// as published) or `random` (the baseline).
    #[serde(deserialize_with = "crate::schema::de_named")]
    pub strategy: Strategy,
    /// First objective.
    #[serde(deserialize_with = "crate::schema::de_named")]
    pub fitness1: Objective,
    /// Second objective (breaks ties of the first; spans the Pareto front). `none` to disable.
    pub fitness2: String,
    /// Built-in model name or a model CSV path.
    pub model: String,
    /// Search only this layer (1-based).
    pub layer: Option<usize>,
    /// Search only the first N layers.
    pub num_layers: Option<usize>,
    /// Accelerator file: GAMMA's hwconfig text format, or TOML (`.toml`). Flags below override it.
    pub hwconfig: Option<PathBuf>,
    /// PEs; ≤ 0 means co-exploration, as in GAMMA.
    pub num_pe: Option<i64>,
    /// L1 (per PE) cap in elements; ≤ 0 means unlimited.
    pub l1_size: Option<i64>,
    /// L2 cap in elements; ≤ 0 means unlimited.
    pub l2_size: Option<i64>,

    pub noc_bw: Option<i64>,

    pub offchip_bw: Option<i64>,

    pub slevel_min: usize,

    pub slevel_max: usize,
    /// Generations of `--strategy gamma`. Without --max-evals the budget of every strategy is
    /// epochs x num-pop evaluations per layer (default 100 x 100); with --max-evals and no
    /// --epochs the search runs until the budget is spent.
    pub epochs: Option<usize>,
    /// Population per layer (per island for `islands`, default 48 there; 100 otherwise).
    pub num_pop: Option<usize>,

    pub seed: u64,

    #[serde(deserialize_with = "crate::schema::de_named")]
    pub backend: BackendChoice,
    /// Evaluation budget per layer (each distinct layer shape gets it; `islands` spends none on
    /// repeats or on mappings over a buffer cap). A layer whose latency reaches the compute bound
    /// stops early once its second-objective phase is done.
    pub max_evals: Option<u64>,
    /// Stop after this many seconds of wall time (results then depend on machine speed).
    pub max_time: Option<f64>,
    /// Allow R and S as parallel dims.
    pub par_rs: bool,
    /// Fix the cluster size of every inner level.
    pub fixed_cluster: Option<i64>,
    /// Only tiles that divide their dimension.
    pub factor_tiles: bool,
    /// GAMMA's own tile ranges (Y/X tiles up to the input size; MAESTRO then sees impossible
    /// mappings, which `valid_physical` still rejects).
    pub gamma_compat: bool,
    /// Share of tile and cluster draws that pick a divisor of the enclosing extent (0 = GAMMA's
    /// uniform draws).
    pub divisor_bias: f64,
    /// Let R and S tiles be partial (GAMMA fixes them to the full R and S by default).
    pub free_rs: bool,

    pub crossover_rate: f64,

    pub order_rate: f64,

    pub tile_rate: f64,

    pub par_swap_rate: f64,

    pub grow_rate: f64,

    pub aging_rate: f64,

    pub elite_ratio: f64,

    pub parents_ratio: f64,
    /// Co-exploration (DiGamma): search the PE count with the mapping (also implied by
    /// `--num-pe` ≤ 0, as in GAMMA). L1 and L2 are sized from the mapping's requirements.
    pub co_explore: bool,
    /// Largest PE count a co-explored design may have (default: --num-pe if positive, else 1024).
    pub pe_limit: Option<i64>,
    /// Hard area budget in mm^2: no reported design exceeds it.
    pub area_budget: Option<f64>,
    /// Area model: `gamma` (282 um^2/PE + 0.086 um^2/bit), `maestro`, or a TOML table
    /// (`kind = "table"`, `pe_um2`, `bit_um2`, `word_bits`).
    pub area_model: String,
    /// Energy table: `maestro` (MAESTRO's constants, the default) or a TOML file with the energy
    /// per L1/L2 read and write of each tensor, per MAC, and the scale to nJ
    /// (data/energy/*.toml show the format). Changes energy, EDP and energy-area only.
    pub energy_model: String,
    /// Rate of the PE-count mutation when co-exploring.
    pub pe_rate: f64,
    /// How co-exploration redraws the PE count: joint (a target PE count reached by changing the
    /// parallel tiling with it), upper-half (DiGamma's; the default), uniform.
    #[serde(deserialize_with = "crate::schema::de_named_opt")]
    pub pe_draw: Option<PeDraw>,
    /// Relative slack on the first objective within which the second decides: the reported
    /// mapping has the lowest second objective among the found mappings whose first is at most
    /// (1 + T) x the best (e.g. 1e-4: a runtime 0.01% above the fastest for less energy).
    /// 0 = strictly the fastest, ties broken by the second (GAMMA). Default: 1e-4 for
    /// `islands`, 0 for `gamma` and `random`.
    pub f1_tolerance: Option<f64>,
    /// Mapping constraint: a built-in accelerator map (nvdla, eyeriss, tpu) or a TOML file
    /// (data/constraints/*.toml shows the format). It fixes the number of cluster levels.
    pub mapping_cstr: Option<String>,
    /// Flexibility class of --mapping-cstr, 0-15: the sum of the axes left free (1 tile sizes,
    /// 2 loop order, 4 parallel dims, 8 cluster sizes); 0 = the map as written.
    pub flex_class: Option<u8>,
    /// Accelerator constraint file (TOML, per level: buffer fifo|scratchpad, distribution
    /// bus|tree|systolic, reduction temporal|reduce-and-forward|adder-tree), turned into mapping
    /// rules and added to --mapping-cstr (never relaxed by --flex-class).
    pub accel_cstr: Option<String>,
    /// The CLI's `--shared-hw` (one accelerator for every layer, searched by
    /// [`crate::search::shared`]): only the checks depend on it here. Not part of the JSON form.
    #[serde(skip)]
    pub shared_hw: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            strategy: Strategy::Islands,
            fitness1: Objective::Latency,
            fitness2: "power".into(),
            model: "resnet18".into(),
            layer: None,
            num_layers: None,
            hwconfig: None,
            num_pe: None,
            l1_size: None,
            l2_size: None,
            noc_bw: None,
            offchip_bw: None,
            slevel_min: 2,
            slevel_max: 2,
            epochs: None,
            num_pop: None,
            seed: 0,
            backend: BackendChoice::Auto,
            max_evals: None,
            max_time: None,
            par_rs: false,
            fixed_cluster: None,
            factor_tiles: false,
            gamma_compat: false,
            divisor_bias: 0.25,
            free_rs: false,
            crossover_rate: 0.57,
            order_rate: 0.47,
            tile_rate: 0.53,
            par_swap_rate: 0.1,
            grow_rate: 0.57,
            aging_rate: 0.27,
            elite_ratio: 0.05,
            parents_ratio: 0.4,
            co_explore: false,
            pe_limit: None,
            area_budget: None,
            area_model: "gamma".into(),
            energy_model: "maestro".into(),
            pe_rate: 0.5,
            pe_draw: None,
            f1_tolerance: None,
            mapping_cstr: None,
            flex_class: None,
            accel_cstr: None,
            shared_hw: false,
        }
    }
}

/// What [`SearchOptions::prepare`] makes of the options: everything a search needs, checked.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub model: Model,
    /// The accelerator (in co-exploration, the PE limit and the buffer caps).
    pub hw: Hardware,
    pub cfg: SearchConfig,
    /// The selected layers: (0-based index in the model, layer, accelerator).
    pub tasks: Vec<(usize, Layer, Hardware)>,
}

impl Prepared {
    /// Searches every task (repeated layer shapes once) on `ev`, calling `progress` after each
    /// round; the results carry their layers' strides.
    pub fn run(&self, ev: &mut dyn BatchEvaluator, progress: impl FnMut(&Progress)) -> Vec<LayerResult> {
        let mut results = search_dedup(&self.tasks, &self.cfg, ev, progress);
        LayerResult::set_strides(&mut results, &self.model);
        results
    }
}

impl SearchOptions {
    /// Checks every option, reads the model and the files named, and selects the layers; nothing
    /// is evaluated yet.
    pub fn prepare(&self) -> Result<Prepared, OptionError> {
        self.check()?;
        // The model reader's message names the file (and line) itself: it is the whole error.
        let model = resolve_model(&self.model).map_err(|e| invalid("model", e.to_string()))?;
        let hw = self.hardware()?;
        let cfg = self.config()?;
        self.budget_fits(&hw, &cfg)?;
        let tasks = self.tasks(&model, &hw, &cfg)?;
        // `check` could only guess the layer count: the population's memory again, on the
        // distinct shapes actually searched (a repeated shape is searched once).
        let shapes: std::collections::HashSet<Layer> = tasks.iter().map(|t| t.1).collect();
        population_fits(self.num_pop.unwrap_or(100), shapes.len())?;
        Ok(Prepared { model, hw, cfg, tasks })
    }

    /// Refuses an area budget below the area of the fewest PEs a design can have (one when the
    /// PE count is searched, else the accelerator's), buffers left out: no design could meet it.
    /// MAESTRO's area is known only per evaluated mapping, so it is not checked here.
    fn budget_fits(&self, hw: &Hardware, cfg: &SearchConfig) -> Result<(), OptionError> {
        let (Some(budget), AreaModel::Table { .. }) = (cfg.area_budget_um2, cfg.area_model) else { return Ok(()) };
        let pes = if self.co_explores() || self.shared_hw { 1 } else { hw.num_pe };
        let least = cfg.area_model.breakdown(pes, 0, 0, 0.0).total;
        if least > budget {
            bail_opt!(
                "area_budget",
                "--area-budget {} mm^2 is below the area of {pes} PE(s) alone ({} mm^2 under --area-model {}): no design fits",
                budget / 1e6,
                least / 1e6,
                self.area_model
            );
        }
        Ok(())
    }

    /// Whether the PE count is searched (`co_explore`, or `num_pe` <= 0 as in GAMMA).
    pub fn co_explores(&self) -> bool {
        self.co_explore || self.num_pe.is_some_and(|v| v <= 0)
    }

    /// The accelerator: `hwconfig` (if any), then the single values over it; in co-exploration
    /// the PE count is the limit designs are drawn under.
    pub fn hardware(&self) -> Result<Hardware, OptionError> {
        let mut hw = match &self.hwconfig {
            Some(p) => load_hwconfig(p).map_err(|e| invalid("hwconfig", format!("--hwconfig: {e}")))?,
            None => Hardware::default(),
        };
        if let Some(v) = self.num_pe {
            hw.num_pe = v;
        }
        if self.co_explores() {
            hw.num_pe = self.pe_limit.unwrap_or(if hw.num_pe > 0 && self.num_pe.is_some_and(|v| v > 0) {
                hw.num_pe
            } else {
                1024
            });
        }
        for (v, slot) in [
            (self.l1_size, &mut hw.l1_size),
            (self.l2_size, &mut hw.l2_size),
            (self.noc_bw, &mut hw.noc_bw),
            (self.offchip_bw, &mut hw.offchip_bw),
        ] {
            if let Some(v) = v {
                *slot = v;
            }
        }
        hw.validate().map_err(|e| {
            // A value out of range here came from a flag (files are checked as they are read, with
            // their line), or in co-exploration the PE limit: name that flag.
            let (option, label) = match e.field {
                "num_pe" if self.co_explores() && self.pe_limit.is_some() => ("pe_limit", "--pe-limit"),
                "num_pe" if self.num_pe.is_some() => (e.field, "--num-pe"),
                "l1_size" if self.l1_size.is_some() => (e.field, "--l1-size"),
                "l2_size" if self.l2_size.is_some() => (e.field, "--l2-size"),
                "noc_bw" if self.noc_bw.is_some() => (e.field, "--noc-bw"),
                "offchip_bw" if self.offchip_bw.is_some() => (e.field, "--offchip-bw"),
                _ => (e.field, "accelerator"),
            };
            invalid(option, format!("{label}: {e}"))
        })?;
        Ok(hw)
    }

    /// The selected layers of `model` (0-based index, layer, accelerator) from `layer` and
    /// `num_layers`, each checked against the mapping constraint (impossible rules are reported
    /// before any search starts).
    pub fn tasks(
        &self,
        model: &Model,
        hw: &Hardware,
        cfg: &SearchConfig,
    ) -> Result<Vec<(usize, Layer, Hardware)>, OptionError> {
        let n = model.layers.len();
        let selected: Vec<usize> = match (self.layer, self.num_layers) {
            (Some(l), _) if l == 0 || l > n => {
                bail_opt!("layer", "--layer {l}: model {} has layers 1..{n}", model.name)
            }
            (Some(l), _) => vec![l - 1],
            (None, Some(k)) => (0..k.min(n)).collect(),
            (None, None) => (0..n).collect(),
        };
        let tasks: Vec<_> = selected.iter().map(|&i| (i, model.layers[i], *hw)).collect();
        if let Some(c) = &cfg.space.constraint {
            for (i, layer, hw) in &tasks {
                c.check_layer(layer, hw.num_pe, &cfg.space)
                    .map_err(|e| invalid("mapping_cstr", format!("layer {}: {e}", i + 1)))?;
            }
        }
        Ok(tasks)
    }

    /// The checks that need no model or accelerator file read: numbers a search cannot use (NaN,
    /// infinite, negative or absurd), conflicting options, a population that cannot fit in memory.
    pub fn check(&self) -> Result<(), OptionError> {
        if let Some(t) = self.max_time {
            if !(t.is_finite() && t > 0.0 && t <= MAX_TIME_S) {
                let shown = if t.abs() >= 1e9 { format!("{t:e}") } else { t.to_string() };
                bail_opt!(
                    "max_time",
                    "--max-time must be a positive number of seconds up to {MAX_TIME_S:e}, got {shown}"
                );
            }
        }
        if self.max_evals == Some(0) {
            bail_opt!("max_evals", "--max-evals 0 would stop before the first evaluation");
        }
        match (self.layer, self.num_layers) {
            (Some(l), Some(k)) => bail_opt!("layer", "--layer {l} and --num-layers {k} conflict: give one of them"),
            (Some(0), None) => bail_opt!("layer", "--layer is 1-based: 0 names no layer"),
            (None, Some(0)) => bail_opt!("num_layers", "--num-layers 0 selects no layer"),
            _ => {}
        }
        if self.epochs == Some(0) {
            bail_opt!("epochs", "--epochs must be at least 1");
        }
        if let Some(l) = self.pe_limit {
            // Without co-exploration (or --shared-hw's candidate designs) the accelerator has its
            // --num-pe PEs and a limit would be ignored.
            if !self.co_explores() && !self.shared_hw {
                bail_opt!(
                    "pe_limit",
                    "--pe-limit {l} bounds the PE count of co-explored designs: give --co-explore (or --num-pe <= 0), \
                     or leave it out (the accelerator has --num-pe PEs)"
                );
            }
            if !(1..=crate::hardware::MAX_NUM_PE).contains(&l) {
                bail_opt!(
                    "pe_limit",
                    "--pe-limit must be between 1 and {} (the largest num_pe of a design), got {l}",
                    crate::hardware::MAX_NUM_PE
                );
            }
        }
        // Options of the co-explored PE-count gene do nothing on a fixed accelerator (nor under
        // --shared-hw, whose per-layer searches run on fixed candidate designs).
        let pe_gene = self.co_explores() && !self.shared_hw;
        if !pe_gene {
            let why = "acts on the co-explored PE count only: give --co-explore (or --num-pe <= 0) without \
                       --shared-hw, or leave it out";
            if let Some(d) = self.pe_draw {
                bail_opt!("pe_draw", "--pe-draw {} {why}", d.name());
            }
            if self.pe_rate != Self::default().pe_rate {
                bail_opt!("pe_rate", "--pe-rate {} {why}", self.pe_rate);
            }
        }
        if self.fixed_cluster.is_some() && self.mapping_cstr.is_none() && self.slevel_max < 2 {
            bail_opt!(
                "fixed_cluster",
                "--fixed-cluster sets the cluster size of inner levels, and --slevel-max {} leaves none: \
                 raise --slevel-max or leave it out",
                self.slevel_max
            );
        }
        if let Some(z) = self.fixed_cluster {
            // The PE count the genomes are bounded by: the accelerator's, or the co-exploration limit.
            let num_pe = match (self.co_explores(), self.pe_limit, self.num_pe) {
                (true, Some(l), _) => l,
                (true, None, Some(p)) if p > 0 => p,
                (true, None, _) => 1024,
                (false, _, _) => self.hardware()?.num_pe,
            };
            crate::hardware::check_fixed_cluster(z, self.slevel_min.max(1), num_pe)
                .map_err(|e| invalid("fixed_cluster", format!("--fixed-cluster: {e}")))?;
        }
        EnergyModel::resolve(&self.energy_model)
            .map_err(|e| invalid("energy_model", format!("--energy-model: {e}")))?;
        population_fits(self.num_pop.unwrap_or(100), self.layer_count_hint())
    }

    /// Layers searched at once, for the memory estimate (the model is not read yet: `layer`
    /// means 1, otherwise `num_layers`, else a typical model's 60).
    fn layer_count_hint(&self) -> usize {
        match (self.layer, self.num_layers) {
            (Some(_), _) => 1,
            (None, Some(k)) => k.min(1000),
            (None, None) => 60,
        }
    }

    /// The search configuration the options describe.
    pub fn config(&self) -> Result<SearchConfig, OptionError> {
        let fitness2 = match self.fitness2.to_ascii_lowercase().as_str() {
            "none" | "" => None,
            s => Some(<Objective as Named>::from_name(s).ok_or_else(|| {
                invalid(
                    "fitness2",
                    format!("--fitness2: unknown objective {s:?} (expected {} or none)", Objective::names().join(", ")),
                )
            })?),
        };
        if self.slevel_min < 1 || self.slevel_max < self.slevel_min || self.slevel_max > 4 {
            bail_opt!(
                "slevel_min",
                "--slevel-min/--slevel-max: need 1 <= min <= max <= 4, got {}..{}",
                self.slevel_min,
                self.slevel_max
            );
        }
        if self.num_pop.is_some_and(|p| p < 2) {
            bail_opt!("num_pop", "--num-pop must be at least 2");
        }
        if self.max_evals == Some(0) {
            bail_opt!("max_evals", "--max-evals must be at least 1");
        }
        for (name, flag, r) in [
            ("crossover_rate", "crossover-rate", self.crossover_rate),
            ("order_rate", "order-rate", self.order_rate),
            ("tile_rate", "tile-rate", self.tile_rate),
            ("par_swap_rate", "par-swap-rate", self.par_swap_rate),
            ("grow_rate", "grow-rate", self.grow_rate),
            ("aging_rate", "aging-rate", self.aging_rate),
            ("elite_ratio", "elite-ratio", self.elite_ratio),
            ("parents_ratio", "parents-ratio", self.parents_ratio),
            ("divisor_bias", "divisor-bias", self.divisor_bias),
            ("pe_rate", "pe-rate", self.pe_rate),
            ("f1_tolerance", "f1-tolerance", self.f1_tolerance.unwrap_or(0.0)),
        ] {
            if !(0.0..=1.0).contains(&r) {
                bail_opt!(name, "--{flag} must be within [0, 1], got {r}");
            }
        }
        if let Some(z) = self.fixed_cluster {
            if z < 1 {
                bail_opt!("fixed_cluster", "--fixed-cluster must be positive, got {z}");
            }
        }
        let cstr_err = |e: String| invalid("mapping_cstr", format!("--mapping-cstr: {e}"));
        let accel_err = |e: String| invalid("accel_cstr", format!("--accel-cstr: {e}"));
        let constraint = match &self.mapping_cstr {
            Some(name) => {
                let c = MapConstraint::resolve(name).map_err(|e| cstr_err(format!("{e:#}")))?;
                Some(Arc::new(match self.flex_class {
                    Some(k) => c.with_class(k).map_err(|e| invalid("flex_class", format!("--flex-class: {e:#}")))?,
                    None => c,
                }))
            }
            None if self.flex_class.is_some() => {
                bail_opt!("flex_class", "--flex-class needs --mapping-cstr (the map it relaxes)")
            }
            None => None,
        };
        let constraint = match (constraint, &self.accel_cstr) {
            (c, None) => c,
            (None, Some(p)) => Some(Arc::new(load_accel(p).map_err(|e| accel_err(format!("{e:#}")))?)),
            (Some(c), Some(p)) => {
                let accel = load_accel(p).map_err(|e| accel_err(format!("{e:#}")))?;
                Some(Arc::new(c.with_accel(&accel).map_err(|e| accel_err(e.to_string()))?))
            }
        };
        if let Some(c) = &constraint {
            // The default range (2..=2) is the one a constraint replaces without a conflict.
            if (self.slevel_min, self.slevel_max) != (2, 2) {
                c.check_level_range(self.slevel_min, self.slevel_max).map_err(|e| {
                    // Name the flag the constraint came from (an accelerator constraint alone
                    // is turned into a mapping constraint).
                    let from = match (&self.mapping_cstr, &self.accel_cstr) {
                        (Some(_), Some(_)) => "--mapping-cstr and --accel-cstr",
                        (Some(_), None) => "--mapping-cstr",
                        _ => "--accel-cstr",
                    };
                    invalid("slevel_min", format!("--slevel-min/--slevel-max conflict with {from}: {e}"))
                })?;
            }
            if let Some(z) = self.fixed_cluster {
                c.check_fixed_cluster(z)
                    .map_err(|e| invalid("fixed_cluster", format!("--fixed-cluster {z} conflicts with {e}")))?;
            }
        }
        // The budget is GAMMA's (epochs x population) unless max_evals sets it; an island's
        // population is smaller than GAMMA's, but the budget stays epochs x 100 by default.
        let default_pop = if self.strategy == Strategy::Islands { 48 } else { 100 };
        let num_pop = self.num_pop.unwrap_or(default_pop);
        let (epochs, max_evals) = match (self.epochs, self.max_evals) {
            (Some(e), m) => (e.max(1), m),
            (None, Some(m)) => (0, Some(m)),
            (None, None) => (100, Some(100 * self.num_pop.unwrap_or(100) as u64)),
        };
        let area_model =
            AreaModel::resolve(&self.area_model).map_err(|e| invalid("area_model", format!("--area-model: {e}")))?;
        if self.shared_hw && area_model == AreaModel::Maestro {
            bail_opt!(
                "area_model",
                "--shared-hw sizes its candidate designs by area before any evaluation, which --area-model maestro \
                 (MAESTRO's area of each evaluated mapping) cannot do: use gamma or a table"
            );
        }
        let area_budget_um2 = match self.area_budget {
            Some(b) if !(b.is_finite() && b > 0.0) => {
                bail_opt!("area_budget", "--area-budget must be a positive number of mm^2, got {b}")
            }
            b => b.map(|mm2| mm2 * 1e6),
        };
        Ok(SearchConfig {
            strategy: self.strategy,
            fitness1: self.fitness1,
            fitness2,
            num_pop,
            epochs,
            seed: self.seed,
            space: SpaceOptions {
                slevel_min: self.slevel_min,
                slevel_max: self.slevel_max,
                par_rs: self.par_rs,
                fixed_cluster: self.fixed_cluster,
                factor_tiles: self.factor_tiles,
                gamma_compat: self.gamma_compat,
                rs_full: !self.free_rs,
                divisor_bias: self.divisor_bias,
                co_explore: self.co_explores(),
                pe_draw: self.pe_draw,
                factor_clusters: true,
                constraint,
            },
            rates: Rates {
                crossover: self.crossover_rate,
                order: self.order_rate,
                tile: self.tile_rate,
                tile_loci: 3,
                par_swap: self.par_swap_rate,
                grow: self.grow_rate,
                aging: self.aging_rate,
                elite_ratio: self.elite_ratio,
                parents_ratio: self.parents_ratio,
            },
            max_evals,
            max_time: self.max_time.map(Duration::from_secs_f64),
            area_model,
            area_budget_um2,
            pe_rate: self.pe_rate,
            f1_tolerance: self.f1_tolerance,
            energy_model: EnergyModel::resolve(&self.energy_model)
                .map_err(|e| invalid("energy_model", format!("--energy-model: {e}")))?,
        })
    }
}

/// Bytes one individual costs at the peak of a generation: its packed record with fitness and
/// key in the pool, the offspring buffer and the selection's output, plus its packed result,
/// fitness and selection scratch (4-level records: the largest).
fn bytes_per_individual() -> u64 {
    let record = 4 * crate::mapping::pack::stride_for(4) + 16 + 8;
    let one = 3 * record + std::mem::size_of::<crate::mapping::pack::PackedResult>() + 16 + 48;
    one as u64
}

/// Refuses a population whose estimated memory exceeds what the machine has available
/// (`MemAvailable` on Linux; elsewhere only an absolute ceiling of 2^32 individuals applies).
pub fn population_fits(num_pop: usize, layers: usize) -> Result<(), OptionError> {
    if num_pop < 2 {
        bail_opt!("num_pop", "--num-pop must be at least 2, got {num_pop}");
    }
    let individuals = (num_pop as u64).saturating_mul(layers.max(1) as u64);
    if individuals > 1 << 32 {
        bail_opt!(
            "num_pop",
            "--num-pop {num_pop} over {layers} layer(s) is {individuals} individuals, beyond any machine's memory"
        );
    }
    let need = individuals.saturating_mul(bytes_per_individual());
    if let Some(avail) = available_memory() {
        if need > avail {
            bail_opt!(
                "num_pop",
                "--num-pop {num_pop} over {layers} layer(s) needs about {:.1} GiB, but only {:.1} GiB of memory is available",
                need as f64 / (1u64 << 30) as f64,
                avail as f64 / (1u64 << 30) as f64
            );
        }
    }
    Ok(())
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_json(text: &str) -> Result<SearchOptions, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn json_options_default_what_is_left_out_and_refuse_unknown_keys() {
        assert_eq!(from_json("{}").unwrap(), SearchOptions::default());
        let o = from_json(r#"{"num_pe": 64, "fitness1": "latency-area", "pe_draw": "joint", "strategy": "Gamma"}"#)
            .unwrap();
        assert_eq!(
            (o.num_pe, o.fitness1, o.pe_draw, o.strategy),
            (Some(64), Objective::LatencyArea, Some(PeDraw::Joint), Strategy::Gamma)
        );
        let e = from_json(r#"{"num_pes": 64}"#).unwrap_err();
        assert!(e.contains("num_pes"), "{e}");
        let e = from_json(r#"{"fitness1": "speed"}"#).unwrap_err();
        assert!(e.contains("speed") && e.contains("latency"), "{e}");
    }

    #[test]
    fn bad_values_name_their_option() {
        let co = SearchOptions { co_explore: true, ..Default::default() };
        let cases: Vec<(SearchOptions, &str)> = vec![
            (SearchOptions { max_time: Some(f64::NAN), ..Default::default() }, "max_time"),
            (SearchOptions { layer: Some(1), num_layers: Some(2), ..Default::default() }, "layer"),
            (SearchOptions { tile_rate: 1.5, ..Default::default() }, "tile_rate"),
            (SearchOptions { flex_class: Some(3), ..Default::default() }, "flex_class"),
            (SearchOptions { area_budget: Some(-1.0), ..Default::default() }, "area_budget"),
            (SearchOptions { fitness2: "speed".into(), ..Default::default() }, "fitness2"),
            (SearchOptions { model: "no-such-model".into(), ..Default::default() }, "model"),
            // Accelerator values out of range name the flag that set them.
            (SearchOptions { num_pe: Some(i64::MAX), ..Default::default() }, "num_pe"),
            (SearchOptions { noc_bw: Some(1 << 40), ..Default::default() }, "noc_bw"),
            (SearchOptions { l2_size: Some(1 << 40), ..co.clone() }, "l2_size"),
            // A PE limit outside 1..=2^24, or one without co-exploration (it would be ignored).
            (SearchOptions { pe_limit: Some(0), ..co.clone() }, "pe_limit"),
            (SearchOptions { pe_limit: Some(-3), ..co.clone() }, "pe_limit"),
            (SearchOptions { pe_limit: Some(1 << 40), ..co.clone() }, "pe_limit"),
            (SearchOptions { pe_limit: Some(5), num_pe: Some(64), ..Default::default() }, "pe_limit"),
            (SearchOptions { pe_limit: Some(0), shared_hw: true, ..Default::default() }, "pe_limit"),
            // Options of the PE-count gene without one, and a cluster size without inner levels.
            (SearchOptions { pe_draw: Some(PeDraw::Joint), ..Default::default() }, "pe_draw"),
            (SearchOptions { pe_rate: 0.9, num_pe: Some(64), ..Default::default() }, "pe_rate"),
            (SearchOptions { pe_rate: 0.9, shared_hw: true, ..co.clone() }, "pe_rate"),
            (
                SearchOptions { fixed_cluster: Some(7), slevel_min: 1, slevel_max: 1, ..Default::default() },
                "fixed_cluster",
            ),
        ];
        for (o, option) in cases {
            let e = o.prepare().unwrap_err();
            assert_eq!(e.option, option, "{e}");
            let named =
                if option == "model" { "no-such-model".to_string() } else { format!("--{}", option.replace('_', "-")) };
            assert!(e.message.contains(&named), "{e}");
        }
    }

    #[test]
    fn prepared_options_select_the_layers_asked_for() {
        let o = SearchOptions { model: "resnet18".into(), layer: Some(3), num_pe: Some(64), ..Default::default() };
        let p = o.prepare().unwrap();
        assert_eq!(p.tasks.len(), 1);
        assert_eq!(p.tasks[0].0, 2);
        assert_eq!(p.tasks[0].1, p.model.layers[2]);
        assert_eq!(p.hw.num_pe, 64);
        // A PE limit is meaningful with co-exploration (GAMMA's --num-pe <= 0 included) and with
        // --shared-hw's candidate designs.
        for o in [
            SearchOptions { pe_limit: Some(64), num_pe: Some(-1), layer: Some(1), ..Default::default() },
            SearchOptions { pe_limit: Some(64), shared_hw: true, layer: Some(1), ..Default::default() },
            SearchOptions { pe_draw: Some(PeDraw::UpperHalf), pe_rate: 0.9, co_explore: true, ..Default::default() },
        ] {
            o.check().unwrap();
        }
        let e = SearchOptions { layer: Some(999), ..Default::default() }.prepare().unwrap_err();
        assert!(e.message.contains("has layers 1.."), "{e}");
    }
}
