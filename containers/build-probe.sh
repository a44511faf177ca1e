#!/usr/bin/env bash
# Builds resolvbench for musl on a Debian 12 host (root, idempotent; warm re-runs take seconds).
#   containers/build-probe.sh musl-dynamic OUT   PIE, interpreter /lib/ld-musl-x86_64.so.1, NEEDED only libc
#   containers/build-probe.sh musl-static  OUT   static-pie: no interpreter, no NEEDED
# Route and reasons: shared/notes/musl-build.md (the project notes). rustup here has no musl std and no rust-src, so std
# is rebuilt (-Zbuild-std) with Debian's rustc-web 1.96, linked by gcc against trixie's musl 1.2.5
# (unpacked privately; bookworm's musl specs cannot do static-pie) and LLVM's libunwind (libgcc_eh needs glibc).
# Env: RESOLVBENCH_WORK_DIR (default /var/tmp/resolvbench), RESOLVBENCH_DEBIAN_MIRROR (default: the host's
# .../debian apt source), RESOLVBENCH_LLVM (libunwind-NN-dev, default 22).
set -euo pipefail

die() { echo "build-probe: $*" >&2; exit 1; }
step() { # step NAME CMD...: runs CMD and prints how long it took
    local name=$1 t0=$EPOCHREALTIME; shift
    echo "==> $name"
    "$@"
    echo "<== $name: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
}

(($# == 2)) || die "usage: $0 musl-dynamic|musl-static OUT_FILE"
FLAVOUR=$1 OUT=$2
case $FLAVOUR in
    musl-dynamic) CRT=-crt-static ;;
    musl-static) CRT=+crt-static ;;
    *) die "unknown flavour '$FLAVOUR' (musl-dynamic or musl-static)" ;;
esac
((EUID == 0)) || die "run as root (installs Debian packages)"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${RESOLVBENCH_WORK_DIR:-/var/tmp/resolvbench}
TC=$WORK/musl-toolchain                         # reusable pieces, shared by both flavours
MUSL=$TC/musl                                   # trixie's musl + musl-dev, unpacked
LLVM=${RESOLVBENCH_LLVM:-22}
[[ $WORK == /* && $WORK != *[[:space:]]* ]] || die "RESOLVBENCH_WORK_DIR must be absolute, without spaces (it goes into RUSTFLAGS)"
mkdir -p "$TC"
# One run at a time: both flavours share the toolchain, and two cargo builds would swamp 2 cores.
exec 9>"$WORK/build-probe.lock"
flock 9

host_packages() {
    local pkgs=(rustc-web cargo-web libstd-rust-web-dev rust-web-src "libunwind-$LLVM-dev" binutils gcc) missing=() p
    for p in "${pkgs[@]}"; do
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
    done
    if ((${#missing[@]})); then
        # Refresh the lists only if apt does not know a package (the -web 1.96 ones are in bookworm-security).
        for p in "${missing[@]}"; do
            if ! apt-cache show "$p" >/dev/null 2>&1; then apt-get update -qq; break; fi
        done
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # -Zbuild-std compiles rust-web-src's std with rustc-web: they must be the very same release.
    local v=(); for p in rustc-web rust-web-src libstd-rust-web-dev; do v+=("$(dpkg-query -W -f='${Version}' "$p")"); done
    [[ ${v[0]} == "${v[1]}" && ${v[0]} == "${v[2]}" ]] || die "rustc-web ${v[0]}, rust-web-src ${v[1]}, libstd-rust-web-dev ${v[2]} differ"
    echo "    rustc-web ${v[0]}, libunwind-$LLVM-dev $(dpkg-query -W -f='${Version}' "libunwind-$LLVM-dev")"
}

debian_mirror() { # the host's plain Debian mirror (not -security), from deb822 or one-line sources
    local uri=${RESOLVBENCH_DEBIAN_MIRROR:-}
    [[ -n $uri ]] || uri=$( { sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr -s ' \t' '\n'
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; break } }' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null; } | sed 's#/*$##' | grep -m1 '/debian$' || true)
    [[ -n $uri ]] || die "no .../debian URI in /etc/apt sources; set RESOLVBENCH_DEBIAN_MIRROR"
    echo "${uri%/}"
}

trixie_musl() { # apt-get download with a private APT_CONFIG: the host's sources and state stay untouched
    local a=$TC/apt mirror tmp=$MUSL.tmp deb
    mirror=$(debian_mirror)
    rm -rf "$a" "$tmp"
    mkdir -p "$a"/etc/{apt.conf.d,preferences.d,sources.list.d} "$a"/state/lists/partial "$a"/cache/archives/partial "$a/debs" "$tmp"
    : >"$a/state/status"
    cat >"$a/apt.conf" <<EOF
Dir::Etc "$a/etc";
Dir::State "$a/state";
Dir::State::status "$a/state/status";
Dir::Cache "$a/cache";
Acquire::Languages "none";
EOF
    apt-config dump | grep -iE '^Acquire::[a-z]+::Proxy ' >>"$a/apt.conf" || true # keep a host proxy, if any
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$a/etc/sources.list"
    echo "    mirror $mirror"
    APT_CONFIG=$a/apt.conf apt-get update -qq
    chown _apt "$a/debs" # apt downloads as _apt (else it warns and downloads unsandboxed)
    (cd "$a/debs" && APT_CONFIG=$a/apt.conf apt-get download -qq musl musl-dev)
    for deb in "$a"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp"; done
    deb=$(dpkg-deb -f "$a"/debs/musl-dev_*.deb Version) # e.g. 1.2.5-3.1~deb13u1
    deb=${deb#*:}; echo "${deb%-*}" >"$tmp/musl-version" # upstream part, 1.2.5: what the binary reports
    # The specs file names /usr/{include,lib}/x86_64-linux-musl: point them at the private copy. The
    # -dynamic-linker /lib/ld-musl-x86_64.so.1 stays: it is the path on the target system (Alpine).
    sed -i "s#/usr/\(include\|lib\)/x86_64-linux-musl#$MUSL/usr/\1/x86_64-linux-musl#g" "$tmp/usr/lib/x86_64-linux-musl/musl-gcc.specs"
    ! grep -qE '(^|[ :L])/usr/' "$tmp/usr/lib/x86_64-linux-musl/musl-gcc.specs" || die "unrewritten /usr path in musl-gcc.specs"
    mv "$tmp" "$MUSL"
}

link_pieces() {
    local specs=$MUSL/usr/lib/x86_64-linux-musl/musl-gcc.specs tmp=$TC/lib.tmp
    rm -rf "$tmp" && mkdir -p "$tmp"
    # Only the archive: llvm-NN/lib also has libunwind.so, and the dynamic flavour's plain -lunwind would
    # then add NEEDED libunwind.so.1, which Alpine does not have.
    ln -s "/usr/lib/llvm-$LLVM/lib/libunwind.a" "$tmp/libunwind.a"
    # libunwind.a was built against glibc with _FORTIFY_SOURCE; only its debug logging calls __fprintf_chk.
    cat >"$tmp/fprintf_chk_stub.c" <<'EOF'
#include <stdarg.h>
#include <stdio.h>
__attribute__((weak)) int __fprintf_chk(FILE *f, int flag, const char *fmt, ...) {
    va_list ap; va_start(ap, fmt); int r = vfprintf(f, fmt, ap); va_end(ap); (void)flag; return r;
}
EOF
    gcc -specs="$specs" -O2 -fPIC -c "$tmp/fprintf_chk_stub.c" -o "$tmp/fprintf_chk_stub.o"
    ar rcs "$tmp/libfprintf_chk_stub.a" "$tmp/fprintf_chk_stub.o"
    # rustc's linker: gcc with musl's specs; the stub archive goes last, after -lunwind, which needs it.
    printf '#!/bin/sh\nexec gcc -specs=%s "$@" %s\n' "$specs" "$TC/lib/libfprintf_chk_stub.a" >"$tmp/musl-gcc"
    chmod +x "$tmp/musl-gcc"
    mv "$tmp" "$TC/lib"
}

build() {
    export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$TARGET_DIR RESOLVBENCH_MUSL_VERSION
    export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C link-self-contained=no -C target-feature=$CRT \
-C linker=$TC/lib/musl-gcc -L native=$TC/lib"
    unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS # these would override the target flags
    /usr/bin/cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" --target x86_64-unknown-linux-musl \
        -Zbuild-std=std,panic_abort -Zbuild-std-features=backtrace,panic-unwind,system-llvm-libunwind
}

check() { # check FILE: the ELF shape the flavour promises, from readelf
    local type interp needed n ok=1 want="static-pie, no interpreter, no NEEDED"
    type=$(readelf -h "$1" | awk '$1 == "Type:" { print $2 }')
    interp=$(readelf -l "$1" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
    needed=$(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd' ')
    [[ $type == DYN ]] || ok=0 # PIE and static-pie are both ET_DYN
    if [[ $FLAVOUR == musl-dynamic ]]; then
        want="PIE, interpreter /lib/ld-musl-x86_64.so.1, NEEDED only libc.so or libc.musl-*"
        [[ $interp == /lib/ld-musl-x86_64.so.1 && -n $needed ]] || ok=0
        for n in $needed; do [[ $n == libc.so || $n == libc.musl-* ]] || ok=0; done # e.g. no libgcc_s
    else
        [[ -z $interp && -z $needed ]] || ok=0
    fi
    ((ok)) || die "the $FLAVOUR build fails its check (wanted $want): ELF ${type:-?}, interpreter ${interp:-none}, NEEDED ${needed:-none}"
    echo "    ok: ELF $type, interpreter ${interp:-none}, NEEDED ${needed:-none}"
}

publish() { # strip to a temp file next to OUT, check it, then rename: OUT is never a half or wrong binary
    local tmp; mkdir -p "$(dirname "$OUT")"; tmp=$(mktemp "$OUT.tmp.XXXXXX")
    trap "rm -f '$tmp'" EXIT
    strip -o "$tmp" "$TARGET_DIR/x86_64-unknown-linux-musl/release/resolvbench"
    chmod 755 "$tmp"
    check "$tmp"
    mv -f "$tmp" "$OUT"
    trap - EXIT
    echo "    $OUT: $(stat -c %s "$OUT") bytes"
}

step "host packages" host_packages
if [[ ! -d $MUSL ]]; then step "trixie musl (private apt)" trixie_musl; fi
if [[ ! -d $TC/lib ]]; then step "libunwind, __fprintf_chk stub, gcc wrapper" link_pieces; fi
RESOLVBENCH_MUSL_VERSION=$(cat "$MUSL/musl-version")
TARGET_DIR=$WORK/musl-build/$FLAVOUR/target
step "cargo build $FLAVOUR (musl $RESOLVBENCH_MUSL_VERSION)" build
step "strip, check, publish" publish
