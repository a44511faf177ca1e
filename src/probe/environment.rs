//! What the probe is running on: hostname, uid, kernel, and the libc really in use.

use crate::result::{LibcInfo, ProbeBuild, ProbeEnvironment};

pub fn build() -> ProbeBuild {
    ProbeBuild {
        version: env!("CARGO_PKG_VERSION").into(),
        flavour: flavour().into(),
        target: format!("{}-linux-{}", std::env::consts::ARCH, target_env()),
    }
}

pub fn flavour() -> &'static str {
    if cfg!(target_env = "gnu") {
        "glibc-dynamic"
    } else if cfg!(target_feature = "crt-static") {
        "musl-static"
    } else {
        "musl-dynamic"
    }
}

fn target_env() -> &'static str {
    if cfg!(target_env = "gnu") {
        "gnu"
    } else {
        "musl"
    }
}

pub fn environment(resolv_conf: String) -> ProbeEnvironment {
    ProbeEnvironment {
        hostname: hostname(),
        // SAFETY: getuid cannot fail.
        uid: unsafe { libc::getuid() },
        kernel: kernel(),
        libc: libc_info(),
        root_fs_writable: root_fs_writable(),
        capabilities: std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:").map(|v| v.trim().to_string()))
            .unwrap_or_else(|| "unknown".into()),
        resolv_conf,
    }
}

fn root_fs_writable() -> bool {
    let path = format!("/.resolvbench-write-test-{}", std::process::id());
    let writable = std::fs::write(&path, b"").is_ok();
    let _ = std::fs::remove_file(&path);
    writable
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is ours and its length is passed.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn kernel() -> String {
    // SAFETY: utsname is plain data, filled by uname.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer.
    if unsafe { libc::uname(&mut u) } != 0 {
        return "unknown".into();
    }
    // SAFETY: uname NUL-terminates its fields.
    unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(target_env = "gnu")]
fn libc_info() -> LibcInfo {
    // SAFETY: returns a pointer to a static NUL-terminated string.
    let v = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    LibcInfo {
        family: "glibc".into(),
        version: v.to_string_lossy().into_owned(),
        source: "gnu_get_libc_version()".into(),
    }
}

#[cfg(target_env = "musl")]
fn libc_info() -> LibcInfo {
    if cfg!(target_feature = "crt-static") {
        // A static binary carries the musl it was linked with; the build records its version.
        return LibcInfo {
            family: "musl".into(),
            version: option_env!("RESOLVBENCH_MUSL_VERSION")
                .unwrap_or("unknown")
                .into(),
            source: "linked statically at build time".into(),
        };
    }
    // musl has no version call; its dynamic loader prints "Version X" when run directly.
    let loader = "/lib/ld-musl-x86_64.so.1";
    let version = std::process::Command::new(loader)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .find_map(|l| l.strip_prefix("Version ").map(str::to_string))
        })
        .unwrap_or_else(|| "unknown".into());
    LibcInfo {
        family: "musl".into(),
        version,
        source: format!("{loader} (the image's dynamic loader)"),
    }
}
