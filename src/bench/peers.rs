//! The test server beside a real one: dnsperf (DNS-OARC) drives resolvbench's server and
//! dnsmasq in turn, both on loopback, both answering the same names from configuration.

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hickory_proto::rr::RecordType;

use super::loopback::{UdpFloor, uniform_delay};
use super::{Section, median};

/// A server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until the server on `port` answers an A query.
fn wait_ready(port: u16, server: &mut Server, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.0.try_wait()? {
            bail!("{what} exited at start ({status})");
        }
        let addr = format!("127.0.0.1:{port}").parse()?;
        if UdpFloor::new(addr, "www.example.test.", RecordType::A)?
            .exchange()
            .is_ok()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{what} did not answer on 127.0.0.1:{port} within 10 s");
        }
    }
}

/// Starts `cmd` (quiet) and waits until it answers on 127.0.0.1:`port`.
fn start(mut cmd: Command, port: u16, what: &str) -> Result<Server> {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let mut s = Server(child);
    wait_ready(port, &mut s, what)?;
    Ok(s)
}

fn start_resolvbench(dir: &std::path::Path) -> Result<(Server, u16)> {
    let scenario = dir.join("instant.toml");
    std::fs::write(&scenario, uniform_delay(0.0).to_toml())?;
    let port = free_port()?;
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--log", "/dev/null", "--scenario"])
        .arg(&scenario);
    Ok((start(cmd, port, "resolvbench serve")?, port))
}

fn start_dnsmasq() -> Result<(Server, u16)> {
    let port = free_port()?;
    // The same answers as the scenario's example.test rule, from configuration only.
    let mut cmd = Command::new("dnsmasq");
    cmd.args([
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        "--listen-address=127.0.0.1",
        "--pid-file=",
        "--address=/example.test/192.0.2.10",
        "--address=/example.test/2001:db8::10",
    ])
    .arg(format!("--port={port}"));
    let what = "dnsmasq (containers/host-setup.sh installs dnsmasq-base)";
    Ok((start(cmd, port, what)?, port))
}

/// What dnsperf reported.
#[derive(Debug, PartialEq)]
pub struct DnsperfResult {
    pub qps: f64,
    pub avg_latency_us: f64,
    pub lost: u64,
    /// The "Response codes:" line, e.g. "NOERROR 998 (100.00%)".
    pub rcodes: String,
}

pub fn parse_dnsperf(out: &str) -> Result<DnsperfResult> {
    let field = |label: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(|v| v.trim().to_string())
            .with_context(|| format!("dnsperf output lacks {label:?}"))
    };
    let first_number = |s: String| -> Result<f64> {
        s.split_whitespace()
            .next()
            .unwrap_or("")
            .parse::<f64>()
            .with_context(|| format!("not a number: {s}"))
    };
    Ok(DnsperfResult {
        qps: first_number(field("Queries per second:")?)?,
        avg_latency_us: first_number(field("Average Latency (s):")?)? * 1e6,
        lost: first_number(field("Queries lost:")?)? as u64,
        rcodes: field("Response codes:")?,
    })
}

fn dnsperf(
    port: u16,
    queries: &std::path::Path,
    seconds: u32,
    qps: Option<u32>,
) -> Result<DnsperfResult> {
    let mut cmd = Command::new("dnsperf");
    cmd.args(["-s", "127.0.0.1", "-c", "2", "-q", "64", "-t", "2"])
        .arg("-p")
        .arg(port.to_string())
        .arg("-d")
        .arg(queries)
        .arg("-l")
        .arg(seconds.to_string());
    if let Some(q) = qps {
        cmd.arg("-Q").arg(q.to_string());
    }
    let out = cmd
        .output()
        .context("cannot run dnsperf (containers/host-setup.sh installs it)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "dnsperf failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let r = parse_dnsperf(&text)?;
    // Both servers must do the same work: answer every query with data, nothing else.
    if !r.rcodes.starts_with("NOERROR") || r.rcodes.contains(',') {
        bail!(
            "the server on port {port} did not answer NOERROR only: {}",
            r.rcodes
        );
    }
    Ok(r)
}

pub fn server_vs_dnsmasq(s: &mut Section, quick: bool) -> Result<()> {
    let (rounds, seconds) = if quick { (1, 2) } else { (3, 10) };
    const LIGHT_QPS: u32 = 2000;
    s.describe(
        "test server vs dnsmasq under dnsperf (loopback)",
        &format!(
            "dnsperf -c 2 -q 64 for {seconds} s per measurement, {rounds} alternating round(s); \
             flat out for queries per second, then at {LIGHT_QPS} qps for the latency each \
             server adds. resolvbench serve (zero-delay k8s scenario, query log written to \
             /dev/null) and dnsmasq (--address for example.test) answer the same A/AAAA names; \
             every answer must be NOERROR."
        ),
    );
    let dir = crate::image::offline::work_dir().join(format!("bench-peers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let queries = dir.join("queries.txt");
    std::fs::write(
        &queries,
        "www.example.test A\nwww.example.test AAAA\napi.example.test A\napi.example.test AAAA\n",
    )?;
    let (_ours, our_port) = start_resolvbench(&dir)?;
    let (_dnsmasq, dnsmasq_port) = start_dnsmasq()?;
    let (mut ours_max, mut theirs_max, mut ours_light, mut theirs_light) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut our_lost, mut their_lost) = (0, 0);
    for _ in 0..rounds {
        let a = dnsperf(our_port, &queries, seconds, None)?;
        let b = dnsperf(dnsmasq_port, &queries, seconds, None)?;
        let c = dnsperf(our_port, &queries, seconds, Some(LIGHT_QPS))?;
        let d = dnsperf(dnsmasq_port, &queries, seconds, Some(LIGHT_QPS))?;
        our_lost += a.lost + c.lost;
        their_lost += b.lost + d.lost;
        ours_max.push(a.qps);
        theirs_max.push(b.qps);
        ours_light.push(c.avg_latency_us);
        theirs_light.push(d.avg_latency_us);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (om, tm) = (median(ours_max), median(theirs_max));
    let (ol, tl) = (median(ours_light), median(theirs_light));
    s.add(
        "resolvbench serve / dnsmasq, queries per second",
        om / tm,
        "ratio",
    );
    s.add(
        "resolvbench serve / dnsmasq, average latency at light load",
        ol / tl,
        "ratio",
    );
    s.add(
        "resolvbench serve, queries per second (flat out)",
        om,
        "qps",
    );
    s.add("dnsmasq, queries per second (flat out)", tm, "qps");
    s.add(
        &format!("resolvbench serve, average latency at {LIGHT_QPS} qps"),
        ol,
        "us",
    );
    s.add(
        &format!("dnsmasq, average latency at {LIGHT_QPS} qps"),
        tl,
        "us",
    );
    s.add(
        "queries lost by resolvbench serve",
        our_lost as f64,
        "queries",
    );
    s.add("queries lost by dnsmasq", their_lost as f64, "queries");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dnsperf_statistics() {
        let out = "Statistics:\n\n  Queries sent:         1000\n  Queries completed:    998 (99.80%)\n  \
                   Queries lost:         2 (0.20%)\n\n  Response codes:       NOERROR 998 (100.00%)\n  \
                   Run time (s):         1.000123\n  Queries per second:   997.877\n\n  \
                   Average Latency (s):  0.000123 (min 0.000012, max 0.001234)\n  \
                   Latency StdDev (s):   0.000050\n";
        let r = parse_dnsperf(out).unwrap();
        assert_eq!(r.lost, 2);
        assert!((r.qps - 997.877).abs() < 1e-9);
        assert!((r.avg_latency_us - 123.0).abs() < 1e-6);
        assert_eq!(r.rcodes, "NOERROR 998 (100.00%)");
        assert!(parse_dnsperf("no statistics").is_err());
    }
}
