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
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
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
