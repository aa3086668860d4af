"""Truncation of mapped files on ext4 (issue 12, mm/rmap.c): user/tests/mmap_truncate (which
test_user.py runs under Linux and on Ember's tmpfs) runs as init on an ext4 root, in a directory on
the disk, with "leave": it then shrinks a file written through a shared mapping while still mapped,
stores past the new EOF in the last page, syncs and exits, and Ember powers off. The host's
e2fsck -fn finds the image clean and debugfs reads exactly the kept bytes (the store past EOF and
the dropped pages never reach the disk)."""
import os
import re
import tempfile

from qemu import BUILD
from test_mmap_shared_ext4 import debugfs_cat
from test_contest_disk import tool
from test_root_disk import boot, make_disk
import subprocess

PG = 4096
KEPT = PG + 50


def test_truncate_of_mapped_files_on_the_ext4_root():
    prog = os.path.join(BUILD, "user", "tests", "mmap_truncate")
    with tempfile.TemporaryDirectory() as d:
        img = make_disk(d, extra_files=[prog])
        rc, out = boot(img, "root=/dev/vda rw init=/mmap_truncate -- / leave", name="root-mmap-truncate")
        m = re.search(r"^(\d+) passed, (\d+) failed$", out, re.M)
        assert m and int(m.group(2)) == 0 and int(m.group(1)) >= 40 and rc == 0, out[-4000:]
        assert "leave: mmap_truncated.bin in /" in out, out[-4000:]
        fsck = subprocess.run([tool("e2fsck"), "-fn", img], capture_output=True, timeout=120)
        assert fsck.returncode == 0, "e2fsck -fn: " + fsck.stdout.decode() + fsck.stderr.decode()
        want = bytearray((i * 7 + 3) & 0xff for i in range(KEPT))
        want[100:104] = b"kept"
        got = debugfs_cat(img, "/mmap_truncated.bin")
        assert got == bytes(want), (len(got), got[96:108])


def test_open_racing_the_last_close_reads_mapped_stores_on_ext4():
    """user/tests/mmap_evict_race on the ext4 root: a child's stores through a shared mapping
    (made read-only, then unmapped) must be read by an open racing its last close."""
    prog = os.path.join(BUILD, "user", "tests", "mmap_evict_race")
    with tempfile.TemporaryDirectory() as d:
        img = make_disk(d, extra_files=[prog])
        rc, out = boot(img, "root=/dev/vda rw init=/mmap_evict_race -- /", name="root-mmap-evict-race")
        m = re.search(r"^(\d+) passed, (\d+) failed$", out, re.M)
        assert m and int(m.group(2)) == 0 and int(m.group(1)) >= 3 and rc == 0, out[-4000:]
        fsck = subprocess.run([tool("e2fsck"), "-fn", img], capture_output=True, timeout=120)
        assert fsck.returncode == 0, "e2fsck -fn: " + fsck.stdout.decode() + fsck.stderr.decode()
