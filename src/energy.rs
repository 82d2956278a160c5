//! Energy tables: what one buffer access and one MAC cost, and how the counts are summed.
//!
//! A table gives an energy per access for each of the twelve L1/L2 read/write counts the cost
//! model reports (per tensor: input, weight, output), an energy per MAC and a `scale` that turns
//! the table's unit into nJ:
//!
//! ```text
//! energy_nJ = scale × ( Σ L2 count × its energy  +  [Σ L1 count × its energy]  +  MACs × mac )
//! ```
//!
//! The L1 sum is included for every mapping with `l1_counted = "always"`, and only for mappings
//! with one cluster level with `l1_counted = "one-level"`, which is MAESTRO's behaviour (its L1
//! counters are still 0 when the energy of a multi-level mapping is summed; spec §3.1, Q1).
//!
//! [`EnergyModel::MAESTRO`], the default, is MAESTRO's own table: 18.61 per L2 access (no term for
//! L2 reads of outputs), 1.68 per L1 access, one-level mappings only, no MAC term, scale 0.00023
//! (MAESTRO's `mac_energy`, in nJ, by which it multiplies the sum). The terms are added one by one
//! in MAESTRO's order, so the default reproduces MAESTRO's energies bit for bit; a term whose
//! energy is 0 adds an exact zero.
//!
//! The TOML file has one key per field of [`EnergyModel`] (`data/energy/maestro.toml` is the
//! default written out). Unknown keys are errors naming the closest known key, every energy must
//! be given (0 leaves a count out), and negative, non-finite or absurd values are refused, each
//! with the file, line and key.

use crate::model::Metrics;
use serde::{Deserialize, Serialize};

/// When the L1 counts are part of the energy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum L1Counted {
    /// Only for mappings with one cluster level: MAESTRO's behaviour.
    OneLevel,
    /// For every mapping.
    Always,
}

impl L1Counted {
    pub fn name(self) -> &'static str {
        match self {
            L1Counted::OneLevel => "one-level",
            L1Counted::Always => "always",
        }
    }
}

/// An energy table. Energies are per access (per MAC for `mac`) in the table's own unit;
/// `scale` is nJ per unit (0.001 for a table in pJ). The access keys are the names of the counts
/// in `gammaflow eval`'s output.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyModel {
    pub scale: f64,
    pub mac: f64,
    pub l1_counted: L1Counted,
    pub l1_input_read: f64,
    pub l1_input_write: f64,
    pub l1_weight_read: f64,
    pub l1_weight_write: f64,
    pub l1_output_read: f64,
    pub l1_output_write: f64,
    pub l2_input_read: f64,
    pub l2_input_write: f64,
    pub l2_weight_read: f64,
    pub l2_weight_write: f64,
    pub l2_output_read: f64,
    pub l2_output_write: f64,
}

impl Default for EnergyModel {
    fn default() -> Self {
        EnergyModel::MAESTRO
    }
}

/// MAESTRO's per-access multipliers (`BASE_constants.hpp`) and its `mac_energy` scale.
const MAESTRO_L2: f64 = 18.61;
const MAESTRO_L1: f64 = 1.68;
const MAESTRO_SCALE: f64 = 0.00023;

impl EnergyModel {
    /// MAESTRO's constants, as GAMMA's MAESTRO computes energy (spec §3.1).
    pub const MAESTRO: EnergyModel = EnergyModel {
        scale: MAESTRO_SCALE,
        mac: 0.0,
        l1_counted: L1Counted::OneLevel,
        l1_input_read: MAESTRO_L1,
        l1_input_write: MAESTRO_L1,
        l1_weight_read: MAESTRO_L1,
        l1_weight_write: MAESTRO_L1,
        l1_output_read: MAESTRO_L1,
        l1_output_write: MAESTRO_L1,
        l2_input_read: MAESTRO_L2,
        l2_input_write: MAESTRO_L2,
        l2_weight_read: MAESTRO_L2,
        l2_weight_write: MAESTRO_L2,
        l2_output_read: 0.0,
        l2_output_write: MAESTRO_L2,
    };

    /// Whether this is MAESTRO's table (bit for bit), the default.
    pub fn is_maestro(&self) -> bool {
        *self == EnergyModel::MAESTRO
    }

    /// Energy in nJ of a mapping with `num_levels` cluster levels. Terms are added in MAESTRO's
    /// order (L2 input read, input write, weight read, weight write, output write; then the L2
    /// output reads, which MAESTRO leaves out; then the L1 counts in the order of the struct) and
    /// MACs last, so MAESTRO's
    /// table gives MAESTRO's sum: its extra terms are exact zeros, and the running sum is never
    /// -0.0 (it starts at +0.0 and round-to-nearest turns exact cancellations into +0.0).
    pub fn energy_nj(&self, m: &Metrics, num_levels: usize) -> f64 {
        let mut e = 0.0f64;
        for (count, energy) in self.l2_terms(m) {
            e += count as f64 * energy;
        }
        if self.counts_l1(num_levels) {
            for (count, energy) in self.l1_terms(m) {
                e += count as f64 * energy;
            }
        }
        e += m.num_macs as f64 * self.mac;
        e * self.scale
    }

    /// The energy's L2, L1 and MAC parts in nJ (for charts; their sum equals
    /// [`EnergyModel::energy_nj`] up to the last bit of rounding).
    pub fn parts_nj(&self, m: &Metrics, num_levels: usize) -> [f64; 3] {
        let sum = |terms: &[(i64, f64)]| terms.iter().map(|&(c, e)| c as f64 * e).sum::<f64>() * self.scale;
        let l1 = if self.counts_l1(num_levels) { sum(&self.l1_terms(m)) } else { 0.0 };
        [sum(&self.l2_terms(m)), l1, sum(&[(m.num_macs, self.mac)])]
    }

    fn counts_l1(&self, num_levels: usize) -> bool {
        num_levels == 1 || self.l1_counted == L1Counted::Always
    }

    /// (count, energy per access) of the L2 terms, in MAESTRO's summation order.
    fn l2_terms(&self, m: &Metrics) -> [(i64, f64); 6] {
        [
            (m.l2_input_read, self.l2_input_read),
            (m.l2_input_write, self.l2_input_write),
            (m.l2_weight_read, self.l2_weight_read),
            (m.l2_weight_write, self.l2_weight_write),
            (m.l2_output_write, self.l2_output_write),
            (m.l2_output_read, self.l2_output_read),
        ]
    }

    /// (count, energy per access) of the L1 terms, in MAESTRO's summation order.
    fn l1_terms(&self, m: &Metrics) -> [(i64, f64); 6] {
        [
            (m.l1_input_read, self.l1_input_read),
            (m.l1_input_write, self.l1_input_write),
            (m.l1_weight_read, self.l1_weight_read),
            (m.l1_weight_write, self.l1_weight_write),
            (m.l1_output_read, self.l1_output_read),
            (m.l1_output_write, self.l1_output_write),
        ]
    }

    /// `maestro` (the default table) or a TOML file.
    pub fn resolve(spec: &str) -> Result<EnergyModel, EnergyError> {
        if spec.trim().eq_ignore_ascii_case("maestro") {
            return Ok(EnergyModel::MAESTRO);
        }
        let text =
            std::fs::read_to_string(spec).map_err(|source| EnergyError::Io { path: spec.to_string(), source })?;
        parse_energy_model(&text, spec)
    }

    fn slot(&mut self, key: &str) -> Option<&mut f64> {
        Some(match key {
            "scale" => &mut self.scale,
            "mac" => &mut self.mac,
            "l1_input_read" => &mut self.l1_input_read,
            "l1_input_write" => &mut self.l1_input_write,
            "l1_weight_read" => &mut self.l1_weight_read,
            "l1_weight_write" => &mut self.l1_weight_write,
            "l1_output_read" => &mut self.l1_output_read,
            "l1_output_write" => &mut self.l1_output_write,
            "l2_input_read" => &mut self.l2_input_read,
            "l2_input_write" => &mut self.l2_input_write,
            "l2_weight_read" => &mut self.l2_weight_read,
            "l2_weight_write" => &mut self.l2_weight_write,
            "l2_output_read" => &mut self.l2_output_read,
            "l2_output_write" => &mut self.l2_output_write,
            _ => return None,
        })
    }
}

/// An energy table could not be read or is invalid.
#[derive(thiserror::Error, Debug)]
pub enum EnergyError {
    #[error("{path}: cannot read energy model: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// `field` is absent only for syntax errors that are not about one key.
    #[error("{file} line {line}{}: {message}", field.as_ref().map(|f| format!(", field {f}")).unwrap_or_default())]
    Invalid { file: String, line: usize, field: Option<String>, message: String },
}

/// The keys of an energy table, in the order of [`EnergyModel`]'s fields.
pub const ENERGY_FIELDS: [&str; 15] = [
    "scale",
    "mac",
    "l1_counted",
    "l1_input_read",
    "l1_input_write",
    "l1_weight_read",
    "l1_weight_write",
    "l1_output_read",
    "l1_output_write",
    "l2_input_read",
    "l2_input_write",
    "l2_weight_read",
    "l2_weight_write",
    "l2_output_read",
    "l2_output_write",
];

/// Largest energy or scale accepted: keeps every sum finite (counts stay below 2^63, and
/// 1e100 · 1e100 · 2^63 · 14 is far below f64's range).
pub const MAX_ENERGY_VALUE: f64 = 1e100;

/// Parses an energy-table TOML file. `source` names the file in messages.
pub fn parse_energy_model(text: &str, source: &str) -> Result<EnergyModel, EnergyError> {
    let err = |line: usize, field: Option<&str>, message: String| EnergyError::Invalid {
        file: source.to_string(),
        line,
        field: field.map(str::to_string),
        message,
    };
    // A byte-order mark and CR or CRLF line ends (which TOML itself refuses alone) are fine:
    // Windows and old editors write them, and lines keep their numbers.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let normalised;
    let text = if text.contains('\r') {
        normalised = text.replace("\r\n", "\n").replace('\r', "\n");
        normalised.as_str()
    } else {
        text
    };
    let keys = crate::schema::toml_keys(text).map_err(|(line, msg)| err(line, None, msg))?;
    let mut m = EnergyModel { l1_counted: L1Counted::Always, ..EnergyModel::MAESTRO };
    let mut seen = [false; ENERGY_FIELDS.len()];
    for (name, line, v) in &keys {
        let (name, line) = (name.as_str(), *line);
        let Some(i) = ENERGY_FIELDS.iter().position(|f| *f == name) else {
            return Err(err(line, Some(name), crate::schema::unknown_field(name, &ENERGY_FIELDS)));
        };
        seen[i] = true;
        if name == "l1_counted" {
            m.l1_counted = match v.as_str() {
                Some("one-level") => L1Counted::OneLevel,
                Some("always") => L1Counted::Always,
                _ => {
                    let found = v.as_str().map(|s| format!("{:?}", crate::schema::truncate(s, 40)));
                    return Err(err(
                        line,
                        Some(name),
                        format!(
                            "l1_counted must be \"one-level\" (MAESTRO: L1 counts only for one-level mappings) or \"always\", got {}",
                            found.unwrap_or_else(|| format!("a {}", v.type_str()))
                        ),
                    ));
                }
            };
            continue;
        }
        let Some(x) = crate::schema::toml_number(v) else {
            return Err(err(line, Some(name), format!("{name} must be a number (found {})", v.type_str())));
        };
        let positive_scale = name != "scale" || x > 0.0;
        if !(x.is_finite() && (0.0..=MAX_ENERGY_VALUE).contains(&x) && positive_scale) {
            let want = if name == "scale" { "a positive, finite number" } else { "a finite, non-negative number" };
            return Err(err(line, Some(name), format!("{name} must be {want} of at most 1e100, got {x}")));
        }
        *m.slot(name).expect("every numeric key has a slot") = x;
    }
    // Every energy must be written out: a missing one would silently be taken from MAESTRO's
    // table (or as 0) in a table of another technology and unit.
    if let Some(i) = (0..ENERGY_FIELDS.len()).find(|&i| !seen[i] && ENERGY_FIELDS[i] != "l1_counted") {
        let f = ENERGY_FIELDS[i];
        let hint = if f == "scale" {
            "the nJ per unit of the table (0.001 for pJ)"
        } else {
            "give 0 to leave this count out, as MAESTRO does for l2_output_read"
        };
        return Err(err(1, Some(f), format!("missing {f} ({hint})")));
    }
    Ok(m)
}

/// MAESTRO's table as a TOML file (what `data/energy/maestro.toml` holds).
pub fn maestro_toml() -> String {
    let m = EnergyModel::MAESTRO;
    let mut s = String::from(
        "# MAESTRO's energy constants (gammaflow's default): energy_nJ = scale x (sum of count x energy).\n",
    );
    s += &format!("scale = {:?}\nmac = {:?}\nl1_counted = \"{}\"\n", m.scale, m.mac, m.l1_counted.name());
    let mut probe = m;
    for f in &ENERGY_FIELDS[3..] {
        s += &format!("{f} = {:?}\n", *probe.slot(f).expect("an access key"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// MAESTRO's sum exactly as the model computed it before tables existed (spec §3.1).
    fn maestro_reference(m: &Metrics, num_levels: usize) -> f64 {
        let mut e = 0.0f64;
        for c in [m.l2_input_read, m.l2_input_write, m.l2_weight_read, m.l2_weight_write, m.l2_output_write] {
            e += c as f64 * 18.61;
        }
        if num_levels == 1 {
            for c in [
                m.l1_input_read,
                m.l1_input_write,
                m.l1_weight_read,
                m.l1_weight_write,
                m.l1_output_read,
                m.l1_output_write,
            ] {
                e += c as f64 * 1.68;
            }
        }
        e * 0.00023
    }

    fn random_metrics(rng: &mut impl Rng) -> Metrics {
        // Signed counts (MAESTRO's quirks give negative ones), zeros and large values.
        let mut c = || match rng.random_range(0..4) {
            0 => 0,
            1 => rng.random_range(-1_000_000..1_000_000),
            2 => rng.random_range(0..1i64 << 40),
            _ => rng.random_range(-(1i64 << 52)..1i64 << 52),
        };
        Metrics {
            num_macs: c(),
            l1_input_read: c(),
            l1_input_write: c(),
            l1_weight_read: c(),
            l1_weight_write: c(),
            l1_output_read: c(),
            l1_output_write: c(),
            l2_input_read: c(),
            l2_input_write: c(),
            l2_weight_read: c(),
            l2_weight_write: c(),
            l2_output_read: c(),
            l2_output_write: c(),
            ..Metrics::default()
        }
    }

    #[test]
    fn maestro_table_is_maestros_sum_bit_for_bit() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
        for _ in 0..20_000 {
            let m = random_metrics(&mut rng);
            for levels in 1..=4 {
                let (a, b) = (EnergyModel::MAESTRO.energy_nj(&m, levels), maestro_reference(&m, levels));
                assert_eq!(a.to_bits(), b.to_bits(), "{m:?} at {levels} levels: {a} vs {b}");
            }
        }
        // All-zero counts give +0.0, not -0.0.
        assert_eq!(EnergyModel::MAESTRO.energy_nj(&Metrics::default(), 1).to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn maestro_file_parses_to_the_default() {
        let text = maestro_toml();
        assert_eq!(parse_energy_model(&text, "m.toml").unwrap(), EnergyModel::MAESTRO);
        let shipped =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/energy/maestro.toml")).unwrap();
        assert_eq!(parse_energy_model(&shipped, "maestro.toml").unwrap(), EnergyModel::MAESTRO);
        assert_eq!(EnergyModel::resolve("maestro").unwrap(), EnergyModel::MAESTRO);
    }

    #[test]
    fn a_pj_table_sums_every_term() {
        let mut text = String::from("scale = 0.001\nmac = 2\n");
        for (i, f) in ENERGY_FIELDS[3..].iter().enumerate() {
            text += &format!("{f} = {}\n", i + 1);
        }
        let t = parse_energy_model(&text, "pj.toml").unwrap();
        assert_eq!(t.l1_counted, L1Counted::Always);
        let m = Metrics {
            num_macs: 100,
            l1_input_read: 1,
            l1_output_write: 2,
            l2_input_read: 3,
            l2_output_read: 4,
            l2_output_write: 5,
            ..Metrics::default()
        };
        // L1: 1·1 + 2·6; L2: 3·7 + 4·11 + 5·12; MACs: 100·2; in pJ.
        let want = (1.0 + 12.0 + 21.0 + 44.0 + 60.0 + 200.0) * 0.001;
        assert!((t.energy_nj(&m, 2) - want).abs() < 1e-12, "{}", t.energy_nj(&m, 2));
        let one_level = EnergyModel { l1_counted: L1Counted::OneLevel, ..t };
        let want2 = (21.0 + 44.0 + 60.0 + 200.0) * 0.001;
        assert!((one_level.energy_nj(&m, 2) - want2).abs() < 1e-12);
        assert!((one_level.energy_nj(&m, 1) - want).abs() < 1e-12);
    }

    #[test]
    fn errors_name_line_and_field() {
        let base = maestro_toml();
        let locate = |t: &str, line: usize, field: &str| {
            let e = parse_energy_model(t, "e.toml").unwrap_err().to_string();
            assert!(e.contains(&format!("e.toml line {line}, field {field}")), "{t:?}: {e}");
            e
        };
        let replace = |key: &str, with: &str| {
            base.lines()
                .map(|l| if l.starts_with(&format!("{key} =")) { with.to_string() } else { l.to_string() })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let e = locate(&replace("l2_output_read", "l2_output_raed = 0.0"), 15, "l2_output_raed");
        assert!(e.contains("did you mean \"l2_output_read\""), "{e}");
        locate(&replace("mac", "mac = -1.0"), 3, "mac");
        locate(&replace("mac", "mac = nan"), 3, "mac");
        locate(&replace("mac", "mac = inf"), 3, "mac");
        locate(&replace("mac", "mac = 1e200"), 3, "mac");
        locate(&replace("scale", "scale = 0"), 2, "scale");
        locate(&replace("l1_input_read", "l1_input_read = \"1.68\""), 5, "l1_input_read");
        locate(&replace("l1_counted", "l1_counted = \"once\""), 4, "l1_counted");
        locate(&replace("l1_counted", "l1_counted = 1"), 4, "l1_counted");
        let e = locate(&replace("l2_weight_read", ""), 1, "l2_weight_read");
        assert!(e.contains("missing"), "{e}");
        locate(&replace("scale", "# no scale"), 1, "scale");
        locate(&(base.clone() + "[l1]\ninput_read = 1\n"), 17, "l1");
        // A syntax error names its own line.
        let e = parse_energy_model(&replace("mac", "mac = = 1"), "e.toml").unwrap_err().to_string();
        assert!(e.contains("e.toml line 3"), "{e}");
        let e = EnergyModel::resolve("/nonexistent/e.toml").unwrap_err().to_string();
        assert!(e.contains("/nonexistent/e.toml"), "{e}");
    }
}
