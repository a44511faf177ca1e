//! Micro-benchmarks on loopback (the test server in process, zero delay): the floor of one DNS
//! exchange over a bare UDP socket, the same A query through hickory-resolver, and a hickory
//! A+AAAA lookup of a fresh name (what a probe cell does per lookup, without its bookkeeping).
//! Compare them as ratios within one run; `resolvbench bench` prints those ratios directly.

use criterion::{Criterion, criterion_group, criterion_main};
use hickory_proto::rr::RecordType;
use resolvbench::bench::loopback::{UdpFloor, instant_server, loopback_resolv_conf};
use resolvbench::probe::Lookup;
use resolvbench::result::{Mode, Resolver};
use resolvbench::stats::new_histogram;

fn loopback(c: &mut Criterion) {
    let server = instant_server().expect("server on loopback");
    let name = "floor.example.test.";
    let mut floor = UdpFloor::new(server.addr, name, RecordType::A).expect("udp socket");
    let lookup = Lookup::new(
        Resolver::Hickory,
        false,
        Some(loopback_resolv_conf()),
        server.addr.port(),
    )
    .expect("hickory resolver");
    let Lookup::Hickory(hickory) = &lookup else {
        unreachable!("asked for hickory")
    };
    let mut group = c.benchmark_group("loopback");
    group.bench_function("udp_floor_a", |b| b.iter(|| floor.exchange().unwrap()));
    group.bench_function("hickory_a", |b| b.iter(|| hickory.lookup_a(name).unwrap()));
    let mut seq = 0u64;
    group.bench_function("hickory_parallel_fresh_name", |b| {
        b.iter(|| {
            seq += 1;
            lookup
                .resolve(&format!("b{seq}.example.test."), Mode::Parallel)
                .unwrap()
        })
    });
    group.finish();
    server.stop();
}

/// What the probe loop adds per lookup besides the call: a histogram record.
fn histogram(c: &mut Criterion) {
    let mut h = new_histogram();
    let mut v = 1u64;
    c.bench_function("histogram/record", |b| {
        b.iter(|| {
            v = v.wrapping_mul(6364136223846793005).wrapping_add(1);
            h.saturating_record(1 + v % 100_000)
        })
    });
}

criterion_group!(benches, loopback, histogram);
criterion_main!(benches);
