//! Fixed-size, `bytemuck::Pod` forms of problems, genomes and results for GPU buffers.
//!
//! Layout of one packed genome (`u32` words, `stride = 4 + 8·L` for a batch whose longest genome
//! has `L` levels; shorter genomes leave their unused level words zero):
//!
//! | word | content |
//! |---|---|
//! | 0 | problem index (into the [`PackedProblem`] array) |
//! | 1 | number of cluster levels (1-4) |
//! | 2 | PE count (`num_pe`; per genome so that co-exploration can vary it) |
//! | 3 | reserved, 0 |
//! | 4+8l | level `l`: bits 0-2 parallel dim, bits 3+3i..5+3i the dim at loop position i (outer first), bits 21-23 the second spatial dim + 1 (0: none) |
//! | 5+8l | level `l`: gene-0 size (cluster size below the top) |
//! | 6+8l .. 11+8l | level `l`: tile at loop positions 0..5 |
//!
//! Dims are encoded by [`Dim::index`]: K 0, C 1, Y 2, X 3, R 4, S 5.

use super::{Dim, Genome, Level};
use crate::hardware::Hardware;
use crate::workload::Layer;
use bytemuck::{Pod, Zeroable};

/// Words of header before the level blocks.
pub const HEADER_WORDS: usize = 4;
/// Bit position of the second spatial dim (+1; 0 means none) in a level's first word.
pub const SP2_SHIFT: u32 = 21;

/// Whether a packed genome names a second spatial dim at some level (the GPU kernel models one
/// spatial dim per level; such genomes are evaluated on the CPU).
pub fn has_sp2(words: &[u32]) -> bool {
    let nl = (words[1] as usize).min(super::MAX_LEVELS);
    (0..nl).any(|l| (words[HEADER_WORDS + LEVEL_WORDS * l] >> SP2_SHIFT) & 7 != 0)
}

/// Words per level block.
pub const LEVEL_WORDS: usize = 8;

/// Words per genome for a batch whose longest genome has `max_levels` levels.
pub fn stride_for(max_levels: usize) -> usize {
    HEADER_WORDS + LEVEL_WORDS * max_levels
}

/// One (layer, accelerator) pair, shared by every genome that names its index.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct PackedProblem {
    /// K, C, Y, X, R, S after the FC/GEMM rewrite (Y, X input sizes).
    pub dims: [i32; 6],
    /// 1 for DSCONV.
    pub depthwise: u32,
    /// Effective NoC and off-chip bandwidths (unlimited already mapped to 2^30).
    pub noc_bw: u32,
    pub offchip_bw: u32,
    /// Effective L1 / L2 caps.
    pub l1_cap: u32,
    pub l2_cap: u32,
    pub _pad: u32,
}

impl PackedProblem {
    pub fn new(layer: &Layer, hw: &Hardware) -> Self {
        let sh = layer.shape();
        PackedProblem {
            dims: sh.dims.map(|d| d as i32),
            depthwise: sh.depthwise as u32,
            noc_bw: hw.noc_bw_eff() as u32,
            offchip_bw: hw.offchip_bw_eff() as u32,
            l1_cap: hw.l1_cap() as u32,
            l2_cap: hw.l2_cap() as u32,
            _pad: 0,
        }
    }
}

/// Integer results of one evaluation, as the GPU writes them (13 words).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Pod, Zeroable)]
pub struct PackedResult {
    /// i64 values as (low, high) words, two's complement.
    pub runtime: [u32; 2],
    pub macs: [u32; 2],
    pub l2_read_i: [u32; 2],
    pub l2_read_w: [u32; 2],
    pub l2_write_o: [u32; 2],
    /// 32-bit wrapped L1 and L2 requirements.
    pub l1: i32,
    pub l2: i32,
    /// 0 when MAESTRO would have produced a CSV, else a [`crate::model::Crash`] code.
    pub status: u32,
}

pub fn join64(w: [u32; 2]) -> i64 {
    ((w[1] as u64) << 32 | w[0] as u64) as i64
}

pub fn split64(v: i64) -> [u32; 2] {
    [v as u64 as u32, ((v as u64) >> 32) as u32]
}

/// Appends one genome's words to `out` (exactly `stride` words).
pub fn pack_genome(genome: &Genome, problem: u32, num_pe: i64, stride: usize, out: &mut Vec<u32>) {
    let start = out.len();
    out.resize(start + stride, 0);
    pack_into(genome, problem, num_pe, &mut out[start..]);
}

/// Writes one genome's words into `out` (its `stride` words; unused level words zeroed).
pub fn pack_into(genome: &Genome, problem: u32, num_pe: i64, out: &mut [u32]) {
    out.fill(0);
    out[..HEADER_WORDS].copy_from_slice(&[problem, genome.levels.len() as u32, num_pe as u32, 0]);
    for (l, lv) in genome.levels.iter().enumerate() {
        let b = &mut out[HEADER_WORDS + LEVEL_WORDS * l..HEADER_WORDS + LEVEL_WORDS * (l + 1)];
        let mut w = lv.par.index() as u32;
        for (i, (d, _)) in lv.order.iter().enumerate() {
            w |= (d.index() as u32) << (3 + 3 * i);
        }
        if let Some(d2) = lv.sp2 {
            w |= (d2.index() as u32 + 1) << SP2_SHIFT;
        }
        b[0] = w;
        b[1] = lv.size as u32;
        for (i, (_, t)) in lv.order.iter().enumerate() {
            b[2 + i] = *t as u32;
        }
    }
}

/// Inverse of [`pack_genome`]: (problem index, num_pe, genome).
pub fn unpack_genome(words: &[u32]) -> (u32, i64, Genome) {
    let nl = (words[1] as usize).min(super::MAX_LEVELS);
    let levels = super::Levels::from_fn(nl, |l| unpack_level(words, l));
    (words[0], words[2] as i64, Genome { levels })
}

/// [`unpack_genome`] into an existing genome (no copy of the whole value).
pub fn unpack_into(words: &[u32], g: &mut Genome) {
    let nl = (words[1] as usize).min(super::MAX_LEVELS);
    g.levels.truncate(0);
    for l in 0..nl {
        g.levels.push(unpack_level(words, l));
    }
}

/// Cluster level `l` of a packed genome.
pub fn unpack_level(words: &[u32], l: usize) -> Level {
    let b = &words[HEADER_WORDS + LEVEL_WORDS * l..];
    let dim = |shift: u32| Dim::from_index(((b[0] >> shift) & 7) as usize);
    let mut order = [(Dim::K, 0i64); 6];
    for (i, o) in order.iter_mut().enumerate() {
        *o = (dim(3 + 3 * i as u32), b[2 + i] as i64);
    }
    let sp2 = match (b[0] >> SP2_SHIFT) & 7 {
        0 => None,
        i => Some(Dim::from_index(i as usize - 1)),
    };
    Level { par: dim(0), size: b[1] as i64, order, sp2 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genome_round_trip() {
        let g: Genome = serde_json::from_str(
            r#"[["C",130],["Y",32],["C",16],["R",3],["K",33],["X",49],["S",3],["X",14],["R",3],["Y",1],["K",1],["S",3],["X",1],["C",1]]"#,
        )
        .unwrap();
        let mut w = Vec::new();
        pack_genome(&g, 7, 1024, stride_for(3), &mut w);
        assert_eq!(w.len(), stride_for(3));
        let (p, pe, back) = unpack_genome(&w);
        assert_eq!((p, pe), (7, 1024));
        assert_eq!(back, g);
    }

    #[test]
    fn i64_words() {
        for v in [0i64, 1, -1, 1 << 40, -(1 << 40) - 3, i64::MAX, i64::MIN] {
            assert_eq!(join64(split64(v)), v);
        }
    }
}
