//! Constrained map spaces (the SIGMETRICS 2022 flexibility formalism): mapping-constraint files,
//! the built-in accelerator maps (`data/constraints/*.toml`), their 16 flexibility classes, and
//! the operators a constrained search uses.
//!
//! A constraint has one rule set per cluster level (outer first) and fixes the level count. Each
//! level may fix the allowed parallel dims (`sp`), the cluster size (`sp_sz`), a loop-order prefix
//! (`order`) and any tile (`tiles.D`): a number, or a dim name meaning "that dim's tile at the
//! enclosing level" (at the top level: the layer's extent of that dim, Y/X as output extents).
//! [`crate::search::Space::repair`] imposes the rules after the usual repair, so every genome the
//! search produces satisfies them.

use crate::mapping::{Dim, Genome, MAX_LEVELS};
use crate::search::space::{Space, SpaceOptions};
use crate::workload::Layer;
use rand::seq::IndexedRandom;
use rand::Rng;
use std::path::Path;

/// A tile or cluster-size rule: a fixed number, or a dim's tile at the enclosing level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeRule {
    Fixed(i64),
    Same(Dim),
}

/// The rules of one cluster level.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LevelRule {
    /// Allowed parallel dims; empty = free.
    pub sp: Vec<Dim>,
    /// Cluster size (inner levels only).
    pub sp_sz: Option<SizeRule>,
    /// Loop-order prefix, outermost first; the rest is free.
    pub order: Vec<Dim>,
    /// Tile rule per dim, by [`Dim::index`].
    pub tiles: [Option<SizeRule>; 6],
    /// Allowed tile values per dim where no single tile rule applies (empty = free), e.g. the
    /// FIFO rule Y in {1, R}.
    pub choices: [Vec<SizeRule>; 6],
}

/// Flexibility-class bits: which axes a class leaves free.
pub const FLEX_TILES: u8 = 1;
pub const FLEX_ORDER: u8 = 2;
pub const FLEX_PAR: u8 = 4;
pub const FLEX_SHAPE: u8 = 8;

/// A mapping constraint, possibly relaxed to a flexibility class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapConstraint {
    pub name: String,
    /// Where it came from (a file name, or `builtin:NAME`), for error messages.
    pub source: String,
    pub levels: Vec<LevelRule>,
    /// The flexibility class applied (0 = the rules as written).
    pub class: u8,
    /// The rules as written, kept when a class relaxed them: its genomes are in every class's
    /// space, so the search seeds each class with one (more flexibility never loses that map).
    pub fixed: Option<Box<MapConstraint>>,
}

/// Names of the built-in accelerator maps.
pub const BUILTINS: [&str; 3] = ["nvdla", "eyeriss", "tpu"];

/// The text of a built-in map (embedded from `data/constraints`).
pub fn builtin_text(name: &str) -> Option<&'static str> {
    match name {
        "nvdla" => Some(include_str!("../../data/constraints/nvdla.toml")),
        "eyeriss" => Some(include_str!("../../data/constraints/eyeriss.toml")),
        "tpu" => Some(include_str!("../../data/constraints/tpu.toml")),
        _ => None,
    }
}

/// Which axes of a rule set are completely fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedAxes {
    pub tiles: bool,
    pub order: bool,
    pub par: bool,
    pub shape: bool,
}

impl MapConstraint {
    /// A built-in name (`nvdla`, `eyeriss`, `tpu`) or a TOML file path.
    pub fn resolve(name_or_path: &str) -> anyhow::Result<MapConstraint> {
        if let Some(text) = builtin_text(&name_or_path.to_ascii_lowercase()) {
            return Self::parse(text, &format!("{}.toml", name_or_path.to_ascii_lowercase()))
                .map_err(anyhow::Error::msg);
        }
        let p = Path::new(name_or_path);
        let text = std::fs::read_to_string(p).map_err(|e| {
            anyhow::anyhow!(
                "mapping constraint {name_or_path:?}: not a built-in ({}) and not a readable file: {e}",
                BUILTINS.join(", ")
            )
        })?;
        let file = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| name_or_path.to_string());
        Self::parse(&text, &file).map_err(anyhow::Error::msg)
    }

    /// Parses a constraint file; errors name the file, the level (1 = outer) and the field.
    pub fn parse(text: &str, file: &str) -> Result<MapConstraint, String> {
        let (name, levels) = parse_levels(text, file, |t, i, err| parse_level(t, i, err))?;
        let err = |lv: Option<usize>, field: &str, msg: String| field_error(file, lv, field, msg);
        if levels[0].sp_sz.is_some() {
            return Err(err(
                Some(1),
                "sp_sz",
                "the top level's size is the PE count; set sp_sz on inner levels only".into(),
            ));
        }
        Ok(MapConstraint { name, source: file.to_string(), levels, class: 0, fixed: None })
    }

    /// Flexibility class `class` (0-15) of this map: the rules of each flexible axis dropped.
    pub fn with_class(&self, class: u8) -> anyhow::Result<MapConstraint> {
        if class > 15 {
            anyhow::bail!("--flex-class must be within 0..=15, got {class}");
        }
        let base = self.fixed.as_deref().unwrap_or(self).clone();
        let mut c = base.clone();
        for lv in c.levels.iter_mut() {
            if class & FLEX_TILES != 0 {
                lv.tiles = [None; 6];
                lv.choices = Default::default();
            }
            if class & FLEX_ORDER != 0 {
                lv.order.clear();
            }
            if class & FLEX_PAR != 0 {
                lv.sp.clear();
            }
            if class & FLEX_SHAPE != 0 {
                lv.sp_sz = None;
            }
        }
        c.class = class;
        c.fixed = (class != 0).then(|| Box::new(base));
        Ok(c)
    }

    /// Which axes are completely fixed (R/S tiles count as fixed under `rs_full`).
    pub fn fixed_axes(&self, rs_full: bool) -> FixedAxes {
        let ls = &self.levels;
        FixedAxes {
            tiles: ls.iter().all(|l| {
                Dim::ALL.iter().all(|d| {
                    l.tiles[d.index()].is_some()
                        || (rs_full && matches!(d, Dim::R | Dim::S) && l.choices[d.index()].is_empty())
                })
            }),
            order: ls.iter().all(|l| l.order.len() >= 5),
            par: ls.iter().all(|l| l.sp.len() == 1),
            shape: ls[1..].iter().all(|l| l.sp_sz.is_some()),
        }
    }

    /// Checks the constraint against one layer before any search: every tile and cluster size
    /// that the rules determine must fit the layer, its enclosing tile, and the PEs.
    pub fn check_layer(&self, layer: &Layer, num_pe: i64, opts: &SpaceOptions) -> Result<(), String> {
        let bound = Space::new(layer, num_pe, SpaceOptions { constraint: None, ..opts.clone() }).bound;
        let st = self.statics(bound, opts.rs_full);
        let err =
            |l: usize, field: String, msg: String| format!("{} level {}, field {field}: {msg}", self.source, l + 1);
        let mut product = 1i64;
        for (li, lv) in self.levels.iter().enumerate() {
            for d in Dim::ALL {
                let Some(v) = st.tiles[li][d.index()] else { continue };
                let field = format!("tiles.{d}");
                let what = if matches!(lv.tiles[d.index()], Some(SizeRule::Fixed(_))) { "fixed tile" } else { "tile" };
                let extent = if matches!(d, Dim::Y | Dim::X) && !opts.gamma_compat {
                    format!("{d}' = {}", bound[d.index()])
                } else {
                    format!("{d} = {}", bound[d.index()])
                };
                if v > bound[d.index()] {
                    return Err(err(li, field, format!("{what} {v} exceeds the layer's {extent}")));
                }
                if li > 0 {
                    if let Some(p) = st.tiles[li - 1][d.index()] {
                        if v > p {
                            return Err(err(
                                li,
                                field,
                                format!("{what} {v} exceeds the enclosing level's {d} tile {p}"),
                            ));
                        }
                    }
                }
            }
            if li > 0 {
                if let Some(z) = st.sizes[li] {
                    product = product.saturating_mul(z);
                    if product > num_pe {
                        return Err(err(
                            li,
                            "sp_sz".into(),
                            format!("cluster sizes multiply to {product}, above the {num_pe} PEs"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Tiles and cluster sizes that the rules alone determine for a layer with these bounds.
    pub(crate) fn statics(&self, bound: [i64; 6], rs_full: bool) -> Statics {
        let n = self.levels.len();
        let mut tiles = vec![[None; 6]; n];
        let mut sizes = vec![None; n];
        for (li, lv) in self.levels.iter().enumerate() {
            let parent = |d: Dim| if li == 0 { Some(bound[d.index()]) } else { tiles[li - 1][d.index()] };
            let mut row = [None; 6];
            for d in Dim::ALL {
                row[d.index()] = match lv.tiles[d.index()] {
                    Some(SizeRule::Fixed(v)) => Some(v),
                    Some(SizeRule::Same(e)) => parent(e),
                    None if rs_full && matches!(d, Dim::R | Dim::S) => parent(d),
                    None => None,
                };
            }
            if li > 0 {
                sizes[li] = match lv.sp_sz {
                    Some(SizeRule::Fixed(v)) => Some(v),
                    Some(SizeRule::Same(e)) => tiles[li - 1][e.index()],
                    None => None,
                };
            }
            tiles[li] = row;
        }
        // A free tile never goes below a tile that a deeper level fixes, so rules stay nested.
        let mut lo = vec![[1i64; 6]; n];
        for li in (0..n.saturating_sub(1)).rev() {
            for i in 0..6 {
                lo[li][i] = lo[li + 1][i].max(tiles[li + 1][i].unwrap_or(1));
            }
        }
        Statics { tiles, sizes, lo }
    }

    /// Why `g` breaks the rules (for a layer with these bounds), or Ok.
    pub fn check_genome(&self, g: &Genome, bound: [i64; 6]) -> Result<(), String> {
        if g.levels.len() != self.levels.len() {
            return Err(format!("{} levels, the constraint has {}", g.levels.len(), self.levels.len()));
        }
        for (li, (lv, r)) in g.levels.iter().zip(&self.levels).enumerate() {
            let parent = |d: Dim| if li == 0 { bound[d.index()] } else { g.levels[li - 1].tile(d) };
            if !r.sp.is_empty() && !r.sp.contains(&lv.par) {
                return Err(format!("level {}: parallel dim {} not in {:?}", li + 1, lv.par, r.sp));
            }
            if lv.order.iter().map(|p| p.0).take(r.order.len()).ne(r.order.iter().copied()) {
                return Err(format!("level {}: order does not start with {:?}", li + 1, r.order));
            }
            for d in Dim::ALL {
                let ch = &r.choices[d.index()];
                if r.tiles[d.index()].is_none() && !ch.is_empty() && !ch.iter().any(|c| c.resolve(parent) == lv.tile(d))
                {
                    return Err(format!("level {}: tile {d} is {}, not one of {ch:?}", li + 1, lv.tile(d)));
                }
                let want = match r.tiles[d.index()] {
                    Some(SizeRule::Fixed(v)) => v,
                    Some(SizeRule::Same(e)) => parent(e),
                    None => continue,
                };
                if lv.tile(d) != want {
                    return Err(format!("level {}: tile {d} is {}, the rule wants {want}", li + 1, lv.tile(d)));
                }
            }
            if li > 0 {
                let want = match r.sp_sz {
                    Some(SizeRule::Fixed(v)) => v,
                    Some(SizeRule::Same(e)) => parent(e),
                    None => continue,
                };
                if lv.size != want {
                    return Err(format!("level {}: cluster size {}, the rule wants {want}", li + 1, lv.size));
                }
            }
        }
        Ok(())
    }
}

impl SizeRule {
    /// The value under `parent` (a dim's tile at the enclosing level, or the layer's extent).
    pub fn resolve(self, parent: impl Fn(Dim) -> i64) -> i64 {
        match self {
            SizeRule::Fixed(v) => v,
            SizeRule::Same(e) => parent(e),
        }
    }
}

/// Accelerator constraints: hardware kinds per cluster level, turned into mapping rules as the
/// flexibility paper does. Keys per `[[level]]`: `buffer` = "scratchpad" | "fifo" (a FIFO can
/// only stream a window: Y' tile in {1, R}, X' tile in {1, S}); `distribution` = "bus" | "tree"
/// (parallel dim in K, Y, X, R, S: C would need a reduction network) | "systolic" (neighbour
/// forwarding delivers any operand: no rule); `reduction` = "temporal" (parallel dim in K, Y, X:
/// no cross-PE sums) | "reduce-and-forward" | "adder-tree" (parallel dim in C, R, S: what they
/// sum across PEs).
pub fn parse_accel(text: &str, file: &str) -> Result<MapConstraint, String> {
    let (name, levels) = parse_levels(text, file, |t, i, err| {
        let l = Some(i + 1);
        let mut r = LevelRule::default();
        let mut sp: Vec<Dim> = Dim::ALL.to_vec();
        for (key, val) in t {
            let kind = val
                .as_str()
                .ok_or_else(|| err(l, key, "expected a string".into()))?
                .to_ascii_lowercase()
                .replace('_', "-");
            let allow: &[Dim] = match (key.as_str(), kind.as_str()) {
                ("buffer", "scratchpad") => &Dim::ALL,
                ("buffer", "fifo") => {
                    r.choices[Dim::Y.index()] = vec![SizeRule::Fixed(1), SizeRule::Same(Dim::R)];
                    r.choices[Dim::X.index()] = vec![SizeRule::Fixed(1), SizeRule::Same(Dim::S)];
                    &Dim::ALL
                }
                ("distribution", "bus" | "tree") => &[Dim::K, Dim::Y, Dim::X, Dim::R, Dim::S],
                ("distribution", "systolic") => &Dim::ALL,
                ("reduction", "temporal") => &[Dim::K, Dim::Y, Dim::X],
                ("reduction", "reduce-and-forward" | "adder-tree") => &[Dim::C, Dim::R, Dim::S],
                ("buffer" | "distribution" | "reduction", _) => {
                    return Err(err(l, key, format!("unknown kind {kind:?}")));
                }
                _ => return Err(err(l, key, "unknown key (expected buffer, distribution, reduction)".into())),
            };
            sp.retain(|d| allow.contains(d));
        }
        if sp.is_empty() {
            return Err(err(
                l,
                "reduction",
                "no parallel dim suits both the distribution and the reduction network".into(),
            ));
        }
        if sp.len() < 6 {
            r.sp = sp;
        }
        Ok(r)
    })?;
    Ok(MapConstraint { name, source: file.to_string(), levels, class: 0, fixed: None })
}

/// Reads an accelerator-constraint file (see [`parse_accel`]).
pub fn load_accel(path: &str) -> anyhow::Result<MapConstraint> {
    let p = Path::new(path);
    let text = std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("accelerator constraint {path:?}: {e}"))?;
    let file = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| path.to_string());
    parse_accel(&text, &file).map_err(anyhow::Error::msg)
}

impl MapConstraint {
    /// This mapping constraint with an accelerator's rules added (they are hardware: a
    /// flexibility class never relaxes them). Parallel dims are intersected.
    pub fn with_accel(&self, accel: &MapConstraint) -> Result<MapConstraint, String> {
        if accel.levels.len() != self.levels.len() {
            return Err(format!(
                "{} has {} levels but {} has {}",
                accel.source,
                accel.levels.len(),
                self.source,
                self.levels.len()
            ));
        }
        let mut c = self.clone();
        c.name = format!("{}+{}", self.name, accel.name);
        for (li, (lv, a)) in c.levels.iter_mut().zip(&accel.levels).enumerate() {
            if !a.sp.is_empty() {
                lv.sp = if lv.sp.is_empty() {
                    a.sp.clone()
                } else {
                    lv.sp.iter().copied().filter(|d| a.sp.contains(d)).collect()
                };
                if lv.sp.is_empty() {
                    return Err(format!(
                        "{} level {}, field sp: no parallel dim allowed by both {} and {}",
                        self.source,
                        li + 1,
                        self.source,
                        accel.source
                    ));
                }
            }
            for i in 0..6 {
                if !a.choices[i].is_empty() {
                    lv.choices[i] = a.choices[i].clone();
                }
            }
        }
        // The fixed map seeds each class only if this hardware can run it.
        c.fixed = self.fixed.as_ref().and_then(|f| f.with_accel(accel).ok()).map(Box::new);
        Ok(c)
    }
}

/// Per-layer values the rules determine (by level, then [`Dim::index`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statics {
    pub tiles: Vec<[Option<i64>; 6]>,
    pub sizes: Vec<Option<i64>>,
    /// Lowest value a free tile may take.
    pub lo: Vec<[i64; 6]>,
}

/// Error text naming the file, the level (1 = outer) when there is one, and the field.
fn field_error(file: &str, level: Option<usize>, field: &str, msg: String) -> String {
    match level {
        Some(l) => format!("{file} level {l}, field {field}: {msg}"),
        None => format!("{file}, field {field}: {msg}"),
    }
}

/// Builds an error naming the file, the level and the field (see [`field_error`]).
type ErrFn<'a> = dyn Fn(Option<usize>, &str, String) -> String + 'a;

/// The skeleton both constraint formats share: `name`, `description` and 1 to [`MAX_LEVELS`]
/// `[[level]]` tables, each handed to `level` with its 0-based index.
fn parse_levels<T>(
    text: &str,
    file: &str,
    mut level: impl FnMut(&toml::Table, usize, &ErrFn) -> Result<T, String>,
) -> Result<(String, Vec<T>), String> {
    let table: toml::Table = text.parse().map_err(|e| format!("{file}: {e}"))?;
    let err = |lv: Option<usize>, field: &str, msg: String| field_error(file, lv, field, msg);
    let mut name = file.trim_end_matches(".toml").to_string();
    let mut levels = Vec::new();
    for (k, v) in &table {
        match k.as_str() {
            "name" => name = v.as_str().ok_or_else(|| err(None, "name", "expected a string".into()))?.to_string(),
            "description" => {}
            "level" => {
                let arr = v.as_array().ok_or_else(|| err(None, "level", "expected [[level]] tables".into()))?;
                for (i, lv) in arr.iter().enumerate() {
                    let t = lv.as_table().ok_or_else(|| err(Some(i + 1), "level", "expected a table".into()))?;
                    levels.push(level(t, i, &err)?);
                }
            }
            other => return Err(err(None, other, "unknown key (expected name, description, level)".into())),
        }
    }
    if levels.is_empty() || levels.len() > MAX_LEVELS {
        return Err(err(
            None,
            "level",
            format!("{} levels; a constraint needs 1 to {MAX_LEVELS} [[level]] tables", levels.len()),
        ));
    }
    Ok((name, levels))
}

fn parse_level(t: &toml::Table, i: usize, err: &ErrFn) -> Result<LevelRule, String> {
    let l = Some(i + 1);
    let dim = |field: &str, v: &toml::Value| -> Result<Dim, String> {
        let s = v.as_str().ok_or_else(|| err(l, field, format!("expected a dimension name, got {v}")))?;
        Dim::parse(s).ok_or_else(|| err(l, field, format!("unknown dimension {s:?} (expected K, C, Y, X, R or S)")))
    };
    let size = |field: &str, v: &toml::Value| -> Result<SizeRule, String> {
        match v {
            toml::Value::Integer(n) if *n >= 1 => Ok(SizeRule::Fixed(*n)),
            toml::Value::Integer(n) => Err(err(l, field, format!("{n} must be positive"))),
            toml::Value::String(_) => dim(field, v).map(SizeRule::Same),
            _ => Err(err(l, field, format!("expected a positive number or a dimension name, got {v}"))),
        }
    };
    let dims = |field: &str, v: &toml::Value| -> Result<Vec<Dim>, String> {
        let arr = v.as_array().ok_or_else(|| err(l, field, "expected a list of dimension names".into()))?;
        let mut out: Vec<Dim> = Vec::new();
        for x in arr {
            let d = dim(field, x)?;
            if out.contains(&d) {
                return Err(err(l, field, format!("dimension {d} appears twice")));
            }
            out.push(d);
        }
        Ok(out)
    };
    let mut r = LevelRule::default();
    for (k, v) in t {
        match k.as_str() {
            "sp" => {
                r.sp = dims("sp", v)?;
                if r.sp.is_empty() {
                    return Err(err(l, "sp", "empty list (omit sp to leave the parallel dim free)".into()));
                }
            }
            "sp2" => {
                return Err(err(
                    l,
                    "sp2",
                    "a second spatial dim per level is not supported by gammaflow's cost model (fold it into sp_sz)"
                        .into(),
                ))
            }
            "sp_sz" => r.sp_sz = Some(size("sp_sz", v)?),
            "order" => r.order = dims("order", v)?,
            "tile_choices" => {
                let tt = v.as_table().ok_or_else(|| err(l, "tile_choices", "expected a table".into()))?;
                for (dk, dv) in tt {
                    let field = format!("tile_choices.{dk}");
                    let d = Dim::parse(dk).ok_or_else(|| {
                        err(l, &field, format!("unknown dimension {dk:?} (expected K, C, Y, X, R or S)"))
                    })?;
                    let arr = dv
                        .as_array()
                        .filter(|a| !a.is_empty())
                        .ok_or_else(|| err(l, &field, "expected a non-empty list".into()))?;
                    r.choices[d.index()] = arr.iter().map(|x| size(&field, x)).collect::<Result<_, _>>()?;
                }
            }
            "tiles" => {
                let tt = v.as_table().ok_or_else(|| err(l, "tiles", "expected a table".into()))?;
                for (dk, dv) in tt {
                    let field = format!("tiles.{dk}");
                    let d = Dim::parse(dk).ok_or_else(|| {
                        err(l, &field, format!("unknown dimension {dk:?} (expected K, C, Y, X, R or S)"))
                    })?;
                    r.tiles[d.index()] = Some(size(&field, dv)?);
                }
            }
            other => return Err(err(l, other, "unknown key (expected sp, sp_sz, order, tiles, tile_choices)".into())),
        }
    }
    Ok(r)
}

/// Redraws the parallel dim of one random level among those its rule allows.
pub fn mutate_par(g: &mut Genome, space: &Space, rng: &mut impl Rng) {
    let li = rng.random_range(0..g.levels.len());
    g.levels[li].par = space.random_par_at(li, rng);
}

/// Redraws the cluster size of one random inner level.
pub fn mutate_cluster(g: &mut Genome, space: &Space, rng: &mut impl Rng) {
    if g.levels.len() > 1 {
        let li = rng.random_range(1..g.levels.len());
        g.levels[li].size = space.random_cluster(g, li, rng);
    }
}

/// A parallel dim from `allowed`, or from `default` when the rule leaves it free.
pub(crate) fn draw_par(allowed: &[Dim], default: &'static [Dim], rng: &mut impl Rng) -> Dim {
    if allowed.is_empty() {
        *default.choose(rng).unwrap()
    } else {
        *allowed.choose(rng).unwrap()
    }
}
