//! `resolvbench bench --quick` end to end: every section is measured (loopback probes, dnsperf
//! against the test server and dnsmasq, containers for fidelity and run efficiency) and every
//! figure is a finite number. Sizes are smoke sizes; no timing is asserted.

use std::process::Command;

use resolvbench::bench::{BENCH_SCHEMA, BenchReport};

#[test]
fn quick_bench_measures_every_section() {
    let out_dir = std::env::temp_dir().join(format!("rb-bench-{}", rand::random::<u32>()));
    let out = Command::new(env!("CARGO_BIN_EXE_resolvbench"))
        .args(["bench", "--quick", "--quiet", "--json", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "--quiet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: BenchReport =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("bench.json")).unwrap())
            .unwrap();
    let printed: BenchReport = serde_json::from_str(&stdout).expect("--json prints the report");
    assert_eq!(
        serde_json::to_value(&printed).unwrap(),
        serde_json::to_value(&report).unwrap()
    );
    assert_eq!(report.schema, BENCH_SCHEMA);
    assert!(report.quick);
    assert_eq!(report.sections.len(), 6, "{stdout}");
    for s in &report.sections {
        assert!(s.error.is_none(), "{}: {:?}", s.title, s.error);
        assert!(!s.figures.is_empty(), "{}", s.title);
        // Finite, and ratios positive; differences of two timings may be negative in noise.
        for f in &s.figures {
            assert!(f.value.is_finite(), "{}: {f:?}", s.title);
            if f.unit == "ratio" {
                assert!(f.value > 0.0, "{}: {f:?}", s.title);
            }
        }
        // Each section leads with a ratio measured within the one invocation, except memory.
        if !s.title.contains("memory") {
            assert_eq!(s.figures[0].unit, "ratio", "{}", s.title);
        }
    }
    let md = std::fs::read_to_string(out_dir.join("bench.md")).unwrap();
    assert!(md.contains("QUICK"), "smoke figures are labelled as such");
    let _ = std::fs::remove_dir_all(out_dir);
}
