#!/usr/bin/env bash
# Installs what resolvbench needs on a Debian 12 host (run as root; idempotent, quick when
# everything is there): debootstrap for the debian slim images, podman for --engine podman,
# chromium (+ a font) to check the HTML report, dnsperf and dnsmasq for `resolvbench bench`.
# containers/build-probe.sh installs the musl toolchain on first use. Used by README's commands
# and by .ci/run.
set -euo pipefail

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v docker >/dev/null || need+=(docker.io)
command -v podman >/dev/null || need+=(podman)
command -v chromium >/dev/null || need+=(chromium fonts-dejavu-core)
command -v dnsperf >/dev/null || need+=(dnsperf)
# dnsmasq-base: the binary only; the dnsmasq package would start a system service on port 53.
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
if ((${#need[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The Docker Engine must be running (resolvbench itself gives one clear error if it is not).
if ! docker info >/dev/null 2>&1; then
    (service docker start || systemctl start docker || (dockerd >/var/log/dockerd.log 2>&1 &)) >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
