//! Micro-benchmarks of the test server's request path (no sockets): how much of a measured
//! lookup the instrument itself could account for. Report ratios, not absolute times.

use criterion::{Criterion, criterion_group, criterion_main};
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};
use rand::SeedableRng;
use resolvbench::server::handler::{Transport, decide};
use resolvbench::server::scenario::Scenario;

fn query(name: &str, qtype: RecordType) -> Vec<u8> {
    let mut m = Message::query();
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    m.to_vec().unwrap()
}

fn handler(c: &mut Criterion) {
    let scenario = Scenario::k8s();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let nx = query(
        "lk-c1-0000-1.example.test.default.svc.cluster.local.",
        RecordType::A,
    );
    let answer = query("lk-c1-0000-1.example.test.", RecordType::AAAA);
    c.bench_function("decide/nxdomain", |b| {
        b.iter(|| decide(&nx, Transport::Udp, &scenario, &mut rng))
    });
    c.bench_function("decide/answer", |b| {
        b.iter(|| decide(&answer, Transport::Udp, &scenario, &mut rng))
    });
}

criterion_group!(benches, handler);
criterion_main!(benches);
