#!/usr/bin/env bash
# Builds a local copy of the judge's sdcard-rv.img (`make contest`, tools/contest/README.md).
#
# Layout as ../shared/oscomp/suite/Makefile makes it: at the image's root /musl and /glibc, each with
# the groups' programs and scripts, lib/ (glibc: ld-linux-riscv64-lp64d.so.1, libc.so.6, libm.so.6;
# musl: libc.so), the *_testcode.sh scripts with their group markers renamed <group>-<libc>. Raw
# ext4 made by mkfs.ext4 with its default features, no partition table (mkfs.ext4 -d, so no root
# and no loop mount are needed).
#
# Sources, all Debian's (nothing else is downloaded):
#   basic      the suite's own sources (suite/basic/user), with riscv64-linux-gnu-gcc for glibc and
#              the project's musl-gcc (user/musl.mk) as riscv64-linux-musl-gcc for musl
#   busybox    Debian's busybox source (third_party/busybox, scripts/deps.sh) with the suite's
#              config/busybox-config-riscv64, static, once per libc
#   lua        Debian's lua5.4 source package (apt-get source), static, once per libc
#   glibc lib  libc6-riscv64-cross (/usr/riscv64-linux-gnu/lib); musl lib: the project's musl build
#   iperf3, netperf, netserver: the mirror has no iperf3 3.13 or netperf source (iperf3 3.12's
#              orig tarball is missing too), so the static binaries of
#              ../shared/anchors/linux-guest/bin serve, in both trees (the target says so)
# Groups whose sources the mirror lacks are left out (see the summary printed at the end).
#
# Usage: build-sdcard.sh OUT_IMG   (run from the repository root; work files in build/contest/)
set -euo pipefail
root=$(pwd)
out_img=${1:-build/contest/sdcard-rv.img}
shared=""
for d in "$root/../shared" "$root/../../shared"; do
	[ -d "$d/oscomp/suite" ] && { shared=$(cd "$d" && pwd); break; }
done
if [ -z "$shared" ]; then
	echo "contest: ../shared/oscomp is absent: no suite to build the sdcard from; stopping." >&2
	exit 2
fi
suite=$shared/oscomp/suite
anchors=$shared/anchors/linux-guest/bin
work=$root/build/contest
src=$root/third_party/src-contest
jobs=${JOBS:-2}
mkdir -p "$work" "$src"
log() { echo "  CONTEST $*"; }

# --- toolchains -----------------------------------------------------------------------------------
# riscv64-linux-musl-* : the project's musl-gcc wrapper, and binutils of the glibc cross toolchain;
# kernel headers (linux/, asm/, asm-generic/) visible to musl builds through an extra -isystem dir.
make -s musl >/dev/null
tb=$work/toolbin
mkdir -p "$tb" "$work/kheaders"
for h in linux asm asm-generic mtd; do
	[ -e "/usr/riscv64-linux-gnu/include/$h" ] && ln -sfn "/usr/riscv64-linux-gnu/include/$h" "$work/kheaders/$h"
done
cat > "$tb/riscv64-linux-musl-gcc" <<EOF
#!/bin/sh
exec "$root/build/musl/musl-gcc" "\$@" -isystem "$work/kheaders"
EOF
chmod +x "$tb/riscv64-linux-musl-gcc"
for t in objcopy objdump ranlib ar strip ld nm; do
	ln -sfn "$(command -v riscv64-linux-gnu-$t)" "$tb/riscv64-linux-musl-$t"
done
export PATH=$tb:$PATH
declare -A CCOF=([glibc]=riscv64-linux-gnu-gcc [musl]=riscv64-linux-musl-gcc)
declare -A PREFIXOF=([glibc]=riscv64-linux-gnu- [musl]=riscv64-linux-musl-)

# --- sources of Debian source packages --------------------------------------------------------------
fetch_src() {   # fetch_src PACKAGE DIR
	[ -d "$src/$2" ] && return 0
	log "apt-get source $1"
	local tmp; tmp=$(mktemp -d)
	if (cd "$tmp" && apt-get source -qq --download-only "$1" >/dev/null 2>&1 &&
	    dpkg-source -x --no-check "$1"_*.dsc "$2" >/dev/null 2>&1); then
		mv "$tmp/$2" "$src/$2"
	fi
	rm -rf "$tmp"
	[ -d "$src/$2" ]
}
[ -f third_party/busybox/Makefile ] || bash scripts/deps.sh

status=()   # lines of the summary: group: how it was made / why it is missing

# --- per-libc trees ---------------------------------------------------------------------------------
sd=$work/sdcard
rm -rf "$sd"
for libc in musl glibc; do
	t=$sd/$libc
	mkdir -p "$t/lib"
	cc=${CCOF[$libc]}

	# basic: the suite's cmake build writes into its source tree: build a copy
	b=$work/basic-$libc
	if [ ! -x "$b/build/riscv64/brk" ]; then
		rm -rf "$b" && cp -r "$suite/basic/user" "$b" && chmod -R u+w "$b"
		log "basic ($libc)"
		make -C "$b" all CHAPTER=7 ARCH=riscv64 PREFIX=${PREFIXOF[$libc]} > "$work/basic-$libc.log" 2>&1 ||
			{ tail -20 "$work/basic-$libc.log"; exit 1; }
	fi
	mkdir -p "$t/basic" && cp -r "$b/build/riscv64/." "$t/basic/"
	cp "$suite/scripts/basic/basic_testcode.sh" "$t/"

	# busybox: Debian's source with the suite's config, static
	bo=$work/busybox-$libc
	if [ ! -x "$bo/busybox" ]; then
		log "busybox ($libc, log $bo/build.log)"
		mkdir -p "$bo"
		cp "$suite/config/busybox-config-riscv64" "$bo/.config"
		bbmake() { make -s -C "$root/third_party/busybox" O="$bo" CC="$cc -static" \
			CROSS_COMPILE=riscv64-linux-gnu- KCONFIG_NOTIMESTAMP=1 "$@"; }
		{ bbmake oldconfig < <(yes "") && bbmake -j"$jobs" busybox; } > "$bo/build.log" 2>&1 ||
			{ grep -B2 -A6 -m5 error "$bo/build.log" | head -60; exit 1; }
	fi
	cp "$bo/busybox" "$t/busybox"
	cp "$suite/scripts/busybox/"* "$t/"

	# lua: Debian's lua5.4 source, every file but luac.c, static
	if fetch_src lua5.4 lua5.4; then
		lo=$work/lua-$libc
		if [ ! -x "$lo/lua" ]; then
			log "lua ($libc)"
			mkdir -p "$lo"
			# the header debian/rules writes before building (luaconf.h includes it)
			printf '#ifndef _LUA_DEB_MULTIARCH_\n#define _LUA_DEB_MULTIARCH_\n#define DEB_HOST_MULTIARCH "riscv64-linux-gnu"\n#endif\n' \
				> "$lo/lua5.4-deb-multiarch.h"
			srcs=$(ls "$src/lua5.4/src/"*.c | grep -v '/luac\.c$')
			$cc -static -std=gnu99 -O2 -DLUA_USE_POSIX -I"$lo" -o "$lo/lua" $srcs -lm > "$lo/build.log" 2>&1 ||
				{ tail -20 "$lo/build.log"; exit 1; }
		fi
		cp "$lo/lua" "$t/lua"
		cp "$suite/scripts/lua/"* "$t/"
		[ $libc = glibc ] && status+=("lua: Debian lua5.4 $(cd "$src/lua5.4" && dpkg-parsechangelog -S Version 2>/dev/null), static")
	else
		[ $libc = glibc ] && status+=("lua: NOT BUILT (apt-get source lua5.4 failed)")
	fi

	# iperf3, netperf/netserver: sources missing from the mirror; the anchors' static binaries
	if [ -x "$anchors/iperf3" ]; then
		cp "$anchors/iperf3" "$t/iperf3"
		cp "$suite/scripts/iperf/"* "$t/"
	fi
	if [ -x "$anchors/netperf" ] && [ -x "$anchors/netserver" ]; then
		cp "$anchors/netperf" "$anchors/netserver" "$t/"
		cp "$suite/scripts/netperf/"* "$t/"
	fi

	# libraries
	if [ $libc = glibc ]; then
		for f in libc.so.6 libm.so.6 ld-linux-riscv64-lp64d.so.1; do
			cp -L "/usr/riscv64-linux-gnu/lib/$f" "$t/lib/"
		done
	else
		cp -L "$root/build/musl/root/lib/libc.so" "$t/lib/libc.so"
	fi

	# group markers renamed <group>-<libc>, as the suite's Makefile does
	sed -E -i "s/#### OS COMP TEST GROUP ([^ ]+) ([^ ]+) ####/#### OS COMP TEST GROUP \1 \2-$libc ####/g" \
		"$t/"*_testcode.sh
	chmod +x "$t/"*.sh "$t/busybox"
done

status=("basic: suite/basic/user, riscv64-linux-gnu-gcc $(riscv64-linux-gnu-gcc -dumpversion) (glibc) / project musl $(cat third_party/musl/VERSION) (musl)"
	"busybox: Debian busybox $(cd third_party/busybox && dpkg-parsechangelog -S Version 2>/dev/null || echo '?'), suite config, static"
	"${status[@]}"
	"iperf: source missing from the package mirror (iperf3 3.13 absent; 3.12's orig tarball 404): ../shared/anchors/linux-guest/bin/iperf3 (static 3.12) serves"
	"netperf: no netperf source package in the mirror: ../shared/anchors/linux-guest/bin/netperf, netserver (static 2.7.0) serve"
	"cyclictest: NOT BUILT (rt-tests 2.4 source: orig tarball missing from the mirror)"
	"libctest, iozone, unixbench, libcbench, lmbench, ltp: NOT BUILT (no source package in the mirror)")

# --- the image ----------------------------------------------------------------------------------------
mkfs=$(command -v mkfs.ext4 || echo /sbin/mkfs.ext4)
size_mb=$(( $(du -sm "$sd" | cut -f1) * 2 + 64 ))
rm -f "$out_img"
"$mkfs" -q -F -d "$sd" "$out_img" "${size_mb}M"
log "image $out_img (${size_mb} MiB)"
for s in "${status[@]}"; do echo "  contest: $s"; done
