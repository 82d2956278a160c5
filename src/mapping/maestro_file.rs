//! Export to a MAESTRO mapping file, byte for byte as GAMMA's `write_maestro` writes it, so any
//! result can be re-checked with MAESTRO itself.

use super::{Dim, Genome};
use crate::workload::Layer;
use std::fmt::Write;

/// The `.m` text for one layer and genome (no final newline, as GAMMA writes it).
pub fn write_maestro(layer: &Layer, genome: &Genome) -> String {
    let sh = layer.shape();
    let ty = if sh.depthwise { "DSCONV" } else { "CONV" };
    let [k, c, y, x, r, s] = sh.dims;
    let mut o = String::new();
    let _ = write!(
        o,
        "Network 0 {{\nLayer {ty} {{\nType: {ty}\nDimensions {{ K: {k}, C: {c}, Y: {y}, X: {x}, R: {r}, S: {s} }}\nDataflow {{\n"
    );
    for (li, lv) in genome.levels.iter().enumerate() {
        if li > 0 {
            let _ = writeln!(o, "Cluster({},P);", lv.size);
        }
        // DSCONV has no K loop: GAMMA drops K directives and moves a K parallel dim onto C.
        let par = if sh.depthwise && lv.par == Dim::K { Dim::C } else { lv.par };
        for (d, t) in lv.order {
            if sh.depthwise && d == Dim::K {
                continue;
            }
            // GAMMA writes a SpatialMap for the parallel dim and for the optional second one.
            let kind = if d == par || Some(d) == lv.sp2 { "SpatialMap" } else { "TemporalMap" };
            let name = match d {
                Dim::Y => "Y'",
                Dim::X => "X'",
                other => other.name(),
            };
            let _ = writeln!(o, "{kind}({t},{t}) {name};");
        }
    }
    o.push_str("}\n}\n}");
    o
}
