//! Constrained map spaces (the SIGMETRICS 2022 flexibility formalism): mapping-constraint files,
//! the built-in accelerator maps (`data/constraints/*.toml`), their 16 flexibility classes, and
//! the operators a constrained search uses.
//!
//! A constraint has one rule set per cluster level (outer first) and fixes the level count. Each
//! level may fix the allowed parallel dims (`sp`), a second spatial dim (`sp2`), the cluster size
//! (`sp_sz`), a loop-order prefix (`order`) and any tile (`tiles.D`): a number, or a dim name
//! meaning "that dim's tile at the enclosing level" (at the top level: the layer's extent of that
//! dim, Y/X as output extents). [`crate::search::Space::repair`] imposes the rules after the
//! usual repair, so every genome the search produces satisfies them.
//!
//! **Second spatial dim (`sp2`).** GAMMA's optional third header element: the level's genomes
//! carry [`crate::mapping::Level::sp2`] `= Some(d)` and MAESTRO gets a second `SpatialMap` on `d`
//! (both spread over the same sub-clusters, in lockstep). The parallel dim `par` never equals
//! `d` there (two SpatialMaps on one dim would be one): `sp` may not be `[d]`, and `d` is left
//! out of the parallel dims drawn or repaired at that level. Levels without `sp2` keep `None`;
//! an unconstrained space never has a second spatial dim (GAMMA's default map space).
//!
//! **Flexibility classes.** Bit 1 frees every tile rule (and tile choice), bit 2 the order
//! prefixes, bit 4 the parallel dims, bit 8 the cluster sizes. A class must contain the map as
//! written, so that more flexibility never makes the best result worse:
//! - parallelism free: `sp` is dropped (a level whose map parallelises R or S allows all six dims,
//!   so the map's own choice stays reachable without `--par-rs`), and at levels where the map
//!   has `sp2`, the second spatial dim becomes free ([`Sp2Rule::Free`]: none, or any dim other
//!   than `par`), redrawn by the parallel-dim mutation. GAMMA's own class files
//!   (`eye_dir/eye_map_01xx.py`) drop `sp2` with `sp`, which leaves the two-spatial-dim map out
//!   of the flexible class; gammaflow's space is GAMMA's (no `sp2`) plus that map and its kin.
//! - Levels without `sp2` never get one in any class.
//!
//! **R/S rule (`rs_full`).** The cost model's own constraint (R and S tiles whole at every level,
//! [`SpaceOptions::rs_full`], on by default, `--free-rs` turns it off) and a file's R/S tile
//! rules must agree: under the rule, a `tiles.R`/`tiles.S` (or `tile_choices`) rule that gives
//! anything but the whole dim is an error (see [`MapConstraint::check_layer`]), because a class
//! that frees tiles would force that tile whole again and lose the map. A file that tiles R or S
//! itself (Eyeriss's row-stationary inner level has R = 1) says so with a top-level
//! `rs_full = false`: the rule is then off for every search under that constraint, in every
//! class, and R/S tiles follow the file's rules only (free where a class frees tiles). Unlike
//! GAMMA, where the cost-model constraint silently overrides the file's R and S rules.

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

/// The second spatial dim of one cluster level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sp2Rule {
    /// None: genomes have one spatial dim at this level (`sp2: None`).
    #[default]
    Off,
    /// Always this dim (and the parallel dim never is).
    Fixed(Dim),
    /// None or any dim other than the parallel dim (a parallelism-flexible class of a map with
    /// `sp2` at this level).
    Free,
}

/// The rules of one cluster level.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LevelRule {
    /// Allowed parallel dims; empty = free.
    pub sp: Vec<Dim>,
    /// The second spatial dim.
    pub sp2: Sp2Rule,
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
    /// Whether the cost model's whole-R/S rule may apply under this constraint (false: the file
    /// says `rs_full = false` and tiles R and S itself). The rule applies when this and
    /// [`SpaceOptions::rs_full`] are both true.
    pub rs_full: bool,
    /// The flexibility class applied (0 = the rules as written).
    pub class: u8,
    /// The rules as written, kept when a class relaxed them: its genomes are in every class's
    /// space, so the search seeds each class with one (more flexibility never loses that map).
    pub fixed: Option<Box<MapConstraint>>,
    /// Where each field was written, so errors found later (against a layer, or with an
    /// accelerator's rules) still name the line.
    pub lines: FieldLines,
}

/// Line numbers of a constraint file's fields: `(level, field)` with level 0 = the top-level
/// table and `l` = the l-th `[[level]]` (1 = outer); field `""` is the level's own header, and
/// nested keys are dotted (`tiles.K`). Never part of a constraint's identity: every `FieldLines`
/// compares equal.
#[derive(Debug, Clone, Default)]
pub struct FieldLines(std::sync::Arc<std::collections::HashMap<(usize, String), usize>>);

impl PartialEq for FieldLines {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for FieldLines {}

impl FieldLines {
    /// Reads the spans of a TOML text (empty when it is not TOML: the parser reports that).
    pub fn of(text: &str) -> FieldLines {
        use toml::de::{DeTable, DeValue};
        let mut map = std::collections::HashMap::new();
        let line = |at: usize| crate::schema::line_of(text, at);
        fn walk(
            t: &DeTable,
            level: usize,
            prefix: &str,
            line: &dyn Fn(usize) -> usize,
            map: &mut std::collections::HashMap<(usize, String), usize>,
        ) {
            for (k, v) in t {
                let name = format!("{prefix}{}", k.get_ref());
                map.insert((level, name.clone()), line(k.span().start));
                if let DeValue::Table(sub) = v.get_ref() {
                    walk(sub, level, &format!("{name}."), line, map);
                }
            }
        }
        if let Ok(top) = DeTable::parse(text) {
            for (k, v) in top.get_ref() {
                map.insert((0, k.get_ref().to_string()), line(k.span().start));
                if k.get_ref() == "level" {
                    if let DeValue::Array(items) = v.get_ref() {
                        for (i, item) in items.iter().enumerate() {
                            map.insert((i + 1, String::new()), line(item.span().start));
                            if let DeValue::Table(t) = item.get_ref() {
                                walk(t, i + 1, "", &line, &mut map);
                            }
                        }
                    }
                }
            }
        }
        FieldLines(std::sync::Arc::new(map))
    }

    /// The line of `field` at `level` (None = top level), else of the level's header.
    pub fn line(&self, level: Option<usize>, field: &str) -> Option<usize> {
        let l = level.unwrap_or(0);
        self.0.get(&(l, field.to_string())).or_else(|| self.0.get(&(l, String::new()))).copied()
    }
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

/// Why a constraint could not be read, combined or applied. Every message says where: the file,
/// its line, the level (1 = outer) and the field, or the layer and the rule it cannot meet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    /// The file could not be read (or the name is neither a built-in nor a file).
    #[error("{0}")]
    Read(String),
    /// A rule or key of the file is malformed or contradicts another.
    #[error("{0}")]
    Rule(String),
    /// A flexibility class outside 0..=15.
    #[error("--flex-class must be within 0..=15, got {0}")]
    Class(u8),
    /// A mapping and an accelerator constraint that cannot be combined.
    #[error("{0}")]
    Combine(String),
    /// Rules that no mapping of this layer on this accelerator can meet.
    #[error("{0}")]
    Layer(String),
    /// A genome that breaks a rule.
    #[error("{0}")]
    Genome(String),
    /// Search options that the constraint would override (its level count, its cluster sizes).
    #[error("{0}")]
    Options(String),
}

impl MapConstraint {
    /// A built-in name (`nvdla`, `eyeriss`, `tpu`) or a TOML file path.
    pub fn resolve(name_or_path: &str) -> Result<MapConstraint, ConstraintError> {
        if let Some(text) = builtin_text(&name_or_path.to_ascii_lowercase()) {
            return Self::parse(text, &format!("{}.toml", name_or_path.to_ascii_lowercase()));
        }
        let p = Path::new(name_or_path);
        let text = std::fs::read_to_string(p).map_err(|e| {
            ConstraintError::Read(format!(
                "mapping constraint {name_or_path:?}: not a built-in ({}) and not a readable file: {e}",
                BUILTINS.join(", ")
            ))
        })?;
        let file = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| name_or_path.to_string());
        Self::parse(&text, &file)
    }

    /// Parses a constraint file; errors name the file, the line, the level (1 = outer) and the field.
    pub fn parse(text: &str, file: &str) -> Result<MapConstraint, ConstraintError> {
        Self::parse_rules(text, file).map_err(ConstraintError::Rule)
    }

    fn parse_rules(text: &str, file: &str) -> Result<MapConstraint, String> {
        let (name, levels, extra, lines) = parse_levels(text, file, &["rs_full"], |t, i, err| parse_level(t, i, err))?;
        let err = |lv: Option<usize>, field: &str, msg: String| field_error(file, &lines, lv, field, msg);
        if levels[0].sp_sz.is_some() {
            return Err(err(
                Some(1),
                "sp_sz",
                "the top level's size is the PE count; set sp_sz on inner levels only".into(),
            ));
        }
        let mut rs_full = true;
        for (k, v) in extra {
            if k == "rs_full" {
                rs_full = v.as_bool().ok_or_else(|| {
                    err(
                        None,
                        "rs_full",
                        format!("expected true or false (false: this file tiles R and S itself), got {v}"),
                    )
                })?;
            }
        }
        let c = MapConstraint { name, source: file.to_string(), levels, rs_full, class: 0, fixed: None, lines };
        c.rules_consistent()?;
        Ok(c)
    }

    /// Layer-independent consistency of the rules: a fixed second spatial dim leaves the level a
    /// parallel dim other than itself.
    pub fn check_rules(&self) -> Result<(), ConstraintError> {
        self.rules_consistent().map_err(ConstraintError::Rule)
    }

    fn rules_consistent(&self) -> Result<(), String> {
        for (li, lv) in self.levels.iter().enumerate() {
            if let Sp2Rule::Fixed(d) = lv.sp2 {
                if lv.sp == [d] {
                    return Err(field_error(
                        &self.source,
                        &self.lines,
                        Some(li + 1),
                        "sp2",
                        format!(
                            "{d} is also the level's only parallel dim (sp); two SpatialMaps on one dim would be one"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether the whole-R/S rule applies under this constraint with `rs_full` requested.
    pub fn rs_rule(&self, rs_full: bool) -> bool {
        rs_full && self.rs_full
    }

    /// Flexibility class `class` (0-15) of this map: the rules of each flexible axis dropped.
    pub fn with_class(&self, class: u8) -> Result<MapConstraint, ConstraintError> {
        if class > 15 {
            return Err(ConstraintError::Class(class));
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
                // The map's own parallel dim must stay reachable: R and S need all six dims.
                let rs = lv.sp.iter().any(|d| matches!(d, Dim::R | Dim::S));
                lv.sp = if rs { Dim::ALL.to_vec() } else { Vec::new() };
                if lv.sp2 != Sp2Rule::Off {
                    lv.sp2 = Sp2Rule::Free;
                }
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
        let rs_full = self.rs_rule(rs_full);
        let ls = &self.levels;
        FixedAxes {
            tiles: ls.iter().all(|l| {
                Dim::ALL.iter().all(|d| {
                    l.tiles[d.index()].is_some()
                        || (rs_full && matches!(d, Dim::R | Dim::S) && l.choices[d.index()].is_empty())
                })
            }),
            order: ls.iter().all(|l| l.order.len() >= 5),
            par: ls.iter().all(|l| l.sp.len() == 1 && l.sp2 != Sp2Rule::Free),
            shape: ls[1..].iter().all(|l| l.sp_sz.is_some()),
        }
    }

    /// Refuses a cluster-level range `slevel_min..=slevel_max` without this constraint's level
    /// count, which the constraint would otherwise silently replace.
    pub fn check_level_range(&self, slevel_min: usize, slevel_max: usize) -> Result<(), ConstraintError> {
        let n = self.levels.len();
        if (slevel_min..=slevel_max).contains(&n) {
            return Ok(());
        }
        Err(ConstraintError::Options(format!(
            "mapping constraint {} ({}) fixes {n} cluster level(s), outside the range {slevel_min}..{slevel_max}: \
             leave the range out or include {n}",
            self.name, self.source
        )))
    }

    /// Refuses a fixed cluster size `z` where an inner level sets its own size, which would
    /// otherwise silently win over `z`.
    pub fn check_fixed_cluster(&self, z: i64) -> Result<(), ConstraintError> {
        for (li, lv) in self.levels.iter().enumerate().skip(1) {
            let size = match lv.sp_sz {
                Some(SizeRule::Fixed(v)) if v == z => continue,
                Some(SizeRule::Fixed(v)) => v.to_string(),
                Some(SizeRule::Same(d)) => format!("the enclosing {d} tile"),
                None => continue,
            };
            let msg = format!(
                "the cluster size is {size} here, not {z}: leave the fixed cluster size out, or free the cluster \
                 sizes (flexibility class +{FLEX_SHAPE})"
            );
            return Err(ConstraintError::Options(format!(
                "mapping constraint {}: {}",
                self.name,
                field_error(&self.source, &self.lines, Some(li + 1), "sp_sz", msg)
            )));
        }
        Ok(())
    }

    /// Checks the constraint against one layer before any search: every tile and cluster size
    /// that the rules determine must fit the layer, its enclosing tile, and the PEs.
    pub fn check_layer(&self, layer: &Layer, num_pe: i64, opts: &SpaceOptions) -> Result<(), ConstraintError> {
        self.layer_fits(layer, num_pe, opts).map_err(ConstraintError::Layer)
    }

    fn layer_fits(&self, layer: &Layer, num_pe: i64, opts: &SpaceOptions) -> Result<(), String> {
        self.rules_consistent()?;
        let bound = Space::new(layer, num_pe, SpaceOptions { constraint: None, ..opts.clone() }).bound;
        let rs_full = self.rs_rule(opts.rs_full);
        let st = self.statics(bound, rs_full);
        let err =
            |l: usize, field: String, msg: String| field_error(&self.source, &self.lines, Some(l + 1), &field, msg);
        let mut product = 1i64;
        for (li, lv) in self.levels.iter().enumerate() {
            if rs_full {
                // Under the whole-R/S rule every R/S tile is whole, at the enclosing level too.
                for d in [Dim::R, Dim::S] {
                    let whole = bound[d.index()];
                    let rule = lv.tiles[d.index()].map(|t| ("tiles", t));
                    let choices = lv.choices[d.index()].iter().map(|&t| ("tile_choices", t));
                    for (field, t) in rule.into_iter().chain(choices) {
                        let v = match t {
                            SizeRule::Fixed(v) => Some(v),
                            SizeRule::Same(e) if e == d => Some(whole),
                            SizeRule::Same(e) if li == 0 => Some(bound[e.index()]),
                            SizeRule::Same(e) => st.tiles[li - 1][e.index()],
                        };
                        if v != Some(whole) {
                            let got = match (t, v) {
                                (_, Some(v)) => format!("{d} tile {v}"),
                                (SizeRule::Same(e), None) => format!("{d} tile = the enclosing {e} tile"),
                                (SizeRule::Fixed(v), None) => format!("{d} tile {v}"),
                            };
                            return Err(err(
                                li,
                                format!("{field}.{d}"),
                                format!(
                                    "{got} is not the whole {d} = {whole} that the cost model's R/S rule wants; \
                                     put `rs_full = false` at the top of the file if the map tiles R and S itself \
                                     (or search with --free-rs)"
                                ),
                            ));
                        }
                    }
                }
            }
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
        let rs_full = self.rs_rule(rs_full);
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
    pub fn check_genome(&self, g: &Genome, bound: [i64; 6]) -> Result<(), ConstraintError> {
        self.genome_fits(g, bound).map_err(ConstraintError::Genome)
    }

    fn genome_fits(&self, g: &Genome, bound: [i64; 6]) -> Result<(), String> {
        if g.levels.len() != self.levels.len() {
            return Err(format!("{} levels, the constraint has {}", g.levels.len(), self.levels.len()));
        }
        for (li, (lv, r)) in g.levels.iter().zip(&self.levels).enumerate() {
            let parent = |d: Dim| if li == 0 { bound[d.index()] } else { g.levels[li - 1].tile(d) };
            if !r.sp.is_empty() && !r.sp.contains(&lv.par) {
                return Err(format!("level {}: parallel dim {} not in {:?}", li + 1, lv.par, r.sp));
            }
            let sp2_ok = match r.sp2 {
                Sp2Rule::Off => lv.sp2.is_none(),
                Sp2Rule::Fixed(d) => lv.sp2 == Some(d) && lv.par != d,
                Sp2Rule::Free => lv.sp2 != Some(lv.par),
            };
            if !sp2_ok {
                return Err(format!(
                    "level {}: parallel dim {}, second spatial dim {:?}; the rule is {:?}",
                    li + 1,
                    lv.par,
                    lv.sp2,
                    r.sp2
                ));
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
pub fn parse_accel(text: &str, file: &str) -> Result<MapConstraint, ConstraintError> {
    parse_accel_rules(text, file).map_err(ConstraintError::Rule)
}

fn parse_accel_rules(text: &str, file: &str) -> Result<MapConstraint, String> {
    let (name, levels, _, lines) = parse_levels(text, file, &[], |t, i, err| {
        let l = Some(i + 1);
        let mut r = LevelRule::default();
        let mut sp: Vec<Dim> = Dim::ALL.to_vec();
        for (key, val) in t {
            const KEYS: [&str; 3] = ["buffer", "distribution", "reduction"];
            // A misspelt key is named as one, whatever its value.
            if !KEYS.contains(&key.as_str()) {
                return Err(err(l, key, crate::schema::unknown_field(key, &KEYS)));
            }
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
                _ => {
                    return Err(err(
                        l,
                        key,
                        crate::schema::unknown_field(key, &["buffer", "distribution", "reduction"]),
                    ))
                }
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
    Ok(MapConstraint { name, source: file.to_string(), levels, rs_full: true, class: 0, fixed: None, lines })
}

/// Reads an accelerator-constraint file (see [`parse_accel`]).
pub fn load_accel(path: &str) -> Result<MapConstraint, ConstraintError> {
    let p = Path::new(path);
    let text = std::fs::read_to_string(p)
        .map_err(|e| ConstraintError::Read(format!("accelerator constraint {path:?}: {e}")))?;
    let file = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| path.to_string());
    parse_accel(&text, &file)
}

impl MapConstraint {
    /// This mapping constraint with an accelerator's rules added (they are hardware: a
    /// flexibility class never relaxes them). Parallel dims are intersected.
    pub fn with_accel(&self, accel: &MapConstraint) -> Result<MapConstraint, ConstraintError> {
        self.combined(accel).map_err(ConstraintError::Combine)
    }

    fn combined(&self, accel: &MapConstraint) -> Result<MapConstraint, String> {
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
                if lv.sp.is_empty() || matches!(lv.sp2, Sp2Rule::Fixed(d) if lv.sp == [d]) {
                    return Err(field_error(
                        &self.source,
                        &self.lines,
                        Some(li + 1),
                        "sp",
                        format!(
                            "no parallel dim allowed by both {} and {}{}",
                            self.source,
                            accel.source,
                            if lv.sp.is_empty() { "" } else { " other than the second spatial dim (sp2)" }
                        ),
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
        c.fixed = self.fixed.as_ref().and_then(|f| f.combined(accel).ok()).map(Box::new);
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

/// Error text naming the file, the line where the field (or else its level) is written, the
/// level (1 = outer) when there is one, and the field.
fn field_error(file: &str, lines: &FieldLines, level: Option<usize>, field: &str, msg: String) -> String {
    match (lines.line(level, field), level) {
        (Some(n), Some(l)) => format!("{file} line {n}, level {l}, field {field}: {msg}"),
        (Some(n), None) => format!("{file} line {n}, field {field}: {msg}"),
        (None, Some(l)) => format!("{file} level {l}, field {field}: {msg}"),
        (None, None) => format!("{file}, field {field}: {msg}"),
    }
}

/// Builds an error naming the file, the level and the field (see [`field_error`]).
type ErrFn<'a> = dyn Fn(Option<usize>, &str, String) -> String + 'a;

/// A parsed constraint file: its name, its levels, the extra top-level keys as written, and
/// where each field is.
type Parsed<T> = (String, Vec<T>, Vec<(String, toml::Value)>, FieldLines);

/// The skeleton both constraint formats share: `name`, `description` and 1 to [`MAX_LEVELS`]
/// `[[level]]` tables, each handed to `level` with its 0-based index. Top-level keys named in
/// `extra` are handed back as written.
fn parse_levels<T>(
    text: &str,
    file: &str,
    extra: &[&str],
    mut level: impl FnMut(&toml::Table, usize, &ErrFn) -> Result<T, String>,
) -> Result<Parsed<T>, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("{file}: {e}"))?;
    let lines = FieldLines::of(text);
    let err = |lv: Option<usize>, field: &str, msg: String| field_error(file, &lines, lv, field, msg);
    let mut name = file.trim_end_matches(".toml").to_string();
    let mut levels = Vec::new();
    let mut rest = Vec::new();
    for (k, v) in &table {
        match k.as_str() {
            k if extra.contains(&k) => rest.push((k.to_string(), v.clone())),
            "name" => name = v.as_str().ok_or_else(|| err(None, "name", "expected a string".into()))?.to_string(),
            "description" => {}
            "level" => {
                let arr = v.as_array().ok_or_else(|| err(None, "level", "expected [[level]] tables".into()))?;
                for (i, lv) in arr.iter().enumerate() {
                    let t = lv.as_table().ok_or_else(|| err(Some(i + 1), "level", "expected a table".into()))?;
                    levels.push(level(t, i, &err)?);
                }
            }
            other => {
                let keys: Vec<&str> = ["name", "description", "level"].iter().chain(extra).copied().collect();
                return Err(err(None, other, crate::schema::unknown_field(other, &keys)));
            }
        }
    }
    if levels.is_empty() || levels.len() > MAX_LEVELS {
        return Err(err(
            None,
            "level",
            format!("{} levels; a constraint needs 1 to {MAX_LEVELS} [[level]] tables", levels.len()),
        ));
    }
    Ok((name, levels, rest, lines))
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
                // One dim name, or GAMMA's form: a list of one.
                let d = match v {
                    toml::Value::Array(a) if a.len() == 1 => dim("sp2", &a[0])?,
                    toml::Value::Array(_) => {
                        return Err(err(
                            l,
                            "sp2",
                            "expected one dimension name (one second spatial dim per level)".into(),
                        ))
                    }
                    _ => dim("sp2", v)?,
                };
                r.sp2 = Sp2Rule::Fixed(d);
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
                    if !r.choices[d.index()].is_empty() {
                        return Err(err(
                            l,
                            &field,
                            format!("dimension {d} is already given (names compare case-insensitively, Y' is Y)"),
                        ));
                    }
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
                    // `K` and `k` (or `Y` and `Y'`) are one dim: a second rule would silently win.
                    if r.tiles[d.index()].is_some() {
                        return Err(err(
                            l,
                            &field,
                            format!("dimension {d} is already given (names compare case-insensitively, Y' is Y)"),
                        ));
                    }
                    r.tiles[d.index()] = Some(size(&field, dv)?);
                }
            }
            other => {
                return Err(err(
                    l,
                    other,
                    crate::schema::unknown_field(other, &["sp", "sp2", "sp_sz", "order", "tiles", "tile_choices"]),
                ))
            }
        }
    }
    Ok(r)
}

/// Redraws the parallel dim of one random level among those its rule allows, and the second
/// spatial dim where the rule leaves it free.
pub fn mutate_par(g: &mut Genome, space: &Space, rng: &mut impl Rng) {
    let li = rng.random_range(0..g.levels.len());
    g.levels[li].par = space.random_par_at(li, rng);
    if space.constraint().and_then(|c| c.levels.get(li)).is_some_and(|r| r.sp2 == Sp2Rule::Free) {
        g.levels[li].sp2 = random_sp2(g.levels[li].par, rng);
    }
}

/// Redraws the cluster size of one random inner level.
pub fn mutate_cluster(g: &mut Genome, space: &Space, rng: &mut impl Rng) {
    if g.levels.len() > 1 {
        let li = rng.random_range(1..g.levels.len());
        g.levels[li].size = space.random_cluster(g, li, rng);
    }
}

/// A free second spatial dim: none half the time (GAMMA's single-spatial maps), else any dim
/// other than `par`.
pub(crate) fn random_sp2(par: Dim, rng: &mut impl Rng) -> Option<Dim> {
    if rng.random_bool(0.5) {
        None
    } else {
        let others: Vec<Dim> = Dim::ALL.into_iter().filter(|&d| d != par).collect();
        others.choose(rng).copied()
    }
}

impl LevelRule {
    /// The parallel dims this level allows: `sp`, or `default` where it is free, less a fixed
    /// second spatial dim. Empty only for rules [`MapConstraint::check_rules`] rejects.
    pub fn allowed_par(&self, default: &[Dim]) -> Vec<Dim> {
        let base = if self.sp.is_empty() { default } else { &self.sp[..] };
        base.iter().copied().filter(|&d| self.sp2 != Sp2Rule::Fixed(d)).collect()
    }
}

/// A parallel dim for a level with rule `rule` (free when None), from `default` where it is free.
pub(crate) fn draw_par(rule: Option<&LevelRule>, default: &'static [Dim], rng: &mut impl Rng) -> Dim {
    let allowed = rule.map(|r| r.allowed_par(default)).unwrap_or_else(|| default.to_vec());
    *allowed.choose(rng).or(default.first()).expect("parallel dims")
}
