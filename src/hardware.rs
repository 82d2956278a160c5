//! Accelerator configuration: PE count, buffer caps and bandwidths, as GAMMA passes them to MAESTRO.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// What GAMMA uses for "unlimited": a non-positive cap or bandwidth becomes 2^30.
pub const UNLIMITED: i64 = 1 << 30;

/// A fixed accelerator. Caps are in elements ("bytes" in MAESTRO's CSV, which has no word size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hardware {
    pub num_pe: i64,
    /// L1 (per PE) cap; ≤ 0 means unlimited.
    pub l1_size: i64,
    /// L2 (global buffer) cap; ≤ 0 means unlimited.
    pub l2_size: i64,
    /// NoC bandwidth, elements/cycle; ≤ 0 means unlimited.
    pub noc_bw: i64,
    /// Off-chip bandwidth, elements/cycle; ≤ 0 means unlimited.
    pub offchip_bw: i64,
}

impl Default for Hardware {
    /// GAMMA's default: 1024 PEs, everything else unlimited.
    fn default() -> Self {
        Hardware { num_pe: 1024, l1_size: -1, l2_size: -1, noc_bw: -1, offchip_bw: -1 }
    }
}

fn cap(v: i64) -> i64 {
    if v <= 0 {
        UNLIMITED
    } else {
        v
    }
}

impl Hardware {
    pub fn l1_cap(&self) -> i64 {
        cap(self.l1_size)
    }
    pub fn l2_cap(&self) -> i64 {
        cap(self.l2_size)
    }
    pub fn noc_bw_eff(&self) -> i64 {
        cap(self.noc_bw)
    }
    pub fn offchip_bw_eff(&self) -> i64 {
        cap(self.offchip_bw)
    }
}

/// Largest PE count accepted; far above any real design, and keeps per-PE products in range.
pub const MAX_NUM_PE: i64 = 1 << 24;
/// MAESTRO reads every hardware parameter as a C++ `int`.
pub const MAX_HW_VALUE: i64 = i32::MAX as i64;

/// A hardware configuration file could not be read or is invalid.
#[derive(thiserror::Error, Debug)]
pub enum HardwareError {
    #[error("{path}: cannot read {what}: {source}")]
    Io {
        path: String,
        /// What the file was to hold (`hardware config`, `area model (not gamma or maestro)`).
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// `field` is absent only for syntax errors that are not about one key.
    #[error("{file} line {line}{}: {message}", field.as_ref().map(|f| format!(", field {f}")).unwrap_or_default())]
    Invalid { file: String, line: usize, field: Option<String>, message: String },
}

/// The five parameters, in the order of [`Hardware`]'s fields, with their canonical field names.
const FIELDS: [&str; 5] = ["num_pe", "l1_size", "l2_size", "noc_bw", "offchip_bw"];

fn field_mut(hw: &mut Hardware, i: usize) -> &mut i64 {
    match i {
        0 => &mut hw.num_pe,
        1 => &mut hw.l1_size,
        2 => &mut hw.l2_size,
        3 => &mut hw.noc_bw,
        _ => &mut hw.offchip_bw,
    }
}

/// Range check of one parameter; shared by [`Hardware::validate`] and the file parsers so that
/// file errors can point at the line that set the value.
fn check_value(i: usize, name: &str, v: i64) -> Result<(), String> {
    if i == 0 && !(1..=MAX_NUM_PE).contains(&v) {
        return Err(format!("{name} must be between 1 and {MAX_NUM_PE}, got {v}"));
    }
    if v > MAX_HW_VALUE {
        return Err(format!("{name} = {v} exceeds {MAX_HW_VALUE} (MAESTRO reads it as a 32-bit int)"));
    }
    Ok(())
}

impl Hardware {
    /// Checks the ranges MAESTRO and the cost model accept. Non-positive caps and bandwidths are
    /// valid: they mean unlimited.
    pub fn validate(&self) -> Result<(), FieldError> {
        let values = [self.num_pe, self.l1_size, self.l2_size, self.noc_bw, self.offchip_bw];
        values.iter().enumerate().try_for_each(|(i, &v)| {
            check_value(i, FIELDS[i], v).map_err(|message| FieldError { field: FIELDS[i], message })
        })
    }

    /// [`Hardware::validate`] naming the first out-of-range field and its value (no allocation).
    pub fn invalid_field(&self) -> Option<(&'static str, i64)> {
        let values = [self.num_pe, self.l1_size, self.l2_size, self.noc_bw, self.offchip_bw];
        (0..5).find(|&i| check_value(i, FIELDS[i], values[i]).is_err()).map(|i| (FIELDS[i], values[i]))
    }
}

/// Checks that a fixed inner cluster size `z` leaves room for the shallowest genomes: with
/// `slevel_min` levels their cluster product is `z^(slevel_min-1)`, which must not exceed the
/// PEs (checked; past 64 bits it certainly does). Every genome would be MAESTRO's SIGFPE crash
/// otherwise, and the search would find nothing.
pub fn check_fixed_cluster(z: i64, slevel_min: usize, num_pe: i64) -> Result<(), FieldError> {
    let err = |message| FieldError { field: "fixed_cluster", message };
    if z < 1 {
        return Err(err(format!("fixed cluster size must be positive, got {z}")));
    }
    let inner = u32::try_from(slevel_min.saturating_sub(1)).unwrap_or(u32::MAX);
    match z.checked_pow(inner) {
        Some(p) if p <= num_pe => Ok(()),
        p => Err(err(format!(
            "fixed cluster size {z} over {inner} inner level(s) needs {} PEs, but the accelerator has {num_pe}",
            p.map(|p| p.to_string()).unwrap_or_else(|| "more than 2^63".into())
        ))),
    }
}

/// Maps a GAMMA/MAESTRO key to a field index. Keys compare case-insensitively with `_` ignored,
/// and MAESTRO's own hardware-file spellings (`num_pes`, `l1_size_cstr`, ...) are accepted too.
fn gamma_key(key: &str) -> Option<usize> {
    let k: String = key.chars().filter(|&c| c != '_').collect::<String>().to_ascii_lowercase();
    match k.strip_suffix("cstr").unwrap_or(&k) {
        "numpes" | "numpe" => Some(0),
        "l1size" => Some(1),
        "l2size" => Some(2),
        "nocbw" => Some(3),
        "offchipbw" => Some(4),
        _ => None,
    }
}

/// Parses GAMMA's hardware text format: `Key: value` lines (`NumPEs`, `L1Size`, `L2Size`,
/// `NoC_BW`, `OffChip_BW`), with blank lines and `//` or `#` comments. Missing keys keep
/// [`Hardware::default`]'s values; a file that sets none is refused. `source` names the file in
/// error messages.
pub fn parse_gamma_hwconfig(text: &str, source: &str) -> Result<Hardware, HardwareError> {
    let err = |line: usize, field: Option<&str>, message: String| HardwareError::Invalid {
        file: source.to_string(),
        line,
        field: field.map(str::to_string),
        message,
    };
    let mut hw = Hardware::default();
    let mut seen = [None::<usize>; 5];
    // Any line end (LF, CRLF, CR-only from old editors) ends a line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).replace("\r\n", "\n").replace('\r', "\n");
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let content = raw.split("//").next().unwrap_or("");
        let content = content.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let Some((key, value)) = content.split_once(':').or_else(|| content.split_once('=')) else {
            return Err(err(line, None, format!("expected `Key: value`, got {content:?}")));
        };
        let key = key.trim();
        let value = value.trim().trim_end_matches(';').trim();
        let Some(i) = gamma_key(key) else {
            return Err(err(
                line,
                Some(key),
                format!("unknown key {key:?} (expected NumPEs, L1Size, L2Size, NoC_BW or OffChip_BW)"),
            ));
        };
        if let Some(prev) = seen[i] {
            return Err(err(line, Some(key), format!("{key} is already set on line {prev}")));
        }
        seen[i] = Some(line);
        let v: i64 = value.parse().map_err(|_| {
            err(line, Some(key), format!("{key} must be an integer, got {:?}", crate::schema::truncate(value, 60)))
        })?;
        check_value(i, key, v).map_err(|m| err(line, Some(key), m))?;
        *field_mut(&mut hw, i) = v;
    }
    if seen.iter().all(Option::is_none) {
        return Err(err(text.lines().count().max(1), None, no_settings(&GAMMA_FIELDS)));
    }
    Ok(hw)
}

/// GAMMA's spelling of [`FIELDS`], in the same order.
const GAMMA_FIELDS: [&str; 5] = ["NumPEs", "L1Size", "L2Size", "NoC_BW", "OffChip_BW"];

/// An accelerator file that sets nothing is refused: it is far more often a wrong or truncated
/// file than a wish for the defaults, which running without `--hwconfig` gives anyway.
fn no_settings(names: &[&str]) -> String {
    format!(
        "the file sets no accelerator parameter (expected at least one of {}); run without a hardware file for the defaults",
        names.join(", ")
    )
}

/// Parses the TOML form: top-level integer keys `num_pe`, `l1_size`, `l2_size`, `noc_bw`,
/// `offchip_bw`. Missing keys keep the defaults (a file that sets none is refused); unknown keys
/// are rejected so that a typo cannot silently leave a parameter unlimited.
pub fn parse_hardware_toml(text: &str, source: &str) -> Result<Hardware, HardwareError> {
    let err = |line: usize, field: Option<&str>, message: String| HardwareError::Invalid {
        file: source.to_string(),
        line,
        field: field.map(str::to_string),
        message,
    };
    // The span-preserving table is what lets errors name the line of the offending key.
    let keys = crate::schema::toml_keys(text).map_err(|(line, msg)| err(line, None, msg))?;
    let mut hw = Hardware::default();
    for (name, line, value) in &keys {
        let (name, line) = (name.as_str(), *line);
        let Some(i) = FIELDS.iter().position(|f| *f == name) else {
            return Err(err(line, Some(name), crate::schema::unknown_field(name, &FIELDS)));
        };
        let Some(int) = value.as_integer() else {
            let ty = value.type_str();
            return Err(err(line, Some(name), format!("{name} must be an integer (found {ty})")));
        };
        // as_str() is documented as from_str_radix-compatible (prefix and `_` already removed).
        let v = i64::from_str_radix(int.as_str(), int.radix())
            .map_err(|_| err(line, Some(name), format!("{name} = {} is out of range", int.as_str())))?;
        check_value(i, name, v).map_err(|m| err(line, Some(name), m))?;
        *field_mut(&mut hw, i) = v;
    }
    if keys.is_empty() {
        return Err(err(text.lines().count().max(1), None, no_settings(&FIELDS)));
    }
    Ok(hw)
}

/// Loads a hardware file: `.toml` files as TOML, anything else (GAMMA uses `.m`) as GAMMA text.
pub fn load_hwconfig(path: &std::path::Path) -> Result<Hardware, HardwareError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| HardwareError::Io {
        path: shown.clone(),
        what: "hardware config",
        source,
    })?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml")) {
        parse_hardware_toml(&text, &shown)
    } else {
        parse_gamma_hwconfig(&text, &shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn assert_locates(e: &HardwareError, file: &str, line: usize, field: Option<&str>) {
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("{file} line {line}")), "{msg}");
        if let Some(f) = field {
            assert!(msg.contains(&format!("field {f}:")), "{msg}");
        }
    }

    #[test]
    fn gamma_text_format() {
        let text = "// accelerator\nNumPEs: 168\n\nL1Size: 512   # per PE\nL2Size: 108000\nNoC_BW: 81920000\n";
        let hw = parse_gamma_hwconfig(text, "hw.m").unwrap();
        assert_eq!(hw, Hardware { num_pe: 168, l1_size: 512, l2_size: 108000, noc_bw: 81920000, offchip_bw: -1 });
        let hw = parse_gamma_hwconfig("numpes:64\noffchip_bw : 50\nl2_size_cstr: 3000", "hw.m").unwrap();
        assert_eq!((hw.num_pe, hw.offchip_bw, hw.l2_size, hw.l1_size), (64, 50, 3000, -1));
        // A file that sets nothing is refused (both forms), naming the file.
        for text in ["", "# only a comment\n\n# and another\n"] {
            let e = parse_gamma_hwconfig(text, "hw.m").unwrap_err();
            assert!(e.to_string().starts_with("hw.m line ") && e.to_string().contains("sets no accelerator"), "{e}");
            let e = parse_hardware_toml(text, "hw.toml").unwrap_err();
            assert!(e.to_string().starts_with("hw.toml line ") && e.to_string().contains("num_pe"), "{e}");
        }
    }

    #[test]
    fn gamma_text_errors() {
        let e = parse_gamma_hwconfig("NumPEs: 168\nL1Size: 5x\n", "hw.m").unwrap_err();
        assert_locates(&e, "hw.m", 2, Some("L1Size"));
        let e = parse_gamma_hwconfig("NumPEs: 168\n\nL3Size: 5\n", "hw.m").unwrap_err();
        assert_locates(&e, "hw.m", 3, Some("L3Size"));
        let e = parse_gamma_hwconfig("NumPEs 168\n", "hw.m").unwrap_err();
        assert_locates(&e, "hw.m", 1, None);
        let e = parse_gamma_hwconfig("NumPEs: 0\n", "hw.m").unwrap_err();
        assert_locates(&e, "hw.m", 1, Some("NumPEs"));
        let e = parse_gamma_hwconfig("L2Size: 4294967296\n", "hw.m").unwrap_err();
        assert_locates(&e, "hw.m", 1, Some("L2Size"));
        let e = parse_gamma_hwconfig("NumPEs: 1\nnumpes: 2\n", "hw.m").unwrap_err();
        assert_locates(&e, "hw.m", 2, Some("numpes"));
    }

    #[test]
    fn toml_format() {
        let text = "# cloud\nnum_pe = 1_024\nl2_size = 0x100\nnoc_bw = -1\n";
        let hw = parse_hardware_toml(text, "hw.toml").unwrap();
        assert_eq!(hw, Hardware { num_pe: 1024, l1_size: -1, l2_size: 256, noc_bw: -1, offchip_bw: -1 });
    }

    #[test]
    fn toml_errors() {
        let e = parse_hardware_toml("num_pe = 4\nl1size = 5\n", "hw.toml").unwrap_err();
        assert_locates(&e, "hw.toml", 2, Some("l1size"));
        let e = parse_hardware_toml("num_pe = 4\n\nl1_size = \"big\"\n", "hw.toml").unwrap_err();
        assert_locates(&e, "hw.toml", 3, Some("l1_size"));
        let e = parse_hardware_toml("num_pe = 4.0\n", "hw.toml").unwrap_err();
        assert_locates(&e, "hw.toml", 1, Some("num_pe"));
        let e = parse_hardware_toml("num_pe = 16777217\n", "hw.toml").unwrap_err();
        assert_locates(&e, "hw.toml", 1, Some("num_pe"));
        let e = parse_hardware_toml("num_pe = 4\nnoc_bw = 2147483648\n", "hw.toml").unwrap_err();
        assert_locates(&e, "hw.toml", 2, Some("noc_bw"));
        let e = parse_hardware_toml("num_pe = 4\nl2_size = \n", "hw.toml").unwrap_err();
        assert_locates(&e, "hw.toml", 2, None);
        let e = parse_hardware_toml("zz = 1\naa = 2\n", "hw.toml").unwrap_err();
        assert_locates(&e, "hw.toml", 1, Some("zz"));
        let e = parse_hardware_toml("[hw]\nnum_pe = 4\n", "hw.toml").unwrap_err();
        assert_locates(&e, "hw.toml", 1, Some("hw"));
    }

    #[test]
    fn validate_ranges() {
        assert!(Hardware::default().validate().is_ok());
        let ok = Hardware { num_pe: MAX_NUM_PE, l1_size: MAX_HW_VALUE, l2_size: i64::MIN, noc_bw: 0, offchip_bw: -5 };
        assert!(ok.validate().is_ok());
        assert!(Hardware { num_pe: 0, ..ok }.validate().unwrap_err().message.contains("num_pe"));
        assert!(Hardware { num_pe: MAX_NUM_PE + 1, ..ok }.validate().is_err());
        assert!(Hardware { offchip_bw: MAX_HW_VALUE + 1, ..ok }.validate().unwrap_err().message.contains("offchip_bw"));
    }

    #[test]
    fn shipped_files_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/hw");
        let g = load_hwconfig(&root.join("gamma_example.m")).unwrap();
        assert_eq!(g, Hardware { num_pe: 168, l1_size: 512, l2_size: 108000, noc_bw: 81920000, offchip_bw: -1 });
        let c = load_hwconfig(&root.join("cloud.toml")).unwrap();
        assert_eq!(c, Hardware::default());
        let e = load_hwconfig(&root.join("missing.m")).unwrap_err();
        assert!(matches!(e, HardwareError::Io { .. }) && e.to_string().contains("missing.m"));
    }
}

/// How a design's area is estimated (um^2). Buffer sizes are in elements ("bytes" in MAESTRO).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum AreaModel {
    /// `pe_um2` per PE plus `bit_um2` per buffer bit of `L1 · PEs + L2`, at `word_bits` bits per
    /// element. GAMMA's external model is 282, 0.086 and 8 ([`AreaModel::GAMMA`]).
    Table { pe_um2: f64, bit_um2: f64, word_bits: f64 },
    /// MAESTRO's own area (dominated by the NoC bus term; spec Q11).
    Maestro,
}

/// A design's area split by component (um^2); `l1` covers every PE's L1.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct AreaBreakdown {
    pub total: f64,
    pub pe: f64,
    pub l1: f64,
    pub l2: f64,
}

impl AreaModel {
    pub const GAMMA: AreaModel = AreaModel::Table { pe_um2: 282.0, bit_um2: 0.086, word_bits: 8.0 };

    /// Area of `num_pe` PEs with L1 and L2 requirements `l1`, `l2`; `maestro_area` is MAESTRO's
    /// figure for the same design (used by [`AreaModel::Maestro`]).
    pub fn breakdown(&self, num_pe: i64, l1: i64, l2: i64, maestro_area: f64) -> AreaBreakdown {
        match *self {
            AreaModel::Table { pe_um2, bit_um2, word_bits } => {
                let per_bit = bit_um2 * word_bits;
                // Same operation order as GAMMA's external model, so the default reproduces it.
                let total = num_pe as f64 * pe_um2 + ((l1 * num_pe + l2) as f64) * bit_um2 * word_bits;
                AreaBreakdown {
                    total,
                    pe: num_pe as f64 * pe_um2,
                    l1: (l1 * num_pe) as f64 * per_bit,
                    l2: l2 as f64 * per_bit,
                }
            }
            AreaModel::Maestro => AreaBreakdown { total: maestro_area, ..AreaBreakdown::default() },
        }
    }

    /// The largest PE count whose PEs and L1s alone fit in `budget_um2` (L2 excluded, so this is
    /// an upper bound used to repair designs before evaluation). None for MAESTRO's model.
    pub fn max_pe_within(&self, budget_um2: f64, l1: i64) -> Option<i64> {
        match *self {
            AreaModel::Table { pe_um2, bit_um2, word_bits } => {
                let per_pe = pe_um2 + l1.max(0) as f64 * bit_um2 * word_bits;
                Some((budget_um2 / per_pe).floor().max(0.0) as i64)
            }
            AreaModel::Maestro => None,
        }
    }

    /// `gamma`, `maestro`, or a TOML file: `kind = "table"`, `pe_um2`, `bit_um2`, `word_bits`.
    pub fn resolve(spec: &str) -> Result<AreaModel, HardwareError> {
        match spec.to_ascii_lowercase().as_str() {
            "gamma" => return Ok(AreaModel::GAMMA),
            "maestro" => return Ok(AreaModel::Maestro),
            _ => {}
        }
        let text = std::fs::read_to_string(spec).map_err(|e| HardwareError::Io {
            path: spec.to_string(),
            what: "area model (not gamma or maestro, nor a readable TOML file)",
            source: e,
        })?;
        parse_area_model(&text, spec)
    }
}

/// Keys of an area-model file.
const AREA_FIELDS: [&str; 4] = ["kind", "pe_um2", "bit_um2", "word_bits"];

/// Parses an area-model TOML file (`kind = "table"` with `pe_um2`, `bit_um2`, `word_bits`, or
/// `kind = "maestro"`). Every error names the line and the key: unknown keys (with the closest
/// known one), missing or non-numeric values, and values no technology has (negative or
/// non-finite areas, a word of 0 bits or more than 1024).
pub fn parse_area_model(text: &str, source: &str) -> Result<AreaModel, HardwareError> {
    let err = |line: usize, field: Option<&str>, message: String| HardwareError::Invalid {
        file: source.to_string(),
        line,
        field: field.map(str::to_string),
        message,
    };
    let keys = crate::schema::toml_keys(text).map_err(|(line, msg)| err(line, None, msg))?;
    let mut kind = None;
    let mut nums: [Option<f64>; 3] = [None; 3];
    for (name, line, v) in &keys {
        let (name, line) = (name.as_str(), *line);
        let Some(i) = AREA_FIELDS.iter().position(|f| *f == name) else {
            return Err(err(line, Some(name), crate::schema::unknown_field(name, &AREA_FIELDS)));
        };
        if i == 0 {
            let Some(k) = v.as_str() else {
                return Err(err(
                    line,
                    Some(name),
                    format!("kind must be a string, \"table\" or \"maestro\" (found {})", v.type_str()),
                ));
            };
            kind = Some((k.to_ascii_lowercase(), line));
            continue;
        }
        let Some(x) = crate::schema::toml_number(v) else {
            return Err(err(line, Some(name), format!("{name} must be a number (found {})", v.type_str())));
        };
        // A PE has area (at zero any PE count fits every budget); free buffers are a valid model.
        let ok = match i {
            3 => (1.0..=1024.0).contains(&x) && x.fract() == 0.0,
            1 => x.is_finite() && x > 0.0,
            _ => x.is_finite() && x >= 0.0,
        };
        if !ok {
            let want = match i {
                3 => "a whole number of bits from 1 to 1024",
                1 => "a finite, positive number (a PE has area)",
                _ => "a finite, non-negative number",
            };
            return Err(err(line, Some(name), format!("{name} must be {want}, got {x}")));
        }
        nums[i - 1] = Some(x);
    }
    match kind {
        None => Err(err(1, Some("kind"), "missing kind (\"table\" or \"maestro\")".into())),
        Some((k, line)) if k == "maestro" => match AREA_FIELDS[1..].iter().zip(&nums).find(|(_, v)| v.is_some()) {
            Some((f, _)) => Err(err(line, Some(f), format!("{f} is not used by kind = \"maestro\""))),
            None => Ok(AreaModel::Maestro),
        },
        Some((k, _)) if k == "table" => match AREA_FIELDS[1..].iter().zip(&nums).find(|(_, v)| v.is_none()) {
            Some((f, _)) => Err(err(1, Some(f), format!("kind = \"table\" needs {f}"))),
            None => Ok(AreaModel::Table {
                pe_um2: nums[0].unwrap_or_default(),
                bit_um2: nums[1].unwrap_or_default(),
                word_bits: nums[2].unwrap_or_default(),
            }),
        },
        Some((k, line)) => {
            Err(err(line, Some("kind"), format!("unknown kind {k:?} (expected \"table\" or \"maestro\")")))
        }
    }
}

#[cfg(test)]
mod area_tests {
    use super::*;

    #[test]
    fn gamma_area_matches_its_formula_and_breakdown_adds_up() {
        let b = AreaModel::GAMMA.breakdown(168, 54, 848384, 0.0);
        assert_eq!(b.total, 168.0 * 282.0 + ((54 * 168 + 848384) as f64) * 0.086 * 8.0);
        assert!((b.pe + b.l1 + b.l2 - b.total).abs() < 1e-6 * b.total);
        // 1 mm^2 holds 3546 bare PEs at 282 um^2; with 54-element L1s each costs 319.152 um^2.
        assert_eq!(AreaModel::GAMMA.max_pe_within(1e6, 0), Some(3546));
        assert_eq!(AreaModel::GAMMA.max_pe_within(1e6, 54), Some(3133));
    }

    #[test]
    fn area_tables_load_and_reject_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tech.toml");
        std::fs::write(&p, "kind = \"table\"\npe_um2 = 100.0\nbit_um2 = 0.05\nword_bits = 16.0\n").unwrap();
        assert_eq!(
            AreaModel::resolve(p.to_str().unwrap()).unwrap(),
            AreaModel::Table { pe_um2: 100.0, bit_um2: 0.05, word_bits: 16.0 }
        );
        std::fs::write(&p, "kind = \"table\"\npe_um2 = -1.0\nbit_um2 = 0.05\nword_bits = 16.0\n").unwrap();
        let e = AreaModel::resolve(p.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("tech.toml") && e.contains("pe_um2"), "{e}");
        std::fs::write(&p, "kind = \"table\"\npe_um2 = 1.0\nbits = 3\n").unwrap();
        assert!(AreaModel::resolve(p.to_str().unwrap()).unwrap_err().to_string().contains("tech.toml"));
        assert_eq!(AreaModel::resolve("maestro").unwrap(), AreaModel::Maestro);
    }

    #[test]
    fn area_model_errors_name_line_and_field() {
        let parse = |t: &str| parse_area_model(t, "a.toml");
        let locate = |t: &str, line: usize, field: &str| {
            let e = parse(t).unwrap_err().to_string();
            assert!(e.contains(&format!("a.toml line {line}, field {field}")), "{t:?}: {e}");
            e
        };
        locate("kind = \"table\"\npe_um2 = 1.0\nbit_um2 = 0.1\nword_bits = 0\n", 4, "word_bits");
        locate("kind = \"table\"\npe_um2 = 1.0\nbit_um2 = 0.1\nword_bits = 8.5\n", 4, "word_bits");
        locate("kind = \"table\"\n\n\npe_um2 = nan\nbit_um2 = 0.1\nword_bits = 8\n", 4, "pe_um2");
        // Zero-area PEs would let any PE count fit every budget; zero-area buffers are allowed.
        let e = locate("kind = \"table\"\npe_um2 = 0\nbit_um2 = 0.1\nword_bits = 8\n", 2, "pe_um2");
        assert!(e.contains("positive"), "{e}");
        assert!(parse("kind = \"table\"\npe_um2 = 1\nbit_um2 = 0\nword_bits = 8\n").is_ok());
        let e = locate("kind = \"table\"\npe_um2 = 1.0\nbit_um = 0.1\nword_bits = 8\n", 3, "bit_um");
        assert!(e.contains("did you mean \"bit_um2\""), "{e}");
        locate("kind = \"table\"\npe_um2 = 1.0\nword_bits = 8\n", 1, "bit_um2");
        locate("# c\nkind = \"tabel\"\n", 2, "kind");
        locate("kind = \"maestro\"\npe_um2 = 1.0\n", 1, "pe_um2");
        // A syntax error names its own line, not line 1.
        let e = parse("kind = \"table\"\npe_um2 = 1.0\nbit_um2 = = 0.1\n").unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
        assert_eq!(
            parse("kind = \"table\"\npe_um2 = 282\nbit_um2 = 0.086\nword_bits = 8\n").unwrap(),
            AreaModel::GAMMA
        );
    }
}
