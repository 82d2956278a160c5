//! Charts and report pages: chart content checked against the data it comes from (axis titles
//! with units, one line per layer shape with one point per recorded round, one bar per layer or
//! class, one dot per Pareto mapping), PNGs decoding at the size the layout gives, a missing font
//! reported as a warning, and every `report.html` opened in headless Chromium (no console
//! messages, no missing file, a screenshot kept under the target folder).
//!
//! The browser test is skipped with a visible note where no Chromium is installed, and fails
//! instead when `GAMMAFLOW_REQUIRE_BROWSER=1` (CI sets it).

use gammaflow::eval::{BackendChoice, Evaluator};
use gammaflow::hardware::Hardware;
use gammaflow::report::chart::{color, Figure, Panel, Rgb, Scale};
use gammaflow::report::{draw, figures};
use gammaflow::search::{search_dedup, LayerResult, Objective, SearchConfig};
use gammaflow::workload::Layer;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gammaflow"));
    c.env_remove("GAMMAFLOW_ADAPTER").env_remove("GAMMAFLOW_FONT");
    c
}

fn run_ok(c: &mut Command) -> (String, String) {
    let out = c.output().expect("runs");
    let (so, se) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "{c:?} failed:\n{so}\n{se}");
    (so, se)
}

fn hex(c: Rgb) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Eight distinct small layers and a repeat of the second: more shapes than the model-level
/// convergence chart draws.
fn layers() -> Vec<Layer> {
    let mut v: Vec<Layer> = (0..8).map(|i| Layer::conv(8 + 8 * i, 8, 10 + i, 10 + i, 3, 3)).collect();
    v.push(v[1]);
    v
}

fn search(cfg: &SearchConfig) -> Vec<LayerResult> {
    let hw = Hardware { num_pe: 64, ..Hardware::default() };
    let tasks: Vec<_> = layers().into_iter().enumerate().map(|(i, l)| (i, l, hw)).collect();
    search_dedup(&tasks, cfg, &mut Evaluator::new(BackendChoice::Cpu).unwrap(), |_| {})
}

fn config() -> SearchConfig {
    SearchConfig {
        num_pop: 20,
        max_evals: Some(2000),
        epochs: 0,
        seed: 4,
        fitness2: Some(Objective::Energy),
        ..SearchConfig::default()
    }
}

/// The drawn SVG's elements of interest.
struct Svg {
    texts: Vec<String>,
    /// (stroke, number of points) of every polyline.
    lines: Vec<(String, usize)>,
    /// Fill colours of filled circles.
    dots: Vec<String>,
    /// Fill colours of rectangles.
    rects: Vec<String>,
}

fn parse(svg: &str) -> Svg {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    let mut s = Svg { texts: Vec::new(), lines: Vec::new(), dots: Vec::new(), rects: Vec::new() };
    for n in doc.descendants().filter(|n| n.is_element()) {
        let a = |k: &str| n.attribute(k).unwrap_or("").to_string();
        match n.tag_name().name() {
            "text" => s.texts.push(n.text().unwrap_or("").trim().to_string()),
            "polyline" => s.lines.push((a("stroke"), a("points").split_whitespace().count())),
            "circle" if a("fill") != "none" => s.dots.push(a("fill")),
            "rect" => s.rects.push(a("fill")),
            _ => {}
        }
    }
    s
}

fn has_text(s: &Svg, t: &str) -> bool {
    s.texts.iter().any(|x| x == t)
}

/// Decodes a PNG: (width, height, RGB bytes).
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut r = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("a PNG");
    let mut buf = vec![0; r.output_buffer_size().expect("size")];
    let info = r.next_frame(&mut buf).expect("decodes");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn pixels_of(rgb: &[u8], c: Rgb) -> usize {
    rgb.chunks_exact(3).filter(|p| (p[0], p[1], p[2]) == c).count()
}

#[test]
fn convergence_draws_the_total_and_the_slowest_shapes_of_the_data() {
    let cfg = config();
    let results = search(&cfg);
    let fig = figures::convergence("m", &cfg, &results);
    let p = &fig.panels[0];
    assert_eq!(p.x.scale, Scale::Log, "evaluations on a log axis");
    // The six shapes with the largest share of the total runtime (the repeated shape counts
    // twice), found here from the results themselves.
    let mut shapes: Vec<(f64, usize)> = results
        .iter()
        .filter(|r| r.same_as.is_none())
        .map(|r| {
            let n = results.iter().filter(|o| o.same_as == Some(r.index)).count() + 1;
            (r.best.as_ref().unwrap().eval.metrics.unwrap().runtime_cycles as f64 * n as f64, r.index)
        })
        .collect();
    shapes.sort_by(|a, b| b.0.total_cmp(&a.0));
    let shown: Vec<usize> = shapes.iter().take(figures::CONVERGENCE_LAYERS).map(|s| s.1).collect();
    assert_eq!(shapes.len(), 8);
    let legend: Vec<String> = fig.legend().into_iter().map(|e| e.name).collect();
    let mut want = vec!["model total (9 layers)".to_string()];
    want.extend(shown.iter().map(|&i| if i == 1 { "layer 2 (×2)".to_string() } else { format!("layer {}", i + 1) }));
    want.push("compute bound (dashed)".into());
    assert_eq!(legend, want);
    assert!(fig.caption.contains("of 8 distinct"), "{}", fig.caption);

    let svg = parse(&draw::svg(&fig).unwrap());
    assert!(has_text(&svg, "evaluations per layer") && has_text(&svg, "best latency (cycles)"), "{:?}", svg.texts);
    assert!(has_text(&svg, "100") && has_text(&svg, "1000"), "log ticks: {:?}", svg.texts);
    for (k, &i) in shown.iter().enumerate() {
        let r = &results[i];
        let points = r.history.iter().filter(|s| s.best_f1.is_some()).count();
        assert!(points >= 3, "layer {i}: {points} rounds");
        let c = hex(color(k));
        let solid: Vec<usize> = svg.lines.iter().filter(|l| l.0 == c && l.1 > 2).map(|l| l.1).collect();
        assert_eq!(solid, [points], "layer {}: one line, a point per round", i + 1);
        // Its compute bound: dashes (two-point segments) in its colour.
        assert!(svg.lines.iter().filter(|l| l.0 == c && l.1 == 2).count() >= 5, "layer {}: no dashed bound", i + 1);
    }
    // No line for a shape left out.
    for k in figures::CONVERGENCE_LAYERS..10 {
        assert!(!svg.lines.iter().any(|l| l.0 == hex(color(k))), "colour {k} drawn");
    }
    // The total: defined from the first round in which every layer has a mapping.
    let mut xs: Vec<u64> = results.iter().flat_map(|r| r.history.iter().map(|s| s.evaluations)).collect();
    xs.sort_unstable();
    xs.dedup();
    let defined = xs
        .iter()
        .filter(|&&e| results.iter().all(|r| r.history.iter().any(|s| s.evaluations <= e && s.best_f1.is_some())))
        .count();
    let total = &p.series[0];
    assert_eq!(total.points.len(), defined);
    let last: f64 = results.iter().map(|r| r.best.as_ref().unwrap().eval.metrics.unwrap().runtime_cycles as f64).sum();
    assert_eq!(total.points.last().unwrap().1, last, "the total ends at the sum of the layers' best runtimes");
    assert!(svg.lines.iter().any(|l| l.0 == hex(gammaflow::report::chart::BLACK) && l.1 == defined));

    let bytes = draw::png(&fig, draw::PNG_SCALE).unwrap();
    let (w, h, rgb) = decode(&bytes);
    assert_eq!((w, h), draw::size(&fig, draw::PNG_SCALE));
    assert_eq!((w, h), {
        let (a, b) = draw::size(&fig, 1.0);
        (2 * a, 2 * b)
    });
    for k in 0..shown.len() {
        assert!(pixels_of(&rgb, color(k)) > 100, "colour {k} barely drawn in the PNG");
    }

    // Small multiples: a panel per distinct shape, each with its bound.
    let all = figures::convergence_layers("m", &cfg, &results).unwrap();
    assert_eq!(all.panels.len(), 8);
    for (p, r) in all.panels.iter().zip(results.iter().filter(|r| r.same_as.is_none())) {
        assert!(p.title.starts_with(&format!("layer {}", r.index + 1)), "{}", p.title);
        assert_eq!(p.rules.len(), 1);
        assert_eq!(p.rules[0].value, r.bound_cycles as f64);
    }
    let svg = parse(&draw::svg(&all).unwrap());
    assert_eq!(svg.lines.iter().filter(|l| l.0 == hex(color(0)) && l.1 > 2).count(), 8);
    assert_eq!(svg.texts.iter().filter(|t| *t == "compute bound").count(), 8);
}

#[test]
fn layer_bars_and_pareto_fronts_match_the_results() {
    let cfg = config();
    let results = search(&cfg);
    let fig = figures::layer_bars("m", &results, &gammaflow::energy::EnergyModel::MAESTRO).unwrap();
    let svg = parse(&draw::svg(&fig).unwrap());
    for t in ["runtime (cycles)", "energy (nJ)", "layer"] {
        assert!(has_text(&svg, t), "{t}: {:?}", svg.texts);
    }
    // One runtime bar per layer (plus its legend swatch), one label per layer and panel.
    let runtime_bars = svg.rects.iter().filter(|f| **f == hex(color(0))).count();
    assert_eq!(runtime_bars, results.len() + 1);
    let shares: Vec<f64> = svg
        .texts
        .iter()
        .filter_map(|t| t.strip_suffix('%'))
        .map(|t| if t == "<0.1" { 0.0 } else { t.parse().unwrap() })
        .collect();
    assert_eq!(shares.len(), 2 * results.len());
    let (rt, en) = shares.split_at(results.len());
    for half in [rt, en] {
        let sum: f64 = half.iter().sum();
        assert!((sum - 100.0).abs() <= 0.05 * results.len() as f64, "shares add to {sum}");
    }
    // The energy split adds up to each mapping's energy.
    for r in &results {
        let b = r.best.as_ref().unwrap();
        let m = b.eval.metrics.unwrap();
        let s = figures::energy_split(&m, b.genome.num_levels(), &gammaflow::energy::EnergyModel::MAESTRO);
        assert!((s.l1 + s.l2 + s.other - m.energy_nj).abs() <= 1e-9 * m.energy_nj, "{s:?} vs {}", m.energy_nj);
        assert!(s.l2 > 0.0);
    }

    for r in results.iter().filter(|r| r.same_as.is_none()) {
        let fig = figures::pareto("m", &cfg, r).unwrap();
        let svg = parse(&draw::svg(&fig).unwrap());
        assert!(has_text(&svg, "latency (cycles)") && has_text(&svg, "energy (nJ)"), "{:?}", svg.texts);
        assert_eq!(svg.dots.iter().filter(|f| **f == hex(color(0))).count(), r.pareto.len(), "a dot per mapping");
        assert!(has_text(&svg, &format!("Pareto front ({} mappings)", r.pareto.len())));
        // Tick labels are short and distinct.
        let p: &Panel = &fig.panels[0];
        for (a, o) in [(&p.x, Objective::Latency), (&p.y, Objective::Energy)] {
            let v: Vec<f64> = r.pareto.iter().map(|c| cfg.value(o, c, &r.hw).unwrap()).collect();
            let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(*x), h.max(*x)));
            let (lo, hi) = gammaflow::report::chart::padded(Some((lo, hi)), a.scale, false);
            let (t, _) = gammaflow::report::chart::axis_ticks(lo, hi, a.scale);
            let labels: BTreeSet<&str> = t.iter().map(|x| x.1.as_str()).collect();
            assert_eq!(labels.len(), t.len(), "repeated tick labels {t:?}");
            assert!(t.len() >= 2 && t.iter().all(|x| x.1.chars().count() <= 9), "{t:?}");
        }
    }
}

#[test]
fn grouped_bars_go_log_across_decades_and_carry_spreads() {
    use figures::Spread;
    let s = |v: &[f64]| Spread::of(v);
    let p = figures::grouped_bars(
        "",
        "accelerator",
        vec!["edge".into(), "cloud".into()],
        "total latency (cycles)",
        vec![("a".into(), vec![s(&[4.0e6, 4.1e6]), s(&[2.0e5])]), ("b".into(), vec![s(&[3.9e6]), None])],
    );
    assert_eq!(p.y.scale, Scale::Log, "4M against 200k spans a decade");
    assert_eq!(p.bars.len(), 2);
    assert_eq!(p.bars[0].values, [Some(4.05e6), Some(2.0e5)]);
    assert_eq!(p.bars[0].errors, [Some((4.0e6, 4.1e6)), None], "whiskers only over more than one seed");
    let fig = Figure::single("t", p);
    let svg = parse(&draw::svg(&fig).unwrap());
    // Three bars (plus two legend swatches); whiskers are black three-segment marks.
    let bars = svg.rects.iter().filter(|f| **f == hex(color(0)) || **f == hex(color(1))).count();
    assert_eq!(bars, 3 + 2);
    assert!(has_text(&svg, "edge") && has_text(&svg, "cloud") && has_text(&svg, "1M"), "{:?}", svg.texts);
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A small sweep: toy on two accelerators far apart, two populations, two seeds, NVDLA's map in
/// three flexibility classes.
const SWEEP: &str = r#"
models = ["toy"]
objectives = [["latency", "energy"]]
num_pop = [8, 12]
epochs = [3]
seeds = [1, 2]
mapping_constraints = ["nvdla"]
flex_classes = [0, 5, 15]

[[accelerators]]
name = "edge"
num_pe = 64

[[accelerators]]
name = "cloud"
num_pe = 1024
"#;

fn sweep_and_report(dir: &Path) -> PathBuf {
    let cfg = dir.join("sweep.toml");
    fs::write(&cfg, SWEEP).unwrap();
    let out = dir.join("sweep");
    let (so, _) = run_ok(bin().args(["sweep", "--config", p(&cfg), "--outdir", p(&out), "--backend", "cpu", "-q"]));
    assert!(so.contains("report: ") && so.contains("report.html"), "{so}");
    out
}

#[test]
fn sweep_charts_show_classes_accelerators_and_populations() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sweep_and_report(tmp.path());
    let plots = out.join("report/plots");
    let read = |n: &str| parse(&fs::read_to_string(plots.join(n)).unwrap_or_else(|e| panic!("{n}: {e}")));
    for n in ["accelerators_toy_latency", "num_pop_toy_latency", "flexibility_toy_latency", "pareto_toy_latency_energy"]
    {
        let (w, h, _) = decode(&fs::read(plots.join(format!("{n}.png"))).unwrap());
        assert!(w > 1000 && h > 600, "{n}: {w}x{h}");
    }
    // A bar per accelerator (categorical, not a 1.0-2.0 scale), whiskers over the two seeds.
    let acc = read("accelerators_toy_latency.svg");
    assert_eq!(acc.rects.iter().filter(|f| **f == hex(color(0))).count(), 2 + 1);
    assert!(has_text(&acc, "edge") && has_text(&acc, "cloud") && has_text(&acc, "accelerator"));
    assert!(has_text(&acc, "total latency (cycles)"), "{:?}", acc.texts);
    assert!(!has_text(&acc, "1.5"), "no continuous accelerator axis");
    // Populations: a panel per accelerator, a point per population.
    let pop = read("num_pop_toy_latency.svg");
    assert!(has_text(&pop, "accelerator edge") && has_text(&pop, "accelerator cloud"), "{:?}", pop.texts);
    assert_eq!(pop.dots.len(), 2 * 2);
    // Flexibility: a panel per accelerator, a bar per class of the one map.
    let flex = read("flexibility_toy_latency.svg");
    assert!(has_text(&flex, "flexibility class") && has_text(&flex, "15"), "{:?}", flex.texts);
    assert_eq!(flex.rects.iter().filter(|f| **f == hex(color(0))).count(), 2 * 3 + 1);
    // Every run of the pair is a dot.
    let par = read("pareto_toy_latency_energy.svg");
    assert!(has_text(&par, "total latency (cycles)") && has_text(&par, "total energy (nJ)"));
    let html = fs::read_to_string(out.join("report/report.html")).unwrap();
    assert!(html.contains("plots/flexibility_toy_latency.svg") && html.contains("../results.csv"), "{html}");
}

#[test]
fn a_missing_font_is_a_warning_and_the_results_are_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let (_, err) = run_ok(
        bin()
            .args([
                "search",
                "--model",
                "toy",
                "--epochs",
                "2",
                "--num-pop",
                "8",
                "--backend",
                "cpu",
                "-q",
                "--outdir",
                p(&out),
            ])
            .env("GAMMAFLOW_FONT", tmp.path().join("no-such-font.ttf")),
    );
    assert!(err.contains("charts need a font") && err.contains("no-such-font.ttf"), "{err}");
    assert!(out.join("results.csv").is_file() && !out.join("convergence.svg").exists());
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Charts were not drawn") && !html.contains("<img"), "{html}");
}

/// `href` and `src` targets of a page (relative paths).
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["href=\"", "src=\""] {
        for part in html.split(key).skip(1) {
            out.push(part.split('"').next().unwrap().replace("%20", " "));
        }
    }
    out
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GAMMAFLOW_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

/// Opens `page` headless; returns (final DOM, Chromium's log). `extra`: e.g. `--screenshot=`.
fn open(browser: &Path, page: &Path, extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", fs::canonicalize(page).unwrap().display()))
        .output()
        .expect("chromium runs");
    let (so, se) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "chromium failed on {}:\n{se}", page.display());
    (so, se)
}

#[test]
fn report_pages_render_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("GAMMAFLOW_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "GAMMAFLOW_REQUIRE_BROWSER=1 but no chromium in PATH (or GAMMAFLOW_CHROMIUM)"
        );
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "ignored: no chromium in PATH (report_pages_render_in_headless_chromium)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let search = t.join("search");
    let (so, _) = run_ok(bin().args([
        "search",
        "--model",
        "toy",
        "--epochs",
        "4",
        "--num-pop",
        "12",
        "--backend",
        "cpu",
        "-q",
        "--outdir",
        p(&search),
    ]));
    assert!(so.contains("summary of toy: 3 layers") && so.contains("time share"), "{so}");
    let coex = t.join("coex");
    run_ok(bin().args([
        "search",
        "--model",
        "toy",
        "--co-explore",
        "--pe-limit",
        "256",
        "--area-budget",
        "0.2",
        "--epochs",
        "4",
        "--num-pop",
        "12",
        "--fitness2",
        "area",
        "--backend",
        "cpu",
        "-q",
        "--outdir",
        p(&coex),
    ]));
    assert!(coex.join("coexplore.svg").is_file());
    let shared = t.join("shared");
    run_ok(bin().args([
        "search",
        "--model",
        "toy",
        "--shared-hw",
        "--co-explore",
        "--pe-limit",
        "64",
        "--area-budget",
        "0.1",
        "--epochs",
        "2",
        "--num-pop",
        "8",
        "--backend",
        "cpu",
        "-q",
        "--outdir",
        p(&shared),
    ]));
    let sweep = sweep_and_report(t);
    let pages = [
        ("search", search.join("report.html")),
        ("coexplore", coex.join("report.html")),
        ("shared", shared.join("report.html")),
        ("shared_best", shared.join("best_design/report.html")),
        ("sweep", sweep.join("report/report.html")),
        ("sweep_job", {
            let jobs = sweep.join("jobs");
            let first = fs::read_dir(&jobs).unwrap().next().unwrap().unwrap().path();
            first.join("report.html")
        }),
    ];
    // The check can fail: a copy of the search folder missing one chart is caught by the page's
    // own check (a banner and a console error).
    let broken = t.join("broken");
    fs::create_dir_all(broken.join("pareto")).unwrap();
    for e in fs::read_dir(&search).unwrap() {
        let e = e.unwrap();
        if e.path().is_file() && e.file_name() != "layers.svg" {
            fs::copy(e.path(), broken.join(e.file_name())).unwrap();
        }
    }
    let (dom, log) = open(&browser, &broken.join("report.html"), &["--dump-dom".to_string()]);
    assert!(dom.contains("data-missing=\"") && !dom.contains("data-missing=\"0\""), "missing charts not noticed");
    assert!(dom.contains("Missing files:") && dom.contains("layers.svg"), "no banner naming the missing file");
    assert!(log.lines().any(|l| l.contains(":CONSOLE") && l.contains("layers.svg")), "no console error:\n{log}");

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    fs::create_dir_all(&shots).unwrap();
    for (name, page) in &pages {
        let html = fs::read_to_string(page).unwrap_or_else(|e| panic!("{name}: {}: {e}", page.display()));
        assert!(!html.contains("http://") && !html.contains("https://"), "{name}: network reference");
        // Every link and image is a file (or folder) beside the page.
        let dir = page.parent().unwrap();
        for l in links(&html) {
            assert!(dir.join(&l).exists(), "{name}: {l} missing");
        }
        let images = html.matches("<img ").count();
        assert!(images > 0, "{name}: no charts");

        let (dom, log) = open(&browser, page, &["--dump-dom".to_string()]);
        let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
        assert!(console.is_empty(), "{name}: console messages: {console:?}");
        assert!(dom.contains(&format!("data-images=\"{images}\"")), "{name}: the page's check did not run");
        assert!(dom.contains("data-missing=\"0\""), "{name}: images failed to load");

        let shot = shots.join(format!("{name}.png"));
        let _ = fs::remove_file(&shot);
        open(&browser, page, &[format!("--screenshot={}", shot.display()), "--window-size=1400,1800".to_string()]);
        let (w, h, rgb) = decode(&fs::read(&shot).unwrap_or_else(|e| panic!("{name}: no screenshot: {e}")));
        assert_eq!((w, h), (1400, 1800));
        let ink = rgb.chunks_exact(3).filter(|p| p.iter().all(|&c| c < 128)).count();
        assert!(ink > 2000, "{name}: the screenshot is blank");
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{name}: {} rendered, screenshot {}", page.display(), shot.display());
    }
}
