//! The test DNS server: the instrument every measurement depends on. Real DNS over UDP and
//! TCP (wire format by hickory-proto), answers and delays from a scenario, every query logged.

pub mod handler;
pub mod log;
pub mod scenario;
mod tcp;
mod udp;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;

use anyhow::{Context, Result, bail};

use handler::{Decision, Transport};
use log::QueryLogEntry;
use scenario::Scenario;

/// One server instance: a UDP and a TCP socket on the same address.
pub struct ServerConfig {
    pub name: String,
    pub listen: SocketAddr,
    pub scenario: Arc<Scenario>,
}

pub struct RunningServer {
    /// The bound address (the real port when 0 was asked for).
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl RunningServer {
    /// Asks the socket threads to stop; they notice within their poll interval.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // Unblock the TCP accept loop.
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Binds UDP and TCP on `config.listen` and serves until stopped.
pub fn start(config: ServerConfig, log: Sender<QueryLogEntry>) -> Result<RunningServer> {
    let (udp, tcp) = bind_pair(config.listen)?;
    let addr = udp.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(Shared {
        instance: config.scenario.nameserver(&config.name),
        name: config.name,
        scenario: config.scenario,
        log,
        stop: stop.clone(),
    });
    udp::spawn(udp, shared.clone())?;
    tcp::spawn(tcp, shared)?;
    Ok(RunningServer { addr, stop })
}

/// Binds both transports on one port; with port 0, retries until UDP's port is free for TCP too.
fn bind_pair(listen: SocketAddr) -> Result<(UdpSocket, TcpListener)> {
    for _ in 0..20 {
        let udp = UdpSocket::bind(listen).map_err(|e| bind_error(listen, "udp", e))?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr) {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(_) if listen.port() == 0 => continue,
            Err(e) => return Err(bind_error(addr, "tcp", e)),
        }
    }
    bail!(
        "could not find a port free for both UDP and TCP on {}",
        listen.ip()
    )
}

fn bind_error(addr: SocketAddr, proto: &str, e: std::io::Error) -> anyhow::Error {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            anyhow::anyhow!("cannot listen on {addr} ({proto}): address already in use")
        }
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "cannot listen on {addr} ({proto}): permission denied (ports below 1024 need root, \
             CAP_NET_BIND_SERVICE or net.ipv4.ip_unprivileged_port_start)"
        ),
        _ => anyhow::Error::new(e).context(format!("cannot listen on {addr} ({proto})")),
    }
}

/// What the socket threads share.
struct Shared {
    name: String,
    /// This instance's misbehaviour (dead, slow) from the scenario's nameserver list.
    instance: scenario::Nameserver,
    scenario: Arc<Scenario>,
    log: Sender<QueryLogEntry>,
    stop: Arc<AtomicBool>,
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn decide(&self, request: &[u8], transport: Transport) -> Decision {
        let mut d = handler::decide(request, transport, &self.scenario, &mut rand::rng());
        if self.instance.dead && d.log.dropped.is_none() {
            d.reply = None;
            d.log.rcode = "none".into();
            d.log.dropped = Some("dead");
        }
        d.delay += std::time::Duration::from_secs_f64(self.instance.extra_delay_ms / 1000.0);
        d
    }

    /// Logs one request once its answer was sent (or dropped) at `send_ns`.
    fn log(
        &self,
        d: &Decision,
        transport: Transport,
        client: SocketAddr,
        recv_ns: u64,
        send_ns: u64,
    ) {
        let p = &d.log;
        let _ = self.log.send(QueryLogEntry {
            server: self.name.clone(),
            transport: transport.as_str().into(),
            client: client.to_string(),
            id: p.id,
            lookup: log::lookup_id(&p.qname),
            qname: p.qname.clone(),
            qtype: p.qtype.clone(),
            edns_payload: p.edns_payload,
            rcode: p.rcode.clone(),
            answers: p.answers,
            truncated: p.truncated,
            dropped: p.dropped.map(String::from),
            recv_ns,
            send_ns,
            delay_target_us: d.delay.as_secs_f64() * 1e6,
            delay_applied_us: (send_ns.saturating_sub(recv_ns)) as f64 / 1e3,
        });
    }
}

/// Parses `--listen` values, accepting a bare IP (port 53) too.
pub fn parse_listen(s: &str) -> Result<SocketAddr> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let ip: std::net::IpAddr = s
        .parse()
        .with_context(|| format!("--listen {s:?} is not an address (IP or IP:PORT)"))?;
    Ok(SocketAddr::new(ip, 53))
}
