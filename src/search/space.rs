//! The map space of one layer: tile bounds, options, random genomes and repair.

use super::constraint::{draw_par, random_sp2, MapConstraint, SizeRule, Sp2Rule, Statics};
use crate::hardware::AreaModel;
use crate::mapping::{Dim, Genome, Level, Levels};
use crate::model::l1_requirement;
use crate::workload::Layer;
use rand::distr::{Bernoulli, Distribution};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Options shaping the map space (GAMMA's switches and gammaflow's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpaceOptions {
    pub slevel_min: usize,
    pub slevel_max: usize,
    /// Allow R and S as parallel dims (GAMMA `--parRS`).
    pub par_rs: bool,
    /// Fix every inner level's cluster size.
    pub fixed_cluster: Option<i64>,
    /// Only tiles that divide the dimension.
    pub factor_tiles: bool,
    /// Draw Y/X tiles up to the *input* size as GAMMA does, which lets MAESTRO see impossible
    /// mappings (spec Q2). Off by default: tiles stay within the output extents.
    pub gamma_compat: bool,
    /// GAMMA's default cost-model constraint: R and S tiles are the full R and S at every level.
    pub rs_full: bool,
    /// Share of tile and cluster-size draws that pick a divisor of the enclosing extent instead
    /// of a uniform value (GAMMA: 0). Divisors avoid the edge folds that leave PEs idle; on
    /// ResNet-18 layer 2 at GAMMA's budget they take the mean run from about 0.3% to under 0.1%
    /// above the compute bound (BENCHMARKS.md). Too high a share starves layers whose extents
    /// have few divisors, hence a quarter.
    pub divisor_bias: f64,
    /// Co-exploration (DiGamma): the top level's gene-0 size is the design's PE count, searched
    /// as a multiple of the inner clusters' product, bounded by the PE limit and by the top
    /// parallel dim's spatial extent.
    pub co_explore: bool,
    /// Draw cluster sizes as factors of min(parent tile of the level's parallel dim, PEs), as
    /// GAMMA does, and keep them factors when the operators change that tile or dim: near-optimal
    /// mappings almost always split the parent tile evenly. Repair and the neighbourhood polish
    /// still allow any size.
    #[serde(default = "yes")]
    pub factor_clusters: bool,
    /// Mapping constraint (a file or built-in map, maybe relaxed to a flexibility class). It
    /// fixes the level count and wins over the switches above where they disagree. Not written
    /// with the config: the CLI records its name instead.
    #[serde(skip)]
    pub constraint: Option<Arc<MapConstraint>>,
    /// How a co-explored design's PE count is redrawn; `None` = the default
    /// ([`crate::search::SearchConfig::pe_draw`]), and then left out of the serialised form, so
    /// existing sweep job ids do not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe_draw: Option<PeDraw>,
}

/// The PE-count move of co-exploration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeDraw {
    /// A number of top-level sub-clusters drawn uniformly up to what the top parallel dim's
    /// spatial tiles allow (the PEs follow as that times the inner clusters).
    Uniform,
    /// DiGamma's: as `uniform`, from the upper half of that range.
    UpperHalf,
    /// A target PE count from the upper half of the limit, reached by changing the parallel
    /// tiling with it: either the top sub-clusters, with the
    /// top parallel dim's tile shrunk until that many spatial tiles exist, or one inner
    /// cluster, with its parent tile grown to hold it. Reaches designs that need a larger
    /// parent tile and a larger cluster at once, which one-gene moves cannot.
    Joint,
}

impl crate::schema::Named for PeDraw {
    const ALL: &'static [Self] = &[PeDraw::Uniform, PeDraw::UpperHalf, PeDraw::Joint];
    fn name(self) -> &'static str {
        match self {
            PeDraw::Uniform => "uniform",
            PeDraw::UpperHalf => "upper-half",
            PeDraw::Joint => "joint",
        }
    }
}

fn yes() -> bool {
    true
}

impl Default for SpaceOptions {
    fn default() -> Self {
        SpaceOptions {
            slevel_min: 2,
            slevel_max: 2,
            par_rs: false,
            fixed_cluster: None,
            factor_tiles: false,
            gamma_compat: false,
            rs_full: true,
            divisor_bias: 0.25,
            co_explore: false,
            factor_clusters: true,
            constraint: None,
            pe_draw: None,
        }
    }
}

/// One layer's search space.
#[derive(Debug, Clone)]
pub struct Space {
    pub opts: SpaceOptions,
    /// Upper bound of each dim's top-level tile, by [`Dim::index`].
    pub bound: [i64; 6],
    /// The PE count, or the PE limit when co-exploring.
    pub num_pe: i64,
    /// Divisors of each bound (for factor-only tiles).
    divisors: [Vec<i64>; 6],
    layer: Layer,
    /// Area model and budget (um^2): designs are shrunk to fit before evaluation.
    area_cap: Option<(AreaModel, f64)>,
    /// The constraint and what its rules determine for this layer.
    cstr: Option<(Arc<MapConstraint>, Statics)>,
    /// `opts.divisor_bias` and its coin, computed once: a draw then costs one comparison, and
    /// flips exactly as `random_bool` would (checked against the share, which is public).
    divisor_coin: (f64, Option<Bernoulli>),
}

impl Space {
    pub fn new(layer: &Layer, num_pe: i64, mut opts: SpaceOptions) -> Space {
        let sh = layer.shape();
        let [k, c, y, x, r, s] = sh.dims;
        let bound = if opts.gamma_compat { [k, c, y, x, r, s] } else { [k, c, sh.y_out(), sh.x_out(), r, s] };
        let divisors = bound.map(|b| (1..=b).filter(|d| b % d == 0).collect());
        let cstr = opts.constraint.clone().map(|c| {
            // A constraint fixes the level count, and may tile R and S itself.
            opts.slevel_min = c.levels.len();
            opts.slevel_max = c.levels.len();
            opts.rs_full = c.rs_rule(opts.rs_full);
            let st = c.statics(bound, opts.rs_full);
            (c, st)
        });
        let divisor_coin = (opts.divisor_bias, divisor_coin(opts.divisor_bias));
        Space { opts, bound, num_pe, divisors, layer: *layer, area_cap: None, cstr, divisor_coin }
    }

    /// Which axes the constraint fixes completely; None without a constraint.
    pub fn fixed_axes(&self) -> Option<super::constraint::FixedAxes> {
        self.constraint().map(|c| c.fixed_axes(self.opts.rs_full))
    }

    /// The mapping constraint, if any.
    pub fn constraint(&self) -> Option<&MapConstraint> {
        self.cstr.as_ref().map(|c| &*c.0)
    }

    /// A parallel dim for level `li`, among those the constraint allows there (never the
    /// level's fixed second spatial dim).
    pub fn random_par_at(&self, li: usize, rng: &mut impl Rng) -> Dim {
        match &self.cstr {
            Some((c, _)) => draw_par(c.levels.get(li), self.par_dims(), rng),
            None => self.random_par(rng),
        }
    }

    /// The relaxed constraint's fixed map, as a genome of this space: a class's search starts
    /// from it so that flexibility never loses what the fixed map achieves. None unconstrained
    /// or at class 0.
    pub fn anchor_genome(&self) -> Option<Genome> {
        let fixed = self.cstr.as_ref()?.0.fixed.clone()?;
        let opts = SpaceOptions { constraint: Some(Arc::new(*fixed)), ..self.opts.clone() };
        let base = Space { area_cap: self.area_cap, ..Space::new(&self.layer, self.num_pe, opts) };
        let mut g = base.random_genome(&mut <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0));
        self.repair(&mut g);
        Some(g)
    }

    /// Adds an area budget that repair enforces (as far as the area model allows before
    /// evaluation: PEs and L1s; the evaluated area is checked again).
    pub fn with_area_cap(mut self, model: AreaModel, budget_um2: f64) -> Space {
        self.area_cap = Some((model, budget_um2));
        self
    }

    /// Product of the inner levels' cluster sizes: PEs per top-level sub-cluster.
    pub(crate) fn inner_product(g: &Genome) -> i64 {
        g.levels[1..].iter().map(|l| l.size.max(1)).product()
    }

    /// The top level's size (the design's PE count) of the largest design `g`'s tiling allows:
    /// [`Space::max_subclusters`] sub-clusters of the inner clusters.
    pub(crate) fn largest_design(&self, g: &Genome) -> i64 {
        self.max_subclusters(g) * Self::inner_product(g)
    }

    /// Largest number of top-level sub-clusters a design may have: within the PE limit, the
    /// area budget, and the top parallel dim's number of spatial tiles (more would idle).
    pub(crate) fn max_subclusters(&self, g: &Genome) -> i64 {
        let u = Self::inner_product(g);
        let top = &g.levels[0];
        let extent = (self.bound[top.par.index()] + top.tile(top.par) - 1) / top.tile(top.par).max(1);
        (self.pe_cap(g) / u).min(extent).max(1)
    }

    /// The parallel dims level `li` may take (the constraint's, else the space's).
    pub fn par_dims_at(&self, li: usize) -> Vec<Dim> {
        match self.cstr.as_ref().and_then(|(c, _)| c.levels.get(li)) {
            Some(r) => {
                let a = r.allowed_par(self.par_dims());
                if a.is_empty() {
                    self.par_dims().to_vec()
                } else {
                    a
                }
            }
            None => self.par_dims().to_vec(),
        }
    }

    /// Redraws the design's PE count (co-exploration) with the configured [`PeDraw`]; the caller
    /// repairs the genome after.
    pub fn random_pe(&self, g: &mut Genome, rng: &mut impl Rng) {
        match self.opts.pe_draw.unwrap_or(PeDraw::Uniform) {
            PeDraw::Uniform => {
                let n0 = self.biased_draw(self.max_subclusters(g), rng);
                g.levels[0].size = n0 * Self::inner_product(g);
            }
            PeDraw::UpperHalf => {
                let hi = self.max_subclusters(g);
                let n0 = rng.random_range((hi + 1) / 2..=hi).max(1);
                g.levels[0].size = n0 * Self::inner_product(g);
            }
            PeDraw::Joint => self.joint_pe(g, rng),
        }
    }

    /// The PE limit of a design: the space's, within the area budget.
    fn pe_cap(&self, g: &Genome) -> i64 {
        let mut cap = self.num_pe;
        if let Some((model, budget)) = self.area_cap {
            if let Some(p) = model.max_pe_within(budget, l1_requirement(&self.layer, g)) {
                cap = cap.min(p);
            }
        }
        cap.max(1)
    }

    /// [`PeDraw::Joint`].
    fn joint_pe(&self, g: &mut Genome, rng: &mut impl Rng) {
        let cap = self.pe_cap(g);
        let target = rng.random_range((cap + 1) / 2..=cap);
        let levels = g.levels.len();
        let fixed_inner = self.opts.fixed_cluster.is_some() || self.cstr.is_some();
        if levels > 1 && !fixed_inner && rng.random_bool(0.5) {
            // One inner cluster takes the change, its parent tile grown to hold it.
            let li = rng.random_range(1..levels);
            let d = g.levels[li].par;
            let n0 = (g.levels[0].size / Self::inner_product(g)).max(1);
            let others: i64 = (1..levels).filter(|&j| j != li).map(|j| g.levels[j].size.max(1)).product();
            let enclosing = if li == 1 { self.bound[d.index()] } else { g.levels[li - 2].tile(d) };
            let want = (target / (n0 * others).max(1)).clamp(1, enclosing.max(1));
            let parent = g.levels[li - 1].tile(d).max(want).min(enclosing.max(1));
            g.levels[li - 1].set_tile(d, parent);
            let z = if self.opts.factor_clusters { largest_divisor_upto(parent, want) } else { want.min(parent) };
            g.levels[li].size = z;
        }
        // The top takes the rest: that many sub-clusters, the top parallel dim's tile shrunk so
        // that as many spatial tiles exist.
        let u = Self::inner_product(g);
        let d = g.levels[0].par;
        let extent = self.bound[d.index()].max(1);
        let n0 = (target / u).clamp(1, extent);
        if self.cstr.is_none() {
            let tile = g.levels[0].tile(d);
            if (extent + tile - 1) / tile.max(1) < n0 {
                g.levels[0].set_tile(d, (extent + n0 - 1) / n0);
            }
        }
        g.levels[0].size = n0 * u;
    }

    fn par_dims(&self) -> &'static [Dim] {
        if self.opts.par_rs {
            &Dim::ALL
        } else {
            &Dim::ALL[..4]
        }
    }

    pub fn random_par(&self, rng: &mut impl Rng) -> Dim {
        *self.par_dims().choose(rng).unwrap()
    }

    /// A tile for `d` in `[1, hi]`, a divisor of the dim when factor-only tiles are on.
    pub fn random_tile(&self, d: Dim, hi: i64, rng: &mut impl Rng) -> i64 {
        let hi = hi.max(1);
        if self.opts.factor_tiles {
            let ds = &self.divisors[d.index()];
            let n = ds.partition_point(|&v| v <= hi).max(1);
            ds[rng.random_range(0..n)]
        } else {
            self.biased_draw(hi, rng)
        }
    }

    /// Uniform in `[1, hi]`, or with probability `divisor_bias` a random divisor of `hi`.
    fn biased_draw(&self, hi: i64, rng: &mut impl Rng) -> i64 {
        let coin = if self.divisor_coin.0 == self.opts.divisor_bias {
            self.divisor_coin.1
        } else {
            divisor_coin(self.opts.divisor_bias)
        };
        if coin.is_some_and(|c| c.sample(rng)) {
            random_divisor(hi, rng)
        } else {
            rng.random_range(1..=hi)
        }
    }

    /// Largest cluster size allowed at `level` given the outer levels' clusters.
    fn cluster_cap(&self, g: &Genome, level: usize) -> i64 {
        // Below the top, clusters share the PE limit (co-exploration sizes the top around them).
        let outer: i64 = g.levels[1..level].iter().map(|l| l.size.max(1)).product();
        let par = g.levels[level].par;
        let parent_tile = g.levels[level - 1].tile(par);
        (self.num_pe / outer.max(1)).min(parent_tile).max(1)
    }

    pub fn random_cluster(&self, g: &Genome, level: usize, rng: &mut impl Rng) -> i64 {
        if let Some(z) = self.opts.fixed_cluster {
            return z;
        }
        let cap = self.cluster_cap(g, level);
        if self.opts.factor_clusters {
            random_divisor_upto(self.factor_base(g, level), cap, rng)
        } else {
            self.biased_draw(cap, rng)
        }
    }

    /// What a level's cluster size is a factor of: min(parent tile of its parallel dim, PEs).
    fn factor_base(&self, g: &Genome, level: usize) -> i64 {
        g.levels[level - 1].tile(g.levels[level].par).min(self.num_pe).max(1)
    }

    /// After an operator changed level `level`'s parallel dim or the parent tile of it: a
    /// cluster size that no longer divides min(parent tile, PEs) becomes the largest factor
    /// below it (GAMMA's factor draws stay factors). No-op without `factor_clusters`.
    pub fn refit_cluster(&self, g: &mut Genome, level: usize) {
        if !self.opts.factor_clusters || self.opts.fixed_cluster.is_some() || level == 0 || level >= g.levels.len() {
            return;
        }
        let m = self.factor_base(g, level);
        let z = g.levels[level].size.clamp(1, m);
        if m % z != 0 {
            g.levels[level].size = largest_divisor_upto(m, z);
        }
    }

    /// A new innermost level: all tiles 1 (R/S full under `rs_full`), random parallel dim.
    pub fn new_inner_level(&self, g: &Genome, rng: &mut impl Rng) -> Level {
        let mut order = Dim::ALL;
        order.shuffle(rng);
        let parent = g.levels.last().expect("genome has a level");
        let order =
            order.map(|d| (d, if self.opts.rs_full && matches!(d, Dim::R | Dim::S) { parent.tile(d) } else { 1 }));
        Level::new(self.random_par(rng), 1, order)
    }

    /// GAMMA's initial genome: random top level, inner levels with tiles 1.
    pub fn random_genome(&self, rng: &mut impl Rng) -> Genome {
        if self.cstr.is_some() {
            return self.random_genome_constrained(rng);
        }
        let mut order = Dim::ALL;
        order.shuffle(rng);
        let order = order.map(|d| (d, self.random_tile(d, self.bound[d.index()], rng)));
        let mut g = Genome { levels: Levels::one(Level::new(self.random_par(rng), self.num_pe, order)) };
        let levels = if self.opts.slevel_max > self.opts.slevel_min {
            rng.random_range(self.opts.slevel_min..=self.opts.slevel_max)
        } else {
            self.opts.slevel_min
        };
        for li in 1..levels {
            let lv = self.new_inner_level(&g, rng);
            g.levels.push(lv);
            g.levels[li].size = self.random_cluster(&g, li, rng);
        }
        if self.opts.co_explore {
            // Half the initial designs start as large as the limits allow, so the search begins
            // where a fixed accelerator of the limit would, and shrinks from there.
            if rng.random_bool(0.5) {
                g.levels[0].size = self.largest_design(&g);
            } else {
                self.random_pe(&mut g, rng);
            }
        }
        self.repair(&mut g);
        g
    }

    /// Every tile 1 (R/S full): one of GAMMA's two seeded individuals.
    pub fn unit_genome(&self, rng: &mut impl Rng) -> Genome {
        let mut g = self.random_genome(rng);
        for lv in g.levels.iter_mut() {
            for (d, t) in lv.order.iter_mut() {
                *t = 1;
                if self.opts.rs_full && matches!(d, Dim::R | Dim::S) {
                    *t = self.bound[d.index()];
                }
            }
        }
        self.repair(&mut g);
        g
    }

    /// Restores every invariant of the space after crossover or mutation: tiles within bounds
    /// (and divisors when factor-only), inner tiles ≤ the enclosing tile, R/S full, cluster
    /// sizes ≥ 1, ≤ the parent tile of the parallel dim and with a product ≤ PEs (a larger product
    /// crashes MAESTRO), and the level count within [slevel_min, slevel_max]. Without a
    /// constraint no level has a second spatial dim (GAMMA's map space); with one, each level's
    /// `sp2` is as its rule says.
    pub fn repair(&self, g: &mut Genome) {
        if let Some((c, st)) = &self.cstr {
            self.repair_constrained(g, c, st);
            self.repair_top_size(g);
            return;
        }
        g.levels.truncate(self.opts.slevel_max.max(1));
        let rs_full = self.opts.rs_full;
        // The enclosing tiles by dim, carried down level by level.
        let mut enclosing = self.bound;
        for lv in g.levels.iter_mut() {
            lv.sp2 = None;
            if !self.opts.par_rs && matches!(lv.par, Dim::R | Dim::S) {
                lv.par = Dim::K;
            }
            for gene in lv.order.iter_mut() {
                let (d, mut t) = *gene;
                let hi = enclosing[d.index()];
                if rs_full && matches!(d, Dim::R | Dim::S) {
                    t = hi;
                }
                t = t.clamp(1, hi.max(1));
                if self.opts.factor_tiles {
                    let ds = &self.divisors[d.index()];
                    let n = ds.partition_point(|&v| v <= t).max(1);
                    t = ds[n - 1];
                }
                gene.1 = t;
            }
            enclosing = lv.tiles();
        }
        // Cluster sizes: within the parent tile of the parallel dim and the PEs left by the
        // outer clusters (as [`Space::cluster_cap`]).
        let mut outer = 1i64;
        for li in 1..g.levels.len() {
            let z = match self.opts.fixed_cluster {
                Some(z) => z,
                None => {
                    let parent_tile = g.levels[li - 1].tile(g.levels[li].par);
                    let cap = (self.num_pe / outer.max(1)).min(parent_tile).max(1);
                    g.levels[li].size.clamp(1, cap)
                }
            };
            g.levels[li].size = z;
            outer *= z.max(1);
        }
        self.repair_top_size(g);
    }

    /// The top level's gene-0 size: the PE count, or the co-explored design's.
    fn repair_top_size(&self, g: &mut Genome) {
        if self.opts.co_explore {
            let u = Self::inner_product(g);
            let n0 = (g.levels[0].size / u).clamp(1, self.max_subclusters(g));
            g.levels[0].size = n0 * u;
        } else {
            g.levels[0].size = self.num_pe;
        }
    }

    /// Random genome of a constrained space: as GAMMA's, with parallel dims drawn among those
    /// allowed, then the rules imposed by repair.
    fn random_genome_constrained(&self, rng: &mut impl Rng) -> Genome {
        let n = self.opts.slevel_min;
        let mut order = Dim::ALL;
        order.shuffle(rng);
        let order = order.map(|d| (d, self.random_tile(d, self.bound[d.index()], rng)));
        let mut g = Genome { levels: Levels::one(Level::new(self.random_par_at(0, rng), self.num_pe, order)) };
        for li in 1..n {
            let mut lv = self.new_inner_level(&g, rng);
            lv.par = self.random_par_at(li, rng);
            g.levels.push(lv);
        }
        // Rules first (tiles fix the cluster caps), then free cluster sizes and second dims.
        self.repair(&mut g);
        for li in 1..n {
            g.levels[li].size = self.random_cluster(&g, li, rng);
        }
        if let Some((c, _)) = &self.cstr {
            for (lv, r) in g.levels.iter_mut().zip(&c.levels) {
                if r.sp2 == Sp2Rule::Free {
                    lv.sp2 = random_sp2(lv.par, rng);
                }
            }
        }
        if self.opts.co_explore {
            self.random_pe(&mut g, rng);
        }
        self.repair(&mut g);
        g
    }

    /// Repair under a constraint: the usual invariants for free genes, the rules for the rest.
    /// Rules win over the enclosing-tile bound; `check_layer` rejects rules that cannot fit.
    fn repair_constrained(&self, g: &mut Genome, c: &MapConstraint, st: &Statics) {
        let n = c.levels.len();
        g.levels.truncate(n);
        while g.levels.len() < n {
            let last = *g.levels.last().expect("genome has a level");
            g.levels.push(last);
        }
        for (li, r) in c.levels.iter().enumerate() {
            if !r.order.is_empty() {
                let old = g.levels[li].order;
                let rest = old.into_iter().filter(|p| !r.order.contains(&p.0));
                let mut it = r.order.iter().map(|&d| (d, g.levels[li].tile(d))).chain(rest);
                g.levels[li].order = std::array::from_fn(|_| it.next().expect("six dims"));
            }
            // Parallel dim: one the rule allows (never a fixed second spatial dim), then the
            // second spatial dim as the rule says.
            let lv = &mut g.levels[li];
            let allowed = r.allowed_par(self.par_dims());
            if !allowed.is_empty() && !allowed.contains(&lv.par) {
                lv.par = if r.sp.is_empty() && allowed.contains(&Dim::K) {
                    Dim::K
                } else {
                    allowed[lv.par.index() % allowed.len()]
                };
            }
            lv.sp2 = match r.sp2 {
                Sp2Rule::Off => None,
                Sp2Rule::Fixed(d) => Some(d),
                Sp2Rule::Free => lv.sp2.filter(|&d| d != lv.par),
            };
            for gi in 0..6 {
                let (d, t) = g.levels[li].order[gi];
                let parent = |e: Dim| if li == 0 { self.bound[e.index()] } else { g.levels[li - 1].tile(e) };
                let t = match r.tiles[d.index()] {
                    Some(SizeRule::Fixed(v)) => v,
                    Some(SizeRule::Same(e)) => parent(e),
                    None => {
                        let hi = parent(d).max(1);
                        if self.opts.rs_full && matches!(d, Dim::R | Dim::S) && r.choices[d.index()].is_empty() {
                            hi
                        } else {
                            let mut t = t.clamp(st.lo[li][d.index()].min(hi), hi);
                            if self.opts.factor_tiles {
                                let ds = &self.divisors[d.index()];
                                t = ds[ds.partition_point(|&v| v <= t).max(1) - 1];
                            }
                            // A choice rule: the largest allowed value not above t, else the least.
                            let ch = r.choices[d.index()].iter().map(|c| c.resolve(parent));
                            match (ch.clone().filter(|&v| v <= t).max(), ch.min()) {
                                (Some(v), _) | (None, Some(v)) => v,
                                (None, None) => t,
                            }
                        }
                    }
                };
                g.levels[li].order[gi].1 = t;
            }
        }
        for li in 1..n {
            let z = match c.levels[li].sp_sz {
                Some(SizeRule::Fixed(v)) => v,
                Some(SizeRule::Same(e)) => g.levels[li - 1].tile(e),
                // Free sizes are only kept within the PEs: capping them by the parent tile too
                // (as unconstrained repair does, to avoid idle PEs) would exclude maps whose
                // size rule exceeds it, and each flexibility class must contain its sub-classes.
                None => match self.opts.fixed_cluster {
                    Some(z) => z,
                    None => {
                        let outer: i64 = g.levels[1..li].iter().map(|l| l.size.max(1)).product();
                        g.levels[li].size.clamp(1, (self.num_pe / outer.max(1)).max(1))
                    }
                },
            };
            g.levels[li].size = z;
        }
    }

    /// Whether `g` satisfies every invariant [`Space::repair`] establishes.
    pub fn contains(&self, g: &Genome) -> bool {
        let mut r = *g;
        self.repair(&mut r);
        r == *g && g.check().is_ok() && g.levels.len() >= self.opts.slevel_min
    }
}

/// Numbers up to this have their divisors listed in [`divisor_table`].
const TABLE_MAX: i64 = 4096;

/// Divisors of every n in 1..=[`TABLE_MAX`], each listed small ones ascending then large ones
/// descending (the order trial division finds them in): `offsets[n]..offsets[n + 1]` of `divs`.
fn divisor_table() -> &'static (Vec<u32>, Vec<u16>) {
    static T: std::sync::OnceLock<(Vec<u32>, Vec<u16>)> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut offsets = vec![0u32; TABLE_MAX as usize + 2];
        let mut divs = Vec::new();
        let mut large = Vec::new();
        for n in 1..=TABLE_MAX {
            offsets[n as usize] = divs.len() as u32;
            large.clear();
            let mut d = 1;
            while d * d <= n {
                if n % d == 0 {
                    divs.push(d as u16);
                    if n / d != d {
                        large.push((n / d) as u16);
                    }
                }
                d += 1;
            }
            divs.extend_from_slice(&large);
        }
        offsets[TABLE_MAX as usize + 1] = divs.len() as u32;
        (offsets, divs)
    })
}

/// The divisors of `n` (small ascending, then large descending) when `n` is in the table.
fn listed_divisors(n: i64) -> Option<&'static [u16]> {
    if !(1..=TABLE_MAX).contains(&n) {
        return None;
    }
    let (offsets, divs) = divisor_table();
    Some(&divs[offsets[n as usize] as usize..offsets[n as usize + 1] as usize])
}

/// The coin of a divisor share: none at 0 (no draw is made), certain from 1 up.
fn divisor_coin(bias: f64) -> Option<Bernoulli> {
    (bias > 0.0).then(|| Bernoulli::new(bias.min(1.0)).expect("the divisor share is checked"))
}

/// The largest divisor of `n` that is at most `cap` (1 at least).
pub(crate) fn largest_divisor_upto(n: i64, cap: i64) -> i64 {
    if let Some(ds) = listed_divisors(n) {
        return ds.iter().map(|&d| d as i64).filter(|&d| d <= cap).max().unwrap_or(1).max(1);
    }
    largest_divisor_upto_slow(n, cap)
}

fn largest_divisor_upto_slow(n: i64, cap: i64) -> i64 {
    let mut best = 1;
    let mut d = 1;
    while d * d <= n {
        if n % d == 0 {
            for v in [d, n / d] {
                if v <= cap && v > best {
                    best = v;
                }
            }
        }
        d += 1;
    }
    best
}

/// A uniformly chosen divisor of `n` among those at most `cap` (1 if none other), listed small
/// ones ascending then large ones descending (the order the draws were first recorded with).
/// Numbers with more than 256 divisors (none below 10^7) draw among the first 256 found.
fn random_divisor_upto(n: i64, cap: i64, rng: &mut impl Rng) -> i64 {
    if let Some(ds) = listed_divisors(n) {
        // The same list and draw as trial division below, read from the table.
        let count = if cap >= n { ds.len() } else { ds.iter().filter(|&&d| d as i64 <= cap).count() };
        if count == 0 {
            return 1;
        }
        let i = rng.random_range(0..count);
        if cap >= n {
            return ds[i] as i64;
        }
        return ds.iter().filter(|&&d| d as i64 <= cap).nth(i).map_or(1, |&d| d as i64);
    }
    random_divisor_upto_slow(n, cap, rng)
}

fn random_divisor_upto_slow(n: i64, cap: i64, rng: &mut impl Rng) -> i64 {
    let (mut small, mut large) = ([0i64; 128], [0i64; 128]);
    let (mut ns, mut nl) = (0, 0);
    let mut d = 1;
    while d * d <= n {
        if n % d == 0 {
            if d <= cap && ns < small.len() {
                small[ns] = d;
                ns += 1;
            }
            let e = n / d;
            if e != d && e <= cap && nl < large.len() {
                large[nl] = e;
                nl += 1;
            }
        }
        d += 1;
    }
    if ns + nl == 0 {
        return 1;
    }
    let i = rng.random_range(0..ns + nl);
    if i < ns {
        small[i]
    } else {
        large[i - ns]
    }
}

/// A uniformly chosen divisor of `n` (≥ 1), by trial division up to √n.
fn random_divisor(n: i64, rng: &mut impl Rng) -> i64 {
    random_divisor_upto(n, n, rng)
}

#[cfg(test)]
mod divisor_tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn table_matches_trial_division() {
        for n in 1..=TABLE_MAX {
            for cap in [0, 1, 2, 3, 7, 16, 31, 64, 100, 168, 1000, n - 1, n, n + 5] {
                assert_eq!(largest_divisor_upto(n, cap), largest_divisor_upto_slow(n, cap), "n {n} cap {cap}");
                let (mut a, mut b) = (ChaCha8Rng::seed_from_u64(n as u64), ChaCha8Rng::seed_from_u64(n as u64));
                for _ in 0..3 {
                    assert_eq!(random_divisor_upto(n, cap, &mut a), random_divisor_upto_slow(n, cap, &mut b));
                }
                assert_eq!(a.random::<u64>(), b.random::<u64>());
            }
        }
    }
}
