//! `report.html`: a static page that opens from the file system (no server, no network, no
//! script libraries). Styles are inline; charts are the SVG files beside the page (each linked to
//! its PNG); tables are plain HTML. A few lines of inline script mark any image that failed to
//! load with a visible banner and a console error, which is also what the browser test checks.

use std::fmt::Write;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A relative link: path segments percent-encoded where needed, `/` as the separator.
pub fn href(path: &str) -> String {
    let mut o = String::new();
    for b in path.replace('\\', "/").bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' | b'~' => o.push(b as char),
            _ => {
                let _ = write!(o, "%{b:02X}");
            }
        }
    }
    o
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1500px;padding:16px 24px;color:#222;line-height:1.4}
h1{font-size:1.5em;margin:.2em 0 .4em}h2{font-size:1.2em;margin:1.4em 0 .5em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.4em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}td{white-space:nowrap}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:bold;background:#fafafa}
table.kv th{width:14em}
figure{margin:.6em 0 1.2em}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}
.grid{display:flex;flex-wrap:wrap;gap:12px}.grid figure{flex:1 1 460px;max-width:49%}
.note{background:#fff7e0;border:1px solid #e8c060;padding:6px 10px}
.missing{background:#fde8e8;border:1px solid #d04040;padding:6px 10px;font-weight:bold}
code{font-size:.95em}ul.files li{margin:.15em 0}
";

/// Counts the page's images, marks the body with how many loaded and how many did not, and
/// shows and logs the missing ones.
const CHECK: &str = "\
window.addEventListener('load',function(){
var imgs=document.querySelectorAll('img'),bad=[];
imgs.forEach(function(i){if(!i.complete||i.naturalWidth===0){bad.push(i.getAttribute('src'));}});
document.body.setAttribute('data-images',String(imgs.length));
document.body.setAttribute('data-missing',String(bad.length));
if(bad.length){var p=document.createElement('p');p.className='missing';
p.textContent='Missing files: '+bad.join(', ');document.body.insertBefore(p,document.body.firstChild);
console.error('report.html: missing files: '+bad.join(', '));}
});
";

/// A page being built.
#[derive(Debug, Default)]
pub struct Page {
    title: String,
    body: String,
}

/// One table cell: text, right-aligned when numeric, optionally a link.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    pub numeric: bool,
    pub link: Option<String>,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell { text: t.into(), ..Cell::default() }
    }
    pub fn num(t: impl Into<String>) -> Cell {
        Cell { text: t.into(), numeric: true, link: None }
    }
    pub fn link(t: impl Into<String>, to: impl Into<String>) -> Cell {
        Cell { text: t.into(), numeric: false, link: Some(to.into()) }
    }
}

impl Page {
    pub fn new(title: impl Into<String>) -> Page {
        let title = title.into();
        let mut p = Page { title: title.clone(), body: String::new() };
        let _ = writeln!(p.body, "<h1>{}</h1>", esc(&title));
        p
    }

    pub fn heading(&mut self, text: &str) {
        let _ = writeln!(self.body, "<h2>{}</h2>", esc(text));
    }

    pub fn para(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", esc(text));
    }

    /// A highlighted remark (e.g. why charts are missing).
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p class=\"note\">{}</p>", esc(text));
    }

    /// A two-column table of settings.
    pub fn settings(&mut self, rows: &[(String, String)]) {
        self.body.push_str("<table class=\"kv\">\n");
        for (k, v) in rows {
            let _ = writeln!(self.body, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
        }
        self.body.push_str("</table>\n");
    }

    /// A table; rows whose first cell is "total" are emphasised.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<Cell>]) {
        self.body.push_str("<table>\n<tr>");
        for h in header {
            let _ = write!(self.body, "<th>{}</th>", esc(h));
        }
        self.body.push_str("</tr>\n");
        for r in rows {
            let total = r.first().is_some_and(|c| c.text == "total");
            self.body.push_str(if total { "<tr class=\"total\">" } else { "<tr>" });
            for c in r {
                let text = match &c.link {
                    Some(l) => format!("<a href=\"{}\">{}</a>", esc(&href(l)), esc(&c.text)),
                    None => esc(&c.text),
                };
                let _ = write!(self.body, "{}{text}</td>", if c.numeric { "<td class=\"n\">" } else { "<td>" });
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</table>\n");
    }

    /// A chart: `stem.svg` shown with a caption, linked to `stem.png` when there is one.
    pub fn figure(&mut self, stem: &str, caption: &str, png: bool) {
        let svg = href(&format!("{stem}.svg"));
        let (c, alt) = (esc(caption), esc(caption));
        let _ = if png {
            let png = href(&format!("{stem}.png"));
            writeln!(
                self.body,
                "<figure><a href=\"{png}\"><img src=\"{svg}\" alt=\"{alt}\"></a><figcaption>{c} (<a href=\"{svg}\">SVG</a>, <a href=\"{png}\">PNG</a>)</figcaption></figure>"
            )
        } else {
            writeln!(
                self.body,
                "<figure><a href=\"{svg}\"><img src=\"{svg}\" alt=\"{alt}\"></a><figcaption>{c} (<a href=\"{svg}\">SVG</a>)</figcaption></figure>"
            )
        };
    }

    /// Charts side by side (two per row on a wide window).
    pub fn figure_grid(&mut self, items: &[(String, String)], png: bool) {
        self.body.push_str("<div class=\"grid\">\n");
        for (stem, caption) in items {
            self.figure(stem, caption, png);
        }
        self.body.push_str("</div>\n");
    }

    /// A list of links with a description each.
    pub fn files(&mut self, items: &[(String, String)]) {
        self.body.push_str("<ul class=\"files\">\n");
        for (path, what) in items {
            let _ = writeln!(
                self.body,
                "<li><a href=\"{}\"><code>{}</code></a>: {}</li>",
                esc(&href(path)),
                esc(path),
                esc(what)
            );
        }
        self.body.push_str("</ul>\n");
    }

    /// The whole document.
    pub fn finish(self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n{}<script>\n{CHECK}</script>\n</body>\n</html>\n",
            esc(&self.title),
            self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_links_are_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(href("plots/a b#1.svg"), "plots/a%20b%231.svg");
        let mut p = Page::new("t<1>");
        p.table(&["x"], &[vec![Cell::link("m", "mappings/layer 1.m")]]);
        let html = p.finish();
        assert!(html.contains("<title>t&lt;1&gt;</title>") && html.contains("href=\"mappings/layer%201.m\""), "{html}");
        assert!(!html.contains("http"), "no network references: {html}");
    }
}
