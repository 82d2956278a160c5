//! Mapping-dependent, case-independent tables (spec §2.1-2.2): converted directives, static dims,
//! per-level `mp/un/mpe/une`, NE and coupling masks. Shared by the CPU model and the GPU packer.

// Index loops over directives mirror the spec's notation (j indexes parallel tables).
#![allow(clippy::needless_range_loop)]
use crate::mapping::{Dim, Genome, Level};
use crate::workload::ModelShape;

/// Variable slots: the six loop dims, then the output-space `Y'` and `X'`.
pub const V_K: usize = 0;
pub const V_C: usize = 1;
pub const V_Y: usize = 2;
pub const V_X: usize = 3;
pub const V_R: usize = 4;
pub const V_S: usize = 5;
// MAESTRO scans each tensor's variables as K, C, Y, X, R, S; the engine relies on `V_*` following
// that order (see `Case::fold`).
const _: () = assert!(V_K < V_C && V_C < V_Y && V_Y < V_X && V_X < V_R && V_R < V_S);
pub const V_YP: usize = 6;
pub const V_XP: usize = 7;

/// Tensor indices.
pub const T_I: usize = 0;
pub const T_W: usize = 1;
pub const T_O: usize = 2;

/// Which variables each tensor is coupled to, as a bitmask over `V_*` (spec §1.1).
pub fn tensor_vars(depthwise: bool) -> [u8; 3] {
    let b = |v: usize| 1u8 << v;
    if depthwise {
        [b(V_C) | b(V_Y) | b(V_X), b(V_C) | b(V_R) | b(V_S), b(V_C) | b(V_Y) | b(V_X)]
    } else {
        [b(V_C) | b(V_Y) | b(V_X), b(V_K) | b(V_C) | b(V_R) | b(V_S), b(V_K) | b(V_Y) | b(V_X)]
    }
}

/// One cluster level after input-centric conversion, with its static tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct LevelTables {
    /// Number of directives (6, or 5 for DSCONV, which has no K loop).
    pub nd: usize,
    /// Variable of each directive, in loop order (outer first).
    pub var: [usize; 6],
    /// Directive size `M` and offset `O` (converted: `Y` has size `t_Y' + t_R - 1`).
    pub size: [i64; 6],
    pub ofs: [i64; 6],
    /// Index of the spatial directive: the first `SpatialMap` in directive order (spec §2.1).
    pub sp: usize,
    /// Index of a second `SpatialMap` in the level, or [`NO_SQ`]. MAESTRO spreads it over the
    /// same sub-clusters in lockstep with the first; NE stays the first one's.
    pub sq: usize,
    /// The SpatialMaps as a bit set over directive indices.
    pub spatial: u8,
    /// Sub-clusters driven by this level (`N`).
    pub n_sub: i64,
    /// Sub-clusters of an edge fold (`NE`).
    pub ne: i64,
    /// Static dims of this level, by variable (K..S).
    pub ds: [i64; 6],
    /// `mp/un/mpe/une` by variable slot (including `Y'`, `X'`).
    pub mp: [i64; 8],
    pub un: [i64; 8],
    pub mpe: [i64; 8],
    pub une: [i64; 8],
    /// Coupling of each directive to I, W, O: bitmask over directive indices.
    pub coupled: [u8; 3],
    /// Upper bounds of any case's NoC traffic (ingress I+W, and egress), rounded up. A level
    /// whose bounds fit in one bandwidth unit has every NoC delay at most 1.
    pub traffic_in: f64,
    pub traffic_out: f64,
}

/// [`LevelTables::sq`] of a level with one spatial directive.
pub const NO_SQ: usize = 8;

/// The output-space slot of each loop variable (`Y'` for Y, `X'` for X; others unchanged).
const PRIMED: [usize; 8] = [V_K, V_C, V_YP, V_XP, V_R, V_S, V_YP, V_XP];

/// The output-space slot of a variable (`Y'` for Y, `X'` for X; others unchanged).
#[inline]
pub fn primed(v: usize) -> usize {
    PRIMED[v]
}

impl LevelTables {
    /// Whether directive `j` is a `SpatialMap` (the first or the second).
    #[inline]
    pub fn is_sp(&self, j: usize) -> bool {
        (self.spatial >> j) & 1 != 0
    }

    /// The largest traffic any case can move: every factor at its largest magnitude (`mag`, per
    /// directive), every PE group counted.
    fn traffic_bounds(&mut self, mag: &[u64; 6]) {
        // Products in f64 (no saturation checks on the chain), rounded up by far more than
        // their relative error (7 roundings of 2^-53), so the bound stays an upper bound: the
        // check it feeds may only ever be conservative.
        let groups = (self.n_sub as f64) + (self.ne as f64) + 2.0;
        let mut p = [groups; 3];
        for (j, &m) in mag.iter().enumerate().take(self.nd) {
            let x = m as f64;
            for (t, pt) in p.iter_mut().enumerate() {
                if (self.coupled[t] >> j) & 1 != 0 {
                    *pt *= x;
                }
            }
        }
        const UP: f64 = 1.0 + 1.0 / (1u64 << 40) as f64;
        self.traffic_in = (p[T_I] + p[T_W]) * UP;
        self.traffic_out = p[T_O] * UP;
    }
}

/// Why the mapping cannot even be set up (MAESTRO dies before any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupError {
    /// Π cluster sizes > PEs: `⌊P/U⌋ = 0`, MAESTRO divides by zero (SIGFPE).
    ClusterProductExceedsPes,
}

/// All levels of a mapping, outermost first.
#[derive(Debug, Clone)]
pub struct MappingTables {
    pub levels: [LevelTables; 4],
    pub num_levels: usize,
    pub depthwise: bool,
    /// Full layer dims K..S (input Y/X).
    pub dims: [i64; 6],
}

impl MappingTables {
    pub fn build(shape: &ModelShape, genome: &Genome, num_pe: i64) -> Result<MappingTables, SetupError> {
        let mut out = MappingTables::empty(shape);
        out.fill(shape, &genome.levels, num_pe)?;
        Ok(out)
    }

    /// Tables with no level yet, to be filled by [`MappingTables::fill`].
    pub fn empty(shape: &ModelShape) -> MappingTables {
        MappingTables {
            levels: [LevelTables::default(); 4],
            num_levels: 0,
            depthwise: shape.depthwise,
            dims: shape.dims,
        }
    }

    /// Builds the tables of `levels` in place (the hot path fills a value on its own stack, with
    /// no allocation per genome and no copy of the tables on return).
    pub fn fill(&mut self, shape: &ModelShape, levels: &[Level], num_pe: i64) -> Result<(), SetupError> {
        let out = self;
        out.depthwise = shape.depthwise;
        out.dims = shape.dims;
        let nl = levels.len();
        // Checked: a product past 64 bits exceeds any PE count (unchecked, it could wrap to a
        // small number, or to 0 and divide by zero).
        let u = levels.iter().skip(1).try_fold(1i64, |p, l| p.checked_mul(l.size));
        let n0 = match u {
            Some(u) if u >= 1 && u <= num_pe => num_pe / u,
            _ => return Err(SetupError::ClusterProductExceedsPes),
        };
        let tv = tensor_vars(shape.depthwise);
        out.num_levels = nl;
        let mut ds = shape.dims;
        for (li, lv) in levels.iter().enumerate() {
            let t = &mut out.levels[li];
            t.ds = ds;
            t.n_sub = if li == 0 { n0 } else { lv.size };
            let par = if shape.depthwise && lv.par == Dim::K { Dim::C } else { lv.par };
            // A second spatial dim: K has no directive in DSCONV, and one on the parallel dim
            // itself is the same SpatialMap.
            let sp2 = lv.sp2.filter(|&d| d != par && !(shape.depthwise && d == Dim::K));
            // Tiles by dim (the first directive of each, as `Level::tile` finds them), and the
            // input-centric extension of Y and X by R-1 and S-1. Random loop orders make
            // per-dim branches unpredictable, so the loop below indexes instead of matching.
            let mut tiles = [0i64; 6];
            for &(d, tile) in lv.order.iter().rev() {
                tiles[d.index()] = tile;
            }
            let ext = [0, 0, tiles[V_R] - 1, tiles[V_S] - 1, 0, 0];
            // Directive index of each dim's first directive (Y's and X's offsets give `un[Y']`,
            // `un[X']`), and the SpatialMaps as a bit set over directive indices.
            let mut first = [usize::MAX; 6];
            let mut spatial = 0u8;
            let mut nd = 0;
            for (d, tile) in lv.order {
                if shape.depthwise && d == Dim::K {
                    continue;
                }
                let v = d.index();
                t.var[nd] = v;
                t.ofs[nd] = tile;
                t.size[nd] = tile + ext[v];
                first[v] = first[v].min(nd);
                spatial |= (((d == par) | (Some(d) == sp2)) as u8) << nd;
                nd += 1;
            }
            // The first SpatialMap in loop order is "the" spatial directive; a second one is `sq`.
            t.sp = if spatial == 0 { 0 } else { spatial.trailing_zeros() as usize };
            let rest = spatial & spatial.wrapping_sub(1);
            t.sq = if rest == 0 { NO_SQ } else { rest.trailing_zeros() as usize };
            // Only the first two count (a valid genome names each dim once).
            t.spatial = (1 << t.sp) | if rest == 0 { 0 } else { 1 << t.sq };
            let (jy, jx) = (first[V_Y], first[V_X]);
            t.nd = nd;
            // Variables without a directive (K in DSCONV) keep their full extent.
            t.mp[..6].copy_from_slice(&ds);
            t.un[..6].copy_from_slice(&ds);
            t.mpe[..6].copy_from_slice(&ds);
            t.une[..6].copy_from_slice(&ds);
            let mut coupled = [0u8; 3];
            let mut mag = [1u64; 6];
            for j in 0..nd {
                let (v, m, o) = (t.var[j], t.size[j], t.ofs[j]);
                let d = ds[v];
                let spatial = t.is_sp(j);
                let n = ((d - m) / o).max(0);
                let edge = n * o + m < d || m > d;
                t.mp[v] = m;
                t.un[v] = if !spatial && d <= m { 0 } else { m.min(o) };
                let mut em = d - (n + 1) * o;
                if em < 0 {
                    em = d;
                }
                t.mpe[v] = if edge { em } else { m };
                t.une[v] = (o - (m - em)).max(0);
                // Largest factor this directive can give (mp, un ≤ mp, mpe, une are all ≥ 0 here).
                mag[j] = m.max(t.mpe[v]).max(t.une[v]).max(1) as u64;
                for (c, &mask) in coupled.iter_mut().zip(&tv) {
                    *c |= ((mask >> v) & 1) << j;
                }
            }
            t.coupled = coupled;
            for (p, r, rv, jr) in [(V_YP, V_Y, V_R, jy), (V_XP, V_X, V_S, jx)] {
                let o_ref = t.ofs[if jr == usize::MAX { 0 } else { jr }];
                t.mp[p] = t.mp[r] - t.mp[rv] + 1;
                t.un[p] = o_ref.min(t.mp[r]);
                t.mpe[p] = t.mpe[r] - t.mpe[rv] + 1;
                t.une[p] = o_ref.min(t.mpe[p]);
                // Y and X directives also give their output-space factors (which may be ≤ 0).
                if jr != usize::MAX {
                    let pm = [t.mp[p], t.mpe[p], t.un[p], t.une[p]].map(i64::unsigned_abs);
                    mag[jr] = mag[jr].max(pm[0]).max(pm[1]).max(pm[2]).max(pm[3]);
                }
            }
            // NE from the spatial directive over static dims (spec §2.2, quirk Q3).
            let (v, m, o) = (t.var[t.sp], t.size[t.sp], t.ofs[t.sp]);
            let d = ds[v];
            let nsub = t.n_sub;
            let full = o * (nsub - 1) + m;
            t.ne = if d > full {
                let n = ((d - m) / o + 1) / nsub - 1;
                let rem = d - (n + 1) * o * nsub;
                if rem < m {
                    1
                } else {
                    (rem - m) / o + 1
                }
            } else if d > m {
                let mut ne = (d - m) / o + 1;
                if o * (ne - 1) + m < d {
                    ne += 1;
                }
                ne
            } else {
                1
            };
            t.traffic_bounds(&mag);
            // Static dims of the next level: min(converted size, this level's static dim).
            let mut next = ds;
            for j in 0..nd {
                let v = t.var[j];
                next[v] = t.size[j].min(ds[v]);
            }
            ds = next;
        }
        Ok(())
    }

    pub fn top(&self) -> &LevelTables {
        &self.levels[0]
    }
    pub fn innermost(&self) -> &LevelTables {
        &self.levels[self.num_levels - 1]
    }
}
