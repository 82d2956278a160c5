//! Case enumeration and accumulation (spec §2.3-2.7), evaluated bottom-up through a per-level memo
//! of sub-cluster runtimes keyed by the parent's edge mask (spec §2.6, §4.3), so no recursion
//! depth beyond the level count and every sub-level table is evaluated at most once per mask.

// Index loops over directives mirror the spec's notation (j, c, p index parallel tables).
#![allow(clippy::needless_range_loop)]

use super::tables::*;

/// Why MAESTRO would have died on this mapping (it writes no CSV; GAMMA marks it invalid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    /// Π cluster sizes > PEs (SIGFPE).
    ClusterProduct,
    /// A case's occurrence product wrapped to ≤ 0 in 32 bits (failed assert, SIGABRT).
    OccurrenceWrap,
    /// Top-level `comp == 0` in some case (SIGFPE in the off-chip bandwidth requirement).
    ZeroCompute,
    /// A changing temporal directive with no unique part (`exit(-1)`).
    ZeroUnique,
}

impl Crash {
    pub fn reason(self) -> &'static str {
        match self {
            Crash::ClusterProduct => "MAESTRO crash (SIGFPE): product of cluster sizes exceeds the PE count",
            Crash::OccurrenceWrap => "MAESTRO crash (SIGABRT): a case occurrence count wraps to <= 0 in 32 bits",
            Crash::ZeroCompute => "MAESTRO crash (SIGFPE): a top-level case has zero compute delay",
            Crash::ZeroUnique => "MAESTRO crash (exit -1): changing temporal loop has no unique tile",
        }
    }
    pub fn code(self) -> u32 {
        match self {
            Crash::ClusterProduct => 1,
            Crash::OccurrenceWrap => 2,
            Crash::ZeroCompute => 3,
            Crash::ZeroUnique => 4,
        }
    }
    pub fn from_code(c: u32) -> Option<Crash> {
        match c {
            1 => Some(Crash::ClusterProduct),
            2 => Some(Crash::OccurrenceWrap),
            3 => Some(Crash::ZeroCompute),
            4 => Some(Crash::ZeroUnique),
            _ => None,
        }
    }
}

const POS_I: u8 = 0;
const POS_S: u8 = 1;
const POS_E: u8 = 2;

#[derive(Debug, Clone, Copy, Default)]
struct St {
    pos: u8,
    occ: i64,
    unrolled: bool,
    /// isEdge: the state is E, or an Init that is already past the dim.
    edge: bool,
    /// Spatial only: the last sub-cluster of this fold is partial.
    ee: bool,
}

/// States of every directive of a level against dynamic dims `dd` (spec §2.3).
fn states(t: &LevelTables, dd: &[i64; 6], out: &mut [[St; 3]; 6], cnt: &mut [usize; 6]) {
    for j in 0..t.nd {
        cnt[j] = dir_states(t, j, dd[t.var[j]], &mut out[j]);
    }
}

/// States of directive `j` when its variable's dynamic dim is `d`; returns how many.
#[inline]
fn dir_states(t: &LevelTables, j: usize, d: i64, out: &mut [St; 3]) -> usize {
    let (m, o) = (t.size[j], t.ofs[j]);
    let mut k = 0;
    if !t.is_sp(j) {
        out[k] = St { pos: POS_I, occ: 1, unrolled: d <= m, edge: d < m, ee: false };
        k += 1;
        let n = (d - m) / o;
        if m < d && n > 0 {
            out[k] = St { pos: POS_S, occ: n, ..St::default() };
            k += 1;
        }
        if d >= m && n * o + m < d {
            out[k] = St { pos: POS_E, occ: 1, edge: true, ..St::default() };
            k += 1;
        }
    } else {
        let nn = t.n_sub;
        let sc = m + o * (nn - 1);
        out[k] = St { pos: POS_I, occ: 1, unrolled: d <= sc, edge: d < sc, ee: d < sc };
        k += 1;
        let n = ((d - m) / o + 1) / nn - 1;
        if sc < d && n > 0 {
            out[k] = St { pos: POS_S, occ: n, ..St::default() };
            k += 1;
        }
        if d > sc && (n + 1) * o * nn + sc > d && n * o * nn + sc != d {
            let rem = d - (n + 1) * o * nn;
            let a = if rem < m { 1 } else { (rem - m) / o + 1 };
            out[k] = St { pos: POS_E, occ: 1, unrolled: false, edge: true, ee: (a - 1) * o + m < rem };
            k += 1;
        }
    }
    k
}

#[inline]
fn nz(u: i64) -> i64 {
    if u != 0 {
        u
    } else {
        1
    }
}

/// NoC delay (spec §2.5) with hop latency 1.
#[inline]
pub fn noc(x: i64, bw: i64) -> i64 {
    let q = x / bw;
    if x % bw != 0 {
        q + 1
    } else {
        q
    }
}

/// Directive `j`'s factor in PEmap (spec §2.4a); the caller skips uncoupled directives.
#[inline]
fn map_factor(t: &LevelTables, j: usize, s: &St, first: bool, ee: bool) -> i64 {
    let v = t.var[j];
    if !t.is_sp(j) {
        if s.edge {
            t.mpe[v]
        } else {
            t.mp[v]
        }
    } else if !s.edge {
        t.mp[v]
    } else if t.ne == 1 {
        if first || ee {
            t.mpe[v]
        } else {
            1
        }
    } else if ee {
        t.mpe[v]
    } else {
        t.mp[v]
    }
}

/// Directive `j`'s factor in PEin when some directive changes (`c` ≥ 0; spec §2.4b). `changing`
/// is `j == c && !inited`. Err when MAESTRO would exit on a zero unique size.
#[inline]
fn in_factor(t: &LevelTables, j: usize, s: &St, first: bool, ee: bool, c: usize, changing: bool) -> Result<i64, Crash> {
    let v = t.var[j];
    if t.is_sp(j) {
        return Ok(sp_in_factor(t, j, s, first, ee, c, changing));
    }
    Ok(if s.pos == POS_I {
        if s.edge {
            t.mpe[v]
        } else {
            t.mp[v]
        }
    } else if changing {
        if t.un[v] == 0 {
            return Err(Crash::ZeroUnique);
        }
        t.un[v]
    } else {
        t.mp[v]
    })
}

/// A spatial directive's PEin factor (the spatial branch of [`in_factor`], which never fails).
#[inline]
fn sp_in_factor(t: &LevelTables, j: usize, s: &St, first: bool, ee: bool, c: usize, changing: bool) -> i64 {
    let v = t.var[j];
    let (full, uniq) = if ee { (t.mpe[v], t.une[v]) } else { (t.mp[v], t.un[v]) };
    if first {
        full
    } else if s.pos == POS_I {
        if j < c {
            full
        } else {
            uniq
        }
    } else if changing {
        uniq
    } else {
        full
    }
}

/// Directive `j`'s factor in PEout(psum, first, ee, rae) (spec §2.4c); 1 for a non-output
/// directive when `psum` is off.
#[inline]
fn out_factor(t: &LevelTables, j: usize, s: &St, psum: bool, first: bool, ee: bool, rae: bool) -> i64 {
    let v = t.var[j];
    let spatial = t.is_sp(j);
    if t.coupled[T_O] & (1 << j) == 0 {
        if !psum {
            return 1;
        }
        if !spatial {
            return if s.edge { t.mpe[v] } else { t.mp[v] };
        }
        return match s.pos {
            POS_I if s.edge && ee => t.mpe[v],
            POS_I | POS_S => {
                if first {
                    t.mp[v]
                } else {
                    nz(t.un[v])
                }
            }
            _ => {
                if t.ne == 1 {
                    if first || ee {
                        t.mpe[v]
                    } else {
                        1
                    }
                } else if ee {
                    t.une[v]
                } else if first {
                    t.mp[v]
                } else {
                    nz(t.un[v])
                }
            }
        };
    }
    let a = primed(v);
    if !spatial {
        // I: edge ? mpe : mp; S: mp; E: mpe — which is `edge ? mpe : mp` since S is never an
        // edge and E always is.
        return if s.edge { t.mpe[a] } else { t.mp[a] };
    }
    let steady = if first { t.mp[a] } else { nz(t.un[a]) };
    match s.pos {
        POS_I => {
            if s.edge && ee {
                if t.ne == 1 || !rae {
                    t.mpe[a]
                } else {
                    t.une[a]
                }
            } else {
                steady
            }
        }
        POS_S => steady,
        _ => {
            if t.ne == 1 {
                // Quirk Q4: the unprimed key.
                if first || ee {
                    t.mpe[v]
                } else {
                    1
                }
            } else if ee {
                t.une[a]
            } else {
                steady
            }
        }
    }
}

/// Whether every NoC delay of a level is at most 1 (see [`LevelTables::traffic_in`]).
#[inline]
fn traffic_fits(t: &LevelTables, bw: i64) -> bool {
    t.traffic_in <= bw as f64 && t.traffic_out <= bw as f64
}

/// A temporal directive's PEout factor (psum on), which depends on its state alone.
#[inline]
fn temporal_out(t: &LevelTables, j: usize, s: &St) -> i64 {
    let v = t.var[j];
    let key = if t.coupled[T_O] & (1 << j) != 0 { primed(v) } else { v };
    if s.edge {
        t.mpe[key]
    } else {
        t.mp[key]
    }
}

/// One case of one level: the chosen state of every directive.
struct Case<'a> {
    t: &'a LevelTables,
    s: [St; 6],
    /// Innermost directive not at Init, or -1.
    c: i32,
}

impl Case<'_> {
    /// PEmap_T(first, ee) (spec §2.4a).
    fn pe_map(&self, tens: usize, first: bool, ee: bool) -> i64 {
        let t = self.t;
        let mut p = 1i64;
        for j in 0..t.nd {
            if t.coupled[tens] & (1 << j) != 0 {
                p = p.wrapping_mul(map_factor(t, j, &self.s[j], first, ee));
            }
        }
        p
    }

    fn inited(&self, tens: usize) -> bool {
        let t = self.t;
        ((self.c + 1) as usize..t.nd)
            .any(|j| t.coupled[tens] & (1 << j) != 0 && self.s[j].pos == POS_I && !self.s[j].unrolled)
    }

    /// PEin_T(first, ee) (spec §2.4b).
    fn pe_in(&self, tens: usize, first: bool, ee: bool, inited: bool) -> Result<i64, Crash> {
        let t = self.t;
        if self.c < 0 {
            return Ok(self.pe_map(tens, first, ee));
        }
        let c = self.c as usize;
        if t.coupled[tens] & (1 << c) == 0 {
            return Ok(0);
        }
        let mut p = 1i64;
        for j in 0..t.nd {
            if t.coupled[tens] & (1 << j) != 0 {
                p = p.wrapping_mul(in_factor(t, j, &self.s[j], first, ee, c, j == c && !inited)?);
            }
        }
        Ok(p)
    }

    /// PEout(psum, first, ee, rae) (spec §2.4c).
    fn pe_out(&self, psum: bool, first: bool, ee: bool, rae: bool) -> i64 {
        let t = self.t;
        let mut p = 1i64;
        for j in 0..t.nd {
            p = p.wrapping_mul(out_factor(t, j, &self.s[j], psum, first, ee, rae));
        }
        p
    }

    /// How tensor `tens` is spread over the fold: whether a spatial directive is coupled to it,
    /// whether one of those is at an edge, and the `ee` flag of the one whose variable comes last
    /// in the tensor's variable list (K, C, Y, X, R, S order), as MAESTRO scans them.
    fn fold(&self, tens: usize) -> Fold {
        let t = self.t;
        let mut f = Fold::default();
        // `sp` and `sq` in ascending variable order, so the later one overwrites `ee`: every
        // tensor's variable list (I: C Y X, W: K C R S, O: K Y X) is in `V_*` order.
        let (a, b) = if t.sq != NO_SQ && t.var[t.sq] < t.var[t.sp] { (t.sq, t.sp) } else { (t.sp, t.sq) };
        for j in [a, b] {
            if j != NO_SQ && t.coupled[tens] & (1 << j) != 0 {
                f.mapped = true;
                f.edge |= self.s[j].edge;
                f.ee = self.s[j].ee;
            }
        }
        f
    }

    fn ingress(&self, tens: usize) -> Result<i64, Crash> {
        let inited = self.inited(tens);
        combine_fold(self.t, self.fold(tens), |f, e| self.pe_in(tens, f, e, inited))
    }

    fn egress(&self) -> i64 {
        combine_fold(self.t, self.fold(T_O), |f, e| Ok(self.pe_out(false, f, e, true))).unwrap_or(0)
    }

    /// MACs of the fold: every spatial directive counts as mapped, an edge of either makes the
    /// fold an edge, and the last one in loop order gives `ee`.
    fn macs(&self) -> i64 {
        let t = self.t;
        let (p, last) = (&self.s[t.sp], if t.sq != NO_SQ { &self.s[t.sq] } else { &self.s[t.sp] });
        macs_fold(t, p.edge || last.edge, last.ee, |first, ee, rae| self.pe_out(true, first, ee, rae))
    }

    /// Critical-path MACs of one PE.
    fn critical(&self) -> i64 {
        let f = self.fold(T_O);
        let ee = f.mapped && f.edge && self.t.ne == 1 && f.ee;
        self.pe_out(true, true, ee, true)
    }

    /// Edge masks of the sub-cluster evaluations this case triggers (spec §2.6, §4.3).
    fn sub_masks(&self) -> ([u8; 2], usize) {
        let t = self.t;
        let mut base = 0u8;
        for j in 0..t.nd {
            if !t.is_sp(j) && self.s[j].edge {
                base |= 1 << j;
            }
        }
        let sq = (t.sq != NO_SQ).then(|| &self.s[t.sq]);
        sub_mask_list(t, &self.s[t.sp], sq, base)
    }
}

/// How a tensor is spread over a fold (see `Case::fold`); with one spatial directive `p`:
/// `mapped` = p is coupled to the tensor, `edge`/`ee` = p's state flags.
#[derive(Debug, Clone, Copy, Default)]
struct Fold {
    mapped: bool,
    edge: bool,
    ee: bool,
}

impl Fold {
    /// The fold of a tensor under a level with one spatial directive in state `sp`.
    #[inline]
    fn single(sp: &St, mapped: bool) -> Fold {
        Fold { mapped, edge: sp.edge, ee: sp.ee }
    }
}

/// Combines the PEs of one fold (spec §2.4d).
#[inline]
fn combine_fold(t: &LevelTables, f: Fold, pe: impl Fn(bool, bool) -> Result<i64, Crash>) -> Result<i64, Crash> {
    if !f.mapped {
        return pe(true, false);
    }
    if !f.edge {
        return Ok(pe(true, false)?.wrapping_add((t.n_sub - 1).wrapping_mul(pe(false, false)?)));
    }
    let e = f.ee as i64;
    let mut r = pe(true, t.ne == 1 && f.ee)?;
    if t.ne > 1 {
        r = r.wrapping_add((t.ne - e - 1).max(0).wrapping_mul(pe(false, false)?));
        if f.ee {
            r = r.wrapping_add(pe(false, true)?);
        }
    }
    Ok(r)
}

/// MACs of one fold from the spatial PEout factors: the spatial directive always counts as
/// mapped; the partial cluster uses `rae = false`.
#[inline]
fn macs_fold(t: &LevelTables, edge: bool, ee: bool, f: impl Fn(bool, bool, bool) -> i64) -> i64 {
    if !edge {
        return t.n_sub.wrapping_mul(f(true, false, true));
    }
    let e = ee as i64;
    let mut r = f(true, t.ne == 1 && ee, true);
    if t.ne > 1 {
        r = r.wrapping_add((t.ne - e - 1).max(0).wrapping_mul(f(true, false, true)));
        if ee {
            r = r.wrapping_add(f(false, true, false));
        }
    }
    r
}

/// Sub-evaluation masks of a case: `base` holds the temporal directives' edge bits. The list is
/// decided by the first spatial directive alone: an `ee` edge evaluates the partial cluster
/// (`eeFlag` on) and, with NE > 1, the full ones (off); otherwise one evaluation (off). In each,
/// a spatial directive's bit is `isEdge ∧ (NE = 1 ∨ eeFlag)`.
#[inline]
fn sub_mask_list(t: &LevelTables, sp: &St, sq: Option<&St>, base: u8) -> ([u8; 2], usize) {
    let mask = |ee_flag: bool| {
        let bit = |s: &St, j: usize| ((s.edge && (t.ne == 1 || ee_flag)) as u8) << j;
        base | bit(sp, t.sp) | sq.map_or(0, |q| bit(q, t.sq))
    };
    if sp.edge && sp.ee {
        if t.ne > 1 {
            ([mask(true), mask(false)], 2)
        } else {
            ([mask(true), 0], 1)
        }
    } else {
        ([mask(false), 0], 1)
    }
}

/// Top-level accumulators (spec §2.7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TopResult {
    pub runtime: i64,
    pub macs: i64,
    pub l2_read_i: i64,
    pub l2_read_w: i64,
    pub l2_write_o: i64,
    /// Case-0 ingress/egress, for the L2 size.
    pub in_i0: i64,
    pub in_w0: i64,
    pub eg0: i64,
}

/// Sub-level results for levels 1..3 by canonical parent mask.
struct Memo {
    done: [u64; 3],
    val: [[i64; 64]; 3],
    err: [[u8; 64]; 3],
}

/// Evaluates one mapping, memoising sub-level runtimes by the parent's canonical edge mask.
pub struct Evaluator<'a> {
    tabs: &'a MappingTables,
    noc_bw: i64,
    offchip_bw: i64,
    /// Skip the closed forms (for checking them against plain enumeration).
    pub enumerate_only: bool,
    /// Closed-form pieces of the innermost level, per directive and parent edge bit.
    inner: Option<InnerVariants>,
    /// Memo of sub-level results, allocated on first use (the closed forms of 2-level mappings
    /// never need it).
    memo: Option<Box<Memo>>,
}

impl<'a> Evaluator<'a> {
    pub fn new(tabs: &'a MappingTables, noc_bw: i64, offchip_bw: i64) -> Self {
        Evaluator { tabs, noc_bw, offchip_bw, enumerate_only: false, inner: None, memo: None }
    }

    /// Evaluates the whole mapping from the top level.
    pub fn run_top(&mut self) -> Result<TopResult, Crash> {
        let mut acc = TopResult::default();
        let dims = self.tabs.dims;
        acc.runtime = self.run_level(0, &dims, Some(&mut acc))?;
        Ok(acc)
    }

    /// Dims of level `li` for sub-evaluation mask `mask` of level `li-1`.
    fn child_dims(&self, li: usize, mask: u8) -> [i64; 6] {
        let p = &self.tabs.levels[li - 1];
        let mut dd = self.tabs.levels[li].ds;
        for j in 0..p.nd {
            let v = p.var[j];
            dd[v] = if mask & (1 << j) != 0 { p.mpe[v] } else { p.mp[v] };
        }
        dd
    }

    /// Runtime of one level-`li` sub-cluster evaluated against the parent's mask.
    fn sub_runtime(&mut self, li: usize, mask: u8) -> Result<i64, Crash> {
        // The closed forms model one spatial directive per level; a level with two is enumerated.
        if li + 1 == self.tabs.num_levels && !self.enumerate_only && self.tabs.levels[li].sq == NO_SQ {
            let inner = self.inner.get_or_insert_with(|| InnerVariants::build(self.tabs, self.noc_bw));
            if let Some(r) = inner.runtime(mask, self.noc_bw) {
                return Ok(r);
            }
        }
        // Bits whose mp and mpe agree give identical dims: canonicalise to share the memo slot.
        let p = &self.tabs.levels[li - 1];
        let mut canon = mask;
        for j in 0..p.nd {
            if p.mp[p.var[j]] == p.mpe[p.var[j]] {
                canon &= !(1 << j);
            }
        }
        let (slot, m) = (li - 1, canon as usize);
        let memo =
            self.memo.get_or_insert_with(|| Box::new(Memo { done: [0; 3], val: [[0; 64]; 3], err: [[0; 64]; 3] }));
        if memo.done[slot] & (1 << m) != 0 {
            return match Crash::from_code(memo.err[slot][m] as u32) {
                Some(c) => Err(c),
                None => Ok(memo.val[slot][m]),
            };
        }
        let dd = self.child_dims(li, canon);
        let r = self.run_level(li, &dd, None);
        let memo = self.memo.as_mut().expect("allocated above");
        memo.done[slot] |= 1 << m;
        match r {
            Ok(v) => memo.val[slot][m] = v,
            Err(c) => memo.err[slot][m] = c.code() as u8,
        }
        r
    }

    /// Enumerates the cases of level `li` against dims `dd`. Returns the runtime; at the top
    /// (`top` is Some) also fills the accumulators.
    fn run_level(&mut self, li: usize, dd: &[i64; 6], mut top: Option<&mut TopResult>) -> Result<i64, Crash> {
        let tabs = self.tabs;
        let t = &tabs.levels[li];
        let innermost = li + 1 == tabs.num_levels;
        let mut st = [[St::default(); 3]; 6];
        let mut cnt = [1usize; 6];
        states(t, dd, &mut st, &mut cnt);
        if !self.enumerate_only && t.sq == NO_SQ {
            let mut acc = TopResult::default();
            if let Some(r) = self.closed_form(li, &st, &cnt, top.is_some().then_some(&mut acc)) {
                if let (Ok(_), Some(out)) = (&r, top) {
                    *out = acc;
                }
                return r;
            }
        }
        let bw = self.noc_bw;
        let mut idx = [0usize; 6];
        let mut runtime = 0i64;
        let mut off = 0i64;
        let mut first_case = true;
        loop {
            let mut case = Case { t, s: [St::default(); 6], c: -1 };
            let mut occ: u32 = 1;
            for j in 0..t.nd {
                let s = st[j][idx[j]];
                case.s[j] = s;
                occ = occ.wrapping_mul(s.occ as u32);
                if s.pos != POS_I {
                    case.c = j as i32;
                }
            }
            let occ = occ as i32;
            if occ <= 0 {
                return Err(Crash::OccurrenceWrap);
            }
            let occ = occ as i64;
            let all_init = case.c < 0;
            let in_i = case.ingress(T_I)?;
            let in_w = case.ingress(T_W)?;
            let eg = case.egress();
            let in_d = noc(in_i.wrapping_add(in_w), bw);
            let eg_d = noc(eg, bw);
            let comp = if innermost {
                case.critical()
            } else {
                let (masks, n) = case.sub_masks();
                let mut c = 0i64;
                for &m in &masks[..n] {
                    c = c.max(self.sub_runtime(li + 1, m)?);
                }
                c
            };
            let mut od = if all_init { comp.wrapping_add(in_d) } else { eg_d.max(comp).max(in_d) };
            if let Some(acc) = top.as_deref_mut() {
                if comp == 0 {
                    return Err(Crash::ZeroCompute);
                }
                if first_case {
                    // Case 0 is the all-Init case: it fixes the L2 requirement and with it the
                    // off-chip delay that bounds every top-level case.
                    acc.in_i0 = in_i;
                    acc.in_w0 = in_w;
                    acc.eg0 = eg;
                    let req_in = 2i64.wrapping_mul(in_i).wrapping_add(2i64.wrapping_mul(in_w));
                    off = (req_in / self.offchip_bw / 2).max(2i64.wrapping_mul(eg) / self.offchip_bw / 2);
                }
                od = od.max(off);
                acc.macs = acc.macs.wrapping_add(occ.wrapping_mul(case.macs()));
                acc.l2_read_i = acc.l2_read_i.wrapping_add(occ.wrapping_mul(in_i));
                acc.l2_read_w = acc.l2_read_w.wrapping_add(occ.wrapping_mul(in_w));
                acc.l2_write_o = acc.l2_write_o.wrapping_add(occ.wrapping_mul(eg));
            }
            runtime = runtime.wrapping_add(occ.wrapping_mul(od));
            first_case = false;
            // Next case (mixed-radix counter; only case 0 = all-Init is order-sensitive).
            let mut j = 0;
            loop {
                if j == t.nd {
                    return Ok(runtime);
                }
                idx[j] += 1;
                if idx[j] < cnt[j] {
                    break;
                }
                idx[j] = 0;
                j += 1;
            }
        }
    }

    /// Per-parent-directive runtime pieces of the innermost level `li`, when its runtime is
    /// `Π_k pieces[k][bit_k] + 1` for every parent mask.
    fn inner_pieces(&mut self, li: usize) -> Option<[[i64; 2]; 6]> {
        if li + 1 != self.tabs.num_levels || self.enumerate_only || self.tabs.levels[li].sq != NO_SQ {
            return None;
        }
        let inner = self.inner.get_or_insert_with(|| InnerVariants::build(self.tabs, self.noc_bw));
        inner.pieces(self.tabs.levels[li - 1].nd)
    }

    /// Closed-form evaluation of a level (spec §4.4): per-level sums factorise over directives
    /// when no occurrence product wraps, and the runtime collapses to Σ occ·comp + in_d(case 0)
    /// when no case is bound by the NoC or off-chip bandwidth. Returns None when a precondition
    /// does not hold (or a sub-level crashed), and the caller enumerates the cases instead.
    fn closed_form(
        &mut self,
        li: usize,
        st: &[[St; 3]; 6],
        cnt: &[usize; 6],
        top: Option<&mut TopResult>,
    ) -> Option<Result<i64, Crash>> {
        let tabs = self.tabs;
        let t = &tabs.levels[li];
        let (nd, p) = (t.nd, t.sp);
        let innermost = li + 1 == tabs.num_levels;
        let states = |j: usize| &st[j][..cnt[j]];
        if !traffic_fits(t, self.noc_bw) {
            return None;
        }
        // One pass over the directives: occurrence bound, Σ occ, Σ occ·(temporal PEout factor)
        // and its minimum, the Init state's factors, and the ingress sums of `ingress_sum`.
        let mut occ_bound = 1i64;
        let mut occ_sum = [1i64; 6];
        let mut out_sum = [1i64; 6];
        let mut out_min = [1i64; 6];
        // Products of the Init states' factors over the temporal directives coupled to I, W, O.
        let (mut b_i, mut b_w, mut b_o) = (1i64, 1i64, 1i64);
        let mut ing = Ingress::default();
        for j in 0..nd {
            let ss = states(j);
            let mut omax = 1i64;
            let mut osum = 0i64;
            for s in ss {
                omax = omax.max(s.occ);
                osum = osum.wrapping_add(s.occ);
            }
            occ_bound = occ_bound.saturating_mul(omax);
            occ_sum[j] = osum;
            if j == p {
                continue;
            }
            let v = t.var[j];
            // No changing loop may lack a unique tile.
            if ss.len() > 1 && t.un[v] == 0 {
                return None;
            }
            let (mut sum, mut mn) = (0i64, i64::MAX);
            for s in ss {
                let f = temporal_out(t, j, s);
                sum = sum.wrapping_add(s.occ.wrapping_mul(f));
                mn = mn.min(f);
            }
            out_sum[j] = sum;
            out_min[j] = mn;
            let s0 = &ss[0];
            if t.coupled[T_O] & (1 << j) != 0 {
                b_o = b_o.wrapping_mul(temporal_out(t, j, s0));
            }
            // PEin factors: Init states give `edge ? mpe : mp`, the others `mp` unless changing.
            let init = if s0.edge { t.mpe[v] } else { t.mp[v] };
            let a = init.wrapping_add(osum.wrapping_sub(1).wrapping_mul(t.mp[v]));
            for (k, tens) in [T_I, T_W].into_iter().enumerate() {
                if t.coupled[tens] & (1 << j) != 0 {
                    ing.a[k][j] = a;
                    ing.b[k][j] = init;
                } else {
                    // Uncoupled loops before the changing one still repeat the case.
                    ing.a[k][j] = osum;
                }
            }
            if !s0.unrolled {
                ing.not_unrolled |= 1 << j;
            }
        }
        if occ_bound >= 1 << 31 {
            return None;
        }
        if !st[p][0].unrolled {
            ing.not_unrolled |= 1 << p;
        }
        b_i = (0..nd).fold(b_i, |x, j| x.wrapping_mul(ing.b[0][j]));
        b_w = (0..nd).fold(b_w, |x, j| x.wrapping_mul(ing.b[1][j]));
        // Case 0 (all Init): the temporal factors times the spatial directive's combined fold.
        let sp0 = &st[p][0];
        let sp_map = |tens: usize| {
            let mapped = t.coupled[tens] & (1 << p) != 0;
            combine_fold(t, Fold::single(sp0, mapped), |f, e| Ok(if mapped { map_factor(t, p, sp0, f, e) } else { 1 }))
                .unwrap_or(0)
        };
        let in_i0 = b_i.wrapping_mul(sp_map(T_I));
        let in_w0 = b_w.wrapping_mul(sp_map(T_W));
        let sp_mapped_o = t.coupled[T_O] & (1 << p) != 0;
        let eg0 = b_o.wrapping_mul(
            combine_fold(t, Fold::single(sp0, sp_mapped_o), |f, e| Ok(out_factor(t, p, sp0, false, f, e, true)))
                .unwrap_or(0),
        );
        let in_d0 = noc(in_i0.wrapping_add(in_w0), self.noc_bw);
        let off = match top {
            Some(_) => {
                let req_in = 2i64.wrapping_mul(in_i0).wrapping_add(2i64.wrapping_mul(in_w0));
                (req_in / self.offchip_bw / 2).max(2i64.wrapping_mul(eg0) / self.offchip_bw / 2)
            }
            None => 0,
        };
        let prod_except =
            |arr: &[i64; 6], skip: usize| (0..nd).filter(|&j| j != skip).fold(1i64, |a, j| a.wrapping_mul(arr[j]));
        // Σ occ·comp and a lower bound of comp over all cases.
        let (comp_sum, comp_min) = if innermost {
            let mut sum = 0i64;
            let mut mn = i64::MAX;
            for s in states(p) {
                let ee = sp_mapped_o && s.edge && t.ne == 1 && s.ee;
                let f = out_factor(t, p, s, true, true, ee, true);
                sum = sum.wrapping_add(s.occ.wrapping_mul(f));
                mn = mn.min(f);
            }
            if mn < 1 || (0..nd).any(|j| j != p && out_min[j] < 1) {
                return None;
            }
            let lower = (0..nd).filter(|&j| j != p).fold(mn, |a, j| a.saturating_mul(out_min[j]));
            (prod_except(&out_sum, p).wrapping_mul(sum), lower)
        } else if let Some(pieces) = self.inner_pieces(li + 1) {
            // The child is the innermost level and its runtime is Π_k P_k(bit_k) + 1 for every
            // mask (see `InnerVariants::pieces`): the sum over cases factorises over this level's
            // directives, and the spatial directive's max over sub-masks acts on P_p alone.
            let mut tsum = 1i64;
            let mut tmin = 1i64;
            for j in (0..nd).filter(|&j| j != p) {
                let mut a = 0i64;
                for s in states(j) {
                    a = a.wrapping_add(s.occ.wrapping_mul(pieces[j][s.edge as usize]));
                }
                tsum = tsum.wrapping_mul(a);
                let reach = |b: usize| states(j).iter().any(|s| s.edge as usize == b);
                let mn = (0..2).filter(|&b| reach(b)).map(|b| pieces[j][b]).min().unwrap_or(1);
                tmin = tmin.saturating_mul(mn);
            }
            let mut sum = 0i64;
            let mut pmin = i64::MAX;
            for s in states(p) {
                let (masks, n) = sub_mask_list(t, s, None, 0);
                let pp = masks[..n].iter().map(|m| pieces[p][(m >> p & 1) as usize]).max().unwrap_or(1);
                sum = sum.wrapping_add(s.occ.wrapping_mul(pp));
                pmin = pmin.min(pp);
            }
            let total_occ = (0..nd).fold(1i64, |a, j| a.wrapping_mul(occ_sum[j]));
            (tsum.wrapping_mul(sum).wrapping_add(total_occ), tmin.saturating_mul(pmin).saturating_add(1))
        } else {
            // Group cases by the spatial state and the temporal directives' edge bits.
            let mut w = [[0i64; 2]; 6];
            let (mut forced, mut free) = (0u8, 0u8);
            for j in (0..nd).filter(|&j| j != p) {
                for s in states(j) {
                    w[j][s.edge as usize] += s.occ;
                }
                match (w[j][0] > 0, w[j][1] > 0) {
                    (true, true) => free |= 1 << j,
                    (false, true) => forced |= 1 << j,
                    _ => {}
                }
            }
            let mut sum = 0i64;
            let mut mn = i64::MAX;
            for s in states(p) {
                let mut sub: u8 = 0;
                loop {
                    let base = forced | sub;
                    let weight =
                        (0..nd).filter(|&j| j != p).fold(s.occ, |a, j| a.wrapping_mul(w[j][(base >> j & 1) as usize]));
                    let (masks, n) = sub_mask_list(t, s, None, base);
                    let mut comp = 0i64;
                    for &m in &masks[..n] {
                        match self.sub_runtime(li + 1, m) {
                            Ok(r) => comp = comp.max(r),
                            Err(_) => return None,
                        }
                    }
                    sum = sum.wrapping_add(weight.wrapping_mul(comp));
                    mn = mn.min(comp);
                    // Next subset of the free bits.
                    sub = (sub | !free).wrapping_add(1) & free;
                    if sub == 0 {
                        break;
                    }
                }
            }
            (sum, mn)
        };
        if comp_min < 1 || comp_min < off {
            return None;
        }
        let runtime = comp_sum.wrapping_add(in_d0);
        if let Some(acc) = top {
            acc.runtime = runtime;
            acc.in_i0 = in_i0;
            acc.in_w0 = in_w0;
            acc.eg0 = eg0;
            // MACs: temporal factors are flag-free, so only the spatial factor is combined.
            let mm: i64 = states(p)
                .iter()
                .map(|s| {
                    s.occ.wrapping_mul(macs_fold(t, s.edge, s.ee, |first, ee, rae| {
                        out_factor(t, p, s, true, first, ee, rae)
                    }))
                })
                .fold(0, i64::wrapping_add);
            acc.macs = prod_except(&out_sum, p).wrapping_mul(mm);
            // Egress: output directives contribute their factor, the others only occurrences.
            let mut eg = 1i64;
            for j in (0..nd).filter(|&j| j != p) {
                eg = eg.wrapping_mul(if t.coupled[T_O] & (1 << j) != 0 { out_sum[j] } else { occ_sum[j] });
            }
            let eg_sp: i64 = states(p)
                .iter()
                .map(|s| {
                    s.occ.wrapping_mul(
                        combine_fold(t, Fold::single(s, sp_mapped_o), |first, ee| {
                            Ok(out_factor(t, p, s, false, first, ee, true))
                        })
                        .unwrap_or(0),
                    )
                })
                .fold(0, i64::wrapping_add);
            acc.l2_write_o = eg.wrapping_mul(eg_sp);
            acc.l2_read_i = ingress_sum(t, st, cnt, &ing, 0, in_i0);
            acc.l2_read_w = ingress_sum(t, st, cnt, &ing, 1, in_w0);
        }
        Some(Ok(runtime))
    }
}

/// Per-directive ingress sums of a level's closed form, for I (`[0]`) and W (`[1]`): `a[j]` is
/// Σ occ·(PEin factor) over directive j's states when j is not the changing loop, `b[j]` its
/// Init state's factor (1 for uncoupled and spatial directives).
struct Ingress {
    a: [[i64; 6]; 2],
    b: [[i64; 6]; 2],
    /// Directives whose Init state is not unrolled (they make later loops "inited").
    not_unrolled: u8,
}

impl Default for Ingress {
    fn default() -> Self {
        Ingress { a: [[1; 6]; 2], b: [[1; 6]; 2], not_unrolled: 0 }
    }
}

/// Σ occ·IN_T over all cases, grouped by the innermost changing directive `c`: loops after `c`
/// sit at Init, loops before it range freely (spec §4.4). The closed form's preconditions (no
/// changing temporal loop without a unique tile) make it infallible.
fn ingress_sum(t: &LevelTables, st: &[[St; 3]; 6], cnt: &[usize; 6], ing: &Ingress, k: usize, case0: i64) -> i64 {
    let (nd, p) = (t.nd, t.sp);
    let tens = [T_I, T_W][k];
    let coupled = t.coupled[tens];
    let mapped = coupled & (1 << p) != 0;
    let (a, b) = (&ing.a[k], &ing.b[k]);
    let mut suf = [1i64; 7];
    for j in (0..nd).rev() {
        suf[j] = suf[j + 1].wrapping_mul(b[j]);
    }
    let mut total = case0;
    let mut pre = 1i64;
    for c in 0..nd {
        if coupled & (1 << c) != 0 && cnt[c] >= 2 {
            let inited = coupled & ing.not_unrolled & !((2u8 << c) - 1) != 0;
            let mut prod = pre.wrapping_mul(suf[c + 1]);
            if c != p {
                let v = t.var[c];
                let rest = st[c][1..cnt[c]].iter().fold(0i64, |x, s| x.wrapping_add(s.occ));
                prod = prod.wrapping_mul(rest.wrapping_mul(if inited { t.mp[v] } else { t.un[v] }));
            }
            let range = if p < c {
                &st[p][..cnt[p]]
            } else if p == c {
                &st[p][1..cnt[p]]
            } else {
                &st[p][..1]
            };
            let changing = p == c && !inited;
            let mut sp_sum = 0i64;
            for s in range {
                let f = if mapped {
                    combine_fold(t, Fold::single(s, true), |first, ee| {
                        Ok(sp_in_factor(t, p, s, first, ee, c, changing))
                    })
                    .unwrap_or(0)
                } else {
                    1
                };
                sp_sum = sp_sum.wrapping_add(s.occ.wrapping_mul(f));
            }
            total = total.wrapping_add(prod.wrapping_mul(sp_sum));
        }
        pre = pre.wrapping_mul(a[c]);
    }
    total
}

/// The innermost level's runtime as a function of the parent's edge mask. Each directive's
/// states depend only on its own variable's dim, which the parent's mask sets to `mp` or `mpe`
/// through one bit; so every closed-form term of §4.4 is a product of per-directive pieces with
/// two variants, and a mask costs one pass over the directives instead of a level evaluation.
struct InnerVariants {
    nd: usize,
    /// Parent directive whose edge bit sets directive j's dim.
    pbit: [u8; 6],
    /// Whether the closed form holds for this directive and variant (no zero unique tile).
    ok: [[bool; 2]; 6],
    /// Largest per-state occurrence.
    occ_max: [[i64; 2]; 6],
    /// Σ occ·(PEout factor) (spatial: with its critical-path flags) and the smallest factor.
    out_sum: [[i64; 2]; 6],
    out_min: [[i64; 2]; 6],
    /// Case-0 ingress factors (the spatial directive's entry is its combined fold value).
    in0: [[[i64; 2]; 6]; 2],
    /// Largest possible NoC traffic fits in one bandwidth unit.
    traffic_ok: bool,
}

impl InnerVariants {
    fn build(tabs: &MappingTables, bw: i64) -> InnerVariants {
        let li = tabs.num_levels - 1;
        let t = &tabs.levels[li];
        let parent = &tabs.levels[li - 1];
        let (nd, p) = (t.nd, t.sp);
        let mut v = InnerVariants {
            nd,
            pbit: [0; 6],
            ok: [[true; 2]; 6],
            occ_max: [[1; 2]; 6],
            out_sum: [[1; 2]; 6],
            out_min: [[1; 2]; 6],
            in0: [[[1; 2]; 6]; 2],
            traffic_ok: true,
        };
        v.traffic_ok = traffic_fits(t, bw);
        let sp_mapped_o = t.coupled[T_O] & (1 << p) != 0;
        for j in 0..nd {
            let var = t.var[j];
            // The parent's edge bit sets this directive's dim to `mpe`; when that equals `mp` (or
            // no parent directive carries the variable) both variants are the same.
            let parent_dir = (0..parent.nd).find(|&k| parent.var[k] == var);
            v.pbit[j] = parent_dir.unwrap_or(0) as u8;
            let (d0, d1) = match parent_dir {
                Some(_) => (parent.mp[var], parent.mpe[var]),
                None => (t.ds[var], t.ds[var]),
            };
            for b in 0..2 {
                if b == 1 && d1 == d0 {
                    v.ok[j][1] = v.ok[j][0];
                    v.occ_max[j][1] = v.occ_max[j][0];
                    v.out_sum[j][1] = v.out_sum[j][0];
                    v.out_min[j][1] = v.out_min[j][0];
                    v.in0[0][j][1] = v.in0[0][j][0];
                    v.in0[1][j][1] = v.in0[1][j][0];
                    break;
                }
                let mut st = [St::default(); 3];
                let cnt = dir_states(t, j, if b == 1 { d1 } else { d0 }, &mut st);
                let ss = &st[..cnt];
                v.occ_max[j][b] = ss.iter().map(|s| s.occ).max().unwrap_or(1);
                if j != p {
                    v.ok[j][b] = !(cnt > 1 && t.un[var] == 0);
                    let (mut sum, mut mn) = (0i64, i64::MAX);
                    for s in ss {
                        let f = temporal_out(t, j, s);
                        sum = sum.wrapping_add(s.occ.wrapping_mul(f));
                        mn = mn.min(f);
                    }
                    v.out_sum[j][b] = sum;
                    v.out_min[j][b] = mn;
                    for (ti, tens) in [T_I, T_W].into_iter().enumerate() {
                        if t.coupled[tens] & (1 << j) != 0 {
                            v.in0[ti][j][b] = map_factor(t, j, &ss[0], true, false);
                        }
                    }
                } else {
                    let f = |s: &St| {
                        let ee = sp_mapped_o && s.edge && t.ne == 1 && s.ee;
                        out_factor(t, j, s, true, true, ee, true)
                    };
                    let (mut sum, mut mn) = (0i64, i64::MAX);
                    for s in ss {
                        let x = f(s);
                        sum = sum.wrapping_add(s.occ.wrapping_mul(x));
                        mn = mn.min(x);
                    }
                    v.out_sum[j][b] = sum;
                    v.out_min[j][b] = mn;
                    for (ti, tens) in [T_I, T_W].into_iter().enumerate() {
                        let mapped = t.coupled[tens] & (1 << j) != 0;
                        let s0 = &ss[0];
                        v.in0[ti][j][b] = combine_fold(t, Fold::single(s0, mapped), |first, ee| {
                            Ok(if mapped { map_factor(t, j, s0, first, ee) } else { 1 })
                        })
                        .unwrap_or(0);
                    }
                }
            }
        }
        v
    }

    /// Per-parent-directive factors `P_k(b)` with `runtime(mask) = Π_k P_k(bit_k) + 1` for every
    /// mask, when that holds: every variant passes the closed-form preconditions, every piece is
    /// positive (so the case-0 traffic is positive and its NoC delay is exactly 1), and no
    /// combination of variants can wrap an occurrence product.
    fn pieces(&self, parent_nd: usize) -> Option<[[i64; 2]; 6]> {
        if !self.traffic_ok {
            return None;
        }
        let mut occ = 1i64;
        let mut out = [[1i64; 2]; 6];
        for j in 0..self.nd {
            for b in 0..2 {
                if !self.ok[j][b] || self.out_min[j][b] < 1 || self.in0[0][j][b] < 1 || self.in0[1][j][b] < 1 {
                    return None;
                }
            }
            occ = occ.saturating_mul(self.occ_max[j][0].max(self.occ_max[j][1]));
            let k = self.pbit[j] as usize;
            if k >= parent_nd {
                return None;
            }
            for b in 0..2 {
                out[k][b] = out[k][b].wrapping_mul(self.out_sum[j][b]);
            }
        }
        if occ >= 1 << 31 {
            return None;
        }
        Some(out)
    }

    /// Runtime for one parent mask, or None when a closed-form precondition fails.
    fn runtime(&self, mask: u8, bw: i64) -> Option<i64> {
        if !self.traffic_ok {
            return None;
        }
        let (mut occ, mut sum, mut mn) = (1i64, 1i64, 1i64);
        let (mut i0, mut w0) = (1i64, 1i64);
        for j in 0..self.nd {
            let b = ((mask >> self.pbit[j]) & 1) as usize;
            if !self.ok[j][b] || self.out_min[j][b] < 1 {
                return None;
            }
            occ = occ.saturating_mul(self.occ_max[j][b]);
            sum = sum.wrapping_mul(self.out_sum[j][b]);
            mn = mn.saturating_mul(self.out_min[j][b]);
            i0 = i0.wrapping_mul(self.in0[0][j][b]);
            w0 = w0.wrapping_mul(self.in0[1][j][b]);
        }
        if occ >= 1 << 31 || mn < 1 {
            return None;
        }
        Some(sum.wrapping_add(noc(i0.wrapping_add(w0), bw)))
    }
}

/// The L2 requirement (elements, wrapped as MAESTRO's `int`) that a full evaluation of `tabs`
/// reports when it completes: twice the top level's case-0 ingress of inputs and weights and its
/// egress (spec §2.7), computed from that one case with the enumeration's own case code, without
/// running the levels. An error means case 0 itself fails (the evaluation would too).
pub fn l2_requirement(tabs: &MappingTables) -> Result<i64, Crash> {
    let t = &tabs.levels[0];
    let mut st = [[St::default(); 3]; 6];
    let mut cnt = [1usize; 6];
    states(t, &tabs.dims, &mut st, &mut cnt);
    let mut case = Case { t, s: [St::default(); 6], c: -1 };
    for j in 0..t.nd {
        case.s[j] = st[j][0];
        if st[j][0].pos != POS_I {
            case.c = j as i32;
        }
    }
    let (in_i, in_w, eg) = (case.ingress(T_I)?, case.ingress(T_W)?, case.egress());
    Ok(super::wrap32(2i64.wrapping_mul(in_i.wrapping_add(in_w).wrapping_add(eg))))
}
