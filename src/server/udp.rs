//! UDP: a receive thread decides each answer; answers with a delay wait in a deadline queue
//! drained by one sender thread, so a slow answer never holds up the next request.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use anyhow::Result;

use super::Shared;
use super::handler::{Decision, Transport};
use crate::clock::{lower_timer_slack, monotonic_ns, sleep_until_ns};

const POLL: Duration = Duration::from_millis(200);

struct Pending {
    due_ns: u64,
    seq: u64,
    recv_ns: u64,
    client: SocketAddr,
    decision: Decision,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.due_ns, self.seq) == (other.due_ns, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due_ns, self.seq).cmp(&(other.due_ns, other.seq))
    }
}

type Queue = Arc<(Mutex<BinaryHeap<Reverse<Pending>>>, Condvar)>;

pub(super) fn spawn(socket: UdpSocket, shared: Arc<Shared>) -> Result<()> {
    socket.set_read_timeout(Some(POLL))?;
    let socket = Arc::new(socket);
    let queue: Queue = Arc::default();
    {
        let (socket, shared, queue) = (socket.clone(), shared.clone(), queue.clone());
        std::thread::Builder::new()
            .name("udp-send".into())
            .spawn(move || send_loop(&socket, &shared, &queue))?;
    }
    std::thread::Builder::new()
        .name("udp-recv".into())
        .spawn(move || recv_loop(&socket, &shared, &queue))?;
    Ok(())
}

fn recv_loop(socket: &UdpSocket, shared: &Shared, queue: &Queue) {
    let mut buf = [0u8; 65535];
    let mut seq = 0u64;
    while !shared.stopped() {
        let Ok((len, client)) = socket.recv_from(&mut buf) else {
            continue; // timeout (poll for stop) or a transient error such as ICMP feedback
        };
        let recv_ns = monotonic_ns();
        let decision = shared.decide(&buf[..len], Transport::Udp);
        match &decision.reply {
            None => shared.log(&decision, Transport::Udp, client, recv_ns, monotonic_ns()),
            Some(bytes) if decision.delay.is_zero() => {
                let send_ns = monotonic_ns();
                let _ = socket.send_to(bytes, client);
                shared.log(&decision, Transport::Udp, client, recv_ns, send_ns);
            }
            Some(_) => {
                seq += 1;
                let due_ns = recv_ns + decision.delay.as_nanos() as u64;
                let (heap, ready) = &**queue;
                heap.lock().expect("udp queue").push(Reverse(Pending {
                    due_ns,
                    seq,
                    recv_ns,
                    client,
                    decision,
                }));
                ready.notify_one();
            }
        }
    }
}

fn send_loop(socket: &UdpSocket, shared: &Shared, queue: &Queue) {
    // Wake this long before a deadline and finish with a precise sleep.
    const EARLY_NS: u64 = 300_000;
    lower_timer_slack();
    let (heap, ready) = &**queue;
    let mut guard = heap.lock().expect("udp queue");
    while !shared.stopped() {
        let now = monotonic_ns();
        let wait = match guard.peek() {
            None => POLL,
            Some(Reverse(p)) if p.due_ns > now + EARLY_NS => {
                Duration::from_nanos(p.due_ns - now - EARLY_NS)
            }
            Some(_) => {
                let Reverse(p) = guard.pop().expect("peeked");
                drop(guard);
                sleep_until_ns(p.due_ns);
                if let Some(bytes) = &p.decision.reply {
                    let _ = socket.send_to(bytes, p.client);
                }
                shared.log(
                    &p.decision,
                    Transport::Udp,
                    p.client,
                    p.recv_ns,
                    monotonic_ns(),
                );
                guard = heap.lock().expect("udp queue");
                continue;
            }
        };
        guard = ready.wait_timeout(guard, wait).expect("udp queue").0;
    }
}
