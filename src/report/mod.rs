//! Result files: CSV/JSON tables and SVG plots.

pub mod search_out;
pub mod svg;
