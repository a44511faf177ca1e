//! Helpers shared by the integration tests: a real server on a loopback port, and a minimal
//! DNS client built on hickory-proto's wire format.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use resolvbench::server::log::{LogSink, QueryLogEntry, spawn_writer};
use resolvbench::server::scenario::Scenario;
use resolvbench::server::{self, RunningServer, ServerConfig};

pub struct TestServer {
    pub server: RunningServer,
    pub log: Receiver<QueryLogEntry>,
}

impl TestServer {
    pub fn start(scenario: Scenario) -> TestServer {
        let (tx, rx) = channel();
        let log = spawn_writer(LogSink::Channel(tx));
        let server = server::start(
            ServerConfig {
                name: "ns1".into(),
                listen: "127.0.0.1:0".parse().unwrap(),
                scenario: Arc::new(scenario),
            },
            log,
        )
        .expect("server starts on a loopback port");
        TestServer { server, log: rx }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Every log entry so far (waits briefly for the writer thread).
    pub fn drain_log(&self) -> Vec<QueryLogEntry> {
        let mut out = Vec::new();
        while let Ok(e) = self.log.recv_timeout(Duration::from_millis(300)) {
            out.push(e);
        }
        out
    }
}

pub fn query_bytes(name: &str, qtype: RecordType, edns: Option<u16>) -> Vec<u8> {
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

pub fn udp_exchange(addr: SocketAddr, request: &[u8]) -> Option<Message> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    sock.send_to(request, addr).unwrap();
    let mut buf = [0u8; 65535];
    let (len, _) = sock.recv_from(&mut buf).ok()?;
    Some(Message::from_vec(&buf[..len]).unwrap())
}

pub fn udp_query(addr: SocketAddr, name: &str, qtype: RecordType) -> Message {
    udp_exchange(addr, &query_bytes(name, qtype, None)).expect("an answer over UDP")
}

pub fn tcp_query(addr: SocketAddr, name: &str, qtype: RecordType) -> Message {
    let request = query_bytes(name, qtype, None);
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(&(request.len() as u16).to_be_bytes()).unwrap();
    s.write_all(&request).unwrap();
    let mut len = [0u8; 2];
    s.read_exact(&mut len).unwrap();
    let mut reply = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut reply).unwrap();
    Message::from_vec(&reply).unwrap()
}

/// The candidate names a 2-dot name expands to under the k8s profile, in search order
/// (lookup label shown as `<id>`, as traces show it).
pub const CANDIDATES: [&str; 4] = [
    "<id>.example.test.default.svc.cluster.local.",
    "<id>.example.test.svc.cluster.local.",
    "<id>.example.test.cluster.local.",
    "<id>.example.test.",
];

/// `resolvbench ARGS --results-dir DIR` with a fresh DIR, removed afterwards.
pub fn resolvbench_with_results(args: &[&str]) -> std::process::Output {
    let results = std::env::temp_dir().join(format!(
        "resolvbench-test-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_resolvbench"))
        .args(args)
        .arg("--results-dir")
        .arg(&results)
        .output()
        .expect("resolvbench runs");
    let _ = std::fs::remove_dir_all(&results);
    out
}

/// `resolvbench run --json --quiet ARGS`: the run document (a failed run fails the test).
pub fn run_json(args: &[&str]) -> resolvbench::result::RunResult {
    let mut all = vec!["run", "--json", "--quiet"];
    all.extend(args);
    let out = resolvbench_with_results(&all);
    assert!(
        out.status.success(),
        "run {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("run prints its result document")
}

/// The committed reference run of the default matrix (exports and compare tests read it).
pub const REFERENCE_RUN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/results/reference/2026-12-03-default-matrix/run.json"
);

pub fn reference_run() -> resolvbench::result::RunResult {
    resolvbench::result::RunResult::load(std::path::Path::new(REFERENCE_RUN))
        .expect("the reference run loads")
}
