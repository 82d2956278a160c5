//! Minimal SVG charts (line and scatter) for convergence histories and Pareto fronts. Written by
//! hand so reports need no plotting stack; output is deterministic text.

use std::fmt::Write;

pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 720.0;
const H: f64 = 440.0;
const ML: f64 = 110.0;
const MR: f64 = 170.0;
const MT: f64 = 40.0;
const MB: f64 = 60.0;
const COLORS: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

/// One axis: the data range, linear or (for positive data spanning two decades or more) log.
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Axis {
    fn new(mut lo: f64, mut hi: f64) -> Axis {
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (0.0, 1.0);
        }
        if hi <= lo {
            let pad = lo.abs().max(1.0) * 0.05;
            (lo, hi) = (lo - pad, hi + pad);
        }
        let log = lo > 0.0 && hi / lo >= 100.0;
        Axis { lo, hi, log }
    }

    /// Position of `v` in [0, 1].
    fn frac(&self, v: f64) -> f64 {
        if self.log {
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// Tick values and labels: powers of ten on a log axis; otherwise multiples of a 1-2-5 step,
    /// labelled with just enough digits to tell neighbours apart.
    fn ticks(&self) -> Vec<(f64, String)> {
        if self.log {
            let (a, b) = (self.lo.log10().ceil() as i32, self.hi.log10().floor() as i32);
            return (a..=b).map(|e| (10f64.powi(e), format!("1e{e}"))).collect();
        }
        let raw = (self.hi - self.lo) / 5.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
        let first = (self.lo / step).ceil() as i64;
        let last = (self.hi / step).floor() as i64;
        let big = self.lo.abs().max(self.hi.abs());
        (first..=last)
            .map(|k| {
                let v = k as f64 * step;
                let label = if big >= 1e6 || (big < 1e-3 && big > 0.0) {
                    // Significant digits enough to separate ticks one step apart.
                    let sig = ((big / step).log10().ceil() as usize + 1).clamp(1, 15);
                    format!("{v:.*e}", sig - 1)
                } else {
                    format!("{v:.*}", (-step.log10().floor()).max(0.0) as usize)
                };
                (v, label)
            })
            .collect()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A chart with one polyline (or set of dots, when `scatter`) per series.
pub fn chart(title: &str, xlabel: &str, ylabel: &str, series: &[Series], scatter: bool) -> String {
    let pts = series.iter().flat_map(|s| s.points.iter()).filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let (ax, ay) = (Axis::new(x0, x1), Axis::new(y0, y1));
    let pw = W - ML - MR;
    let ph = H - MT - MB;
    let sx = |x: f64| ML + ax.frac(x) * pw;
    let sy = |y: f64| MT + ph - ay.frac(y) * ph;
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(o, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ =
        writeln!(o, r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#, ML + pw / 2.0, esc(title));
    let _ = writeln!(o, r##"<rect x="{ML}" y="{MT}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##);
    for (xv, label) in ax.ticks() {
        let _ = writeln!(
            o,
            r##"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="#ddd"/><text x="{0:.1}" y="{3}" text-anchor="middle">{4}</text>"##,
            sx(xv),
            MT,
            MT + ph,
            MT + ph + 16.0,
            label
        );
    }
    for (yv, label) in ay.ticks() {
        let _ = writeln!(
            o,
            r##"<line x1="{1}" y1="{0:.1}" x2="{2}" y2="{0:.1}" stroke="#ddd"/><text x="{3}" y="{0:.1}" text-anchor="end" dominant-baseline="middle">{4}</text>"##,
            sy(yv),
            ML,
            ML + pw,
            ML - 6.0,
            label
        );
    }
    let scale = |a: &Axis, name: &str| if a.log { format!("{name} (log scale)") } else { name.to_string() };
    let (xlabel, ylabel) = (scale(&ax, xlabel), scale(&ay, ylabel));
    let _ = writeln!(o, r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#, ML + pw / 2.0, H - 18.0, esc(&xlabel));
    let _ = writeln!(
        o,
        r#"<text x="18" y="{0}" text-anchor="middle" transform="rotate(-90 18 {0})">{1}</text>"#,
        MT + ph / 2.0,
        esc(&ylabel)
    );
    for (i, s) in series.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        let p: Vec<(f64, f64)> = s.points.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
        if scatter {
            for (x, y) in &p {
                let _ = writeln!(o, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"/>"#, sx(*x), sy(*y));
            }
        } else if !p.is_empty() {
            let d: Vec<String> = p.iter().map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y))).collect();
            let _ = writeln!(o, r#"<polyline fill="none" stroke="{c}" stroke-width="1.5" points="{}"/>"#, d.join(" "));
        }
        if i < 20 {
            let ly = MT + 12.0 + 16.0 * i as f64;
            let _ = writeln!(
                o,
                r#"<rect x="{}" y="{}" width="10" height="10" fill="{c}"/><text x="{}" y="{}">{}</text>"#,
                W - MR + 12.0,
                ly - 9.0,
                W - MR + 26.0,
                ly,
                esc(&s.name)
            );
        }
    }
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_distinct() {
        let t = Axis::new(0.0, 99.0).ticks();
        assert_eq!(t.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(), ["0", "20", "40", "60", "80"]);
        // Values that differ only far right of the leading digit still get distinct labels.
        let t = Axis::new(1.29217e10, 1.29219e10).ticks();
        let labels: Vec<&str> = t.iter().map(|x| x.1.as_str()).collect();
        assert!(labels.len() >= 2 && labels.windows(2).all(|w| w[0] != w[1]), "{labels:?}");
        let t = Axis::new(1e5, 6.4e7).ticks();
        assert!(Axis::new(1e5, 6.4e7).log);
        assert_eq!(t.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(), ["1e5", "1e6", "1e7"]);
    }

    #[test]
    fn chart_places_points_inside_the_plot() {
        let s = Series { name: "a<b".into(), points: vec![(0.0, 10.0), (1.0, 5.0), (2.0, f64::NAN)] };
        let svg = chart("t", "x", "y", &[s], false);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("a&lt;b"));
        // The NaN point is dropped: the first point sits at the top left (max y), the second at
        // the bottom right.
        assert!(svg.contains(&format!("{:.1},{:.1}", ML, MT)), "{svg}");
        assert!(svg.contains(&format!("{:.1},{:.1}", W - MR, H - MB)), "{svg}");
    }
}
