//! TCP: one thread per connection, length-prefixed messages (RFC 1035 4.2.2), answered in order.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use super::Shared;
use super::handler::Transport;
use crate::clock::{monotonic_ns, sleep_until_ns};

/// A client that sends nothing for this long is disconnected, as real servers do.
const IDLE: Duration = Duration::from_secs(10);

pub(super) fn spawn(listener: TcpListener, shared: Arc<Shared>) -> Result<()> {
    std::thread::Builder::new()
        .name("tcp-accept".into())
        .spawn(move || {
            for stream in listener.incoming() {
                if shared.stopped() {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                let _ = std::thread::Builder::new()
                    .name("tcp-conn".into())
                    .spawn(move || serve_connection(stream, &shared));
            }
        })?;
    Ok(())
}

fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    let Ok(client) = stream.peer_addr() else {
        return;
    };
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_nodelay(true);
    let mut len = [0u8; 2];
    while !shared.stopped() && stream.read_exact(&mut len).is_ok() {
        let mut request = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut request).is_err() {
            return;
        }
        let recv_ns = monotonic_ns();
        let decision = shared.decide(&request, Transport::Tcp);
        let Some(reply) = &decision.reply else {
            shared.log(&decision, Transport::Tcp, client, recv_ns, monotonic_ns());
            continue;
        };
        sleep_until_ns(recv_ns + decision.delay.as_nanos() as u64);
        let mut framed = Vec::with_capacity(reply.len() + 2);
        framed.extend_from_slice(&(reply.len() as u16).to_be_bytes());
        framed.extend_from_slice(reply);
        let send_ns = monotonic_ns();
        let sent = stream.write_all(&framed);
        shared.log(&decision, Transport::Tcp, client, recv_ns, send_ns);
        if sent.is_err() {
            return;
        }
    }
}
