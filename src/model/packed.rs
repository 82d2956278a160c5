//! The CPU evaluation of packed genomes: the exact twin of the GPU kernel's input and output.

use super::{evaluate_raw_levels, Failure};
use crate::hardware::Hardware;
use crate::mapping::pack::{split64, unpack_level, PackedProblem, PackedResult, HEADER_WORDS, LEVEL_WORDS};
use crate::mapping::{Dim, Level, MAX_LEVELS};
use crate::workload::{Layer, LayerKind};

/// Rebuilds the (already rewritten) layer and hardware of a packed problem.
pub fn unpack_problem(p: &PackedProblem, num_pe: i64) -> (Layer, Hardware) {
    let d = p.dims.map(i64::from);
    let kind = if p.depthwise != 0 { LayerKind::DsConv } else { LayerKind::Conv };
    let layer = Layer::new(d[0], d[1], d[2], d[3], d[4], d[5], kind);
    let hw = Hardware {
        num_pe,
        l1_size: i64::from(p.l1_cap),
        l2_size: i64::from(p.l2_cap),
        noc_bw: i64::from(p.noc_bw),
        offchip_bw: i64::from(p.offchip_bw),
    };
    (layer, hw)
}

/// Status of a packed result whose genome or problem is malformed or out of MAESTRO's range.
pub const STATUS_INVALID: u32 = 5;

/// Evaluates one packed genome (`words` is its stride-long slice). Any word content is
/// answered: a malformed genome (level count, dim codes, problem index, short slice) gets
/// [`STATUS_INVALID`], never a panic.
pub fn evaluate_packed(problems: &[PackedProblem], words: &[u32]) -> PackedResult {
    let Some((levels, nl, layer, hw)) = unpack_record(problems, words) else {
        return PackedResult { status: STATUS_INVALID, ..PackedResult::default() };
    };
    to_packed(evaluate_raw_levels(&layer, &levels[..nl], &hw, false).map(|r| r.0))
}

/// A packed genome's levels, level count, layer and accelerator; None when malformed.
fn unpack_record(problems: &[PackedProblem], words: &[u32]) -> Option<([Level; MAX_LEVELS], usize, Layer, Hardware)> {
    let &[problem, nl, num_pe, _] = <&[u32; 4]>::try_from(words.get(..HEADER_WORDS)?).ok()?;
    let nl = nl as usize;
    let p = problems.get(problem as usize)?;
    if !(1..=MAX_LEVELS).contains(&nl) || words.len() < HEADER_WORDS + LEVEL_WORDS * nl {
        return None;
    }
    let mut levels = [Level::new(Dim::K, 1, [(Dim::K, 1); 6]); MAX_LEVELS];
    for (l, lv) in levels.iter_mut().enumerate().take(nl) {
        *lv = unpack_level(words, l)?;
    }
    let (layer, hw) = unpack_problem(p, num_pe as i64);
    Some((levels, nl, layer, hw))
}

/// Whether a packed genome's L1 or L2 requirement is over its accelerator's cap, found without
/// evaluating it: L1 from the innermost tiles, L2 from the top level's first case
/// ([`super::l2_requirement_levels`]). `true` only where [`evaluate_packed`] would report exactly
/// that requirement (so the mapping is not valid) or fail; `false` where it cannot tell.
pub fn over_buffer_caps(problems: &[PackedProblem], words: &[u32]) -> bool {
    let Some((levels, nl, layer, hw)) = unpack_record(problems, words) else { return false };
    let levels = &levels[..nl];
    if super::validate_input(&layer, levels, &hw).is_err() {
        return false;
    }
    super::l1_requirement_levels(&layer, levels) > hw.l1_cap()
        || super::l2_requirement_levels(&layer, levels, hw.num_pe).is_some_and(|l2| l2 > hw.l2_cap())
}

pub fn to_packed(r: Result<super::RawResult, Failure>) -> PackedResult {
    match r {
        Ok(raw) => PackedResult {
            runtime: split64(raw.top.runtime),
            macs: split64(raw.top.macs),
            l2_read_i: split64(raw.top.l2_read_i),
            l2_read_w: split64(raw.top.l2_read_w),
            l2_write_o: split64(raw.top.l2_write_o),
            l1: raw.l1 as i32,
            l2: raw.l2 as i32,
            status: 0,
        },
        Err(Failure::Crash(c)) => PackedResult { status: c.code(), ..PackedResult::default() },
        Err(Failure::Invalid(_)) => PackedResult { status: STATUS_INVALID, ..PackedResult::default() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::pack::{pack_genome, stride_for};
    use crate::search::{Space, SpaceOptions};
    use rand::{Rng, SeedableRng};

    /// On random genomes (one to three levels, partial tiles, tight and loose buffers), the check
    /// made without evaluating says "over a cap" exactly when the evaluation completes with a
    /// requirement over its cap, and never for a mapping the evaluation finds valid.
    #[test]
    fn buffer_check_agrees_with_the_evaluation() {
        let layers = [
            Layer::conv(64, 64, 56, 56, 3, 3),
            Layer::conv(512, 256, 14, 14, 3, 3),
            Layer::new(1, 96, 114, 114, 3, 3, LayerKind::DsConv),
            Layer::conv(1000, 2048, 1, 1, 1, 1),
            Layer::conv(24, 144, 30, 30, 5, 5),
        ];
        let hws = [(168, 512, 108000), (256, 64, 8192), (1024, 16, 1000), (64, -1, 2048), (32, 100, -1)];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (mut over, mut fits, mut n) = (0, 0, 0);
        for (li, layer) in layers.iter().enumerate() {
            for &(pe, l1, l2) in &hws {
                let hw = Hardware { num_pe: pe, l1_size: l1, l2_size: l2, noc_bw: 81920000, offchip_bw: -1 };
                let problems = [PackedProblem::new(layer, &hw)];
                for levels in 1..=3 {
                    let opts = SpaceOptions {
                        slevel_min: levels,
                        slevel_max: levels,
                        rs_full: li % 2 == 1,
                        par_rs: li == 2,
                        ..Default::default()
                    };
                    let space = Space::new(layer, pe, opts);
                    let stride = stride_for(levels);
                    for _ in 0..400 {
                        let mut g = space.random_genome(&mut rng);
                        if rng.random_bool(0.3) {
                            // Unrepaired tiles too: any tile up to the layer's extent.
                            let lv = rng.random_range(0..g.levels.len());
                            let d = crate::mapping::Dim::ALL[rng.random_range(0..6)];
                            g.levels[lv].set_tile(d, rng.random_range(1..=layer.shape().dims[d.index()].max(1)));
                        }
                        let mut rec = Vec::new();
                        pack_genome(&g, 0, pe, stride, &mut rec);
                        let r = evaluate_packed(&problems, &rec);
                        let said = over_buffer_caps(&problems, &rec);
                        n += 1;
                        if r.status == 0 {
                            let is_over = r.l1 as i64 > hw.l1_cap() || r.l2 as i64 > hw.l2_cap();
                            assert_eq!(said, is_over, "{layer:?} {hw:?} {g:?}: l1 {} l2 {}", r.l1, r.l2);
                            over += is_over as usize;
                            fits += !is_over as usize;
                        }
                    }
                }
            }
        }
        // Both answers must really occur for the check to mean anything.
        assert!(over > n / 10 && fits > n / 10, "over {over}, fits {fits} of {n}");
    }
}
