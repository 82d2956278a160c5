//! Packed populations: genomes as fixed-size word records (the GPU buffer layout of
//! [`crate::mapping::pack`]), with compact fitness records and 64-bit keys beside them. Selection
//! works on keys by partial selection; nothing is allocated per genome.

use super::objective::Fitness;
use crate::mapping::pack::{pack_into, unpack_genome, unpack_into, HEADER_WORDS, LEVEL_WORDS};
use crate::mapping::Genome;
use rayon::prelude::*;
use std::cmp::Ordering;

/// A population of packed genomes with their fitness and keys.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    pub stride: usize,
    pub words: Vec<u32>,
    pub fit: Vec<Fitness>,
    pub key: Vec<u64>,
}

impl Pool {
    pub fn new(stride: usize) -> Pool {
        Pool { stride, ..Pool::default() }
    }

    pub fn len(&self) -> usize {
        self.fit.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fit.is_empty()
    }

    pub fn clear(&mut self) {
        self.words.clear();
        self.fit.clear();
        self.key.clear();
    }

    /// Keeps the first `n` members.
    pub fn truncate(&mut self, n: usize) {
        self.words.truncate(n * self.stride);
        self.fit.truncate(n);
        self.key.truncate(n);
    }

    /// The words of genome `i`.
    pub fn record(&self, i: usize) -> &[u32] {
        &self.words[i * self.stride..(i + 1) * self.stride]
    }

    /// Starts loading record `i` (a random parent, read soon after): its first and last words
    /// are read and dropped, so both cache lines are in flight while the caller goes on.
    #[inline]
    pub fn prefetch(&self, i: usize) {
        if let Some(rec) = self.words.get(i * self.stride..(i + 1) * self.stride) {
            std::hint::black_box(rec[0] ^ rec[rec.len() - 1]);
        }
    }

    pub fn genome(&self, i: usize) -> Genome {
        unpack_genome(self.record(i)).expect("pool records are packed by the search").2
    }

    /// Genome `i` written into `g`.
    pub fn genome_into(&self, i: usize, g: &mut Genome) {
        unpack_into(self.record(i), g).expect("pool records are packed by the search");
    }

    pub fn push_record(&mut self, rec: &[u32], fit: Fitness, key: u64) {
        self.words.extend_from_slice(rec);
        self.fit.push(fit);
        self.key.push(key);
    }

    pub fn push(&mut self, g: &Genome, num_pe: i64, fit: Fitness, key: u64) {
        let start = self.words.len();
        self.words.resize(start + self.stride, 0);
        pack_into(g, 0, num_pe, &mut self.words[start..]);
        self.fit.push(fit);
        self.key.push(key);
    }

    /// Index of the lexicographically best member (ties: the smaller key, then the first).
    pub fn best(&self) -> Option<usize> {
        (0..self.len()).min_by(|&a, &b| rank(self.fit[a], self.key[a], self.fit[b], self.key[b]))
    }

    /// The pool as a [`View`].
    pub fn view(&self) -> View<'_> {
        View { words: &self.words, fit: &self.fit, key: &self.key }
    }

    /// Keeps the `n` best members with distinct keys (best first among the first `front`,
    /// which are fully ordered), taken from `self` and `extra` (records of the same stride, e.g.
    /// the evaluated batch itself: no copy of it is made). A key seen twice keeps its better
    /// member. Deterministic: ties are broken by key, then by position.
    pub fn select(&mut self, extra: View, n: usize, front: usize, scratch: &mut Select) {
        self.select_impl(extra, n, front, false, scratch);
    }

    /// As [`Pool::select`], but only the first `front` of the `n` selected are kept (a GA breeds
    /// from them and drops the rest, so the rest are not copied); returns how many of all `n`
    /// are valid, what the GA's parent count is drawn from.
    pub fn select_front(&mut self, extra: View, n: usize, front: usize, scratch: &mut Select) -> usize {
        self.select_impl(extra, n, front, true, scratch)
    }

    fn select_impl(&mut self, extra: View, n: usize, front: usize, front_only: bool, scratch: &mut Select) -> usize {
        let own = self.len();
        let total = own + extra.len();
        let stride = self.stride;
        let at = |i: usize| if i < own { (self.fit[i], self.key[i]) } else { (extra.fit[i - own], extra.key[i - own]) };
        scratch.dedup(total, at);
        // Compact sort keys: (f1, f2, key, index) compare without indirection.
        let keys = &mut scratch.keys;
        keys.clear();
        keys.extend(scratch.kept.iter().map(|&i| {
            let (f, k) = at(i as usize);
            SortKey { f1: total_order(f.f1), f2: total_order(f.f2), key: k, idx: i, valid: f.is_valid() }
        }));
        let n = n.min(keys.len());
        // (f1, f2) by `f64::total_cmp`, then key, then position: a total order (positions are
        // distinct), so unstable selection and sorting are deterministic.
        let cmp = |a: &SortKey, b: &SortKey| (a.f1, a.f2, a.key, a.idx).cmp(&(b.f1, b.f2, b.key, b.idx));
        if n < keys.len() {
            keys.select_nth_unstable_by(n, cmp);
            keys.truncate(n);
        }
        let front = front.min(n);
        if front > 0 && front < n {
            keys.select_nth_unstable_by(front, cmp);
        }
        // The order is total, so sorting on every core gives the same result as on one.
        if front > 1 << 14 {
            keys[..front].par_sort_unstable_by(cmp);
        } else {
            keys[..front].sort_unstable_by(cmp);
        }
        // Counted only for `select_front`, whose caller reads it.
        let mut valid = 0;
        if front_only {
            valid = keys.iter().filter(|k| k.valid).count();
            keys.truncate(front);
        }
        let n = keys.len();
        // The selection is written into the pool's own buffers, so no second population-sized
        // buffer is kept: the members it had are set aside first (in a GA step these are the
        // few elites; the offspring are read from `extra` in place).
        let kept_own = &mut scratch.own;
        kept_own.stride = stride;
        kept_own.clear();
        kept_own.words.extend_from_slice(&self.words);
        kept_own.fit.extend_from_slice(&self.fit);
        kept_own.key.extend_from_slice(&self.key);
        self.clear();
        let kept_own = &*kept_own;
        let src = |k: &SortKey| -> (&[u32], Fitness, u64) {
            let i = k.idx as usize;
            if i < own {
                (kept_own.record(i), kept_own.fit[i], kept_own.key[i])
            } else {
                let j = i - own;
                (&extra.words[j * stride..(j + 1) * stride], extra.fit[j], extra.key[j])
            }
        };
        self.fit.extend(keys.iter().map(|k| src(k).1));
        self.key.extend(keys.iter().map(|k| src(k).2));
        // The records (most of the bytes moved) are copied on every core for large selections:
        // at a population of 1e5 this copy was a serial share of each generation.
        self.words.resize(n * stride, 0);
        self.words
            .par_chunks_exact_mut(stride.max(1))
            .zip(keys.par_iter())
            .with_min_len(4096)
            .for_each(|(dst, k)| dst.copy_from_slice(src(k).0));
        valid
    }
}

/// An integer that orders as [`f64::total_cmp`] orders its argument (the same transform).
#[inline]
fn total_order(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    b ^ (((b >> 63) as u64) >> 1) as i64
}

#[derive(Debug, Clone, Copy)]
struct SortKey {
    f1: i64,
    f2: i64,
    key: u64,
    idx: u32,
    /// Not compared: counted after selection.
    valid: bool,
}

/// Borrowed records with their fitness and keys (one of each per record).
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub words: &'a [u32],
    pub fit: &'a [Fitness],
    pub key: &'a [u64],
}

impl View<'_> {
    pub fn len(&self) -> usize {
        self.fit.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fit.is_empty()
    }
}

/// Lexicographic fitness, then key: a total order.
pub fn rank(fa: Fitness, ka: u64, fb: Fitness, kb: u64) -> Ordering {
    fa.lex_cmp(&fb).then(ka.cmp(&kb))
}

/// Reusable scratch space for [`Pool::select`]: an open-addressing table of keys.
#[derive(Debug, Default)]
pub struct Select {
    table: Vec<u32>,
    kept: Vec<u32>,
    keys: Vec<SortKey>,
    /// The pool's previous members during a selection.
    own: Pool,
}

impl Select {
    /// Fills `kept` with one index per distinct key (the better member of equal keys).
    fn dedup(&mut self, total: usize, at: impl Fn(usize) -> (Fitness, u64)) {
        let cap = (total * 2).next_power_of_two().max(16);
        self.table.clear();
        self.table.resize(cap, u32::MAX);
        self.kept.clear();
        let mask = cap - 1;
        for i in 0..total {
            let (f, k) = at(i);
            let mut h = (mix(k) as usize) & mask;
            loop {
                let slot = self.table[h];
                if slot == u32::MAX {
                    self.table[h] = self.kept.len() as u32;
                    self.kept.push(i as u32);
                    break;
                }
                let j = self.kept[slot as usize] as usize;
                let (fj, kj) = at(j);
                if kj == k {
                    if f.lex_cmp(&fj).is_lt() {
                        self.kept[slot as usize] = i as u32;
                    }
                    break;
                }
                h = (h + 1) & mask;
            }
        }
    }
}

/// A 64-bit finaliser (splitmix64): spreads keys over the table.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Key of the whole genome record (problem index and reserved word excluded; the top gene-0
/// size counts only when it is the co-explored PE count, as GAMMA's duplicate check ignores it
/// otherwise).
pub fn exact_key(rec: &[u32], co_explore: bool) -> u64 {
    let nl = rec[1] as usize;
    let mut h = nl as u64 ^ if co_explore { (rec[2] as u64) << 8 } else { 0 };
    for (i, &w) in rec[HEADER_WORDS..HEADER_WORDS + LEVEL_WORDS * nl].iter().enumerate() {
        let w = if i == 1 && !co_explore { 0 } else { w };
        // Multiply-rotate per word (position-dependent), one finaliser at the end.
        h = (h ^ w as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    }
    mix(h)
}

/// Key of what decides the first objective up to loop order: per level the parallel and second
/// spatial dims, the cluster size and each dim's tile, whatever their order. Combined with the
/// first objective's value, two records with equal keys are the same point for the first
/// objective (order variants of one tiling that score the same), so only the better one for the
/// second objective is kept. Orders are searched in their own phase.
pub fn tiling_key(rec: &[u32], co_explore: bool, f1: f64) -> u64 {
    let nl = rec[1] as usize;
    let mut h = mix(nl as u64 ^ if co_explore { (rec[2] as u64) << 8 } else { 0 } ^ (f1.to_bits() << 3));
    for l in 0..nl {
        let b = &rec[HEADER_WORDS + LEVEL_WORDS * l..];
        let dims = b[0];
        // Parallel dim (bits 0-2) and second spatial dim (bits 21-23); the loop order is not hashed.
        let head = (dims & 7) | ((dims >> 21) & 7) << 3;
        let size = if l == 0 && !co_explore { 0 } else { b[1] };
        let mut level = mix(((l as u64) << 56) ^ ((head as u64) << 32) ^ size as u64);
        for i in 0..6 {
            let d = (dims >> (3 + 3 * i)) & 7;
            // Summed: the same tiles in any order give the same key.
            level = level.wrapping_add(mix(((l as u64) << 48) ^ ((d as u64) << 32) ^ b[2 + i] as u64));
        }
        h = mix(h ^ level);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::pack::pack_genome;

    fn g(text: &str) -> Genome {
        serde_json::from_str(text).unwrap()
    }

    /// `select_front` keeps exactly the first `front` members `select` keeps, and counts the
    /// valid members among all `n` (valid and invalid members interleave: an infinite second
    /// objective with a finite first sorts among valid ones).
    #[test]
    fn select_front_is_the_front_of_select() {
        let stride = 3;
        let mk = |seed: u64, n: usize| {
            let mut p = Pool::new(stride);
            for i in 0..n as u64 {
                let h = mix(seed ^ i);
                let f1 = if h.is_multiple_of(7) { f64::INFINITY } else { (h % 50) as f64 };
                let f2 = if h.is_multiple_of(5) { f64::INFINITY } else { (h >> 8 & 15) as f64 };
                // Some keys repeat so that duplicates are removed too.
                p.push_record(&[i as u32, h as u32, 7], Fitness { f1, f2 }, h % 300);
            }
            p
        };
        for (n, front) in [(40, 10), (40, 40), (500, 1), (500, 333), (1000, 64)] {
            let (own, fresh) = (mk(1, 17), mk(2, 600));
            let (mut a, mut b) = (own.clone(), own);
            let (mut sa, mut sb) = (Select::default(), Select::default());
            a.select(fresh.view(), n, front, &mut sa);
            let valid = b.select_front(fresh.view(), n, front, &mut sb);
            let want_valid = a.fit.iter().filter(|f| f.is_valid()).count();
            assert_eq!(valid, want_valid, "n {n} front {front}");
            let f = front.min(a.len());
            assert_eq!(b.len(), f, "n {n} front {front}");
            assert_eq!(b.words, a.words[..f * stride], "n {n} front {front}");
            assert_eq!(b.key, a.key[..f], "n {n} front {front}");
            assert!(valid > 0 && valid < a.len(), "the case mixes valid and invalid members");
        }
    }

    #[test]
    fn keys_see_what_they_should() {
        let a = g(
            r#"[["K",64],["C",16],["Y",7],["X",7],["K",8],["R",3],["S",3],["C",4],["K",1],["C",2],["Y",1],["X",1],["R",3],["S",3]]"#,
        );
        // Same tiles, outer order changed.
        let b = g(
            r#"[["K",64],["Y",7],["C",16],["X",7],["K",8],["R",3],["S",3],["C",4],["K",1],["C",2],["Y",1],["X",1],["R",3],["S",3]]"#,
        );
        // One inner tile changed.
        let c = g(
            r#"[["K",64],["C",16],["Y",7],["X",7],["K",8],["R",3],["S",3],["C",4],["K",1],["C",1],["Y",1],["X",1],["R",3],["S",3]]"#,
        );
        let rec = |x: &Genome| {
            let mut w = Vec::new();
            pack_genome(x, 0, 64, 20, &mut w);
            w
        };
        let (ra, rb, rc) = (rec(&a), rec(&b), rec(&c));
        assert_ne!(exact_key(&ra, false), exact_key(&rb, false));
        assert_eq!(tiling_key(&ra, false, 10.0), tiling_key(&rb, false, 10.0));
        assert_ne!(tiling_key(&ra, false, 10.0), tiling_key(&rb, false, 11.0));
        assert_ne!(tiling_key(&ra, false, 10.0), tiling_key(&rc, false, 10.0));
        assert_ne!(exact_key(&ra, false), exact_key(&rc, false));
        // The top gene-0 size counts only when co-exploring.
        let mut rd = ra.clone();
        rd[5] = 32;
        assert_eq!(exact_key(&ra, false), exact_key(&rd, false));
        assert_ne!(exact_key(&ra, true), exact_key(&rd, true));
    }

    #[test]
    fn total_order_matches_total_cmp() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -0.0,
            0.0,
            1e-300,
            1.0,
            2.5,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        for a in xs {
            for b in xs {
                assert_eq!(total_order(a).cmp(&total_order(b)), a.total_cmp(&b), "{a} {b}");
            }
        }
    }

    #[test]
    fn select_keeps_the_best_distinct() {
        let genome = g(r#"[["K",64],["C",16],["Y",7],["X",7],["K",8],["R",3],["S",3]]"#);
        let mut p = Pool::new(12);
        let mut q = Pool::new(12);
        // Keys 0..10 with f1 = 10 - k, plus duplicates of keys 3 and 4 (one better, one worse).
        for k in 0..10u64 {
            p.push(&genome, 64, Fitness { f1: 10.0 - k as f64, f2: 0.0 }, k);
        }
        q.push(&genome, 64, Fitness { f1: 6.0, f2: -1.0 }, 4);
        q.push(&genome, 64, Fitness { f1: 8.0, f2: 0.0 }, 3);
        let mut s = Select::default();
        p.select(q.view(), 4, 4, &mut s);
        assert_eq!(p.key, vec![9, 8, 7, 6]);
        let mut p2 = p.clone();
        p2.select(Pool::new(12).view(), 10, 2, &mut s);
        assert_eq!(p2.key[..2], [9, 8]);
        assert_eq!(p2.len(), 4);
        let mut p3 = Pool::new(12);
        for k in 0..10u64 {
            p3.push(&genome, 64, Fitness { f1: 10.0 - k as f64, f2: 0.0 }, k);
        }
        p3.select(q.view(), 7, 7, &mut s);
        // Key 4 keeps the better duplicate (f1 6, f2 -1).
        let i = p3.key.iter().position(|&k| k == 4).unwrap();
        assert_eq!(p3.fit[i], Fitness { f1: 6.0, f2: -1.0 });
        assert!(p3.fit.windows(2).all(|w| w[0].lex_cmp(&w[1]).is_le()));
    }
}
