//! An archive of mappings not dominated in (first, second) cost.

use super::engine::Candidate;

pub struct Pareto {
    cap: usize,
    front: Vec<Candidate>,
}

impl Pareto {
    pub fn new(cap: usize) -> Self {
        Pareto { cap: cap.max(2), front: Vec::new() }
    }

    /// Adds `c` unless an archived mapping dominates or equals it; drops what it dominates.
    pub fn insert(&mut self, c: &Candidate) {
        if self.front.iter().any(|o| o.fit.dominates(&c.fit) || o.fit == c.fit) {
            return;
        }
        self.front.retain(|o| !c.fit.dominates(&o.fit));
        self.front.push(c.clone());
        if self.front.len() > self.cap {
            // Thin evenly along the first cost, always keeping both ends.
            self.front.sort_by(|a, b| a.fit.lex_cmp(&b.fit));
            let n = self.front.len();
            let keep: Vec<Candidate> =
                (0..self.cap).map(|i| self.front[i * (n - 1) / (self.cap - 1)].clone()).collect();
            self.front = keep;
        }
    }

    /// Adds a batch: its own non-dominated members are found by one sort and sweep, so only
    /// those few are compared with the archive.
    pub fn insert_batch<'a>(&mut self, batch: impl Iterator<Item = &'a Candidate>) {
        let mut b: Vec<&Candidate> = batch.collect();
        b.sort_by(|x, y| x.fit.lex_cmp(&y.fit));
        let mut best_f2 = f64::INFINITY;
        for c in b {
            if c.fit.f2 < best_f2 {
                best_f2 = c.fit.f2;
                self.insert(c);
            }
        }
    }

    pub fn into_sorted(mut self) -> Vec<Candidate> {
        self.front.sort_by(|a, b| a.fit.lex_cmp(&b.fit));
        self.front
    }
}
