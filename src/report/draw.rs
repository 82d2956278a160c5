//! Draws a [`Figure`] with plotters: as SVG text (scale 1) or as a PNG (any scale; the files
//! beside the SVGs are drawn at 2x for print).
//!
//! Every axis is drawn on plotters' `f64` coordinates with the ticks of [`chart::ticks`] as key
//! points: a log axis is drawn in log10 space and labelled with the untransformed values, and a
//! categorical axis puts category `i` on [i, i + 1].

use super::chart::{self, BarLayout, Figure, Mark, Panel, Rgb, Scale, Swatch};
use super::font::{self, FAMILY};
use super::ChartError;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};
use std::path::Path;

/// Scale of the PNG files written beside the SVGs (a 760 x 460 panel becomes 1520 x 920).
pub const PNG_SCALE: f64 = 2.0;

const TITLE_H: f64 = 34.0;
const CAPTION_H: f64 = 22.0;
const LEGEND_ROW: f64 = 19.0;

fn derr<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> ChartError {
    ChartError::Draw(e.to_string())
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

fn text_width(text: &str, size: f64) -> f64 {
    (FAMILY, size).into_font().box_size(text).map(|b| b.0 as f64).unwrap_or(size * 0.6 * text.chars().count() as f64)
}

/// Legend column width at scale 1 (0 without entries).
fn legend_width(fig: &Figure) -> f64 {
    let entries = fig.legend();
    if entries.is_empty() {
        return 0.0;
    }
    let widest = entries.iter().map(|e| text_width(&e.name, 13.0)).fold(0.0, f64::max);
    (widest + 50.0).min(360.0)
}

/// The figure's size in pixels at `scale`.
pub fn size(fig: &Figure, scale: f64) -> (u32, u32) {
    let cols = fig.columns.max(1);
    let rows = fig.panels.len().div_ceil(cols).max(1);
    let legend_h = fig.legend().len() as f64 * LEGEND_ROW + 40.0;
    let w = cols as f64 * fig.panel_size.0 as f64 + legend_width(fig);
    let h = TITLE_H
        + (rows as f64 * fig.panel_size.1 as f64).max(legend_h)
        + if fig.caption.is_empty() { 0.0 } else { CAPTION_H };
    ((w * scale).round() as u32, (h * scale).round() as u32)
}

/// The figure as an SVG document.
pub fn svg(fig: &Figure) -> Result<String, ChartError> {
    font::ensure()?;
    let (w, h) = size(fig, 1.0);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        draw(&root, fig, 1.0)?;
        root.present().map_err(derr)?;
    }
    Ok(out)
}

/// Most pixels a PNG gets (192 MiB of RGB while drawing): a figure that would be larger (a model
/// with hundreds of layer shapes makes one) is drawn at a smaller scale; its SVG keeps the size.
pub const MAX_PNG_PIXELS: u64 = 1 << 26;

/// The figure as PNG bytes (8-bit RGB) at `scale`, or at the largest smaller scale that keeps it
/// within [`MAX_PNG_PIXELS`].
pub fn png(fig: &Figure, scale: f64) -> Result<Vec<u8>, ChartError> {
    let face = font::ensure()?.face();
    let pixels = |s: f64| {
        let (w, h) = size(fig, s);
        w as u64 * h as u64
    };
    let mut scale = scale;
    if pixels(scale) > MAX_PNG_PIXELS {
        scale *= (MAX_PNG_PIXELS as f64 / pixels(scale) as f64).sqrt();
        while pixels(scale) > MAX_PNG_PIXELS {
            scale *= 0.99; // rounding to whole pixels
        }
    }
    let (w, h) = size(fig, scale);
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let inner = BitMapBackend::with_buffer(&mut pixels, (w, h));
        let root = Pixels { inner, face }.into_drawing_area();
        draw(&root, fig, scale)?;
        root.present().map_err(derr)?;
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    // Charts are mostly flat colour: the fast deflate compresses them nearly as well, at a
    // fraction of the default level's time (which dominated writing a search's outputs).
    enc.set_compression(png::Compression::Fast);
    let mut wr = enc.write_header().map_err(|e| ChartError::Png(e.to_string()))?;
    wr.write_image_data(&pixels).map_err(|e| ChartError::Png(e.to_string()))?;
    wr.finish().map_err(|e| ChartError::Png(e.to_string()))?;
    Ok(out)
}

/// plotters' bitmap backend with its own text drawing: plotters' ab_glyph renderer places each
/// glyph without its side bearing (uneven letter spacing), so glyphs are laid out here from the
/// font's advances, kerning and outline bounds, at the em size the SVG text has.
struct Pixels<'a> {
    inner: BitMapBackend<'a>,
    face: ab_glyph::FontRef<'static>,
}

type PxErr = DrawingErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

impl Pixels<'_> {
    /// Glyphs of `text` on a baseline at y = 0 from x = 0, the width, ascent and descent.
    fn layout(&self, text: &str, size: f64) -> (Vec<ab_glyph::Glyph>, f32, f32, f32) {
        use ab_glyph::{Font, ScaleFont};
        // plotters' size is 1.24 em (its SVG writes font-size = size / 1.24).
        let em = (size / 1.24) as f32;
        let upem = self.face.units_per_em().unwrap_or(1000.0);
        let scale = ab_glyph::PxScale::from(em * self.face.height_unscaled() / upem);
        let sf = self.face.as_scaled(scale);
        let (mut x, mut prev, mut glyphs) = (0f32, None, Vec::new());
        for c in text.chars() {
            let id = sf.glyph_id(c);
            if let Some(p) = prev {
                x += sf.kern(p, id);
            }
            glyphs.push(id.with_scale_and_position(scale, ab_glyph::point(x, 0.0)));
            x += sf.h_advance(id);
            prev = Some(id);
        }
        (glyphs, x, sf.ascent(), sf.descent())
    }
}

impl DrawingBackend for Pixels<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), PxErr> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), PxErr> {
        self.inner.present()
    }
    fn draw_pixel(&mut self, p: BackendCoord, c: BackendColor) -> Result<(), PxErr> {
        self.inner.draw_pixel(p, c)
    }
    fn draw_line<S: BackendStyle>(&mut self, a: BackendCoord, b: BackendCoord, st: &S) -> Result<(), PxErr> {
        self.inner.draw_line(a, b, st)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        st: &S,
        fill: bool,
    ) -> Result<(), PxErr> {
        self.inner.draw_rect(a, b, st, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        st: &S,
    ) -> Result<(), PxErr> {
        self.inner.draw_path(path, st)
    }
    fn draw_circle<S: BackendStyle>(&mut self, c: BackendCoord, r: u32, st: &S, fill: bool) -> Result<(), PxErr> {
        self.inner.draw_circle(c, r, st, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        v: I,
        st: &S,
    ) -> Result<(), PxErr> {
        self.inner.fill_polygon(v, st)
    }
    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Result<(), PxErr> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<T: BackendTextStyle>(&self, text: &str, style: &T) -> Result<(u32, u32), PxErr> {
        let (_, w, asc, desc) = self.layout(text, style.size());
        Ok((w.ceil() as u32, (asc - desc).ceil() as u32))
    }

    fn draw_text<T: BackendTextStyle>(&mut self, text: &str, style: &T, pos: BackendCoord) -> Result<(), PxErr> {
        use ab_glyph::Font;
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (glyphs, w, asc, desc) = self.layout(text, style.size());
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -w / 2.0,
            HPos::Right => -w,
        };
        let top = match style.anchor().v_pos {
            VPos::Top => 0.0,
            VPos::Center => -(asc - desc) / 2.0,
            VPos::Bottom => -(asc - desc),
        };
        let baseline = top + asc;
        let trans = style.transform();
        let mut coverage: Vec<(i32, i32, f32)> = Vec::new();
        for g in glyphs {
            if let Some(o) = self.face.outline_glyph(g) {
                let b = o.px_bounds();
                o.draw(|gx, gy, cov| {
                    let x = (b.min.x + gx as f32 + dx).round() as i32;
                    let y = (b.min.y + gy as f32 + baseline).round() as i32;
                    coverage.push((x, y, cov));
                });
            }
        }
        for (x, y, cov) in coverage {
            if cov <= 0.0 {
                continue;
            }
            let (tx, ty) = trans.transform(x, y);
            let c = BackendColor { alpha: color.alpha * cov.min(1.0) as f64, rgb: color.rgb };
            self.inner.draw_pixel((pos.0 + tx, pos.1 + ty), c)?;
        }
        Ok(())
    }
}

/// Writes `DIR/NAME.svg` and, with `with_png`, `DIR/NAME.png` (at [`PNG_SCALE`]).
pub fn write_files(fig: &Figure, dir: &Path, name: &str, with_png: bool) -> Result<(), ChartError> {
    let io = |path: std::path::PathBuf| move |e| ChartError::Io(path.display().to_string(), e);
    let p = dir.join(format!("{name}.svg"));
    std::fs::write(&p, svg(fig)?).map_err(io(p.clone()))?;
    if with_png {
        let p = dir.join(format!("{name}.png"));
        std::fs::write(&p, png(fig, PNG_SCALE)?).map_err(io(p.clone()))?;
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &Figure, s: f64) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(derr)?;
    let (w, h) = root.dim_in_pixel();
    let title_h = (TITLE_H * s) as u32;
    let caption_h = if fig.caption.is_empty() { 0 } else { (CAPTION_H * s) as u32 };
    root.draw(&Text::new(
        fig.title.clone(),
        ((w / 2) as i32, (title_h / 2) as i32),
        TextStyle::from((FAMILY, 17.0 * s).into_font())
            .color(&rgb(chart::BLACK))
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))
    .map_err(derr)?;
    if caption_h > 0 {
        root.draw(&Text::new(
            fig.caption.clone(),
            ((10.0 * s) as i32, (h - caption_h / 2) as i32),
            TextStyle::from((FAMILY, 12.0 * s).into_font())
                .color(&rgb(chart::GREY))
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(derr)?;
    }
    let body = root.margin(title_h, caption_h, 0, 0);
    let legend_w = (legend_width(fig) * s) as u32;
    let (plots, legend) = body.split_horizontally(w.saturating_sub(legend_w));
    draw_legend(&legend, fig, s)?;
    let cols = fig.columns.max(1);
    let rows = fig.panels.len().div_ceil(cols).max(1);
    let (pw, ph) = ((fig.panel_size.0 as f64 * s) as u32, (fig.panel_size.1 as f64 * s) as u32);
    for (i, p) in fig.panels.iter().enumerate() {
        let (r, c) = ((i / cols) as u32, (i % cols) as u32);
        if r as usize >= rows {
            break;
        }
        let area = plots.clone().shrink(((c * pw) as i32, (r * ph) as i32), (pw, ph));
        draw_panel(&area, p, s)?;
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, fig: &Figure, s: f64) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let black = rgb(chart::BLACK);
    let font = TextStyle::from((FAMILY, 13.0 * s).into_font()).color(&black).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, e) in fig.legend().into_iter().enumerate() {
        let y = ((24.0 + LEGEND_ROW * i as f64) * s) as i32;
        let x = (8.0 * s) as i32;
        let c = rgb(e.color).filled();
        // Samples are rectangles, never lines or circles, so that the plot's polylines and dots
        // are the data alone.
        let (u, half) = (s.max(1.0) as i32, (1.5 * s).max(1.0) as i32);
        match e.swatch {
            Swatch::Dot => {
                area.draw(&Rectangle::new([(x + 6 * u, y - 4 * u), (x + 14 * u, y + 4 * u)], c)).map_err(derr)?;
            }
            Swatch::Bar => {
                area.draw(&Rectangle::new([(x + 3 * u, y - 6 * u), (x + 17 * u, y + 6 * u)], c)).map_err(derr)?;
            }
            Swatch::Dashed => {
                for k in 0..3 {
                    let x0 = x + k * 8 * u;
                    area.draw(&Rectangle::new([(x0, y - half), (x0 + 5 * u, y + half)], c)).map_err(derr)?;
                }
            }
            Swatch::Line => {
                area.draw(&Rectangle::new([(x, y - half), (x + 20 * u, y + half)], c)).map_err(derr)?;
            }
        }
        area.draw(&Text::new(e.name, (x + 28 * u, y), font.clone())).map_err(derr)?;
    }
    Ok(())
}

/// A linear f64 coordinate whose key points are the given ticks (plotters' own float ranges pick
/// their ticks themselves, and its key-point wrapper does not take a label formatter).
#[derive(Clone)]
struct Ticked {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let frac = if self.hi > self.lo { (v - self.lo) / (self.hi - self.lo) } else { 0.5 };
        let len = (limit.1 - limit.0) as f64;
        limit.0 + (len * frac.clamp(-10.0, 10.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // No light (minor) points; bold ones are the ticks.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// One axis as drawn: the transform and the ticks (positions in drawn space, labels).
struct Drawn {
    log: bool,
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
    categorical: bool,
    /// Subtracted from tick values for their labels (see [`chart::axis_ticks`]).
    offset: Option<String>,
}

impl Drawn {
    fn new(p: &Panel, on_x: bool) -> Drawn {
        let axis = if on_x { &p.x } else { &p.y };
        if let Some(c) = &axis.categories {
            let n = c.len().max(1);
            let ticks = c.iter().enumerate().map(|(i, name)| (i as f64 + 0.5, name.clone())).collect();
            return Drawn { log: false, lo: 0.0, hi: n as f64, ticks, categorical: true, offset: None };
        }
        let log = axis.scale == Scale::Log;
        let zero_base = !p.bars.is_empty() && p.horizontal == on_x;
        let (lo, hi) = chart::padded(chart::data_range(p, on_x), axis.scale, zero_base);
        let (ticks, offset) = chart::axis_ticks(lo, hi, axis.scale);
        let t = |v: f64| if log { v.log10() } else { v };
        let ticks = ticks.into_iter().map(|(v, l)| (t(v), l)).collect();
        Drawn { log, lo: t(lo), hi: t(hi), ticks, categorical: false, offset }
    }

    /// Drawn-space position of a value; None when it cannot be drawn (log of a value ≤ 0).
    fn t(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        if self.log {
            (v > 0.0).then(|| v.log10())
        } else {
            Some(v)
        }
    }

    /// Where bars start: zero, or the bottom of a log axis.
    fn base(&self) -> f64 {
        if self.log {
            self.lo
        } else {
            0f64.clamp(self.lo, self.hi)
        }
    }

    fn label(&self, v: f64) -> String {
        self.ticks.iter().find(|t| (t.0 - v).abs() <= 1e-9 * v.abs().max(1.0)).map(|t| t.1.clone()).unwrap_or_default()
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel, s: f64) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let (dx, dy) = (Drawn::new(p, true), Drawn::new(p, false));
    let tick_font = 12.5 * s;
    let desc_font = 14.0 * s;
    let widest_y = dy.ticks.iter().map(|t| text_width(&t.1, 12.5)).fold(0.0, f64::max);
    let y_area = ((widest_y + 34.0) * s).round() as u32;
    let x_area = (44.0 * s).round() as u32;
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top((12.0 * s) as u32)
        .margin_right((22.0 * s) as u32)
        .margin_left((6.0 * s) as u32)
        .margin_bottom((4.0 * s) as u32)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area);
    if !p.title.is_empty() {
        builder.caption(&p.title, (FAMILY, 14.0 * s).into_font().color(&rgb(chart::BLACK)));
    }
    let xk: Vec<f64> = dx.ticks.iter().map(|t| t.0).collect();
    let yk: Vec<f64> = dy.ticks.iter().map(|t| t.0).collect();
    let mut ch = builder
        .build_cartesian_2d(Ticked { lo: dx.lo, hi: dx.hi, keys: xk }, Ticked { lo: dy.lo, hi: dy.hi, keys: yk })
        .map_err(derr)?;
    let fx = |v: &f64| dx.label(*v);
    let fy = |v: &f64| dy.label(*v);
    let stroke = |c: Rgb, w: f64| ShapeStyle {
        color: rgb(c).to_rgba(),
        filled: false,
        stroke_width: (w * s).round().max(1.0) as u32,
    };
    let desc = |a: &chart::Axis, d: &Drawn| match &d.offset {
        Some(o) => format!("{} = {o} + tick", a.label),
        None => a.label.clone(),
    };
    let (x_desc, y_desc) = (desc(&p.x, &dx), desc(&p.y, &dy));
    let mut mesh = ch.configure_mesh();
    mesh.x_desc(x_desc.as_str())
        .y_desc(y_desc.as_str())
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style((FAMILY, tick_font).into_font().color(&rgb(chart::BLACK)))
        .axis_desc_style((FAMILY, desc_font).into_font().color(&rgb(chart::BLACK)))
        .bold_line_style(stroke((0xe3, 0xe3, 0xe3), 1.0))
        .light_line_style(TRANSPARENT)
        .axis_style(stroke(chart::BLACK, 1.0))
        .set_all_tick_mark_size((4.0 * s) as u32);
    if dx.categorical {
        mesh.disable_x_mesh();
    }
    if dy.categorical {
        mesh.disable_y_mesh();
    }
    mesh.draw().map_err(derr)?;

    // Bars: categories on x (or on y when horizontal), values on the other axis.
    let val = if p.horizontal { &dx } else { &dy };
    let place = |c: f64, v: f64| if p.horizontal { (v, c) } else { (c, v) };
    let ncat = p.bars.iter().map(|b| b.values.len()).max().unwrap_or(0);
    let k = p.bars.len().max(1) as f64;
    let mut stack_top = vec![None::<f64>; ncat];
    for (j, b) in p.bars.iter().enumerate() {
        let fill = rgb(b.color).filled();
        for (i, v) in b.values.iter().enumerate() {
            let Some(v) = *v else { continue };
            let (c0, c1, from, to) = match p.bar_layout {
                BarLayout::Grouped => {
                    let w = 0.8 / k;
                    let c0 = i as f64 + 0.1 + j as f64 * w;
                    (c0, c0 + w, val.base(), val.t(v))
                }
                BarLayout::Stacked => {
                    let below = stack_top[i].unwrap_or(0.0);
                    let from = if below > 0.0 { val.t(below) } else { Some(val.base()) };
                    stack_top[i] = Some(below + v);
                    (i as f64 + 0.15, i as f64 + 0.85, from.unwrap_or(val.base()), val.t(below + v))
                }
            };
            let Some(to) = to else { continue };
            if v <= 0.0 && val.log {
                continue;
            }
            ch.draw_series(std::iter::once(Rectangle::new([place(c0, from), place(c1, to)], fill))).map_err(derr)?;
            if let Some(Some((lo, hi))) = b.errors.get(i) {
                if let (Some(lo), Some(hi)) = (val.t(*lo), val.t(*hi)) {
                    let mid = (c0 + c1) / 2.0;
                    let cap = (c1 - c0) * 0.3;
                    let st = stroke(chart::BLACK, 1.2);
                    for seg in [
                        vec![place(mid, lo), place(mid, hi)],
                        vec![place(mid - cap, lo), place(mid + cap, lo)],
                        vec![place(mid - cap, hi), place(mid + cap, hi)],
                    ] {
                        ch.draw_series(std::iter::once(PathElement::new(seg, st))).map_err(derr)?;
                    }
                }
            }
        }
    }
    // Text after each category's bars.
    let black = rgb(chart::BLACK);
    let label_font = TextStyle::from((FAMILY, 11.5 * s).into_font()).color(&black);
    for (i, l) in p.bar_labels.iter().enumerate() {
        let Some(l) = l else { continue };
        let end = match p.bar_layout {
            BarLayout::Stacked => stack_top.get(i).copied().flatten(),
            BarLayout::Grouped => p
                .bars
                .iter()
                .filter_map(|b| b.values.get(i).copied().flatten())
                .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v)))),
        };
        let Some(end) = end.and_then(|e| val.t(e)) else { continue };
        let at = place(i as f64 + 0.5, end);
        let (off, pos) = if p.horizontal {
            (((8.0 * s) as i32, 0), Pos::new(HPos::Left, VPos::Center))
        } else {
            ((0, -(4.0 * s) as i32), Pos::new(HPos::Center, VPos::Bottom))
        };
        ch.draw_series(std::iter::once(EmptyElement::at(at) + Text::new(l.clone(), off, label_font.clone().pos(pos))))
            .map_err(derr)?;
    }

    // Reference lines, across the whole plot.
    let rule_font = TextStyle::from((FAMILY, 11.5 * s).into_font());
    for r in &p.rules {
        let (line_axis, span) = if r.horizontal { (&dy, &dx) } else { (&dx, &dy) };
        let Some(v) = line_axis.t(r.value) else { continue };
        let pts = if r.horizontal { [(span.lo, v), (span.hi, v)] } else { [(v, span.lo), (v, span.hi)] };
        let st = stroke(r.color, 1.5);
        if r.dashed {
            ch.draw_series(DashedLineSeries::new(pts, (7.0 * s) as u32, (5.0 * s) as u32, st)).map_err(derr)?;
        } else {
            ch.draw_series(std::iter::once(PathElement::new(pts.to_vec(), st))).map_err(derr)?;
        }
        if !r.label.is_empty() {
            let rc = rgb(r.color);
            let font = rule_font.clone().color(&rc);
            let (at, off, pos) = if r.horizontal {
                ((span.hi, v), (-(4.0 * s) as i32, -(3.0 * s) as i32), Pos::new(HPos::Right, VPos::Bottom))
            } else if v > (dx.lo + dx.hi) / 2.0 {
                // Right half: the text goes left of the line, inside the plot.
                ((v, span.hi), (-(4.0 * s) as i32, (4.0 * s) as i32), Pos::new(HPos::Right, VPos::Top))
            } else {
                ((v, span.hi), ((4.0 * s) as i32, (4.0 * s) as i32), Pos::new(HPos::Left, VPos::Top))
            };
            ch.draw_series(std::iter::once(EmptyElement::at(at) + Text::new(r.label.clone(), off, font.pos(pos))))
                .map_err(derr)?;
        }
    }

    // Series on top of bars and rules.
    for sr in &p.series {
        let pts: Vec<(f64, f64)> = sr.points.iter().filter_map(|&(x, y)| Some((dx.t(x)?, dy.t(y)?))).collect();
        let st = stroke(sr.color, 2.0);
        if matches!(sr.mark, Mark::Line | Mark::LinePoints) && pts.len() >= 2 {
            if sr.dashed {
                ch.draw_series(DashedLineSeries::new(pts.clone(), (7.0 * s) as u32, (5.0 * s) as u32, st))
                    .map_err(derr)?;
            } else {
                ch.draw_series(std::iter::once(PathElement::new(pts.clone(), st))).map_err(derr)?;
            }
        }
        for (i, w) in sr.whiskers.iter().enumerate() {
            let (Some((lo, hi)), Some(&(x, _))) = (w, sr.points.get(i)) else { continue };
            let (Some(x), Some(lo), Some(hi)) = (dx.t(x), dy.t(*lo), dy.t(*hi)) else { continue };
            let cap = (dx.hi - dx.lo) * 0.008;
            for seg in [vec![(x, lo), (x, hi)], vec![(x - cap, lo), (x + cap, lo)], vec![(x - cap, hi), (x + cap, hi)]]
            {
                ch.draw_series(std::iter::once(PathElement::new(seg, stroke(sr.color, 1.2)))).map_err(derr)?;
            }
        }
        if matches!(sr.mark, Mark::Points | Mark::LinePoints) || pts.len() == 1 {
            let r = (3.5 * s).round() as u32;
            ch.draw_series(pts.iter().map(|&q| Circle::new(q, r, rgb(sr.color).filled()))).map_err(derr)?;
        }
    }

    // Notes: a ring around the point and its text, on the side with more room.
    let note_font = TextStyle::from((FAMILY, 12.5 * s).into_font()).color(&black);
    for n in &p.notes {
        let (Some(x), Some(y)) = (dx.t(n.x), dy.t(n.y)) else { continue };
        let right = x > (dx.lo + dx.hi) / 2.0;
        let (off, pos) = if right {
            ((-(10.0 * s) as i32, -(8.0 * s) as i32), Pos::new(HPos::Right, VPos::Bottom))
        } else {
            (((10.0 * s) as i32, -(8.0 * s) as i32), Pos::new(HPos::Left, VPos::Bottom))
        };
        let ring = Circle::new((0, 0), (8.0 * s) as u32, stroke(chart::BLACK, 1.5));
        ch.draw_series(std::iter::once(
            EmptyElement::at((x, y)) + ring + Text::new(n.text.clone(), off, note_font.clone().pos(pos)),
        ))
        .map_err(derr)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::chart::{Axis, Panel};

    /// A figure far larger than any screen (a model with thousands of layer shapes makes one) is
    /// rasterised within the pixel cap instead of allocating gigabytes.
    #[test]
    fn huge_figures_are_rasterised_within_the_pixel_cap() {
        if font::ensure().is_err() {
            eprintln!("skipped: no font for charts");
            return;
        }
        let mut fig = Figure::single("huge", Panel::new(Axis::linear("x"), Axis::linear("y")));
        fig.panel_size = (40_000, 60_000);
        let (w, h) = size(&fig, PNG_SCALE);
        assert!(w as u64 * h as u64 > 100 * MAX_PNG_PIXELS);
        let bytes = png(&fig, PNG_SCALE).unwrap();
        let (w, h) = (
            u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
            u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
        );
        assert!(w as u64 * h as u64 <= MAX_PNG_PIXELS && w > 1000 && h > 1000, "{w} x {h}");
        // An ordinary figure keeps its scale.
        let small = Figure::single("small", Panel::new(Axis::linear("x"), Axis::linear("y")));
        let bytes = png(&small, PNG_SCALE).unwrap();
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), size(&small, PNG_SCALE).0);
    }
}
