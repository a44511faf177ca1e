//! End to end under the real Docker Engine: `resolvbench run` with the debian trixie-slim
//! image (its offline equivalent here), the test server in its own container, one probe
//! container per cell. Needs docker and debootstrap (.ci/run installs them).
//!
//! The expected query lists come from glibc 2.41's source (docs/resolver-sources.md):
//! - resolv/res_query.c, `__res_context_search`: a name with fewer dots than ndots
//!   (`dots >= statp->ndots` false: 2 < 5) is tried under each search domain in order
//!   (`__res_context_querydomain`), NXDOMAIN moving on, and as-is last.
//! - resolv/nss_dns/dns-host.c, `_nss_dns_gethostbyname4_r`: AF_UNSPEC asks
//!   T_QUERY_A_AND_AAAA, and resolv/res_send.c `send_dg` sends the A and the AAAA query
//!   back to back (one sendmmsg) and waits for both: one round per candidate.
//! - AF_INET alone (`gethostbyname3_context`, T_A) sends only A queries.

mod common;

use std::process::Command;

use common::{CANDIDATES, run_json as run};

#[test]
fn glibc_in_debian_slim_walks_the_search_list_with_a_and_aaaa_in_parallel() {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/k8s-slow.toml");
    let run = run(&[
        "--image",
        "debian:trixie-slim",
        "--resolver",
        "system",
        "--mode",
        "parallel",
        "--mode",
        "sequential",
        "--count",
        "25",
        "--warmup",
        "3",
        "--scenario",
        scenario,
    ]);
    assert!(run.complete, "{:?}", run.failures);
    assert_eq!(run.cells.len(), 2);
    for cell in &run.cells {
        let p = &cell.probe;
        assert_eq!(p.environment.libc.family, "glibc");
        assert!(
            p.environment.libc.version.starts_with("2.41"),
            "trixie has glibc 2.41: {:?}",
            p.environment.libc
        );
        assert_eq!(p.environment.uid, 65532, "probes run as nonroot");
        assert_eq!(cell.image.source, "offline-equivalent");
        assert_eq!(p.errors, 0, "{:?}", p.outcomes);
        assert_eq!(cell.trace.untraced, 0);
        assert_eq!(
            cell.trace.pattern_share, 1.0,
            "every lookup sent the same queries"
        );
    }

    // system/parallel: 8 queries, A+AAAA per candidate, 4 rounds.
    let par = &run.cells[0];
    let expected: Vec<String> = CANDIDATES
        .iter()
        .flat_map(|c| [format!("A {c}"), format!("AAAA {c}")])
        .collect();
    assert_eq!(par.trace.pattern, expected);
    assert_eq!(par.trace.rounds_mean, 4.0);
    // Predicted = 3 x 5 ms (cluster NXDOMAINs) + 20 ms (the answer) = 35 ms.
    assert_eq!(par.trace.predicted_p50_us, 35_000.0);
    let median_ms = par.probe.latency.p50 as f64 / 1000.0;
    assert!(
        (35.0..=35.0 * 1.3 + 3.0).contains(&median_ms),
        "median {median_ms} ms vs predicted 35 ms"
    );

    // system/sequential: the A walk, then the AAAA walk: 8 rounds, 70 ms predicted.
    let seq = &run.cells[1];
    let expected: Vec<String> = ["A", "AAAA"]
        .iter()
        .flat_map(|t| CANDIDATES.iter().map(move |c| format!("{t} {c}")))
        .collect();
    assert_eq!(seq.trace.pattern, expected);
    assert_eq!(seq.trace.rounds_mean, 8.0);
    assert_eq!(seq.trace.predicted_p50_us, 70_000.0);
    let median_ms = seq.probe.latency.p50 as f64 / 1000.0;
    assert!(
        (70.0..=70.0 * 1.3 + 3.0).contains(&median_ms),
        "median {median_ms} ms vs predicted 70 ms"
    );
}

#[test]
fn an_unknown_image_is_one_clear_error_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_resolvbench"))
        .args(["run", "--quiet", "--image", "no-such-image:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("unknown image \"no-such-image:1\""),
        "{stderr}"
    );
}
