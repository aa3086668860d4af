"""Differential user tests: every program in user/tests/ runs under qemu-riscv64-static (the
host's Linux answers) and inside Ember on QEMU -smp 4 as init; both runs must pass. A program
ends with "N passed, N failed" and exits 0 only when everything passed."""
import glob
import os
import re
import subprocess
import tempfile

import pytest

from qemu import BUILD, KERNEL, Qemu, ROOT

TESTS = sorted(os.path.basename(p)[:-2] for p in glob.glob(os.path.join(ROOT, "user", "tests", "*.c")))
RESULT = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


def check_output(out, where):
    m = RESULT.search(out)
    assert m, f"{where}: no result line\n{out[-4000:]}"
    assert int(m.group(2)) == 0 and int(m.group(1)) > 0, f"{where}: failures\n{out[-4000:]}"
    assert "SKIP" not in out or where == "qemu-user", f"{where}: a skip inside Ember is a failure\n{out[-4000:]}"


@pytest.mark.parametrize("name", TESTS)
def test_under_linux(name):
    binary = os.path.join(BUILD, "user", "tests", name)
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run(["qemu-riscv64-static", binary], cwd=d, capture_output=True, timeout=300)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, f"exit {p.returncode}\n{out[-4000:]}{p.stderr.decode(errors='replace')[-2000:]}"
    check_output(out, "qemu-user")


@pytest.mark.parametrize("name", TESTS)
def test_inside_ember(name):
    q = Qemu(kernel=KERNEL, name=f"user-{name}",
             extra=("-initrd", os.path.join(BUILD, "initramfs.cpio"), "-append", f"rdinit=/tests/{name}"))
    try:
        q.expect(r"init exited with status \d+", 300)
        rc = q.wait_exit(30)
        out = q.log()
        check_output(out, "ember")
        assert "init exited with status 0" in out and rc == 0, out[-4000:]
    finally:
        q.close()
