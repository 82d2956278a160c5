//! The CPU evaluation of packed genomes: the exact twin of the GPU kernel's input and output.

use super::{evaluate_raw_levels, Crash};
use crate::hardware::Hardware;
use crate::mapping::pack::{split64, unpack_level, PackedProblem, PackedResult};
use crate::mapping::{Dim, Level, MAX_LEVELS};
use crate::workload::{Layer, LayerKind};

/// Rebuilds the (already rewritten) layer and hardware of a packed problem.
pub fn unpack_problem(p: &PackedProblem, num_pe: i64) -> (Layer, Hardware) {
    let d = p.dims.map(|v| v as i64);
    let kind = if p.depthwise != 0 { LayerKind::DsConv } else { LayerKind::Conv };
    let layer = Layer::new(d[0], d[1], d[2], d[3], d[4], d[5], kind);
    let hw = Hardware {
        num_pe,
        l1_size: p.l1_cap as i64,
        l2_size: p.l2_cap as i64,
        noc_bw: p.noc_bw as i64,
        offchip_bw: p.offchip_bw as i64,
    };
    (layer, hw)
}

/// Evaluates one packed genome (`words` is its stride-long slice).
pub fn evaluate_packed(problems: &[PackedProblem], words: &[u32]) -> PackedResult {
    let nl = (words[1] as usize).min(MAX_LEVELS);
    let mut levels = [Level::new(Dim::K, 0, [(Dim::K, 0); 6]); MAX_LEVELS];
    for (l, lv) in levels.iter_mut().enumerate().take(nl) {
        *lv = unpack_level(words, l);
    }
    let (layer, hw) = unpack_problem(&problems[words[0] as usize], words[2] as i64);
    to_packed(evaluate_raw_levels(&layer, &levels[..nl], &hw, false).map(|r| r.0))
}

pub fn to_packed(r: Result<super::RawResult, Crash>) -> PackedResult {
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
        Err(c) => PackedResult { status: c.code(), ..PackedResult::default() },
    }
}
