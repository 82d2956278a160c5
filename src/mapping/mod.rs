//! Mappings: GAMMA's genome (1-4 cluster levels of 7 genes), its JSON form, MAESTRO export and the
//! packed form used by GPU buffers.

mod levels;
mod maestro_file;
pub mod pack;

pub use levels::Levels;

pub use maestro_file::write_maestro;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A loop dimension. `Y`/`X` tiles are output-centric (written `Y'`/`X'` to MAESTRO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Dim {
    K = 0,
    C = 1,
    Y = 2,
    X = 3,
    R = 4,
    S = 5,
}

impl Dim {
    pub const ALL: [Dim; 6] = [Dim::K, Dim::C, Dim::Y, Dim::X, Dim::R, Dim::S];

    pub fn index(self) -> usize {
        self as usize
    }
    pub fn from_index(i: usize) -> Dim {
        Dim::ALL[i]
    }
    pub fn name(self) -> &'static str {
        ["K", "C", "Y", "X", "R", "S"][self.index()]
    }
    /// Accepts `K C Y X R S` and MAESTRO's primed `Y'`/`X'`, any case.
    pub fn parse(s: &str) -> Option<Dim> {
        match s.trim().to_ascii_uppercase().as_str() {
            "K" => Some(Dim::K),
            "C" => Some(Dim::C),
            "Y" | "Y'" => Some(Dim::Y),
            "X" | "X'" => Some(Dim::X),
            "R" => Some(Dim::R),
            "S" => Some(Dim::S),
            _ => None,
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Most cluster levels a genome may have: MAESTRO has NoC models for 4 levels only.
pub const MAX_LEVELS: usize = 4;

/// One cluster level: gene 0 (`[parallel dim, size]`) and six `[dim, tile]` genes in loop order,
/// outermost first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Level {
    pub par: Dim,
    /// `Cluster(size)` for levels below the top; the PE count at the top in co-exploration mode,
    /// ignored by the cost model otherwise.
    pub size: i64,
    pub order: [(Dim, i64); 6],
    /// A second spatial dim at this level (GAMMA's optional third header element, set by mapping
    /// constraints such as Eyeriss's row-stationary `sp2`): MAESTRO gets a second
    /// `SpatialMap(t,t)` on that dim, at its own place in the loop order.
    pub sp2: Option<Dim>,
}

impl Level {
    /// A level with no second spatial dim.
    pub fn new(par: Dim, size: i64, order: [(Dim, i64); 6]) -> Level {
        Level { par, size, order, sp2: None }
    }
    /// The tile of `d` at this level.
    pub fn tile(&self, d: Dim) -> i64 {
        self.order.iter().find(|(x, _)| *x == d).map(|p| p.1).unwrap_or(0)
    }
    pub fn set_tile(&mut self, d: Dim, t: i64) {
        for g in self.order.iter_mut() {
            if g.0 == d {
                g.1 = t;
            }
        }
    }
    /// Tiles indexed by [`Dim::index`].
    pub fn tiles(&self) -> [i64; 6] {
        let mut t = [0; 6];
        for (d, v) in self.order {
            t[d.index()] = v;
        }
        t
    }
}

/// GAMMA's genome: 1 to [`MAX_LEVELS`] levels, outermost first (inline: a genome is `Copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Genome {
    pub levels: Levels,
}

/// Why a genome is structurally malformed (independent of any layer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenomeError {
    #[error("genome has {0} genes; expected a multiple of 7 (7 per cluster level)")]
    GeneCount(usize),
    #[error("genome has {0} cluster levels; 1 to 4 are supported")]
    LevelCount(usize),
    #[error("level {level}: dimension {dim} appears more than once in the loop order")]
    RepeatedDim { level: usize, dim: Dim },
    #[error("level {level}: tile of {dim} is {tile}; tiles must be positive")]
    BadTile { level: usize, dim: Dim, tile: i64 },
    #[error("level {level}: cluster size {size} must be positive")]
    BadCluster { level: usize, size: i64 },
    #[error("level {level}, gene {gene}: {msg}")]
    BadGene { level: usize, gene: usize, msg: String },
    #[error("genome has {levels} cluster levels; the population's records hold {max}")]
    TooManyLevels { levels: usize, max: usize },
}

impl Genome {
    /// Checks the structure: 1-4 levels, each order a permutation of K C Y X R S, positive tiles
    /// and cluster sizes (a tile or cluster ≤ 0 is a parse error in MAESTRO).
    pub fn check(&self) -> Result<(), GenomeError> {
        if self.levels.is_empty() || self.levels.len() > MAX_LEVELS {
            return Err(GenomeError::LevelCount(self.levels.len()));
        }
        for (li, lv) in self.levels.iter().enumerate() {
            let mut seen = [false; 6];
            for (d, t) in lv.order {
                if seen[d.index()] {
                    return Err(GenomeError::RepeatedDim { level: li, dim: d });
                }
                seen[d.index()] = true;
                if t <= 0 {
                    return Err(GenomeError::BadTile { level: li, dim: d, tile: t });
                }
            }
            if li > 0 && lv.size <= 0 {
                return Err(GenomeError::BadCluster { level: li, size: lv.size });
            }
        }
        Ok(())
    }

    /// From GAMMA's flat gene list `[[dim, value], ...]`.
    pub fn from_genes(genes: &[(Dim, i64)]) -> Result<Genome, GenomeError> {
        if genes.is_empty() || !genes.len().is_multiple_of(7) {
            return Err(GenomeError::GeneCount(genes.len()));
        }
        if genes.len() / 7 > MAX_LEVELS {
            return Err(GenomeError::LevelCount(genes.len() / 7));
        }
        let levels =
            genes.chunks(7).map(|c| Level::new(c[0].0, c[0].1, [c[1], c[2], c[3], c[4], c[5], c[6]])).collect();
        let g = Genome { levels };
        g.check()?;
        Ok(g)
    }

    /// GAMMA's flat gene list.
    pub fn to_genes(&self) -> Vec<(Dim, i64)> {
        let mut v = Vec::with_capacity(self.levels.len() * 7);
        for l in &self.levels {
            v.push((l.par, l.size));
            v.extend_from_slice(&l.order);
        }
        v
    }

    pub fn num_levels(&self) -> usize {
        self.levels.len()
    }

    /// A readable one-line form, e.g. `K: C16 K8 Y'7 ... | C16 | C: ...`.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for (i, l) in self.levels.iter().enumerate() {
            if i > 0 {
                s.push_str(&format!(" |C{}| ", l.size));
            }
            match l.sp2 {
                Some(d2) => s.push_str(&format!("{}+{}:", l.par, d2)),
                None => s.push_str(&format!("{}:", l.par)),
            }
            for (d, t) in l.order {
                let prime = if matches!(d, Dim::Y | Dim::X) { "'" } else { "" };
                s.push_str(&format!(" {d}{prime}{t}"));
            }
        }
        s
    }
}

/// One gene of the JSON list: `[dim, value]`, or a level header `[dim, value, sp2]`.
#[derive(Serialize)]
#[serde(untagged)]
enum JsonGene {
    Plain(String, i64),
    WithSp2(String, i64, String),
}

/// A gene as read: a sequence visitor rather than an untagged enum, so a bad element gets its own
/// message ("invalid type: string \"x\", expected i64" at `genome[3][1]`) instead of serde's
/// "data did not match any variant".
struct GeneIn(JsonGene);

impl<'de> Deserialize<'de> for GeneIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = GeneIn;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a gene [dim, integer] or a level header [dim, integer, second spatial dim]")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<GeneIn, A::Error> {
                let name: String = s.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let value: i64 = s.next_element()?.ok_or_else(|| A::Error::invalid_length(1, &self))?;
                let second: Option<String> = s.next_element()?;
                if s.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::invalid_length(4, &self));
                }
                Ok(GeneIn(match second {
                    Some(d2) => JsonGene::WithSp2(name, value, d2),
                    None => JsonGene::Plain(name, value),
                }))
            }
        }
        d.deserialize_seq(V)
    }
}

impl Serialize for Genome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut genes = Vec::with_capacity(self.levels.len() * 7);
        for l in &self.levels {
            genes.push(match l.sp2 {
                Some(d2) => JsonGene::WithSp2(l.par.name().into(), l.size, d2.name().into()),
                None => JsonGene::Plain(l.par.name().into(), l.size),
            });
            genes.extend(l.order.iter().map(|(d, t)| JsonGene::Plain(d.name().into(), *t)));
        }
        genes.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Genome {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: Vec<JsonGene> = Vec::<GeneIn>::deserialize(d)?.into_iter().map(|g| g.0).collect();
        let dim = |i: usize, name: &str| {
            Dim::parse(name).ok_or_else(|| {
                D::Error::custom(format!("gene {i}: unknown dimension {name:?} (expected K, C, Y, X, R or S)"))
            })
        };
        let mut genes = Vec::with_capacity(raw.len());
        let mut sp2 = Vec::new();
        for (i, g) in raw.iter().enumerate() {
            match g {
                JsonGene::Plain(name, v) => genes.push((dim(i, name)?, *v)),
                JsonGene::WithSp2(name, v, second) => {
                    if i % 7 != 0 {
                        return Err(D::Error::custom(format!(
                            "gene {i}: only a level's first gene may name a second spatial dim"
                        )));
                    }
                    genes.push((dim(i, name)?, *v));
                    sp2.push((i / 7, dim(i, second)?));
                }
            }
        }
        let mut g = Genome::from_genes(&genes).map_err(D::Error::custom)?;
        for (li, d2) in sp2 {
            g.levels[li].sp2 = Some(d2);
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let text = r#"[["K",1024],["C",16],["Y",7],["X",7],["K",8],["R",3],["S",3],["C",4],["K",1],["C",2],["Y",1],["X",1],["R",3],["S",3]]"#;
        let g: Genome = serde_json::from_str(text).unwrap();
        assert_eq!(g.num_levels(), 2);
        assert_eq!(g.levels[0].tile(Dim::K), 8);
        assert_eq!(g.levels[1].size, 4);
        assert_eq!(serde_json::to_string(&g).unwrap(), text);
    }

    #[test]
    fn json_second_spatial_dim() {
        let text = r#"[["Y",1024],["K",64],["C",64],["Y",7],["X",7],["R",3],["S",3],["R",3,"Y"],["Y",1],["R",1],["S",3],["X",7],["K",64],["C",1]]"#;
        let g: Genome = serde_json::from_str(text).unwrap();
        assert_eq!((g.levels[0].sp2, g.levels[1].sp2), (None, Some(Dim::Y)));
        assert_eq!(serde_json::to_string(&g).unwrap(), text);
        let bad = r#"[["K",1],["K",1,"C"],["C",2],["Y",2],["X",2],["R",3],["S",3]]"#;
        assert!(serde_json::from_str::<Genome>(bad).unwrap_err().to_string().contains("first gene"));
    }

    #[test]
    fn rejects_malformed() {
        let bad = r#"[["K",1],["K",1],["K",2],["Y",2],["X",2],["R",3],["S",3]]"#;
        let e = serde_json::from_str::<Genome>(bad).unwrap_err().to_string();
        assert!(e.contains("more than once"), "{e}");
        let bad = r#"[["K",1],["K",1],["C",0],["Y",2],["X",2],["R",3],["S",3]]"#;
        assert!(serde_json::from_str::<Genome>(bad).unwrap_err().to_string().contains("positive"));
        let bad = r#"[["K",1],["K",1]]"#;
        assert!(serde_json::from_str::<Genome>(bad).unwrap_err().to_string().contains("multiple of 7"));
        let bad = r#"[["Q",1],["K",1],["C",1],["Y",2],["X",2],["R",3],["S",3]]"#;
        assert!(serde_json::from_str::<Genome>(bad).unwrap_err().to_string().contains("unknown dimension"));
    }
}
