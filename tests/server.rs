//! The test server over real sockets on loopback: what a stub resolver relies on.

mod common;

use std::net::UdpSocket;
use std::time::Instant;

use common::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use resolvbench::server::scenario::{Respond, Rule, Scenario};

#[test]
fn nxdomain_has_soa_and_ra_and_the_log_records_it() {
    let s = TestServer::start(Scenario::k8s());
    let m = udp_query(
        s.addr(),
        "lk-t1-0000-1.example.test.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert!(m.metadata.recursion_available);
    assert_eq!(m.authorities.len(), 1);
    assert_eq!(m.authorities[0].record_type(), RecordType::SOA);
    let log = s.drain_log();
    assert_eq!(log.len(), 1);
    let e = &log[0];
    assert_eq!(e.qname, "lk-t1-0000-1.example.test.svc.cluster.local.");
    assert_eq!(
        (e.qtype.as_str(), e.transport.as_str(), e.rcode.as_str()),
        ("A", "udp", "NXDOMAIN")
    );
    assert_eq!(e.lookup.as_deref(), Some("lk-t1-0000-1"));
    assert!(e.send_ns > e.recv_ns);
}

#[test]
fn nodata_is_noerror_with_ra_and_soa() {
    let mut scenario = Scenario::k8s();
    scenario.rules.push(Rule {
        nodata: vec!["AAAA".into()],
        ..Rule::new("v4only.test", Respond::Address, 0.0)
    });
    let s = TestServer::start(scenario);
    let m = udp_query(s.addr(), "api.v4only.test.", RecordType::AAAA);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    assert!(m.metadata.recursion_available);
    assert_eq!(m.authorities[0].record_type(), RecordType::SOA);
    let a = udp_query(s.addr(), "api.v4only.test.", RecordType::A);
    assert_eq!(a.answers.len(), 1);
}

#[test]
fn large_answers_truncate_over_udp_and_come_whole_over_tcp() {
    let mut scenario = Scenario::k8s();
    scenario.rules.push(Rule {
        addresses: 40,
        ..Rule::new("big.test", Respond::Address, 0.0)
    });
    let s = TestServer::start(scenario);
    let udp = udp_query(s.addr(), "www.big.test.", RecordType::AAAA);
    assert!(udp.metadata.truncation, "40 AAAA records exceed 512 bytes");
    assert!(udp.answers.is_empty());
    let tcp = tcp_query(s.addr(), "www.big.test.", RecordType::AAAA);
    assert!(!tcp.metadata.truncation);
    assert_eq!(tcp.answers.len(), 40);
    let log = s.drain_log();
    let transports: Vec<(&str, bool)> = log
        .iter()
        .map(|e| (e.transport.as_str(), e.truncated))
        .collect();
    assert_eq!(transports, vec![("udp", true), ("tcp", false)]);
}

#[test]
fn truncate_udp_rule_forces_tcp_even_for_small_answers() {
    let mut scenario = Scenario::k8s();
    scenario.rules.push(Rule {
        truncate_udp: true,
        ..Rule::new("tc.test", Respond::Address, 0.0)
    });
    let s = TestServer::start(scenario);
    assert!(
        udp_query(s.addr(), "a.tc.test.", RecordType::A)
            .metadata
            .truncation
    );
    assert_eq!(
        tcp_query(s.addr(), "a.tc.test.", RecordType::A)
            .answers
            .len(),
        1
    );
}

#[test]
fn delays_are_applied_per_suffix_and_logged() {
    let mut scenario = Scenario::k8s();
    scenario.rules = vec![
        Rule::new("fast.test", Respond::Address, 1.0),
        Rule::new("slow.test", Respond::Address, 30.0),
    ];
    let s = TestServer::start(scenario);
    for (name, delay_ms) in [("a.fast.test.", 1.0), ("a.slow.test.", 30.0)] {
        let t = Instant::now();
        udp_query(s.addr(), name, RecordType::A);
        let rtt_ms = t.elapsed().as_secs_f64() * 1e3;
        assert!(
            rtt_ms >= delay_ms,
            "{name}: answered after {rtt_ms} ms, before the {delay_ms} ms delay"
        );
    }
    let log = s.drain_log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].delay_target_us, 1000.0);
    assert_eq!(log[1].delay_target_us, 30000.0);
    for e in &log {
        assert!(e.delay_applied_us >= e.delay_target_us, "{e:?}");
    }
    // Over TCP as well.
    let t = Instant::now();
    tcp_query(s.addr(), "b.slow.test.", RecordType::A);
    assert!(t.elapsed().as_secs_f64() * 1e3 >= 30.0);
}

#[test]
fn a_delayed_answer_does_not_hold_up_a_fast_one() {
    let mut scenario = Scenario::k8s();
    scenario.rules = vec![
        Rule::new("fast.test", Respond::Address, 0.0),
        Rule::new("slow.test", Respond::Address, 300.0),
    ];
    let s = TestServer::start(scenario);
    let slow = UdpSocket::bind("127.0.0.1:0").unwrap();
    slow.send_to(&query_bytes("a.slow.test.", RecordType::A, None), s.addr())
        .unwrap();
    let t = Instant::now();
    udp_query(s.addr(), "a.fast.test.", RecordType::A);
    assert!(
        t.elapsed().as_millis() < 300,
        "the fast answer waited for the slow one"
    );
}

#[test]
fn malformed_packets_are_ignored_and_logged_and_the_server_keeps_answering() {
    let s = TestServer::start(Scenario::k8s());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for junk in [
        &b""[..],
        b"\x12",
        &[0xff; 12],
        &[0u8; 600],
        b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3fabc",
    ] {
        sock.send_to(junk, s.addr()).unwrap();
    }
    let m = udp_query(s.addr(), "ok.example.test.", RecordType::A);
    assert_eq!(m.answers.len(), 1);
    let log = s.drain_log();
    let malformed = log
        .iter()
        .filter(|e| e.dropped.as_deref() == Some("malformed"))
        .count();
    // 600 zero bytes are a well-formed header with no question: that gets FORMERR, not silence.
    assert_eq!(malformed, 4, "{log:?}");
    assert_eq!(log.iter().filter(|e| e.rcode == "FORMERR").count(), 1);
    assert_eq!(log.len(), 6);
}

#[test]
fn loss_drops_queries_and_logs_them_as_dropped() {
    let mut scenario = Scenario::k8s();
    scenario.rules.push(Rule {
        loss: 1.0,
        ..Rule::new("lossy.test", Respond::Address, 0.0)
    });
    let s = TestServer::start(scenario);
    assert!(udp_exchange(s.addr(), &query_bytes("a.lossy.test.", RecordType::A, None)).is_none());
    let log = s.drain_log();
    assert_eq!(log[0].dropped.as_deref(), Some("loss"));
    assert_eq!(log[0].rcode, "none");
}

#[test]
fn every_query_is_logged_in_order_across_transports() {
    let s = TestServer::start(Scenario::k8s());
    for i in 0..20 {
        let name = format!("lk-t2-0000-{i}.example.test.");
        if i % 2 == 0 {
            udp_query(s.addr(), &name, RecordType::A);
        } else {
            tcp_query(s.addr(), &name, RecordType::AAAA);
        }
    }
    let log = s.drain_log();
    assert_eq!(log.len(), 20);
    for (i, e) in log.iter().enumerate() {
        assert_eq!(
            e.lookup.as_deref(),
            Some(format!("lk-t2-0000-{i}").as_str())
        );
        assert_eq!(e.transport, if i % 2 == 0 { "udp" } else { "tcp" });
        assert_eq!(e.answers, 1);
    }
}

#[test]
fn a_port_in_use_is_one_clear_error() {
    let s = TestServer::start(Scenario::k8s());
    let (tx, _rx) = std::sync::mpsc::channel();
    let log =
        resolvbench::server::log::spawn_writer(resolvbench::server::log::LogSink::Channel(tx));
    let err = resolvbench::server::start(
        resolvbench::server::ServerConfig {
            name: "ns2".into(),
            listen: s.addr(),
            scenario: std::sync::Arc::new(Scenario::k8s()),
        },
        log,
    )
    .err()
    .expect("second bind must fail");
    assert!(err.to_string().contains("address already in use"), "{err}");
}
