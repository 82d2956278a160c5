//! Neighbourhoods for local search: every genome one gene away (tiles at the values that change
//! a fold count, cluster sizes, parallel dims, adjacent loop-order swaps, the co-explored PE
//! count), random two-gene moves, and every loop order of one level.

use super::space::{largest_divisor_upto, Space};
use crate::mapping::{Dim, Genome};
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::HashSet;

/// Values worth trying for a tile within `[1, extent]`: the smallest tile for each number of
/// folds (`ceil(extent / n)`), which is where runtime and edge waste change, plus the current
/// tile's neighbours. About 2·sqrt(extent) values.
pub fn tile_values(extent: i64, current: i64, out: &mut Vec<i64>) {
    out.clear();
    let e = extent.max(1);
    let mut n = 1;
    while n <= e {
        let t = (e + n - 1) / n;
        out.push(t);
        // Next n with a smaller ceil(e / n).
        n = if t > 1 { (e + t - 2) / (t - 1) } else { e + 1 };
    }
    for v in [current - 1, current + 1] {
        if (1..=e).contains(&v) {
            out.push(v);
        }
    }
    out.sort_unstable();
    out.dedup();
}

/// Pushes `c` repaired, and with `grow` also at the largest design its tiling allows (see
/// [`Space::largest_design`]), each only if it is neither `g` nor already in `seen`.
fn push_new(space: &Space, g: &Genome, seen: &mut HashSet<Genome>, mut c: Genome, grow: bool, out: &mut Vec<Genome>) {
    space.repair(&mut c);
    if c != *g && seen.insert(c) {
        out.push(c);
    }
    if grow {
        c.levels[0].size = space.largest_design(&c);
        space.repair(&mut c);
        if c != *g && seen.insert(c) {
            out.push(c);
        }
    }
}

/// Every genome one gene away from `g`, repaired into the space, without `g` itself or
/// duplicates. `scratch` holds temporary values.
pub fn one_gene(space: &Space, g: &Genome, out: &mut Vec<Genome>, scratch: &mut Vec<i64>) {
    out.clear();
    let mut seen = HashSet::new();
    // Co-exploration: a move that changes the parallel tiling (a cluster size, a parallel dim,
    // the top parallel dim's tile) changes how many PEs the design can keep busy, and keeping the
    // old PE count then often scores worse than either design alone; so each such move
    // (`widen`) is also tried with the design grown to as many sub-clusters as the new tiling,
    // the PE limit and the area budget allow (two coordinated gene changes in one step).
    let widen_pe = space.opts.co_explore;
    let mut push_any =
        |c: Genome, out: &mut Vec<Genome>, widen: bool| push_new(space, g, &mut seen, c, widen && widen_pe, out);
    let rs_fixed = |d: Dim| space.opts.rs_full && matches!(d, Dim::R | Dim::S);
    let nl = g.levels.len();
    for li in 0..nl {
        // Tiles.
        for pos in 0..6 {
            let (d, t) = g.levels[li].order[pos];
            if rs_fixed(d) {
                continue;
            }
            let extent = if li == 0 { space.bound[d.index()] } else { g.levels[li - 1].tile(d) };
            tile_values(extent, t, scratch);
            let top_par = li == 0 && d == g.levels[0].par;
            for &v in scratch.iter() {
                if v != t {
                    let mut c = *g;
                    c.levels[li].order[pos].1 = v;
                    push_any(c, out, top_par);
                }
            }
        }
        // Parallel dim, keeping the cluster size or refitting it as a factor.
        for p in space.par_dims_at(li) {
            if p != g.levels[li].par {
                let mut c = *g;
                c.levels[li].par = p;
                push_any(c, out, true);
                if li > 0 {
                    let m = c.levels[li - 1].tile(p).min(space.num_pe).max(1);
                    c.levels[li].size = largest_divisor_upto(m, c.levels[li].size);
                    push_any(c, out, true);
                }
            }
        }
        // Cluster size: factors of the parent tile and the fold-changing values.
        if li > 0 && space.opts.fixed_cluster.is_none() {
            let m = g.levels[li - 1].tile(g.levels[li].par).min(space.num_pe).max(1);
            tile_values(m, g.levels[li].size, scratch);
            let mut d = 1;
            while d * d <= m {
                if m % d == 0 {
                    scratch.push(d);
                    scratch.push(m / d);
                }
                d += 1;
            }
            scratch.sort_unstable();
            scratch.dedup();
            for &v in scratch.iter() {
                if v != g.levels[li].size {
                    let mut c = *g;
                    c.levels[li].size = v;
                    push_any(c, out, true);
                }
            }
        }
        // Adjacent loop-order swaps (the order phase tries them all).
        for pos in 0..5 {
            let mut c = *g;
            c.levels[li].order.swap(pos, pos + 1);
            push_any(c, out, false);
        }
    }
    // The co-explored PE count, as a number of top-level sub-clusters.
    if space.opts.co_explore {
        let inner = Space::inner_product(g);
        let n0 = g.levels[0].size / inner.max(1);
        let max = space.max_subclusters(g);
        tile_values(max, n0, scratch);
        for &v in scratch.iter() {
            if v != n0 {
                let mut c = *g;
                c.levels[0].size = v * inner;
                push_any(c, out, false);
            }
        }
    }
}

/// `n` random two-gene moves: pairs of distinct one-gene neighbours' changes applied together.
pub fn two_gene(space: &Space, g: &Genome, ones: &[Genome], n: usize, rng: &mut impl Rng, out: &mut Vec<Genome>) {
    out.clear();
    if ones.len() < 2 {
        return;
    }
    let mut seen = HashSet::new();
    let mut tries = 0;
    while out.len() < n && tries < 4 * n {
        tries += 1;
        let a = &ones[rng.random_range(0..ones.len())];
        let b = &ones[rng.random_range(0..ones.len())];
        // Take b's change on top of a: every gene where b differs from g.
        let mut c = *a;
        for li in 0..c.levels.len().min(b.levels.len()).min(g.levels.len()) {
            let (bl, gl) = (&b.levels[li], &g.levels[li]);
            if bl.par != gl.par {
                c.levels[li].par = bl.par;
            }
            if bl.size != gl.size {
                c.levels[li].size = bl.size;
            }
            if bl.order.map(|p| p.0) != gl.order.map(|p| p.0) {
                c.levels[li].order = bl.order;
            } else {
                for pos in 0..6 {
                    if bl.order[pos].1 != gl.order[pos].1 {
                        let d = bl.order[pos].0;
                        c.levels[li].set_tile(d, bl.order[pos].1);
                    }
                }
            }
        }
        space.repair(&mut c);
        if c != *g && c != *a && c != *b && seen.insert(c) {
            out.push(c);
        }
    }
}

/// Buffer trades between levels (co-exploration): a parent level's tile shrunk to what one
/// iteration of the level below covers (the child's tile, times the cluster size on the
/// child's parallel dim), one dim at a time and all dims at once, each alone and with one tile of
/// the child level moved to a fold-changing value of its new extent. A smaller parent tile needs
/// less of the outer buffer, whose area then goes to PEs (each candidate is also tried with the
/// largest design its tiling allows); reaching such a design from a local optimum takes two or
/// more coordinated changes, which random two-gene moves rarely draw.
pub fn tighten(space: &Space, g: &Genome, out: &mut Vec<Genome>, scratch: &mut Vec<i64>) {
    out.clear();
    let mut seen = HashSet::new();
    let mut push = |c: Genome, out: &mut Vec<Genome>| push_new(space, g, &mut seen, c, true, out);
    for li in 1..g.levels.len() {
        let child = &g.levels[li];
        let one_iter = |d: Dim| child.tile(d).max(1) * if d == child.par { child.size.max(1) } else { 1 };
        let dims: Vec<Dim> =
            g.levels[li - 1].order.iter().map(|p| p.0).filter(|&d| g.levels[li - 1].tile(d) > one_iter(d)).collect();
        if dims.is_empty() {
            continue;
        }
        // Each shrinkable dim alone, then all of them (when more than one).
        let mut sets: Vec<Vec<Dim>> = dims.iter().map(|&d| vec![d]).collect();
        if dims.len() > 1 {
            sets.push(dims.clone());
        }
        for set in sets {
            let mut c = *g;
            for &d in &set {
                c.levels[li - 1].set_tile(d, one_iter(d));
            }
            push(c, out);
            for pos in 0..6 {
                let (d, t) = c.levels[li].order[pos];
                if space.opts.rs_full && matches!(d, Dim::R | Dim::S) {
                    continue;
                }
                tile_values(c.levels[li - 1].tile(d), t, scratch);
                for &v in scratch.iter() {
                    if v != t {
                        let mut x = c;
                        x.levels[li].order[pos].1 = v;
                        push(x, out);
                    }
                }
            }
        }
    }
}

/// Every loop order of level `li` (tiles travel with their dims), repaired, without `g`.
pub fn orders(space: &Space, g: &Genome, li: usize, out: &mut Vec<Genome>) {
    out.clear();
    let mut perm = g.levels[li].order;
    // Heap's algorithm over the six positions: 720 orders.
    let mut c = [0usize; 6];
    let mut seen = HashSet::new();
    let mut emit = |p: &[(Dim, i64); 6], out: &mut Vec<Genome>| {
        let mut x = *g;
        x.levels[li].order = *p;
        space.repair(&mut x);
        if x != *g && seen.insert(x) {
            out.push(x);
        }
    };
    emit(&perm, out);
    let mut i = 0;
    while i < 6 {
        if c[i] < i {
            if i % 2 == 0 {
                perm.swap(0, i);
            } else {
                perm.swap(c[i], i);
            }
            emit(&perm, out);
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
}

/// Shuffles and truncates a candidate list to a budget.
pub fn cap(v: &mut Vec<Genome>, n: usize, rng: &mut impl Rng) {
    if v.len() > n {
        v.shuffle(rng);
        v.truncate(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_values() {
        let mut v = Vec::new();
        tile_values(10, 5, &mut v);
        // ceil(10/n) for n = 1..10: 10 5 4 3 2 2 2 2 2 1, plus 4 and 6 around 5.
        assert_eq!(v, vec![1, 2, 3, 4, 5, 6, 10]);
        tile_values(1, 1, &mut v);
        assert_eq!(v, vec![1]);
        // Every fold count of 56 is reachable by some value in the list.
        tile_values(56, 1, &mut v);
        for n in 1..=56i64 {
            let folds = (56 + n - 1) / n;
            assert!(v.iter().any(|&t| (56 + t - 1) / t == folds), "{n}");
        }
    }

    #[test]
    fn co_explored_tiling_moves_also_grow_the_design() {
        use crate::search::SpaceOptions;
        use crate::workload::Layer;
        // MnasNet layer 30's shape: C (480) spread at the top with clusters of 2 fills 960 of
        // 1,024 PEs; a cluster of 10 fills 1,020 only with the PE count raised at the same time.
        let layer = Layer::conv(80, 480, 14, 14, 1, 1);
        let opts = SpaceOptions { co_explore: true, ..SpaceOptions::default() };
        let space = Space::new(&layer, 1024, opts.clone());
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3);
        let mut g = space.random_genome(&mut rng);
        g.levels[0].par = Dim::C;
        g.levels[0].set_tile(Dim::C, 1);
        g.levels[1].par = Dim::K;
        g.levels[0].set_tile(Dim::K, 80);
        g.levels[1].size = 2;
        g.levels[0].size = 960;
        space.repair(&mut g);
        assert_eq!((g.levels[0].size, g.levels[1].size), (960, 2));
        let (mut ones, mut s) = (Vec::new(), Vec::new());
        one_gene(&space, &g, &mut ones, &mut s);
        assert!(ones.iter().all(|c| space.contains(c)));
        // Cluster 10 with 102 sub-clusters (the most the limit allows) is one step away...
        assert!(ones.iter().any(|c| c.levels[1].size == 10 && c.levels[0].size == 1020));
        // ...and is not without co-exploration's widened moves.
        let fixed = Space::new(&layer, 1024, SpaceOptions { co_explore: false, ..opts });
        one_gene(&fixed, &g, &mut ones, &mut s);
        assert!(ones.iter().all(|c| c.levels[0].size == 1024));
    }

    #[test]
    fn tighten_shrinks_parent_tiles_to_one_child_iteration() {
        use crate::mapping::Level;
        use crate::search::SpaceOptions;
        // A design seen stuck at 1.6% over the best (VGG16 layer 2, 20 mm^2, 16,384 PEs): the top
        // level holds K 64 and C 24 where one iteration of the cluster below needs K 1 and C 23,
        // and X 222 where the cluster of 133 covers 133.
        let layer = crate::workload::builtin::resolve_model("vgg16").unwrap().layers[1];
        let opts = SpaceOptions { co_explore: true, ..SpaceOptions::default() };
        let space = Space::new(&layer, 16384, opts);
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        let mut g = space.random_genome(&mut rng);
        g.levels[0] = Level {
            par: Dim::Y,
            size: 16093,
            order: [(Dim::C, 24), (Dim::Y, 1), (Dim::K, 64), (Dim::R, 3), (Dim::X, 222), (Dim::S, 3)],
            sp2: None,
        };
        g.levels[1] = Level {
            par: Dim::X,
            size: 133,
            order: [(Dim::X, 1), (Dim::K, 1), (Dim::R, 3), (Dim::C, 23), (Dim::S, 3), (Dim::Y, 1)],
            sp2: None,
        };
        space.repair(&mut g);
        assert_eq!(g.levels[0].size, 16093);
        let (mut out, mut s) = (Vec::new(), Vec::new());
        tighten(&space, &g, &mut out, &mut s);
        assert!(!out.is_empty() && out.iter().all(|c| space.contains(c) && *c != g));
        let top = |c: &Genome| (c.levels[0].tile(Dim::K), c.levels[0].tile(Dim::C), c.levels[0].tile(Dim::X));
        let same_below = |c: &Genome| c.levels[1] == g.levels[1];
        // Each dim alone, the inner level unchanged, at the old PE count and at the largest.
        for t in [(1, 24, 222), (64, 23, 222), (64, 24, 133), (1, 23, 133)] {
            assert!(out.iter().any(|c| top(c) == t && same_below(c) && c.levels[0].size == 16093), "{t:?}");
            assert!(out.iter().any(|c| top(c) == t && same_below(c) && c.levels[0].size > 16093), "{t:?} grown");
        }
        // With one inner tile moved too (C 23 -> 12 under the shrunk C tile of 23).
        assert!(out.iter().any(|c| top(c) == (64, 23, 222) && c.levels[1].tile(Dim::C) == 12));
        // Nothing to shrink once every parent tile is one iteration of the level below.
        let t = *out.iter().find(|c| top(c) == (1, 23, 133) && same_below(c)).unwrap();
        tighten(&space, &t, &mut out, &mut s);
        assert!(out.is_empty());
        // A one-level genome has no level below to trade with.
        let mut one = g;
        one.levels.truncate(1);
        tighten(&space, &one, &mut out, &mut s);
        assert!(out.is_empty());
    }

    #[test]
    fn all_orders() {
        use crate::search::SpaceOptions;
        use crate::workload::Layer;
        let layer = Layer::conv(16, 16, 10, 10, 3, 3);
        let space = Space::new(&layer, 64, SpaceOptions::default());
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        let g = space.random_genome(&mut rng);
        let mut v = Vec::new();
        orders(&space, &g, 0, &mut v);
        assert_eq!(v.len(), 719);
        let mut ones = Vec::new();
        let mut s = Vec::new();
        one_gene(&space, &g, &mut ones, &mut s);
        assert!(ones.len() > 20);
        assert!(ones.iter().all(|c| space.contains(c) && *c != g));
    }
}
