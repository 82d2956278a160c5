//! An archive of mappings not dominated in (first, second) cost, kept sorted by the first cost
//! (so the second decreases along it): whether a new point is dominated is one binary search.

use super::engine::Candidate;
use super::objective::Fitness;

pub struct Pareto {
    cap: usize,
    front: Vec<Candidate>,
}

impl Pareto {
    pub fn new(cap: usize) -> Self {
        Pareto { cap: cap.max(2), front: Vec::new() }
    }

    /// The archive, by increasing first cost.
    pub fn front(&self) -> &[Candidate] {
        &self.front
    }

    /// Whether an archived mapping dominates or equals `f`.
    pub fn is_dominated(&self, f: &Fitness) -> bool {
        // The member with the largest first cost ≤ f.f1 has the smallest second cost among those.
        let n = self.front.partition_point(|o| o.fit.f1 <= f.f1);
        n > 0 && self.front[n - 1].fit.f2 <= f.f2
    }

    /// Adds `c` unless an archived mapping dominates or equals it; drops what it dominates.
    pub fn insert(&mut self, c: &Candidate) {
        if self.is_dominated(&c.fit) {
            return;
        }
        self.front.retain(|o| !c.fit.dominates(&o.fit));
        let at = self.front.partition_point(|o| o.fit.lex_cmp(&c.fit).is_lt());
        self.front.insert(at, c.clone());
        if self.front.len() > self.cap {
            // Thin evenly along the first cost, always keeping both ends.
            let n = self.front.len();
            let keep: Vec<Candidate> =
                (0..self.cap).map(|i| self.front[i * (n - 1) / (self.cap - 1)].clone()).collect();
            self.front = keep;
        }
    }

    pub fn into_sorted(self) -> Vec<Candidate> {
        self.front
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Crash, Evaluation};

    fn cand(f1: f64, f2: f64) -> Candidate {
        let genome = serde_json::from_str(r#"[["K",1],["K",1],["C",1],["Y",1],["X",1],["R",1],["S",1]]"#).unwrap();
        Candidate { genome, eval: Evaluation::crashed(Crash::ClusterProduct, 1), fit: Fitness { f1, f2 } }
    }

    #[test]
    fn keeps_the_front() {
        let mut p = Pareto::new(16);
        for (a, b) in [(5.0, 5.0), (4.0, 6.0), (6.0, 4.0), (5.0, 6.0), (3.0, 9.0), (4.0, 4.0), (4.0, 4.0)] {
            p.insert(&cand(a, b));
        }
        let f: Vec<(f64, f64)> = p.front().iter().map(|c| (c.fit.f1, c.fit.f2)).collect();
        assert_eq!(f, vec![(3.0, 9.0), (4.0, 4.0)]);
        assert!(p.is_dominated(&Fitness { f1: 4.5, f2: 4.0 }));
        assert!(!p.is_dominated(&Fitness { f1: 3.5, f2: 5.0 }));
        assert!(!p.is_dominated(&Fitness { f1: 2.0, f2: 100.0 }));
    }
}
