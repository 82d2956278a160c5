//! Search strategies. Each proposes packed genomes for the next batch and absorbs their fitness;
//! the engine evaluates every layer's proposals together and keeps bests and Pareto archives.
//!
//! - [`GammaGa`]: GAMMA's GA as published (selection, elites, crossover, per-locus mutation).
//! - [`RandomSearch`]: uniform draws from the map space, the baseline.
//! - [`Islands`]: many small GAs with GAMMA's operators; an island that stops improving has its
//!   best polished by evaluating whole neighbourhoods (hill climbing, then two-gene moves) and
//!   restarts in the least explored structural basin (a first population is a random one plus
//!   one inside such a basin); parents are never more than half one basin. A final phase
//!   enumerates loop orders and re-polishes the mappings at the best first objective (and the
//!   Pareto archive) for the second objective.

use super::constraint::{self, FixedAxes};
use super::engine::{Cx, SearchConfig, Strategy};
use super::local;
use super::objective::Fitness;
use super::operators::{self, Coins, Rates};
use super::pool::{exact_key, mix, tiling_key, Pool, Select, View};
use super::space::Space;
use crate::mapping::pack::{pack_into, unpack_genome, HEADER_WORDS, LEVEL_WORDS};
use crate::mapping::Genome;
use rand::distr::Distribution;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};

/// A strategy's side of the round loop.
pub trait Driver: Send {
    /// Appends this round's genomes as packed records to `out` (at most `cx.remaining` are
    /// evaluated; the rest are dropped). Appending none ends the layer's search.
    fn propose(&mut self, cx: &Cx, rng: &mut ChaCha8Rng, out: &mut Vec<u32>);
    /// The fitness of the records `propose` appended (those evaluated), in order.
    fn absorb(&mut self, cx: &Cx, rng: &mut ChaCha8Rng, recs: &[u32], fits: &[Fitness]);
}

/// The strategy `cfg` names; `init` goes into the first population (anchor map, seeds).
pub fn driver(cfg: &SearchConfig, init: Vec<Genome>) -> Box<dyn Driver> {
    match cfg.strategy {
        Strategy::Gamma => Box::new(GammaGa::new(init)),
        Strategy::Random => Box::new(RandomSearch { init }),
        Strategy::Islands => Box::new(Islands::new(cfg, init)),
    }
}

fn push(cx: &Cx, g: &Genome, out: &mut Vec<u32>) {
    let start = out.len();
    out.resize(start + cx.stride, 0);
    pack_into(g, 0, cx.num_pe(g), &mut out[start..]);
}

/// A first population: `init` first, then GAMMA's two all-ones genomes, then random ones.
fn initial(cx: &Cx, n: usize, init: &[Genome], rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
    for g in init.iter().take(n) {
        push(cx, g, out);
    }
    let first = init.len().min(n);
    if n - first <= DRAW_CHUNK {
        for i in first..n {
            let g = if i < init.len() + 2 { cx.space.unit_genome(rng) } else { cx.space.random_genome(rng) };
            push(cx, &g, out);
        }
        return;
    }
    // A large population is drawn on every core, in chunks with their own streams seeded off
    // `rng` (as `breed` does), so it does not depend on the thread count; drawn one by one, a
    // population of 1e7 kept one core busy for seconds while a GPU waited.
    let ones = (n - first).min(2);
    for _ in 0..ones {
        push(cx, &cx.space.unit_genome(rng), out);
    }
    draw_records(cx, n - first - ones, rng, out, |r| cx.space.random_genome(r));
}

/// Genomes drawn per chunk of a large batch (`initial`, `breed`).
const DRAW_CHUNK: usize = 4096;

/// Appends `n` records to `out`, filled chunk by chunk (`fill` gets a chunk of at most
/// [`DRAW_CHUNK`] records and that chunk's own stream, seeded off `rng`), on every core when
/// there is more than one chunk. The result does not depend on the thread count.
fn fill_chunked(
    stride: usize,
    n: usize,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<u32>,
    fill: impl Fn(&mut [u32], &mut ChaCha8Rng) + Sync,
) {
    let start = out.len();
    out.resize(start + n * stride, 0);
    let seeds: Vec<u64> = (0..n.div_ceil(DRAW_CHUNK)).map(|_| rng.random()).collect();
    let run = |(chunk, &seed): (&mut [u32], &u64)| fill(chunk, &mut ChaCha8Rng::seed_from_u64(seed));
    let region = &mut out[start..];
    if n > DRAW_CHUNK {
        region.par_chunks_mut(DRAW_CHUNK * stride).zip(seeds.par_iter()).for_each(run);
    } else {
        region.chunks_mut(DRAW_CHUNK * stride).zip(seeds.iter()).for_each(run);
    }
}

/// Appends `n` genomes from `draw`, packed, by [`fill_chunked`].
fn draw_records(
    cx: &Cx,
    n: usize,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<u32>,
    draw: impl Fn(&mut ChaCha8Rng) -> Genome + Sync,
) {
    fill_chunked(cx.stride, n, rng, out, |chunk, r| {
        for rec in chunk.chunks_exact_mut(cx.stride) {
            let g = draw(r);
            pack_into(&g, 0, cx.num_pe(&g), rec);
        }
    });
}

/// Appends `n` children of random parent pairs (the first `pool.len()` records of `parents`):
/// crossover, mutations, repair. Large broods are bred in chunks on every core, each from its
/// own stream seeded off `rng`, so the result does not depend on the thread count.
pub fn breed(cx: &Cx, parents: &Pool, n: usize, rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
    fill_chunked(cx.stride, n, rng, out, |chunk, r| breed_chunk(cx, parents, chunk, r));
}

fn breed_chunk(cx: &Cx, parents: &Pool, out: &mut [u32], rng: &mut ChaCha8Rng) {
    let np = parents.len();
    let stride = cx.stride;
    let coins = Coins::new(&cx.cfg.rates, cx.cfg.pe_rate);
    // Tile crossover can only break fixed tiles, so a constraint that fixes them skips it.
    let tiles_free = cx.space.fixed_axes().is_none_or(|f| !f.tiles);
    let mut recs = out.chunks_exact_mut(stride);
    // Reused: unpacking in place copies only the levels a record has.
    let (mut a, mut b) = (parents.genome(0), parents.genome(0));
    loop {
        let i = rng.random_range(0..np);
        parents.prefetch(i);
        let mut j = rng.random_range(0..np);
        if np > 1 {
            while j == i {
                j = rng.random_range(0..np);
            }
        }
        // Parents are drawn at random from a pool larger than the caches: both loads are in
        // flight together before either is read.
        parents.prefetch(j);
        parents.genome_into(i, &mut a);
        parents.genome_into(j, &mut b);
        if tiles_free && coins.crossover.sample(rng) {
            operators::crossover(&mut a, &mut b, rng);
        }
        for child in [&mut a, &mut b] {
            let Some(rec) = recs.next() else { return };
            mutate(child, cx.space, &cx.cfg.rates, &coins, rng);
            pack_into(child, 0, cx.num_pe(child), rec);
        }
    }
}

/// GAMMA's mutations (per-locus tile rate, factor cluster sizes), then repair. `coins` are
/// `r` made once per brood ([`Coins::new`]).
pub fn mutate(g: &mut Genome, space: &Space, r: &Rates, coins: &Coins, rng: &mut impl Rng) {
    if let Some(fixed) = space.fixed_axes() {
        return mutate_constrained(g, space, fixed, r, coins, rng);
    }
    if coins.order.sample(rng) {
        operators::mutate_order(g, rng);
    }
    operators::mutate_tiles_with(g, space, r.tile_loci, coins.tile_locus, rng);
    if coins.par_swap.sample(rng) {
        operators::mutate_par_swap(g, space);
    }
    if coins.grow.sample(rng) {
        operators::grow(g, space, rng);
    }
    if coins.aging.sample(rng) {
        operators::age(g, space);
    }
    if space.opts.co_explore && coins.pe(rng) {
        space.random_pe(g, rng);
    }
    space.repair(g);
}

/// Mutation under a mapping constraint: only operators that can change a flexible axis, never a
/// level added or removed. A class with one flexible axis uses GAMMA's per-class operator set.
fn mutate_constrained(g: &mut Genome, space: &Space, fixed: FixedAxes, r: &Rates, coins: &Coins, rng: &mut impl Rng) {
    let flex = [!fixed.tiles, !fixed.order, !fixed.par, !fixed.shape];
    match flex {
        [true, false, false, false] => operators::mutate_tiles(g, space, 3, 1.0, rng),
        [false, true, false, false] => operators::mutate_order(g, rng),
        [false, false, true, false] => constraint::mutate_par(g, space, rng),
        [false, false, false, true] => constraint::mutate_cluster(g, space, rng),
        [tiles, order, par, shape] => {
            if order && coins.order.sample(rng) {
                operators::mutate_order(g, rng);
            }
            if tiles {
                operators::mutate_tiles_with(g, space, r.tile_loci, coins.tile_locus, rng);
            }
            // Without a constraint the tile mutation's gene 0 redraws the parallel dim and the
            // cluster size; here they are separate so that fixed tiles do not freeze them.
            if par && coins.tile.sample(rng) {
                constraint::mutate_par(g, space, rng);
            }
            if par && coins.par_swap.sample(rng) {
                operators::mutate_par_swap(g, space);
            }
            if shape && coins.tile.sample(rng) {
                constraint::mutate_cluster(g, space, rng);
            }
        }
    }
    if space.opts.co_explore && coins.pe(rng) {
        space.random_pe(g, rng);
    }
    space.repair(g);
}

fn valid_count(p: &Pool) -> usize {
    p.fit.iter().filter(|f| f.is_valid()).count()
}

/// Keys of freshly evaluated records (the records themselves are selected from in place).
fn fresh_keys(into: &mut Vec<u64>, cx: &Cx, recs: &[u32], fits: &[Fitness], by_tiling: bool) {
    let co = cx.cfg.space.co_explore;
    // On every core for large batches (each key depends on its record alone).
    recs.par_chunks_exact(cx.stride)
        .zip(fits)
        .with_min_len(4096)
        .map(|(r, f)| if by_tiling { tiling_key(r, co, f.f1) } else { exact_key(r, co) })
        .collect_into_vec(into);
}

/// GAMMA's GA: one population; parents are the best 40% of the unique genomes, the best 5%
/// survive unchanged.
pub struct GammaGa {
    init: Vec<Genome>,
    pool: Pool,
    keys: Vec<u64>,
    sel: Select,
    gen: usize,
    /// Valid members among the last selection's `num_pop` (the pool keeps only its parents).
    valid: usize,
}

impl GammaGa {
    fn new(init: Vec<Genome>) -> Self {
        GammaGa { init, pool: Pool::default(), keys: Vec::new(), sel: Select::default(), gen: 0, valid: 0 }
    }
}

fn ratio_count(n: usize, r: f64) -> usize {
    (n as f64 * r).ceil() as usize
}

impl Driver for GammaGa {
    fn propose(&mut self, cx: &Cx, rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        let cfg = cx.cfg;
        if cfg.epochs > 0 && self.gen >= cfg.epochs {
            return;
        }
        self.gen += 1;
        let num_pop = cfg.num_pop.max(2);
        let valid = self.valid;
        if valid == 0 {
            // First generation, or no valid parent left: a fresh population.
            self.pool = Pool::new(cx.stride);
            let init = std::mem::take(&mut self.init);
            initial(cx, num_pop, &init, rng, out);
            return;
        }
        let n_parents = ratio_count(num_pop, cfg.rates.parents_ratio).clamp(1, valid);
        let n_elite = ratio_count(num_pop, cfg.rates.elite_ratio).min(n_parents);
        self.pool.truncate(n_parents);
        breed(cx, &self.pool, num_pop - n_elite, rng, out);
        // Only the elites survive unchanged; the other parents live on through their offspring.
        self.pool.truncate(n_elite);
    }

    fn absorb(&mut self, cx: &Cx, _rng: &mut ChaCha8Rng, recs: &[u32], fits: &[Fitness]) {
        let num_pop = cx.cfg.num_pop.max(2);
        fresh_keys(&mut self.keys, cx, recs, fits, false);
        self.pool.stride = cx.stride;
        let front = ratio_count(num_pop, cx.cfg.rates.parents_ratio).max(1);
        let fresh = View { words: recs, fit: fits, key: &self.keys };
        // Only the parents are bred from (the first `front`); the rest of the population counts
        // only towards how many parents are valid.
        self.valid = self.pool.select_front(fresh, num_pop, front, &mut self.sel);
    }
}

/// Random search: batches of random genomes until the budget is spent.
pub struct RandomSearch {
    init: Vec<Genome>,
}

impl Driver for RandomSearch {
    fn propose(&mut self, cx: &Cx, rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        let n = (cx.cfg.num_pop.max(1024) as u64).min(cx.remaining) as usize;
        let init = std::mem::take(&mut self.init);
        for g in init.iter().take(n) {
            push(cx, g, out);
        }
        for _ in init.len().min(n)..n {
            let g = cx.space.random_genome(rng);
            push(cx, &g, out);
        }
    }

    fn absorb(&mut self, _: &Cx, _: &mut ChaCha8Rng, _: &[u32], _: &[Fitness]) {}
}

/// Key of a genome's structural basin: the parallel dim of every level and the cluster sizes.
/// Leaving a basin takes several coordinated gene changes, so populations tend to stay in one.
pub fn basin_key(rec: &[u32]) -> u64 {
    let nl = rec[1] as usize;
    let mut h = mix(nl as u64);
    for l in 0..nl {
        let b = &rec[HEADER_WORDS + LEVEL_WORDS * l..];
        let size = if l == 0 { 0 } else { b[1] as u64 };
        h = mix(h ^ ((b[0] & 7) as u64) << 40 ^ size);
    }
    h
}

/// Hill climbing over whole neighbourhoods: one-gene moves until none improves, then a sample
/// of two-gene moves (budget allowing), then (in the order phase) every loop order of each level
/// in turn, climbing again whenever something improved.
struct Climb {
    cur: Genome,
    fit: Fitness,
    step: Step,
    /// Whether loop orders are enumerated at local optima.
    with_orders: bool,
    /// Orders enumerated since the last tile move.
    orders_fresh: bool,
    improved_in_orders: bool,
    ones: Vec<Genome>,
    cands: Vec<Genome>,
    done: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Ones,
    Twos,
    Orders(usize),
}

impl Climb {
    fn new(cur: Genome, fit: Fitness, with_orders: bool) -> Climb {
        Climb {
            cur,
            fit,
            step: Step::Ones,
            with_orders,
            orders_fresh: false,
            improved_in_orders: false,
            ones: Vec::new(),
            cands: Vec::new(),
            done: false,
        }
    }

    /// Candidates for this step (at most `cap`); none when the climb is over.
    fn propose(&mut self, space: &Space, cap: usize, rng: &mut ChaCha8Rng, scratch: &mut Vec<i64>) {
        self.cands.clear();
        while !self.done && self.cands.is_empty() {
            match self.step {
                Step::Ones => {
                    local::one_gene(space, &self.cur, &mut self.ones, scratch);
                    self.cands.clone_from(&self.ones);
                    if self.cands.is_empty() {
                        self.after_local();
                    }
                }
                Step::Twos => {
                    let n = self.ones.len().max(16) * 2;
                    local::two_gene(space, &self.cur, &self.ones, n, rng, &mut self.cands);
                    if space.opts.co_explore {
                        let mut trades = Vec::new();
                        local::tighten(space, &self.cur, &mut trades, scratch);
                        self.cands.extend(trades.into_iter().filter(|c| !self.ones.contains(c)));
                    }
                    if self.cands.is_empty() {
                        self.after_local();
                    }
                }
                Step::Orders(l) => {
                    local::orders(space, &self.cur, l, &mut self.cands);
                    if self.cands.is_empty() {
                        self.next_order_level(l);
                    }
                }
            }
        }
        local::cap(&mut self.cands, cap, rng);
    }

    fn after_local(&mut self) {
        if self.with_orders && !self.orders_fresh {
            self.step = Step::Orders(0);
            self.improved_in_orders = false;
        } else {
            self.done = true;
        }
    }

    fn next_order_level(&mut self, l: usize) {
        if l + 1 < self.cur.levels.len() {
            self.step = Step::Orders(l + 1);
        } else {
            self.orders_fresh = true;
            if self.improved_in_orders {
                self.step = Step::Ones;
            } else {
                self.done = true;
            }
        }
    }

    /// Takes the best candidate if it improves; decides the next step. `two_ok`: whether the
    /// budget allows a two-gene round at a local optimum.
    fn absorb(&mut self, fits: &[Fitness], two_ok: bool) {
        let best = (0..fits.len().min(self.cands.len())).min_by(|&a, &b| fits[a].lex_cmp(&fits[b]));
        let improved = best.is_some_and(|i| fits[i].is_valid() && fits[i].lex_cmp(&self.fit).is_lt());
        if let (true, Some(i)) = (improved, best) {
            self.cur = self.cands[i];
            self.fit = fits[i];
        }
        match self.step {
            Step::Ones | Step::Twos if improved => {
                self.orders_fresh = false;
                self.step = Step::Ones;
            }
            Step::Ones if two_ok => self.step = Step::Twos,
            Step::Ones | Step::Twos => self.after_local(),
            Step::Orders(l) => {
                self.improved_in_orders |= improved;
                self.next_order_level(l);
            }
        }
    }
}

enum IslandState {
    /// Awaiting a population: the first one drawn anywhere, or a restart in the least
    /// explored basin.
    Seed {
        restart: bool,
    },
    Ga,
    Polish(Box<Climb>),
}

struct Island {
    pool: Pool,
    state: IslandState,
    best: Fitness,
    stall: u32,
    /// Number of records this island proposed in the current round.
    proposed: usize,
}

enum Phase {
    Explore,
    Refine(Vec<Climb>),
}

/// gammaflow's default strategy (see the module docs).
pub struct Islands {
    init: Vec<Genome>,
    pop: usize,
    islands: Vec<Island>,
    /// How often each basin was the seed or the best of an island.
    visits: BTreeMap<u64, u32>,
    /// The best genomes of distinct tilings (any order), for the order phase.
    elites: Vec<(Fitness, u64, Genome)>,
    refined: HashSet<u64>,
    phase: Phase,
    explore_until: u64,
    refine_counts: Vec<usize>,
    keys: Vec<u64>,
    sel: Select,
    parents: Pool,
    scratch: Vec<i64>,
}

/// Rounds without improvement before an island is polished and restarted.
const STALL: u32 = 12;
/// Generations of budget per island: the island count is budget / (population × this), so
/// small budgets run few islands long enough to converge and large ones run many.
const ISLAND_GENS: u64 = 100;
/// Share of a co-explored island's offspring grown to the most top-level sub-clusters their
/// tiling, the PE limit and the area budget allow. At 1e4 evaluations (20 seeds, 24 settings)
/// islands' median was worse than `gamma`'s on 5 settings without it, 2 at 0.3, 1 (by under
/// 0.005%) at 0.5 and 0 at 0.7 (BENCHMARKS.md).
const WIDEN_RATE: f64 = 0.5;
/// Distinct tilings kept for the order phase.
const ELITES: usize = 32;
/// Mappings refined at once in the order phase.
const REFINE_AT_ONCE: usize = 4;

impl Islands {
    fn new(cfg: &SearchConfig, init: Vec<Genome>) -> Self {
        let pop = cfg.num_pop.max(4);
        let budget = cfg.budget();
        let k = (budget / (pop as u64 * ISLAND_GENS)).clamp(1, 16) as usize;
        let islands = (0..k)
            .map(|_| Island {
                pool: Pool::default(),
                state: IslandState::Seed { restart: false },
                best: Fitness::WORST,
                stall: 0,
                proposed: 0,
            })
            .collect();
        // The order phase's reserve: loop orders for the second objective where they matter,
        // else only the final polish of the best, the rest going to the search.
        let reserve = if cfg.fitness2.is_some() && cfg.orders_matter() { budget / 10 } else { budget / 20 };
        Islands {
            init,
            pop,
            islands,
            visits: BTreeMap::new(),
            elites: Vec::new(),
            refined: HashSet::new(),
            phase: Phase::Explore,
            explore_until: budget - reserve,
            refine_counts: Vec::new(),
            keys: Vec::new(),
            sel: Select::default(),
            parents: Pool::default(),
            scratch: Vec::new(),
        }
    }

    /// The least visited of a sample of random basins (ties: the first drawn).
    fn pick_basin(&self, cx: &Cx, rng: &mut ChaCha8Rng) -> (u64, Genome) {
        let mut best: Option<(u32, u64, Genome)> = None;
        let mut rec = vec![0u32; cx.stride];
        for _ in 0..48 {
            let g = cx.space.random_genome(rng);
            pack_into(&g, 0, cx.num_pe(&g), &mut rec);
            let b = basin_key(&rec);
            let v = self.visits.get(&b).copied().unwrap_or(0);
            if best.as_ref().is_none_or(|x| v < x.0) {
                best = Some((v, b, g));
                if v == 0 {
                    break;
                }
            }
        }
        let (_, b, g) = best.expect("sampled at least one basin");
        (b, g)
    }

    /// A population inside the basin of `proto`: random tiles, the prototype's parallel dims and
    /// cluster sizes (which repair keeps within the new tiles).
    fn seed_in(cx: &Cx, proto: &Genome, n: usize, rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        if n == 0 {
            return;
        }
        push(cx, proto, out);
        let member = |rng: &mut ChaCha8Rng| {
            let mut g = cx.space.random_genome(rng);
            if g.levels.len() == proto.levels.len() {
                for li in 0..g.levels.len() {
                    g.levels[li].par = proto.levels[li].par;
                    g.levels[li].sp2 = proto.levels[li].sp2;
                    if li > 0 {
                        g.levels[li].size = proto.levels[li].size;
                        // The parent tile must hold the cluster for it to survive repair.
                        let d = proto.levels[li].par;
                        let parent = g.levels[li - 1].tile(d);
                        let want = proto.levels[li].size;
                        if parent < want {
                            let hi = if li == 1 { cx.space.bound[d.index()] } else { g.levels[li - 2].tile(d) };
                            g.levels[li - 1].set_tile(d, rng.random_range(want.min(hi)..=hi.max(1)));
                        }
                    }
                }
                cx.space.repair(&mut g);
            }
            g
        };
        if n - 1 <= DRAW_CHUNK {
            for _ in 1..n {
                push(cx, &member(rng), out);
            }
            return;
        }
        // Large populations on every core, as in `initial`.
        draw_records(cx, n - 1, rng, out, member);
    }

    fn note_elite(&mut self, f: Fitness, key: u64, g: impl FnOnce() -> Genome) {
        if let Some(e) = self.elites.iter_mut().find(|e| e.1 == key) {
            if f.lex_cmp(&e.0).is_lt() {
                *e = (f, key, g());
            }
            return;
        }
        if self.elites.len() < ELITES {
            self.elites.push((f, key, g()));
        } else {
            let (wi, w) = self.elites.iter().enumerate().max_by(|a, b| a.1 .0.lex_cmp(&b.1 .0)).expect("full");
            if f.lex_cmp(&w.0).is_lt() {
                self.elites[wi] = (f, key, g());
            }
        }
    }

    /// Mappings for the order phase: the distinct tilings at the best first objective (best
    /// second objective first), then the Pareto archive; none refined before.
    fn targets(&mut self, cx: &Cx) -> Vec<Climb> {
        let mut out = Vec::new();
        let Some(best) = cx.best else { return out };
        let mut ties: Vec<&(Fitness, u64, Genome)> = self.elites.iter().filter(|e| e.0.f1 <= best.fit.f1).collect();
        ties.sort_by(|a, b| a.0.lex_cmp(&b.0));
        let mut cands: Vec<(Genome, Fitness)> = vec![(best.genome, best.fit)];
        cands.extend(ties.iter().map(|e| (e.2, e.0)));
        cands.extend(cx.pareto.iter().map(|c| (c.genome, c.fit)));
        let mut rec = vec![0u32; cx.stride];
        for (g, f) in cands {
            pack_into(&g, 0, cx.num_pe(&g), &mut rec);
            if self.refined.insert(exact_key(&rec, true)) {
                out.push(Climb::new(g, f, cx.cfg.orders_matter()));
            }
        }
        out
    }

    fn propose_island(&mut self, i: usize, cx: &Cx, rng: &mut ChaCha8Rng, out: &mut Vec<u32>, cap: usize) {
        let from = out.len();
        let pop = self.pop;
        let best_global = cx.best.map(|b| b.fit);
        let isl = &mut self.islands[i];
        // Stalled: polish the best if it competes with the layer's best, else restart.
        if matches!(isl.state, IslandState::Ga) && isl.stall >= STALL {
            let bi = isl.pool.best();
            let competitive = match (bi, best_global) {
                (Some(b), Some(gb)) => {
                    let f = isl.pool.fit[b];
                    f.is_valid() && f.f1 <= gb.f1 * 1.002
                }
                _ => false,
            };
            if let Some(b) = bi {
                let key = basin_key(isl.pool.record(b));
                *self.visits.entry(key).or_insert(0) += 1;
            }
            isl.state = match (competitive, bi) {
                (true, Some(b)) => {
                    IslandState::Polish(Box::new(Climb::new(isl.pool.genome(b), isl.pool.fit[b], false)))
                }
                _ => IslandState::Seed { restart: true },
            };
        }
        if let IslandState::Polish(c) = &isl.state {
            if c.done {
                isl.state = IslandState::Seed { restart: true };
            }
        }
        let isl = &mut self.islands[i];
        if matches!(isl.state, IslandState::Ga) && valid_count(&isl.pool) == 0 {
            isl.state = IslandState::Seed { restart: true };
        }
        match &mut isl.state {
            IslandState::Seed { restart } => {
                let restart = *restart;
                isl.pool.clear();
                isl.best = Fitness::WORST;
                isl.stall = 0;
                if !restart && i == 0 {
                    let init = std::mem::take(&mut self.init);
                    initial(cx, pop.min(cap), &init, rng, out);
                } else if !restart {
                    initial(cx, pop.min(cap), &[], rng, out);
                }
                // A restart is one population inside the least explored basin. A first
                // population gets one such beside its random one: random tiles within one
                // structure converge fast, and the GA chooses between both (at 1e4 evaluations
                // this took the layers over 0.2% above the best known from 14 to 10 of 39).
                // Not when co-exploring: there it made 1e4 medians worse than gamma's on 7 of
                // 24 settings instead of 5 (the PE count is no part of the basin).
                if restart || !cx.cfg.space.co_explore {
                    let (b, proto) = self.pick_basin(cx, rng);
                    *self.visits.entry(b).or_insert(0) += 1;
                    let left = cap.saturating_sub((out.len() - from) / cx.stride);
                    Self::seed_in(cx, &proto, pop.min(left), rng, out);
                }
            }
            IslandState::Ga => {
                let valid = valid_count(&isl.pool);
                let n_parents = ratio_count(pop, cx.cfg.rates.parents_ratio).clamp(1, valid);
                let n_elite = ratio_count(pop, cx.cfg.rates.elite_ratio).min(n_parents);
                // Parents by rank, at most half of them from one basin.
                let max_per_basin = n_parents.div_ceil(2).max(1);
                let mut per: BTreeMap<u64, usize> = BTreeMap::new();
                self.parents.clear();
                self.parents.stride = cx.stride;
                let mut skipped = Vec::new();
                for j in 0..isl.pool.len() {
                    if self.parents.len() == n_parents {
                        break;
                    }
                    if !isl.pool.fit[j].is_valid() {
                        break;
                    }
                    let c = per.entry(basin_key(isl.pool.record(j))).or_insert(0);
                    if *c < max_per_basin {
                        *c += 1;
                        self.parents.push_record(isl.pool.record(j), isl.pool.fit[j], isl.pool.key[j]);
                    } else {
                        skipped.push(j);
                    }
                }
                for j in skipped {
                    if self.parents.len() == n_parents {
                        break;
                    }
                    self.parents.push_record(isl.pool.record(j), isl.pool.fit[j], isl.pool.key[j]);
                }
                let bred = out.len();
                breed(cx, &self.parents, (pop - n_elite).min(cap), rng, out);
                if cx.cfg.space.co_explore {
                    // Co-exploring: part of the brood gets the largest design its tiling allows
                    // (the PE limit and area budget permitting), so a tiling change is judged
                    // with the PEs it can keep busy and not only with its parent's PE count.
                    for rec in out[bred..].chunks_exact_mut(cx.stride) {
                        if rng.random_bool(WIDEN_RATE) {
                            let mut g = unpack_genome(rec).expect("bred by the search").2;
                            g.levels[0].size = cx.space.largest_design(&g);
                            cx.space.repair(&mut g);
                            pack_into(&g, 0, cx.num_pe(&g), rec);
                        }
                    }
                }
                isl.pool.truncate(n_elite);
            }
            IslandState::Polish(c) => {
                c.propose(cx.space, cap, rng, &mut self.scratch);
                for g in &c.cands {
                    push(cx, g, out);
                }
            }
        }
        self.islands[i].proposed = (out.len() - from) / cx.stride;
    }
}

impl Driver for Islands {
    fn propose(&mut self, cx: &Cx, rng: &mut ChaCha8Rng, out: &mut Vec<u32>) {
        // `out` holds other layers' records before ours.
        let base = out.len();
        let spent = cx.budget - cx.remaining;
        self.refine_counts.clear();
        for isl in &mut self.islands {
            isl.proposed = 0;
        }
        loop {
            match &mut self.phase {
                Phase::Explore => {
                    if spent >= self.explore_until || cx.at_bound() {
                        let t = self.targets(cx);
                        if !t.is_empty() {
                            self.phase = Phase::Refine(t);
                            continue;
                        }
                        if cx.at_bound() {
                            return;
                        }
                        // Nothing new to refine: explore to the end of the budget.
                        self.explore_until = cx.budget;
                    }
                    let cap = cx.remaining as usize;
                    // Islands whose polish just ended propose nothing this time and reseed on
                    // the next pass, so a second pass always yields genomes.
                    for _pass in 0..2 {
                        for i in 0..self.islands.len() {
                            let left = cap.saturating_sub((out.len() - base) / cx.stride);
                            if left == 0 || self.islands[i].proposed > 0 {
                                continue;
                            }
                            self.propose_island(i, cx, rng, out, left);
                        }
                        if out.len() > base {
                            break;
                        }
                    }
                    return;
                }
                Phase::Refine(climbs) => {
                    climbs.retain(|c| !c.done);
                    if climbs.is_empty() {
                        if cx.at_bound() || cx.remaining == 0 {
                            return;
                        }
                        // Budget left: explore again, keeping a reserve for new targets.
                        self.phase = Phase::Explore;
                        self.explore_until = spent + cx.remaining - cx.remaining / 10;
                        continue;
                    }
                    let mut left = cx.remaining as usize;
                    for c in climbs.iter_mut().take(REFINE_AT_ONCE) {
                        if left == 0 {
                            break;
                        }
                        c.propose(cx.space, left, rng, &mut self.scratch);
                        for g in &c.cands {
                            push(cx, g, out);
                        }
                        left -= c.cands.len().min(left);
                        self.refine_counts.push(c.cands.len());
                    }
                    if out.len() == base {
                        // Every climb ended while proposing: look again.
                        continue;
                    }
                    return;
                }
            }
        }
    }

    fn absorb(&mut self, cx: &Cx, _rng: &mut ChaCha8Rng, recs: &[u32], fits: &[Fitness]) {
        let stride = cx.stride;
        let co = cx.cfg.space.co_explore;
        // A record beats some elite exactly when it beats the worst one, which changes only when
        // an elite does (one comparison a record instead of one per elite).
        let worst = |el: &[(Fitness, u64, Genome)]| {
            if el.len() < ELITES {
                None
            } else {
                el.iter().map(|e| e.0).max_by(|a, b| a.lex_cmp(b))
            }
        };
        let mut bar = worst(&self.elites);
        for (rec, f) in recs.chunks_exact(stride).zip(fits) {
            if f.is_valid() && bar.is_none_or(|w| f.lex_cmp(&w).is_lt()) {
                self.note_elite(*f, tiling_key(rec, co, 0.0), || {
                    unpack_genome(rec).expect("the engine packed this record").2
                });
                bar = worst(&self.elites);
            }
        }
        let two_ok = cx.remaining > cx.budget / 50;
        match &mut self.phase {
            Phase::Refine(climbs) => {
                let mut at = 0;
                for (c, &n) in climbs.iter_mut().zip(&self.refine_counts) {
                    let n = n.min(fits.len() - at);
                    c.absorb(&fits[at..at + n], two_ok);
                    at += n;
                }
            }
            Phase::Explore => {
                let mut at = 0;
                for isl in self.islands.iter_mut() {
                    let n = isl.proposed.min(fits.len() - at);
                    if isl.proposed == 0 {
                        continue;
                    }
                    let (r, f) = (&recs[at * stride..(at + n) * stride], &fits[at..at + n]);
                    at += n;
                    match &mut isl.state {
                        IslandState::Polish(c) => c.absorb(f, two_ok),
                        state => {
                            fresh_keys(&mut self.keys, cx, r, f, true);
                            isl.pool.stride = stride;
                            let front = ratio_count(self.pop, cx.cfg.rates.parents_ratio).max(1) * 2;
                            let fresh = View { words: r, fit: f, key: &self.keys };
                            isl.pool.select(fresh, self.pop, front, &mut self.sel);
                            let b = isl.pool.best().map(|i| isl.pool.fit[i]).unwrap_or(Fitness::WORST);
                            if b.lex_cmp(&isl.best).is_lt() {
                                isl.best = b;
                                isl.stall = 0;
                            } else {
                                isl.stall += 1;
                            }
                            *state = IslandState::Ga;
                        }
                    }
                }
            }
        }
    }
}
