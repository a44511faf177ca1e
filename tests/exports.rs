//! Every export of a saved run parses back: JSON into the same run, CSV with its columns, SVG as
//! XML, Markdown as a table, and the HTML report in a real headless chromium without console
//! errors. Exports are made from the committed reference run, so no container is needed.

use std::path::{Path, PathBuf};
use std::process::Command;

use resolvbench::result::RunResult;

mod common;

use common::{REFERENCE_RUN as REFERENCE, reference_run as reference};

/// Runs `resolvbench report REFERENCE --export-* ...` into a fresh directory.
fn export_all() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rb-exports-{}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_resolvbench"))
        .args(["report", REFERENCE])
        .arg("--export-json")
        .arg(dir.join("run.json"))
        .arg("--export-csv")
        .arg(dir.join("cells.csv"))
        .arg("--export-markdown")
        .arg(dir.join("table.md"))
        .arg("--export-svg")
        .arg(&dir)
        .arg("--export-html")
        .arg(dir.join("report.html"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

#[test]
fn json_export_round_trips_with_full_histograms() {
    let dir = export_all();
    let text = std::fs::read_to_string(dir.join("run.json")).unwrap();
    let back: RunResult = serde_json::from_str(&text).unwrap();
    let original = reference();
    assert_eq!(back, original);
    assert_eq!(back.schema, resolvbench::result::RUN_SCHEMA);
    for (a, b) in back.cells.iter().zip(&original.cells) {
        assert_eq!(
            a.probe.latency.histogram().unwrap(),
            b.probe.latency.histogram().unwrap()
        );
        assert_eq!(
            a.probe.latency.histogram().unwrap().len(),
            a.probe.latency.count
        );
    }
}

/// docs/run.schema.json is what `resolvbench schema` prints, so the documented schema cannot
/// drift from the code; and it names every top-level field a run has.
#[test]
fn committed_schema_matches_the_code() {
    let out = Command::new(env!("CARGO_BIN_EXE_resolvbench"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let generated: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("docs/run.schema.json").unwrap()).unwrap();
    assert_eq!(
        generated, committed,
        "regenerate with: cargo run -- schema > docs/run.schema.json"
    );
    let run = serde_json::to_value(reference()).unwrap();
    let properties = generated["properties"].as_object().unwrap();
    let required: Vec<&str> = generated["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for key in run.as_object().unwrap().keys() {
        assert!(properties.contains_key(key), "schema lacks {key}");
        assert!(required.contains(&key.as_str()), "{key} not required");
    }
}

#[test]
fn csv_export_has_one_row_per_cell_with_its_columns() {
    let dir = export_all();
    let run = reference();
    let mut reader = csv::Reader::from_path(dir.join("cells.csv")).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(headers, resolvbench::report::csv::COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), run.cells.len());
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    for (row, cell) in rows.iter().zip(&run.cells) {
        assert_eq!(&row[col("image")], cell.image.reference);
        assert_eq!(&row[col("resolver")], cell.probe.cell.resolver.as_str());
        assert_eq!(
            &row[col("libc_version")],
            cell.probe.environment.libc.version
        );
        let p50: f64 = row[col("p50_ms")].parse().unwrap();
        assert!((p50 * 1000.0 - cell.probe.latency.p50 as f64).abs() < 1.0);
        let q: f64 = row[col("queries_mean")].parse().unwrap();
        assert!((q - cell.trace.queries_mean).abs() < 0.001);
    }
}

#[test]
fn markdown_export_is_a_table_with_a_row_per_cell() {
    let dir = export_all();
    let md = std::fs::read_to_string(dir.join("table.md")).unwrap();
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(
        rows.len(),
        reference().cells.len() + 2,
        "header, rule, cells"
    );
    // Unescaped pipes separate cells: every row has as many as the header.
    let separators = |l: &str| l.replace("\\|", "").matches('|').count();
    assert!(rows.iter().all(|r| separators(r) == separators(rows[0])));
    assert!(md.contains("host: "), "says what it was measured on");
}

/// A data line: a polyline with more points than a legend swatch (2) or an axis has.
fn data_lines(doc: &roxmltree::Document) -> usize {
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter(|n| {
            n.attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .count()
                > 10
        })
        .count()
}

/// A bar: a filled rect of nonzero width in one of the chart's two bar colours.
fn bars(doc: &roxmltree::Document) -> usize {
    doc.descendants()
        .filter(|n| n.has_tag_name("rect"))
        .filter(|n| matches!(n.attribute("fill"), Some("#D62728" | "#1F77B4")))
        .filter(|n| n.attribute("width").and_then(|w| w.parse::<f64>().ok()) > Some(0.0))
        .count()
}

#[test]
fn svg_exports_are_valid_xml_with_a_line_and_bars_per_cell() {
    let dir = export_all();
    let run = reference();
    let parse = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
    let cdf = parse("latency-cdf.svg");
    let doc = roxmltree::Document::parse(&cdf).expect("latency-cdf.svg is XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert_eq!(data_lines(&doc), run.cells.len(), "one CDF per cell");
    assert!(cdf.contains(&run.run_id), "names its run");

    let queries = parse("queries-per-lookup.svg");
    let doc = roxmltree::Document::parse(&queries).expect("queries-per-lookup.svg is XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    // Every reference cell wasted 6 of 8 queries: a red and a blue bar each (plus two
    // legend swatches).
    assert_eq!(bars(&doc), 2 * run.cells.len() + 2);
    assert!(queries.contains(&run.run_id), "names its run");
}

#[test]
fn exports_of_a_run_where_every_cell_failed_still_render() {
    let mut run = reference();
    run.cells.clear();
    run.complete = false;
    run.failures.push(resolvbench::result::CellFailure {
        image: "alpine:3.21".into(),
        resolver: resolvbench::result::Resolver::System,
        mode: resolvbench::result::Mode::Parallel,
        error: "probe crashed".into(),
    });
    let html = resolvbench::report::html::render(&run).unwrap();
    assert!(html.contains("FAILED alpine:3.21 system parallel: probe crashed"));
    assert!(html.contains("no cell was measured"));
    for svg in [
        resolvbench::report::plot::latency_cdf(&run).unwrap(),
        resolvbench::report::plot::queries_per_lookup(&run).unwrap(),
    ] {
        roxmltree::Document::parse(&svg).expect("valid XML");
    }
    let csv = resolvbench::report::csv::render(&run).unwrap();
    assert_eq!(csv.lines().count(), 1, "header only");
}

fn chromium(args: &[&str], page: &Path) -> (String, String) {
    let profile = std::env::temp_dir().join(format!("rb-chromium-{}", rand::random::<u32>()));
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium is installed (containers/host-setup.sh installs it)");
    let _ = std::fs::remove_dir_all(profile);
    (
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Chromium logs every console message of the page as `...:CONSOLE:...` on stderr.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

#[test]
fn html_report_loads_in_headless_chromium_without_console_errors() {
    let dir = export_all();
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("src="), "self-contained: nothing to fetch");
    assert!(
        !html.contains("<link"),
        "self-contained: no stylesheet to fetch"
    );

    let (dom, stderr) = chromium(&["--dump-dom"], &page);
    assert!(console_lines(&stderr).is_empty(), "{stderr}");
    // The browser built the DOM: both charts and a table row per cell.
    assert_eq!(dom.matches("<svg").count(), 2, "two inline charts");
    assert_eq!(
        dom.matches("<tr>").count(),
        reference().cells.len() + 1,
        "header + cells"
    );

    // The check above can fail: a page that logs an error is caught.
    let bad = dir.join("bad.html");
    std::fs::write(
        &bad,
        "<html><body><script>throw new Error('boom')</script></body></html>",
    )
    .unwrap();
    let (_, stderr) = chromium(&["--dump-dom"], &bad);
    assert_eq!(console_lines(&stderr).len(), 1, "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}
