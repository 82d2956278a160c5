//! An archive of mappings not dominated in (first, second) cost, kept sorted by the first cost
//! (so the second decreases along it): whether a new point is dominated is one binary search.

use super::engine::Candidate;
use super::objective::Fitness;

pub struct Pareto {
    cap: usize,
    /// Relative band above the best first cost that thinning never touches (see [`Pareto::pick`]).
    band: f64,
    front: Vec<Candidate>,
}

impl Pareto {
    pub fn new(cap: usize, band: f64) -> Self {
        Pareto { cap: cap.max(2), band: band.max(0.0), front: Vec::new() }
    }

    /// The largest first cost within `band` of the best one.
    fn band_limit(&self, band: f64) -> Option<f64> {
        self.front.first().map(|b| b.fit.f1 + band.max(0.0) * b.fit.f1.abs())
    }

    /// The mapping with the lowest second cost among those whose first cost is within the band
    /// (`best + band × |best|`): along the front the second cost falls as the first rises, so it
    /// is the last member inside the band. With band 0 it is the lexicographic best.
    pub fn pick(&self, band: f64) -> Option<&Candidate> {
        let limit = self.band_limit(band)?;
        let n = self.front.partition_point(|o| o.fit.f1 <= limit);
        self.front.get(n.max(1) - 1)
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
            // Keep every member in the band (the reported pick comes from there), then thin the
            // rest evenly along the first cost, always keeping the last.
            // A band fuller than the archive is itself thinned, keeping its ends (the best and
            // the pick).
            let limit = self.band_limit(self.band).unwrap_or(f64::NEG_INFINITY);
            let inside = self.front.partition_point(|o| o.fit.f1 <= limit).max(1);
            let (band, rest) = self.front.split_at(inside);
            let mut keep = thin(band, self.cap.saturating_sub(2).max(2));
            keep.extend(thin(rest, self.cap.saturating_sub(keep.len()).max(2)));
            self.front = keep;
        }
    }

    pub fn into_sorted(self) -> Vec<Candidate> {
        self.front
    }
}

/// At most `k` (≥ 2) members of `v`, evenly spaced, both ends kept.
fn thin(v: &[Candidate], k: usize) -> Vec<Candidate> {
    let n = v.len();
    if n <= k {
        return v.to_vec();
    }
    (0..k).map(|i| v[i * (n - 1) / (k - 1)].clone()).collect()
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
        let mut p = Pareto::new(16, 0.0);
        for (a, b) in [(5.0, 5.0), (4.0, 6.0), (6.0, 4.0), (5.0, 6.0), (3.0, 9.0), (4.0, 4.0), (4.0, 4.0)] {
            p.insert(&cand(a, b));
        }
        let f: Vec<(f64, f64)> = p.front().iter().map(|c| (c.fit.f1, c.fit.f2)).collect();
        assert_eq!(f, vec![(3.0, 9.0), (4.0, 4.0)]);
        assert!(p.is_dominated(&Fitness { f1: 4.5, f2: 4.0 }));
        assert!(!p.is_dominated(&Fitness { f1: 3.5, f2: 5.0 }));
        assert!(!p.is_dominated(&Fitness { f1: 2.0, f2: 100.0 }));
    }

    /// The pick is the lowest second cost within the band; thinning never drops it or the best.
    #[test]
    fn picks_within_the_band_and_keeps_it_when_thinning() {
        let mut p = Pareto::new(8, 1e-3);
        // A front: f1 rises from 1000 by 0.25 per step, f2 falls.
        for i in 0..200 {
            p.insert(&cand(1000.0 + 0.25 * i as f64, 1000.0 - i as f64));
        }
        assert!(p.front().len() <= 8, "{}", p.front().len());
        let f = |c: Option<&Candidate>| c.map(|c| (c.fit.f1, c.fit.f2));
        // Band 1e-3 of 1000 = 1.0: f1 up to 1001.0 (i = 4).
        assert_eq!(f(p.pick(1e-3)), Some((1001.0, 996.0)));
        assert_eq!(f(p.pick(0.0)), Some((1000.0, 1000.0)));
        assert_eq!(f(p.front().first()), Some((1000.0, 1000.0)));
        assert_eq!(f(p.front().last()), Some((1049.75, 801.0)));
        // A band wider than the archive is thinned but keeps the best and the pick.
        let mut q = Pareto::new(8, 1.0);
        for i in 0..200 {
            q.insert(&cand(1000.0 + 0.25 * i as f64, 1000.0 - i as f64));
        }
        assert!(q.front().len() <= 8);
        assert_eq!(f(q.pick(1.0)), Some((1049.75, 801.0)));
        assert_eq!(f(q.front().first()), Some((1000.0, 1000.0)));
        assert!(Pareto::new(4, 0.0).pick(0.0).is_none());
    }
}
