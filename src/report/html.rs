//! One self-contained HTML file: what was measured on what, the table, both SVG charts inline,
//! and each cell's query pattern. No scripts, no external resources: it opens anywhere, offline.

use std::fmt::Write;

use anyhow::Result;

use super::terminal::{OFFLINE_FOOTNOTE, measured_on, table_rows};
use crate::result::RunResult;

pub fn render(run: &RunResult) -> Result<String> {
    let latency = super::plot::latency_cdf(run)?;
    let queries = super::plot::queries_per_lookup(run)?;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>resolvbench run {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&run.run_id)
    );
    let _ = writeln!(
        o,
        "<h1>resolvbench run {} | profile {} | scenario {}</h1>",
        esc(&run.run_id),
        esc(&run.profile.name),
        esc(&run.scenario.name)
    );
    let _ = writeln!(o, "<ul class=\"meta\">");
    for line in measured_on(run) {
        let _ = writeln!(o, "<li>{}</li>", esc(&line));
    }
    let _ = writeln!(o, "</ul>");

    let (header, rows) = table_rows(&run.cells);
    let _ = writeln!(o, "<table>\n<thead><tr>");
    for h in &header {
        let _ = write!(o, "<th>{}</th>", esc(h));
    }
    let _ = writeln!(o, "</tr></thead>\n<tbody>");
    for r in &rows {
        let _ = write!(o, "<tr>");
        for c in r {
            let _ = write!(o, "<td>{}</td>", esc(c));
        }
        let _ = writeln!(o, "</tr>");
    }
    let _ = writeln!(o, "</tbody>\n</table>");
    if run.cells.iter().any(|c| c.image.source != "registry") {
        let _ = writeln!(o, "<p class=\"note\">{}</p>", esc(OFFLINE_FOOTNOTE));
    }
    for f in &run.failures {
        let _ = writeln!(
            o,
            "<p class=\"failed\">FAILED {} {} {}: {}</p>",
            esc(&f.image),
            f.resolver.as_str(),
            f.mode.as_str(),
            esc(&f.error)
        );
    }
    let effects = super::explain::render_option_effects(run);
    if !effects.is_empty() {
        let _ = writeln!(
            o,
            "<h2>resolv.conf options, judged from the wire</h2>\n<pre>{}</pre>",
            esc(&effects)
        );
    }
    let _ = writeln!(
        o,
        "<h2>Latency distributions</h2>\n<figure>{latency}</figure>\n\
         <h2>Queries per lookup</h2>\n<figure>{queries}</figure>"
    );
    let _ = writeln!(
        o,
        "<h2>What one lookup sent, per cell</h2>\n<pre>{}</pre>",
        esc(&patterns(run))
    );
    let _ = writeln!(
        o,
        "<h2>resolv.conf given to the probes</h2>\n<pre>{}</pre>\n</body>\n</html>",
        esc(&run.profile.resolv_conf)
    );
    Ok(o)
}

fn patterns(run: &RunResult) -> String {
    let mut o = String::new();
    for c in &run.cells {
        let _ = writeln!(
            o,
            "{} {} {} ({:.0}% of lookups):\n  {}",
            c.image.reference,
            c.probe.cell.resolver.as_str(),
            c.probe.cell.mode.as_str(),
            c.trace.pattern_share * 100.0,
            c.trace.pattern.join("\n  ")
        );
    }
    o
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em}\
.meta{font-size:.9em;color:#444}table{border-collapse:collapse;font-size:.85em}\
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}\
th{background:#f3f3f3}td:nth-child(-n+5){text-align:left}\
.note{font-size:.85em;color:#555}.failed{color:#b00}\
figure{margin:0}figure svg{max-width:100%;height:auto}pre{font-size:.8em;background:#f8f8f8;padding:.6em}";
