//! The search loop. Every layer runs its own strategy with its own random stream; each round the
//! genomes of all layers are packed into one buffer and evaluated as one batch, so a whole model
//! (and every island, neighbourhood and order enumeration of it) keeps the device full. Results
//! come back as compact packed records; full evaluations are derived only for the few genomes
//! that become a layer's best or enter its Pareto archive.

use super::memo::{Memo, Seen};
use super::objective::{Fitness, Objective};
use super::operators::Rates;
use super::pareto::Pareto;
use super::space::{PeDraw, Space, SpaceOptions};
use super::strategy::{self, Driver};
use crate::energy::EnergyModel;
use crate::eval::{from_packed, BatchEvaluator};
use crate::hardware::{AreaBreakdown, AreaModel, Hardware};
use crate::mapping::pack::{stride_for, unpack_genome, PackedProblem, PackedResult};
use crate::mapping::{Dim, Genome};
use crate::model::packed::over_buffer_caps;
use crate::model::Evaluation;
use crate::workload::Layer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as AtomicOrdering};
use std::time::{Duration, Instant};

/// How a layer's map space is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// gammaflow's default: many small GA islands evaluated in one batch, restarts in
    /// structural basins not explored yet, neighbourhood polish of each island's best, then a
    /// loop-order phase for the second objective. Repeats of what a layer evaluated, and
    /// mappings over a buffer cap, are known without the model ([`super::memo`]) and cost no
    /// evaluation.
    #[default]
    Islands,
    /// GAMMA's GA as published (one population per layer, GAMMA's operators and selection).
    Gamma,
    /// Random search at the same budget: a baseline for comparing methods.
    Random,
}

impl crate::schema::Named for Strategy {
    const ALL: &'static [Self] = &[Strategy::Islands, Strategy::Gamma, Strategy::Random];
    fn name(self) -> &'static str {
        Strategy::name(self)
    }
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Islands => "islands",
            Strategy::Gamma => "gamma",
            Strategy::Random => "random",
        }
    }
}

/// Everything that decides a search's result (plus stop conditions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    #[serde(default)]
    pub strategy: Strategy,
    pub fitness1: Objective,
    pub fitness2: Option<Objective>,
    /// Population (per island for `islands`).
    pub num_pop: usize,
    /// Generations of `gamma`; 0 = until the budget is spent. Without `max_evals` the budget is
    /// `epochs × num_pop` evaluations per layer for every strategy (100 × num_pop for 0).
    pub epochs: usize,
    pub seed: u64,
    pub space: SpaceOptions,
    pub rates: Rates,
    /// Evaluation budget per layer (each distinct layer of a model gets it, so a layer's result
    /// does not depend on what else is searched).
    pub max_evals: Option<u64>,
    /// Stop after this wall time (checked between rounds; makes results timing-dependent).
    #[serde(skip)]
    pub max_time: Option<Duration>,
    /// How area is estimated (objectives and budget).
    pub area_model: AreaModel,
    /// Hard area budget in um^2: no reported design exceeds it.
    pub area_budget_um2: Option<f64>,
    /// Rate of the PE-count mutation when co-exploring (DiGamma: 0.5).
    pub pe_rate: f64,
    /// Relative slack on the first objective within which the second one decides: the reported
    /// mapping is the one with the lowest second cost among the archived mappings whose first
    /// cost is within `T × |best|` of the best; 0 = strictly lexicographic (GAMMA). `None` = the
    /// strategy's default ([`SearchConfig::f1_tolerance`]), and then left out of the serialised
    /// form, so job ids of sweeps that do not set it do not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f1_tolerance: Option<f64>,
    /// Energy per access and MAC (objectives energy, EDP, energy-area; the reported energy).
    /// Serialised only when it is not MAESTRO's, so configurations and sweep job ids written
    /// before tables existed are unchanged.
    #[serde(default, skip_serializing_if = "EnergyModel::is_maestro")]
    pub energy_model: EnergyModel,
}

/// `islands`' default [`SearchConfig::f1_tolerance`]: runtimes a few cycles apart can differ
/// several-fold in energy, and 1e-4 (0.01% of runtime) cut the worst energy spread over seeds
/// from 17.6x to 4.9x at 1e6 evaluations (BENCHMARKS.md) while every seed stayed within 0.02% of
/// the compute bound wherever a strict search reached that.
pub const ISLANDS_F1_TOLERANCE: f64 = 1e-4;

/// Records evaluated per call within a round: four of the GPU evaluator's default chunks (so
/// its upload/compute overlap still runs), and a bound on the full-results buffer (52 bytes a
/// record) for populations in the millions. Results do not depend on it (a test lowers it).
/// How many records ahead the memory's sets are loaded while a round is looked up.
const AHEAD: usize = 8;

static EVAL_CHUNK: AtomicUsize = AtomicUsize::new(1 << 22);

/// Set by [`request_stop`]: every running search ends after its current round and returns what
/// it has found, as at its time limit.
static STOP: AtomicBool = AtomicBool::new(false);

/// Asks every running search to stop after its current round (the CLI's Ctrl-C handler): the
/// results then hold each layer's best so far, nothing already evaluated is lost.
pub fn request_stop() {
    STOP.store(true, AtomicOrdering::SeqCst);
}

/// Whether [`request_stop`] was called (and not cleared since).
pub fn stop_requested() -> bool {
    STOP.load(AtomicOrdering::SeqCst)
}

/// Withdraws a [`request_stop`], so that later searches run in full (a caller that handles an
/// interrupt and goes on, such as the Python package).
pub fn clear_stop() {
    STOP.store(false, AtomicOrdering::SeqCst);
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            strategy: Strategy::Islands,
            fitness1: Objective::Latency,
            fitness2: Some(Objective::Power),
            num_pop: 100,
            epochs: 100,
            seed: 0,
            space: SpaceOptions::default(),
            rates: Rates::default(),
            max_evals: None,
            max_time: None,
            area_model: AreaModel::GAMMA,
            area_budget_um2: None,
            pe_rate: 0.5,
            f1_tolerance: None,
            energy_model: EnergyModel::MAESTRO,
        }
    }
}

/// Whether loop order can change an objective by itself: those built on energy (and power,
/// energy over runtime) do through buffer accesses. Runtime, area and throughput change with loop
/// order only through bandwidth stalls, which the neighbourhood polish's adjacent swaps reach;
/// area (PEs and buffer sizes) not at all where the buffers are sized from the tiles.
pub fn order_sensitive(o: Objective) -> bool {
    matches!(o, Objective::Energy | Objective::Power | Objective::Edp | Objective::EnergyArea)
}

impl SearchConfig {
    /// The co-exploration PE move in effect: the configured one, else DiGamma's
    /// [`PeDraw::UpperHalf`], which did best at 1e4 evaluations (BENCHMARKS.md).
    pub fn pe_draw(&self) -> PeDraw {
        self.space.pe_draw.unwrap_or(PeDraw::UpperHalf)
    }

    /// The slack on the first objective in effect: the configured one, else the strategy's
    /// default: for `islands` [`ISLANDS_F1_TOLERANCE`] when the second objective is
    /// [`order_sensitive`] (energy and its kin, where runtimes a few cycles apart differ
    /// several-fold), strictly lexicographic otherwise (latency then area, DiGamma's
    /// co-exploration: the area of a design is no accident of its loop order, and a slower design
    /// is what the user asked not to get); strictly lexicographic for `gamma`, which reproduces
    /// GAMMA, and `random`.
    pub fn f1_tolerance(&self) -> f64 {
        self.f1_tolerance.unwrap_or(match self.strategy {
            Strategy::Islands if self.fitness2.is_some_and(order_sensitive) => ISLANDS_F1_TOLERANCE,
            Strategy::Islands | Strategy::Gamma | Strategy::Random => 0.0,
        })
    }

    /// Whether the search should spend budget on loop orders for their own sake (the order
    /// phase of `islands`): only when an objective is [`order_sensitive`].
    pub fn orders_matter(&self) -> bool {
        order_sensitive(self.fitness1) || self.fitness2.is_some_and(order_sensitive)
    }

    /// The evaluation budget of one layer.
    pub fn budget(&self) -> u64 {
        let pop = self.num_pop.max(2) as u64;
        match (self.max_evals, self.epochs) {
            (Some(m), _) => m.max(1),
            (None, 0) => 100 * pop,
            (None, e) => (e as u64).saturating_mul(pop),
        }
    }

    /// The accelerator a genome describes: the task's, with the genome's PE count when
    /// co-exploring.
    pub fn design_hw(&self, hw: &Hardware, g: &Genome) -> Hardware {
        if self.space.co_explore {
            Hardware { num_pe: g.levels[0].size, ..*hw }
        } else {
            *hw
        }
    }

    /// An objective's value for a candidate evaluated on (a design of) `hw`.
    pub fn value(&self, o: Objective, c: &Candidate, hw: &Hardware) -> Option<f64> {
        o.value(&c.eval, &self.design_hw(hw, &c.genome), &self.area_model)
    }

    /// The candidate's area breakdown under the configured model.
    pub fn area(&self, c: &Candidate, hw: &Hardware) -> Option<AreaBreakdown> {
        let m = c.eval.metrics.as_ref()?;
        let d = self.design_hw(hw, &c.genome);
        Some(self.area_model.breakdown(d.num_pe, m.l1_size_req, m.l2_size_req, m.area))
    }

    /// (first, second) costs of an evaluation on design `d`; [`Fitness::WORST`] when unusable or
    /// over the area budget.
    pub fn fitness(&self, ev: &Evaluation, d: &Hardware) -> Fitness {
        let f1 = self.fitness1.cost(ev, d, &self.area_model);
        let f2 = self.fitness2.map(|o| o.cost(ev, d, &self.area_model)).unwrap_or(0.0);
        let over_budget = self.area_budget_um2.is_some_and(|b| {
            ev.metrics
                .is_none_or(|m| self.area_model.breakdown(d.num_pe, m.l1_size_req, m.l2_size_req, m.area).total > b)
        });
        if f1.is_finite() && f2.is_finite() && !over_budget {
            Fitness { f1, f2 }
        } else {
            Fitness::WORST
        }
    }
}

/// One evaluated mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub genome: Genome,
    pub eval: Evaluation,
    pub fit: Fitness,
}

/// Best-so-far statistics after one round (a generation of every island).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GenStat {
    pub generation: usize,
    /// Evaluations of this layer so far.
    pub evaluations: u64,
    /// Best (first, second) objective values so far; None while nothing valid was found.
    pub best_f1: Option<f64>,
    pub best_f2: Option<f64>,
    /// Share of this round's new genomes that were physically valid.
    pub valid_fraction: f64,
}

/// Result of searching one layer.
#[derive(Debug, Clone)]
pub struct LayerResult {
    pub index: usize,
    pub layer: Layer,
    pub hw: Hardware,
    pub best: Option<Candidate>,
    pub pareto: Vec<Candidate>,
    pub history: Vec<GenStat>,
    pub evaluations: u64,
    /// Set when this layer has the same shape as an earlier one and reuses its search.
    pub same_as: Option<usize>,
    /// Compute bound: ceil(MACs / PEs) cycles on the task's PEs (the PE limit when
    /// co-exploring). No physically valid mapping is faster.
    pub bound_cycles: i64,
    /// What the layer's parallelism allows on those PEs with the levels searched
    /// ([`crate::search::parallel_bound`]); at least `bound_cycles`, and also a true bound.
    pub parallel_bound_cycles: i64,
    /// The layer's original stride (Y, X), reported beside the results: the search sees the
    /// stride-1 equivalent layer, so it is (1, 1) until [`LayerResult::set_strides`] copies the
    /// model's.
    pub stride: [i64; 2],
}

impl LayerResult {
    /// Copies each result's original stride from the model its layers came from (by layer index).
    pub fn set_strides(results: &mut [LayerResult], model: &crate::workload::Model) {
        for r in results {
            r.stride = model.stride(r.index);
        }
    }

    /// Best runtime over the compute bound, minus 1 (0 = at the bound).
    pub fn gap_to_bound(&self) -> Option<f64> {
        let m = self.best.as_ref()?.eval.metrics?;
        Some(m.runtime_cycles as f64 / self.bound_cycles.max(1) as f64 - 1.0)
    }

    /// Best runtime over the parallelism bound, minus 1.
    pub fn gap_to_parallel_bound(&self) -> Option<f64> {
        let m = self.best.as_ref()?.eval.metrics?;
        Some(m.runtime_cycles as f64 / self.parallel_bound_cycles.max(1) as f64 - 1.0)
    }
}

/// [`crate::search::parallel_bound`] for a search space: the levels it may use and the dims they
/// may spread (all six under a constraint, which may spread R or S; the compute bound when a
/// constraint has a second spatial dim, whose lockstep spreading the bound does not model).
pub fn layer_parallel_bound(layer: &Layer, num_pe: i64, opts: &SpaceOptions) -> i64 {
    let levels = opts.slevel_max.max(opts.slevel_min);
    match &opts.constraint {
        Some(c) if c.levels.iter().any(|l| l.sp2 != crate::search::constraint::Sp2Rule::Off) => {
            compute_bound(layer, num_pe)
        }
        Some(c) => super::parallel_bound(layer, num_pe, c.levels.len().max(levels), &Dim::ALL),
        None if opts.par_rs => super::parallel_bound(layer, num_pe, levels, &Dim::ALL),
        None => super::parallel_bound(layer, num_pe, levels, &Dim::ALL[..4]),
    }
}

/// ceil(true MACs / PEs): runtime ≥ MACs / PEs for any mapping with throughput ≤ PEs.
pub fn compute_bound(layer: &Layer, num_pe: i64) -> i64 {
    let macs = layer.shape().true_macs().max(0) as i128;
    let pe = num_pe.max(1) as i128;
    ((macs + pe - 1) / pe).min(i64::MAX as i128) as i64
}

/// Progress report after each round.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub generation: usize,
    pub epochs: usize,
    pub evaluations: u64,
    /// Evaluations planned over all layers (the sum of their budgets).
    pub budget: u64,
    pub elapsed: Duration,
    /// Sum over layers of the best first objective (None until every layer has a valid mapping).
    pub total_best_f1: Option<f64>,
}

/// What a strategy sees of its layer when it proposes genomes or absorbs their results.
pub struct Cx<'a> {
    pub cfg: &'a SearchConfig,
    pub space: &'a Space,
    pub hw: &'a Hardware,
    pub stride: usize,
    /// Compute bound of the layer (cycles).
    pub bound: i64,
    /// Evaluations this layer may still use.
    pub remaining: u64,
    pub budget: u64,
    /// The layer's best so far.
    pub best: Option<&'a Candidate>,
    /// Its Pareto archive, best first objective first.
    pub pareto: &'a [Candidate],
}

impl Cx<'_> {
    /// Whether the first objective is at its bound (latency at ceil(MACs / PEs)), so that more
    /// search cannot improve it.
    pub fn at_bound(&self) -> bool {
        self.cfg.fitness1 == Objective::Latency
            && !self.cfg.space.co_explore
            && self.best.is_some_and(|b| b.fit.f1 <= self.bound as f64)
    }

    /// PE count written into a record of `g`.
    pub fn num_pe(&self, g: &Genome) -> i64 {
        self.cfg.design_hw(self.hw, g).num_pe
    }
}

/// A layer's strategy and random stream, kept apart from [`LayerState`] so that the strategy can
/// be driven while it reads its layer's [`Cx`].
type Run = (Box<dyn Driver>, ChaCha8Rng);

struct LayerState {
    space: Space,
    hw: Hardware,
    layer: Layer,
    best: Option<Candidate>,
    pareto: Pareto,
    history: Vec<GenStat>,
    evaluations: u64,
    budget: u64,
    bound: i64,
    parallel: i64,
    finished: bool,
}

impl LayerState {
    /// What the layer's strategy sees of it now.
    fn cx<'a>(&'a self, cfg: &'a SearchConfig, stride: usize) -> Cx<'a> {
        Cx {
            cfg,
            space: &self.space,
            hw: &self.hw,
            stride,
            bound: self.bound.max(self.parallel),
            remaining: self.budget.saturating_sub(self.evaluations),
            budget: self.budget,
            best: self.best.as_ref(),
            pareto: self.pareto.front(),
        }
    }
}

/// Seeds per layer are derived from the run seed and the layer's position, so a layer's search
/// does not depend on how many other layers run beside it.
fn layer_rng(seed: u64, index: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Searches each distinct (layer, accelerator) once and gives repeated layers (BERT's per-head
/// GEMMs, ResNet's repeated blocks) the result of their first occurrence.
pub fn search_dedup(
    tasks: &[(usize, Layer, Hardware)],
    cfg: &SearchConfig,
    evaluator: &mut dyn BatchEvaluator,
    progress: impl FnMut(&Progress),
) -> Vec<LayerResult> {
    let mut unique: Vec<(usize, Layer, Hardware)> = Vec::new();
    let mut which = Vec::with_capacity(tasks.len());
    for t in tasks {
        match unique.iter().position(|u| u.1 == t.1 && u.2 == t.2) {
            Some(k) => which.push(k),
            None => {
                which.push(unique.len());
                unique.push(*t);
            }
        }
    }
    let found = search(&unique, cfg, evaluator, progress);
    tasks
        .iter()
        .zip(which)
        .map(|(t, k)| {
            let mut r = found[k].clone();
            if r.index != t.0 {
                r.same_as = Some(r.index);
                r.index = t.0;
                r.evaluations = 0;
            }
            r
        })
        .collect()
}

/// Runs the search for every task (layer on its accelerator, with its original index).
pub fn search(
    tasks: &[(usize, Layer, Hardware)],
    cfg: &SearchConfig,
    evaluator: &mut dyn BatchEvaluator,
    progress: impl FnMut(&Progress),
) -> Vec<LayerResult> {
    search_seeded(tasks, cfg, &[], evaluator, progress)
}

/// [`search`] with extra genomes in each task's initial population (`seeds[i]` for task `i`;
/// missing entries mean none), e.g. the best mappings of a less flexible map space.
pub fn search_seeded(
    tasks: &[(usize, Layer, Hardware)],
    cfg: &SearchConfig,
    seeds: &[Vec<Genome>],
    evaluator: &mut dyn BatchEvaluator,
    mut progress: impl FnMut(&Progress),
) -> Vec<LayerResult> {
    let start = Instant::now();
    let max_levels = if let Some(c) = &cfg.space.constraint { c.levels.len() } else { cfg.space.slevel_max.max(1) };
    let stride = stride_for(max_levels.clamp(1, crate::mapping::MAX_LEVELS));
    let problems: Vec<PackedProblem> = tasks.iter().map(|(_, l, hw)| PackedProblem::new(l, hw)).collect();
    let (mut states, mut runs): (Vec<LayerState>, Vec<Run>) = tasks
        .iter()
        .enumerate()
        .map(|(ti, (idx, layer, hw))| {
            let mut opts = cfg.space.clone();
            opts.pe_draw = Some(cfg.pe_draw());
            let mut space = Space::new(layer, hw.num_pe, opts);
            if let Some(b) = cfg.area_budget_um2 {
                space = space.with_area_cap(cfg.area_model, b);
            }
            let mut init: Vec<Genome> = space.anchor_genome().into_iter().collect();
            init.extend(seeds.get(ti).into_iter().flatten().map(|g| {
                let mut g = *g;
                space.repair(&mut g);
                g
            }));
            let run: Run = (strategy::driver(cfg, init), layer_rng(cfg.seed, *idx));
            let st = LayerState {
                space,
                hw: *hw,
                layer: *layer,
                best: None,
                pareto: Pareto::new(256, cfg.f1_tolerance()),
                history: Vec::new(),
                evaluations: 0,
                budget: cfg.budget(),
                bound: compute_bound(layer, hw.num_pe),
                parallel: layer_parallel_bound(layer, hw.num_pe, &cfg.space),
                finished: false,
            };
            (st, run)
        })
        .unzip();
    let budget_total: u64 = states.iter().map(|s| s.budget).sum();
    // `islands` knows repeats and mappings over a buffer cap without evaluating them; `gamma`
    // evaluates every genome, as GAMMA does, and random search is the plain baseline.
    let mut memos: Vec<Memo> = if cfg.strategy == Strategy::Islands {
        states.iter().map(|s| Memo::new(s.budget)).collect()
    } else {
        Vec::new()
    };
    let mut words: Vec<u32> = Vec::new();
    let mut results: Vec<PackedResult> = Vec::new();
    let mut fits: Vec<Fitness> = Vec::new();
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    let mut valid: Vec<usize> = Vec::new();
    let mut ranges: Vec<(usize, usize, usize)> = Vec::new();
    // With a memory, per chunk: the records' keys and whether a buffer cap rules them out, the
    // records to evaluate (copied unless all are) with their index in the round and fitness, and
    // the records equal to an earlier one of the round.
    let mut keys: Vec<((u64, u64), bool)> = Vec::new();
    let mut new_words: Vec<u32> = Vec::new();
    let mut new_at: Vec<usize> = Vec::new();
    let mut new_fits: Vec<Fitness> = Vec::new();
    let mut same: Vec<(usize, usize, usize)> = Vec::new();
    let mut total_evals = 0u64;
    for round in 0.. {
        words.clear();
        spans.clear();
        for (ti, (st, run)) in states.iter_mut().zip(runs.iter_mut()).enumerate() {
            if st.finished {
                continue;
            }
            let from = words.len();
            let cx = st.cx(cfg, stride);
            if cx.remaining > 0 {
                run.0.propose(&cx, &mut run.1, &mut words);
            }
            let n = ((words.len() - from) / stride).min(cx.remaining as usize);
            words.truncate(from + n * stride);
            if n == 0 {
                st.finished = true;
                continue;
            }
            for rec in words[from..].chunks_exact_mut(stride) {
                rec[0] = ti as u32;
            }
            spans.push((ti, from / stride, n));
        }
        if spans.is_empty() {
            break;
        }
        let n_all = words.len() / stride;
        valid.clear();
        valid.resize(spans.len(), 0);
        fits.clear();
        let memo = !memos.is_empty();
        if memo {
            fits.resize(n_all, Fitness::WORST);
        }
        // Evaluated in chunks, so that the full results (which only the best and the Pareto
        // archive keep) need a buffer of one chunk, not of the whole round: at a population of
        // 1e7 (9.5e6 offspring a round) 218 MB instead of 494 MB. With a memory the records to
        // evaluate are copied out, so its chunks are half as long (two GPU chunks, 160 MB).
        let chunk_len = EVAL_CHUNK.load(AtomicOrdering::Relaxed).max(1);
        let chunk_len = if memo { chunk_len.div_ceil(2) } else { chunk_len };
        for lo in (0..n_all).step_by(chunk_len) {
            let hi = (lo + chunk_len).min(n_all);
            // Per span of the chunk: where its records to evaluate lie in `chunk`.
            ranges.clear();
            let chunk: &[u32] = if memo {
                keys.clear();
                let states_ref = &states;
                let problems_ref = &problems;
                keys.par_extend(words[lo * stride..hi * stride].par_chunks_exact(stride).with_min_len(2048).map(
                    |rec| {
                        // Buffers are checked only where the accelerator caps them.
                        let hw = &states_ref[rec[0] as usize].hw;
                        let capped = hw.l1_size > 0 || hw.l2_size > 0;
                        (Memo::keys(rec), capped && over_buffer_caps(problems_ref, rec))
                    },
                ));
                // Repeats take their fitness from the memory; the rest is evaluated.
                new_words.clear();
                new_at.clear();
                same.clear();
                for (si, &(ti, from, n)) in spans.iter().enumerate() {
                    let (a, b) = (from.max(lo), (from + n).min(hi));
                    if a >= b {
                        continue;
                    }
                    let start = new_at.len();
                    for i in a..b {
                        if let Some(&(k, false)) = keys.get(i + AHEAD - lo).filter(|_| i + AHEAD < b) {
                            memos[ti].touch(k);
                        }
                        let (key, over) = keys[i - lo];
                        let seen = if over {
                            // Over a buffer cap: unusable (fitness WORST) without an evaluation.
                            memos[ti].take_free()
                        } else {
                            memos[ti].look(key, i)
                        };
                        match seen {
                            Seen::Before(f) => {
                                fits[i] = f;
                                valid[si] += f.is_valid() as usize;
                            }
                            Seen::SameAs(j) => same.push((si, i, j)),
                            Seen::New => new_at.push(i),
                        }
                    }
                    ranges.push((si, start, new_at.len()));
                }
                if new_at.len() == hi - lo {
                    // Nothing known: evaluated in place (large populations rarely repeat).
                    &words[lo * stride..hi * stride]
                } else {
                    // Copied on every core: at large populations this copy was the main
                    // thread's largest cost while the workers waited.
                    new_words.resize(new_at.len() * stride, 0);
                    new_words
                        .par_chunks_exact_mut(stride)
                        .zip(new_at.par_iter())
                        .with_min_len(4096)
                        .for_each(|(dst, &i)| dst.copy_from_slice(&words[i * stride..(i + 1) * stride]));
                    &new_words
                }
            } else {
                for (si, &(_, from, n)) in spans.iter().enumerate() {
                    let (a, b) = (from.max(lo), (from + n).min(hi));
                    if a < b {
                        ranges.push((si, a - lo, b - lo));
                    }
                }
                &words[lo * stride..hi * stride]
            };
            let n_eval = chunk.len() / stride;
            total_evals += n_eval as u64;
            evaluator.evaluate_packed(&problems, chunk, stride, &mut results);
            // Fitness of every record, on all cores: full metrics are derived and dropped here.
            let chunk_fits = if memo {
                new_fits.clear();
                &mut new_fits
            } else {
                &mut fits
            };
            let at = chunk_fits.len();
            let states_ref = &states;
            let results_ref = &results;
            chunk_fits.par_extend((0..n_eval).into_par_iter().with_min_len(512).map(|i| {
                let rec = &chunk[i * stride..(i + 1) * stride];
                let st = &states_ref[rec[0] as usize];
                let d = Hardware { num_pe: rec[2] as i64, ..st.hw };
                // A status the model never writes is an error, never a usable mapping.
                match from_packed(&st.layer, &d, rec[1] as usize, &results_ref[i], &cfg.energy_model) {
                    Ok(e) => cfg.fitness(&e, &d),
                    Err(_) => Fitness::WORST,
                }
            }));
            let chunk_fits = &chunk_fits[at..];
            // Each layer's best and archive from its records in this chunk (in record order, as
            // one pass over the whole round would take them).
            for &(si, a, b) in &ranges {
                let ti = spans[si].0;
                states[ti].evaluations += (b - a) as u64;
                valid[si] += record_results(
                    &mut states[ti],
                    &cfg.energy_model,
                    stride,
                    &chunk[a * stride..b * stride],
                    &chunk_fits[a..b],
                    &results[a..b],
                );
            }
            if memo {
                for &(si, a, b) in &ranges {
                    let ti = spans[si].0;
                    for e in a..b {
                        if e + AHEAD < b {
                            memos[ti].touch(keys[new_at[e + AHEAD] - lo].0);
                        }
                        let i = new_at[e];
                        fits[i] = new_fits[e];
                        memos[ti].resolve(keys[i - lo].0, i, new_fits[e]);
                    }
                }
                // Records equal to an earlier one of the round (in this chunk or before).
                for &(si, i, j) in &same {
                    fits[i] = fits[j];
                    valid[si] += fits[i].is_valid() as usize;
                }
            }
        }
        for (si, &(ti, from, n)) in spans.iter().enumerate() {
            let st = &mut states[ti];
            let recs = &words[from * stride..(from + n) * stride];
            let f = &fits[from..from + n];
            let (driver, rng) = &mut runs[ti];
            driver.absorb(&st.cx(cfg, stride), rng, recs, f);
            let (bf1, bf2) = match &st.best {
                Some(b) => (Some(cfg.fitness1.from_cost(b.fit.f1)), cfg.fitness2.map(|o| o.from_cost(b.fit.f2))),
                None => (None, None),
            };
            st.history.push(GenStat {
                generation: round,
                evaluations: st.evaluations,
                best_f1: bf1,
                best_f2: bf2,
                valid_fraction: valid[si] as f64 / n as f64,
            });
        }
        let total_best =
            states.iter().map(|s| s.best.as_ref().map(|b| cfg.fitness1.from_cost(b.fit.f1))).sum::<Option<f64>>();
        progress(&Progress {
            generation: round,
            epochs: cfg.epochs,
            evaluations: total_evals,
            budget: budget_total,
            elapsed: start.elapsed(),
            total_best_f1: total_best,
        });
        if cfg.max_time.is_some_and(|t| start.elapsed() >= t) || stop_requested() {
            break;
        }
    }
    states
        .into_iter()
        .zip(tasks)
        .map(|(st, (idx, layer, hw))| LayerResult {
            index: *idx,
            layer: *layer,
            hw: *hw,
            best: st.pareto.pick(cfg.f1_tolerance()).cloned().or(st.best),
            pareto: st.pareto.into_sorted(),
            history: st.history,
            evaluations: st.evaluations,
            same_as: None,
            bound_cycles: st.bound,
            parallel_bound_cycles: st.parallel,
            stride: [1, 1],
        })
        .collect()
}

/// Updates a layer's best and Pareto archive from one batch; returns how many were valid.
fn record_results(
    st: &mut LayerState,
    energy: &EnergyModel,
    stride: usize,
    recs: &[u32],
    fits: &[Fitness],
    res: &[PackedResult],
) -> usize {
    let candidate = |i: usize| {
        let rec = &recs[i * stride..(i + 1) * stride];
        let (_, pe, genome) = unpack_genome(rec).expect("the engine packed this record");
        let d = Hardware { num_pe: pe, ..st.hw };
        let eval =
            from_packed(&st.layer, &d, rec[1] as usize, &res[i], energy).expect("a valid fitness has a known status");
        Candidate { genome, eval, fit: fits[i] }
    };
    let mut valid = 0;
    let mut best_i: Option<usize> = None;
    for (i, f) in fits.iter().enumerate() {
        if !f.is_valid() {
            continue;
        }
        valid += 1;
        if best_i.is_none_or(|b| f.lex_cmp(&fits[b]).is_lt()) {
            best_i = Some(i);
        }
        if !st.pareto.is_dominated(f) {
            st.pareto.insert(&candidate(i));
        }
    }
    if let Some(i) = best_i {
        if st.best.as_ref().is_none_or(|b| fits[i].lex_cmp(&b.fit).is_lt()) {
            st.best = Some(candidate(i));
        }
    }
    valid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::CpuEvaluator;

    /// Populations larger than a draw chunk are drawn and bred on every core: the same seed gives
    /// the same search on one thread and on three.
    #[test]
    fn large_populations_do_not_depend_on_the_thread_count() {
        let hw = Hardware::default();
        let tasks = [(0, Layer::conv(64, 32, 28, 28, 3, 3), hw)];
        let run = |strategy, threads| {
            let cfg =
                SearchConfig { strategy, num_pop: 9000, max_evals: Some(20_000), seed: 2, ..SearchConfig::default() };
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let out = pool.install(|| search(&tasks, &cfg, &mut CpuEvaluator, |_| {}));
            assert!(out[0].best.is_some());
            format!("{:?}", out.iter().map(|r| (&r.best, &r.pareto, &r.history)).collect::<Vec<_>>())
        };
        for strategy in [Strategy::Gamma, Strategy::Islands] {
            assert!(run(strategy, 1) == run(strategy, 3), "{}: the thread count changed the search", strategy.name());
        }
    }

    /// Chunked evaluation within a round gives the same search as one pass: rounds of several
    /// layers cut mid-layer by a chunk of 7 records.
    #[test]
    fn results_do_not_depend_on_the_evaluation_chunk() {
        let hw = Hardware::default();
        let tasks: Vec<_> =
            [Layer::conv(64, 32, 28, 28, 3, 3), Layer::conv(16, 48, 14, 14, 1, 1), Layer::conv(96, 64, 1, 80, 1, 1)]
                .into_iter()
                .enumerate()
                .map(|(i, l)| (i, l, hw))
                .collect();
        let run = |strategy| {
            let cfg = SearchConfig { strategy, num_pop: 30, max_evals: Some(1500), seed: 5, ..SearchConfig::default() };
            let out = search(&tasks, &cfg, &mut CpuEvaluator, |_| {});
            assert!(out.iter().all(|r| r.best.is_some()), "a valid mapping per layer");
            // Everything reported: the best and the archive with their full evaluations, history.
            format!("{:?}", out.iter().map(|r| (&r.best, &r.pareto, &r.history)).collect::<Vec<_>>())
        };
        for strategy in [Strategy::Gamma, Strategy::Islands] {
            let whole = run(strategy);
            EVAL_CHUNK.store(7, AtomicOrdering::Relaxed);
            let chunked = run(strategy);
            EVAL_CHUNK.store(1 << 22, AtomicOrdering::Relaxed);
            assert!(whole == chunked, "{}: a chunked round reported something else", strategy.name());
        }
    }

    /// Counts what reaches the evaluator: records, repeats of earlier ones, and records whose
    /// evaluation finds a buffer over its cap.
    struct Counting {
        seen: std::collections::HashSet<Vec<u32>>,
        evaluated: u64,
        repeats: u64,
        over_cap: u64,
        hw: Hardware,
    }

    impl BatchEvaluator for Counting {
        fn evaluate_packed(&mut self, p: &[PackedProblem], words: &[u32], stride: usize, out: &mut Vec<PackedResult>) {
            for rec in words.chunks_exact(stride) {
                self.evaluated += 1;
                if !self.seen.insert(rec[1..].to_vec()) {
                    self.repeats += 1;
                }
            }
            CpuEvaluator.evaluate_packed(p, words, stride, out);
            let hw = self.hw;
            self.over_cap += out
                .iter()
                .filter(|r| r.status == 0 && (r.l1 as i64 > hw.l1_cap() || r.l2 as i64 > hw.l2_cap()))
                .count() as u64;
        }
    }

    /// `islands` spends its budget on records it has not evaluated and whose buffers fit (a
    /// repeat gets its fitness from the memory, a mapping over a buffer cap is found unusable
    /// without evaluation), while `gamma` evaluates every genome as GAMMA does; the reported
    /// evaluations are those the evaluator made.
    #[test]
    fn islands_evaluate_no_repeats_and_nothing_over_the_buffers() {
        // GAMMA's example accelerator, whose L1 and L2 rule out a good share of random mappings.
        let hw = Hardware { num_pe: 168, l1_size: 512, l2_size: 108000, noc_bw: 81920000, offchip_bw: -1 };
        let tasks = [(0, Layer::conv(64, 32, 28, 28, 3, 3), hw), (1, Layer::conv(256, 48, 14, 14, 3, 3), hw)];
        for (strategy, chunk) in [(Strategy::Islands, 1 << 22), (Strategy::Islands, 7), (Strategy::Gamma, 1 << 22)] {
            let cfg = SearchConfig { strategy, max_evals: Some(6000), seed: 2, ..SearchConfig::default() };
            let mut ev = Counting { seen: Default::default(), evaluated: 0, repeats: 0, over_cap: 0, hw };
            EVAL_CHUNK.store(chunk, AtomicOrdering::Relaxed);
            let out = search(&tasks, &cfg, &mut ev, |_| {});
            EVAL_CHUNK.store(1 << 22, AtomicOrdering::Relaxed);
            assert_eq!(out.iter().map(|r| r.evaluations).sum::<u64>(), ev.evaluated);
            assert!(out.iter().all(|r| r.evaluations == 6000), "{}: the budget is spent", strategy.name());
            let share = ev.repeats as f64 / ev.evaluated as f64;
            let over = ev.over_cap as f64 / ev.evaluated as f64;
            match strategy {
                // Only a record whose memory slot another record took is evaluated again.
                Strategy::Islands => {
                    assert!(share < 0.01, "islands evaluated {share:.3} repeats");
                    assert_eq!(ev.over_cap, 0, "islands evaluated mappings over a buffer cap");
                }
                _ => {
                    // What the checks above would miss if the memory or the buffer check did nothing.
                    assert!(share > 0.05, "gamma evaluated {share:.3} repeats");
                    assert!(over > 0.05, "gamma evaluated {over:.3} over a cap");
                }
            }
        }
    }
}
