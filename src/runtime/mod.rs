//! Container runtime: the docker CLI (podman shares it). Knows nothing of DNS.

pub mod docker;
pub mod process;
