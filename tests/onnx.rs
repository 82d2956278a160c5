//! ONNX import on graphs written by the Python `onnx` package (`tests/data/onnx/make_models.py`):
//! layer lists, shapes and MAC counts against hand-computed values, the value_info path against
//! onnx's own shape inference, ResNet-18 and MobileNet-V2 against the built-in models, the
//! `import` command's round trip, a sweep naming an .onnx model, and the errors for malformed
//! files.

use gammaflow::workload::builtin::{builtin_model, builtin_names, resolve_model};
use gammaflow::workload::onnx::{import_onnx, import_onnx_bytes, OnnxErrorKind, OnnxImport};
use gammaflow::workload::{parse_model_csv, Layer, LayerKind};
use std::path::{Path, PathBuf};
use std::process::Command;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx").join(name)
}

fn import(name: &str) -> OnnxImport {
    import_onnx(&data(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn macs(l: &Layer) -> i64 {
    l.shape().true_macs()
}

fn conv(k: i64, c: i64, y: i64, x: i64, r: i64, s: i64) -> Layer {
    Layer::conv(k, c, y, x, r, s)
}

fn dsconv(c: i64, y: i64, x: i64, r: i64, s: i64) -> Layer {
    Layer::new(1, c, y, x, r, s, LayerKind::DsConv)
}

fn gemm(m: i64, n: i64, k: i64) -> Layer {
    Layer::new(m, n, k, 1, 1, 1, LayerKind::Gemm)
}

fn fc(out: i64, inp: i64) -> Layer {
    Layer::new(out, inp, 1, 1, 1, 1, LayerKind::Fc)
}

fn skipped(imp: &OnnxImport) -> Vec<(&str, usize)> {
    imp.skipped.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}

#[test]
fn padded_strided_depthwise_grouped_dilated_convolutions_and_gemm() {
    let imp = import("convs.onnx");
    // Input 1x3x32x32. Output size o = floor((i + pads - d(k-1) - 1) / s) + 1; the layer's input
    // (stride-1 equivalent) is o + k - 1.
    // conv1 7x7/2 p3: o = floor((32+6-7)/2)+1 = 16, Y = 16+6 = 22.
    // MaxPool 3x3/2 p1: floor((16+2-3)/2)+1 = 8.
    // conv2 3x3 p1 (initializer weight): o = 8, Y = 10.
    // dw3 3x3/2 p1, group 16 = channels: o = floor((8+2-3)/2)+1 = 4, Y = 6, DSCONV.
    // gconv4 16->32, group 4: four CONV layers of K 8, C 4; o = 4, Y = 6.
    // dil5 3x3 dilation 2 p2: o = 4+4-5+1 = 4, Y = 4+2 = 6 (dense 3x3, same output and MACs).
    // rect6 3x1, strides 2x1, pads H 1+1: o_H = floor((4+2-3)/2)+1 = 2, o_W = 4; Y = 4, X = 4.
    // GlobalAveragePool, Flatten: [1, 8]; fc Gemm transB [10, 8]: FC 10 <- 8.
    let expected = vec![
        conv(8, 3, 22, 22, 7, 7),
        conv(16, 8, 10, 10, 3, 3),
        dsconv(16, 6, 6, 3, 3),
        conv(8, 4, 6, 6, 3, 3),
        conv(8, 4, 6, 6, 3, 3),
        conv(8, 4, 6, 6, 3, 3),
        conv(8, 4, 6, 6, 3, 3),
        conv(8, 32, 6, 6, 3, 3),
        conv(8, 8, 4, 4, 3, 1),
        fc(10, 8),
    ];
    assert_eq!(imp.model.layers, expected);
    assert_eq!(imp.model.name, "convs");
    let strides: Vec<[i64; 2]> = imp.layers.iter().map(|l| l.stride).collect();
    assert_eq!(strides, vec![[2, 2], [1, 1], [2, 2], [1, 1], [1, 1], [1, 1], [1, 1], [1, 1], [2, 1], [1, 1]]);
    assert_eq!(imp.layers[7].dilation, [2, 2]);
    assert_eq!(imp.layers[3].part, "group 1/4");
    assert_eq!(imp.layers[6].part, "group 4/4");
    let per_layer: Vec<i64> = imp.model.layers.iter().map(macs).collect();
    assert_eq!(
        per_layer,
        vec![
            8 * 3 * 16 * 16 * 49, // conv1 on its true 16x16 output
            16 * 8 * 8 * 8 * 9,
            16 * 4 * 4 * 9,
            8 * 4 * 4 * 4 * 9,
            8 * 4 * 4 * 4 * 9,
            8 * 4 * 4 * 4 * 9,
            8 * 4 * 4 * 4 * 9,
            8 * 32 * 4 * 4 * 9,
            8 * 8 * 2 * 4 * 3,
            10 * 8,
        ]
    );
    // Grouping preserves the node's MACs: 32 outputs x 4 input channels per group x 16 x 9.
    assert_eq!(per_layer[3..7].iter().sum::<i64>(), 32 * 4 * 4 * 4 * 9);
    assert_eq!(imp.total_macs(), 434_000);
    assert_eq!(
        skipped(&imp),
        vec![
            ("BatchNormalization", 1),
            ("Clip", 1),
            ("Flatten", 1),
            ("GlobalAveragePool", 1),
            ("MaxPool", 1),
            ("Relu", 1),
            ("Softmax", 1)
        ]
    );
    let s = imp.summary();
    assert!(s.contains("10 layer(s) from 7 node(s) with MACs (Conv 6, Gemm 1), 434000 MACs"), "{s}");
    assert!(s.contains("skipped 7 node(s) without MACs"), "{s}");
    assert!(s.contains("4 strided or dilated layer(s)"), "{s}");
}

#[test]
fn gemm_and_matmul_fold_batch_into_m_or_list_batched_products() {
    let imp = import("matmuls.onnx");
    // GAMMA's GEMM row is M, N, K for A[MxK] . B[KxN].
    let expected = vec![
        gemm(4, 3, 6),     // gemm1: [4,6] x [6,3]
        gemm(4, 7, 3),     // gemm2: [4,3] x [7,3]^T
        gemm(4, 2, 5),     // gemm2b: [5,4]^T x [5,2]
        gemm(2 * 5, 7, 6), // mm3: [2,5,6] x [6,7], batch 2 folded into M = 10
        fc(9, 6),          // mm4: vector [6] x [6,9]: one row, FC 9 <- 6
        gemm(4, 6, 5),     // mm5: [2,3,4,5] x [2,3,5,6]: 2x3 = 6 products of [4,5] x [5,6]
        gemm(4, 6, 5),
        gemm(4, 6, 5),
        gemm(4, 6, 5),
        gemm(4, 6, 5),
        gemm(4, 6, 5),
        gemm(3 * 4, 2, 5), // mm6: [3,4,5] x [1,5,2]: one right-hand matrix, M = 12
    ];
    assert_eq!(imp.model.layers, expected);
    assert_eq!(imp.layers[5].part, "batch 1/6");
    // 4*3*6 + 4*7*3 + 4*2*5 + 10*7*6 + 9*6 + 6*(4*6*5) + 12*2*5
    assert_eq!(imp.total_macs(), 72 + 84 + 40 + 420 + 54 + 720 + 120);
    assert!(imp.skipped.is_empty());
}

#[test]
fn transformer_block() {
    let imp = import("transformer.onnx");
    // L = 6 tokens, D = 16, H = 2 heads of dh = 8, FFN F = 32, batch 1 (folded into M).
    let (l, d, h, dh, f) = (6, 16, 2, 8, 32);
    let mut expected = vec![gemm(l, d, d); 3]; // Q, K, V projections: [6,16] x [16,16]
    expected.extend(vec![gemm(l, l, dh); h as usize]); // Q.K^T per head: [6,8] x [8,6]
    expected.extend(vec![gemm(l, dh, l); h as usize]); // P.V per head: [6,6] x [6,8]
    expected.push(gemm(l, d, d)); // output projection
    expected.push(gemm(l, f, d)); // FFN up: [6,16] x [16,32]
    expected.push(gemm(l, d, f)); // FFN down: [6,32] x [32,16]
    assert_eq!(imp.model.layers, expected);
    let nodes: Vec<&str> = imp.layers.iter().map(|l| l.node.as_str()).collect();
    assert_eq!(
        nodes,
        ["q_proj", "k_proj", "v_proj", "scores", "scores", "context", "context", "out_proj", "ffn1", "ffn2"]
    );
    // 4 L D^2 + 2 H L^2 dh + 2 L D F = 6144 + 1152 + 6144.
    assert_eq!(imp.total_macs(), 4 * l * d * d + 2 * h * l * l * dh + 2 * l * d * f);
    assert_eq!(imp.total_macs(), 13_440);
    // Reshapes by a constant [0, 0, 2, -1] and by a shape computed through Shape/Gather/
    // Unsqueeze/Constant/Concat, softmax, dropout, layer norms and the erf GELU are all skipped.
    assert_eq!(
        skipped(&imp),
        vec![
            ("Add", 9),
            ("Concat", 1),
            ("Constant", 1),
            ("Div", 2),
            ("Dropout", 1),
            ("Erf", 1),
            ("Gather", 2),
            ("LayerNormalization", 2),
            ("Mul", 2),
            ("Reshape", 4),
            ("Shape", 1),
            ("Softmax", 1),
            ("Transpose", 4),
            ("Unsqueeze", 2)
        ]
    );
}

#[test]
fn ops_without_macs_are_shaped_and_counted() {
    let imp = import("no_macs.onnx");
    // Pad (H 1+1, W 2+2) folds into the conv's input: 10x10 -> 12x14; 3x3 conv: output 10x12.
    // SiLU, AveragePool 2/2 -> 5x6, Resize x2 -> 10x12, Concat with the conv -> 12 channels,
    // Split -> 2 x 6, Add, Identity, Dropout, ReduceMean over H, W -> [1,6], Unsqueeze/Squeeze,
    // Cast; MatMul [1,6] x [6,3] is one row: FC 3 <- 6.
    assert_eq!(imp.model.layers, vec![conv(6, 4, 12, 14, 3, 3), fc(3, 6)]);
    assert_eq!(imp.total_macs(), 6 * 4 * 10 * 12 * 9 + 3 * 6);
    assert_eq!(imp.skipped.values().sum::<usize>(), 14);
    for op in [
        "Pad",
        "Sigmoid",
        "Mul",
        "AveragePool",
        "Resize",
        "Concat",
        "Split",
        "Add",
        "Identity",
        "Dropout",
        "ReduceMean",
        "Unsqueeze",
        "Squeeze",
        "Cast",
    ] {
        assert_eq!(imp.skipped.get(op), Some(&1), "{op}: {:?}", imp.skipped);
    }
    assert!(imp.summary().contains("skipped 14 node(s) without MACs (Add 1, AveragePool 1,"), "{}", imp.summary());
}

/// The `_inferred` files carry value_info from onnx's own shape inference; their import must
/// equal the import of the bare graphs, whose shapes gammaflow computes.
#[test]
fn computed_shapes_equal_onnx_shape_inference() {
    for name in ["convs", "matmuls", "transformer", "no_macs", "resnet18", "mobilenet_v2"] {
        let bare = import(&format!("{name}.onnx"));
        let inferred = import(&format!("{name}_inferred.onnx"));
        assert_eq!(bare.layers, inferred.layers, "{name}");
        assert_eq!(bare.skipped, inferred.skipped, "{name}");
    }
}

/// ResNet-18's true MACs, stage by stage (224x224 input, torchvision layout).
fn resnet18_true_macs() -> i64 {
    let conv1 = 64 * 3 * 112 * 112 * 49;
    let layer1 = 4 * (64 * 64 * 56 * 56 * 9);
    // Each later stage: a strided 3x3 from c/2 channels, three 3x3 at c, a strided 1x1 shortcut.
    let stage = |c: i64, o: i64| c * (c / 2) * o * o * 9 + 3 * (c * c * o * o * 9) + c * (c / 2) * o * o;
    conv1 + layer1 + stage(128, 28) + stage(256, 14) + stage(512, 7) + 1000 * 512
}

/// MobileNet-V2's true MACs from its block table (t, c, n, s), 224x224 input.
fn mobilenet_v2_true_macs() -> i64 {
    let mut total = 32 * 3 * 112 * 112 * 9; // 3x3/2 stem
    let (mut cin, mut size) = (32i64, 112i64);
    for (t, c, n, s) in
        [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    {
        for i in 0..n {
            let stride = if i == 0 { s } else { 1 };
            let hidden = cin * t;
            if t != 1 {
                total += hidden * cin * size * size; // 1x1 expansion at the input size
            }
            size /= stride;
            total += hidden * size * size * 9; // depth-wise 3x3 at the output size
            total += c * hidden * size * size; // 1x1 projection
            cin = c;
        }
    }
    total + 1280 * 320 * 7 * 7 + 1000 * 1280
}

#[test]
fn resnet18_and_mobilenet_v2_match_the_builtins_with_true_macs() {
    for (name, truth) in [("resnet18", resnet18_true_macs()), ("mobilenet_v2", mobilenet_v2_true_macs())] {
        let imp = import(&format!("{name}.onnx"));
        let builtin = builtin_model(name).unwrap();
        assert_eq!(imp.model.layers.len(), builtin.layers.len(), "{name}");
        for (i, (a, b)) in imp.model.layers.iter().zip(&builtin.layers).enumerate() {
            // Same layer, except the spatial input size: the built-in has GAMMA's unpadded
            // input, the import the stride-1 equivalent of the true output.
            assert_eq!((a.k, a.c, a.r, a.s, a.kind), (b.k, b.c, b.r, b.s, b.kind), "{name} row {}", i + 1);
        }
        assert_eq!(imp.total_macs(), truth, "{name}");
    }
    assert_eq!(resnet18_true_macs(), 1_814_073_344);
    assert_eq!(mobilenet_v2_true_macs(), 300_774_272);
}

fn group_digits(v: i64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The README's models table, computed here; the README must contain it verbatim.
#[test]
fn readme_models_table_is_current() {
    let mut table = String::from(
        "| model | layers | MACs, GAMMA convention (built-in CSV) | true MACs (ONNX import) | built-in / true |\n|--|--|--|--|--|\n",
    );
    for &name in builtin_names() {
        let m = builtin_model(name).unwrap();
        let gamma: i64 = m.layers.iter().map(macs).sum();
        let onnx = ["resnet18", "mobilenet_v2"].contains(&name).then(|| import(&format!("{name}.onnx")).total_macs());
        let (t, ratio) = match onnx {
            Some(t) => (group_digits(t), format!("{:.2}", gamma as f64 / t as f64)),
            None => ("—".into(), "—".into()),
        };
        table += &format!("| `{name}` | {} | {} | {t} | {ratio} |\n", m.layers.len(), group_digits(gamma));
    }
    println!("{table}");
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.contains(&table), "README.md lacks the current models table:\n{table}");
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gammaflow"));
    c.env_remove("GAMMAFLOW_ADAPTER");
    c
}

#[test]
fn import_command_round_trips_through_the_model_loader() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["convs", "transformer", "mobilenet_v2"] {
        let imp = import(&format!("{name}.onnx"));
        for plain in [false, true] {
            let out = dir.path().join(format!("{name}-{plain}.csv"));
            let mut cmd = bin();
            cmd.arg("import").arg(data(&format!("{name}.onnx"))).arg("--out").arg(&out);
            if plain {
                cmd.arg("--plain");
            }
            let o = cmd.output().unwrap();
            let stdout = String::from_utf8_lossy(&o.stdout);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            // The binary prints the library's summary line.
            assert!(stdout.contains(&imp.summary()), "{stdout}");
            let text = std::fs::read_to_string(&out).unwrap();
            assert_eq!(text.lines().next().unwrap().ends_with(",T"), plain, "{text}");
            let back = resolve_model(out.to_str().unwrap()).unwrap();
            assert_eq!(back.layers, imp.model.layers, "{name} plain={plain}");
            assert_eq!(parse_model_csv(&text, "x.csv").unwrap(), imp.model.layers);
        }
    }
    // Strides and node names are kept in the default columns.
    let text = std::fs::read_to_string(dir.path().join("convs-false.csv")).unwrap();
    assert!(text.contains("\n8,3,22,22,7,7,1,2,1,conv1\n"), "{text}");
    assert!(text.contains("\n8,8,4,4,3,1,1,2x1,1,rect6\n"), "{text}");
    assert!(text.contains("\n8,32,6,6,3,3,1,1,2,dil5\n"), "{text}");
    assert!(text.contains(",gconv4 [group 2/4]\n"), "{text}");
}

#[test]
fn model_arguments_and_sweeps_accept_onnx_files() {
    let m = resolve_model(data("transformer.onnx").to_str().unwrap()).unwrap();
    assert_eq!((m.name.as_str(), m.layers.len()), ("transformer", 10));

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data("convs.onnx"), dir.path().join("net.onnx")).unwrap();
    let cfg = dir.path().join("sweep.toml");
    std::fs::write(
        &cfg,
        "models = [\"net.onnx\"]\nlayers = [1, 3]\nnum_pop = [6]\nepochs = [2]\nseeds = [1]\n\n[[accelerators]]\nname = \"small\"\nnum_pe = 64\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = bin()
        .args(["sweep", "--config", cfg.to_str().unwrap(), "--outdir", out.to_str().unwrap(), "--backend", "cpu", "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let rows = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let header: Vec<&str> = rows.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} in {header:?}"));
    let (layer, model, status, n, stride) = (col("layer"), col("model"), col("status"), col("num_macs"), col("stride"));
    let got: Vec<Vec<String>> = rows
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            [layer, model, status, n, stride].iter().map(|&i| f[i].to_string()).collect()
        })
        .collect();
    // Layer 1 is conv1 (8*3*16*16*49 MACs), layer 3 the depth-wise dw3 (16*4*4*9): the cost
    // model counts the imported layers' true MACs; both have stride 2.
    let want = |l: &str, m: i64| vec![l.to_string(), "net".into(), "ok".into(), m.to_string(), "2".into()];
    assert_eq!(got, vec![want("1", 8 * 3 * 16 * 16 * 49), want("3", 16 * 4 * 4 * 9)]);
}

#[test]
fn malformed_files_give_errors_naming_file_and_node() {
    let err = |name: &str| import_onnx(&data(name)).unwrap_err();

    let e = err("missing_shape.onnx");
    let msg = e.to_string();
    assert!(msg.contains("missing_shape.onnx: node \"relu1\" (op Relu):"), "{msg}");
    assert!(msg.contains("input \"x\" is a graph input without a shape"), "{msg}");

    let e = err("conv_transpose.onnx");
    assert!(matches!(e.kind, OnnxErrorKind::Unsupported { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("conv_transpose.onnx: node \"upsample\" (op ConvTranspose) has MACs but is not supported"),
        "{msg}"
    );

    let msg = err("einsum.onnx").to_string();
    assert!(msg.contains("einsum.onnx: node \"contract\" (op Einsum) has MACs but is not supported"), "{msg}");

    let msg = err("dynamic_reshape.onnx").to_string();
    assert!(
        msg.contains("node \"reshape\" (op Reshape)") && msg.contains("input \"target\") is not a constant"),
        "{msg}"
    );

    // Not ONNX at all: a GAMMA CSV renamed.
    let e = import_onnx_bytes(b"K,C,Y,X,R,S,T\n64,3,224,224,7,7,1\n", "net.onnx", "net").unwrap_err();
    assert!(e.to_string().starts_with("net.onnx: not an ONNX model, or truncated"), "{e}");
    // Valid protobuf that is no model: a bare tensor-like message.
    let e = import_onnx_bytes(&[0x08, 0x01], "net.onnx", "net").unwrap_err();
    assert!(e.to_string().starts_with("net.onnx: not an ONNX model, or truncated"), "{e}");
    let e = import_onnx_bytes(&[], "empty.onnx", "empty").unwrap_err();
    assert!(e.to_string().starts_with("empty.onnx: not an ONNX model"), "{e}");

    // Truncated anywhere: an error, never a partial model.
    let full = std::fs::read(data("resnet18.onnx")).unwrap();
    for cut in [10, 100, 1000, full.len() / 2, full.len() - 40, full.len() - 1] {
        let r = import_onnx_bytes(&full[..cut], "cut.onnx", "cut");
        let e = r.as_ref().err().unwrap_or_else(|| panic!("cut at {cut} of {} imported", full.len()));
        assert!(e.to_string().starts_with("cut.onnx: "), "{e}");
    }

    // Through resolve_model (what --model and sweeps call): file and node in the message.
    let e = resolve_model(data("einsum.onnx").to_str().unwrap()).unwrap_err().to_string();
    assert!(e.contains("einsum.onnx") && e.contains("node \"contract\" (op Einsum)"), "{e}");
    let e = resolve_model("/no/such/net.onnx").unwrap_err().to_string();
    assert!(e.contains("/no/such/net.onnx") && e.contains("cannot read"), "{e}");

    // The binary exits non-zero with the same message.
    let o = bin().arg("import").arg(data("conv_transpose.onnx")).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("node \"upsample\" (op ConvTranspose)"));
}

#[test]
fn search_reports_the_original_stride_per_layer() {
    let dir = tempfile::tempdir().unwrap();
    let run = |model: &Path, out: &str| {
        let o = bin()
            .args(["search", "--num-pe", "64", "--max-evals", "200", "--backend", "cpu", "-q", "--model"])
            .arg(model)
            .arg("--outdir")
            .arg(dir.path().join(out))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut r = csv::Reader::from_path(dir.path().join(out).join("results.csv")).unwrap();
        let s = r.headers().unwrap().iter().position(|h| h == "stride").expect("a stride column");
        let csv: Vec<String> = r.records().map(|rec| rec.unwrap()[s].to_string()).collect();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(out).join("results.json")).unwrap()).unwrap();
        let js: Vec<String> =
            json["layers"].as_array().unwrap().iter().map(|l| l["stride"].as_str().unwrap().to_string()).collect();
        assert_eq!(csv, js);
        csv
    };
    // convs.onnx: conv1 7x7/2, conv2, dw3 /2, gconv4 (4 groups), dil5, rect6 /(2,1), fc.
    let want: Vec<&str> = vec!["2", "1", "2", "1", "1", "1", "1", "1", "2x1", "1"];
    assert_eq!(run(&data("convs.onnx"), "onnx"), want);
    // The import's CSV keeps them (its stride column is read back), GAMMA's plain CSV has none.
    let imported = dir.path().join("net.csv");
    let o = bin().arg("import").arg(data("convs.onnx")).arg("--out").arg(&imported).output().unwrap();
    assert!(o.status.success());
    assert_eq!(run(&imported, "csv"), want);
    let plain = dir.path().join("plain.csv");
    let o = bin().arg("import").arg(data("convs.onnx")).arg("--plain").arg("--out").arg(&plain).output().unwrap();
    assert!(o.status.success());
    assert!(run(&plain, "plain").iter().all(|s| s == "1"));
}

#[test]
fn stride_column_errors_name_line_and_field() {
    use gammaflow::workload::parse_model_csv_strides;
    let (layers, strides) =
        parse_model_csv_strides("K,C,Y,X,R,S,T,Stride\n8,3,22,22,7,7,1,2\n8,8,4,4,3,1,1, 2X1 \n", "m.csv").unwrap();
    assert_eq!((layers.len(), strides), (2, vec![[2, 2], [2, 1]]));
    assert_eq!(parse_model_csv_strides("K,C,Y,X,R,S,T\n8,3,22,22,7,7,1\n", "m.csv").unwrap().1, Vec::<[i64; 2]>::new());
    for (cell, why) in [
        ("0", "outside"),
        ("-2", "outside"),
        ("2x", "not an integer"),
        ("", "empty"),
        ("1x2x3", "more than two"),
        ("two", "not an integer"),
    ] {
        let text = format!("K,C,Y,X,R,S,T,stride\n8,3,22,22,7,7,1,1\n8,3,22,22,7,7,1,{cell}\n");
        let e = parse_model_csv_strides(&text, "m.csv").unwrap_err().to_string();
        assert!(e.contains("m.csv line 3, field stride") && e.contains(why), "{cell:?}: {e}");
    }
    let e = parse_model_csv_strides("K,C,Y,X,R,S,T,stride,STRIDE\n8,3,22,22,7,7,1,1,1\n", "m.csv").unwrap_err();
    assert!(e.to_string().contains("line 1, field stride"), "{e}");
}

#[test]
fn malformed_onnx_through_model_gives_the_import_error_itself() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"K,C,Y,X,R,S,T\n64,3,224,224,7,7,1\n").unwrap();
    let full = std::fs::read(data("resnet18.onnx")).unwrap();
    let cut = dir.path().join("cut.onnx");
    std::fs::write(&cut, &full[..full.len() / 2]).unwrap();
    for model in [
        junk,
        cut,
        data("missing_shape.onnx"),
        data("einsum.onnx"),
        data("conv_transpose.onnx"),
        dir.path().join("none.onnx"),
    ] {
        let want = import_onnx(&model).unwrap_err().to_string();
        // search: the import's message is the whole error, said once.
        let o = bin()
            .args(["search", "--backend", "cpu", "-q", "--outdir"])
            .arg(dir.path().join("out"))
            .arg("--model")
            .arg(&model)
            .output()
            .unwrap();
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim_end(), format!("error: {want}"), "{}", model.display());
        // A sweep names its own file, line and field, then the same message.
        let cfg = dir.path().join("sweep.toml");
        std::fs::write(
            &cfg,
            format!("models = [{:?}]\n[[accelerators]]\nname = \"a\"\nnum_pe = 64\n", model.display().to_string()),
        )
        .unwrap();
        let o = bin().args(["sweep", "--dry-run", "--config"]).arg(&cfg).output().unwrap();
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("sweep.toml line 1, field models[0]: ") && err.trim_end().ends_with(&want), "{err}");
        assert_eq!(err.matches(&want).count(), 1, "{err}");
    }
}
