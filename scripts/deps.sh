#!/usr/bin/env bash
# Installs what Ember needs on a Debian machine, idempotently, and fetches the source packages of
# lwIP 2.1.3, busybox and musl into third_party/ (git-ignored). Takes seconds when all is there.
# Only Debian packages; no other downloads (see DESIGN.md, "Dependencies").
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

# command -> package that provides it
need=(
  "riscv64-unknown-elf-gcc:gcc-riscv64-unknown-elf"
  "riscv64-linux-gnu-gcc:gcc-riscv64-linux-gnu"
  "qemu-system-riscv64:qemu-system-misc"
  "qemu-riscv64-static:qemu-user-static"
  "pytest-3:python3-pytest"
  "iperf3:iperf3"
  "ip:iproute2"
  "nc:netcat-openbsd"
  "dpkg-source:dpkg-dev"
  "cpio:cpio"
  "sfdisk:fdisk"
  "sgdisk:gdisk"
  "bzip2:bzip2"
  "xz:xz-utils"
  "file:file"                        # the disk tests check that busybox is a static RISC-V ELF
)
# files -> package
need_files=(
  "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin:opensbi"
  "/usr/riscv64-linux-gnu/lib/libc.a:libc6-dev-riscv64-cross"
  "/sbin/debugfs:e2fsprogs"          # mkfs.ext4, e2fsck, debugfs: the ext4 tests' oracle
)

missing=()
for pair in "${need[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
for pair in "${need_files[@]}"; do
  [ -e "${pair%%:*}" ] || missing+=("${pair##*:}")
done

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
updated=0
apt_update() { [ $updated -eq 1 ] || { $sudo apt-get update -qq; updated=1; }; }

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  apt_update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Source entries: copy the Debian deb822 entries with the type changed to deb-src when none exist.
ensure_deb_src() {
  if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deps: adding deb-src entries copied from the Debian entries"
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -e "$f" ] || continue
      grep -q 'debian' "$f" || continue
      sed 's/^Types: deb$/Types: deb-src/' "$f" | $sudo tee "/etc/apt/sources.list.d/ember-src-$(basename "$f")" >/dev/null
    done
    if [ -f /etc/apt/sources.list ]; then
      grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' | $sudo tee /etc/apt/sources.list.d/ember-src.list >/dev/null || true
    fi
    updated=0
  fi
}

# fetch_source PACKAGE DIR: Debian's source package PACKAGE (apt-get source, patches applied by
# dpkg-source) unpacked as third_party/DIR, replacing whatever was there.
fetch_source() {
  local pkg=$1 dest="$here/third_party/$2" tmp
  ensure_deb_src
  apt_update
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get source -qq --download-only "$pkg" >/dev/null 2>&1 &&
     dpkg-source -x --no-check "$pkg"_*.dsc "$pkg" >/dev/null)
  rm -rf "$dest"; mkdir -p "$here/third_party"; mv "$tmp/$pkg" "$dest"; rm -rf "$tmp"
}

# lwIP 2.1.3 source, unpacked under third_party/lwip.
lwip="$here/third_party/lwip"
if [ ! -f "$lwip/src/core/tcp.c" ]; then
  fetch_source lwip lwip
  grep -q 'LWIP_VERSION_MINOR *1' "$lwip/src/include/lwip/init.h" || echo "deps: warning: lwIP is not 2.1.x"
fi

# The userland's sources (DESIGN.md, "Dependencies"): busybox and musl, cross-built by the Makefile
# (user/busybox.mk, user/musl.mk) into build/.
[ -f "$here/third_party/busybox/Makefile" ] || { echo "deps: fetching busybox source"; fetch_source busybox busybox; }
[ -f "$here/third_party/musl/configure" ] || { echo "deps: fetching musl source"; fetch_source musl musl; }
exit 0
