//! hickory-resolver against the real test server on loopback, configured from a k8s-style
//! resolv.conf (ndots:5): the exact ordered query list for a 2-dot name.
//!
//! Derived from hickory-resolver 0.26.3 (docs/resolver-sources.md has the reading):
//! - crates/resolver/src/resolver.rs, `Resolver::build_names`: a name with fewer than
//!   `ndots` dots (here 2 < 5) is tried under each search domain first, in resolv.conf order,
//!   then as-is (fully qualified) last.
//! - crates/resolver/src/lookup_ip.rs, `multi_lookup` via `ipv4_and_ipv6`: with
//!   LookupIpStrategy::Ipv4AndIpv6 the A and AAAA queries for one candidate are joined
//!   (`future::join`), both awaited, and the next candidate is tried only if neither found
//!   records; the first candidate with records ends the lookup.
//! - `ipv4_lookup` / `ipv6_lookup` go through `LookupFuture` (resolver.rs): the same
//!   candidates, one query at a time.

mod common;

use common::TestServer;
use resolvbench::probe::hickory::HickoryProbe;
use resolvbench::server::scenario::Scenario;

const RESOLV_CONF: &str = "nameserver 127.0.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n";

const CANDIDATES: [&str; 4] = [
    "lk-h-0000-1.example.test.default.svc.cluster.local.",
    "lk-h-0000-1.example.test.svc.cluster.local.",
    "lk-h-0000-1.example.test.cluster.local.",
    "lk-h-0000-1.example.test.",
];

fn probe_for(server: &TestServer) -> HickoryProbe {
    let p = HickoryProbe::new(Some(RESOLV_CONF), server.addr().port()).unwrap();
    assert_eq!(p.config.ndots, 5, "ndots must come from resolv.conf");
    assert_eq!(p.config.cache_size, 0);
    p
}

#[test]
fn parallel_lookup_walks_search_domains_then_the_name_with_a_and_aaaa_together() {
    // Long delays, so "sent before the first answer" separates concurrent from sequential
    // even for a debug build on a loaded 2-core machine.
    let mut scenario = Scenario::k8s();
    for rule in &mut scenario.rules {
        rule.delay_ms = 40.0;
    }
    let server = TestServer::start(scenario);
    let probe = probe_for(&server);
    assert_eq!(probe.lookup_parallel("lk-h-0000-1.example.test"), Ok(2));
    let log = server.drain_log();
    assert_eq!(log.len(), 8, "{log:#?}");
    for (i, pair) in log.chunks(2).enumerate() {
        // Candidates strictly in order; within a candidate both types, in either order.
        assert!(
            pair.iter().all(|e| e.qname == CANDIDATES[i]),
            "candidate {i}: {pair:#?}"
        );
        let mut types: Vec<&str> = pair.iter().map(|e| e.qtype.as_str()).collect();
        types.sort();
        assert_eq!(types, ["A", "AAAA"]);
        // Both were sent before either answer of this candidate came back.
        let first_answer = pair.iter().map(|e| e.send_ns).min().unwrap();
        assert!(
            pair.iter().all(|e| e.recv_ns < first_answer),
            "A and AAAA not concurrent: {pair:#?}"
        );
    }
    let rcodes: Vec<&str> = log.iter().map(|e| e.rcode.as_str()).collect();
    assert_eq!(rcodes[..6], ["NXDOMAIN"; 6]);
    assert_eq!(rcodes[6..], ["NOERROR"; 2]);
}

#[test]
fn sequential_lookup_is_the_a_walk_then_the_aaaa_walk() {
    let server = TestServer::start(Scenario::k8s());
    let probe = probe_for(&server);
    assert_eq!(probe.lookup_sequential("lk-h-0000-1.example.test"), Ok(2));
    let got: Vec<(String, String)> = server
        .drain_log()
        .into_iter()
        .map(|e| (e.qtype, e.qname))
        .collect();
    let expected: Vec<(String, String)> = ["A", "AAAA"]
        .iter()
        .flat_map(|t| {
            CANDIDATES
                .iter()
                .map(move |c| (t.to_string(), c.to_string()))
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn a_name_that_exists_nowhere_is_nxdomain_after_all_candidates() {
    let server = TestServer::start(Scenario::k8s());
    let probe = probe_for(&server);
    assert_eq!(
        probe
            .lookup_parallel("lk-h-0000-2.nowhere.example")
            .unwrap_err(),
        "NXDOMAIN"
    );
    assert_eq!(server.drain_log().len(), 8);
}

/// caching_client.rs, `CachingClient::inner_lookup`: RFC 6761 special-use names under
/// `.invalid` get NXDOMAIN without a query; the search-list candidates (under
/// cluster.local) are still sent. So 3 candidates x 2 types go out, the bare name does not.
#[test]
fn special_use_invalid_names_are_answered_locally() {
    let server = TestServer::start(Scenario::k8s());
    let probe = probe_for(&server);
    assert_eq!(
        probe
            .lookup_parallel("lk-h-0000-3.nowhere.invalid")
            .unwrap_err(),
        "NXDOMAIN"
    );
    let log = server.drain_log();
    assert_eq!(log.len(), 6);
    assert!(
        log.iter().all(|e| e.qname.ends_with(".cluster.local.")),
        "{log:#?}"
    );
}
