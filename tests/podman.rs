//! `--engine podman`: the same run under podman 4.3 (Debian), whose defaults need two
//! workarounds in resolvbench (rlimits via CONTAINERS_CONF, a non---internal isolated bridge).

mod common;

use std::process::Command;

#[test]
fn a_run_under_podman_measures_like_under_docker() {
    let run = common::run_json(&[
        "--engine",
        "podman",
        "--image",
        "debian:trixie-slim",
        "--resolver",
        "system",
        "--mode",
        "parallel",
        "--count",
        "5",
        "--warmup",
        "1",
    ]);
    assert_eq!(run.host.engine, "podman");
    let cell = &run.cells[0];
    assert_eq!(cell.image.source, "offline-equivalent");
    assert_eq!(cell.probe.errors, 0, "{:?}", cell.probe.outcomes);
    assert_eq!(cell.trace.queries_mean, 8.0);
    // Nothing left behind.
    let ps = Command::new("podman")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=resolvbench.run={}", run.run_id),
        ])
        .output()
        .unwrap();
    assert!(
        ps.stdout.is_empty(),
        "containers left: {}",
        String::from_utf8_lossy(&ps.stdout)
    );
}
