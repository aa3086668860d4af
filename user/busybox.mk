# busybox 1.35 from Debian's source package (third_party/busybox, fetched by scripts/deps.sh),
# cross-built with the glibc toolchain riscv64-linux-gnu-gcc, configured by user/busybox.config
# (kept in the repository; CONFIG_STATIC=y). Output in build/busybox/ (busybox's own O= build dir):
#   build/busybox/busybox        the static binary installed as /bin/busybox in the initramfs
#   build/busybox/busybox.links  the applet paths (/bin/ls ...), made into symlinks to it
# busybox's make runs only when user/busybox.config (or this file) changes, and then recompiles
# just what the changed options touch; a make with nothing to do never enters busybox's tree.
#   make busybox-dynamic         a dynamically linked build (glibc) in build/busybox-dyn/, on demand
BUSYBOX_SRC   := third_party/busybox
BUSYBOX_OUT   := $(B)/busybox
BUSYBOX       := $(BUSYBOX_OUT)/busybox
BUSYBOX_MAKE  = $(MAKE) --no-print-directory -s -C $(BUSYBOX_SRC) CROSS_COMPILE=riscv64-linux-gnu- \
	KCONFIG_NOTIMESTAMP=1

$(BUSYBOX_SRC)/Makefile: | deps

# $(1) = output dir, $(2) = sed applied to the config
define BUSYBOX_build
	@mkdir -p $(1)
	@sed $(2) user/busybox.config > $(1)/.config.new
	@cmp -s $(1)/.config.new $(1)/.config || cp $(1)/.config.new $(1)/.config
	@echo "  BUSYBOX $(1) (log: $(1)/build.log)"
	@yes "" | $(BUSYBOX_MAKE) O=$(CURDIR)/$(1) oldconfig > $(1)/build.log 2>&1 || { tail -20 $(1)/build.log; exit 1; }
	@$(BUSYBOX_MAKE) O=$(CURDIR)/$(1) -j2 busybox busybox.links >> $(1)/build.log 2>&1 || \
		{ grep -B2 -A8 -m3 'error' $(1)/build.log | head -60; exit 1; }
	@touch $(1)/busybox
endef

$(BUSYBOX): user/busybox.config user/busybox.mk $(BUSYBOX_SRC)/Makefile
	$(call BUSYBOX_build,$(BUSYBOX_OUT),-e 's/^x//')

$(B)/busybox-dyn/busybox: user/busybox.config user/busybox.mk $(BUSYBOX_SRC)/Makefile
	$(call BUSYBOX_build,$(B)/busybox-dyn,-e 's/^CONFIG_STATIC=y/\# CONFIG_STATIC is not set/')

.PHONY: busybox busybox-dynamic
busybox: $(BUSYBOX)
busybox-dynamic: $(B)/busybox-dyn/busybox
