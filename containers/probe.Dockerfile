# The probe image: a base image plus the resolvbench build that matches its libc
# (glibc-dynamic for debian slim and distroless cc, musl-dynamic for Alpine, musl-static for
# distroless static and scratch). resolvbench builds this same file FROM its offline
# equivalents; with a registry, build it FROM the real image:
#
#   docker build -f containers/probe.Dockerfile --build-arg BASE=debian:trixie-slim \
#       --build-arg PROBE=resolvbench -t resolvbench-probe:debian DIR_WITH_THE_BINARY
#
# Runs as distroless's nonroot user (65532): it binds no port, so it needs no capability.
ARG BASE=debian:trixie-slim
FROM ${BASE}
ARG PROBE=resolvbench
COPY ${PROBE} /usr/local/bin/resolvbench
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/resolvbench"]
