//! Turns one request into one decision: the answer bytes (if any), the delay to apply and what
//! to log. Pure apart from the random numbers for loss and jitter, so it is unit-testable.
//!
//! It answers as a recursive resolver answers a stub: RA set, RD echoed, NXDOMAIN and NODATA
//! carry the zone's SOA in the authority section (without it glibc and Go treat NODATA as a
//! lame answer), TC set when a UDP answer exceeds the client's limit.

use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rand::Rng;

use super::scenario::{Respond, Rule, Scenario};

/// The UDP payload size the server advertises in its own EDNS record.
const SERVER_EDNS_PAYLOAD: u16 = 1232;
const TTL: u32 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// What to do with one request.
#[derive(Debug)]
pub struct Decision {
    /// None: send nothing (loss injected, or a packet that is not a DNS query).
    pub reply: Option<Vec<u8>>,
    pub delay: Duration,
    pub log: Parsed,
}

/// What the request and our answer were, for the query log.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub id: u16,
    pub qname: String,
    pub qtype: String,
    pub edns_payload: Option<u16>,
    /// NOERROR, NXDOMAIN, ..., or "none" when nothing was sent.
    pub rcode: String,
    pub answers: u16,
    pub truncated: bool,
    pub dropped: Option<&'static str>,
}

pub fn decide(
    request: &[u8],
    transport: Transport,
    scenario: &Scenario,
    rng: &mut impl Rng,
) -> Decision {
    let message = match Message::from_vec(request) {
        Ok(m) if m.metadata.message_type == MessageType::Query => m,
        // Garbage or a response sent to us: ignore it, as a real server does, but log it.
        _ => {
            return Decision {
                reply: None,
                delay: Duration::ZERO,
                log: Parsed {
                    rcode: "none".into(),
                    dropped: Some("malformed"),
                    ..Parsed::default()
                },
            };
        }
    };
    let mut log = Parsed {
        id: message.metadata.id,
        edns_payload: message.edns.as_ref().map(Edns::max_payload),
        ..Parsed::default()
    };
    let Some(query) = message.queries.first().cloned() else {
        return finish(
            error_reply(&message, ResponseCode::FormErr),
            transport,
            &message,
            log,
            Duration::ZERO,
        );
    };
    log.qname = query.name().to_lowercase().to_ascii();
    log.qtype = query.query_type().to_string();
    if message.metadata.op_code != OpCode::Query || message.queries.len() != 1 {
        return finish(
            error_reply(&message, ResponseCode::NotImp),
            transport,
            &message,
            log,
            Duration::ZERO,
        );
    }

    let rule = scenario.rule_for(&log.qname);
    let delay = delay_for(rule, rng);
    if rule.loss > 0.0 && rng.random_bool(rule.loss) {
        log.rcode = "none".into();
        log.dropped = Some("loss");
        return Decision {
            reply: None,
            delay,
            log,
        };
    }
    let mut reply = error_reply(&message, ResponseCode::NoError);
    reply.queries = vec![query.clone()];
    answer(&mut reply, rule, query.name(), query.query_type());
    if rule.truncate_udp && transport == Transport::Udp {
        reply = reply.truncate();
    }
    finish(reply, transport, &message, log, delay)
}

fn delay_for(rule: &Rule, rng: &mut impl Rng) -> Duration {
    let jitter = if rule.jitter_ms > 0.0 {
        rng.random_range(-rule.jitter_ms..=rule.jitter_ms)
    } else {
        0.0
    };
    Duration::from_secs_f64(((rule.delay_ms + jitter) / 1000.0).max(0.0))
}

/// A response skeleton: id, opcode and RD from the request, RA set, the request's question.
fn error_reply(request: &Message, rcode: ResponseCode) -> Message {
    let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
    reply.metadata.recursion_desired = request.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.metadata.response_code = rcode;
    // One question at most: echoing all of a request's (an UPDATE may carry dozens) made
    // replies over 512 bytes, found by fuzzing (fuzz/corpus/handler/regression-*).
    reply.queries = request.queries.iter().take(1).cloned().collect();
    if request.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(SERVER_EDNS_PAYLOAD);
        reply.edns = Some(edns);
    }
    reply
}

fn answer(reply: &mut Message, rule: &Rule, name: &Name, qtype: RecordType) {
    let rcode = match rule.respond {
        Respond::Address => ResponseCode::NoError,
        Respond::Nodata => ResponseCode::NoError,
        Respond::Nxdomain => ResponseCode::NXDomain,
        Respond::Servfail => ResponseCode::ServFail,
        Respond::Refused => ResponseCode::Refused,
    };
    reply.metadata.response_code = rcode;
    if matches!(rule.respond, Respond::Servfail | Respond::Refused) {
        return;
    }
    let qtype_str = qtype.to_string();
    let records: Vec<Record> = match (rule.respond, qtype) {
        (Respond::Address, RecordType::A) if !rule.is_nodata_type(&qtype_str) => (0..rule
            .addresses)
            .map(|i| RData::A(A(nth_v4(&rule.a, i))))
            .map(|rdata| Record::from_rdata(name.clone(), TTL, rdata))
            .collect(),
        (Respond::Address, RecordType::AAAA) if !rule.is_nodata_type(&qtype_str) => (0..rule
            .addresses)
            .map(|i| RData::AAAA(AAAA(nth_v6(&rule.aaaa, i))))
            .map(|rdata| Record::from_rdata(name.clone(), TTL, rdata))
            .collect(),
        _ => Vec::new(),
    };
    if records.is_empty() {
        // NXDOMAIN or NODATA: the SOA makes the negative answer cacheable and authoritative-looking.
        reply.authorities.push(soa_record(&rule.suffix));
    }
    reply.answers = records;
}

/// The i-th address: the configured ones first, then consecutive ones after the last.
fn nth_v4(list: &[std::net::Ipv4Addr], i: u16) -> std::net::Ipv4Addr {
    let i = usize::from(i);
    list.get(i)
        .copied()
        .unwrap_or_else(|| (u32::from(list[list.len() - 1]) + (i - list.len() + 1) as u32).into())
}

fn nth_v6(list: &[std::net::Ipv6Addr], i: u16) -> std::net::Ipv6Addr {
    let i = usize::from(i);
    list.get(i)
        .copied()
        .unwrap_or_else(|| (u128::from(list[list.len() - 1]) + (i - list.len() + 1) as u128).into())
}

fn soa_record(zone: &str) -> Record {
    let zone = Name::from_ascii(zone).unwrap_or_else(|_| Name::root());
    let mname = Name::from_ascii("ns.resolvbench.test.").expect("valid literal");
    let rname = Name::from_ascii("hostmaster.resolvbench.test.").expect("valid literal");
    let soa = SOA::new(mname, rname, 1, 3600, 600, 86400, TTL);
    Record::from_rdata(zone, TTL, RData::SOA(soa))
}

/// Encodes the reply, truncating it when it exceeds what a UDP client can receive.
fn finish(
    mut reply: Message,
    transport: Transport,
    request: &Message,
    mut log: Parsed,
    delay: Duration,
) -> Decision {
    let limit = match transport {
        Transport::Tcp => usize::from(u16::MAX),
        // Without EDNS a UDP client accepts 512 bytes (RFC 1035 4.2.1).
        Transport::Udp => usize::from(
            request
                .edns
                .as_ref()
                .map_or(512, |e| e.max_payload().max(512)),
        ),
    };
    let mut bytes = reply.to_vec().unwrap_or_default();
    if bytes.len() > limit {
        reply = reply.truncate();
        bytes = reply.to_vec().unwrap_or_default();
    }
    if bytes.len() > limit {
        // Still too long (a huge question): the header alone, TC set.
        reply.queries.clear();
        bytes = reply.to_vec().unwrap_or_default();
    }
    log.rcode = rcode_name(reply.metadata.response_code);
    log.answers = reply.answers.len() as u16;
    log.truncated = reply.metadata.truncation;
    Decision {
        reply: Some(bytes),
        delay,
        log,
    }
}

/// The mnemonic used in logs and outcome counts (hickory's Display is a sentence).
pub fn rcode_name(rc: ResponseCode) -> String {
    match rc {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use rand::{SeedableRng, rngs::StdRng};

    fn query(name: &str, qtype: RecordType, edns: Option<u16>) -> Vec<u8> {
        let mut m = Message::query();
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
        if let Some(size) = edns {
            let mut e = Edns::new();
            e.set_max_payload(size);
            m.edns = Some(e);
        }
        m.to_vec().unwrap()
    }

    fn ask(scenario: &Scenario, bytes: &[u8], t: Transport) -> (Message, Decision) {
        let d = decide(bytes, t, scenario, &mut StdRng::seed_from_u64(1));
        (Message::from_vec(d.reply.as_ref().unwrap()).unwrap(), d)
    }

    #[test]
    fn nxdomain_carries_soa_and_ra() {
        let (m, d) = ask(
            &Scenario::k8s(),
            &query("x.svc.cluster.local.", RecordType::A, None),
            Transport::Udp,
        );
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
        assert!(m.metadata.recursion_available && m.metadata.recursion_desired);
        assert_eq!(m.authorities.len(), 1);
        assert_eq!(m.authorities[0].record_type(), RecordType::SOA);
        assert_eq!(m.authorities[0].name.to_ascii(), "cluster.local.");
        assert_eq!(d.delay, Duration::from_micros(200));
        assert_eq!(d.log.rcode, "NXDOMAIN");
    }

    #[test]
    fn nodata_is_noerror_with_soa() {
        let mut s = Scenario::k8s();
        s.rules[2].nodata = vec!["AAAA".into()];
        let (m, _) = ask(
            &s,
            &query("a.example.test.", RecordType::AAAA, None),
            Transport::Udp,
        );
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.answers.is_empty() && m.metadata.recursion_available);
        assert_eq!(m.authorities[0].record_type(), RecordType::SOA);
        // Types other than A/AAAA under an address rule are NODATA too.
        let (m, _) = ask(
            &Scenario::k8s(),
            &query("a.example.test.", RecordType::MX, None),
            Transport::Udp,
        );
        assert!(m.answers.is_empty() && m.authorities.len() == 1);
    }

    #[test]
    fn address_answers_and_large_answers_truncate_only_over_udp() {
        let (m, _) = ask(
            &Scenario::k8s(),
            &query("a.example.test.", RecordType::AAAA, None),
            Transport::Udp,
        );
        assert_eq!(m.answers.len(), 1);
        let mut s = Scenario::k8s();
        s.rules[2].addresses = 40; // 40 AAAA records are far over 512 bytes
        let (m, d) = ask(
            &s,
            &query("a.example.test.", RecordType::AAAA, None),
            Transport::Udp,
        );
        assert!(m.metadata.truncation && m.answers.is_empty());
        assert!(d.log.truncated);
        let (m, _) = ask(
            &s,
            &query("a.example.test.", RecordType::AAAA, Some(4096)),
            Transport::Udp,
        );
        assert!(!m.metadata.truncation && m.answers.len() == 40);
        let (m, _) = ask(
            &s,
            &query("a.example.test.", RecordType::AAAA, None),
            Transport::Tcp,
        );
        assert!(!m.metadata.truncation && m.answers.len() == 40);
    }

    #[test]
    fn malformed_and_responses_are_dropped_not_answered() {
        let s = Scenario::k8s();
        for junk in [&b""[..], &b"\x00"[..], &[0xffu8; 40][..]] {
            let d = decide(junk, Transport::Udp, &s, &mut StdRng::seed_from_u64(1));
            assert!(d.reply.is_none());
            assert_eq!(d.log.dropped, Some("malformed"));
        }
    }

    /// Found by cargo-fuzz: an UPDATE with 17 questions got a 516-byte NOTIMP over UDP.
    #[test]
    fn no_reply_over_udp_without_edns_exceeds_512_bytes() {
        let crash = include_bytes!("../../fuzz/corpus/handler/regression-update-17-questions");
        for preset in Scenario::PRESETS {
            let s = Scenario::preset(preset).unwrap();
            let d = decide(crash, Transport::Udp, &s, &mut StdRng::seed_from_u64(1));
            assert!(d.reply.is_none_or(|r| r.len() <= 512), "{preset}");
        }
    }

    #[test]
    fn loss_one_always_drops() {
        let mut s = Scenario::k8s();
        s.rules[2].loss = 1.0;
        let d = decide(
            &query("a.example.test.", RecordType::A, None),
            Transport::Udp,
            &s,
            &mut StdRng::seed_from_u64(2),
        );
        assert!(d.reply.is_none());
        assert_eq!(d.log.dropped, Some("loss"));
    }
}
