//! Built-in models, embedded from `data/models/*.csv` so the binary works without the data folder.
//!
//! The files follow GAMMA's convention: each layer's `Y`,`X` is the spatial size of its *input*
//! feature map, without padding; strides are not representable and are only visible as the next
//! layer's smaller input. The CSVs carry no comments so that GAMMA's own pandas loader reads them
//! too; provenance is documented here instead:
//!
//! - `resnet18`, `resnet50`: torchvision ResNet v1.5 (stride on the 3×3 of a bottleneck), 224×224
//!   input; every convolution including the 1×1 downsample shortcuts, then the final FC.
//!   Within a block the rows are listed in order: convs of the main path, then the shortcut.
//! - `vgg16`: configuration D, 13 3×3 convolutions and 3 FC layers.
//! - `alexnet`: the original paper's channel counts (96/256/384/384/256) on 227×227 input, with
//!   the two-GPU grouping removed (single tower), plus its 3 FC layers.
//! - `mobilenet_v2`: torchvision MobileNetV2 width 1.0 — depth-wise 3×3s as `T = 2` rows
//!   (`K = 1`), expansion and projection 1×1s as CONV, final 1×1 to 1280 and the classifier.
//! - `mnasnet`: torchvision `mnasnet1_0` (MnasNet-B1 without squeeze-excitation), same layout.
//! - `bert`: one BERT-base encoder layer, sequence length 512, hidden 768, 12 heads of 64,
//!   FFN 3072, as GEMMs `M,N,K` (`A[M×K]·B[K×N]`): Q/K/V projections, then `QKᵀ` and `A·V` once
//!   per head (12 rows each, so that summing layer costs gives the whole layer), the output
//!   projection and the two FFN GEMMs.
//! - `toy`: three small CONV layers (all dims ≤ 16) for fast tests.

use std::path::Path;

use super::{load_model_file, parse_model_csv, Model, ModelError};

/// (name, CSV text). Order here is the order shown to users.
const BUILTINS: &[(&str, &str)] = &[
    ("resnet18", include_str!("../../data/models/resnet18.csv")),
    ("resnet50", include_str!("../../data/models/resnet50.csv")),
    ("vgg16", include_str!("../../data/models/vgg16.csv")),
    ("alexnet", include_str!("../../data/models/alexnet.csv")),
    ("mobilenet_v2", include_str!("../../data/models/mobilenet_v2.csv")),
    ("mnasnet", include_str!("../../data/models/mnasnet.csv")),
    ("bert", include_str!("../../data/models/bert.csv")),
    ("toy", include_str!("../../data/models/toy.csv")),
];

const NAMES: &[&str] = &["resnet18", "resnet50", "vgg16", "alexnet", "mobilenet_v2", "mnasnet", "bert", "toy"];

/// Names accepted by [`builtin_model`].
pub fn builtin_names() -> &'static [&'static str] {
    NAMES
}

/// A built-in model by name (case-insensitive), or `None`.
pub fn builtin_model(name: &str) -> Option<Model> {
    let (canonical, text) = BUILTINS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))?;
    // The embedded files are covered by unit tests, so a failure here is a build defect.
    let layers = parse_model_csv(text, &format!("{canonical}.csv"))
        .unwrap_or_else(|e| panic!("built-in model {canonical} is invalid: {e}"));
    Some(Model::new(*canonical, layers))
}

/// Resolves a command-line model argument: a built-in name first, otherwise a CSV file path or
/// an ONNX file (`.onnx`, see [`super::onnx`]).
///
/// An argument that looks like a path (has a separator or a `.csv` suffix) is always read as a
/// file, so a typo in a path reports the missing file instead of "unknown model".
pub fn resolve_model(name_or_path: &str) -> Result<Model, ModelError> {
    if let Some(m) = builtin_model(name_or_path) {
        return Ok(m);
    }
    let path = Path::new(name_or_path);
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("onnx")) {
        return super::onnx::load_onnx_model(path);
    }
    let looks_like_path =
        name_or_path.contains(['/', '\\']) || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if looks_like_path || path.is_file() {
        return load_model_file(path);
    }
    Err(ModelError::UnknownModel { name: name_or_path.to_string(), known: NAMES.join(", ") })
}

#[cfg(test)]
mod tests {
    use super::super::{Layer, LayerKind};
    use super::*;

    #[test]
    fn names_match_embedded_files() {
        let embedded: Vec<&str> = BUILTINS.iter().map(|(n, _)| *n).collect();
        assert_eq!(embedded, builtin_names());
    }

    #[test]
    fn every_builtin_parses_with_expected_layer_count() {
        let expected = [
            ("resnet18", 21),
            ("resnet50", 54),
            ("vgg16", 16),
            ("alexnet", 8),
            ("mobilenet_v2", 53),
            ("mnasnet", 53),
            ("bert", 30),
            ("toy", 3),
        ];
        assert_eq!(expected.len(), builtin_names().len());
        for (name, count) in expected {
            let m = builtin_model(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(m.name, name);
            assert_eq!(m.layers.len(), count, "{name}");
            for (i, l) in m.layers.iter().enumerate() {
                assert!(l.validate().is_ok(), "{name} row {}: {:?}", i + 1, l.validate());
            }
        }
    }

    #[test]
    fn resnet18_rows() {
        let m = builtin_model("resnet18").unwrap();
        assert_eq!(m.layers[0], Layer::conv(64, 3, 224, 224, 7, 7));
        assert_eq!(m.layers[1], Layer::conv(64, 64, 56, 56, 3, 3));
        assert_eq!(*m.layers.last().unwrap(), Layer::new(1000, 512, 1, 1, 1, 1, LayerKind::Fc));
    }

    #[test]
    fn kinds_and_channel_chaining() {
        let mb = builtin_model("mobilenet_v2").unwrap();
        let dw: Vec<&Layer> = mb.layers.iter().filter(|l| l.kind == LayerKind::DsConv).collect();
        assert_eq!(dw.len(), 17);
        assert!(dw.iter().all(|l| l.k == 1));
        // Each CONV/DSCONV layer consumes what the previous one produced (no grouping, no concat
        // in these architectures, except the resnet shortcuts which are checked separately).
        for name in ["mobilenet_v2", "mnasnet", "vgg16", "alexnet"] {
            let m = builtin_model(name).unwrap();
            let mut prev_out: Option<i64> = None;
            for (i, l) in m.layers.iter().enumerate().filter(|(_, l)| l.kind != LayerKind::Fc) {
                if let Some(p) = prev_out {
                    assert_eq!(l.c, p, "{name} row {}", i + 1);
                }
                prev_out = Some(if l.kind == LayerKind::DsConv { l.c } else { l.k });
            }
        }
        let bert = builtin_model("bert").unwrap();
        assert!(bert.layers.iter().all(|l| l.kind == LayerKind::Gemm));
        let macs: i64 = bert.layers.iter().map(|l| l.shape().true_macs()).sum();
        // 4·L·D² + 2·L·D·F + 2·H·L²·dh for L=512, D=768, F=3072, H=12, dh=64.
        assert_eq!(macs, 4 * 512 * 768 * 768 + 2 * 512 * 768 * 3072 + 2 * 12 * 512 * 512 * 64);
    }

    #[test]
    fn toy_is_small() {
        let m = builtin_model("TOY").unwrap();
        assert!(m.layers.iter().all(|l| l.kind == LayerKind::Conv && l.shape().dims.iter().all(|&d| d <= 16)));
    }

    #[test]
    fn resolve_builtin_file_and_unknown() {
        assert_eq!(resolve_model("ResNet18").unwrap().name, "resnet18");

        let dir = std::env::temp_dir().join(format!("gammaflow-builtin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mine.csv");
        std::fs::write(&path, "K,C,Y,X,R,S,T\n8,4,16,16,3,3,1\n").unwrap();
        let m = resolve_model(path.to_str().unwrap()).unwrap();
        assert_eq!(m.name, "mine");
        std::fs::remove_dir_all(&dir).unwrap();

        let e = resolve_model("resnet19").unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, ModelError::UnknownModel { .. }));
        assert!(msg.contains("resnet19") && msg.contains("resnet18") && msg.contains("bert"), "{msg}");

        let e = resolve_model("no/such/model.csv").unwrap_err();
        assert!(matches!(e, ModelError::Io { .. }), "{e}");
    }
}
