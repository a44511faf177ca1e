//! The comparison table as GitHub Markdown (for READMEs, PR comments, articles), headed by
//! what it was measured on.

use std::fmt::Write;

use super::terminal::{OFFLINE_FOOTNOTE, measured_on, table_rows};
use crate::result::RunResult;

pub fn render(run: &RunResult) -> String {
    let mut o = String::new();
    for line in measured_on(run) {
        let _ = writeln!(o, "{}  ", escape(&line));
    }
    let _ = writeln!(o);
    let (header, rows) = table_rows(&run.cells);
    let header_cells: Vec<String> = header.iter().map(|h| escape(h)).collect();
    let _ = writeln!(o, "| {} |", header_cells.join(" | "));
    let align: Vec<&str> = header
        .iter()
        .map(|h| if is_numeric(h) { "---:" } else { ":---" })
        .collect();
    let _ = writeln!(o, "| {} |", align.join(" | "));
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| escape(c)).collect();
        let _ = writeln!(o, "| {} |", cells.join(" | "));
    }
    if run.cells.iter().any(|c| c.image.source != "registry") {
        let _ = writeln!(o, "\n{}", escape(OFFLINE_FOOTNOTE));
    }
    for f in &run.failures {
        let _ = writeln!(
            o,
            "\n**FAILED** {} {} {}: {}",
            escape(&f.image),
            f.resolver.as_str(),
            f.mode.as_str(),
            escape(&f.error)
        );
    }
    o
}

fn is_numeric(header: &str) -> bool {
    !matches!(
        header,
        "image" | "libc" | "probe" | "resolver" | "mode" | "errors"
    )
}

/// Pipes end a cell and `*` starts emphasis; both occur in our values.
fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('*', "\\*")
}
