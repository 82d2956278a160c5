//! GAMMA model files: one layer per CSV row.
//!
//! Two header layouts exist in GAMMA's data: `K,C,Y,X,R,S[,T]` for CNNs and `M,N,K[,T]` for GEMM
//! workloads. Rows are stored raw in [`Layer`]; [`Layer::shape`] applies GAMMA's FC/GEMM rewrite.
//!
//! Records are split by the `csv` crate (any line ending, quoted cells, BOM stripped first), which
//! keeps each record's line number for error messages, which is what users need when fixing a
//! hand-written file.

use std::path::Path;

use super::{Layer, LayerKind, Model};

/// A model file could not be read or has an invalid row.
///
/// Every variant's message names the file and, for content errors, the 1-based line (the header is
/// usually line 1) and the field, so a message alone is enough to locate the problem.
#[derive(thiserror::Error, Debug)]
pub enum ModelError {
    #[error("{path}: cannot read model file: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} line {line}, field {field}: the header has no {field} column (expected {expected})")]
    MissingColumn { file: String, line: usize, field: String, expected: String },
    #[error("{file} line {line}, field {field}: column {field} appears more than once in the header")]
    DuplicateColumn { file: String, line: usize, field: String },
    #[error("{file} line {line}, field {field}: the row has {found} values but the header has {expected} columns")]
    ColumnCount { file: String, line: usize, field: String, found: usize, expected: usize },
    #[error("{file} line {line}, field {field}: {value:?} is not an integer{}", if *.overflow { " (out of range)" } else { "" })]
    NotInteger { file: String, line: usize, field: String, value: String, overflow: bool },
    #[error("{file} line {line}, field T: {}", if *.gemm_header {
        format!("layer type T = {value} is not allowed: an M,N,K file holds GEMM layers only (T = 3)")
    } else {
        format!("layer type T = {value} is not one of 0 (FC), 1 (CONV), 2 (DSCONV), 3 (GEMM)")
    })]
    BadType { file: String, line: usize, value: i64, gemm_header: bool },
    #[error("{file} line {line}, field {field}: {message}")]
    InvalidLayer { file: String, line: usize, field: String, message: String },
    #[error("{file} line {line}, field {field}: {message}")]
    Empty { file: String, line: usize, field: &'static str, message: &'static str },
    #[error("unknown model {name:?}: not a built-in model ({known}) and not a model file")]
    UnknownModel { name: String, known: String },
    /// An ONNX file given as a model did not import: the import's message (file, node, reason).
    #[error(transparent)]
    Onnx(super::onnx::OnnxError),
}

impl ModelError {
    /// 1-based line of the offending row, when the error is about file content.
    pub fn line(&self) -> Option<usize> {
        match self {
            ModelError::Io { .. } | ModelError::UnknownModel { .. } | ModelError::Onnx(_) => None,
            ModelError::MissingColumn { line, .. }
            | ModelError::DuplicateColumn { line, .. }
            | ModelError::ColumnCount { line, .. }
            | ModelError::NotInteger { line, .. }
            | ModelError::BadType { line, .. }
            | ModelError::InvalidLayer { line, .. }
            | ModelError::Empty { line, .. } => Some(*line),
        }
    }
}

/// Which of the two GAMMA header layouts a file uses, with each needed column's index.
enum Layout {
    /// Indices of K, C, Y, X, R, S and optionally T.
    Conv { dims: [usize; 6], t: Option<usize> },
    /// Indices of M, N, K and optionally T.
    Gemm { mnk: [usize; 3], t: Option<usize> },
}

/// Largest stride accepted in a `stride` column (a layer's dims are at most 2^20 too).
const MAX_STRIDE: i64 = super::MAX_DIM;

const CONV_COLS: [&str; 6] = ["K", "C", "Y", "X", "R", "S"];
const GEMM_COLS: [&str; 3] = ["M", "N", "K"];

/// 1-based line of byte `at`, counting LF, CRLF and lone CR as line ends (the csv crate's own
/// line count skips blank and comment lines).
fn line_at(text: &str, at: usize) -> usize {
    // A record's position is where the reader resumed, before the blank and comment lines it
    // skipped: move to the record's first byte.
    let all = text.as_bytes();
    let mut at = at.min(all.len());
    loop {
        while at < all.len() && matches!(all[at], b'\n' | b'\r' | b' ' | b'\t') {
            at += 1;
        }
        if at < all.len() && all[at] == b'#' {
            while at < all.len() && !matches!(all[at], b'\n' | b'\r') {
                at += 1;
            }
            continue;
        }
        break;
    }
    let b = &all[..at];
    let lf = b.iter().filter(|&&c| c == b'\n').count();
    let lone_cr = b.windows(2).filter(|w| w[0] == b'\r' && w[1] != b'\n').count()
        + usize::from(b.last() == Some(&b'\r') && text.as_bytes().get(b.len()) != Some(&b'\n'));
    lf + lone_cr + 1
}

fn parse_header(fields: &[&str], file: &str, line: usize) -> Result<Layout, ModelError> {
    let find = |name: &str| -> Result<Option<usize>, ModelError> {
        let mut hits = fields.iter().enumerate().filter(|(_, f)| f.eq_ignore_ascii_case(name));
        let first = hits.next().map(|(i, _)| i);
        if hits.next().is_some() {
            return Err(ModelError::DuplicateColumn { file: file.into(), line, field: name.into() });
        }
        Ok(first)
    };
    let missing = |field: &str, expected: &str| ModelError::MissingColumn {
        file: file.into(),
        line,
        field: field.into(),
        expected: expected.into(),
    };

    let conv: Vec<Option<usize>> = CONV_COLS.iter().map(|c| find(c)).collect::<Result<_, _>>()?;
    let t = find("T")?;
    if conv.iter().all(Option::is_some) {
        let dims = std::array::from_fn(|i| conv[i].unwrap());
        return Ok(Layout::Conv { dims, t });
    }
    // An M column is what distinguishes GAMMA's GEMM files; anything else is judged as a CNN file.
    if find("M")?.is_some() {
        let gemm: Vec<Option<usize>> = GEMM_COLS.iter().map(|c| find(c)).collect::<Result<_, _>>()?;
        if let Some(i) = gemm.iter().position(Option::is_none) {
            return Err(missing(GEMM_COLS[i], "M,N,K[,T]"));
        }
        let mnk = std::array::from_fn(|i| gemm[i].unwrap());
        return Ok(Layout::Gemm { mnk, t });
    }
    let i = conv.iter().position(Option::is_none).unwrap();
    Err(missing(CONV_COLS[i], "K,C,Y,X,R,S[,T] or M,N,K[,T]"))
}

/// Reads one integer cell, reporting the column by its header name.
fn int_field(fields: &[&str], idx: usize, name: &str, file: &str, line: usize) -> Result<i64, ModelError> {
    let raw = fields[idx];
    raw.parse::<i64>().map_err(|e| ModelError::NotInteger {
        file: file.into(),
        line,
        field: name.into(),
        value: crate::schema::truncate(raw, 60),
        overflow: matches!(e.kind(), std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow),
    })
}

/// Parses the text of a GAMMA model CSV. `source` names the file in error messages.
///
/// Blank lines and lines starting with `#` are skipped; columns may come in any order and
/// unknown columns are ignored. A missing `T` column means CONV for `K,C,Y,X,R,S` files and GEMM
/// for `M,N,K` files.
pub fn parse_model_csv(text: &str, source: &str) -> Result<Vec<Layer>, ModelError> {
    parse_model_csv_strides(text, source).map(|(layers, _)| layers)
}

/// [`parse_model_csv`] plus each layer's stride from an optional `stride` column (as
/// `gammaflow import` writes it: `2`, or `2x1` for Y then X); without the column every stride is
/// 1 and the list is empty.
pub fn parse_model_csv_strides(text: &str, source: &str) -> Result<(Vec<Layer>, Vec<[i64; 2]>), ModelError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The csv crate splits records (LF, CRLF and CR-only line ends, quoted cells) and reports
    // each record's line, so messages point at the right line whatever wrote the file.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut records: Vec<(usize, Vec<String>)> = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| ModelError::InvalidLayer {
            file: source.into(),
            line: e.position().map(|p| line_at(text, p.byte() as usize)).unwrap_or(1),
            field: "row".into(),
            message: format!("unreadable CSV: {e}"),
        })?;
        let line = rec.position().map(|p| line_at(text, p.byte() as usize)).unwrap_or(1);
        let cells: Vec<String> = rec.iter().map(str::to_string).collect();
        // Blank lines (and lines of only commas' worth of nothing) are not rows.
        if cells.iter().all(|c| c.is_empty()) || cells.first().is_some_and(|c| c.starts_with('#')) {
            continue;
        }
        records.push((line, cells));
    }
    let mut rows = records.iter().map(|(l, cells)| (*l, cells.iter().map(String::as_str).collect::<Vec<&str>>()));

    let Some((header_line, header_fields)) = rows.next() else {
        return Err(ModelError::Empty {
            file: source.into(),
            line: text.lines().count().max(1),
            field: "header",
            message: "the file is empty (expected a header such as K,C,Y,X,R,S,T)",
        });
    };
    let layout = parse_header(&header_fields, source, header_line)?;
    let width = header_fields.len();
    let stride_col = {
        let mut hits = header_fields.iter().enumerate().filter(|(_, f)| f.eq_ignore_ascii_case("stride"));
        let first = hits.next().map(|(i, _)| i);
        if hits.next().is_some() {
            return Err(ModelError::DuplicateColumn { file: source.into(), line: header_line, field: "stride".into() });
        }
        first
    };

    let mut layers = Vec::new();
    let mut strides = Vec::new();
    for (line, mut fields) in rows {
        // Tolerate trailing commas (common in hand-edited files): drop empty cells past the header.
        while fields.len() > width && fields.last() == Some(&"") {
            fields.pop();
        }
        if fields.len() != width {
            let field = if fields.len() < width {
                header_fields[fields.len()].to_string()
            } else {
                format!("#{} (extra)", width + 1)
            };
            return Err(ModelError::ColumnCount {
                file: source.into(),
                line,
                field,
                found: fields.len(),
                expected: width,
            });
        }
        let layer = parse_row(&fields, &layout, source, line)?;
        if let Err(crate::error::FieldError { field, message }) = layer.validate() {
            return Err(ModelError::InvalidLayer { file: source.into(), line, field: field.into(), message });
        }
        layers.push(layer);
        if let Some(c) = stride_col {
            strides.push(parse_stride(fields[c], source, line)?);
        }
    }
    if layers.is_empty() {
        return Err(ModelError::Empty {
            file: source.into(),
            line: header_line,
            field: "rows",
            message: "the file has a header but no layer rows",
        });
    }
    Ok((layers, strides))
}

/// A `stride` cell: `s` or `sYxsX`, each a positive integer.
fn parse_stride(cell: &str, file: &str, line: usize) -> Result<[i64; 2], ModelError> {
    let bad = |why: &str| ModelError::InvalidLayer {
        file: file.into(),
        line,
        field: "stride".into(),
        message: format!(
            "stride {:?} {why} (expected a positive integer such as 2, or 2x1 for Y then X)",
            crate::schema::truncate(cell, 40)
        ),
    };
    let parts: Vec<&str> = cell.split(['x', 'X']).map(str::trim).collect();
    let nums: Vec<i64> = match parts.as_slice() {
        [a] | [a, _] if a.is_empty() => return Err(bad("is empty")),
        [_] | [_, _] => {
            parts.iter().map(|p| p.parse::<i64>().map_err(|_| bad("is not an integer"))).collect::<Result<_, _>>()?
        }
        _ => return Err(bad("has more than two parts")),
    };
    if nums.iter().any(|&v| !(1..=MAX_STRIDE).contains(&v)) {
        return Err(bad(&format!("is outside 1..={MAX_STRIDE}")));
    }
    Ok(if nums.len() == 1 { [nums[0], nums[0]] } else { [nums[0], nums[1]] })
}

fn parse_row(fields: &[&str], layout: &Layout, file: &str, line: usize) -> Result<Layer, ModelError> {
    let get = |idx: usize, name: &str| int_field(fields, idx, name, file, line);
    // Raw columns that the FC/GEMM rewrite ignores are still checked here, because validate()
    // only looks at the rewritten shape and a 0 or negative value signals a broken file.
    let positive = |v: i64, name: &str| {
        if v <= 0 {
            Err(ModelError::InvalidLayer {
                file: file.into(),
                line,
                field: name.into(),
                message: format!("{name} must be a positive integer, got {v}"),
            })
        } else {
            Ok(v)
        }
    };
    match layout {
        Layout::Conv { dims, t } => {
            let mut v = [0i64; 6];
            for (i, name) in CONV_COLS.iter().enumerate() {
                v[i] = get(dims[i], name)?;
            }
            let kind = match t {
                Some(ti) => {
                    let code = get(*ti, "T")?;
                    LayerKind::from_code(code).ok_or_else(|| ModelError::BadType {
                        file: file.into(),
                        line,
                        value: code,
                        gemm_header: false,
                    })?
                }
                None => LayerKind::Conv,
            };
            for (i, name) in CONV_COLS.iter().enumerate() {
                positive(v[i], name)?;
            }
            // MAESTRO's depthwise layer has one filter per channel: its MAC count ignores K while
            // other counts would not, so a K of more than 1 would be half modelled.
            if kind == LayerKind::DsConv && v[0] != 1 {
                return Err(ModelError::InvalidLayer {
                    file: file.into(),
                    line,
                    field: "K".into(),
                    message: format!(
                        "a depthwise row (T=2) has one filter per channel, so K must be 1, got {}; a channel \
                         multiplier M is M depthwise rows of K 1 (as `gammaflow import` writes them)",
                        v[0]
                    ),
                });
            }
            Ok(Layer::new(v[0], v[1], v[2], v[3], v[4], v[5], kind))
        }
        Layout::Gemm { mnk, t } => {
            let mut v = [0i64; 3];
            for (i, name) in GEMM_COLS.iter().enumerate() {
                v[i] = positive(get(mnk[i], name)?, name)?;
            }
            if let Some(ti) = t {
                let code = get(*ti, "T")?;
                if code != LayerKind::Gemm.code() {
                    return Err(ModelError::BadType { file: file.into(), line, value: code, gemm_header: true });
                }
            }
            Ok(Layer::new(v[0], v[1], v[2], 1, 1, 1, LayerKind::Gemm))
        }
    }
}

/// Loads a model file; the model is named after the file stem (`resnet18.csv` → `resnet18`).
pub fn load_model_file(path: &Path) -> Result<Model, ModelError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io { path: shown.clone(), source })?;
    let (layers, strides) = parse_model_csv_strides(&text, &shown)?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| shown.clone());
    Ok(Model { name, layers, strides })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> ModelError {
        parse_model_csv(text, "net.csv").expect_err("expected a parse error")
    }

    /// Every content error must point at the file, the line and the field.
    fn assert_locates(e: &ModelError, line: usize, field: &str) {
        let msg = e.to_string();
        assert!(msg.starts_with("net.csv "), "no file in {msg:?}");
        assert!(msg.contains(&format!("line {line},")), "no line {line} in {msg:?}");
        assert!(msg.contains(&format!("field {field}:")), "no field {field} in {msg:?}");
        assert_eq!(e.line(), Some(line));
    }

    #[test]
    fn parses_conv_dsconv_fc() {
        let text = "K,C,Y,X,R,S,T\n64,3,224,224,7,7,1\n1,32,112,112,3,3,2\n1000,512,1,1,1,1,0\n";
        let layers = parse_model_csv(text, "net.csv").unwrap();
        assert_eq!(
            layers,
            vec![
                Layer::new(64, 3, 224, 224, 7, 7, LayerKind::Conv),
                Layer::new(1, 32, 112, 112, 3, 3, LayerKind::DsConv),
                Layer::new(1000, 512, 1, 1, 1, 1, LayerKind::Fc),
            ]
        );
        assert!(layers[1].shape().depthwise);
        assert_eq!(layers[2].shape().dims, [1000, 512, 1, 1, 1, 1]);
    }

    #[test]
    fn columns_in_any_order_with_extras_comments_and_spaces() {
        let text = "# comment\n\n name , T, S,R,X,Y,C,K, extra\r\n conv1 , 1 , 3,3, 56,56 ,64 ,128, 9\n\n# c\n";
        let layers = parse_model_csv(text, "net.csv").unwrap();
        assert_eq!(layers, vec![Layer::conv(128, 64, 56, 56, 3, 3)]);
    }

    #[test]
    fn missing_t_defaults_to_conv_and_trailing_comma_ok() {
        let layers = parse_model_csv("K,C,Y,X,R,S\n8,4,16,16,3,3,\n", "net.csv").unwrap();
        assert_eq!(layers, vec![Layer::conv(8, 4, 16, 16, 3, 3)]);
    }

    #[test]
    fn parses_gemm_header() {
        let layers = parse_model_csv("M,N,K,T\n512,768,64,3\n", "net.csv").unwrap();
        assert_eq!(layers, vec![Layer::new(512, 768, 64, 1, 1, 1, LayerKind::Gemm)]);
        // GAMMA's rewrite: K ← N, C ← K, Y ← M.
        assert_eq!(layers[0].shape().dims, [768, 64, 512, 1, 1, 1]);
        let no_t = parse_model_csv("m,n,k\n4,5,6\n", "net.csv").unwrap();
        assert_eq!(no_t[0].kind, LayerKind::Gemm);
        assert_eq!((no_t[0].k, no_t[0].c, no_t[0].y), (4, 5, 6));
    }

    #[test]
    fn gemm_rows_in_conv_layout_keep_raw_columns() {
        let layers = parse_model_csv("K,C,Y,X,R,S,T\n512,768,64,1,1,1,3\n", "net.csv").unwrap();
        assert_eq!(layers[0].shape().dims, [768, 64, 512, 1, 1, 1]);
    }

    #[test]
    fn depthwise_rows_need_k_1() {
        let e = err("K,C,Y,X,R,S,T\n64,32,16,16,3,3,2\n").to_string();
        assert!(e.contains("line 2") && e.contains("field K") && e.contains("K must be 1"), "{e}");
        assert!(parse_model_csv("K,C,Y,X,R,S,T\n1,32,16,16,3,3,2\n", "net.csv").is_ok());
    }

    #[test]
    fn missing_column() {
        let e = err("K,C,Y,X,S,T\n1,1,1,1,1,1\n");
        assert!(matches!(e, ModelError::MissingColumn { .. }));
        assert_locates(&e, 1, "R");
        let e = err("# lead comment\nM,K,T\n1,1,3\n");
        assert_locates(&e, 2, "N");
    }

    #[test]
    fn duplicate_column() {
        let e = err("K,C,Y,X,R,S,K\n1,1,1,1,1,1,1\n");
        assert!(matches!(e, ModelError::DuplicateColumn { .. }));
        assert_locates(&e, 1, "K");
    }

    #[test]
    fn wrong_column_count() {
        let e = err("K,C,Y,X,R,S,T\n64,3,224,224,7,7,1\n64,64,56,56,3\n");
        assert!(matches!(e, ModelError::ColumnCount { found: 5, expected: 7, .. }));
        assert_locates(&e, 3, "S");
        let e = err("K,C,Y,X,R,S,T\n64,3,224,224,7,7,1,5\n");
        assert_locates(&e, 2, "#8 (extra)");
    }

    #[test]
    fn non_integer() {
        let e = err("K,C,Y,X,R,S,T\n64,3,224,2.5,7,7,1\n");
        assert!(matches!(e, ModelError::NotInteger { .. }));
        assert_locates(&e, 2, "X");
        assert!(e.to_string().contains("\"2.5\""));
        let e = err("K,C,Y,X,R,S,T\n99999999999999999999,3,224,224,7,7,1\n");
        assert_locates(&e, 2, "K");
        assert!(e.to_string().contains("out of range"));
        let e = err("K,C,Y,X,R,S,T\n64,3,224,224,7,7,\n");
        assert_locates(&e, 2, "T");
    }

    #[test]
    fn zero_or_negative_dim() {
        let e = err("K,C,Y,X,R,S,T\n64,0,224,224,7,7,1\n");
        assert!(matches!(e, ModelError::InvalidLayer { .. }));
        assert_locates(&e, 2, "C");
        // Columns that FC ignores are still checked.
        let e = err("K,C,Y,X,R,S,T\n10,10,1,1,1,1,1\n10,10,1,-1,1,1,0\n");
        assert_locates(&e, 3, "X");
        let e = err("M,N,K\n4,-5,6\n");
        assert_locates(&e, 2, "N");
    }

    #[test]
    fn bad_layer_type() {
        let e = err("K,C,Y,X,R,S,T\n64,3,224,224,7,7,4\n");
        assert!(matches!(e, ModelError::BadType { value: 4, .. }));
        assert_locates(&e, 2, "T");
        let e = err("M,N,K,T\n4,5,6,1\n");
        assert_locates(&e, 2, "T");
        assert!(e.to_string().contains("GEMM layers only"));
    }

    #[test]
    fn any_line_ending_quotes_and_long_cells() {
        let rows = "K,C,Y,X,R,S,T\r8,8,5,5,3,3,1\r\r16,8,5,5,3,3,1\r";
        assert_eq!(parse_model_csv(rows, "cr.csv").unwrap().len(), 2, "CR-only line ends");
        let rows = "K,C,Y,X,R,S,T\r\n8,8,5,5,3,3,1\r\n\"16\",\"8\",5,5,3,3,1\r\n";
        assert_eq!(parse_model_csv(rows, "crlf.csv").unwrap()[1].k, 16, "CRLF and quoted cells");
        let e = parse_model_csv("K,C,Y,X,R,S,T\r8,8,5,5,3,3,1\r8,8,5,5,9,3,1\r", "cr.csv").unwrap_err();
        assert_eq!(e.line(), Some(3), "{e}");
        let huge = "9".repeat(100_000);
        let e = parse_model_csv(&format!("K,C,Y,X,R,S,T\n{huge},8,5,5,3,3,1\n"), "big.csv").unwrap_err().to_string();
        assert!(e.len() < 400 && e.contains("line 2") && e.contains("field K"), "{}", &e[..200.min(e.len())]);
    }

    #[test]
    fn filter_larger_than_input() {
        let e = err("K,C,Y,X,R,S,T\n1,1,8,8,3,3,1\n\n64,3,3,3,5,3,1\n");
        assert_locates(&e, 4, "R");
        assert!(e.to_string().contains("R = 5 is larger than the input height Y = 3"), "{e}");
        let e = err("K,C,Y,X,R,S,T\n64,3,8,2,3,3,1\n");
        assert_locates(&e, 2, "S");
    }

    #[test]
    fn dim_above_max() {
        let big = super::super::MAX_DIM + 1;
        let e = err(&format!("K,C,Y,X,R,S,T\n{big},3,8,8,3,3,1\n"));
        assert_locates(&e, 2, "K");
        assert!(e.to_string().contains("exceeds"));
    }

    #[test]
    fn empty_file_or_no_rows() {
        let e = err("");
        assert!(matches!(e, ModelError::Empty { .. }));
        assert_locates(&e, 1, "header");
        let e = err("\n# only a comment\n\n");
        assert_locates(&e, 3, "header");
        let e = err("# c\nK,C,Y,X,R,S,T\n\n");
        assert_locates(&e, 2, "rows");
    }

    #[test]
    fn io_error_names_path_and_file_stem_names_model() {
        let e = load_model_file(Path::new("/nonexistent/dir/net.csv")).unwrap_err();
        assert!(matches!(e, ModelError::Io { .. }));
        assert!(e.to_string().contains("/nonexistent/dir/net.csv"), "{e}");

        let dir = std::env::temp_dir().join(format!("gammaflow-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tiny_net.csv");
        std::fs::write(&path, "K,C,Y,X,R,S,T\n8,4,16,16,3,3,1\n8,8,14,14,3,3,5\n").unwrap();
        let e = load_model_file(&path).unwrap_err();
        assert!(e.to_string().starts_with(&format!("{} line 3, field T:", path.display())), "{e}");
        std::fs::write(&path, "K,C,Y,X,R,S,T\n8,4,16,16,3,3,1\n").unwrap();
        let m = load_model_file(&path).unwrap();
        assert_eq!(m.name, "tiny_net");
        assert_eq!(m.layers.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
