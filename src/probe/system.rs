//! The system resolver: the libc's getaddrinfo, called through the libc crate with explicit
//! hints, exactly as an application would (Rust's std::net uses SOCK_STREAM and no flags).

use std::ffi::CString;

use serde::{Deserialize, Serialize};

/// The hints passed to getaddrinfo, recorded in every result (AI_ADDRCONFIG, for one, changes
/// whether glibc sends AAAA queries at all in a namespace without an IPv6 address).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Hints {
    pub socktype: String,
    pub protocol: i32,
    pub flags: Vec<String>,
}

impl Hints {
    pub fn new(addrconfig: bool) -> Hints {
        Hints {
            socktype: "SOCK_STREAM".into(),
            protocol: 0,
            flags: if addrconfig {
                vec!["AI_ADDRCONFIG".into()]
            } else {
                Vec::new()
            },
        }
    }

    fn ai_flags(&self) -> libc::c_int {
        self.flags
            .iter()
            .map(|f| {
                if f == "AI_ADDRCONFIG" {
                    libc::AI_ADDRCONFIG
                } else {
                    0
                }
            })
            .fold(0, |a, b| a | b)
    }
}

pub enum Family {
    Unspec,
    Inet,
    Inet6,
}

/// One getaddrinfo call; Ok(number of addresses) or Err(the EAI_* name).
pub fn getaddrinfo(name: &str, family: Family, hints: &Hints) -> Result<u32, String> {
    let name = CString::new(name).map_err(|_| "name contains NUL".to_string())?;
    // SAFETY: addrinfo is a plain C struct; all-zero is its documented "no hints" value.
    let mut h: libc::addrinfo = unsafe { std::mem::zeroed() };
    h.ai_family = match family {
        Family::Unspec => libc::AF_UNSPEC,
        Family::Inet => libc::AF_INET,
        Family::Inet6 => libc::AF_INET6,
    };
    h.ai_socktype = libc::SOCK_STREAM;
    h.ai_protocol = hints.protocol;
    h.ai_flags = hints.ai_flags();
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C string, valid hints, out-pointer we own; freed below on success.
    let rc = unsafe { libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &h, &mut res) };
    if rc != 0 {
        return Err(eai_name(rc));
    }
    let mut count = 0;
    let mut p = res;
    while !p.is_null() {
        count += 1;
        // SAFETY: p walks the list getaddrinfo returned, which stays valid until freeaddrinfo.
        p = unsafe { (*p).ai_next };
    }
    // SAFETY: res came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(res) };
    Ok(count)
}

fn eai_name(rc: libc::c_int) -> String {
    let name = match rc {
        libc::EAI_AGAIN => "EAI_AGAIN",
        libc::EAI_BADFLAGS => "EAI_BADFLAGS",
        libc::EAI_FAIL => "EAI_FAIL",
        libc::EAI_FAMILY => "EAI_FAMILY",
        libc::EAI_MEMORY => "EAI_MEMORY",
        libc::EAI_NONAME => "EAI_NONAME",
        libc::EAI_SERVICE => "EAI_SERVICE",
        libc::EAI_SOCKTYPE => "EAI_SOCKTYPE",
        libc::EAI_SYSTEM => return format!("EAI_SYSTEM({})", std::io::Error::last_os_error()),
        // glibc (with _GNU_SOURCE) and musl both define EAI_NODATA as -5.
        -5 => "EAI_NODATA",
        other => return format!("EAI_{other}"),
    };
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_host_resolves_without_dns_and_errors_have_names() {
        assert_eq!(
            getaddrinfo("127.0.0.1", Family::Inet, &Hints::new(false)),
            Ok(1)
        );
        let err = getaddrinfo("::1", Family::Inet, &Hints::new(false)).unwrap_err();
        assert!(err.starts_with("EAI_"), "{err}");
    }
}
