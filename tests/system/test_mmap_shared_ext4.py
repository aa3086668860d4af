"""MAP_SHARED mappings of ext4 files (issue 12, fs/pcache.c): user/tests/mmap_shared_file (which
test_user.py runs under Linux and on Ember's tmpfs) runs as init on an ext4 root, in a directory
on the disk; with "leave" it then writes two files only through shared mappings (one still mapped
at sync(), one unmapped and closed without msync) and exits, and Ember powers off. The host's
e2fsck -fn finds the image clean and debugfs reads the stores in both files."""
import os
import re
import subprocess
import tempfile

from qemu import BUILD
from test_contest_disk import tool
from test_root_disk import boot, make_disk

TEXT_A = b"written only through a shared mapping: page 0\0"
TEXT_B = b"and this one at 5000, in the second page\0"


def run_on_ext4_root(d, prog_name, args, min_passed, name):
    """Boot a fresh ext4 root (in directory d) with user/tests/<prog_name> as init and ARGS after
    "--"; its checks must all pass, Ember must power off cleanly and the host's e2fsck -fn must find
    the image clean. Returns (image path, console output)."""
    prog = os.path.join(BUILD, "user", "tests", prog_name)
    img = make_disk(d, extra_files=[prog])
    rc, out = boot(img, f"root=/dev/vda rw init=/{prog_name} -- {args}", name=name)
    m = re.search(r"^(\d+) passed, (\d+) failed$", out, re.M)
    assert m and int(m.group(2)) == 0 and int(m.group(1)) >= min_passed and rc == 0, out[-4000:]
    fsck = subprocess.run([tool("e2fsck"), "-fn", img], capture_output=True, timeout=120)
    assert fsck.returncode == 0, "e2fsck -fn: " + fsck.stdout.decode() + fsck.stderr.decode()
    return img, out


def debugfs_cat(img, path):
    p = subprocess.run([tool("debugfs"), "-R", f"cat {path}", img], capture_output=True, timeout=60)
    return p.stdout


def expected(first, second):
    want = bytearray(8192)
    want[0:len(first)] = first
    want[5000:5000 + len(second)] = second
    return bytes(want)


def test_shared_mappings_on_the_ext4_root_reach_the_disk():
    with tempfile.TemporaryDirectory() as d:
        img, out = run_on_ext4_root(d, "mmap_shared_file", "/ leave", 30, "root-mmap-shared")
        assert "leave: files in /" in out, out[-4000:]
        kept = debugfs_cat(img, "/mmap_kept.bin")
        assert kept == expected(TEXT_A, TEXT_B), kept[:64] + b"..." + kept[5000:5064]
        gone = debugfs_cat(img, "/mmap_gone.bin")
        assert gone == expected(TEXT_B, TEXT_A), gone[:64] + b"..." + gone[5000:5064]
