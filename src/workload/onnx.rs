//! ONNX import: the MAC-bearing nodes of an ONNX graph as GAMMA layers.
//!
//! The protobuf is read with `prost` through hand-declared messages for the subset of
//! `onnx.proto` that shapes need (unknown fields are skipped by the decoder), so no `protoc` runs
//! at build time. Weight *values* are never read: only tensor dims, plus the contents of small
//! integer tensors (shape arithmetic: `Shape → Gather → Concat → Reshape`) and float scales.
//!
//! Nodes are visited in graph order (ONNX requires a topological order). Shapes come from
//! `value_info` (and the graph's outputs) where the file declares a static shape, otherwise they
//! are computed through the ops common in CNN and transformer exports; a node whose outputs can be
//! shaped neither way stops the import with an error naming it.
//!
//! Layers follow GAMMA's convention (see [`super::Layer`]): stride 1, no padding, `Y`/`X` input
//! sizes. Padding is folded into the input size. A strided or dilated convolution becomes the
//! stride-1 dense layer with the same output size, filter size and MAC count (input = output +
//! R - 1), because MAESTRO's own stride support miscounts MACs; the original stride and dilation
//! are kept in [`ImportedLayer`].
//!
//! - `Conv`: group 1 → CONV; depthwise (group = input channels, one input channel per group) →
//!   DSCONV (`K = 1`; a channel multiplier m > 1 gives m DSCONV layers); other groups → one CONV
//!   layer per group. A batch N > 1 repeats the layers N times. MACs are preserved in every case.
//! - `Gemm`, `MatMul`: `A[M×K]·B[K×N]`. When B is one matrix (a weight, or any 2-D operand), A's
//!   batch dims are folded into M: one layer, FC when M = 1 else GEMM `M,N,K`. When both operands
//!   are batched (attention's `Q·Kᵀ` and `P·V`), one GEMM per batch element (per head), as the
//!   built-in `bert` lists them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use prost::Message;

use super::{Layer, LayerKind, Model, ModelError};

/// The subset of `onnx.proto` (proto2) the importer reads. Field numbers are the standard's.
mod pb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ModelProto {
        #[prost(int64, tag = "1")]
        pub ir_version: i64,
        #[prost(message, repeated, tag = "8")]
        pub opset_import: Vec<OperatorSetIdProto>,
        #[prost(string, tag = "2")]
        pub producer_name: String,
        #[prost(message, optional, tag = "7")]
        pub graph: Option<GraphProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct OperatorSetIdProto {
        #[prost(string, tag = "1")]
        pub domain: String,
        #[prost(int64, tag = "2")]
        pub version: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GraphProto {
        #[prost(message, repeated, tag = "1")]
        pub node: Vec<NodeProto>,
        #[prost(string, tag = "2")]
        pub name: String,
        #[prost(message, repeated, tag = "5")]
        pub initializer: Vec<TensorProto>,
        #[prost(message, repeated, tag = "11")]
        pub input: Vec<ValueInfoProto>,
        #[prost(message, repeated, tag = "12")]
        pub output: Vec<ValueInfoProto>,
        #[prost(message, repeated, tag = "13")]
        pub value_info: Vec<ValueInfoProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NodeProto {
        #[prost(string, repeated, tag = "1")]
        pub input: Vec<String>,
        #[prost(string, repeated, tag = "2")]
        pub output: Vec<String>,
        #[prost(string, tag = "3")]
        pub name: String,
        #[prost(string, tag = "4")]
        pub op_type: String,
        #[prost(string, tag = "7")]
        pub domain: String,
        #[prost(message, repeated, tag = "5")]
        pub attribute: Vec<AttributeProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AttributeProto {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(float, tag = "2")]
        pub f: f32,
        #[prost(int64, tag = "3")]
        pub i: i64,
        #[prost(bytes = "vec", tag = "4")]
        pub s: Vec<u8>,
        #[prost(message, optional, tag = "5")]
        pub t: Option<TensorProto>,
        #[prost(message, optional, tag = "6")]
        pub g: Option<GraphProto>,
        #[prost(float, repeated, tag = "7")]
        pub floats: Vec<f32>,
        #[prost(int64, repeated, tag = "8")]
        pub ints: Vec<i64>,
        #[prost(message, repeated, tag = "11")]
        pub graphs: Vec<GraphProto>,
        #[prost(int32, tag = "20")]
        pub r#type: i32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueInfoProto {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub r#type: Option<TypeProto>,
    }

    /// Only the `tensor_type` member of the `value` oneof; sequences, maps etc. are skipped.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TypeProto {
        #[prost(message, optional, tag = "1")]
        pub tensor_type: Option<TypeTensor>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TypeTensor {
        #[prost(int32, tag = "1")]
        pub elem_type: i32,
        #[prost(message, optional, tag = "2")]
        pub shape: Option<TensorShapeProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorShapeProto {
        #[prost(message, repeated, tag = "1")]
        pub dim: Vec<Dimension>,
    }

    /// The `value` oneof (`dim_value` | `dim_param`) read as two optional fields: same wire format.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Dimension {
        #[prost(int64, optional, tag = "1")]
        pub dim_value: Option<i64>,
        #[prost(string, optional, tag = "2")]
        pub dim_param: Option<String>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TensorProto {
        #[prost(int64, repeated, tag = "1")]
        pub dims: Vec<i64>,
        #[prost(int32, tag = "2")]
        pub data_type: i32,
        #[prost(float, repeated, tag = "4")]
        pub float_data: Vec<f32>,
        #[prost(int32, repeated, tag = "5")]
        pub int32_data: Vec<i32>,
        #[prost(int64, repeated, tag = "7")]
        pub int64_data: Vec<i64>,
        #[prost(string, tag = "8")]
        pub name: String,
        #[prost(bytes = "vec", tag = "9")]
        pub raw_data: Vec<u8>,
        #[prost(double, repeated, tag = "10")]
        pub double_data: Vec<f64>,
        #[prost(int32, tag = "14")]
        pub data_location: i32,
    }

    // TensorProto.DataType codes used here.
    pub const FLOAT: i32 = 1;
    pub const INT32: i32 = 6;
    pub const INT64: i32 = 7;
    pub const DOUBLE: i32 = 11;
}

/// An ONNX file could not be imported. The message names the file and, for graph content, the
/// node (its name, or `#index` and first output when unnamed) and its op.
#[derive(thiserror::Error, Debug)]
#[error("{file}: {kind}")]
pub struct OnnxError {
    pub file: String,
    pub kind: OnnxErrorKind,
}

/// What went wrong in an [`OnnxError`].
#[derive(thiserror::Error, Debug)]
pub enum OnnxErrorKind {
    #[error("cannot read the file: {0}")]
    Io(#[source] std::io::Error),
    #[error("not an ONNX model, or truncated: protobuf decoding failed ({0})")]
    Decode(#[source] prost::DecodeError),
    #[error("not an ONNX model, or truncated: {0}")]
    NotOnnx(String),
    #[error("node {node} (op {op}): {message}")]
    Node { node: String, op: String, message: String },
    #[error("node {node} (op {op}) has MACs but is not supported: {why}")]
    Unsupported { node: String, op: String, why: String },
    #[error("the graph has no node with MACs (Conv, Gemm, MatMul): nothing to import")]
    NoLayers,
}

/// One imported layer with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedLayer {
    pub layer: Layer,
    /// Name of the ONNX node (or `#index` when unnamed).
    pub node: String,
    pub op: String,
    /// Which copy of a node that gives several layers (`group 2/4`, `batch 1/2`, `head 3/12`,
    /// `multiplier 1/2`); empty for a node that gives one layer.
    pub part: String,
    /// The original stride along Y and X (1 for FC/GEMM). The layer itself is modelled at stride 1.
    pub stride: [i64; 2],
    /// The original dilation along Y and X (1 for FC/GEMM).
    pub dilation: [i64; 2],
}

/// The result of importing an ONNX file.
#[derive(Debug, Clone)]
pub struct OnnxImport {
    /// The layers as a model (named after the file stem).
    pub model: Model,
    /// Per layer of `model.layers`, in the same order: node, op, stride.
    pub layers: Vec<ImportedLayer>,
    /// Nodes with MACs that became layers, per op.
    pub mac_nodes: BTreeMap<String, usize>,
    /// Nodes without MACs that were skipped, per op.
    pub skipped: BTreeMap<String, usize>,
    /// Assumptions made (symbolic dims taken as 1).
    pub notes: Vec<String>,
    /// The file as named in messages.
    pub source: String,
}

impl OnnxImport {
    /// Sum of the layers' MACs (equal to the graph's: nothing is approximated in the count).
    pub fn total_macs(&self) -> i64 {
        self.model.layers.iter().map(|l| l.shape().true_macs()).sum()
    }

    /// One line for the user: layers, MACs, strided layers, skipped ops, notes.
    pub fn summary(&self) -> String {
        let list =
            |m: &BTreeMap<String, usize>| m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
        let nodes: usize = self.mac_nodes.values().sum();
        let skipped: usize = self.skipped.values().sum();
        let strided = self.layers.iter().filter(|l| l.stride != [1, 1] || l.dilation != [1, 1]).count();
        let mut s = format!(
            "{}: {} layer(s) from {nodes} node(s) with MACs ({}), {} MACs; skipped {skipped} node(s) without MACs{}",
            self.source,
            self.layers.len(),
            list(&self.mac_nodes),
            self.total_macs(),
            if skipped > 0 { format!(" ({})", list(&self.skipped)) } else { String::new() }
        );
        if strided > 0 {
            s += &format!(
                "; {strided} strided or dilated layer(s) modelled at stride 1 with the same output size and MACs"
            );
        }
        for n in &self.notes {
            s += "; ";
            s += n;
        }
        s
    }

    /// The layers as a GAMMA model file. `plain` writes GAMMA's seven columns only (GAMMA's own
    /// loader reads the last column as the layer type); otherwise `stride`, `dilation` and `node`
    /// columns follow, which gammaflow's loader ignores.
    pub fn to_csv(&self, plain: bool) -> String {
        let mut s = String::from(if plain { "K,C,Y,X,R,S,T\n" } else { "K,C,Y,X,R,S,T,stride,dilation,node\n" });
        for il in &self.layers {
            let l = &il.layer;
            s += &format!("{},{},{},{},{},{},{}", l.k, l.c, l.y, l.x, l.r, l.s, l.kind.code());
            if !plain {
                let pair = super::stride_text;
                let mut node = il.node.clone();
                if !il.part.is_empty() {
                    node += &format!(" [{}]", il.part);
                }
                // The loader splits on commas and strips quotes: keep the name free of both.
                let node: String = node.chars().map(|c| if c == ',' || c == '"' { ';' } else { c }).collect();
                s += &format!(",{},{},{node}", pair(il.stride), pair(il.dilation));
            }
            s.push('\n');
        }
        s
    }
}

/// Imports an ONNX file; the model is named after the file stem.
pub fn import_onnx(path: &Path) -> Result<OnnxImport, OnnxError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| OnnxError { file: shown.clone(), kind: OnnxErrorKind::Io(e) })?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| shown.clone());
    import_onnx_bytes(&bytes, &shown, &name)
}

/// [`import_onnx`] as a [`Model`] (for `resolve_model`), its layers' strides kept. The import's
/// own error (file, node, reason) is the error, with no wrapper around it.
pub fn load_onnx_model(path: &Path) -> Result<Model, ModelError> {
    import_onnx(path).map(|i| i.model).map_err(ModelError::Onnx)
}

/// Imports an ONNX model from its bytes. `source` names the file in messages, `name` the model.
pub fn import_onnx_bytes(bytes: &[u8], source: &str, name: &str) -> Result<OnnxImport, OnnxError> {
    let fail = |kind| OnnxError { file: source.to_string(), kind };
    let model = pb::ModelProto::decode(bytes).map_err(|e| fail(OnnxErrorKind::Decode(e)))?;
    let Some(graph) = model.graph.as_ref() else {
        return Err(fail(OnnxErrorKind::NotOnnx("the file has no graph".into())));
    };
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .ok_or_else(|| fail(OnnxErrorKind::NotOnnx("the model declares no ONNX operator set (opset_import)".into())))?;
    if model.ir_version <= 0 {
        return Err(fail(OnnxErrorKind::NotOnnx("the model has no IR version".into())));
    }
    let mut g = Graph::new(graph, opset);
    let mut layers = Vec::new();
    let mut mac_nodes = BTreeMap::new();
    let mut skipped = BTreeMap::new();
    for (i, node) in graph.node.iter().enumerate() {
        let label = node_label(node, i);
        let node_err =
            |message: String| fail(OnnxErrorKind::Node { node: label.clone(), op: node.op_type.clone(), message });
        let unsupported =
            |why: String| fail(OnnxErrorKind::Unsupported { node: label.clone(), op: node.op_type.clone(), why });
        if let Some(why) = unsupported_mac_op(node) {
            return Err(unsupported(why));
        }
        let standard = node.domain.is_empty() || node.domain == "ai.onnx";
        let n = NodeView { node, opset, label: &label };
        if standard && matches!(node.op_type.as_str(), "Conv" | "Gemm" | "MatMul") {
            let (outs, new) = g.mac_node(&n).map_err(node_err)?;
            for l in &new {
                if let Err(crate::error::FieldError { field, message }) = l.layer.validate() {
                    return Err(node_err(format!("the layer {field} is out of range: {message}")));
                }
            }
            g.set_outputs(node, outs);
            layers.extend(new);
            *mac_nodes.entry(node.op_type.clone()).or_insert(0) += 1;
        } else {
            let computed = if standard { g.infer(&n) } else { Err(format!("op of domain {:?}", node.domain)) };
            let outs = match computed {
                Ok(outs) => outs,
                Err(why) => g.declared_outputs(node).ok_or_else(|| {
                    node_err(format!("cannot compute its output shape ({why}) and the file declares no shape (value_info) for its output(s)"))
                })?,
            };
            g.set_outputs(node, outs);
            *skipped.entry(node.op_type.clone()).or_insert(0) += 1;
        }
    }
    if layers.is_empty() {
        return Err(fail(OnnxErrorKind::NoLayers));
    }
    let model = Model {
        name: name.to_string(),
        layers: layers.iter().map(|l: &ImportedLayer| l.layer).collect(),
        strides: layers.iter().map(|l| l.stride).collect(),
    };
    Ok(OnnxImport { model, layers, mac_nodes, skipped, notes: g.notes, source: source.to_string() })
}

fn node_label(node: &pb::NodeProto, i: usize) -> String {
    if node.name.is_empty() {
        format!("#{i} (output {:?})", node.output.first().map(String::as_str).unwrap_or(""))
    } else {
        format!("{:?}", node.name)
    }
}

/// Ops that carry MACs but that the importer does not turn into layers: an error, never a skip.
/// Control-flow ops are rejected when their subgraphs hold MAC-bearing nodes.
fn unsupported_mac_op(node: &pb::NodeProto) -> Option<String> {
    let why = match node.op_type.as_str() {
        "ConvTranspose" => "transposed convolution has no GAMMA layer type",
        "Einsum" => "Einsum's contraction is not decomposed into GEMMs",
        "ConvInteger" | "QLinearConv" | "MatMulInteger" | "QLinearMatMul" | "QGemm" => {
            "quantized ops are not imported (export the float graph)"
        }
        "LSTM" | "GRU" | "RNN" => "recurrent ops are not decomposed into GEMMs",
        "Attention" | "MultiHeadAttention" | "QAttention" => "fused attention is not decomposed (export it unfused)",
        "DeformConv" | "FusedConv" | "FusedGemm" | "FusedMatMul" | "NhwcConv" => {
            "this convolution variant is not imported"
        }
        _ => {
            let sub: Vec<&pb::GraphProto> =
                node.attribute.iter().flat_map(|a| a.g.iter().chain(a.graphs.iter())).collect();
            return sub
                .iter()
                .find_map(|g| graph_mac_node(g))
                .map(|(op, name)| format!("its subgraph holds {op} node {name:?}; control flow is not unrolled"));
        }
    };
    Some(why.to_string())
}

fn graph_mac_node(g: &pb::GraphProto) -> Option<(String, String)> {
    g.node.iter().find_map(|n| {
        if matches!(n.op_type.as_str(), "Conv" | "Gemm" | "MatMul") || unsupported_mac_op(n).is_some() {
            Some((n.op_type.clone(), n.name.clone()))
        } else {
            None
        }
    })
}

type Shape = Vec<i64>;

/// Known contents of a small tensor (shape arithmetic, scales).
#[derive(Debug, Clone, PartialEq)]
enum Data {
    Ints(Vec<i64>),
    Floats(Vec<f64>),
}

#[derive(Debug, Clone, PartialEq)]
struct Value {
    shape: Shape,
    data: Option<Data>,
}

impl Value {
    fn shaped(shape: Shape) -> Self {
        Value { shape, data: None }
    }
    fn ints(shape: Shape, v: Vec<i64>) -> Self {
        Value { shape, data: Some(Data::Ints(v)) }
    }
    fn int_data(&self) -> Option<&[i64]> {
        match &self.data {
            Some(Data::Ints(v)) => Some(v),
            _ => None,
        }
    }
    fn float_data(&self) -> Option<Vec<f64>> {
        match &self.data {
            Some(Data::Floats(v)) => Some(v.clone()),
            Some(Data::Ints(v)) => Some(v.iter().map(|&x| x as f64).collect()),
            None => None,
        }
    }
}

/// Largest tensor whose contents are kept (shape tensors are tiny; weights are never read).
const MAX_DATA: usize = 1 << 16;

fn numel(shape: &[i64]) -> Result<i64, String> {
    shape.iter().try_fold(1i64, |acc, &d| acc.checked_mul(d)).ok_or_else(|| format!("shape {shape:?} is too large"))
}

fn tensor_value(t: &pb::TensorProto) -> Value {
    let shape = t.dims.clone();
    let n = numel(&shape).unwrap_or(i64::MAX);
    if t.data_location == 1 || n < 0 || n as usize > MAX_DATA {
        return Value::shaped(shape);
    }
    let n = n as usize;
    let raw = &t.raw_data;
    let data = match t.data_type {
        pb::INT64 if !t.int64_data.is_empty() => Some(Data::Ints(t.int64_data.clone())),
        pb::INT64 if raw.len() == 8 * n => {
            Some(Data::Ints(raw.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect()))
        }
        pb::INT32 if !t.int32_data.is_empty() => Some(Data::Ints(t.int32_data.iter().map(|&x| x as i64).collect())),
        pb::INT32 if raw.len() == 4 * n => {
            Some(Data::Ints(raw.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().unwrap()) as i64).collect()))
        }
        pb::FLOAT if !t.float_data.is_empty() => Some(Data::Floats(t.float_data.iter().map(|&x| x as f64).collect())),
        pb::FLOAT if raw.len() == 4 * n => {
            Some(Data::Floats(raw.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64).collect()))
        }
        pb::DOUBLE if !t.double_data.is_empty() => Some(Data::Floats(t.double_data.clone())),
        pb::DOUBLE if raw.len() == 8 * n => {
            Some(Data::Floats(raw.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()))
        }
        _ => None,
    };
    // Contents that do not match the dims are ignored rather than trusted.
    let data = data.filter(|d| match d {
        Data::Ints(v) => v.len() == n,
        Data::Floats(v) => v.len() == n,
    });
    Value { shape, data }
}

/// A static shape from a type, or why there is none. Symbolic dims (`dim_param`) are taken as 1
/// and reported through `notes`.
fn type_shape(name: &str, t: Option<&pb::TypeProto>, notes: &mut Vec<String>) -> Option<Shape> {
    let shape = t?.tensor_type.as_ref()?.shape.as_ref()?;
    let mut out = Vec::with_capacity(shape.dim.len());
    for d in &shape.dim {
        match (d.dim_value, &d.dim_param) {
            (Some(v), _) if v >= 0 => out.push(v),
            (None, Some(p)) if !p.is_empty() => {
                notes.push(format!("symbolic dim {p:?} of {name:?} taken as 1"));
                out.push(1);
            }
            _ => return None,
        }
    }
    Some(out)
}

struct NodeView<'a> {
    node: &'a pb::NodeProto,
    opset: i64,
    label: &'a str,
}

impl NodeView<'_> {
    fn attr(&self, name: &str) -> Option<&pb::AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }
    fn int(&self, name: &str, default: i64) -> i64 {
        self.attr(name).map(|a| a.i).unwrap_or(default)
    }
    fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.attr(name).map(|a| a.ints.clone())
    }
    fn string(&self, name: &str) -> Option<String> {
        self.attr(name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
    fn op(&self) -> &str {
        &self.node.op_type
    }
}

struct Graph {
    values: HashMap<String, Value>,
    declared: HashMap<String, Shape>,
    unshaped_inputs: HashSet<String>,
    notes: Vec<String>,
}

impl Graph {
    fn new(graph: &pb::GraphProto, _opset: i64) -> Self {
        let mut notes = Vec::new();
        let mut values = HashMap::new();
        let mut unshaped_inputs = HashSet::new();
        for t in &graph.initializer {
            values.insert(t.name.clone(), tensor_value(t));
        }
        for vi in &graph.input {
            if values.contains_key(&vi.name) {
                continue; // an initializer with a default value listed as input
            }
            match type_shape(&vi.name, vi.r#type.as_ref(), &mut notes) {
                Some(s) => {
                    values.insert(vi.name.clone(), Value::shaped(s));
                }
                None => {
                    unshaped_inputs.insert(vi.name.clone());
                }
            }
        }
        let mut declared = HashMap::new();
        let mut ignored = Vec::new();
        for vi in graph.value_info.iter().chain(graph.output.iter()) {
            if let Some(s) = type_shape(&vi.name, vi.r#type.as_ref(), &mut ignored) {
                // A symbolic dim in value_info is no static shape: computed shapes win then.
                if ignored.is_empty() {
                    declared.insert(vi.name.clone(), s);
                }
                ignored.clear();
            }
        }
        Graph { values, declared, unshaped_inputs, notes }
    }

    fn input<'a>(&'a self, n: &NodeView, i: usize) -> Result<&'a Value, String> {
        let name = n.node.input.get(i).filter(|s| !s.is_empty()).ok_or_else(|| format!("input #{i} is missing"))?;
        self.values.get(name).ok_or_else(|| {
            if self.unshaped_inputs.contains(name) {
                format!("input {name:?} is a graph input without a shape")
            } else {
                format!("input {name:?} has no known shape (not produced by an earlier node, an initializer or a graph input)")
            }
        })
    }

    fn opt_input<'a>(&'a self, n: &NodeView, i: usize) -> Result<Option<&'a Value>, String> {
        match n.node.input.get(i) {
            Some(s) if !s.is_empty() => self.input(n, i).map(Some),
            _ => Ok(None),
        }
    }

    /// Integer contents of input `i` (a shape, axes, pads ...), which must be constant.
    fn const_ints(&self, n: &NodeView, i: usize, what: &str) -> Result<Vec<i64>, String> {
        let v = self.input(n, i)?;
        v.int_data()
            .map(<[i64]>::to_vec)
            .ok_or_else(|| format!("the {what} (input {:?}) is not a constant integer tensor", n.node.input[i]))
    }

    fn declared_outputs(&self, node: &pb::NodeProto) -> Option<Vec<Value>> {
        node.output
            .iter()
            .map(|o| {
                if o.is_empty() {
                    Some(Value::shaped(vec![]))
                } else {
                    self.declared.get(o).cloned().map(Value::shaped)
                }
            })
            .collect()
    }

    /// Stores a node's outputs; a static shape declared in the file replaces the computed one.
    fn set_outputs(&mut self, node: &pb::NodeProto, outs: Vec<Value>) {
        for (name, mut v) in node.output.iter().zip(outs) {
            if name.is_empty() {
                continue;
            }
            if let Some(s) = self.declared.get(name) {
                if *s != v.shape {
                    v.data = None;
                }
                v.shape = s.clone();
            }
            self.values.insert(name.clone(), v);
        }
    }

    fn mac_node(&self, n: &NodeView) -> Result<(Vec<Value>, Vec<ImportedLayer>), String> {
        match n.op() {
            "Conv" => self.conv(n),
            "Gemm" => self.gemm(n),
            _ => self.matmul(n),
        }
    }

    fn conv(&self, n: &NodeView) -> Result<(Vec<Value>, Vec<ImportedLayer>), String> {
        let x = &self.input(n, 0)?.shape;
        let w = &self.input(n, 1)?.shape;
        if x.len() == 5 {
            return Err("3-D convolution (5-D input) has no GAMMA layer type".into());
        }
        if !(x.len() == 3 || x.len() == 4) {
            return Err(format!("input shape {x:?} is not [N, C, H, W] or [N, C, L]"));
        }
        if w.len() != x.len() {
            return Err(format!("weight shape {w:?} does not match the input shape {x:?}"));
        }
        let spatial = x.len() - 2;
        let (batch, c, m, cg) = (x[0], x[1], w[0], w[1]);
        let group = n.int("group", 1);
        if group < 1 || c % group != 0 || m % group != 0 || cg * group != c {
            return Err(format!(
                "group = {group} does not fit {c} input channels, {m} output channels and weight shape {w:?}"
            ));
        }
        let k: Vec<i64> = w[2..].to_vec();
        if let Some(ks) = n.ints("kernel_shape") {
            if ks != k {
                return Err(format!("kernel_shape {ks:?} differs from the weight's spatial dims {k:?}"));
            }
        }
        let win = Window::from_node(n, spatial, &k)?;
        let out = win.output(&x[2..], false)?;
        let mut shape = vec![batch, m];
        shape.extend(&out);
        // 1-D convolutions are 2-D ones of height 1.
        let (k2, out2, s2, d2) = if spatial == 1 {
            ([1, k[0]], [1, out[0]], [1, win.strides[0]], [1, win.dilations[0]])
        } else {
            ([k[0], k[1]], [out[0], out[1]], [win.strides[0], win.strides[1]], [win.dilations[0], win.dilations[1]])
        };
        let (y, xx) = (out2[0] + k2[0] - 1, out2[1] + k2[1] - 1);
        let depthwise = group == c && cg == 1 && group > 1;
        let (layer, copies, what) = if group == 1 {
            (Layer::new(m, c, y, xx, k2[0], k2[1], LayerKind::Conv), 1, "")
        } else if depthwise {
            (Layer::new(1, c, y, xx, k2[0], k2[1], LayerKind::DsConv), m / c, "multiplier")
        } else {
            (Layer::new(m / group, cg, y, xx, k2[0], k2[1], LayerKind::Conv), group, "group")
        };
        let mut layers = Vec::new();
        for b in 0..batch {
            for j in 0..copies {
                let mut part = Vec::new();
                if batch > 1 {
                    part.push(format!("batch {}/{batch}", b + 1));
                }
                if copies > 1 {
                    part.push(format!("{what} {}/{copies}", j + 1));
                }
                layers.push(ImportedLayer {
                    layer,
                    node: n.label.trim_matches('"').to_string(),
                    op: "Conv".into(),
                    part: part.join(", "),
                    stride: s2,
                    dilation: d2,
                });
            }
        }
        Ok((vec![Value::shaped(shape)], layers))
    }

    fn gemm(&self, n: &NodeView) -> Result<(Vec<Value>, Vec<ImportedLayer>), String> {
        let a = &self.input(n, 0)?.shape;
        let b = &self.input(n, 1)?.shape;
        if a.len() != 2 || b.len() != 2 {
            return Err(format!("Gemm needs 2-D operands, got {a:?} and {b:?}"));
        }
        let (m, ka) = if n.int("transA", 0) != 0 { (a[1], a[0]) } else { (a[0], a[1]) };
        let (kb, nn) = if n.int("transB", 0) != 0 { (b[1], b[0]) } else { (b[0], b[1]) };
        if ka != kb {
            return Err(format!("inner dims differ: A {a:?} gives K = {ka}, B {b:?} gives K = {kb}"));
        }
        let layer = gemm_layer(m, nn, ka);
        let il = self.imported(n, layer, String::new());
        Ok((vec![Value::shaped(vec![m, nn])], vec![il]))
    }

    fn matmul(&self, n: &NodeView) -> Result<(Vec<Value>, Vec<ImportedLayer>), String> {
        let a0 = &self.input(n, 0)?.shape;
        let b0 = &self.input(n, 1)?.shape;
        if a0.is_empty() || b0.is_empty() {
            return Err("MatMul of a scalar".into());
        }
        // numpy semantics: a 1-D operand is a row (A) or column (B) vector, removed from the output.
        let a: Shape = if a0.len() == 1 { vec![1, a0[0]] } else { a0.clone() };
        let b: Shape = if b0.len() == 1 { vec![b0[0], 1] } else { b0.clone() };
        let (m, k) = (a[a.len() - 2], a[a.len() - 1]);
        let (kb, nn) = (b[b.len() - 2], b[b.len() - 1]);
        if k != kb {
            return Err(format!("inner dims differ: {a0:?} x {b0:?}"));
        }
        let batch = broadcast(&a[..a.len() - 2], &b[..b.len() - 2])?;
        let mut shape = batch.clone();
        if a0.len() > 1 {
            shape.push(m);
        }
        if b0.len() > 1 {
            shape.push(nn);
        }
        let b_batch = numel(&b[..b.len() - 2])?;
        let layers = if b_batch == 1 {
            // One right-hand matrix: A's batch dims are more rows of the same product.
            let rows = numel(&a[..a.len() - 2])?.checked_mul(m).ok_or("too many rows")?;
            vec![self.imported(n, gemm_layer(rows, nn, k), String::new())]
        } else {
            let count = numel(&batch)?;
            if count > 1 << 16 {
                return Err(format!("{count} batched products is more than the importer lists"));
            }
            (0..count)
                .map(|i| {
                    self.imported(
                        n,
                        gemm_layer(m, nn, k),
                        if count > 1 { format!("batch {}/{count}", i + 1) } else { String::new() },
                    )
                })
                .collect()
        };
        Ok((vec![Value::shaped(shape)], layers))
    }

    fn imported(&self, n: &NodeView, layer: Layer, part: String) -> ImportedLayer {
        ImportedLayer {
            layer,
            node: n.label.trim_matches('"').to_string(),
            op: n.op().to_string(),
            part,
            stride: [1, 1],
            dilation: [1, 1],
        }
    }

    /// Output shapes (and small contents) of a node without MACs.
    fn infer(&self, n: &NodeView) -> Result<Vec<Value>, String> {
        let nout = n.node.output.len();
        let first = || self.input(n, 0);
        let same = |k: usize| -> Result<Vec<Value>, String> {
            let s = first()?.shape.clone();
            Ok(vec![Value::shaped(s); k.max(1)])
        };
        let op = n.op();
        Ok(match op {
            "Relu"
            | "LeakyRelu"
            | "Sigmoid"
            | "Tanh"
            | "Clip"
            | "Erf"
            | "Sqrt"
            | "Exp"
            | "Log"
            | "Neg"
            | "Abs"
            | "HardSigmoid"
            | "HardSwish"
            | "Gelu"
            | "Softmax"
            | "LogSoftmax"
            | "Softplus"
            | "Softsign"
            | "Elu"
            | "Selu"
            | "Celu"
            | "Mish"
            | "Reciprocal"
            | "Not"
            | "Floor"
            | "Ceil"
            | "Round"
            | "Sign"
            | "Sin"
            | "Cos"
            | "InstanceNormalization"
            | "LpNormalization"
            | "LRN"
            | "QuantizeLinear"
            | "DequantizeLinear"
            | "IsNaN"
            | "IsInf"
            | "Shrink"
            | "ThresholdedRelu"
            | "CumSum"
            | "Trilu"
            | "Hardmax"
            | "MeanVarianceNormalization" => same(1)?,
            "Dropout" | "BatchNormalization" => {
                let mut v = same(1)?;
                if nout > 1 {
                    if op == "Dropout" {
                        v.push(v[0].clone());
                    } else {
                        // Training mode: running mean and variance, one value per channel.
                        let c = *first()?.shape.get(1).ok_or("input has no channel dim")?;
                        v.extend(std::iter::repeat_n(Value::shaped(vec![c]), nout - 1));
                    }
                }
                v
            }
            "LayerNormalization" => {
                let x = first()?.shape.clone();
                let axis = norm_axis(n.int("axis", -1), x.len())?;
                let mut red = x.clone();
                red[axis..].iter_mut().for_each(|d| *d = 1);
                let mut v = vec![Value::shaped(x)];
                v.extend(std::iter::repeat_n(Value::shaped(red), nout.saturating_sub(1)));
                v
            }
            "Identity" => vec![first()?.clone()],
            "Cast" | "CastLike" => {
                let v = first()?;
                let data = match (&v.data, n.int("to", 0)) {
                    (Some(Data::Floats(f)), 6 | 7) => Some(Data::Ints(f.iter().map(|&x| x as i64).collect())),
                    (d, _) => d.clone(),
                };
                vec![Value { shape: v.shape.clone(), data }]
            }
            "Add" | "Sub" | "Mul" | "Div" => {
                let (a, b) = (self.input(n, 0)?, self.input(n, 1)?);
                let shape = broadcast(&a.shape, &b.shape)?;
                let data = match (a.int_data(), b.int_data()) {
                    (Some(x), Some(y)) => int_elementwise(op, x, &a.shape, y, &b.shape, &shape),
                    _ => None,
                };
                vec![Value { shape, data: data.map(Data::Ints) }]
            }
            "Pow" | "Max" | "Min" | "Sum" | "Mean" | "Equal" | "Less" | "Greater" | "LessOrEqual"
            | "GreaterOrEqual" | "And" | "Or" | "Xor" | "Mod" | "PRelu" | "Where" | "BitShift" => {
                let mut s = first()?.shape.clone();
                for i in 1..n.node.input.len() {
                    if let Some(v) = self.opt_input(n, i)? {
                        s = broadcast(&s, &v.shape)?;
                    }
                }
                vec![Value::shaped(s)]
            }
            "Flatten" => {
                let x = &first()?.shape;
                let axis = norm_axis_incl(n.int("axis", 1), x.len())?;
                vec![Value::shaped(vec![numel(&x[..axis])?, numel(&x[axis..])?])]
            }
            "Reshape" => {
                let x = first()?;
                let target = if n.opset < 5 {
                    n.ints("shape").ok_or("no shape attribute")?
                } else {
                    self.const_ints(n, 1, "target shape")?
                };
                let shape = reshape(&x.shape, &target, n.int("allowzero", 0) != 0)?;
                vec![Value { shape, data: x.data.clone() }]
            }
            "Transpose" => {
                let x = first()?;
                let r = x.shape.len();
                let perm = n.ints("perm").unwrap_or_else(|| (0..r as i64).rev().collect());
                let mut seen = vec![false; r];
                if perm.len() != r
                    || perm.iter().any(|&p| p < 0 || p as usize >= r || std::mem::replace(&mut seen[p as usize], true))
                {
                    return Err(format!("perm {perm:?} is not a permutation of the {r} dims of {:?}", x.shape));
                }
                let data = if r <= 1 { x.data.clone() } else { None };
                vec![Value { shape: perm.iter().map(|&p| x.shape[p as usize]).collect(), data }]
            }
            "Squeeze" => {
                let x = first()?;
                let axes = self.axes(n, 1, 13)?;
                let r = x.shape.len();
                let axes: Vec<usize> = match axes {
                    Some(a) => a.iter().map(|&a| norm_axis(a, r)).collect::<Result<_, _>>()?,
                    None => (0..r).filter(|&i| x.shape[i] == 1).collect(),
                };
                if let Some(&a) = axes.iter().find(|&&a| x.shape[a] != 1) {
                    return Err(format!("axis {a} of {:?} is not 1", x.shape));
                }
                let shape = (0..r).filter(|i| !axes.contains(i)).map(|i| x.shape[i]).collect();
                vec![Value { shape, data: x.data.clone() }]
            }
            "Unsqueeze" => {
                let x = first()?;
                let axes = self.axes(n, 1, 13)?.ok_or("no axes")?;
                let r = x.shape.len() + axes.len();
                let mut axes: Vec<usize> = axes.iter().map(|&a| norm_axis(a, r)).collect::<Result<_, _>>()?;
                axes.sort_unstable();
                axes.dedup();
                let mut shape = x.shape.clone();
                for &a in &axes {
                    if a > shape.len() {
                        return Err(format!("axis {a} is out of range"));
                    }
                    shape.insert(a, 1);
                }
                vec![Value { shape, data: x.data.clone() }]
            }
            "Concat" => {
                let vals: Vec<&Value> = (0..n.node.input.len())
                    .filter_map(|i| self.opt_input(n, i).transpose())
                    .collect::<Result<_, _>>()?;
                let first = vals.first().ok_or("no inputs")?;
                let r = first.shape.len();
                let axis = norm_axis(n.int("axis", 0), r)?;
                let mut shape = first.shape.clone();
                shape[axis] = 0;
                for v in &vals {
                    if v.shape.len() != r || (0..r).any(|i| i != axis && v.shape[i] != first.shape[i]) {
                        return Err(format!(
                            "inputs of shapes {:?} and {:?} cannot be joined on axis {axis}",
                            first.shape, v.shape
                        ));
                    }
                    shape[axis] += v.shape[axis];
                }
                let data = if r == 1 && vals.iter().all(|v| v.int_data().is_some()) {
                    Some(Data::Ints(vals.iter().flat_map(|v| v.int_data().unwrap().to_vec()).collect()))
                } else {
                    None
                };
                vec![Value { shape, data }]
            }
            "Shape" => {
                let s = &first()?.shape;
                let r = s.len() as i64;
                let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
                let (a, b) = (clamp(n.int("start", 0)), clamp(n.int("end", r)));
                let dims = if a < b { s[a..b].to_vec() } else { vec![] };
                vec![Value::ints(vec![dims.len() as i64], dims)]
            }
            "Size" => vec![Value::ints(vec![], vec![numel(&first()?.shape)?])],
            "Constant" => vec![constant(n)?],
            "ConstantOfShape" => {
                let shape = self.const_ints(n, 0, "shape")?;
                let count = numel(&shape)?;
                let fill = n.attr("value").and_then(|a| a.t.as_ref()).map(tensor_value).and_then(|v| v.data);
                let data = match fill {
                    Some(Data::Ints(v)) if count as usize <= MAX_DATA && v.len() == 1 => {
                        Some(Data::Ints(vec![v[0]; count as usize]))
                    }
                    None if count as usize <= MAX_DATA => Some(Data::Floats(vec![0.0; count as usize])),
                    _ => None,
                };
                vec![Value { shape, data }]
            }
            "Gather" => {
                let data = first()?;
                let idx = self.input(n, 1)?;
                let r = data.shape.len();
                let axis = norm_axis(n.int("axis", 0), r)?;
                let mut shape = data.shape[..axis].to_vec();
                shape.extend(&idx.shape);
                shape.extend(&data.shape[axis + 1..]);
                let vals = match (data.int_data(), idx.int_data()) {
                    (Some(d), Some(ix)) if r == 1 => {
                        let len = d.len() as i64;
                        ix.iter()
                            .map(|&i| {
                                let j = if i < 0 { i + len } else { i };
                                d.get(j as usize).copied().ok_or(format!("index {i} is out of range for {len} values"))
                            })
                            .collect::<Result<Vec<_>, _>>()
                            .map(Some)?
                    }
                    _ => None,
                };
                vec![Value { shape, data: vals.map(Data::Ints) }]
            }
            "Slice" => self.slice(n)?,
            "Split" => self.split(n)?,
            "Expand" => {
                let target = self.const_ints(n, 1, "shape")?;
                vec![Value::shaped(broadcast(&first()?.shape, &target)?)]
            }
            "Tile" => {
                let x = &first()?.shape;
                let rep = self.const_ints(n, 1, "repeats")?;
                if rep.len() != x.len() {
                    return Err(format!("{} repeats for {} dims", rep.len(), x.len()));
                }
                vec![Value::shaped(x.iter().zip(&rep).map(|(a, b)| a * b).collect())]
            }
            "Pad" => {
                let x = &first()?.shape;
                let r = x.len();
                let pads = if n.opset < 11 {
                    n.ints("pads").ok_or("no pads attribute")?
                } else {
                    self.const_ints(n, 1, "pads")?
                };
                let axes: Vec<usize> = match self.opt_input(n, 3)? {
                    Some(_) => {
                        self.const_ints(n, 3, "axes")?.iter().map(|&a| norm_axis(a, r)).collect::<Result<_, _>>()?
                    }
                    None => (0..r).collect(),
                };
                if pads.len() != 2 * axes.len() {
                    return Err(format!("{} pads for {} axes", pads.len(), axes.len()));
                }
                let mut shape = x.clone();
                for (j, &a) in axes.iter().enumerate() {
                    shape[a] += pads[j] + pads[j + axes.len()];
                    if shape[a] < 0 {
                        return Err(format!("pads {pads:?} remove more than axis {a} of {x:?}"));
                    }
                }
                vec![Value::shaped(shape)]
            }
            "MaxPool" | "AveragePool" | "LpPool" => {
                let x = &first()?.shape;
                if x.len() < 3 {
                    return Err(format!("input shape {x:?} has no spatial dims"));
                }
                let k = n.ints("kernel_shape").ok_or("no kernel_shape")?;
                let win = Window::from_node(n, x.len() - 2, &k)?;
                let mut shape = x[..2].to_vec();
                shape.extend(win.output(&x[2..], n.int("ceil_mode", 0) != 0)?);
                vec![Value::shaped(shape); nout.max(1)]
            }
            "GlobalAveragePool" | "GlobalMaxPool" | "GlobalLpPool" => {
                let x = &first()?.shape;
                if x.len() < 3 {
                    return Err(format!("input shape {x:?} has no spatial dims"));
                }
                let mut shape = x[..2].to_vec();
                shape.extend(std::iter::repeat_n(1, x.len() - 2));
                vec![Value::shaped(shape)]
            }
            "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" | "ReduceProd" | "ReduceL1" | "ReduceL2"
            | "ReduceLogSum" | "ReduceLogSumExp" | "ReduceSumSquare" => {
                let x = &first()?.shape;
                let input_since = if op == "ReduceSum" { 13 } else { 18 };
                let axes = self.axes(n, 1, input_since)?.unwrap_or_default();
                let noop = n.int("noop_with_empty_axes", 0) != 0;
                let axes: Vec<usize> = if axes.is_empty() {
                    if noop {
                        vec![]
                    } else {
                        (0..x.len()).collect()
                    }
                } else {
                    axes.iter().map(|&a| norm_axis(a, x.len())).collect::<Result<_, _>>()?
                };
                vec![Value::shaped(reduce(x, &axes, n.int("keepdims", 1) != 0))]
            }
            "ArgMax" | "ArgMin" => {
                let x = &first()?.shape;
                let axis = norm_axis(n.int("axis", 0), x.len())?;
                vec![Value::shaped(reduce(x, &[axis], n.int("keepdims", 1) != 0))]
            }
            "DepthToSpace" | "SpaceToDepth" => {
                let x = &first()?.shape;
                let b = n.int("blocksize", 0);
                if x.len() != 4 || b < 1 {
                    return Err(format!("needs a 4-D input and blocksize >= 1, got {x:?} and {b}"));
                }
                let s = if op == "DepthToSpace" {
                    vec![x[0], x[1] / (b * b), x[2] * b, x[3] * b]
                } else {
                    vec![x[0], x[1] * b * b, x[2] / b, x[3] / b]
                };
                vec![Value::shaped(s)]
            }
            "Resize" | "Upsample" => self.resize(n)?,
            "Range" => {
                let get = |i| self.input(n, i).ok().and_then(|v| v.float_data()).and_then(|v| v.first().copied());
                let (Some(a), Some(b), Some(d)) = (get(0), get(1), get(2)) else {
                    return Err("start, limit and delta must be constants".into());
                };
                let len = ((b - a) / d).ceil().max(0.0) as i64;
                let data = match (self.input(n, 0)?.int_data(), d.fract() == 0.0) {
                    (Some(_), true) if len as usize <= MAX_DATA => {
                        Some(Data::Ints((0..len).map(|i| a as i64 + i * d as i64).collect()))
                    }
                    _ => None,
                };
                vec![Value { shape: vec![len], data }]
            }
            _ => return Err(format!("op {op} is not among the ops whose shapes the importer computes")),
        })
    }

    /// Axes from an attribute (before `input_since`) or from input `i` (from it on; optional).
    fn axes(&self, n: &NodeView, i: usize, input_since: i64) -> Result<Option<Vec<i64>>, String> {
        if n.opset < input_since {
            Ok(n.ints("axes"))
        } else if self.opt_input(n, i)?.is_some() {
            self.const_ints(n, i, "axes").map(Some)
        } else {
            Ok(n.ints("axes"))
        }
    }

    fn slice(&self, n: &NodeView) -> Result<Vec<Value>, String> {
        let x = self.input(n, 0)?;
        let r = x.shape.len();
        let (starts, ends, axes, steps) = if n.opset < 10 {
            (n.ints("starts").ok_or("no starts")?, n.ints("ends").ok_or("no ends")?, n.ints("axes"), None)
        } else {
            let opt = |i, what| -> Result<Option<Vec<i64>>, String> {
                match self.opt_input(n, i)? {
                    Some(_) => self.const_ints(n, i, what).map(Some),
                    None => Ok(None),
                }
            };
            (self.const_ints(n, 1, "starts")?, self.const_ints(n, 2, "ends")?, opt(3, "axes")?, opt(4, "steps")?)
        };
        let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
        let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
        if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
            return Err("starts, ends, axes and steps differ in length".into());
        }
        let mut shape = x.shape.clone();
        let mut ranges: Vec<(i64, i64, i64)> = (0..r).map(|i| (0, x.shape[i], 1)).collect();
        for j in 0..starts.len() {
            let a = norm_axis(axes[j], r)?;
            let (d, step) = (x.shape[a], steps[j]);
            if step == 0 {
                return Err("a step is 0".into());
            }
            let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
            let (s, e) = (norm(starts[j]), norm(ends[j]));
            let len = if step > 0 {
                let (s, e) = (s.clamp(0, d), e.clamp(0, d));
                if e > s {
                    (e - s + step - 1) / step
                } else {
                    0
                }
            } else {
                let (s, e) = (s.clamp(0, d - 1), e.clamp(-1, d - 1));
                if s > e {
                    (s - e + (-step) - 1) / (-step)
                } else {
                    0
                }
            };
            shape[a] = len;
            ranges[a] = (if step > 0 { s.clamp(0, d) } else { s.clamp(0, d - 1) }, len, step);
        }
        let data = match x.int_data() {
            Some(v) if r == 1 => {
                let (s, len, step) = ranges[0];
                Some(Data::Ints((0..len).map(|i| v[(s + i * step) as usize]).collect()))
            }
            _ => None,
        };
        Ok(vec![Value { shape, data }])
    }

    fn split(&self, n: &NodeView) -> Result<Vec<Value>, String> {
        let x = &self.input(n, 0)?.shape;
        let axis = norm_axis(n.int("axis", 0), x.len())?;
        let nout = n.node.output.len();
        let sizes = if n.opset >= 13 && self.opt_input(n, 1)?.is_some() {
            self.const_ints(n, 1, "split")?
        } else if let Some(s) = n.ints("split").filter(|s| !s.is_empty()) {
            s
        } else {
            let parts = n.attr("num_outputs").map(|a| a.i).unwrap_or(nout as i64).max(1);
            let each = (x[axis] + parts - 1) / parts;
            (0..parts).map(|i| each.min(x[axis] - i * each).max(0)).collect()
        };
        if sizes.iter().sum::<i64>() != x[axis] || sizes.len() != nout {
            return Err(format!("split {sizes:?} does not divide axis {axis} of {x:?} into {nout} outputs"));
        }
        Ok(sizes
            .iter()
            .map(|&s| {
                let mut sh = x.clone();
                sh[axis] = s;
                Value::shaped(sh)
            })
            .collect())
    }

    fn resize(&self, n: &NodeView) -> Result<Vec<Value>, String> {
        let x = &self.input(n, 0)?.shape;
        let floor_scaled = |scales: &[f64]| -> Result<Shape, String> {
            if scales.len() != x.len() {
                return Err(format!("{} scales for {} dims", scales.len(), x.len()));
            }
            Ok(x.iter().zip(scales).map(|(&d, &s)| (d as f64 * s).floor() as i64).collect())
        };
        let scales_input = |i: usize| -> Result<Option<Vec<f64>>, String> {
            Ok(self.opt_input(n, i)?.and_then(|v| v.float_data()).filter(|v| !v.is_empty()))
        };
        let shape = if n.op() == "Upsample" && n.opset < 9 {
            floor_scaled(&n.attr("scales").ok_or("no scales")?.floats.iter().map(|&f| f as f64).collect::<Vec<_>>())?
        } else if n.op() == "Upsample" || n.opset < 11 {
            floor_scaled(&scales_input(1)?.ok_or("the scales are not constant")?)?
        } else if let Some(s) = scales_input(2)? {
            if n.ints("axes").is_some() {
                return Err("Resize with axes is not supported".into());
            }
            floor_scaled(&s)?
        } else if self.opt_input(n, 3)?.is_some() {
            let sizes = self.const_ints(n, 3, "sizes")?;
            if sizes.len() != x.len() || n.ints("axes").is_some() {
                return Err(format!("sizes {sizes:?} do not give every dim of {x:?}"));
            }
            if n.string("keep_aspect_ratio_policy").is_some_and(|p| p != "stretch") {
                return Err("keep_aspect_ratio_policy other than stretch is not supported".into());
            }
            sizes
        } else {
            return Err("neither scales nor sizes are given".into());
        };
        Ok(vec![Value::shaped(shape)])
    }
}

/// FC when the product has one row (GAMMA's `Out, In`), else GEMM `M, N, K`.
fn gemm_layer(m: i64, n: i64, k: i64) -> Layer {
    if m == 1 {
        Layer::new(n, k, 1, 1, 1, 1, LayerKind::Fc)
    } else {
        Layer::new(m, n, k, 1, 1, 1, LayerKind::Gemm)
    }
}

/// Strides, dilations and padding of a convolution or pooling window.
struct Window {
    k: Vec<i64>,
    strides: Vec<i64>,
    dilations: Vec<i64>,
    /// Begin pads then end pads (explicit), or the auto_pad mode.
    pads: Vec<i64>,
    auto_pad: String,
}

impl Window {
    fn from_node(n: &NodeView, spatial: usize, k: &[i64]) -> Result<Self, String> {
        let get = |name: &str, default: i64, len: usize| -> Result<Vec<i64>, String> {
            match n.ints(name) {
                Some(v) if v.len() == len => Ok(v),
                Some(v) if v.is_empty() => Ok(vec![default; len]),
                Some(v) => Err(format!("{name} {v:?} should have {len} values")),
                None => Ok(vec![default; len]),
            }
        };
        let w = Window {
            k: k.to_vec(),
            strides: get("strides", 1, spatial)?,
            dilations: get("dilations", 1, spatial)?,
            pads: get("pads", 0, 2 * spatial)?,
            auto_pad: n.string("auto_pad").unwrap_or_else(|| "NOTSET".into()),
        };
        if k.len() != spatial || k.iter().any(|&v| v < 1) {
            return Err(format!("kernel {k:?} does not fit {spatial} spatial dim(s)"));
        }
        if w.strides.iter().chain(&w.dilations).any(|&v| v < 1) || w.pads.iter().any(|&p| p < 0) {
            return Err(format!(
                "strides {:?}, dilations {:?} and pads {:?} must be positive",
                w.strides, w.dilations, w.pads
            ));
        }
        Ok(w)
    }

    fn output(&self, input: &[i64], ceil_mode: bool) -> Result<Vec<i64>, String> {
        let sp = input.len();
        (0..sp)
            .map(|i| {
                let (x, s) = (input[i], self.strides[i]);
                let eff = self.dilations[i] * (self.k[i] - 1) + 1;
                let out = match self.auto_pad.as_str() {
                    "SAME_UPPER" | "SAME_LOWER" => (x + s - 1) / s,
                    "VALID" => {
                        if x < eff {
                            0
                        } else {
                            (x - eff) / s + 1
                        }
                    }
                    "NOTSET" | "" => {
                        let (pb, pe) = (self.pads[i], self.pads[i + sp]);
                        let span = x + pb + pe - eff;
                        if span < 0 {
                            0
                        } else if ceil_mode {
                            let mut o = (span + s - 1) / s + 1;
                            // A last window starting inside the end padding is dropped.
                            if (o - 1) * s >= x + pb {
                                o -= 1;
                            }
                            o
                        } else {
                            span / s + 1
                        }
                    }
                    other => return Err(format!("auto_pad {other:?} is not NOTSET, SAME_UPPER, SAME_LOWER or VALID")),
                };
                if out < 1 {
                    return Err(format!(
                        "the window {} (dilated {eff}) does not fit the padded input {x} along spatial dim {i}",
                        self.k[i]
                    ));
                }
                Ok(out)
            })
            .collect()
    }
}

fn norm_axis(axis: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if (0..r).contains(&a) {
        Ok(a as usize)
    } else {
        Err(format!("axis {axis} is out of range for rank {rank}"))
    }
}

/// An axis that may equal the rank (Flatten's).
fn norm_axis_incl(axis: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if (0..=r).contains(&a) {
        Ok(a as usize)
    } else {
        Err(format!("axis {axis} is out of range for rank {rank}"))
    }
}

fn broadcast(a: &[i64], b: &[i64]) -> Result<Shape, String> {
    let r = a.len().max(b.len());
    let mut out = vec![0; r];
    for i in 0..r {
        let da = if i + a.len() >= r { a[i + a.len() - r] } else { 1 };
        let db = if i + b.len() >= r { b[i + b.len() - r] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return Err(format!("shapes {a:?} and {b:?} do not broadcast")),
        };
    }
    Ok(out)
}

fn reduce(x: &[i64], axes: &[usize], keep: bool) -> Shape {
    (0..x.len()).filter_map(|i| if axes.contains(&i) { keep.then_some(1) } else { Some(x[i]) }).collect()
}

fn reshape(input: &[i64], target: &[i64], allowzero: bool) -> Result<Shape, String> {
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            0 if !allowzero => {
                out.push(*input.get(i).ok_or(format!("target shape {target:?}: 0 at {i} has no input dim to copy"))?)
            }
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            t if t >= 0 => out.push(t),
            _ => return Err(format!("target shape {target:?} is not valid")),
        }
    }
    let total = numel(input)?;
    let known = numel(&out)?;
    match infer {
        Some(i) if known > 0 && total % known == 0 => out[i] = total / known,
        None if known == total => {}
        _ => return Err(format!("cannot reshape {input:?} ({total} elements) to {target:?}")),
    }
    Ok(out)
}

/// Elementwise integer arithmetic with broadcasting (shape computations such as `Mul(dim, 2)`).
fn int_elementwise(op: &str, a: &[i64], sa: &[i64], b: &[i64], sb: &[i64], out: &[i64]) -> Option<Vec<i64>> {
    let total = numel(out).ok()? as usize;
    if total > MAX_DATA {
        return None;
    }
    let index = |flat: usize, s: &[i64]| -> usize {
        // Map an output index to the broadcast input's flat index.
        let mut rem = flat;
        let mut idx = 0usize;
        let mut stride = 1usize;
        for d in (0..out.len()).rev() {
            let od = out[d] as usize;
            let coord = rem % od.max(1);
            rem /= od.max(1);
            let k = d as isize - (out.len() as isize - s.len() as isize);
            if k >= 0 {
                let sd = s[k as usize] as usize;
                idx += if sd == 1 { 0 } else { coord * stride };
                stride *= sd;
            }
        }
        idx
    };
    (0..total)
        .map(|i| {
            let (x, y) = (*a.get(index(i, sa))?, *b.get(index(i, sb))?);
            match op {
                "Add" => x.checked_add(y),
                "Sub" => x.checked_sub(y),
                "Mul" => x.checked_mul(y),
                _ => x.checked_div(y),
            }
        })
        .collect()
}

fn constant(n: &NodeView) -> Result<Value, String> {
    if let Some(t) = n.attr("value").and_then(|a| a.t.as_ref()) {
        return Ok(tensor_value(t));
    }
    if let Some(a) = n.attr("value_int") {
        return Ok(Value::ints(vec![], vec![a.i]));
    }
    if let Some(a) = n.attr("value_ints") {
        return Ok(Value::ints(vec![a.ints.len() as i64], a.ints.clone()));
    }
    if let Some(a) = n.attr("value_float") {
        return Ok(Value { shape: vec![], data: Some(Data::Floats(vec![a.f as f64])) });
    }
    if let Some(a) = n.attr("value_floats") {
        return Ok(Value {
            shape: vec![a.floats.len() as i64],
            data: Some(Data::Floats(a.floats.iter().map(|&f| f as f64).collect())),
        });
    }
    Err("no value attribute the importer reads (value, value_int(s), value_float(s))".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(shape: &[i64]) -> Option<pb::TypeProto> {
        Some(pb::TypeProto {
            tensor_type: Some(pb::TypeTensor {
                elem_type: pb::FLOAT,
                shape: Some(pb::TensorShapeProto {
                    dim: shape.iter().map(|&d| pb::Dimension { dim_value: Some(d), dim_param: None }).collect(),
                }),
            }),
        })
    }

    fn input(name: &str, shape: &[i64]) -> pb::ValueInfoProto {
        pb::ValueInfoProto { name: name.into(), r#type: dims(shape) }
    }

    fn ints_attr(name: &str, v: &[i64]) -> pb::AttributeProto {
        pb::AttributeProto { name: name.into(), ints: v.to_vec(), r#type: 7, ..Default::default() }
    }

    fn int_attr(name: &str, v: i64) -> pb::AttributeProto {
        pb::AttributeProto { name: name.into(), i: v, r#type: 2, ..Default::default() }
    }

    fn node(op: &str, name: &str, ins: &[&str], outs: &[&str], attrs: Vec<pb::AttributeProto>) -> pb::NodeProto {
        pb::NodeProto {
            input: ins.iter().map(|s| s.to_string()).collect(),
            output: outs.iter().map(|s| s.to_string()).collect(),
            name: name.into(),
            op_type: op.into(),
            domain: String::new(),
            attribute: attrs,
        }
    }

    fn model(nodes: Vec<pb::NodeProto>, inputs: Vec<pb::ValueInfoProto>, inits: Vec<pb::TensorProto>) -> Vec<u8> {
        pb::ModelProto {
            ir_version: 8,
            opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 17 }],
            producer_name: "gammaflow-test".into(),
            graph: Some(pb::GraphProto {
                node: nodes,
                name: "g".into(),
                initializer: inits,
                input: inputs,
                ..Default::default()
            }),
        }
        .encode_to_vec()
    }

    fn int64_init(name: &str, v: &[i64]) -> pb::TensorProto {
        pb::TensorProto {
            name: name.into(),
            dims: vec![v.len() as i64],
            data_type: pb::INT64,
            int64_data: v.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn auto_pad_same_and_asymmetric_pads() {
        // x 1x4x15x15; SAME_UPPER, stride 2, 3x3: out = ceil(15/2) = 8, so Y = 8 + 3 - 1 = 10.
        // Then pads (top 0, left 1, bottom 2, right 0), 3x3 stride 1 on 8x8: out H = 8+0+2-3+1 = 8,
        // W = 8+1+0-3+1 = 7, so Y = 10, X = 9.
        let bytes = model(
            vec![
                node(
                    "Conv",
                    "a",
                    &["x", "w1"],
                    &["y1"],
                    vec![
                        pb::AttributeProto {
                            name: "auto_pad".into(),
                            s: b"SAME_UPPER".to_vec(),
                            r#type: 3,
                            ..Default::default()
                        },
                        ints_attr("strides", &[2, 2]),
                    ],
                ),
                node("Conv", "b", &["y1", "w2"], &["y2"], vec![ints_attr("pads", &[0, 1, 2, 0])]),
            ],
            vec![input("x", &[1, 4, 15, 15]), input("w1", &[6, 4, 3, 3]), input("w2", &[5, 6, 3, 3])],
            vec![],
        );
        let imp = import_onnx_bytes(&bytes, "t.onnx", "t").unwrap();
        assert_eq!(imp.model.layers, vec![Layer::conv(6, 4, 10, 10, 3, 3), Layer::conv(5, 6, 10, 9, 3, 3)]);
        assert_eq!(imp.layers[0].stride, [2, 2]);
        assert_eq!(imp.layers[1].stride, [1, 1]);
        // 6·4·8·8·9 + 5·6·8·7·9
        assert_eq!(imp.total_macs(), 6 * 4 * 8 * 8 * 9 + 5 * 6 * 8 * 7 * 9);
    }

    #[test]
    fn shape_arithmetic_feeds_reshape() {
        // Reshape's target [d0, -1] built from Shape → Gather → Unsqueeze → Concat (as PyTorch
        // exports flatten), then a MatMul against a [12, 5] weight: M = 2, K = 3·4 = 12.
        let bytes = model(
            vec![
                node("Shape", "s", &["x"], &["sh"], vec![]),
                node("Gather", "g", &["sh", "zero"], &["d0"], vec![int_attr("axis", 0)]),
                node("Unsqueeze", "u", &["d0", "ax0"], &["d0v"], vec![]),
                node("Concat", "c", &["d0v", "minus1"], &["target"], vec![int_attr("axis", 0)]),
                node("Reshape", "r", &["x", "target"], &["flat"], vec![]),
                node("MatMul", "fc", &["flat", "w"], &["y"], vec![]),
            ],
            vec![input("x", &[2, 3, 4]), input("w", &[12, 5])],
            vec![
                pb::TensorProto {
                    name: "zero".into(),
                    dims: vec![],
                    data_type: pb::INT64,
                    int64_data: vec![0],
                    ..Default::default()
                },
                int64_init("ax0", &[0]),
                int64_init("minus1", &[-1]),
            ],
        );
        let imp = import_onnx_bytes(&bytes, "t.onnx", "t").unwrap();
        assert_eq!(imp.model.layers, vec![Layer::new(2, 5, 12, 1, 1, 1, LayerKind::Gemm)]);
        assert_eq!(imp.skipped.values().sum::<usize>(), 5);
        assert!(
            imp.summary()
                .contains("skipped 5 node(s) without MACs (Concat 1, Gather 1, Reshape 1, Shape 1, Unsqueeze 1)"),
            "{}",
            imp.summary()
        );
    }

    #[test]
    fn reshape_zero_and_minus_one() {
        assert_eq!(reshape(&[2, 3, 4], &[0, -1], false).unwrap(), vec![2, 12]);
        assert_eq!(reshape(&[2, 3, 4], &[-1, 0, 2], false).unwrap(), vec![4, 3, 2]);
        assert!(reshape(&[2, 3, 4], &[5, -1], false).is_err());
        assert!(reshape(&[2, 3, 4], &[-1, -1], false).is_err());
        assert_eq!(reshape(&[2, 0], &[0, 7], true).unwrap(), vec![0, 7]);
    }

    #[test]
    fn broadcast_rules() {
        assert_eq!(broadcast(&[2, 1, 4], &[3, 1]).unwrap(), vec![2, 3, 4]);
        assert!(broadcast(&[2, 3], &[4]).is_err());
        let out = broadcast(&[2, 1], &[1, 3]).unwrap();
        assert_eq!(
            int_elementwise("Mul", &[1, 2], &[2, 1], &[10, 20, 30], &[1, 3], &out).unwrap(),
            vec![10, 20, 30, 20, 40, 60]
        );
    }

    #[test]
    fn pooling_ceil_mode_drops_a_window_in_the_padding() {
        let n = node("MaxPool", "p", &[], &[], vec![]);
        let nv = NodeView { node: &n, opset: 17, label: "p" };
        let mut w = Window::from_node(&nv, 1, &[2]).unwrap();
        w.strides = vec![2];
        w.pads = vec![0, 1];
        // 5 + 1 - 2 = 4 → floor 4/2+1 = 3, ceil 3 (the 4th window would start at 6 ≥ 5+0).
        assert_eq!(w.output(&[5], true).unwrap(), vec![3]);
        assert_eq!(w.output(&[6], true).unwrap(), vec![3]);
        w.pads = vec![0, 0];
        // 6 - 2 = 4 → 3 either way; 7 - 2 = 5 → floor 3, ceil 4 (starts at 6 < 7).
        assert_eq!(w.output(&[7], false).unwrap(), vec![3]);
        assert_eq!(w.output(&[7], true).unwrap(), vec![4]);
    }

    #[test]
    fn unknown_op_is_shaped_from_value_info_or_named_in_the_error() {
        let nodes =
            || vec![node("FancyOp", "weird", &["x"], &["y"], vec![]), node("Conv", "c", &["y", "w"], &["z"], vec![])];
        let inputs = || vec![input("x", &[1, 2, 8, 8]), input("w", &[4, 2, 3, 3])];
        let e = import_onnx_bytes(&model(nodes(), inputs(), vec![]), "t.onnx", "t").unwrap_err().to_string();
        assert!(e.starts_with("t.onnx: node \"weird\" (op FancyOp): cannot compute its output shape"), "{e}");
        let mut m = pb::ModelProto::decode(model(nodes(), inputs(), vec![]).as_slice()).unwrap();
        m.graph.as_mut().unwrap().value_info.push(input("y", &[1, 2, 6, 6]));
        let imp = import_onnx_bytes(&m.encode_to_vec(), "t.onnx", "t").unwrap();
        assert_eq!(imp.model.layers, vec![Layer::conv(4, 2, 6, 6, 3, 3)]);
        assert_eq!(imp.skipped.get("FancyOp"), Some(&1));
    }

    #[test]
    fn symbolic_batch_is_taken_as_one_and_noted() {
        let mut x = input("x", &[0, 3]);
        if let Some(t) = x.r#type.as_mut().and_then(|t| t.tensor_type.as_mut()).and_then(|t| t.shape.as_mut()) {
            t.dim[0] = pb::Dimension { dim_value: None, dim_param: Some("batch".into()) };
        }
        let bytes = model(
            vec![node("Gemm", "fc", &["x", "w"], &["y"], vec![int_attr("transB", 1)])],
            vec![x, input("w", &[7, 3])],
            vec![],
        );
        let imp = import_onnx_bytes(&bytes, "t.onnx", "t").unwrap();
        assert_eq!(imp.model.layers, vec![Layer::new(7, 3, 1, 1, 1, 1, LayerKind::Fc)]);
        assert!(imp.summary().contains("symbolic dim \"batch\" of \"x\" taken as 1"), "{}", imp.summary());
    }
}
