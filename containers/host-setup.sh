#!/usr/bin/env bash
# Installs what resolvbench needs on a Debian 12 host (debootstrap for debian slim images, podman
# for --engine podman; containers/build-probe.sh installs the musl toolchain on first use) (run as root; idempotent, quick when
# everything is there). Used by README's main command and by .ci/run.
set -euo pipefail

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v docker >/dev/null || need+=(docker.io)
command -v podman >/dev/null || need+=(podman)
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
