# Ember build. `make` builds build/kernel.elf (and the test kernel build/kernel-test.elf);
# `make run` boots it on QEMU virt with 4 harts; `make test` runs the whole suite; `make bench`
# measures; `make gdb` starts QEMU halted with a gdb stub.
# Every entry point first runs scripts/deps.sh, which installs what is missing (Debian packages,
# the lwIP source) and returns in milliseconds when all is there.

CROSS    ?= riscv64-unknown-elf-
CC       := $(CROSS)gcc
LD       := $(CROSS)ld
NM       := $(CROSS)nm
OBJCOPY  := $(CROSS)objcopy
QEMU     ?= qemu-system-riscv64
OPENSBI  ?= /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
SMP      ?= 4
MEM      ?= 512M
PYTEST   ?= pytest-3

B := build
ARCHFLAGS := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany
CFLAGS := $(ARCHFLAGS) -std=gnu11 -O2 -g -ffreestanding -nostdlib -fno-common -fno-stack-protector \
	-fno-pie -fno-omit-frame-pointer -Wall -Wextra -Werror -I. -Iinclude/uapi -MMD -MP
ASFLAGS := $(ARCHFLAGS) -g -I. -MMD -MP -DVDSO_SO='"$(abspath build/vdso/vdso.so)"'
LDFLAGS := -nostdlib -static -T arch/riscv/kernel.ld --no-warn-rwx-segments
# lwIP's ICMP error senders go through Linux's rate limits (net/icmp_lwip_err.c says how).
LWIP_WRAP := icmp_dest_unreach icmp_time_exceeded icmp6_dest_unreach icmp6_time_exceeded \
	icmp6_time_exceeded_with_addrs icmp6_param_problem
LDFLAGS += $(addprefix --wrap=,$(LWIP_WRAP))

# lwIP 2.1.3 (third_party/lwip: Debian's source package, fetched by scripts/deps.sh, never committed).
# Only the sources net/lwip/lwipopts.h's configuration uses. They are compiled with the kernel's flags
# minus -Werror/-Wextra (third-party warnings are not ours to fix); our port lives in net/lwip/.
LWIP := third_party/lwip/src
LWIP_SRCS := $(addprefix $(LWIP)/core/,def.c inet_chksum.c init.c ip.c mem.c memp.c netif.c pbuf.c raw.c \
	stats.c sys.c tcp.c tcp_in.c tcp_out.c timeouts.c udp.c) \
	$(addprefix $(LWIP)/core/ipv4/,dhcp.c etharp.c icmp.c ip4.c ip4_addr.c ip4_frag.c) \
	$(addprefix $(LWIP)/core/ipv6/,ethip6.c icmp6.c inet6.c ip6.c ip6_addr.c ip6_frag.c mld6.c nd6.c) \
	$(LWIP)/netif/ethernet.c
CFLAGS += -Inet/lwip -Inet/lwip/compat -I$(LWIP)/include
CFLAGS_3P := $(filter-out -Werror -Wextra,$(CFLAGS))

SRCS := $(sort $(wildcard arch/riscv/*.c arch/riscv/*.S kernel/*.c mm/*.c fs/*.c fs/ext4/*.c lib/*.c block/*.c drivers/*/*.c ipc/*/*.c \
	net/*.c net/lwip/*.c net/unix/*.c net/netlink/*.c)) $(LWIP_SRCS)
# Self-tests, stress generators and monitor commands: only in the test kernel (kernel/init.h, debug_init).
DEBUG_SRCS := $(sort $(wildcard kernel/debug/*.c net/debug/*.c block/debug/*.c))
QEMU_BASE = $(QEMU) -machine virt -smp $(SMP) -m $(MEM) -bios $(OPENSBI) -nographic

.PHONY: all deps lwip-check run test unit systest bench soak fuzz gdb clean kernel-rv
all: $(B)/kernel.elf $(B)/kernel-test.elf $(B)/initramfs.cpio kernel-rv

deps:
	@bash scripts/deps.sh

# After deps ran, a missing lwIP is an error that says what to do (before anything compiles).
lwip-check: | deps
	@test -f $(LWIP)/core/tcp.c -a -f $(LWIP)/include/lwip/opt.h || { \
		echo "error: lwIP 2.1.3 is missing from third_party/lwip: scripts/deps.sh fetches it" \
		"(Debian's lwip source package: apt-get source lwip; needs deb-src entries)"; exit 1; }
$(LWIP_SRCS): | lwip-check

# Two links: the first gives the text addresses, the second embeds them as the symbol table.
# $(1) = objects, $(2) = a scratch directory, $(3) = the output.
define LINK_KERNEL
	@bash scripts/ksyms.sh $(NM) > $(2)/ksyms0.S
	@$(CC) $(ASFLAGS) -c $(2)/ksyms0.S -o $(2)/ksyms0.o
	@$(LD) $(LDFLAGS) -o $(2)/pass1.elf $(1) $(2)/ksyms0.o
	@bash scripts/ksyms.sh $(NM) $(2)/pass1.elf > $(2)/ksyms.S
	@$(CC) $(ASFLAGS) -c $(2)/ksyms.S -o $(2)/ksyms.o
	@echo "  LD    $(3)"
	@$(LD) $(LDFLAGS) -o $(3) $(1) $(2)/ksyms.o
	@$(NM) -n $(2)/pass1.elf | grep ' [tT] ' > $(2)/syms1
	@$(NM) -n $(3) | grep ' [tT] ' > $(2)/syms2
	@cmp -s $(2)/syms1 $(2)/syms2 || { echo "ksyms: text moved between links"; rm -f $(3); exit 1; }
endef

# $(1) = variant name (obj dir suffix), $(2) = extra CFLAGS, $(3) = output elf, $(4) = sources
define KERNEL_template
$(B)/obj$(1)/third_party/%.o: third_party/%.c | deps lwip-check
	@mkdir -p $$(dir $$@)
	@echo "  CC$(1)  $$<"
	@$$(CC) $$(CFLAGS_3P) $(2) -c $$< -o $$@
$(B)/obj$(1)/%.o: %.c | deps lwip-check
	@mkdir -p $$(dir $$@)
	@echo "  CC$(1)  $$<"
	@$$(CC) $$(CFLAGS) $(2) -c $$< -o $$@
$(B)/obj$(1)/%.o: %.S | deps
	@mkdir -p $$(dir $$@)
	@echo "  AS$(1)  $$<"
	@$$(CC) $$(ASFLAGS) $(2) -c $$< -o $$@
OBJS$(1) := $$(patsubst %,$(B)/obj$(1)/%.o,$$(basename $(4)))
-include $$(OBJS$(1):.o=.d)

$(3): $$(OBJS$(1)) arch/riscv/kernel.ld scripts/ksyms.sh
	$$(call LINK_KERNEL,$$(OBJS$(1)),$(B)/obj$(1),$$@)
endef

# The vDSO (arch/riscv/vdso/): a shared object built with the user toolchain, embedded by vdso_blob.S.
$(B)/vdso/vdso.so: arch/riscv/vdso/vdso.c arch/riscv/vdso/vdso_data.h arch/riscv/vdso/vdso.lds | deps
	@mkdir -p $(dir $@)
	@echo "  VDSO  $@"
	@$(UCC) -I. -O2 -fPIC -fno-stack-protector -fno-asynchronous-unwind-tables -nostdlib -shared \
		-Wall -Wextra -Werror -Wl,-T,arch/riscv/vdso/vdso.lds -Wl,--hash-style=both \
		-Wl,-soname=linux-vdso.so.1 -Wl,--build-id=none -o $@ $<
$(B)/obj/arch/riscv/vdso_blob.o $(B)/obj-test/arch/riscv/vdso_blob.o: $(B)/vdso/vdso.so

$(eval $(call KERNEL_template,,,$(B)/kernel.elf,$(SRCS)))
$(eval $(call KERNEL_template,-test,-DCONFIG_SELFTEST,$(B)/kernel-test.elf,$(SRCS) $(DEBUG_SRCS)))

# kernel-rv (the OS contest's submission, `make all` at the top): the shipping kernel's objects plus a
# built-in initramfs whose /init is the contest runner (user/contest/runner.c): booted with no
# -initrd it mounts the judge's sdcard and runs its test groups (README.md, Contest).
$(B)/obj-rv/builtin_initramfs.o: $(B)/contest-initramfs.cpio
	@mkdir -p $(dir $@)
	@printf '\t.section .builtin_initramfs,"a"\n\t.incbin "%s"\n' $(abspath $<) > $(B)/obj-rv/builtin_initramfs.S
	@$(CC) $(ASFLAGS) -c $(B)/obj-rv/builtin_initramfs.S -o $@
$(B)/contest-initramfs.cpio: $(B)/user/contest/runner
	@rm -rf $(B)/contest-root && mkdir -p $(B)/contest-root/lib $(B)/contest-root/mnt $(B)/contest-root/tmp
	@cp $< $(B)/contest-root/init
	@cd $(B)/contest-root && find . | LC_ALL=C sort | cpio -o -H newc --quiet > ../contest-initramfs.cpio
$(B)/kernel-rv: $(OBJS) $(B)/obj-rv/builtin_initramfs.o arch/riscv/kernel.ld scripts/ksyms.sh
	$(call LINK_KERNEL,$(OBJS) $(B)/obj-rv/builtin_initramfs.o,$(B)/obj-rv,$@)
kernel-rv: $(B)/kernel-rv
	@cp $< $@

# make contest [SMP=1|4] (tools/contest/README.md; not part of make test): a local sdcard-rv.img laid
# out as ../shared/oscomp/suite's Makefile does, from Debian's packages, booted with the judge's QEMU
# line (-m 1G for SMP=1, 2G otherwise) and scored by ../shared/oscomp/judge; JSON in bench/results/.
.PHONY: contest
contest: kernel-rv
	@bash tools/contest/build-sdcard.sh $(B)/contest/sdcard-rv.img
	@python3 tools/contest/run.py --kernel kernel-rv --img $(B)/contest/sdcard-rv.img --smp $(SMP)

# User programs: static Linux riscv64 binaries, packed into a newc initramfs.
UCC := riscv64-linux-gnu-gcc
UCFLAGS := -static -O2 -g -Iinclude/uapi -Wall -Wno-stringop-overread -Wno-stringop-overflow -Wno-array-bounds
USER_PROGS := $(B)/user/init $(B)/user/hello $(B)/user/cat $(B)/user/flowstat $(B)/user/nettool
# the system-call fuzzer (issue 17): /bin/sysfuzz; tests/system/test_fuzz.py, make fuzz
USER_PROGS += $(B)/user/fuzz/sysfuzz
USER_TESTS := $(patsubst user/tests/%.c,$(B)/user/tests/%,$(wildcard user/tests/*.c))
USER_BENCH := $(patsubst user/bench/%.c,$(B)/user/bench/%,$(wildcard user/bench/*.c))
# stress programs (/stress/): run inside Ember only, by system tests (not differential)
USER_STRESS := $(patsubst user/stress/%.c,$(B)/user/stress/%,$(wildcard user/stress/*.c))

$(B)/user/%: user/%.c $(wildcard user/tests/*.h user/bench/*.h) include/uapi/ember/netstat.h | deps
	@mkdir -p $(dir $@)
	@echo "  UCC   $<"
	@$(UCC) $(UCFLAGS) -o $@ $< -pthread

# ---- userland: busybox and musl from Debian source packages (user/busybox.mk, user/musl.mk) ----
include user/musl.mk user/busybox.mk
ROOTFS_FILES := $(shell find user/rootfs -type f)
$(B)/user/hello-musl: user/hello.c $(MUSL_GCC)
	@mkdir -p $(dir $@)
	@echo "  MUSLCC $<"
	@$(MUSL_GCC) -static -O2 -o $@ $<


# ---- dynamic linking (kernel/exec.c, kernel/elf.c) ----
# Every user test is also built as a dynamic glibc PIE (/tests-dyn/) and as a dynamic musl PIE
# (/tests-musl/, with user/musl.mk's musl-gcc). glibc's loader and libraries go to /lib
# (Debian's libc6-riscv64-cross; the programs' PT_INTERP is /lib/ld-linux-riscv64-lp64d.so.1), with
# /lib64/lp64d pointing there for binaries built with upstream glibc's default paths.
GLIBC_LIBDIR := /usr/riscv64-linux-gnu/lib
GLIBC_LIBS := ld-linux-riscv64-lp64d.so.1 libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 \
	libresolv.so.2 libutil.so.1 libgcc_s.so.1 libatomic.so.1
UDYNFLAGS := $(filter-out -static,$(UCFLAGS))
USER_TESTS_DYN := $(patsubst user/tests/%.c,$(B)/user/tests-dyn/%,$(wildcard user/tests/*.c))
USER_DYN_PROGS := $(B)/user/dyn/hello
USER_TESTS_MUSL := $(patsubst user/tests/%.c,$(B)/user/tests-musl/%,$(wildcard user/tests/*.c))

$(B)/user/tests-dyn/%: user/tests/%.c $(wildcard user/tests/*.h) include/uapi/ember/netstat.h | deps
	@mkdir -p $(dir $@)
	@echo "  UCC   $< (dynamic)"
	@$(UCC) $(UDYNFLAGS) -o $@ $< -pthread
$(B)/user/dyn/%: user/%.c | deps
	@mkdir -p $(dir $@)
	@echo "  UCC   $< (dynamic)"
	@$(UCC) $(UDYNFLAGS) -o $@ $<
# musl programs see the kernel's uapi headers (linux/, asm/: Debian's linux-libc-dev-riscv64-cross)
# through links of their own, as a musl cross toolchain installs them beside its libc headers.
MUSL_KINC := $(B)/musl/kinc
$(MUSL_KINC)/.stamp: | deps
	@mkdir -p $(MUSL_KINC)
	@for d in linux asm asm-generic mtd rdma sound video xen; do \
		[ -d /usr/riscv64-linux-gnu/include/$$d ] && ln -sfn /usr/riscv64-linux-gnu/include/$$d $(MUSL_KINC)/$$d; done; true
	@touch $@
$(B)/user/tests-musl/%: user/tests/%.c $(wildcard user/tests/*.h) include/uapi/ember/netstat.h $(MUSL_GCC) \
		$(MUSL_KINC)/.stamp | deps
	@mkdir -p $(dir $@)
	@echo "  MUSLCC $<"
	@$(MUSL_GCC) $(UDYNFLAGS) -isystem $(MUSL_KINC) -o $@ $< -pthread

$(B)/initramfs.cpio: $(USER_PROGS) $(USER_TESTS) $(USER_BENCH) $(USER_STRESS) $(BUSYBOX) $(B)/user/hello-musl $(ROOTFS_FILES) \
		$(USER_TESTS_DYN) $(USER_DYN_PROGS) $(USER_TESTS_MUSL)
	@rm -rf $(B)/rootfs && mkdir -p $(B)/rootfs/bin $(B)/rootfs/tests $(B)/rootfs/bench $(B)/rootfs/tmp
	@mkdir -p $(B)/rootfs/lib $(B)/rootfs/lib64 $(B)/rootfs/tests-dyn
	@cp $(addprefix $(GLIBC_LIBDIR)/,$(GLIBC_LIBS)) $(B)/rootfs/lib/
	@ln -s ../lib $(B)/rootfs/lib64/lp64d
	@cp $(USER_TESTS_DYN) $(B)/rootfs/tests-dyn/
	@cp $(B)/user/dyn/hello $(B)/rootfs/bin/hello-dyn
	@mkdir -p $(B)/rootfs/tests-musl && cp $(USER_TESTS_MUSL) $(B)/rootfs/tests-musl/
	@cp $(B)/user/init $(B)/rootfs/init
	@cp $(B)/user/hello $(B)/rootfs/bin/hello
	@cp $(B)/user/flowstat $(B)/rootfs/bin/flowstat
	@cp $(B)/user/nettool $(B)/rootfs/bin/nettool
	@cp $(B)/user/fuzz/sysfuzz $(B)/rootfs/bin/sysfuzz
	@cp $(USER_TESTS) $(B)/rootfs/tests/
	@cp $(USER_BENCH) $(B)/rootfs/bench/
	@mkdir -p $(B)/rootfs/stress && cp $(USER_STRESS) $(B)/rootfs/stress/
	@# busybox: /bin/busybox, every applet a symlink to it (busybox cat replaces user/cat.c's)
	@cp $(BUSYBOX) $(B)/rootfs/bin/busybox
	@while read -r l; do mkdir -p $(B)/rootfs$$(dirname $$l); \
		[ -e $(B)/rootfs$$l ] || ln -s /bin/busybox $(B)/rootfs$$l; done < $(BUSYBOX_OUT)/busybox.links
	@cp -r user/rootfs/. $(B)/rootfs/
	@mkdir -p $(B)/rootfs/root $(B)/rootfs/lib
	@# musl: its loader (libc.so itself) for dynamically linked musl programs; a static musl hello
	@cp $(MUSL_ROOT)/lib/libc.so $(B)/rootfs$(MUSL_LDSO)
	@cp $(B)/user/hello-musl $(B)/rootfs/bin/hello-musl
	@cd $(B)/rootfs && find . | LC_ALL=C sort | cpio -o -H newc --quiet > ../initramfs.cpio
	@echo "  CPIO  $@"

$(B)/virt.dtb: | deps
	@mkdir -p $(B)
	$(QEMU_BASE) -machine virt,dumpdtb=$@ >/dev/null

# /init runs busybox's login shell (/etc/profile) and powers off when it exits.
RUN_APPEND ?= rdinit=/init -- /bin/sh -l
# more QEMU arguments, e.g. a disk: make run RUN_EXTRA="-drive file=IMG,if=none,format=raw,id=d0 -device virtio-blk-device,drive=d0"
RUN_EXTRA ?=
run: $(B)/kernel.elf $(B)/initramfs.cpio
	$(QEMU_BASE) -kernel $< -initrd $(B)/initramfs.cpio -append "$(RUN_APPEND)" $(RUN_EXTRA)

gdb: $(B)/kernel.elf
	@echo "QEMU is halted with a gdb stub on localhost:1234. In another terminal:"
	@echo "  gdb-multiarch $(B)/kernel.elf -ex 'target remote :1234'"
	$(QEMU_BASE) -kernel $< -S -s

unit: $(B)/virt.dtb
	bash tests/unit/run.sh

systest: all
	$(PYTEST) -v --durations=30 tests/system

test: deps
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory systest

bench: all
	python3 bench/run.py

# the soak (tests/system/test_soak.py; not in make test): SECONDS=600 by default
soak: $(B)/kernel.elf $(B)/initramfs.cpio
	SOAK_SECONDS=$(or $(SECONDS),600) $(PYTEST) -v -s tests/system/test_soak.py

# System-call fuzzing campaigns (scripts/fuzz.py; issue 17): SEEDS x SECONDS (300 s each by
# default) inside Ember -smp 4; findings are kept as reproducers in tests/fuzz-corpus/.
SEEDS ?= 1 2 3
fuzz: all
	python3 scripts/fuzz.py --seconds $(or $(SECONDS),300) --seeds $(SEEDS)

clean:
	rm -rf $(B) kernel-rv
