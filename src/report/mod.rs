//! Result files: CSV/JSON tables and SVG plots.

pub mod gamma_layout;
pub mod search_out;
pub mod svg;
