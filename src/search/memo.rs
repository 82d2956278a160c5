//! What a layer knows of a record without evaluating it. A repeat of a record it evaluated (an
//! offspring equal to its parent, two equal siblings, a neighbour the polish met before; about
//! 15% of what `islands` proposes at 1e4-1e5 evaluations) gets its fitness back, and a mapping
//! whose L1 or L2 requirement is over the accelerator's cap (checked on the host from the
//! innermost tiles and the top level's first case, [`crate::model::packed::over_buffer_caps`];
//! about 30% of what reached the model before this check, on GAMMA's 168-PE example) is
//! unusable, so neither spends an evaluation. The GA still sees both (a repeated elite acts as
//! elitism in a small island), so they are given their fitness rather than dropped.
//!
//! The table is bounded and 4-way set-associative (a full set forgets its oldest record), keyed
//! by two independent 64-bit hashes of the whole record, so lookups never allocate and the result
//! depends only on the records proposed: the same on every backend and for any evaluation chunk.

use super::objective::Fitness;
use super::pool::mix;
use crate::mapping::pack::{HEADER_WORDS, LEVEL_WORDS};

#[derive(Clone, Copy)]
struct Slot {
    k1: u64,
    k2: u64,
    fit: Fitness,
    /// Index in the current round of the record that will give `fit`, while it is evaluated.
    pending: u32,
    /// When it was stored (the count of records stored before it, wrapping).
    stamp: u32,
}

const RESOLVED: u32 = u32::MAX;
const EMPTY: Slot = Slot { k1: 0, k2: 0, fit: Fitness::WORST, pending: RESOLVED, stamp: 0 };
const WAYS: usize = 4;

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seen {
    /// Evaluated in an earlier round.
    Before(Fitness),
    /// Equal to record `i` of this round, which is being evaluated.
    SameAs(usize),
    /// Not known: to be evaluated (and remembered).
    New,
}

pub struct Memo {
    slots: Vec<Slot>,
    /// Sets of [`WAYS`] slots, minus 1.
    mask: usize,
    stored: u32,
    /// Records proposed so far, repeats included.
    proposed: u64,
    /// Repeats and mappings over a cap are free only while fewer than this were proposed: a
    /// strategy that proposed nothing else would otherwise never spend its budget.
    free_until: u64,
}

/// Records a layer proposes before its repeats start to cost evaluations, per evaluation of
/// budget.
const FREE_FACTOR: u64 = 4;

impl Memo {
    /// A memory for a layer with `budget` evaluations: two slots per evaluation, 2^10 to 2^16
    /// slots (at most 2.5 MiB per layer, so a model of many layers stays small; large budgets
    /// remember their latest 65,536 records, where a GA's repeats come from).
    pub fn new(budget: u64) -> Memo {
        let n = (budget.saturating_mul(2)).clamp(1 << 10, 1 << 16).next_power_of_two() as usize;
        Memo {
            slots: vec![EMPTY; n],
            mask: n / WAYS - 1,
            stored: 0,
            proposed: 0,
            free_until: budget.saturating_mul(FREE_FACTOR),
        }
    }

    fn set(&mut self, k1: u64) -> &mut [Slot] {
        let s = (k1 as usize & self.mask) * WAYS;
        &mut self.slots[s..s + WAYS]
    }

    /// The record's two keys (word 0, the problem index, left out).
    pub fn keys(rec: &[u32]) -> (u64, u64) {
        let nl = (rec[1] as usize).min((rec.len() - HEADER_WORDS) / LEVEL_WORDS);
        let (mut a, mut b) = (0x243F_6A88_85A3_08D3u64, 0x1319_8A2E_0370_7344u64);
        for &w in &rec[1..HEADER_WORDS + LEVEL_WORDS * nl] {
            a = (a ^ w as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
            b = (b.rotate_left(17) ^ w as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        }
        // Never (0, 0), which marks an empty slot.
        (mix(a) | 1, mix(b))
    }

    /// Starts loading the set of `keys` (looked up or resolved soon after): the table is larger
    /// than the caches, so the loop over a round keeps several sets in flight.
    #[inline]
    pub fn touch(&self, keys: (u64, u64)) {
        let s = (keys.0 as usize & self.mask) * WAYS;
        std::hint::black_box(self.slots[s].k1);
    }

    /// Looks record `i` of the round up by its keys and, when it is new, remembers it as pending
    /// on `i`. Past the free share of proposals everything is new (and costs an evaluation).
    pub fn look(&mut self, keys: (u64, u64), i: usize) -> Seen {
        self.proposed += 1;
        if self.proposed > self.free_until {
            return Seen::New;
        }
        let stamp = self.stored;
        let set = self.set(keys.0);
        if let Some(s) = set.iter().find(|s| s.k1 == keys.0 && s.k2 == keys.1) {
            return if s.pending == RESOLVED { Seen::Before(s.fit) } else { Seen::SameAs(s.pending as usize) };
        }
        // An empty slot, else the oldest.
        let victim = set.iter_mut().max_by_key(|s| if s.k1 == 0 { u32::MAX } else { stamp.wrapping_sub(s.stamp) });
        *victim.expect("a set has slots") =
            Slot { k1: keys.0, k2: keys.1, fit: Fitness::WORST, pending: i as u32, stamp };
        self.stored = stamp.wrapping_add(1);
        Seen::New
    }

    /// A record known unusable without evaluation (over a buffer cap): [`Fitness::WORST`] while
    /// such records, like repeats, are free, else to be evaluated.
    pub fn take_free(&mut self) -> Seen {
        self.proposed += 1;
        if self.proposed > self.free_until {
            Seen::New
        } else {
            Seen::Before(Fitness::WORST)
        }
    }

    /// Stores the fitness of record `i` of the round, unless its slot went to another record.
    pub fn resolve(&mut self, keys: (u64, u64), i: usize, fit: Fitness) {
        if let Some(s) = self.set(keys.0).iter_mut().find(|s| s.k1 == keys.0 && s.k2 == keys.1 && s.pending == i as u32)
        {
            s.fit = fit;
            s.pending = RESOLVED;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(tile: u32) -> Vec<u32> {
        let mut r = vec![0u32; HEADER_WORDS + 2 * LEVEL_WORDS];
        r[1] = 2;
        r[2] = 168;
        r[HEADER_WORDS + 2] = tile;
        r
    }

    #[test]
    fn repeats_are_found_before_and_within_a_round() {
        let mut m = Memo::new(1000);
        let (a, b) = (Memo::keys(&rec(3)), Memo::keys(&rec(4)));
        assert_ne!(a, b);
        // The problem index is no part of the key; the words past the levels in use neither.
        let mut other = rec(3);
        other[0] = 7;
        assert_eq!(Memo::keys(&other), a);
        other[1] = 1;
        assert_ne!(Memo::keys(&other), a, "the level count is part of the key");
        assert_eq!(m.look(a, 0), Seen::New);
        assert_eq!(m.look(a, 1), Seen::SameAs(0));
        assert_eq!(m.look(b, 2), Seen::New);
        let f = Fitness { f1: 10.0, f2: 2.0 };
        m.resolve(a, 0, f);
        // A stale resolve (a record whose slot was not its own) changes nothing.
        m.resolve(b, 5, f);
        assert_eq!(m.look(a, 0), Seen::Before(f));
        assert_eq!(m.look(b, 1), Seen::SameAs(2));
    }

    #[test]
    fn repeats_cost_again_past_the_free_share() {
        let mut m = Memo::new(2);
        let a = Memo::keys(&rec(3));
        assert_eq!(m.look(a, 0), Seen::New);
        m.resolve(a, 0, Fitness { f1: 1.0, f2: 1.0 });
        let mut repeats = 0;
        for i in 0..20 {
            if m.look(a, i) != Seen::New {
                repeats += 1;
            }
        }
        // 4 x budget = 8 proposals are free: the first record and 7 repeats.
        assert_eq!(repeats, 7);
    }
}
