//! CLOCK_MONOTONIC in nanoseconds. Every container on one host shares this clock, so the
//! server's receive/send times and the probe's lookup start/end times are directly comparable.

use std::time::Duration;

/// Current CLOCK_MONOTONIC time in nanoseconds.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Sleeps until `deadline_ns` (CLOCK_MONOTONIC) with sub-millisecond precision.
///
/// tokio's timer wheel rounds to 1 ms, which would turn a 0.2 ms injected delay into ~1 ms.
/// Instead: a kernel sleep (hrtimer, with timer slack lowered once per thread) to just before
/// the deadline, then a short spin for the last tens of microseconds.
pub fn sleep_until_ns(deadline_ns: u64) {
    const SPIN_NS: u64 = 60_000;
    lower_timer_slack();
    loop {
        let now = monotonic_ns();
        if now >= deadline_ns {
            return;
        }
        let left = deadline_ns - now;
        if left > SPIN_NS {
            std::thread::sleep(Duration::from_nanos(left - SPIN_NS));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Linux adds up to 50 µs of "timer slack" to every sleep of a normal thread; lower it to 1 ns.
pub fn lower_timer_slack() {
    thread_local! { static DONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) }; }
    DONE.with(|done| {
        if !done.get() {
            // SAFETY: PR_SET_TIMERSLACK takes an integer argument and affects only this thread.
            unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
            done.set(true);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_until_never_returns_early() {
        let deadline = monotonic_ns() + 300_000;
        sleep_until_ns(deadline);
        assert!(monotonic_ns() >= deadline);
    }
}
