"""Differential user tests: every program in user/tests/ runs under qemu-riscv64-static (the
host's Linux answers) and inside Ember on QEMU -smp 4 as init; both runs must pass. A program
ends with "N passed, N failed" and exits 0 only when everything passed.

Each program is built in up to three variants (the Makefile): static glibc (/tests), dynamic
glibc PIE (/tests-dyn, glibc's loader and libraries in /lib) and, when a musl toolchain was found
in build/, dynamic musl PIE (/tests-musl). Under qemu-user the dynamic ones find their loader and
libraries in build/rootfs (the tree the initramfs is packed from) through qemu's -L."""
import atexit
import glob
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from qemu import BUILD, KERNEL, Qemu, ROOT

NAMES = sorted(os.path.basename(p)[:-2] for p in glob.glob(os.path.join(ROOT, "user", "tests", "*.c")))
VARIANTS = [("", "tests"), ("dyn-", "tests-dyn")]
if os.path.isdir(os.path.join(BUILD, "rootfs", "tests-musl")):       # packed into this initramfs
    VARIANTS.append(("musl-", "tests-musl"))
# Known failures, each a bug to fix (not skipped: pytest reports them as xfail, never as passed).
KNOWN_BAD = {}
# qemu-user's own failures (the Linux side of the comparison, not Ember): xfail there only when it fails.
QEMU_USER_FLAKY = {
    ("tests-musl", "thread_teardown"): "under qemu-user with musl a 'threads' child (the leader leaves by the bare "
                                       "exit call) now and then dies of SIGSEGV (about 1 in 40; never inside Ember)",
}
TESTS = [pytest.param(d, n, id=p + n, marks=[pytest.mark.xfail(reason=KNOWN_BAD[(d, n)], strict=False)]
                      if (d, n) in KNOWN_BAD else []) for p, d in VARIANTS for n in NAMES]
SYSROOT = tempfile.mkdtemp(prefix="ember-sysroot-")   # only lib/ and lib64/: qemu's -L redirects any
for d in ("lib", "lib64"):                             # absolute path that exists under it
    os.symlink(os.path.join(BUILD, "rootfs", d), os.path.join(SYSROOT, d))
atexit.register(shutil.rmtree, SYSROOT, True)
RESULT = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


def check_output(out, where):
    m = RESULT.search(out)
    assert m, f"{where}: no result line\n{out[-4000:]}"
    assert int(m.group(2)) == 0 and int(m.group(1)) > 0, f"{where}: failures\n{out[-4000:]}"
    assert "SKIP" not in out or where == "qemu-user", f"{where}: a skip inside Ember is a failure\n{out[-4000:]}"


@pytest.mark.parametrize("variant,name", TESTS)
def test_under_linux(variant, name):
    binary = os.path.join(BUILD, "user", variant, name)
    with tempfile.TemporaryDirectory() as d:
        ld_prefix = ["-L", SYSROOT] if variant != "tests" else []
        p = subprocess.run(["qemu-riscv64-static", *ld_prefix, binary], cwd=d, capture_output=True, timeout=300)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0 and (variant, name) in QEMU_USER_FLAKY:
        fails = re.findall(r"^FAIL (.*?):  ", out, re.M)
        deaths = re.findall(r"^child \d+ \((\w+)\): status (0x[0-9a-f]+)$", out, re.M)
        if fails == ["teardown: every child reaped with the status its way out allows"] and deaths and \
                all(d == ("threads", "0xb") for d in deaths):
            pytest.xfail(f"{QEMU_USER_FLAKY[(variant, name)]}\n{out[-2000:]}")
    assert p.returncode == 0, f"exit {p.returncode}\n{out[-4000:]}{p.stderr.decode(errors='replace')[-2000:]}"
    check_output(out, "qemu-user")


@pytest.mark.parametrize("variant,name", TESTS)
def test_inside_ember(variant, name):
    q = Qemu(kernel=KERNEL, name=f"user-{variant}-{name}",
             extra=("-initrd", os.path.join(BUILD, "initramfs.cpio"), "-append", f"rdinit=/{variant}/{name}"))
    try:
        q.expect(r"init exited with status \d+", 300)
        rc = q.wait_exit(30)
        out = q.log()
        check_output(out, "ember")
        assert "init exited with status 0" in out and rc == 0, out[-4000:]
    finally:
        q.close()
