//! Benchmarks on the loopback interface, no containers: the test server runs in this process
//! on a free port with every delay at zero, and hickory is pointed at it. The system resolver
//! cannot be pointed at a port, so these use hickory; the probe loop's own work (names, two
//! clock reads, a histogram record, a lookup record) does not depend on the resolver.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{Name, RecordType};

use super::{Section, interleaved, median};
use crate::probe::{self, Lookup, ProbeOptions};
use crate::result::{Mode, Resolver};
use crate::server::log::{LogSink, spawn_writer};
use crate::server::scenario::Scenario;
use crate::server::{self, RunningServer, ServerConfig};

/// The k8s scenario with every delay set to `delay_ms`.
pub fn uniform_delay(delay_ms: f64) -> Scenario {
    let mut s = Scenario::k8s();
    s.name = format!("uniform-{delay_ms}ms");
    s.default.delay_ms = delay_ms;
    for r in &mut s.rules {
        r.delay_ms = delay_ms;
    }
    s
}

/// The test server on 127.0.0.1:<free port>, answering at once, logging as in a run (the
/// lines are serialized, then discarded).
pub fn instant_server() -> Result<RunningServer> {
    server::start(
        ServerConfig {
            name: "ns1".into(),
            listen: "127.0.0.1:0".parse().expect("valid address"),
            scenario: Arc::new(uniform_delay(0.0)),
        },
        spawn_writer(LogSink::Writer(Box::new(std::io::sink()))),
    )
}

/// resolv.conf for hickory on the loopback server: no search list, so one name per lookup.
pub fn loopback_resolv_conf() -> &'static str {
    "nameserver 127.0.0.1\noptions ndots:1 timeout:1 attempts:2\n"
}

fn hickory(server: &RunningServer) -> Result<Lookup> {
    Lookup::new(
        Resolver::Hickory,
        false,
        Some(loopback_resolv_conf()),
        server.addr.port(),
    )
}

/// Time per lookup of the probe's measuring loop vs the same resolver call in a bare loop.
pub fn probe_overhead(s: &mut Section, quick: bool) -> Result<()> {
    let (blocks, n) = if quick { (3, 100) } else { (9, 2000) };
    s.describe(
        "probe overhead (hickory, loopback, zero delay)",
        &format!(
            "{blocks} interleaved blocks of {n} lookups of fresh names (A+AAAA, one name each): \
             the probe's measuring loop (probe::run, including building its result) vs a bare \
             loop of the same resolver call. Ratio = median of per-block ratios."
        ),
    );
    let server = instant_server()?;
    let lookup = hickory(&server)?;
    let opts = ProbeOptions {
        mode: Mode::Parallel,
        count: n,
        warmup: 0,
        name_template: "{id}.example.test".into(),
        cell: "bench".into(),
        max_seconds: 600.0,
    };
    // Warm both paths (sockets, allocator) before timing.
    probe::run(
        &lookup,
        &ProbeOptions {
            count: 50,
            ..opts.clone()
        },
        String::new(),
    )?;
    let mut block = 0;
    let bare = || -> Result<f64> {
        block += 1;
        let names: Vec<String> = (0..n)
            .map(|i| format!("bare-{block}-{i}.example.test"))
            .collect();
        let mut names = names.iter();
        us_per_call(n, || {
            let name = names.next().expect("one name per call");
            lookup
                .resolve(name, Mode::Parallel)
                .map(drop)
                .map_err(|e| anyhow::anyhow!("bare lookup failed: {e}"))
        })
    };
    let probe_loop = || -> Result<f64> {
        let t = Instant::now();
        let r = probe::run(&lookup, &opts, String::new())?;
        if r.errors > 0 {
            bail!("{} probe lookups failed: {:?}", r.errors, r.outcomes);
        }
        Ok(t.elapsed().as_secs_f64() * 1e6 / n as f64)
    };
    let (bare_us, probe_us, ratios) = interleaved(blocks, bare, probe_loop)?;
    server.stop();
    s.add(
        "probe loop / bare call, time per lookup",
        median(ratios),
        "ratio",
    );
    let (b, p) = (median(bare_us), median(probe_us));
    s.add("bare call, per lookup (median block)", b, "us");
    s.add("probe loop, per lookup (median block)", p, "us");
    s.add(
        "probe overhead per lookup (difference of medians)",
        p - b,
        "us",
    );
    Ok(())
}

/// Calls `f` `n` times; microseconds per call.
fn us_per_call(n: u64, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    let t = Instant::now();
    for _ in 0..n {
        f()?;
    }
    Ok(t.elapsed().as_secs_f64() * 1e6 / n as f64)
}

/// A minimal DNS client: one prebuilt query, a fresh id per exchange, wait for its answer.
pub struct UdpFloor {
    socket: UdpSocket,
    query: Vec<u8>,
    next_id: u16,
}

impl UdpFloor {
    pub fn new(server: SocketAddr, name: &str, qtype: RecordType) -> Result<UdpFloor> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.connect(server)?;
        socket.set_read_timeout(Some(Duration::from_secs(2)))?;
        let mut m = Message::query();
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name)?, qtype));
        Ok(UdpFloor {
            socket,
            query: m.to_vec()?,
            next_id: 1,
        })
    }

    /// One query and its answer.
    pub fn exchange(&mut self) -> Result<()> {
        self.next_id = self.next_id.wrapping_add(1);
        self.query[..2].copy_from_slice(&self.next_id.to_be_bytes());
        self.socket.send(&self.query)?;
        let mut buf = [0u8; 1500];
        loop {
            let len = self
                .socket
                .recv(&mut buf)
                .context("no answer from the server")?;
            if len >= 2 && buf[..2] == self.next_id.to_be_bytes() {
                return Ok(());
            }
        }
    }
}

/// One hickory A lookup vs the floor: the same A query over a bare UDP socket.
pub fn hickory_floor(s: &mut Section, quick: bool) -> Result<()> {
    let (blocks, n) = if quick { (3, 100) } else { (9, 3000) };
    let name = "floor.example.test.";
    s.describe(
        "hickory lookup vs the UDP floor (loopback, zero delay)",
        &format!(
            "{blocks} interleaved blocks of {n} exchanges: hickory-resolver ipv4_lookup of \
             {name} (cache off) vs a bare UDP socket sending the same A query to the same \
             server and waiting for the answer. Ratio = median of per-block ratios."
        ),
    );
    let server = instant_server()?;
    let Lookup::Hickory(hickory) = hickory(&server)? else {
        unreachable!("asked for hickory")
    };
    let mut floor = UdpFloor::new(server.addr, name, RecordType::A)?;
    for _ in 0..50 {
        floor.exchange()?;
        hickory.lookup_a(name).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let floor_block = || us_per_call(n, || floor.exchange());
    let hickory_block = || {
        us_per_call(n, || {
            hickory
                .lookup_a(name)
                .map(drop)
                .map_err(|e| anyhow::anyhow!("hickory lookup failed: {e}"))
        })
    };
    let (floor_us, hickory_us, ratios) = interleaved(blocks, floor_block, hickory_block)?;
    server.stop();
    s.add(
        "hickory / floor, time per A lookup",
        median(ratios),
        "ratio",
    );
    s.add(
        "floor: bare UDP exchange (median block)",
        median(floor_us),
        "us",
    );
    s.add("hickory A lookup (median block)", median(hickory_us), "us");
    Ok(())
}

/// Peak RSS of a probe process (this binary's `probe`, hickory, on the loopback server) for
/// growing lookup counts, from the kernel's accounting of the child (wait4 ru_maxrss).
pub fn probe_memory(s: &mut Section, quick: bool) -> Result<()> {
    let counts: &[u64] = if quick {
        &[0, 1_000, 10_000]
    } else {
        &[0, 10_000, 1_000_000]
    };
    s.describe(
        "probe peak memory (hickory, loopback)",
        "`resolvbench probe --resolver hickory --mode parallel` as a child process against the \
         loopback server, result streamed to /dev/null; peak RSS from wait4(2) (ru_maxrss). \
         The probe keeps one record per lookup for the trace join, so memory grows with the count.",
    );
    let server = instant_server()?;
    let dir = crate::image::offline::work_dir().join(format!("bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let conf = dir.join("resolv.conf");
    std::fs::write(&conf, loopback_resolv_conf())?;
    let mut peaks = Vec::new();
    let mut result = Ok(());
    for &count in counts {
        let t = Instant::now();
        let exe = std::env::current_exe()?;
        let peak = peak_rss_kib(
            std::process::Command::new(exe)
                .args([
                    "probe",
                    "--resolver",
                    "hickory",
                    "--mode",
                    "parallel",
                    "--warmup",
                    "0",
                ])
                .arg("--count")
                .arg(count.to_string())
                .arg("--resolv-conf")
                .arg(&conf)
                .arg("--port")
                .arg(server.addr.port().to_string())
                .arg("--max-seconds")
                .arg("3000"),
        );
        let kib = match peak {
            Ok(kib) => kib,
            Err(e) => {
                result = Err(e.context(format!("the probe of {count} lookups")));
                break;
            }
        };
        peaks.push((count, kib));
        s.add(
            &format!("peak RSS, {count} lookups"),
            kib as f64 / 1024.0,
            "MiB",
        );
        s.add(
            &format!("wall time, {count} lookups"),
            t.elapsed().as_secs_f64(),
            "s",
        );
    }
    if let [.., (c1, k1), (c2, k2)] = peaks[..] {
        s.add(
            &format!("memory per added lookup ({c1} -> {c2})"),
            (k2 as f64 - k1 as f64) * 1024.0 / (c2 - c1) as f64,
            "bytes",
        );
    }
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Runs `cmd` to the end with output discarded; its peak resident set in KiB.
fn peak_rss_kib(cmd: &mut std::process::Command) -> Result<u64> {
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("cannot start the probe")?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        let mut err = String::new();
        if let Some(mut e) = child.stderr {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        bail!("the probe failed ({status}): {}", err.trim());
    }
    Ok(usage.ru_maxrss as u64)
}
