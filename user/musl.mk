# musl 1.2.3 from Debian's source package (third_party/musl, fetched by scripts/deps.sh), cross-built
# with riscv64-linux-gnu-gcc into build/musl/:
#   build/musl/root/{lib,include}  libc.a, libc.so, crt*.o and headers (installed with DESTDIR, prefix /)
#   build/musl/musl-gcc            a musl-gcc-style wrapper: riscv64-linux-gnu-gcc with a specs file
#                                  that swaps glibc's headers, start files and libraries for musl's;
#                                  `-static` links libc.a, otherwise the program names musl's loader,
#                                  /lib/ld-musl-riscv64.so.1 (the initramfs has it there).
# The build runs once: its output depends only on the unpacked source (third_party/musl/VERSION).
MUSL_SRC  := third_party/musl
MUSL_OUT  := $(B)/musl
MUSL_ROOT := $(MUSL_OUT)/root
MUSL_LDSO := /lib/ld-musl-riscv64.so.1
MUSL_GCC  := $(MUSL_OUT)/musl-gcc
MUSL_LIBC := $(MUSL_ROOT)/lib/libc.a

$(MUSL_SRC)/VERSION: | deps

$(MUSL_LIBC): $(MUSL_SRC)/VERSION
	@echo "  MUSL  build $(MUSL_OUT) (once)"
	@rm -rf $(MUSL_OUT)/obj $(MUSL_ROOT) && mkdir -p $(MUSL_OUT)/obj
	@cd $(MUSL_OUT)/obj && $(CURDIR)/$(MUSL_SRC)/configure --target=riscv64-linux-gnu \
		CROSS_COMPILE=riscv64-linux-gnu- --prefix=/ --syslibdir=/lib --disable-wrapper \
		> configure.log 2>&1 || { tail -20 configure.log; exit 1; }
	@$(MAKE) --no-print-directory -s -C $(MUSL_OUT)/obj -j2 > $(MUSL_OUT)/obj/build.log 2>&1 || \
		{ tail -30 $(MUSL_OUT)/obj/build.log; exit 1; }
	@$(MAKE) --no-print-directory -s -C $(MUSL_OUT)/obj install DESTDIR=$(CURDIR)/$(MUSL_ROOT) \
		>> $(MUSL_OUT)/obj/build.log 2>&1 || { tail -30 $(MUSL_OUT)/obj/build.log; exit 1; }

$(MUSL_GCC): $(MUSL_LIBC) user/musl.mk
	@sh $(MUSL_SRC)/tools/musl-gcc.specs.sh $(CURDIR)/$(MUSL_ROOT)/include $(CURDIR)/$(MUSL_ROOT)/lib \
		$(MUSL_LDSO) > $(MUSL_OUT)/musl-gcc.specs
	@printf '#!/bin/sh\n# musl-gcc for riscv64 (user/musl.mk)\nexec "$${REALGCC:-riscv64-linux-gnu-gcc}" "$$@" -specs "%s"\n' \
		"$(CURDIR)/$(MUSL_OUT)/musl-gcc.specs" > $@
	@chmod +x $@
	@echo "  GEN   $@"

.PHONY: musl
musl: $(MUSL_GCC)
