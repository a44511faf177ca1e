//! The test server's request path on arbitrary bytes, over UDP and TCP, against scenarios with
//! every kind of answer. It must never panic, and over UDP without EDNS it must never answer
//! with more than 512 bytes (no amplification beyond what RFC 1035 allows a plain client).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use resolvbench::server::handler::{Transport, decide};
use resolvbench::server::scenario::Scenario;

const PRESETS: [&str; 5] = ["k8s", "large", "truncated", "nodata-aaaa", "servfail-search"];

fn scenarios() -> &'static Vec<Scenario> {
    static S: OnceLock<Vec<Scenario>> = OnceLock::new();
    S.get_or_init(|| PRESETS.iter().map(|p| Scenario::preset(p).expect("preset")).collect())
}

fuzz_target!(|data: &[u8]| {
    // The scenario and transport come from the length, so every byte stays a packet byte.
    let scenario = &scenarios()[data.len() % PRESETS.len()];
    let transport = if (data.len() / PRESETS.len()) % 2 == 0 { Transport::Udp } else { Transport::Tcp };
    let mut rng = rand::rngs::StdRng::seed_from_u64(data.len() as u64);
    let d = decide(data, transport, scenario, &mut rng);
    if let Some(reply) = &d.reply {
        assert!(reply.len() >= 12, "a reply always has a header");
        if transport == Transport::Udp && d.log.edns_payload.is_none() {
            assert!(reply.len() <= 512, "{} bytes over UDP without EDNS", reply.len());
        }
    }
});
