//! Workloads: DNN layers and model files.
//!
//! A [`Layer`] is one row of a GAMMA model CSV. `Y`/`X` are *input* sizes (the cost model derives
//! the output extents `Y' = Y - R + 1`, `X' = X - S + 1`; stride 1, no padding, as GAMMA does).

pub mod builtin;
mod csv_loader;
pub mod onnx;

pub use csv_loader::{load_model_file, parse_model_csv, parse_model_csv_strides, ModelError};

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// Layer type, with GAMMA's numeric codes (`T` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LayerKind {
    /// `T = 0`: fully connected, raw columns `Out, In` in `K, C`.
    Fc,
    /// `T = 1`: convolution.
    Conv,
    /// `T = 2`: depth-wise convolution (K = 1; MAESTRO `DSCONV`).
    DsConv,
    /// `T = 3`: GEMM, raw columns `M, N, K` in `K, C, Y`.
    Gemm,
}

impl LayerKind {
    pub fn from_code(t: i64) -> Option<Self> {
        match t {
            0 => Some(LayerKind::Fc),
            1 => Some(LayerKind::Conv),
            2 => Some(LayerKind::DsConv),
            3 => Some(LayerKind::Gemm),
            _ => None,
        }
    }
    pub fn code(self) -> i64 {
        match self {
            LayerKind::Fc => 0,
            LayerKind::Conv => 1,
            LayerKind::DsConv => 2,
            LayerKind::Gemm => 3,
        }
    }
}

/// One layer exactly as written in a GAMMA model file (raw columns, before the FC/GEMM rewrite).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Layer {
    #[serde(rename = "K")]
    pub k: i64,
    #[serde(rename = "C")]
    pub c: i64,
    #[serde(rename = "Y")]
    pub y: i64,
    #[serde(rename = "X")]
    pub x: i64,
    #[serde(rename = "R")]
    pub r: i64,
    #[serde(rename = "S")]
    pub s: i64,
    #[serde(rename = "T", with = "kind_code")]
    pub kind: LayerKind,
}

mod kind_code {
    use super::LayerKind;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(k: &LayerKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(k.code())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LayerKind, D::Error> {
        let t = i64::deserialize(d)?;
        LayerKind::from_code(t).ok_or_else(|| serde::de::Error::custom(format!("layer type T={t} is not 0..3")))
    }
}

/// The shape the cost model sees: `[K, C, Y, X, R, S]` after GAMMA's FC/GEMM rewrite
/// (`get_CONVtypeShape`), plus whether MAESTRO runs it as `DSCONV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelShape {
    /// K, C, Y, X, R, S (Y, X input sizes).
    pub dims: [i64; 6],
    pub depthwise: bool,
}

impl ModelShape {
    pub fn k(&self) -> i64 {
        self.dims[0]
    }
    pub fn y_out(&self) -> i64 {
        self.dims[2].saturating_sub(self.dims[4]).saturating_add(1)
    }
    pub fn x_out(&self) -> i64 {
        self.dims[3].saturating_sub(self.dims[5]).saturating_add(1)
    }
    /// The layer's true MAC count: K·C·Y'·X'·R·S (CONV), C·Y'·X'·R·S (DSCONV).
    /// Saturates at `i64::MAX` for shapes whose count does not fit (which
    /// [`Layer::validate`] rejects), so no caller ever sees a wrapped count.
    pub fn true_macs(&self) -> i64 {
        self.checked_true_macs().unwrap_or(i64::MAX)
    }

    /// [`ModelShape::true_macs`], or `None` when the product does not fit in 64 bits.
    pub fn checked_true_macs(&self) -> Option<i64> {
        let [k, c, _, _, r, s] = self.dims;
        let k = if self.depthwise { 1 } else { k };
        [k, c, self.y_out(), self.x_out(), r, s].iter().try_fold(1i64, |p, &d| p.checked_mul(d))
    }
}

impl Layer {
    /// The keys of a layer's JSON form (the model CSV's columns).
    pub const FIELDS: [&'static str; 7] = ["K", "C", "Y", "X", "R", "S", "T"];

    pub fn new(k: i64, c: i64, y: i64, x: i64, r: i64, s: i64, kind: LayerKind) -> Self {
        Layer { k, c, y, x, r, s, kind }
    }
    pub fn conv(k: i64, c: i64, y: i64, x: i64, r: i64, s: i64) -> Self {
        Self::new(k, c, y, x, r, s, LayerKind::Conv)
    }

    /// GAMMA's rewrite: GEMM (M,N,K) → K=N, C=K, Y=M, X=R=S=1; FC (Out,In) → K=Out, C=In, rest 1.
    pub fn shape(&self) -> ModelShape {
        match self.kind {
            LayerKind::Conv => ModelShape { dims: [self.k, self.c, self.y, self.x, self.r, self.s], depthwise: false },
            LayerKind::DsConv => ModelShape { dims: [self.k, self.c, self.y, self.x, self.r, self.s], depthwise: true },
            LayerKind::Fc => ModelShape { dims: [self.k, self.c, 1, 1, 1, 1], depthwise: false },
            LayerKind::Gemm => ModelShape { dims: [self.c, self.y, self.k, 1, 1, 1], depthwise: false },
        }
    }

    /// Checks that the layer can be evaluated: every dim positive, R ≤ Y and S ≤ X, and dims small
    /// enough that the model's 64-bit counts cannot overflow. Returns the offending field.
    pub fn validate(&self) -> Result<(), FieldError> {
        let err = |field: &'static str, message: String| Err(FieldError { field, message });
        let sh = self.shape();
        let names = ["K", "C", "Y", "X", "R", "S"];
        for (i, &v) in sh.dims.iter().enumerate() {
            if v <= 0 {
                return err(names[i], format!("{} must be a positive integer, got {v}", names[i]));
            }
            if v > MAX_DIM {
                return err(names[i], format!("{} = {v} exceeds the supported maximum {MAX_DIM}", names[i]));
            }
        }
        if sh.dims[4] > sh.dims[2] {
            return err("R", format!("R = {} is larger than the input height Y = {}", sh.dims[4], sh.dims[2]));
        }
        if sh.dims[5] > sh.dims[3] {
            return err("S", format!("S = {} is larger than the input width X = {}", sh.dims[5], sh.dims[3]));
        }
        // Checked: a count past 64 bits must not wrap into a small, plausible one.
        match sh.checked_true_macs() {
            Some(m) if m <= MAX_MACS => {}
            Some(m) => return err("K", format!("layer has {m} MACs, above the supported maximum {MAX_MACS}")),
            None => return err("K", format!("layer's MAC count overflows 64 bits (maximum {MAX_MACS})")),
        }
        Ok(())
    }
}

/// Largest accepted dimension. MAESTRO reads dims as C++ `int`; GPU tiles are packed as u32.
pub const MAX_DIM: i64 = 1 << 20;
/// Largest accepted true MAC count: keeps every 64-bit count of the model far from overflow.
pub const MAX_MACS: i64 = 1 << 52;

/// A named list of layers (a model file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub name: String,
    pub layers: Vec<Layer>,
    /// The original stride (Y, X) of each layer, where the source gave one (ONNX import, or a
    /// model CSV with a `stride` column); empty means stride 1 everywhere. The layers themselves
    /// are the stride-1 equivalents the cost model evaluates: this is only reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strides: Vec<[i64; 2]>,
}

impl Model {
    /// A model whose layers all have stride 1.
    pub fn new(name: impl Into<String>, layers: Vec<Layer>) -> Model {
        Model { name: name.into(), layers, strides: Vec::new() }
    }

    /// The original stride of layer `i` (0-based): (1, 1) unless the source said otherwise.
    pub fn stride(&self, i: usize) -> [i64; 2] {
        self.strides.get(i).copied().unwrap_or([1, 1])
    }
}

/// A stride as written in model files and result columns: `2`, or `2x1` (Y then X) when the two
/// differ.
pub fn stride_text(s: [i64; 2]) -> String {
    if s[0] == s[1] {
        s[0].to_string()
    } else {
        format!("{}x{}", s[0], s[1])
    }
}
