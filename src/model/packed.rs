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
    let invalid = PackedResult { status: STATUS_INVALID, ..PackedResult::default() };
    let Some(&[problem, nl, num_pe, _]) = words.get(..HEADER_WORDS).and_then(|h| <&[u32; 4]>::try_from(h).ok()) else {
        return invalid;
    };
    let nl = nl as usize;
    let Some(p) = problems.get(problem as usize) else { return invalid };
    if !(1..=MAX_LEVELS).contains(&nl) || words.len() < HEADER_WORDS + LEVEL_WORDS * nl {
        return invalid;
    }
    let mut levels = [Level::new(Dim::K, 1, [(Dim::K, 1); 6]); MAX_LEVELS];
    for (l, lv) in levels.iter_mut().enumerate().take(nl) {
        match unpack_level(words, l) {
            Some(x) => *lv = x,
            None => return invalid,
        }
    }
    let (layer, hw) = unpack_problem(p, num_pe as i64);
    to_packed(evaluate_raw_levels(&layer, &levels[..nl], &hw, false).map(|r| r.0))
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
