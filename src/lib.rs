//! resolvbench: DNS lookup latency and query patterns of libc and hickory resolvers, measured
//! inside containers against a test DNS server it controls. See README.md and DESIGN notes.

pub mod clock;
pub mod probe;
pub mod server;
pub mod stats;
pub mod result;
pub mod trace;
pub mod image;
pub mod profile;
pub mod runtime;
pub mod run;
pub mod report;
pub mod cli;
