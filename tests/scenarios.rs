//! Every scenario and profile end to end under Docker, with the trace properties each
//! resolver's source implies (docs/resolver-sources.md has the reading):
//!
//! - glibc 2.41: resolv/res_query.c `__res_context_search` (as-is first when dots >= ndots,
//!   search list otherwise; NXDOMAIN, NODATA and SERVFAIL move on), resolv/res_send.c
//!   `__res_context_send` (each nameserver in turn, `timeout` each, `attempts` rounds) and
//!   `send_dg` (A+AAAA by sendmmsg; TC -> `send_vc` over TCP; use-vc: TCP only).
//! - musl 1.2.5: src/network/lookup_name.c `name_from_dns_search` (dots >= ndots: the name
//!   only, no search list; only NXDOMAIN moves on), src/network/res_msend.c `__res_msend_rc`
//!   (every query to every nameserver at once; retry every timeout/attempts; SERVFAIL retried,
//!   REFUSED ignored until the timeout; TC -> TCP since 1.2.4).
//! - hickory-resolver 0.26.3: crates/resolver/src/resolver.rs `build_names` (as glibc),
//!   lookup_ip.rs (next name on any error), name_server_pool.rs (concurrent requests to two
//!   servers; TC -> TCP), system_conf/unix.rs (reads nameserver, search, ndots, timeout,
//!   attempts, edns0 only).
//!
//! Each test runs alpine (musl) and debian (glibc) with the system resolver and hickory, in
//! parallel mode, a few lookups each.

mod common;

use resolvbench::result::{CellResult, RunResult};

/// One run at a time: their latencies are the assertions, and this machine has 2 cores.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run(scenario: &str, profile: &str, count: &str) -> RunResult {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let run = common::run_json(&[
        "--image",
        "alpine:3.21",
        "--image",
        "debian:trixie-slim",
        "--resolver",
        "system",
        "--resolver",
        "hickory",
        "--mode",
        "parallel",
        "--warmup",
        "1",
        "--count",
        count,
        "--scenario",
        scenario,
        "--profile",
        profile,
    ]);
    assert_eq!(run.cells.len(), 4, "{:?}", run.failures);
    if !scenario.ends_with(".toml") {
        assert_eq!(run.scenario.name, scenario, "the run names its scenario");
    }
    run
}

/// The cells: (musl system, musl hickory, glibc system, glibc hickory).
fn cells(run: &RunResult) -> (&CellResult, &CellResult, &CellResult, &CellResult) {
    (&run.cells[0], &run.cells[1], &run.cells[2], &run.cells[3])
}

fn ok(c: &CellResult) -> bool {
    c.probe.errors == 0
}

fn p50_ms(c: &CellResult) -> f64 {
    c.probe.latency.p50 as f64 / 1000.0
}

fn names(c: &CellResult) -> Vec<String> {
    c.trace.per_lookup[0].candidates.clone()
}

#[test]
fn servfail_from_one_search_domain_stops_musl_but_not_glibc_or_hickory() {
    let r = run("servfail-search", "k8s,timeout:1,attempts:1", "3");
    let (musl, musl_h, glibc, glibc_h) = cells(&r);
    // glibc: SERVFAIL (TRY_AGAIN) keeps the search loop going; the name resolves.
    assert!(ok(glibc), "{:?}", glibc.probe.outcomes);
    assert_eq!(names(glibc).last().unwrap(), "<id>.example.test.");
    // musl: SERVFAIL is retried, then the query waits out its timeout; name_from_dns_search
    // stops on anything but NXDOMAIN: EAI_AGAIN after about a second, the name never asked.
    assert_eq!(
        musl.probe.outcomes.get("EAI_AGAIN"),
        Some(&3),
        "{:?}",
        musl.probe.outcomes
    );
    assert!(p50_ms(musl) >= 900.0, "musl waited {} ms", p50_ms(musl));
    assert!(
        !names(musl).contains(&"<id>.example.test.".to_string()),
        "{:?}",
        names(musl)
    );
    // hickory moves to the next name on any error.
    for h in [musl_h, glibc_h] {
        assert!(ok(h), "{:?}", h.probe.outcomes);
        assert_eq!(names(h).last().unwrap(), "<id>.example.test.");
    }
}

#[test]
fn refused_from_one_search_domain_makes_musl_wait_its_whole_timeout() {
    let r = run("refused-search", "k8s,timeout:1,attempts:1", "3");
    let (musl, _, glibc, glibc_h) = cells(&r);
    // musl ignores REFUSED answers and waits until the timeout, then gives up (EAI_AGAIN).
    assert!(
        p50_ms(musl) >= 900.0,
        "musl returned after {} ms",
        p50_ms(musl)
    );
    assert!(!ok(musl));
    // glibc and hickory do not wait for a timeout.
    assert!(p50_ms(glibc) < 900.0, "glibc took {} ms", p50_ms(glibc));
    assert!(
        p50_ms(glibc_h) < 900.0,
        "hickory took {} ms",
        p50_ms(glibc_h)
    );
}

#[test]
fn nodata_for_aaaa_still_resolves_the_a_record_everywhere() {
    let r = run("nodata-aaaa", "k8s", "3");
    for c in &r.cells {
        assert!(ok(c), "{:?}", c.probe.outcomes);
        assert_eq!(c.trace.queries_mean, 8.0);
        assert_eq!(c.probe.lookups[0].addresses, 1, "only the A record");
    }
}

#[test]
fn truncated_udp_answers_are_retried_over_tcp_by_every_resolver() {
    let r = run("truncated", "k8s", "3");
    for c in &r.cells {
        assert!(ok(c), "{:?}", c.probe.outcomes);
        let tcp = c
            .trace
            .examples
            .values()
            .flatten()
            .filter(|q| q.transport == "tcp")
            .count();
        assert!(tcp >= 1, "{}: no TCP retry", c.image.reference);
    }
}

#[test]
fn answers_over_512_bytes_come_over_tcp_and_musl_keeps_at_most_48_addresses() {
    let r = run("large", "k8s", "2");
    let (musl, _, glibc, glibc_h) = cells(&r);
    for c in &r.cells {
        assert!(ok(c), "{:?}", c.probe.outcomes);
        assert!(
            c.trace
                .examples
                .values()
                .flatten()
                .any(|q| q.transport == "tcp")
        );
    }
    // 40 A + 40 AAAA: glibc returns all 80; musl's lookup_name.c caps at MAXADDRS (48).
    assert_eq!(glibc.probe.lookups[0].addresses, 80);
    assert_eq!(glibc_h.probe.lookups[0].addresses, 80);
    assert_eq!(musl.probe.lookups[0].addresses, 48);
    // ... and glibc asked for it all three times (see the next test); the others once.
    assert_eq!(search_passes(glibc), 3);
    for c in [musl, glibc_h] {
        assert_eq!(search_passes(c), 1, "{}", c.image.reference);
    }
}

/// How many times a lookup walked the search list: its queries for the first candidate.
fn search_passes(c: &CellResult) -> usize {
    c.trace
        .pattern
        .iter()
        .filter(|q| *q == "A <id>.example.test.default.svc.cluster.local.")
        .count()
}

/// glibc's getaddrinfo hands nss_dns a scratch buffer of 1024 bytes (include/scratch_buffer.h)
/// and nss_dns stores each address as a 40-byte `struct gaih_addrtuple` in it
/// (resolv/nss_dns/dns-host.c `gaih_getanswer_slice`). When they do not fit it returns
/// NSS_STATUS_TRYAGAIN with ERANGE, and `get_nss_addresses` (nss/getaddrinfo.c) doubles the
/// buffer and calls `gethostbyname4_r` again: the whole search list, every query, once more.
/// N A + N AAAA records need 2N x 40 bytes: 12 fit in 1024, 13 need 2048, 26 need 4096.
#[test]
fn glibc_walks_the_search_list_again_each_time_the_answer_outgrows_its_buffer() {
    let dir = std::env::temp_dir().join(format!("rb-passes-{}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    for (addresses, passes) in [(12, 1), (13, 2), (26, 3)] {
        // The `large` preset with another number of addresses per family.
        let mut scenario = resolvbench::server::scenario::Scenario::preset("large").unwrap();
        scenario.name = format!("addresses-{addresses}");
        let upstream = scenario
            .rules
            .iter_mut()
            .find(|r| r.suffix == "example.test");
        upstream.expect("the k8s upstream rule").addresses = addresses as u16;
        let path = dir.join(format!("{}.toml", scenario.name));
        std::fs::write(&path, scenario.to_toml()).unwrap();
        let run = {
            let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
            common::run_json(&[
                "--image",
                "debian:trixie-slim",
                "--resolver",
                "system",
                "--mode",
                "parallel",
                "--warmup",
                "1",
                "--count",
                "2",
                "--scenario",
                path.to_str().unwrap(),
            ])
        };
        let glibc = &run.cells[0];
        assert!(ok(glibc), "{:?}", glibc.probe.outcomes);
        assert_eq!(glibc.probe.lookups[0].addresses, 2 * addresses);
        assert_eq!(
            search_passes(glibc),
            passes,
            "{addresses} addresses: {:?}",
            glibc.trace.pattern
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_dead_first_nameserver_costs_glibc_a_timeout_per_name_but_not_musl() {
    let r = run("ns-dead-first", "k8s,timeout:1,attempts:2", "2");
    let (musl, musl_h, glibc, _) = cells(&r);
    assert!(r.profile.resolv_conf.matches("nameserver").count() == 2);
    for c in &r.cells {
        assert!(ok(c), "{}: {:?}", c.image.reference, c.probe.outcomes);
        assert!(c.trace.unanswered_total > 0, "the dead server was asked");
    }
    // glibc asks ns1, waits `timeout`, then ns2: at least 1 s per candidate name (4 names).
    assert!(p50_ms(glibc) >= 4000.0, "glibc took {} ms", p50_ms(glibc));
    // musl sends every query to both servers at once and takes the first answer.
    assert!(p50_ms(musl) < 500.0, "musl took {} ms", p50_ms(musl));
    let servers: Vec<&str> = musl
        .trace
        .examples
        .values()
        .flatten()
        .map(|q| q.server.as_str())
        .collect();
    assert!(servers.contains(&"ns1") && servers.contains(&"ns2"));
    // hickory queries two servers concurrently (num_concurrent_reqs 2).
    assert!(
        p50_ms(musl_h) < 1000.0,
        "hickory took {} ms",
        p50_ms(musl_h)
    );
}

#[test]
fn three_nameservers_with_the_first_dead_resolve_everywhere() {
    let r = run("ns3-dead-first", "k8s,timeout:1,attempts:1", "1");
    assert_eq!(r.profile.resolv_conf.matches("nameserver").count(), 3);
    for c in &r.cells {
        assert!(ok(c), "{}: {:?}", c.image.reference, c.probe.outcomes);
    }
}

#[test]
fn a_slow_first_nameserver_slows_glibc_only() {
    let r = run("ns-slow-first", "k8s", "3");
    let (musl, _, glibc, _) = cells(&r);
    // ns1 adds 50 ms to every answer; glibc asks ns1 and waits for it: 4 rounds x 50 ms.
    assert!(p50_ms(glibc) >= 200.0, "glibc took {} ms", p50_ms(glibc));
    // musl asks both and takes ns2's fast answer.
    assert!(p50_ms(musl) < 50.0, "musl took {} ms", p50_ms(musl));
}

#[test]
fn a_name_with_ndots_dots_is_asked_as_is_first_and_musl_skips_the_search_list() {
    let r = run("nxdomain-long", "k8s", "2");
    let (musl, musl_h, glibc, _) = cells(&r);
    let name = "<id>.a.b.c.nowhere.test.";
    // glibc: dots >= ndots: as-is first, then the search list (4 names, 8 queries).
    assert_eq!(names(glibc)[0], name);
    assert_eq!(glibc.trace.queries_mean, 8.0);
    // hickory: the same order.
    assert_eq!(names(musl_h)[0], name);
    assert_eq!(musl_h.trace.queries_mean, 8.0);
    // musl: the name only.
    assert_eq!(names(musl), [name]);
    assert_eq!(musl.trace.queries_mean, 2.0);
    for c in &r.cells {
        assert!(!ok(c), "the name exists nowhere");
    }
}

#[test]
fn a_short_in_cluster_name_is_found_under_the_first_search_domain() {
    let r = run("in-cluster", "k8s", "3");
    for c in &r.cells {
        assert!(ok(c), "{:?}", c.probe.outcomes);
        assert_eq!(names(c), ["<id>.default.svc.cluster.local."]);
        assert_eq!(c.trace.queries_mean, 2.0);
        assert_eq!(c.trace.wasted_share, 0.0);
    }
}

#[test]
fn lost_queries_are_retried_after_the_resolvers_retry_interval() {
    let r = run("loss", "k8s,timeout:1,attempts:3", "12");
    for c in &r.cells {
        // Every lookup is still counted, and the lost queries are shown.
        assert_eq!(c.probe.latency.count, 12);
        assert!(
            c.trace.unanswered_total > 0,
            "{}: 20% loss lost nothing?",
            c.image.reference
        );
    }
    let (musl, _, glibc, _) = cells(&r);
    // A lookup that lost a query waited for a retry: glibc's is `timeout` (1 s); musl resends
    // after timeout/attempts (1/3 s).
    let slowest_lossy = |c: &CellResult| {
        c.trace
            .per_lookup
            .iter()
            .filter(|l| l.unanswered > 0)
            .map(|l| l.measured_us)
            .fold(0.0, f64::max)
    };
    assert!(
        slowest_lossy(glibc) >= 1_000_000.0,
        "glibc {}",
        slowest_lossy(glibc)
    );
    assert!(
        slowest_lossy(musl) >= 300_000.0,
        "musl {}",
        slowest_lossy(musl)
    );
}

#[test]
fn fqdn_names_skip_the_search_list_everywhere() {
    let r = run("k8s", "fqdn", "3");
    for c in &r.cells {
        assert!(ok(c), "{:?}", c.probe.outcomes);
        assert_eq!(names(c), ["<id>.example.test."]);
        assert_eq!(c.trace.queries_mean, 2.0);
    }
}

#[test]
fn use_vc_and_single_request_are_honoured_by_glibc_and_ignored_by_musl_and_hickory() {
    let r = run("k8s", "use-vc", "2");
    let effects = resolvbench::report::explain::option_effects(&r);
    let honoured = |i: usize| effects[i].2;
    // Cells in order: musl system, musl hickory, glibc system, glibc hickory.
    assert_eq!(effects.len(), 4);
    assert!(
        !honoured(0) && !honoured(1) && honoured(2) && !honoured(3),
        "{effects:?}"
    );

    // Overlap needs delays well above the server's own receive jitter (0.2 ms is not).
    let slow = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/k8s-slow.toml");
    let r = run(slow, "single-request", "2");
    let (musl, _, glibc, _) = cells(&r);
    assert_eq!(
        glibc.trace.a_aaaa_overlap_share,
        Some(0.0),
        "glibc: AAAA only after A's answer"
    );
    assert_eq!(glibc.trace.rounds_mean, 8.0);
    assert_eq!(
        musl.trace.a_aaaa_overlap_share,
        Some(1.0),
        "musl ignores single-request"
    );
}
