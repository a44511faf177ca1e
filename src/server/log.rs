//! The query log: one JSON line per request the server received, written by one thread so the
//! request paths never block on disk. This log is the ground truth the trace is built from.

use std::io::Write;
use std::sync::mpsc;

use serde::{Deserialize, Serialize};

/// One request as the server saw it and answered it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct QueryLogEntry {
    /// Which server instance (several make multi-nameserver scenarios).
    pub server: String,
    pub transport: String,
    pub client: String,
    pub id: u16,
    /// Lowercase, fully qualified (trailing dot).
    pub qname: String,
    pub qtype: String,
    /// The lookup id parsed from the first label (`lk-...`), if the name carries one.
    pub lookup: Option<String>,
    pub edns_payload: Option<u16>,
    /// NOERROR, NXDOMAIN, SERVFAIL, ... or "none" when no answer was sent.
    pub rcode: String,
    pub answers: u16,
    pub truncated: bool,
    /// Why no answer was sent: "loss" (injected) or "malformed".
    pub dropped: Option<String>,
    /// CLOCK_MONOTONIC ns when the request was read.
    pub recv_ns: u64,
    /// CLOCK_MONOTONIC ns just before the answer was handed to the kernel (or when it was
    /// dropped). Taken before the send, so a query caused by this answer always has a later
    /// recv_ns: the trace's rounds rely on that.
    pub send_ns: u64,
    /// The delay the scenario asked for, and the one really applied (send - recv).
    pub delay_target_us: f64,
    pub delay_applied_us: f64,
}

/// The lookup id a probe puts in the first label of every name it resolves.
pub fn lookup_id(qname: &str) -> Option<String> {
    let first = qname.split('.').next()?;
    first
        .starts_with(crate::probe::names::LOOKUP_PREFIX)
        .then(|| first.to_string())
}

/// Where log lines go.
pub enum LogSink {
    /// JSON lines to a writer (a file, or stdout).
    Writer(Box<dyn Write + Send>),
    /// Entries to a channel (in-process tests and benches).
    Channel(mpsc::Sender<QueryLogEntry>),
}

/// Starts the writer thread; returns the sender the request paths log through.
pub fn spawn_writer(sink: LogSink) -> mpsc::Sender<QueryLogEntry> {
    let (tx, rx) = mpsc::channel::<QueryLogEntry>();
    std::thread::Builder::new()
        .name("query-log".into())
        .spawn(move || match sink {
            LogSink::Channel(out) => {
                for entry in rx {
                    let _ = out.send(entry);
                }
            }
            LogSink::Writer(w) => write_lines(rx, w),
        })
        .expect("spawn query-log thread");
    tx
}

fn write_lines(rx: mpsc::Receiver<QueryLogEntry>, w: Box<dyn Write + Send>) {
    let mut w = std::io::BufWriter::new(w);
    while let Ok(mut entry) = rx.recv() {
        loop {
            let line = serde_json::to_string(&entry).expect("log entry serializes");
            if writeln!(w, "{line}").is_err() {
                return;
            }
            // Flush whenever the queue is empty, so a reader sees every answered query promptly.
            match rx.try_recv() {
                Ok(next) => entry = next,
                Err(_) => break,
            }
        }
        if w.flush().is_err() {
            return;
        }
    }
}

/// Reads a JSON-lines query log; a line that does not parse is an error naming the line.
pub fn read_log(text: &str) -> anyhow::Result<Vec<QueryLogEntry>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| anyhow::anyhow!("query log line {}: {e}", i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_id_is_the_first_label_with_the_prefix() {
        assert_eq!(
            lookup_id("lk-c1-ab12-7.example.test.default.svc.cluster.local."),
            Some("lk-c1-ab12-7".into())
        );
        assert_eq!(lookup_id("kubernetes.default.svc.cluster.local."), None);
    }
}
