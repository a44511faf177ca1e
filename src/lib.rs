//! resolvbench: DNS lookup latency and query patterns of libc and hickory resolvers, measured
//! inside containers against a test DNS server it controls. See README.md and DESIGN notes.

pub mod bench;
pub mod cli;
pub mod clock;
pub mod compare;
pub mod image;
pub mod interrupt;
pub mod probe;
pub mod profile;
pub mod progress;
pub mod report;
pub mod result;
pub mod run;
pub mod runtime;
pub mod server;
pub mod stats;
pub mod trace;
