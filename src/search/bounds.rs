//! Lower bounds on a layer's runtime that a search's result is measured against.
//!
//! - [`crate::search::compute_bound`]: ceil(MACs / PEs), for any mapping whose throughput stays
//!   within the PEs.
//! - [`parallel_bound`]: what the layer's own parallelism allows with a number of cluster levels.
//!   Each level spreads one dim over its sub-clusters, so dim `d` is split `D_d` ways (the product
//!   of the cluster counts of the levels that spread it), and more ways than the dim's extent
//!   `E_d` leave PEs without work. At most `U = max prod_d D_d` PEs hold work, over splits with
//!   `D_d <= E_d`, at most `levels` dims spread and `prod_d D_d <= PEs`; the bound is
//!   ceil(MACs / U). It equals the compute bound when the layer's dims can fill the PEs, and is
//!   above it when they cannot (a small layer, too few levels, a co-exploration limit beyond the
//!   layer's parallelism). It does not assume the busiest PE's share of work (MAESTRO's runtime
//!   can be below it at uneven edges), only that no PE without work speeds the layer up.

use crate::mapping::Dim;
use crate::workload::Layer;

/// The parallelism bound (see the module docs) for `layer` on `num_pe` PEs with `levels` cluster
/// levels, when the levels may spread the dims in `par_dims`. Falls back to the compute bound for
/// depthwise layers (MAESTRO spreads their channels through K and C together).
pub fn parallel_bound(layer: &Layer, num_pe: i64, levels: usize, par_dims: &[Dim]) -> i64 {
    let pe = usable_pes(layer, num_pe, levels, par_dims);
    crate::search::compute_bound(layer, pe)
}

/// `U` of the module docs: the most PEs that can hold work.
pub fn usable_pes(layer: &Layer, num_pe: i64, levels: usize, par_dims: &[Dim]) -> i64 {
    let pe = num_pe.max(1);
    let sh = layer.shape();
    if sh.depthwise {
        return pe;
    }
    let [k, c, _, _, r, s] = sh.dims;
    let e = [k, c, sh.y_out(), sh.x_out(), r, s];
    let mut ext: Vec<i64> = Dim::ALL
        .iter()
        .filter(|d| par_dims.contains(d))
        .map(|d| e[d.index()].clamp(1, pe))
        .filter(|&x| x > 1)
        .collect();
    // Largest extents first: the greedy first descent is then usually optimal already.
    ext.sort_unstable_by(|a, b| b.cmp(a));
    let mut best = 1;
    most(&ext, levels.max(1), pe, 1, &mut best);
    best
}

/// Depth-first over the dims (sorted by extent, largest first): `left` dims may still be spread,
/// `room` PEs remain, `used` PEs hold work so far. Ways are tried from the most down; a branch is
/// cut when even its largest completion (the `left` largest extents, within the room) cannot
/// beat the best.
fn most(ext: &[i64], left: usize, room: i64, used: i64, best: &mut i64) {
    *best = (*best).max(used);
    if ext.is_empty() || left == 0 || room <= 1 {
        return;
    }
    let cap = ext.iter().take(left).try_fold(1i64, |p, &x| p.checked_mul(x)).unwrap_or(i64::MAX).min(room);
    if used.saturating_mul(cap) <= *best {
        return;
    }
    for w in (1..=ext[0].min(room)).rev() {
        most(&ext[1..], if w > 1 { left - 1 } else { left }, room / w, used * w, best);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::compute_bound;

    #[test]
    fn hand_computed_bounds() {
        // K = 64, C = 3, 7 x 7 outputs, 1 x 1 filter: 9408 MACs.
        let l = Layer::conv(64, 3, 7, 7, 1, 1);
        let all = &Dim::ALL[..4];
        // K alone fills 16 PEs: the compute bound.
        assert_eq!(parallel_bound(&l, 16, 1, all), 588);
        assert_eq!(compute_bound(&l, 16), 588);
        // Only Y may be spread: 7 of the 16 PEs hold work.
        assert_eq!(usable_pes(&l, 16, 2, &[Dim::Y]), 7);
        assert_eq!(parallel_bound(&l, 16, 2, &[Dim::Y]), 1344);
        // Y and X over 2 levels: 4 x 4 = 16 (uneven parts, but every PE holds work).
        assert_eq!(usable_pes(&l, 16, 2, &[Dim::Y, Dim::X]), 16);
        // One level spreading Y or X: 7.
        assert_eq!(usable_pes(&l, 16, 1, &[Dim::Y, Dim::X]), 7);
        // 1000 PEs, 2 levels: at most K x Y = 64 x 7 = 448; 3 levels: 40 x 5 x 5 = 1000.
        assert_eq!(usable_pes(&l, 1000, 2, all), 448);
        assert_eq!(parallel_bound(&l, 1000, 2, all), 21);
        assert_eq!(usable_pes(&l, 1000, 3, all), 1000);
        // 4096 PEs, 4 levels: 4096 = 2^12 does not split within 64, 3, 7, 7, but 39 x 3 x 5 x 7 = 4095.
        assert_eq!(usable_pes(&l, 4096, 4, all), 4095);
        assert_eq!(usable_pes(&l, 20_000, 4, all), 9408);
        // Depthwise layers keep the compute bound.
        let mut dw = Layer::conv(32, 32, 10, 10, 3, 3);
        dw.kind = crate::workload::LayerKind::DsConv;
        assert_eq!(parallel_bound(&dw, 64, 2, all), compute_bound(&dw, 64));
    }

    /// Against brute force over every split of small layers.
    #[test]
    fn usable_pes_equals_brute_force() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..300 {
            let e: [i64; 4] = std::array::from_fn(|_| rng.random_range(1..12));
            let l = Layer::conv(e[0], e[1], e[2], e[3], 1, 1);
            let pe = rng.random_range(1..400);
            let levels = rng.random_range(1..4);
            let mut brute = 1;
            for a in 1..=e[0] {
                for b in 1..=e[1] {
                    for c in 1..=e[2] {
                        for d in 1..=e[3] {
                            let spread = [a, b, c, d].iter().filter(|&&w| w > 1).count();
                            if a * b * c * d <= pe && spread <= levels {
                                brute = brute.max(a * b * c * d);
                            }
                        }
                    }
                }
            }
            assert_eq!(usable_pes(&l, pe, levels, &Dim::ALL[..4]), brute, "{e:?} on {pe} PEs, {levels} levels");
        }
    }
}
