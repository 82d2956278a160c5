//! GAMMA's domain-aware genetic operators. Each leaves the genome to be repaired by the caller.

use super::space::Space;
use crate::mapping::{Dim, Genome};
use rand::distr::{Bernoulli, Distribution};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Operator rates (GAMMA's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub crossover: f64,
    pub order: f64,
    /// Probability of redrawing each of the tile mutation's loci (GAMMA applies it per locus).
    pub tile: f64,
    /// Number of loci the tile mutation visits.
    pub tile_loci: usize,
    pub par_swap: f64,
    pub grow: f64,
    pub aging: f64,
    pub elite_ratio: f64,
    pub parents_ratio: f64,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            crossover: 0.57,
            order: 0.47,
            tile: 0.53,
            tile_loci: 3,
            par_swap: 0.1,
            grow: 0.57,
            aging: 0.27,
            elite_ratio: 0.05,
            parents_ratio: 0.4,
        }
    }
}

/// The rates of one brood as coins, made once: a flip is then one comparison of a random word
/// (what `random_bool` does after turning the rate into a threshold on every call), so a
/// brood flips exactly as it would with `random_bool` and the same stream.
#[derive(Debug, Clone, Copy)]
pub struct Coins {
    pub crossover: Bernoulli,
    pub order: Bernoulli,
    pub tile: Bernoulli,
    /// The tile mutation's per-locus coin; none at a rate of 1 or more (every locus, no draw).
    pub tile_locus: Option<Bernoulli>,
    pub par_swap: Bernoulli,
    pub grow: Bernoulli,
    pub aging: Bernoulli,
    /// Flipped only when co-exploring, so a PE rate out of range matters only then.
    pe: Option<Bernoulli>,
}

impl Coins {
    /// Panics on a rate outside [0, 1], as `random_bool` would (options are checked first).
    pub fn new(r: &Rates, pe_rate: f64) -> Coins {
        Coins {
            crossover: coin(r.crossover),
            order: coin(r.order),
            tile: coin(r.tile),
            tile_locus: locus_coin(r.tile),
            par_swap: coin(r.par_swap),
            grow: coin(r.grow),
            aging: coin(r.aging),
            pe: Bernoulli::new(pe_rate).ok(),
        }
    }

    /// The co-exploration PE redraw's coin.
    pub fn pe(&self, rng: &mut impl Rng) -> bool {
        self.pe.expect("the PE rate is within [0, 1]").sample(rng)
    }
}

fn coin(rate: f64) -> Bernoulli {
    Bernoulli::new(rate).unwrap_or_else(|_| panic!("rate {rate} is outside [0, 1]"))
}

fn locus_coin(rate: f64) -> Option<Bernoulli> {
    (rate < 1.0).then(|| coin(rate))
}

/// Tile crossover: pick one dim and swap its tile between the parents at every shared level.
pub fn crossover(a: &mut Genome, b: &mut Genome, rng: &mut impl Rng) {
    let d = Dim::ALL[rng.random_range(0..6)];
    for li in 0..a.levels.len().min(b.levels.len()) {
        let (ta, tb) = (a.levels[li].tile(d), b.levels[li].tile(d));
        a.levels[li].set_tile(d, tb);
        b.levels[li].set_tile(d, ta);
    }
}

/// Swap two loop positions within one random level.
pub fn mutate_order(g: &mut Genome, rng: &mut impl Rng) {
    let li = rng.random_range(0..g.levels.len());
    let i = rng.random_range(0..6);
    let j = rng.random_range(0..6);
    g.levels[li].order.swap(i, j);
}

/// Visits `loci` random genes and redraws each with probability `rate` (GAMMA's per-locus rate):
/// a tile in `[1, bound]` at the top, `[1, parent tile]` below; gene 0 redraws the parallel dim
/// and, below the top, the cluster size as a factor of min(parent tile, PEs). A cluster size
/// whose parent tile or dim changed is refitted to stay a factor.
pub fn mutate_tiles(g: &mut Genome, space: &Space, loci: usize, rate: f64, rng: &mut impl Rng) {
    mutate_tiles_with(g, space, loci, locus_coin(rate), rng)
}

/// [`mutate_tiles`] with its per-locus coin made ([`Coins::tile_locus`]).
pub fn mutate_tiles_with(g: &mut Genome, space: &Space, loci: usize, coin: Option<Bernoulli>, rng: &mut impl Rng) {
    for _ in 0..loci {
        if coin.is_some_and(|c| !c.sample(rng)) {
            continue;
        }
        let li = rng.random_range(0..g.levels.len());
        let gene = rng.random_range(0..7);
        if gene == 0 {
            g.levels[li].par = space.random_par(rng);
            if li > 0 {
                g.levels[li].size = space.random_cluster(g, li, rng);
            }
            space.refit_cluster(g, li + 1);
        } else {
            let d = g.levels[li].order[gene - 1].0;
            let hi = if li == 0 { space.bound[d.index()] } else { g.levels[li - 1].tile(d) };
            g.levels[li].order[gene - 1].1 = space.random_tile(d, hi, rng);
            if g.levels.get(li + 1).is_some_and(|n| n.par == d) {
                // The child's tile of d is clamped by repair; its cluster must stay a factor.
                let t = g.levels[li].tile(d);
                if g.levels[li + 1].tile(d) > t {
                    g.levels[li + 1].set_tile(d, t);
                }
                space.refit_cluster(g, li + 1);
            }
        }
    }
}

/// Swap the parallel dims of the top two levels.
pub fn mutate_par_swap(g: &mut Genome, space: &Space) {
    if g.levels.len() >= 2 {
        let p = g.levels[0].par;
        g.levels[0].par = g.levels[1].par;
        g.levels[1].par = p;
        space.refit_cluster(g, 1);
    }
}

/// Add a new innermost level (tiles 1, random parallel dim and cluster size).
pub fn grow(g: &mut Genome, space: &Space, rng: &mut impl Rng) {
    if g.levels.len() < space.opts.slevel_max {
        let lv = space.new_inner_level(g, rng);
        g.levels.push(lv);
        let li = g.levels.len() - 1;
        g.levels[li].size = space.random_cluster(g, li, rng);
    }
}

/// Remove the innermost level.
pub fn age(g: &mut Genome, space: &Space) {
    if g.levels.len() > space.opts.slevel_min.max(1) {
        g.levels.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The coins replace `random_bool` in breeding, whose results are recorded: the same stream
    /// must give the same flips and leave the stream at the same place, at every rate.
    #[test]
    fn coins_flip_as_random_bool() {
        for p in [0.0, 1e-9, 0.1, 0.27, 0.47, 0.53, 0.57, 0.999, 1.0] {
            let r = Rates { crossover: p, order: p, tile: p, par_swap: p, grow: p, aging: p, ..Rates::default() };
            let coins = Coins::new(&r, p);
            let (mut a, mut b) = (ChaCha8Rng::seed_from_u64(7), ChaCha8Rng::seed_from_u64(7));
            for _ in 0..2000 {
                let flips = [coins.crossover, coins.order, coins.tile, coins.par_swap, coins.grow, coins.aging]
                    .map(|c| c.sample(&mut a));
                let expect = [(); 6].map(|_| b.random_bool(p));
                assert_eq!(flips, expect, "p {p}");
                assert_eq!(coins.pe(&mut a), b.random_bool(p), "p {p}");
                // The locus coin skips a locus as `rate < 1 && !random_bool(rate)` did.
                let skip = coins.tile_locus.is_some_and(|c| !c.sample(&mut a));
                assert_eq!(skip, p < 1.0 && !b.random_bool(p), "p {p}");
            }
            assert_eq!(a.random::<u64>(), b.random::<u64>(), "p {p}: streams diverged");
        }
    }
}
