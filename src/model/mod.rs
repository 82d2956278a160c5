//! The CPU reference of MAESTRO's data-centric cost model exactly as GAMMA runs it (commit
//! e1d8efd, GAMMA's flags). Pure Rust, no GPU code: the GPU backend is checked against this.

mod engine;
pub mod packed;
pub mod tables;

pub use engine::{l2_requirement, noc, Crash, Evaluator, TopResult};
pub use tables::{MappingTables, SetupError};

use crate::energy::EnergyModel;
use crate::hardware::Hardware;
use crate::mapping::{Dim, Genome, Level, MAX_LEVELS};
use crate::workload::Layer;
use serde::{Deserialize, Serialize};

/// Largest tile or gene-0 size a genome may carry: MAESTRO reads them as C++ `int`.
pub const MAX_GENE_VALUE: i64 = i32::MAX as i64;

/// Why an input cannot be evaluated at all: not a MAESTRO outcome but a value outside what
/// MAESTRO (and this model) accepts. Evaluations report it as an invalid verdict with this reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("layer field {field} = {value} is outside what the cost model accepts (dims 1..=2^20, R <= Y, S <= X, at most 2^52 MACs, none overflowing 64 bits)")]
    Layer { field: &'static str, value: i64 },
    #[error("hardware field {field} = {value} is out of range (num_pe 1..=2^24, caps and bandwidths at most 2^31-1)")]
    Hardware { field: &'static str, value: i64 },
    #[error("genome has {0} cluster levels; 1 to 4 are supported")]
    Levels(usize),
    #[error("genome level {level}: dimension {dim} appears more than once in the loop order")]
    RepeatedDim { level: usize, dim: Dim },
    #[error(
        "genome level {level}: tile of {dim} is {value}, outside 1..=2147483647 (MAESTRO reads tiles as 32-bit ints)"
    )]
    Tile { level: usize, dim: Dim, value: i64 },
    #[error("genome level {level}: gene-0 size {value} is outside 1..=2147483647")]
    Size { level: usize, value: i64 },
    #[error("item names problem {index}, but the batch has {len} problems")]
    ProblemIndex { index: usize, len: usize },
    /// A packed genome or problem that does not decode (bad dim codes, level count, index).
    #[error("malformed packed genome or problem")]
    Packed,
}

/// Checks everything the cost model needs of its inputs before any arithmetic: the layer's dims
/// and checked MAC count, the hardware ranges, and the genome's structure and value ranges.
/// Products of cluster sizes are checked by the model itself (exceeding the PEs is MAESTRO's
/// SIGFPE crash, overflow included).
pub fn validate_input(layer: &Layer, levels: &[Level], hw: &Hardware) -> Result<(), InputError> {
    if let Err(crate::error::FieldError { field, .. }) = layer.validate() {
        let value = match field {
            "K" => layer.k,
            "C" => layer.c,
            "Y" => layer.y,
            "X" => layer.x,
            "R" => layer.r,
            _ => layer.s,
        };
        return Err(InputError::Layer { field, value });
    }
    if let Some((field, value)) = hw.invalid_field() {
        return Err(InputError::Hardware { field, value });
    }
    validate_levels(levels)
}

/// The genome half of [`validate_input`].
pub fn validate_levels(levels: &[Level]) -> Result<(), InputError> {
    if levels.is_empty() || levels.len() > MAX_LEVELS {
        return Err(InputError::Levels(levels.len()));
    }
    for (level, lv) in levels.iter().enumerate() {
        let mut seen = [false; 6];
        for &(dim, value) in &lv.order {
            if std::mem::replace(&mut seen[dim.index()], true) {
                return Err(InputError::RepeatedDim { level, dim });
            }
            if !(1..=MAX_GENE_VALUE).contains(&value) {
                return Err(InputError::Tile { level, dim, value });
            }
        }
        if !(1..=MAX_GENE_VALUE).contains(&lv.size) {
            return Err(InputError::Size { level, value: lv.size });
        }
    }
    Ok(())
}

/// Why the integer model produced no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// MAESTRO would have crashed.
    Crash(Crash),
    /// The input is outside what MAESTRO accepts.
    Invalid(InputError),
}

impl From<Crash> for Failure {
    fn from(c: Crash) -> Self {
        Failure::Crash(c)
    }
}

/// Everything GAMMA reads from MAESTRO's CSV, plus GAMMA's verdict and our physical check.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    pub runtime_cycles: i64,
    /// MACs / runtime; written as the string "inf", "-inf" or "nan" when not finite (runtime 0),
    /// as the oracle does, since JSON has no such numbers.
    #[serde(with = "nonfinite")]
    pub throughput: f64,
    #[serde(rename = "energy_nJ")]
    pub energy_nj: f64,
    pub area: f64,
    pub power: f64,
    /// 32-bit wrapped, as MAESTRO stores it.
    pub l1_size_req: i64,
    pub l2_size_req: i64,
    pub num_macs: i64,
    pub l1_input_read: i64,
    pub l1_input_write: i64,
    pub l1_weight_read: i64,
    pub l1_weight_write: i64,
    pub l1_output_read: i64,
    pub l1_output_write: i64,
    pub l2_input_read: i64,
    pub l2_input_write: i64,
    pub l2_weight_read: i64,
    pub l2_weight_write: i64,
    pub l2_output_read: i64,
    pub l2_output_write: i64,
}

mod nonfinite {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else if x.is_nan() {
            s.serialize_str("nan")
        } else if *x > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum F {
            N(f64),
            S(String),
        }
        match F::deserialize(d)? {
            F::N(x) => Ok(x),
            F::S(s) => match s.as_str() {
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                "nan" => Ok(f64::NAN),
                other => Err(serde::de::Error::custom(format!("not a number: {other:?}"))),
            },
        }
    }
}

/// Result of evaluating one mapping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// `None` when MAESTRO would have crashed (no CSV).
    pub metrics: Option<Metrics>,
    pub crash: Option<Crash>,
    /// GAMMA's rule (spec §2.9).
    pub valid: bool,
    /// `valid`, MAESTRO's MAC count equals the layer's, and throughput ≤ PEs.
    pub valid_physical: bool,
    pub expected_macs: i64,
    /// Set when the input was rejected before evaluation (then `metrics` and `crash` are None).
    pub invalid: Option<InputError>,
}

impl Evaluation {
    pub fn crashed(c: Crash, expected_macs: i64) -> Self {
        Evaluation { metrics: None, crash: Some(c), valid: false, valid_physical: false, expected_macs, invalid: None }
    }

    /// The verdict for an input the model does not evaluate.
    pub fn rejected(e: InputError, expected_macs: i64) -> Self {
        Evaluation { metrics: None, crash: None, valid: false, valid_physical: false, expected_macs, invalid: Some(e) }
    }

    /// The verdict for a model failure.
    pub fn failed(f: Failure, expected_macs: i64) -> Self {
        match f {
            Failure::Crash(c) => Self::crashed(c, expected_macs),
            Failure::Invalid(e) => Self::rejected(e, expected_macs),
        }
    }

    /// Why the mapping is invalid under GAMMA's rule, or None when valid.
    pub fn error(&self, hw: &Hardware) -> Option<String> {
        if let Some(e) = self.invalid {
            return Some(format!("invalid input: {e}"));
        }
        if let Some(c) = self.crash {
            return Some(c.reason().to_string());
        }
        let m = self.metrics.as_ref()?;
        let mut why = Vec::new();
        if m.l1_size_req > hw.l1_cap() {
            why.push(format!("L1 requirement {} > cap {}", m.l1_size_req, hw.l1_cap()));
        }
        if m.l2_size_req > hw.l2_cap() {
            why.push(format!("L2 requirement {} > cap {}", m.l2_size_req, hw.l2_cap()));
        }
        if m.runtime_cycles < 1 {
            why.push("runtime < 1".into());
        }
        if m.l1_size_req < 1 {
            why.push("L1 requirement < 1".into());
        }
        if m.l2_size_req < 1 {
            why.push("L2 requirement < 1".into());
        }
        if why.is_empty() {
            None
        } else {
            Some(why.join("; "))
        }
    }

    /// GAMMA's external area model (um^2): 282 per PE + 0.086 per bit of L1·PEs + L2.
    pub fn area_gamma_external(&self, num_pe: i64) -> Option<f64> {
        let m = self.metrics.as_ref()?;
        Some(gamma_external_area(num_pe, m.l1_size_req, m.l2_size_req))
    }
}

/// GAMMA's external area model, left to right in doubles as GAMMA computes it.
pub fn gamma_external_area(num_pe: i64, l1: i64, l2: i64) -> f64 {
    num_pe as f64 * 282.0 + ((l1 * num_pe + l2) as f64) * 0.086 * 8.0
}

/// MAESTRO's area and power for `P` PEs, NoC bandwidth `bw` and the wrapped L1/L2 sizes (§3.2).
pub fn area_power(num_pe: i64, noc_bw: i64, l1: i64, l2: i64) -> (f64, f64) {
    let p = num_pe as f64;
    let bw = noc_bw as f64;
    let cells = |x: i64| if x == 0 { 1.0 } else { x as f64 };
    let bus = 14.662 * p + 28.895;
    let arb = 1.2886 * p * p + 5.5814 * p - 23.711;
    let area = p * (283.0 + 0.104 * cells(l1)) + 0.104 * cells(l2) + 101.7938 * bus * bw + (395.473 * arb).max(395.473);
    let power = p * (1.2223 + 0.00345 * cells(l1))
        + 0.00345 * cells(l2)
        + 0.8 * bus / 1000.0 * bw
        + (0.34 * arb / 1000.0).max(0.34);
    (area, power)
}

/// Energy in nJ with MAESTRO's constants, summed term by term in MAESTRO's order (spec §3.1):
/// the order decides the last printed digit on rounding ties. [`EnergyModel::energy_nj`] with
/// another table gives other technologies' energies.
pub fn energy_nj(m: &Metrics, num_levels: usize) -> f64 {
    EnergyModel::MAESTRO.energy_nj(m, num_levels)
}

/// 32-bit wrap, read back as signed (MAESTRO stores buffer sizes in C++ `int`).
pub fn wrap32(x: i64) -> i64 {
    x as i32 as i64
}

/// L1 requirement: twice the innermost level's per-PE footprint (closed form, spec §2.7).
pub fn l1_size(tabs: &MappingTables) -> i64 {
    let t = tabs.innermost();
    let mut sum = 0i64;
    for tens in 0..3 {
        let mut p = 1i64;
        for j in 0..t.nd {
            if t.coupled[tens] & (1 << j) != 0 {
                p = p.wrapping_mul(t.size[j]);
            }
        }
        sum = sum.wrapping_add(p);
    }
    wrap32(sum.wrapping_mul(2))
}

/// The integer part of an evaluation: what the GPU must reproduce exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawResult {
    pub top: TopResult,
    pub l1: i64,
    pub l2: i64,
}

/// Evaluates the integer model; `Err` on a MAESTRO crash or an input outside MAESTRO's domain.
pub fn evaluate_raw(layer: &Layer, genome: &Genome, hw: &Hardware) -> Result<(RawResult, usize), Failure> {
    evaluate_raw_with(layer, genome, hw, false)
}

/// [`evaluate_raw`], optionally enumerating every case instead of using the closed forms (the
/// two must agree; tests check it).
pub fn evaluate_raw_with(
    layer: &Layer,
    genome: &Genome,
    hw: &Hardware,
    enumerate_only: bool,
) -> Result<(RawResult, usize), Failure> {
    evaluate_raw_levels(layer, &genome.levels, hw, enumerate_only)
}

/// [`evaluate_raw_with`] on a slice of cluster levels. Validates the inputs first
/// ([`validate_input`]), so no value can index out of range or divide by zero.
pub fn evaluate_raw_levels(
    layer: &Layer,
    levels: &[Level],
    hw: &Hardware,
    enumerate_only: bool,
) -> Result<(RawResult, usize), Failure> {
    validate_input(layer, levels, hw).map_err(Failure::Invalid)?;
    let shape = layer.shape();
    let mut tabs = MappingTables::empty(&shape);
    tabs.fill(&shape, levels, hw.num_pe).map_err(|_| Crash::ClusterProduct)?;
    let mut ev = Evaluator::new(&tabs, hw.noc_bw_eff(), hw.offchip_bw_eff());
    ev.enumerate_only = enumerate_only;
    let top = ev.run_top()?;
    let l2 = wrap32(2i64.wrapping_mul(top.in_i0.wrapping_add(top.in_w0).wrapping_add(top.eg0)));
    Ok((RawResult { top, l1: l1_size(&tabs), l2 }, tabs.num_levels))
}

/// Builds the full metrics from the integer model's result with MAESTRO's energy table.
pub fn finish(layer: &Layer, hw: &Hardware, raw: &RawResult, num_levels: usize) -> Evaluation {
    finish_with(layer, hw, raw, num_levels, &EnergyModel::MAESTRO)
}

/// Builds the full metrics from the integer model's result, energy from `energy` (shared by both
/// backends, so the floating-point outputs are computed identically). The table changes
/// `energy_nJ` only.
pub fn finish_with(
    layer: &Layer,
    hw: &Hardware,
    raw: &RawResult,
    num_levels: usize,
    energy: &EnergyModel,
) -> Evaluation {
    let sh = layer.shape();
    let [k, c, y, x, r, s] = sh.dims;
    let (yo, xo) = (sh.y_out(), sh.x_out());
    let (w_wr, o_rd) = if sh.depthwise { (c * r * s, c * yo * xo) } else { (k * c * r * s, k * yo * xo) };
    let t = &raw.top;
    let mut m = Metrics {
        runtime_cycles: t.runtime,
        num_macs: t.macs,
        l1_size_req: raw.l1,
        l2_size_req: raw.l2,
        l1_input_read: t.macs,
        l1_input_write: t.l2_read_i,
        l1_weight_read: t.macs,
        l1_weight_write: t.l2_read_w,
        l1_output_read: t.macs,
        l1_output_write: t.macs,
        l2_input_read: t.l2_read_i,
        l2_input_write: c * y * x,
        l2_weight_read: t.l2_read_w,
        l2_weight_write: w_wr,
        l2_output_read: o_rd,
        l2_output_write: t.l2_write_o,
        ..Metrics::default()
    };
    m.throughput = t.macs as f64 / t.runtime as f64;
    m.energy_nj = energy.energy_nj(&m, num_levels);
    let (a, p) = area_power(hw.num_pe, hw.noc_bw_eff(), raw.l1, raw.l2);
    m.area = a;
    m.power = p;
    let expected_macs = sh.true_macs();
    let valid = m.l1_size_req <= hw.l1_cap()
        && m.l2_size_req <= hw.l2_cap()
        && m.runtime_cycles >= 1
        && m.l1_size_req >= 1
        && m.l2_size_req >= 1;
    let valid_physical =
        valid && m.num_macs == expected_macs && (m.num_macs as i128) <= hw.num_pe as i128 * m.runtime_cycles as i128;
    Evaluation { metrics: Some(m), crash: None, valid, valid_physical, expected_macs, invalid: None }
}

/// Evaluates one mapping on the CPU reference model (MAESTRO's energy table).
pub fn evaluate(layer: &Layer, genome: &Genome, hw: &Hardware) -> Evaluation {
    evaluate_with(layer, genome, hw, &EnergyModel::MAESTRO)
}

/// [`evaluate`] with energy from `energy`.
pub fn evaluate_with(layer: &Layer, genome: &Genome, hw: &Hardware, energy: &EnergyModel) -> Evaluation {
    match evaluate_raw(layer, genome, hw) {
        Ok((raw, nl)) => finish_with(layer, hw, &raw, nl, energy),
        Err(f) => Evaluation::failed(f, layer.shape().true_macs()),
    }
}

/// A genome's L1 requirement on a layer, straight from its innermost tiles (the closed form of
/// `l1_size`, needing no PE count): used to size and repair designs before evaluation.
pub fn l1_requirement(layer: &Layer, genome: &Genome) -> i64 {
    l1_requirement_levels(layer, &genome.levels)
}

/// [`l1_requirement`] on a slice of cluster levels (0 for none).
pub fn l1_requirement_levels(layer: &Layer, levels: &[Level]) -> i64 {
    let sh = layer.shape();
    let Some(lv) = levels.last() else { return 0 };
    let t = |d: Dim| lv.tile(d);
    let (y, x) = (t(Dim::Y).wrapping_add(t(Dim::R)) - 1, t(Dim::X).wrapping_add(t(Dim::S)) - 1);
    let (k, c, r, s) = (t(Dim::K), t(Dim::C), t(Dim::R), t(Dim::S));
    // Wrapping like MAESTRO's int arithmetic (tiles are user values up to 2^31-1).
    let m = |a: i64, b: i64| a.wrapping_mul(b);
    let sum = if sh.depthwise {
        m(m(c, y), x).wrapping_add(m(m(c, r), s)).wrapping_add(m(m(c, y), x))
    } else {
        m(m(c, y), x).wrapping_add(m(m(m(k, c), r), s)).wrapping_add(m(m(k, y), x))
    };
    wrap32(sum.wrapping_mul(2))
}

/// The L2 requirement a full evaluation of `levels` reports when it completes, from the top
/// level's tables and first case alone ([`l2_requirement`]); None where the mapping cannot be
/// set up or that case fails (the evaluation fails too). Inputs must pass [`validate_input`].
pub fn l2_requirement_levels(layer: &Layer, levels: &[Level], num_pe: i64) -> Option<i64> {
    let top = levels.first()?;
    // The top level's tables depend on the inner levels only through its sub-cluster count
    // PEs / Π inner cluster sizes, so filling the top level alone with that many PEs gives the
    // same tables (and the same set-up failure: no such count).
    let u = levels[1..].iter().try_fold(1i64, |p, l| p.checked_mul(l.size))?;
    if u < 1 || u > num_pe {
        return None;
    }
    let shape = layer.shape();
    let mut tabs = MappingTables::empty(&shape);
    tabs.fill(&shape, std::slice::from_ref(top), num_pe / u).ok()?;
    l2_requirement(&tabs).ok()
}
