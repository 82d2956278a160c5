//! The font charts are laid out and rasterised with. plotters measures text (SVG and PNG) and
//! draws glyphs (PNG) through ab_glyph from a font registered at run time; none is shipped, so a
//! system font is found once per process: `GAMMAFLOW_FONT` (a .ttf/.otf path) if set, else the
//! first of a few common sans-serif families that fontdb finds in the system's font folders.
//! SVGs name the generic family `sans-serif`, so a browser or viewer uses its own.

use super::ChartError;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The family name charts use (registered with plotters, written into SVGs).
pub const FAMILY: &str = "sans-serif";

/// Families tried in order: DejaVu Sans is Debian's `fonts-dejavu-core` (what CI installs).
const PREFERRED: [&str; 8] =
    ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "FreeSans", "Verdana", "Roboto"];

/// Where the font came from (for messages and the report page).
#[derive(Debug, Clone)]
pub struct FontInfo {
    pub family: String,
    pub path: Option<PathBuf>,
    /// The font file (kept for the whole process, as plotters keeps it).
    pub bytes: &'static [u8],
}

impl FontInfo {
    /// The face, for drawing text into PNGs.
    pub fn face(&self) -> ab_glyph::FontRef<'static> {
        ab_glyph::FontRef::try_from_slice(self.bytes).expect("checked when registered")
    }
}

static FONT: OnceLock<Result<FontInfo, String>> = OnceLock::new();

/// Finds and registers the chart font (once); the error says what was looked for and how to fix
/// it.
pub fn ensure() -> Result<&'static FontInfo, ChartError> {
    FONT.get_or_init(load).as_ref().map_err(|why| ChartError::NoFont(why.clone()))
}

fn load() -> Result<FontInfo, String> {
    if let Some(p) = std::env::var_os("GAMMAFLOW_FONT").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(p);
        let bytes = std::fs::read(&path).map_err(|e| format!("GAMMAFLOW_FONT={}: {e}", path.display()))?;
        let bytes =
            register(bytes).map_err(|_| format!("GAMMAFLOW_FONT={}: not a TrueType/OpenType font", path.display()))?;
        return Ok(FontInfo { family: "GAMMAFLOW_FONT".into(), path: Some(path), bytes });
    }
    let mut db = fontdb::Database::new();
    db.load_system_fonts();
    // Regular weight, upright, face 0 of its file (plotters reads the first face only).
    let regular = |f: &&fontdb::FaceInfo| {
        f.index == 0 && f.weight == fontdb::Weight::NORMAL && f.style == fontdb::Style::Normal && !f.monospaced
    };
    let named = PREFERRED
        .iter()
        .find_map(|want| db.faces().filter(regular).find(|f| f.families.iter().any(|(n, _)| n == want)));
    let face = named.or_else(|| db.faces().find(regular)).ok_or_else(|| {
        format!(
            "no usable font found ({} faces in the system font folders, none a regular upright face); \
             install one (Debian/Ubuntu: apt-get install fonts-dejavu-core) or set GAMMAFLOW_FONT to a .ttf file",
            db.len()
        )
    })?;
    let family = face.families.first().map(|f| f.0.clone()).unwrap_or_default();
    let path = match &face.source {
        fontdb::Source::File(p) => Some(p.clone()),
        #[allow(unreachable_patterns)]
        fontdb::Source::SharedFile(p, _) => Some(p.clone()),
        _ => None,
    };
    let bytes = db.with_face_data(face.id, |data, _| data.to_vec()).ok_or_else(|| format!("{family}: unreadable"))?;
    let bytes = register(bytes).map_err(|_| format!("{family}: not readable as a TrueType/OpenType font"))?;
    log::debug!("chart font: {family} ({path:?})");
    Ok(FontInfo { family, path, bytes })
}

fn register(bytes: Vec<u8>) -> Result<&'static [u8], ()> {
    ab_glyph::FontRef::try_from_slice(&bytes).map_err(|_| ())?;
    // plotters keeps fonts for the whole process; the one font is leaked once.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font(FAMILY, plotters::style::FontStyle::Normal, bytes).map_err(|_| ())?;
    Ok(bytes)
}
