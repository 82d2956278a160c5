//! Evaluation cases as JSON, one per line: the input of `gammaflow eval` and of the Python
//! package's `evaluate()` (the oracle format's fields, so oracle files can be fed as they are),
//! and the output object of one evaluation. Every error names the line and the field.

use super::Problem;
use crate::hardware::Hardware;
use crate::mapping::Genome;
use crate::model::Evaluation;
use crate::workload::Layer;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
struct CaseIn {
    #[serde(default)]
    id: Option<Value>,
    layer: Layer,
    genome: Genome,
    num_pe: i64,
    #[serde(default = "unlimited")]
    l1_size: i64,
    #[serde(default = "unlimited")]
    l2_size: i64,
    #[serde(default = "unlimited")]
    noc_bw: i64,
    #[serde(default = "unlimited")]
    offchip_bw: i64,
}

fn unlimited() -> i64 {
    -1
}

/// A parsed case, or the error line to print in its place.
pub type Parsed = Result<(Option<Value>, Problem, Genome), Value>;

/// Fields of an input line: the case's, plus the oracle format's extra fields (so oracle files
/// can be fed as they are; their content is not read).
const CASE_FIELDS: [&str; 8] = ["id", "layer", "genome", "num_pe", "l1_size", "l2_size", "noc_bw", "offchip_bw"];
const ORACLE_FIELDS: [&str; 4] = ["category", "source", "maestro", "expect"];

/// A serde_json message without its own " at line L column C" suffix (the caller says where),
/// with any echoed value cut short.
fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let msg = full.strip_suffix(&suffix).unwrap_or(&full);
    crate::schema::truncate(msg, 200)
}

/// A JSON text as a [`Value`], with a key given twice in one object refused: serde_json keeps
/// the last, so `{"num_pe": 16, "num_pe": 1}` would silently run on 1 PE.
fn strict_json(text: &str) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(text);
    let v = Strict(None).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// [`strict_json`]'s reader; holds the key of the object member being read, for the message.
struct Strict<'a>(Option<&'a str>);

impl<'de> serde::de::DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element_seed(Strict(self.0))? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if m.contains_key(&k) {
                let within = self.0.map(|p| format!(" (in {p})")).unwrap_or_default();
                return Err(serde::de::Error::custom(format!(
                    "key {:?} given twice{within}: which one is meant is unclear",
                    crate::schema::truncate(&k, 40)
                )));
            }
            let v = map.next_value_seed(Strict(Some(&k)))?;
            m.insert(k, v);
        }
        Ok(Value::Object(m))
    }
}

/// Parses input line `lineno` (1-based) into (id, problem, genome), or the error line printed instead.
pub fn parse_line(lineno: usize, line: &str) -> Parsed {
    let err = |id: Option<Value>, msg: String| {
        let mut m = Map::new();
        if let Some(id) = id {
            m.insert("id".into(), id);
        }
        m.insert("line".into(), json!(lineno));
        m.insert("error".into(), json!(format!("line {lineno}: {msg}")));
        Value::Object(m)
    };
    // The reader marks lines that were not UTF-8 this way (no JSON text starts with U+FFFD).
    if let Some(why) = line.strip_prefix('\u{FFFD}') {
        return Err(err(None, why.trim().to_string()));
    }
    let value: Value = match strict_json(line) {
        Ok(v) => v,
        Err(e) if e.is_data() => return Err(err(None, format!("column {}: {}", e.column(), json_message(&e)))),
        Err(e) => return Err(err(None, format!("column {}: invalid JSON: {}", e.column(), json_message(&e)))),
    };
    let Value::Object(obj) = &value else {
        return Err(err(None, "expected a JSON object (one case per line)".into()));
    };
    // Echo the id with every error, so a caller can match the error up.
    let id = obj.get("id").cloned();
    let known: Vec<&str> = CASE_FIELDS.iter().chain(&ORACLE_FIELDS).copied().collect();
    if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(err(id, crate::schema::unknown_field(k, &CASE_FIELDS)));
    }
    if let Some(Value::Object(layer)) = obj.get("layer") {
        if let Some(k) = layer.keys().find(|k| !Layer::FIELDS.contains(&k.as_str())) {
            return Err(err(id, format!("field layer: {}", crate::schema::unknown_field(k, &Layer::FIELDS))));
        }
    }
    // The path of the offending value (`layer.K`, `genome[3][1]`), not only serde's message.
    let case: CaseIn = match serde_path_to_error::deserialize(value) {
        Ok(c) => c,
        Err(e) => {
            let path = e.path().to_string();
            let msg = json_message(e.inner());
            return Err(err(id, if path == "." { msg } else { format!("field {path}: {msg}") }));
        }
    };
    if let Err(crate::error::FieldError { field, message: msg }) = case.layer.validate() {
        return Err(err(case.id, format!("layer field {field}: {msg}")));
    }
    let hw = Hardware {
        num_pe: case.num_pe,
        l1_size: case.l1_size,
        l2_size: case.l2_size,
        noc_bw: case.noc_bw,
        offchip_bw: case.offchip_bw,
    };
    if let Err(e) = hw.validate() {
        return Err(err(case.id, e.message));
    }
    // A second spatial dim on the parallel dim itself is the same SpatialMap: almost surely a
    // mistake, and constraint files refuse it too.
    if let Some((li, lv)) = case.genome.levels.iter().enumerate().find(|(_, l)| l.sp2 == Some(l.par)) {
        return Err(err(
            case.id,
            format!("field genome, level {li}: second spatial dim {} is the level's parallel dim", lv.par),
        ));
    }
    if let Err(e) = crate::model::validate_input(&case.layer, &case.genome.levels, &hw) {
        return Err(err(case.id, format!("field genome: {e}")));
    }
    Ok((case.id, Problem { layer: case.layer, hw }, case.genome))
}

/// The output object: the oracle's `expect` fields plus `valid_physical`.
pub fn evaluation_json(id: Option<Value>, p: &Problem, ev: &Evaluation) -> Value {
    let mut o = Map::new();
    if let Some(id) = id {
        o.insert("id".into(), id);
    }
    match ev.metrics {
        Some(m) => {
            if let Value::Object(mm) = serde_json::to_value(m).expect("metrics serialise") {
                o.extend(mm);
            }
        }
        None => {
            for k in METRIC_KEYS {
                o.insert(k.into(), Value::Null);
            }
        }
    }
    o.insert("valid".into(), json!(ev.valid));
    o.insert("valid_physical".into(), json!(ev.valid_physical));
    o.insert("crash".into(), json!(ev.crash.is_some()));
    o.insert("error".into(), json!(ev.error(&p.hw)));
    o.insert("expected_macs".into(), json!(ev.expected_macs));
    o.insert("area_gamma_external".into(), json!(ev.area_gamma_external(p.hw.num_pe)));
    let positive = ev
        .metrics
        .map(|m| m.runtime_cycles > 0 && m.energy_nj > 0.0 && m.power > 0.0 && m.area > 0.0 && m.throughput > 0.0);
    o.insert("all_metrics_positive".into(), json!(positive));
    Value::Object(o)
}

pub const METRIC_KEYS: [&str; 20] = [
    "runtime_cycles",
    "throughput",
    "energy_nJ",
    "area",
    "power",
    "l1_size_req",
    "l2_size_req",
    "num_macs",
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
