//! `resolvbench compare` end to end on the saved reference run: against itself, a copy 1.3x
//! slower, a copy missing a cell, and files that are not runs.

use std::path::PathBuf;
use std::process::{Command, Output};

use resolvbench::result::RunResult;
use resolvbench::stats::{LatencySummary, new_histogram};

mod common;

use common::{REFERENCE_RUN as REFERENCE, reference_run as reference};

fn compare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_resolvbench"))
        .arg("compare")
        .args(args)
        .output()
        .expect("resolvbench runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A directory of its own under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "resolvbench-compare-{tag}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, run: &RunResult) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, serde_json::to_vec(run).unwrap()).unwrap();
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every recorded latency times `factor`, counts kept.
fn scaled(run: &RunResult, factor: f64) -> RunResult {
    let mut run = run.clone();
    run.run_id = format!("x{factor}");
    for c in &mut run.cells {
        let h = c.probe.latency.histogram().unwrap();
        let mut s = new_histogram();
        for v in h.iter_recorded() {
            let value = (v.value_iterated_to() as f64 * factor).round() as u64;
            s.record_n(value, v.count_at_value()).unwrap();
        }
        c.probe.latency = LatencySummary::from_histogram(&s);
    }
    run
}

/// The cells' rows of the text table (the lines under an image, indented).
fn rows(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("  ") && !l.trim_start().starts_with("resolver"))
        .collect()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("compare --json prints JSON")
}

#[test]
fn a_run_against_itself_is_same_everywhere() {
    let out = compare(&[REFERENCE, REFERENCE, "--fail-on-regression", "10"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let same = rows(&text);
    assert_eq!(same.len(), 16, "{text}");
    for row in same {
        assert!(row.ends_with(" same"), "{row}");
    }
    assert!(!text.contains("note:"), "{text}");
    assert!(
        text.contains("gate --fail-on-regression 10: passed"),
        "{text}"
    );

    let out = compare(&[REFERENCE, REFERENCE, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["schema"], "resolvbench.compare/v1");
    let cells = v["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 16);
    for c in cells {
        assert_eq!(c["verdict"], "same", "{c}");
        assert_eq!(c["u_test"]["p_value"], 1.0, "{c}");
        assert_eq!(c["u_test"]["prob_run_slower"], 0.5, "{c}");
    }
}

#[test]
fn a_run_1_3x_slower_fails_the_gate_with_exit_code_2() {
    let dir = TempDir::new("scaled");
    let slow = dir.write("run.json", &scaled(&reference(), 1.3));

    let out = compare(&[REFERENCE, &slow, "--fail-on-regression", "10"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    let slower = rows(&text);
    assert_eq!(slower.len(), 16, "{text}");
    for row in slower {
        assert!(row.ends_with(" slower !"), "{row}");
    }
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(
            "resolvbench: regression in 16 cell(s): alpine:3.21 system parallel (p50 +30%"
        ),
        "{err}"
    );

    let out = compare(&[REFERENCE, &slow, "--json", "--fail-on-regression", "10"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    for c in json(&out)["cells"].as_array().unwrap() {
        assert_eq!(c["verdict"], "slower", "{c}");
        assert_eq!(c["regression"], true, "{c}");
        assert!(c["u_test"]["p_value"].as_f64().unwrap() < 1e-6, "{c}");
        let p50 = c["p50_change_pct"].as_f64().unwrap();
        assert!((29.0..31.0).contains(&p50), "{c}");
    }

    // Without the gate the same comparison is a report, and exits 0.
    let out = compare(&[REFERENCE, &slow]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The other way round every cell is faster, which is no regression.
    let out = compare(&[&slow, REFERENCE, "--fail-on-regression", "10"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(rows(&stdout(&out)).iter().all(|r| r.ends_with(" faster")));
}

#[test]
fn a_cell_missing_from_one_run_is_listed() {
    let dir = TempDir::new("missing");
    let mut run = reference();
    let gone = run.cells.remove(3);
    assert_eq!(
        (
            gone.image.reference.as_str(),
            gone.probe.cell.resolver.as_str()
        ),
        ("alpine:3.21", "hickory")
    );
    let fewer = dir.write("run.json", &run);

    let out = compare(&[REFERENCE, &fewer]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("\nonly in baseline: alpine:3.21 hickory sequential\n"),
        "{text}"
    );
    assert!(text.contains("15 cell(s) matched"), "{text}");
    assert_eq!(rows(&text).len(), 15, "{text}");

    let out = compare(&[&fewer, REFERENCE]);
    assert!(stdout(&out).contains("\nonly in run: alpine:3.21 hickory sequential\n"));

    // Under the gate, a cell the baseline had and the run lost (it failed) is a regression.
    run.complete = false;
    run.failures.push(resolvbench::result::CellFailure {
        image: "alpine:3.21".into(),
        resolver: resolvbench::result::Resolver::Hickory,
        mode: resolvbench::result::Mode::Sequential,
        error: "probe crashed".into(),
    });
    let failed = dir.write("failed.json", &run);
    let out = compare(&[REFERENCE, &failed, "--fail-on-regression", "10"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("alpine:3.21 hickory sequential (failed: probe crashed)"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("is incomplete (1 failed cell(s))"));
}

#[test]
fn what_is_not_a_run_is_one_error_line_and_exit_code_1() {
    let dir = TempDir::new("bad");
    let missing = dir.0.join("nope/run.json").display().to_string();
    let not_a_run = dir.0.join("other.json");
    std::fs::write(&not_a_run, "{\"hello\": 1}").unwrap();
    let not_a_run = not_a_run.display().to_string();
    for (args, needle) in [
        (
            [REFERENCE, missing.as_str()],
            format!("cannot read {missing}"),
        ),
        (
            [not_a_run.as_str(), REFERENCE],
            format!("{not_a_run} is not a resolvbench run"),
        ),
    ] {
        let out = compare(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("resolvbench: error: "), "{err}");
        assert!(err.contains(&needle), "wanted {needle:?} in {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_damaged_cell_is_reported_and_the_rest_compared() {
    let dir = TempDir::new("damaged");
    let mut run = reference();
    run.cells[0].probe.latency.hdr_v2 = "not base64!".into();
    let damaged = dir.write("run.json", &run);

    let out = compare(&[REFERENCE, &damaged]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("not comparable: alpine:3.21 system parallel: "),
        "{text}"
    );
    assert!(text.contains("15 cell(s) matched"), "{text}");
    // A gate cannot vouch for a cell it could not read.
    let out = compare(&[REFERENCE, &damaged, "--fail-on-regression", "10"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
