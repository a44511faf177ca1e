//! The docker (or podman) CLI, every call bounded by a deadline.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::process::{Finished, run_to_end, run_with_deadline};

/// Label on everything a run creates: `resolvbench.run=<run id>`.
pub const RUN_LABEL: &str = "resolvbench.run";

const QUICK: Duration = Duration::from_secs(60);
const BUILD: Duration = Duration::from_secs(900);

#[derive(Clone, Debug)]
pub struct Engine {
    pub program: String,
    /// Environment for every call (podman's CONTAINERS_CONF).
    env: Vec<(String, String)>,
}

/// How to start one container. Hardened by default: nonroot, read-only, no capabilities.
#[derive(Clone, Debug, Default)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub network: String,
    pub hostname: String,
    pub labels: Vec<(String, String)>,
    /// (host path, container path, read-only)
    pub mounts: Vec<(PathBuf, String, bool)>,
    pub sysctls: Vec<String>,
    pub command: Vec<String>,
}

impl Engine {
    pub fn new(program: &str) -> Engine {
        let env = if program.ends_with("podman") {
            podman_conf()
                .map(|p| vec![("CONTAINERS_CONF".to_string(), p)])
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Engine {
            program: program.to_string(),
            env,
        }
    }

    /// The name of an image built here: podman resolves unqualified names against registries,
    /// so its local images are named localhost/...; docker's are left as they are.
    pub fn local_name(&self, name: &str) -> String {
        if self.program.ends_with("podman") && !name.starts_with("localhost/") {
            format!("localhost/{name}")
        } else {
            name.to_string()
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    fn call(&self, args: &[&str], timeout: Duration) -> Result<Finished> {
        run_with_deadline(self.command().args(args), timeout)
            .with_context(|| format!("{} {}", self.program, args.first().unwrap_or(&"")))
    }

    /// A call that a signal does not cut short: cleanup.
    fn cleanup_call(&self, args: &[&str]) -> Result<String> {
        self.succeeded(args, run_to_end(self.command().args(args), QUICK)?)
    }

    /// Runs a command that must succeed; its error is the CLI's last stderr line.
    fn ok(&self, args: &[&str], timeout: Duration) -> Result<String> {
        self.succeeded(args, self.call(args, timeout)?)
    }

    fn succeeded(&self, args: &[&str], f: Finished) -> Result<String> {
        if !f.status.success() {
            bail!(
                "{} {}: {}",
                self.program,
                args.join(" "),
                f.last_error_line()
            );
        }
        Ok(f.stdout)
    }

    /// The engine's server version, or one clear error if it is not there or not running.
    pub fn check(&self) -> Result<String> {
        let version_format = if self.program.ends_with("podman") {
            "{{.Version}}"
        } else {
            "{{.Server.Version}}"
        };
        let f = run_with_deadline(
            self.command().args(["version", "--format", version_format]),
            Duration::from_secs(20),
        )
        .map_err(|e| anyhow::anyhow!("{} is not usable: {e:#}", self.program))?;
        if !f.status.success() {
            bail!(
                "{} is not running or not reachable (is the daemon up, and may this user use its socket?): {}",
                self.program,
                f.last_error_line()
            );
        }
        Ok(f.stdout.trim().to_string())
    }

    pub fn image_exists(&self, tag: &str) -> bool {
        self.call(&["image", "inspect", "--format", "{{.Id}}", tag], QUICK)
            .is_ok_and(|f| f.status.success())
    }

    /// Is there an image named exactly `reference`? Not `image_exists`: podman resolves a short
    /// name such as debian:trixie-slim to any local .../debian:trixie-slim, which would pass
    /// an offline equivalent off as the registry image.
    pub fn has_image_named(&self, reference: &str) -> bool {
        let Ok(out) = self.ok(
            &[
                "image",
                "inspect",
                "--format",
                "{{json .RepoTags}}",
                reference,
            ],
            QUICK,
        ) else {
            return false;
        };
        let tags: Vec<String> = serde_json::from_str(out.trim()).unwrap_or_default();
        let normal = |t: &str| {
            t.trim_start_matches("docker.io/library/")
                .trim_start_matches("docker.io/")
                .to_string()
        };
        tags.iter().any(|t| normal(t) == normal(reference))
    }

    /// An image's label value, if set.
    pub fn image_label(&self, tag: &str, label: &str) -> Option<String> {
        let fmt = format!("{{{{index .Config.Labels \"{label}\"}}}}");
        let out = self
            .ok(&["image", "inspect", "--format", &fmt, tag], QUICK)
            .ok()?;
        let v = out.trim();
        (!v.is_empty() && v != "<no value>").then(|| v.to_string())
    }

    /// "linux/amd64" and the like.
    pub fn image_platform(&self, tag: &str) -> Result<String> {
        let out = self.ok(
            &[
                "image",
                "inspect",
                "--format",
                "{{.Os}}/{{.Architecture}}",
                tag,
            ],
            QUICK,
        )?;
        Ok(out.trim().to_string())
    }

    /// Every path in an image's filesystem (`docker export | tar -t` of a created container).
    pub fn list_files(&self, tag: &str) -> Result<Vec<String>> {
        let name = format!("resolvbench-inspect-{}", std::process::id());
        let _ = self.call(&["rm", "-f", &name], QUICK);
        // A command is needed for images without CMD or ENTRYPOINT; it never runs.
        self.ok(
            &[
                "create",
                "--name",
                &name,
                "--entrypoint",
                "/resolvbench-never-runs",
                tag,
            ],
            QUICK,
        )?;
        let listing = run_with_deadline(
            Command::new("sh")
                .args(["-c", &format!("{} export {name} | tar -t", self.program)])
                .envs(self.env.iter().map(|(k, v)| (k, v))),
            BUILD,
        );
        let _ = self.call(&["rm", "-f", &name], QUICK);
        let listing = listing?;
        if !listing.status.success() {
            bail!(
                "cannot list the files of image {tag}: {}",
                listing.last_error_line()
            );
        }
        Ok(listing.stdout.lines().map(str::to_string).collect())
    }

    /// Every tag of a repository in the local store.
    pub fn image_tags(&self, repository: &str) -> Result<Vec<String>> {
        let out = self.ok(
            &["images", "--format", "{{.Repository}}:{{.Tag}}", repository],
            QUICK,
        )?;
        Ok(out.lines().map(str::to_string).collect())
    }

    pub fn remove_image(&self, tag: &str) -> Result<()> {
        self.ok(&["rmi", tag], QUICK).map(drop)
    }

    pub fn pull(&self, reference: &str) -> Result<()> {
        self.ok(&["pull", "--quiet", reference], BUILD).map(drop)
    }

    /// Imports a rootfs tarball as an image with labels.
    pub fn import(&self, tarball: &Path, tag: &str, labels: &[(String, String)]) -> Result<()> {
        let changes: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("LABEL {k}=\"{v}\""))
            .collect();
        let mut args = vec!["import".to_string()];
        for c in &changes {
            args.extend(["--change".into(), c.clone()]);
        }
        args.extend([tarball.display().to_string(), tag.to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.ok(&args, BUILD).map(drop)
    }

    pub fn build(
        &self,
        context: &Path,
        dockerfile: &Path,
        tag: &str,
        build_args: &[(&str, &str)],
    ) -> Result<()> {
        let mut args = vec![
            "build".to_string(),
            "--quiet".into(),
            "-t".into(),
            tag.into(),
        ];
        args.extend(["-f".into(), dockerfile.display().to_string()]);
        for (k, v) in build_args {
            args.extend(["--build-arg".into(), format!("{k}={v}")]);
        }
        args.push(context.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.ok(&args, BUILD).map(drop)
    }

    /// A private network that reaches nothing else (--internal). podman 4.3 with netavark
    /// drops traffic between containers on an --internal network (measured: no query reached
    /// the server), so under podman it is an isolated bridge without podman's DNS instead.
    pub fn create_network(&self, name: &str, run_id: &str) -> Result<()> {
        let label = format!("{RUN_LABEL}={run_id}");
        let mut args = vec!["network", "create", "--label", &label];
        if self.program.ends_with("podman") {
            args.extend(["--disable-dns", "-o", "isolate=true"]);
        } else {
            args.push("--internal");
        }
        args.push(name);
        self.ok(&args, QUICK).map(drop)
    }

    fn run_args(&self, spec: &ContainerSpec, detach: bool) -> Vec<String> {
        let mut a: Vec<String> = vec!["run".into()];
        if detach {
            a.push("-d".into());
        }
        a.extend([
            "--name".into(),
            spec.name.clone(),
            "--network".into(),
            spec.network.clone(),
        ]);
        // A hostname without dots: hickory would otherwise search its "domain" part first.
        a.extend(["--hostname".into(), spec.hostname.clone()]);
        // The posture of every container a run starts (distroless :nonroot conventions).
        a.extend(
            [
                "--user=65532:65532",
                "--read-only",
                "--cap-drop=ALL",
                "--security-opt=no-new-privileges",
                "--memory=512m",
                "--pids-limit=256",
            ]
            .map(String::from),
        );
        for (k, v) in &spec.labels {
            a.extend(["--label".into(), format!("{k}={v}")]);
        }
        for (host, inside, ro) in &spec.mounts {
            let mode = if *ro { ":ro" } else { "" };
            a.extend(["-v".into(), format!("{}:{inside}{mode}", host.display())]);
        }
        for s in &spec.sysctls {
            a.extend(["--sysctl".into(), s.clone()]);
        }
        a.push(spec.image.clone());
        a.extend(spec.command.iter().cloned());
        a
    }

    pub fn run_detached(&self, spec: &ContainerSpec) -> Result<()> {
        let args = self.run_args(spec, true);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.ok(&args, QUICK).map(drop)
    }

    /// Runs a container to its end; past `timeout` it is killed (and the error says so).
    pub fn run_attached(&self, spec: &ContainerSpec, timeout: Duration) -> Result<Finished> {
        let args = self.run_args(spec, false);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let result = self.call(&args, timeout);
        if result.is_err() {
            // Killing the client does not stop the container.
            let _ = self.cleanup_call(&["rm", "-f", &spec.name]);
        }
        result
    }

    pub fn container_ip(&self, name: &str) -> Result<IpAddr> {
        let out = self.ok(
            &[
                "inspect",
                "--format",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                name,
            ],
            QUICK,
        )?;
        let ip = out.split_whitespace().next().unwrap_or_default();
        ip.parse()
            .with_context(|| format!("container {name} has no IP address ({out:?})"))
    }

    pub fn is_running(&self, name: &str) -> bool {
        self.ok(&["inspect", "--format", "{{.State.Running}}", name], QUICK)
            .is_ok_and(|s| s.trim() == "true")
    }

    pub fn logs(&self, name: &str) -> String {
        self.call(&["logs", name], QUICK)
            .map(|f| format!("{}{}", f.stdout, f.stderr))
            .unwrap_or_default()
    }

    pub fn remove_container(&self, name: &str) -> Result<()> {
        self.cleanup_call(&["rm", "-f", name]).map(drop)
    }

    /// Removes every container and network labelled with this run id; returns how many.
    pub fn remove_run(&self, run_id: &str) -> Result<(usize, usize)> {
        self.remove_labelled(&format!("label={RUN_LABEL}={run_id}"))
    }

    /// Removes what any run left behind (a crashed or killed one): `resolvbench clean`.
    pub fn remove_all_runs(&self) -> Result<(usize, usize)> {
        self.remove_labelled(&format!("label={RUN_LABEL}"))
    }

    fn remove_labelled(&self, filter: &str) -> Result<(usize, usize)> {
        let containers = self.cleanup_call(&["ps", "-aq", "--filter", filter])?;
        let containers: Vec<&str> = containers.split_whitespace().collect();
        if !containers.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(&containers);
            self.cleanup_call(&args)?;
        }
        let networks = self.cleanup_call(&["network", "ls", "-q", "--filter", filter])?;
        let networks: Vec<&str> = networks.split_whitespace().collect();
        if !networks.is_empty() {
            let mut args = vec!["network", "rm"];
            args.extend(&networks);
            self.cleanup_call(&args)?;
        }
        Ok((containers.len(), networks.len()))
    }
}

/// podman 4.3 asks runc for nofile=1048576 and more, over this host's hard limits, and every
/// `run` fails ("error setting rlimit"). A containers.conf of resolvbench's own (CONTAINERS_CONF)
/// sets the defaults to the host's hard limits instead.
fn podman_conf() -> Option<String> {
    let hard = |resource| {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills the struct we own.
        unsafe { libc::getrlimit(resource, &mut r) };
        // Not the hard limit itself: runc failed with nproc at the hard limit and passed below it.
        r.rlim_max.min(16384)
    };
    let (nofile, nproc) = (hard(libc::RLIMIT_NOFILE), hard(libc::RLIMIT_NPROC));
    let path = crate::image::offline::work_dir().join("podman-containers.conf");
    std::fs::create_dir_all(path.parent()?).ok()?;
    let conf = format!(
        "[containers]\ndefault_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc={nproc}:{nproc}\"]\n"
    );
    std::fs::write(&path, conf).ok()?;
    Some(path.display().to_string())
}
