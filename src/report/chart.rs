//! Chart specifications: what a figure shows (panels, axes, series, bars, reference lines), built
//! from result data by [`super::figures`] and drawn by [`super::draw`]. Keeping the spec apart
//! from the drawing lets tests check a chart's content without rendering it, and lets one spec
//! become both an SVG and a PNG.
//!
//! Also here: axis ticks and number labels (round values, SI suffixes, log decades).

/// How values map onto an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// Base-10 logarithmic; only positive values are drawn.
    Log,
}

/// An RGB colour.
pub type Rgb = (u8, u8, u8);

/// Tableau's ten colours: distinct on white and under the common colour-vision deficiencies.
pub const PALETTE: [Rgb; 10] = [
    (0x4e, 0x79, 0xa7),
    (0xf2, 0x8e, 0x2b),
    (0xe1, 0x57, 0x59),
    (0x76, 0xb7, 0xb2),
    (0x59, 0xa1, 0x4f),
    (0xed, 0xc9, 0x48),
    (0xb0, 0x7a, 0xa1),
    (0xff, 0x9d, 0xa7),
    (0x9c, 0x75, 0x5f),
    (0xba, 0xb0, 0xac),
];
pub const BLACK: Rgb = (0x22, 0x22, 0x22);
pub const GREY: Rgb = (0x80, 0x80, 0x80);

/// The palette's `i`-th colour (wrapping).
pub fn color(i: usize) -> Rgb {
    PALETTE[i % PALETTE.len()]
}

/// One axis. A categorical axis puts category `i` on the interval [i, i + 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The axis title, with its unit: "latency (cycles)".
    pub label: String,
    pub scale: Scale,
    /// Names of the categories, for a categorical axis.
    pub categories: Option<Vec<String>>,
}

impl Axis {
    pub fn linear(label: impl Into<String>) -> Axis {
        Axis { label: label.into(), scale: Scale::Linear, categories: None }
    }
    pub fn log(label: impl Into<String>) -> Axis {
        Axis { label: label.into(), scale: Scale::Log, categories: None }
    }
    /// Log when the positive values span a decade or more, else linear.
    pub fn auto(label: impl Into<String>, values: impl IntoIterator<Item = f64>) -> Axis {
        Axis { label: label.into(), scale: auto_scale(values), categories: None }
    }
    pub fn categorical(label: impl Into<String>, categories: Vec<String>) -> Axis {
        Axis { label: label.into(), scale: Scale::Linear, categories: Some(categories) }
    }
}

/// Log when every value is positive and the largest is at least 10 times the smallest.
pub fn auto_scale(values: impl IntoIterator<Item = f64>) -> Scale {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > 0.0 && hi / lo >= 10.0 {
        Scale::Log
    } else {
        Scale::Linear
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A polyline through the points in order.
    Line,
    /// A dot per point.
    Points,
    /// A polyline with a dot per point.
    LinePoints,
}

/// A series of (x, y) points. On a categorical axis a coordinate is the category's index plus
/// 0.5 (its centre).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
    pub color: Rgb,
    pub dashed: bool,
    /// Listed in the figure's legend (entries with the same name and colour appear once).
    pub legend: bool,
    /// Vertical error bars (low, high in y) at the points with the same index; may be empty.
    pub whiskers: Vec<Option<(f64, f64)>>,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>, mark: Mark, color: Rgb) -> Series {
        Series { name: name.into(), points, mark, color, dashed: false, legend: true, whiskers: Vec::new() }
    }
    pub fn dashed(mut self) -> Series {
        self.dashed = true;
        self
    }
    pub fn unlisted(mut self) -> Series {
        self.legend = false;
        self
    }
}

/// One bar per category (a value of `None` draws nothing), with optional error bars (low, high).
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub errors: Vec<Option<(f64, f64)>>,
    pub color: Rgb,
}

/// Several bar series: side by side within a category, or stacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarLayout {
    Grouped,
    Stacked,
}

/// A horizontal (on y) or vertical (on x) reference line, e.g. the compute bound or the budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// true: a horizontal line at y = value; false: a vertical line at x = value.
    pub horizontal: bool,
    pub value: f64,
    /// Written at the line's end.
    pub label: String,
    pub color: Rgb,
    pub dashed: bool,
}

/// Text at a data point (with a ring around the point), e.g. the chosen design.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub x: f64,
    pub y: f64,
    pub text: String,
}

/// One plot: two axes and what is drawn on them.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Title above the plot (small multiples); empty for a figure's single panel.
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    pub bars: Vec<Bars>,
    pub bar_layout: BarLayout,
    /// Bars along x with the categories on y (the value axis is x).
    pub horizontal: bool,
    /// Text after each category's bar (or stack), e.g. its share of the total.
    pub bar_labels: Vec<Option<String>>,
    pub rules: Vec<Rule>,
    pub notes: Vec<Note>,
}

impl Panel {
    pub fn new(x: Axis, y: Axis) -> Panel {
        Panel {
            title: String::new(),
            x,
            y,
            series: Vec::new(),
            bars: Vec::new(),
            bar_layout: BarLayout::Grouped,
            horizontal: false,
            bar_labels: Vec::new(),
            rules: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The axis that carries values for bars (y, or x for horizontal bars).
    pub fn value_axis(&self) -> &Axis {
        if self.horizontal {
            &self.x
        } else {
            &self.y
        }
    }
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swatch {
    Line,
    Dashed,
    Dot,
    Bar,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    pub name: String,
    pub color: Rgb,
    pub swatch: Swatch,
}

/// A figure: a title, a grid of panels, one legend and an optional caption.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub title: String,
    pub panels: Vec<Panel>,
    pub columns: usize,
    /// Size of one panel in pixels at scale 1 (the SVG's size; PNGs are drawn at 2x).
    pub panel_size: (u32, u32),
    /// A line under the figure (what the bars or whiskers show, what was left out).
    pub caption: String,
}

impl Figure {
    pub fn single(title: impl Into<String>, panel: Panel) -> Figure {
        Figure { title: title.into(), panels: vec![panel], columns: 1, panel_size: (760, 460), caption: String::new() }
    }

    /// Legend entries in first-seen order, one per (name, colour).
    pub fn legend(&self) -> Vec<LegendEntry> {
        let mut out: Vec<LegendEntry> = Vec::new();
        let mut add = |e: LegendEntry| {
            if !out.iter().any(|o| o.name == e.name && o.color == e.color) {
                out.push(e);
            }
        };
        for p in &self.panels {
            for b in &p.bars {
                add(LegendEntry { name: b.name.clone(), color: b.color, swatch: Swatch::Bar });
            }
            for s in p.series.iter().filter(|s| s.legend) {
                let swatch = match (s.mark, s.dashed) {
                    (Mark::Points, _) => Swatch::Dot,
                    (_, true) => Swatch::Dashed,
                    _ => Swatch::Line,
                };
                add(LegendEntry { name: s.name.clone(), color: s.color, swatch });
            }
        }
        out
    }
}

/// The data range of a panel's axis, before padding: (low, high) over everything drawn on it.
pub fn data_range(p: &Panel, on_x: bool) -> Option<(f64, f64)> {
    let axis = if on_x { &p.x } else { &p.y };
    if let Some(c) = &axis.categories {
        return Some((0.0, c.len().max(1) as f64));
    }
    let log = axis.scale == Scale::Log;
    let mut vals: Vec<f64> = Vec::new();
    for s in &p.series {
        vals.extend(s.points.iter().map(|q| if on_x { q.0 } else { q.1 }));
        if !on_x {
            vals.extend(s.whiskers.iter().flatten().flat_map(|w| [w.0, w.1]));
        }
    }
    for r in p.rules.iter().filter(|r| r.horizontal != on_x) {
        vals.push(r.value);
    }
    for n in &p.notes {
        vals.push(if on_x { n.x } else { n.y });
    }
    if p.horizontal == on_x && !p.bars.is_empty() {
        match p.bar_layout {
            BarLayout::Grouped => {
                for b in &p.bars {
                    vals.extend(b.values.iter().flatten());
                    for (lo, hi) in b.errors.iter().flatten() {
                        vals.extend([*lo, *hi]);
                    }
                }
            }
            BarLayout::Stacked => {
                let n = p.bars.iter().map(|b| b.values.len()).max().unwrap_or(0);
                for i in 0..n {
                    let total: f64 = p.bars.iter().filter_map(|b| b.values.get(i).copied().flatten()).sum();
                    vals.push(total);
                    // A stack's smallest nonzero layer sets how low a log axis must go.
                    if let Some(first) =
                        p.bars.iter().filter_map(|b| b.values.get(i).copied().flatten()).find(|v| *v > 0.0)
                    {
                        vals.push(first);
                    }
                }
            }
        }
        if !log {
            vals.push(0.0);
        }
    }
    let vals = vals.into_iter().filter(|v| v.is_finite() && (!log || *v > 0.0));
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (lo <= hi).then_some((lo, hi))
}

/// The drawn range: the data range with a margin (none at a linear zero baseline), widened when
/// it is a single value.
pub fn padded(range: Option<(f64, f64)>, scale: Scale, zero_base: bool) -> (f64, f64) {
    let (lo, hi) = range.unwrap_or(match scale {
        Scale::Log => (1.0, 10.0),
        Scale::Linear => (0.0, 1.0),
    });
    match scale {
        Scale::Log => {
            let (a, b) = (lo.log10(), hi.log10());
            let pad = ((b - a) * 0.05).max(0.05);
            (10f64.powf(a - pad), 10f64.powf(b + pad))
        }
        Scale::Linear => {
            let span = hi - lo;
            let pad = if span > 0.0 { span * 0.05 } else { lo.abs().max(1.0) * 0.05 };
            let lo = if zero_base && lo == 0.0 { 0.0 } else { lo - pad };
            (lo, hi + pad)
        }
    }
}

/// Tick positions and labels for the range `lo..hi`: multiples of a 1-2-5 step on a linear axis;
/// powers of ten on a log axis (with 2x and 5x in between when few decades are shown).
pub fn ticks(lo: f64, hi: f64, scale: Scale) -> Vec<(f64, String)> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return Vec::new();
    }
    if scale == Scale::Log && lo > 0.0 {
        let (d0, d1) = (lo.log10().ceil() as i32, hi.log10().floor() as i32);
        let decades = d1 - d0 + 1;
        let mantissas: &[f64] = if decades >= 3 { &[1.0] } else { &[1.0, 2.0, 5.0] };
        let every = (decades / 7).max(1);
        let mut out = Vec::new();
        for e in (d0 - 1)..=(d1 + 1) {
            if decades >= 3 && (e - d0).rem_euclid(every) != 0 {
                continue;
            }
            for &m in mantissas {
                let v = m * 10f64.powi(e);
                if v >= lo * (1.0 - 1e-12) && v <= hi * (1.0 + 1e-12) {
                    out.push((v, label(v, v)));
                }
            }
        }
        if out.len() >= 2 {
            return out;
        }
        // Less than a decade on a log axis: linear steps read better.
    }
    let raw = (hi - lo) / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw * (1.0 - 1e-9)).unwrap_or(10.0 * mag);
    let (first, last) = ((lo / step - 1e-9).ceil() as i64, (hi / step + 1e-9).floor() as i64);
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            // -0 prints as "-0"
            let v = if v == 0.0 { 0.0 } else { v };
            (v, label(v, step))
        })
        .collect()
}

/// [`ticks`], or for a linear range too narrow for its magnitude (a spread under 1/1000 of the
/// values, e.g. MAESTRO's power of 12.9216G mW across mappings) ticks labelled as differences
/// from an offset, with the offset's text ("12.92165G") for the axis title.
pub fn axis_ticks(lo: f64, hi: f64, scale: Scale) -> (Vec<(f64, String)>, Option<String>) {
    let t = ticks(lo, hi, scale);
    let big = lo.abs().max(hi.abs());
    if scale == Scale::Log || t.len() < 2 || hi - lo >= big * 1e-3 {
        return (t, None);
    }
    let step = t[1].0 - t[0].0;
    let base = t[0].0;
    // The offset with the digits that all ticks share.
    let unit = 10f64.powf((step * 10.0).log10().ceil());
    let offset = (base / unit).floor() * unit;
    let rel = t.into_iter().map(|(v, _)| (v, format!("+{}", label(v - offset, step)))).collect();
    (rel, Some(label(offset, unit)))
}

const PREFIXES: [(i32, &str); 5] = [(3, "k"), (6, "M"), (9, "G"), (12, "T"), (15, "P")];

/// `v` written with just enough digits to show steps of `step`: SI suffixes (k, M, G, T, P) from
/// 10^4 on, powers of ten below 10^-3 ("2.5×10⁻⁴").
pub fn label(v: f64, step: f64) -> String {
    if v == 0.0 {
        return fixed(0.0, step);
    }
    let a = v.abs();
    let step = step.abs().max(a * 1e-12);
    if (1e4..1e18).contains(&a) {
        let e3 = ((a.log10() + 1e-9).floor() as i32 / 3 * 3).clamp(3, 15);
        let suffix = PREFIXES.iter().find(|p| p.0 == e3).map_or("", |p| p.1);
        let unit = 10f64.powi(e3);
        return format!("{}{suffix}", fixed(v / unit, step / unit));
    }
    if (1e-3..1e4).contains(&a) {
        return fixed(v, step);
    }
    let e = (a.log10() + 1e-9).floor() as i32;
    let unit = 10f64.powi(e);
    format!("{}×10{}", fixed(v / unit, step / unit), superscript(e))
}

/// `v` with the decimals a step of `step` needs (none for whole steps), trailing zeros kept so
/// that neighbouring ticks line up.
fn fixed(v: f64, step: f64) -> String {
    let d = (-(step.log10() + 1e-9).floor()).clamp(0.0, 12.0) as usize;
    format!("{v:.d$}")
}

fn superscript(e: i32) -> String {
    e.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

/// A plain decimal with at most six significant digits and no trailing zeros (mm² of a budget
/// given as 0.1 is 0.1, not 0.09999999999999999).
pub fn plain(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return format!("{v}");
    }
    let d = (5 - v.abs().log10().floor() as i32).clamp(0, 15) as usize;
    let s = format!("{v:.d$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A value for a table or a note: four significant digits with an SI suffix ("1.234M").
pub fn short(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".into();
    }
    let e = v.abs().log10().floor();
    label(v, 10f64.powf(e - 3.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(lo: f64, hi: f64, s: Scale) -> Vec<String> {
        ticks(lo, hi, s).into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn linear_ticks_are_round() {
        assert_eq!(labels(0.0, 99.0, Scale::Linear), ["0", "20", "40", "60", "80"]);
        assert_eq!(labels(0.0, 1.0, Scale::Linear), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(labels(-1.0, 1.0, Scale::Linear), ["-1.0", "-0.5", "0.0", "0.5", "1.0"]);
        assert_eq!(
            labels(100_000.0, 700_000.0, Scale::Linear),
            ["100k", "200k", "300k", "400k", "500k", "600k", "700k"]
        );
    }

    #[test]
    fn narrow_ranges_of_big_values_get_distinct_short_labels() {
        // The old charts' failure: ticks of 1.29217e10..1.29219e10 printed as nine-digit numbers.
        let t = labels(1.29217e10, 1.29219e10, Scale::Linear);
        assert!(t.len() >= 3, "{t:?}");
        assert!(t.windows(2).all(|w| w[0] != w[1]), "{t:?}");
        assert!(t.iter().all(|l| l.ends_with('G') && l.len() <= 10), "{t:?}");
        assert_eq!(t[0], "12.92170G");
    }

    #[test]
    fn tiny_spreads_of_big_values_are_offsets() {
        let (t, off) = axis_ticks(12.921655e9, 12.921667e9, Scale::Linear);
        assert_eq!(off.as_deref(), Some("12.9216G"));
        let l: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(l, ["+56k", "+58k", "+60k", "+62k", "+64k", "+66k"]);
        // Wide enough spreads keep plain labels.
        assert_eq!(axis_ticks(0.0, 99.0, Scale::Linear).1, None);
    }

    #[test]
    fn log_ticks_are_decades_or_1_2_5() {
        assert_eq!(labels(1e5, 6.4e7, Scale::Log), ["100k", "1M", "10M"]);
        assert_eq!(labels(30.0, 900.0, Scale::Log), ["50", "100", "200", "500"]);
        assert_eq!(labels(1e-5, 1e-3, Scale::Log), ["1×10⁻⁵", "1×10⁻⁴", "0.001"]);
        assert_eq!(labels(3e-5, 4e-4, Scale::Log), ["5×10⁻⁵", "1×10⁻⁴", "2×10⁻⁴"]);
        // Many decades: every second one.
        let t = labels(1.0, 1e15, Scale::Log);
        assert_eq!(t.first().map(String::as_str), Some("1"));
        assert!(t.len() <= 8, "{t:?}");
        // Under a decade on a log axis: linear steps.
        assert_eq!(labels(2.0, 3.0, Scale::Log), ["2.0", "2.2", "2.4", "2.6", "2.8", "3.0"]);
    }

    #[test]
    fn short_values() {
        assert_eq!(short(105301.0), "105.3k");
        assert_eq!(short(2269682432.0), "2.270G");
        assert_eq!(short(0.5), "0.5000");
        assert_eq!(short(12.0), "12.00");
        assert_eq!(short(0.00123), "0.001230");
        assert_eq!(short(0.000123), "1.230×10⁻⁴");
        assert_eq!(plain(0.1 * 1e6 * 1e-6), "0.1");
        assert_eq!(plain(20.0), "20");
        assert_eq!(plain(1234.5678), "1234.57");
    }

    #[test]
    fn auto_scale_goes_log_past_a_decade() {
        assert_eq!(auto_scale([1.0, 9.0]), Scale::Linear);
        assert_eq!(auto_scale([1.0, 10.0]), Scale::Log);
        assert_eq!(auto_scale([0.0, 100.0]), Scale::Linear);
    }

    #[test]
    fn ranges_cover_bars_rules_and_notes() {
        let mut p = Panel::new(Axis::categorical("layer", vec!["1".into(), "2".into()]), Axis::linear("y"));
        p.bars.push(Bars {
            name: "a".into(),
            values: vec![Some(3.0), Some(5.0)],
            errors: vec![None, Some((4.0, 7.0))],
            color: BLACK,
        });
        p.rules.push(Rule { horizontal: true, value: 9.0, label: "bound".into(), color: GREY, dashed: true });
        assert_eq!(data_range(&p, true), Some((0.0, 2.0)));
        assert_eq!(data_range(&p, false), Some((0.0, 9.0)));
        p.bar_layout = BarLayout::Stacked;
        p.bars.push(Bars { name: "b".into(), values: vec![Some(10.0), None], errors: vec![], color: BLACK });
        assert_eq!(data_range(&p, false), Some((0.0, 13.0)));
    }
}
