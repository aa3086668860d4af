"""Running out of memory (mm/oom.c, ipc/shm/shm.c; issue 17 item 3): user/stress/oomstress runs as
init in a small guest, where a System V shm aggressor takes all memory while a forking victim, a
bystander and an oom_score_adj=-1000 process holding half the memory keep running. The aggressor
must be the one killed (SIGKILL, named in the kernel log in Linux's words), nobody else may die, no
fork may fail, and free memory must come back. No panic, no SIGSEGV to an innocent."""
import os
import re

import pytest

from qemu import BUILD, KERNEL, Qemu

RESULT = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


@pytest.mark.parametrize("mem,args", [("256M", ""), ("512M", ""), ("256M", "--no-protected")],
                         ids=["256M", "512M", "256M-no-protected"])
def test_oom_kills_the_aggressor(mem, args):
    append = "rdinit=/stress/oomstress" + (f" -- {args}" if args else "")
    q = Qemu(kernel=KERNEL, mem=mem, name=f"oom-{mem}{args}",
             extra=("-initrd", os.path.join(BUILD, "initramfs.cpio"), "-append", append))
    try:
        q.expect(r"init exited with status \d+", 400)
        q.wait_exit(30)
        out = q.log()
        m = RESULT.search(out)
        assert m, out[-6000:]
        assert int(m.group(2)) == 0 and int(m.group(1)) > 0, out[-6000:]
        assert "init exited with status 0" in out, out[-6000:]
        kills = re.findall(r"Out of memory: Killed process (\d+) \((\S+)\) total-vm:\d+kB, anon-rss:\d+kB, "
                           r"file-rss:\d+kB, shmem-rss:(\d+)kB", out)
        assert kills, out[-6000:]
        # every kill is of the aggressor (its shm pages make it the largest killable one)
        assert all(c == "oomstress" and int(shm) > 0 for _, c, shm in kills), kills
        assert "panic" not in out.lower(), out[-6000:]
    finally:
        q.close()
