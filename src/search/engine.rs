//! The GA loop. Every layer keeps its own population and random stream; each generation the
//! offspring of all layers are evaluated in one batch, so a whole model keeps the device full.

use super::constraint::{self, FixedAxes};
use super::objective::{Fitness, Objective};
use super::operators::{self, Rates};
use super::pareto::Pareto;
use super::space::{Space, SpaceOptions};
use crate::eval::{Evaluator, Item, Problem};
use crate::hardware::{AreaBreakdown, AreaModel, Hardware};
use crate::mapping::Genome;
use crate::model::Evaluation;
use crate::workload::Layer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Everything that decides a search's result (plus stop conditions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    pub fitness1: Objective,
    pub fitness2: Option<Objective>,
    pub num_pop: usize,
    pub epochs: usize,
    pub seed: u64,
    pub space: SpaceOptions,
    pub rates: Rates,
    /// Stop after this many evaluations in total (checked between generations).
    pub max_evals: Option<u64>,
    /// Stop after this wall time (checked between generations; makes results timing-dependent).
    #[serde(skip)]
    pub max_time: Option<Duration>,
    /// How area is estimated (objectives and budget).
    pub area_model: AreaModel,
    /// Hard area budget in um^2: no reported design exceeds it.
    pub area_budget_um2: Option<f64>,
    /// Rate of the PE-count mutation when co-exploring (DiGamma: 0.5).
    pub pe_rate: f64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
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
        }
    }
}

impl SearchConfig {
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
}

/// One evaluated mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub genome: Genome,
    pub eval: Evaluation,
    pub fit: Fitness,
}

/// Best-so-far statistics after one generation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GenStat {
    pub generation: usize,
    /// Evaluations of this layer so far.
    pub evaluations: u64,
    /// Best (first, second) objective values so far; None while nothing valid was found.
    pub best_f1: Option<f64>,
    pub best_f2: Option<f64>,
    /// Share of this generation's new genomes that were physically valid.
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
}

/// Progress report after each generation.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub generation: usize,
    pub epochs: usize,
    pub evaluations: u64,
    pub elapsed: Duration,
    /// Sum over layers of the best first objective (None until every layer has a valid mapping).
    pub total_best_f1: Option<f64>,
}

struct LayerState {
    space: Space,
    rng: ChaCha8Rng,
    /// Evaluated population, sorted best first.
    pool: Vec<Candidate>,
    /// Genomes awaiting evaluation.
    pending: Vec<Genome>,
    best: Option<Candidate>,
    pareto: Pareto,
    history: Vec<GenStat>,
    evaluations: u64,
}

fn fitness(cfg: &SearchConfig, genome: &Genome, ev: &Evaluation, hw: &Hardware) -> Fitness {
    let d = cfg.design_hw(hw, genome);
    let f1 = cfg.fitness1.cost(ev, &d, &cfg.area_model);
    let f2 = cfg.fitness2.map(|o| o.cost(ev, &d, &cfg.area_model)).unwrap_or(0.0);
    let over_budget = cfg.area_budget_um2.is_some_and(|b| {
        ev.metrics.is_none_or(|m| cfg.area_model.breakdown(d.num_pe, m.l1_size_req, m.l2_size_req, m.area).total > b)
    });
    if f1.is_finite() && f2.is_finite() && !over_budget {
        Fitness { f1, f2 }
    } else {
        Fitness::WORST
    }
}

/// Seeds per layer are derived from the run seed and the layer's position, so a layer's search
/// does not depend on how many other layers run beside it.
fn layer_rng(seed: u64, index: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn initial_population(space: &Space, n: usize, rng: &mut ChaCha8Rng) -> Vec<Genome> {
    (0..n).map(|i| if i < 2 { space.unit_genome(rng) } else { space.random_genome(rng) }).collect()
}

/// Searches each distinct (layer, accelerator) once and gives repeated layers (BERT's per-head
/// GEMMs, ResNet's repeated blocks) the result of their first occurrence.
pub fn search_dedup(
    tasks: &[(usize, Layer, Hardware)],
    cfg: &SearchConfig,
    evaluator: &mut Evaluator,
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
    evaluator: &mut Evaluator,
    progress: impl FnMut(&Progress),
) -> Vec<LayerResult> {
    search_seeded(tasks, cfg, &[], evaluator, progress)
}

/// Puts genomes of a constrained space's fixed map and `seeds` (repaired into the space) at the
/// head of an initial population; the rest stay as drawn. Unconstrained without seeds: no change.
fn seed_population(space: &Space, pending: &mut [Genome], seeds: &[Genome]) {
    let anchor = space.anchor_genome();
    for (slot, g) in pending.iter_mut().zip(anchor.iter().chain(seeds)) {
        let mut g = g.clone();
        space.repair(&mut g);
        *slot = g;
    }
}

/// [`search`] with extra genomes in each task's initial population (`seeds[i]` for task `i`;
/// missing entries mean none), e.g. the best mappings of a less flexible map space.
pub fn search_seeded(
    tasks: &[(usize, Layer, Hardware)],
    cfg: &SearchConfig,
    seeds: &[Vec<Genome>],
    evaluator: &mut Evaluator,
    mut progress: impl FnMut(&Progress),
) -> Vec<LayerResult> {
    let start = Instant::now();
    let num_pop = cfg.num_pop.max(2);
    let problems: Vec<Problem> = tasks.iter().map(|(_, layer, hw)| Problem { layer: *layer, hw: *hw }).collect();
    let mut states: Vec<LayerState> = tasks
        .iter()
        .enumerate()
        .map(|(ti, (idx, layer, hw))| {
            let mut space = Space::new(layer, hw.num_pe, cfg.space.clone());
            if let Some(b) = cfg.area_budget_um2 {
                space = space.with_area_cap(cfg.area_model, b);
            }
            let mut rng = layer_rng(cfg.seed, *idx);
            let mut pending = initial_population(&space, num_pop, &mut rng);
            seed_population(&space, &mut pending, seeds.get(ti).map(|v| &v[..]).unwrap_or(&[]));
            LayerState {
                space,
                rng,
                pool: Vec::new(),
                pending,
                best: None,
                pareto: Pareto::new(256),
                history: Vec::new(),
                evaluations: 0,
            }
        })
        .collect();
    let mut total_evals = 0u64;
    for gen in 0..cfg.epochs.max(1) {
        // One batch for every layer's new genomes (moved in, and back out after evaluation).
        let mut items = Vec::new();
        for (pi, st) in states.iter_mut().enumerate() {
            let co = cfg.space.co_explore;
            items.extend(st.pending.drain(..).map(|genome| {
                let num_pe = co.then(|| genome.levels[0].size);
                Item { problem: pi, genome, num_pe }
            }));
        }
        let evals = evaluator.evaluate(&problems, &items);
        total_evals += items.len() as u64;
        let mut fresh_all: Vec<Vec<Candidate>> = (0..states.len()).map(|_| Vec::new()).collect();
        for (it, eval) in items.into_iter().zip(evals) {
            let fit = fitness(cfg, &it.genome, &eval, &problems[it.problem].hw);
            fresh_all[it.problem].push(Candidate { genome: it.genome, eval, fit });
        }
        for (st, fresh) in states.iter_mut().zip(fresh_all) {
            st.evaluations += fresh.len() as u64;
            let valid_new = fresh.iter().filter(|c| c.fit.is_valid()).count();
            st.pareto.insert_batch(fresh.iter().filter(|c| c.fit.is_valid()));
            for c in fresh.iter().filter(|c| c.fit.is_valid()) {
                if st.best.as_ref().is_none_or(|b| c.fit.lex_cmp(&b.fit).is_lt()) {
                    st.best = Some(c.clone());
                }
            }
            let valid_fraction = if fresh.is_empty() { 0.0 } else { valid_new as f64 / fresh.len() as f64 };
            // Selection: unique genomes, best first, at most num_pop. Equal genomes evaluate
            // equally, so sorting by (fitness, genome) puts duplicates side by side.
            let mut pool: Vec<Candidate> = std::mem::take(&mut st.pool).into_iter().chain(fresh).collect();
            pool.sort_by(|a, b| a.fit.lex_cmp(&b.fit).then_with(|| a.genome.cmp(&b.genome)));
            pool.dedup_by(|a, b| a.genome == b.genome);
            pool.truncate(num_pop);
            st.pool = pool;
            let (bf1, bf2) = match &st.best {
                Some(b) => (Some(cfg.fitness1.from_cost(b.fit.f1)), cfg.fitness2.map(|o| o.from_cost(b.fit.f2))),
                None => (None, None),
            };
            st.history.push(GenStat {
                generation: gen,
                evaluations: st.evaluations,
                best_f1: bf1,
                best_f2: bf2,
                valid_fraction,
            });
        }
        let total_best =
            states.iter().map(|s| s.best.as_ref().map(|b| cfg.fitness1.from_cost(b.fit.f1))).sum::<Option<f64>>();
        progress(&Progress {
            generation: gen,
            epochs: cfg.epochs,
            evaluations: total_evals,
            elapsed: start.elapsed(),
            total_best_f1: total_best,
        });
        let out_of_budget =
            cfg.max_evals.is_some_and(|m| total_evals >= m) || cfg.max_time.is_some_and(|t| start.elapsed() >= t);
        if gen + 1 == cfg.epochs || out_of_budget {
            break;
        }
        for st in states.iter_mut() {
            next_generation(st, cfg, num_pop);
        }
    }
    states
        .into_iter()
        .zip(tasks)
        .map(|(st, (idx, layer, hw))| LayerResult {
            index: *idx,
            layer: *layer,
            hw: *hw,
            best: st.best,
            pareto: st.pareto.into_sorted(),
            history: st.history,
            evaluations: st.evaluations,
            same_as: None,
        })
        .collect()
}

/// Elites + offspring of the best parents; a fresh population when no valid parent is left.
fn next_generation(st: &mut LayerState, cfg: &SearchConfig, num_pop: usize) {
    let r = &cfg.rates;
    let valid = st.pool.iter().filter(|c| c.fit.is_valid()).count();
    if valid == 0 {
        st.pool.clear();
        st.pending = initial_population(&st.space, num_pop, &mut st.rng);
        seed_population(&st.space, &mut st.pending, &[]);
        return;
    }
    let n_parents = ((num_pop as f64 * r.parents_ratio).ceil() as usize).clamp(1, valid);
    let n_elite = ((num_pop as f64 * r.elite_ratio).ceil() as usize).min(n_parents);
    st.pool.truncate(n_parents);
    let parents: Vec<Genome> = st.pool.iter().map(|c| c.genome.clone()).collect();
    // Only the elites survive unchanged; the other parents live on through their offspring.
    st.pool.truncate(n_elite);
    let want = num_pop - n_elite;
    // Offspring are bred in chunks, each from its own stream seeded off the layer's stream, so
    // large populations use every core and the result does not depend on the thread count.
    const CHUNK: usize = 2048;
    let seeds: Vec<u64> = (0..want.div_ceil(CHUNK)).map(|_| st.rng.random()).collect();
    let space = &st.space;
    st.pending = seeds
        .par_iter()
        .enumerate()
        .flat_map_iter(|(ci, &seed)| {
            let n = CHUNK.min(want - ci * CHUNK);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            breed(&parents, space, r, cfg.pe_rate, n, &mut rng)
        })
        .collect();
}

/// `n` children of random parent pairs: crossover, then mutations and repair.
fn breed(parents: &[Genome], space: &Space, r: &Rates, pe_rate: f64, n: usize, rng: &mut ChaCha8Rng) -> Vec<Genome> {
    let mut kids = Vec::with_capacity(n + 1);
    while kids.len() < n {
        let i = rng.random_range(0..parents.len());
        let mut j = rng.random_range(0..parents.len());
        if parents.len() > 1 {
            while j == i {
                j = rng.random_range(0..parents.len());
            }
        }
        let (mut a, mut b) = (parents[i].clone(), parents[j].clone());
        // Tile crossover can only break fixed tiles, so a constraint that fixes them skips it.
        let tiles_free = space.fixed_axes().is_none_or(|f| !f.tiles);
        if tiles_free && rng.random_bool(r.crossover) {
            operators::crossover(&mut a, &mut b, rng);
        }
        for child in [&mut a, &mut b] {
            mutate(child, space, r, pe_rate, rng);
        }
        kids.push(a);
        if kids.len() < n {
            kids.push(b);
        }
    }
    kids
}

fn mutate(g: &mut Genome, space: &Space, r: &Rates, pe_rate: f64, rng: &mut ChaCha8Rng) {
    if let Some(fixed) = space.fixed_axes() {
        return mutate_constrained(g, space, fixed, r, pe_rate, rng);
    }
    if rng.random_bool(r.order) {
        operators::mutate_order(g, rng);
    }
    if rng.random_bool(r.tile) {
        operators::mutate_tiles(g, space, r.tile_loci, rng);
    }
    if rng.random_bool(r.par_swap) {
        operators::mutate_par_swap(g);
    }
    if rng.random_bool(r.grow) {
        operators::grow(g, space, rng);
    }
    if rng.random_bool(r.aging) {
        operators::age(g, space);
    }
    if space.opts.co_explore && rng.random_bool(pe_rate) {
        space.random_pe(g, rng);
    }
    space.repair(g);
}

/// Mutation under a mapping constraint: only operators that can change a flexible axis, never a
/// level added or removed. A class with one flexible axis uses GAMMA's per-class operator set.
fn mutate_constrained(g: &mut Genome, space: &Space, fixed: FixedAxes, r: &Rates, pe_rate: f64, rng: &mut ChaCha8Rng) {
    let flex = [!fixed.tiles, !fixed.order, !fixed.par, !fixed.shape];
    match flex {
        [true, false, false, false] => operators::mutate_tiles(g, space, 3, rng),
        [false, true, false, false] => operators::mutate_order(g, rng),
        [false, false, true, false] => constraint::mutate_par(g, space, rng),
        [false, false, false, true] => constraint::mutate_cluster(g, space, rng),
        [tiles, order, par, shape] => {
            if order && rng.random_bool(r.order) {
                operators::mutate_order(g, rng);
            }
            if tiles && rng.random_bool(r.tile) {
                operators::mutate_tiles(g, space, r.tile_loci, rng);
            }
            // Without a constraint the tile mutation's gene 0 redraws the parallel dim and the
            // cluster size; here they are separate so that fixed tiles do not freeze them.
            if par && rng.random_bool(r.tile) {
                constraint::mutate_par(g, space, rng);
            }
            if par && rng.random_bool(r.par_swap) {
                operators::mutate_par_swap(g);
            }
            if shape && rng.random_bool(r.tile) {
                constraint::mutate_cluster(g, space, rng);
            }
        }
    }
    if space.opts.co_explore && rng.random_bool(pe_rate) {
        space.random_pe(g, rng);
    }
    space.repair(g);
}
