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
    /// Packs a layer and accelerator. Every value is converted with `TryFrom`: a value that
    /// does not fit the packed field gives the all-zero problem, which the GPU's input check and
    /// [`crate::model::packed::evaluate_packed`] both reject (never a truncated value).
    pub fn new(layer: &Layer, hw: &Hardware) -> Self {
        Self::try_new(layer, hw).unwrap_or_else(|_| PackedProblem::zeroed())
    }

    /// [`PackedProblem::new`], or the name of the first field that does not fit.
    pub fn try_new(layer: &Layer, hw: &Hardware) -> Result<Self, &'static str> {
        let sh = layer.shape();
        let mut dims = [0i32; 6];
        for (i, (d, name)) in sh.dims.iter().zip(["K", "C", "Y", "X", "R", "S"]).enumerate() {
            dims[i] = i32::try_from(*d).map_err(|_| name)?;
        }
        let word = |v: i64, name: &'static str| u32::try_from(v).map_err(|_| name);
        Ok(PackedProblem {
            dims,
            depthwise: u32::from(sh.depthwise),
            noc_bw: word(hw.noc_bw_eff(), "noc_bw")?,
            offchip_bw: word(hw.offchip_bw_eff(), "offchip_bw")?,
            l1_cap: word(hw.l1_cap(), "l1_size")?,
            l2_cap: word(hw.l2_cap(), "l2_size")?,
            _pad: 0,
        })
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

impl PackedResult {
    /// Runtime in cycles (meaningful when [`PackedResult::completed`]).
    pub fn runtime_cycles(&self) -> i64 {
        join64(self.runtime)
    }
    /// MACs the mapping performs (the layer's when the mapping covers it exactly once).
    pub fn num_macs(&self) -> i64 {
        join64(self.macs)
    }
    /// L1 (per PE) and L2 requirements in elements, wrapped to 32 bits as MAESTRO does.
    pub fn l1_size_req(&self) -> i32 {
        self.l1
    }
    pub fn l2_size_req(&self) -> i32 {
        self.l2
    }
    /// Whether MAESTRO would have produced its CSV (no crash, input in range). Validity against
    /// the buffers, PEs and MACs, and energy, area and power, come from [`crate::eval::from_packed`].
    pub fn completed(&self) -> bool {
        self.status == 0
    }
}

/// A population of genomes as packed records of one stride (the GPU buffer layout): built,
/// evaluated, read and reused with no heap allocation per genome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Population {
    stride: usize,
    words: Vec<u32>,
}

impl Population {
    /// An empty population whose records hold up to `max_levels` cluster levels.
    pub fn new(max_levels: usize) -> Population {
        Population { stride: stride_for(max_levels), words: Vec::new() }
    }
    /// As [`Population::new`], with room for `n` genomes.
    pub fn with_capacity(max_levels: usize, n: usize) -> Population {
        let stride = stride_for(max_levels);
        Population { stride, words: Vec::with_capacity(n * stride) }
    }
    /// Words per record.
    pub fn stride(&self) -> usize {
        self.stride
    }
    /// The most cluster levels a record holds.
    pub fn max_levels(&self) -> usize {
        (self.stride - HEADER_WORDS) / LEVEL_WORDS
    }
    pub fn len(&self) -> usize {
        self.words.len() / self.stride
    }
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
    /// Appends `genome`, evaluated against problem `problem` with `num_pe` PEs. A genome with more
    /// levels than the records hold is refused.
    pub fn push(&mut self, genome: &Genome, problem: u32, num_pe: i64) -> Result<(), super::GenomeError> {
        if genome.levels.len() > self.max_levels() {
            return Err(super::GenomeError::TooManyLevels { levels: genome.levels.len(), max: self.max_levels() });
        }
        pack_genome(genome, problem, num_pe, self.stride, &mut self.words);
        Ok(())
    }
    /// Record `i`'s words.
    pub fn record(&self, i: usize) -> &[u32] {
        &self.words[i * self.stride..(i + 1) * self.stride]
    }
    /// Record `i` as (problem, PE count, genome).
    pub fn get(&self, i: usize) -> Option<(u32, i64, Genome)> {
        unpack_genome(self.record(i))
    }
    /// Every record, back to back (what evaluators take).
    pub fn words(&self) -> &[u32] {
        &self.words
    }
    /// Empties the population, keeping its memory for the next batch.
    pub fn clear(&mut self) {
        self.words.clear();
    }
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
    // A value that does not fit a word is packed as 0, which every reader rejects (a genome
    // with more than 4 levels keeps its count and is rejected too), never truncated.
    let word = |v: i64| u32::try_from(v).unwrap_or(0);
    out.fill(0);
    let nl = genome.levels.len();
    out[..HEADER_WORDS].copy_from_slice(&[problem, u32::try_from(nl).unwrap_or(0), word(num_pe), 0]);
    for (l, lv) in genome.levels.iter().take(super::MAX_LEVELS).enumerate() {
        let Some(b) = out.get_mut(HEADER_WORDS + LEVEL_WORDS * l..HEADER_WORDS + LEVEL_WORDS * (l + 1)) else {
            break;
        };
        let mut w = lv.par.index() as u32;
        for (i, (d, _)) in lv.order.iter().enumerate() {
            w |= (d.index() as u32) << (3 + 3 * i);
        }
        if let Some(d2) = lv.sp2 {
            w |= (d2.index() as u32 + 1) << SP2_SHIFT;
        }
        b[0] = w;
        b[1] = word(lv.size);
        for (i, (_, t)) in lv.order.iter().enumerate() {
            b[2 + i] = word(*t);
        }
    }
}

/// Inverse of [`pack_genome`]: (problem index, num_pe, genome); `None` when the words do not
/// decode (short slice, level count outside 1..=4, a dim code above 5).
pub fn unpack_genome(words: &[u32]) -> Option<(u32, i64, Genome)> {
    let mut g = Genome { levels: super::Levels::new() };
    unpack_into(words, &mut g)?;
    Some((words[0], i64::from(words[2]), g))
}

/// [`unpack_genome`] into an existing genome (no copy of the whole value); `None` (with `g`
/// unspecified) when the words do not decode.
pub fn unpack_into(words: &[u32], g: &mut Genome) -> Option<()> {
    let nl = *words.get(1)? as usize;
    if !(1..=super::MAX_LEVELS).contains(&nl) {
        return None;
    }
    let blocks = words.get(HEADER_WORDS..HEADER_WORDS + LEVEL_WORDS * nl)?;
    g.levels.truncate(0);
    for b in blocks.chunks_exact(LEVEL_WORDS) {
        g.levels.push(decode_level(b)?);
    }
    Some(())
}

/// Dims by 3-bit code; codes 6 and 7 name none (rejected before lookup).
const CODE_DIM: [Dim; 8] = [Dim::K, Dim::C, Dim::Y, Dim::X, Dim::R, Dim::S, Dim::K, Dim::K];

/// One level block (its `LEVEL_WORDS` words), or `None` when a dim code is not one of the six.
#[inline]
fn decode_level(b: &[u32]) -> Option<Level> {
    let w = b[0];
    // Seven 3-bit dim codes (parallel, then six loop positions), each at most 5, and the second
    // spatial dim's code at most 6.
    let mut bad = false;
    for i in 0..7 {
        bad |= (w >> (3 * i)) & 7 > 5;
    }
    let c2 = (w >> SP2_SHIFT) & 7;
    if bad || c2 > 6 {
        return None;
    }
    let dim = |shift: u32| CODE_DIM[((w >> shift) & 7) as usize];
    let order = std::array::from_fn(|i| (dim(3 + 3 * i as u32), i64::from(b[2 + i])));
    let sp2 = if c2 == 0 { None } else { Some(CODE_DIM[c2 as usize - 1]) };
    Some(Level { par: dim(0), size: i64::from(b[1]), order, sp2 })
}

/// Cluster level `l` of a packed genome, or `None` when its words are missing or a dim code is
/// not one of the six (codes 6 and 7 fit in 3 bits but name no dim).
pub fn unpack_level(words: &[u32], l: usize) -> Option<Level> {
    decode_level(words.get(HEADER_WORDS + LEVEL_WORDS * l..HEADER_WORDS + LEVEL_WORDS * (l + 1))?)
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
        let (p, pe, back) = unpack_genome(&w).unwrap();
        assert_eq!((p, pe), (7, 1024));
        assert_eq!(back, g);
    }

    #[test]
    fn bad_dim_codes_do_not_decode() {
        let g: Genome =
            serde_json::from_str(r#"[["C",130],["Y",32],["C",16],["R",3],["K",33],["X",49],["S",3]]"#).unwrap();
        let mut w = Vec::new();
        pack_genome(&g, 0, 64, stride_for(1), &mut w);
        for shift in (0..21).step_by(3) {
            for code in [6u32, 7] {
                let mut v = w.clone();
                v[HEADER_WORDS] = (v[HEADER_WORDS] & !(7 << shift)) | code << shift;
                assert!(unpack_genome(&v).is_none());
            }
        }
        let mut v = w.clone();
        v[HEADER_WORDS] |= 7 << SP2_SHIFT;
        assert!(unpack_genome(&v).is_none());
        v[HEADER_WORDS] = w[HEADER_WORDS] | 6 << SP2_SHIFT;
        assert_eq!(unpack_genome(&v).unwrap().2.levels[0].sp2, Some(Dim::S));
        assert!(unpack_genome(&w[..w.len() - 1]).is_none());
    }

    #[test]
    fn i64_words() {
        for v in [0i64, 1, -1, 1 << 40, -(1 << 40) - 3, i64::MAX, i64::MIN] {
            assert_eq!(join64(split64(v)), v);
        }
    }
}
