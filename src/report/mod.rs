//! Result files: CSV/JSON tables, MAESTRO mapping files, charts (SVG and PNG) and `report.html`.
//!
//! Charts go through three steps kept apart so each can be tested: result data to a chart spec
//! ([`figures`] builds [`chart::Figure`]s), the spec to pixels or SVG ([`draw`], with plotters),
//! and the page that shows them ([`html`]).

pub mod chart;
pub mod draw;
pub mod figures;
pub mod font;
pub mod gamma_layout;
pub mod html;
pub mod search_out;
pub mod summary;

/// Why an output folder (results, charts, report page) could not be written. Every variant
/// names the file.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Failed(#[from] crate::error::Failed),
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("writing a CSV file: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
}

/// Why a chart could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// No font for chart text (plotters measures text even for SVGs).
    #[error("charts need a font: {0}")]
    NoFont(String),
    #[error("drawing a chart: {0}")]
    Draw(String),
    #[error("encoding a PNG: {0}")]
    Png(String),
    #[error("writing {0}: {1}")]
    Io(String, #[source] std::io::Error),
}
