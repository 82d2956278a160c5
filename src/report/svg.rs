//! Minimal SVG charts (line and scatter) for convergence histories and Pareto fronts. Written by
//! hand so reports need no plotting stack; output is deterministic text.

use std::fmt::Write;

pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 720.0;
const H: f64 = 440.0;
const ML: f64 = 90.0;
const MR: f64 = 170.0;
const MT: f64 = 40.0;
const MB: f64 = 60.0;
const COLORS: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{v:.3e}")
    } else if a >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
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
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        let pad = y0.abs().max(1.0) * 0.05;
        y0 -= pad;
        y1 += pad;
    }
    let pw = W - ML - MR;
    let ph = H - MT - MB;
    let sx = |x: f64| ML + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| MT + ph - (y - y0) / (y1 - y0) * ph;
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(o, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ =
        writeln!(o, r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#, ML + pw / 2.0, esc(title));
    let _ = writeln!(o, r##"<rect x="{ML}" y="{MT}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##);
    for i in 0..=5 {
        let f = i as f64 / 5.0;
        let (xv, yv) = (x0 + f * (x1 - x0), y0 + f * (y1 - y0));
        let _ = writeln!(
            o,
            r##"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="#ddd"/><text x="{0:.1}" y="{3}" text-anchor="middle">{4}</text>"##,
            sx(xv),
            MT,
            MT + ph,
            MT + ph + 16.0,
            fmt_tick(xv)
        );
        let _ = writeln!(
            o,
            r##"<line x1="{1}" y1="{0:.1}" x2="{2}" y2="{0:.1}" stroke="#ddd"/><text x="{3}" y="{0:.1}" text-anchor="end" dominant-baseline="middle">{4}</text>"##,
            sy(yv),
            ML,
            ML + pw,
            ML - 6.0,
            fmt_tick(yv)
        );
    }
    let _ = writeln!(o, r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#, ML + pw / 2.0, H - 18.0, esc(xlabel));
    let _ = writeln!(
        o,
        r#"<text x="18" y="{0}" text-anchor="middle" transform="rotate(-90 18 {0})">{1}</text>"#,
        MT + ph / 2.0,
        esc(ylabel)
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
