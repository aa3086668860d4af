"""ext4 on a real virtio-blk disk, end to end.

The host makes an ext4 image with mkfs.ext4 -d from a directory of pattern files (1 KiB blocks as
the contest's 128 MB sdcard, and 4 KiB blocks), attaches it as virtio-blk-device (legacy
virtio-mmio, QEMU's default, as the judge does), and boots Ember with user/tests/ext4disk as init:
it mounts /dev/vda on /mnt with mount(2), reads every file byte for byte, writes new files and a
directory, umounts, mounts again and reads its own files back, umounts. After poweroff the host's
e2fsck -fn must find the image clean and debugfs must read the new files back byte for byte."""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from qemu import BUILD, KERNEL, Qemu

INITRD = os.path.join(BUILD, "initramfs.cpio")
MiB = 1 << 20
CMDLINE_MAX = 512               # kernel/main.c


def pattern(seed, size):
    """user/tests/ext4disk.c's pattern: byte i is ((i * 2654435761 + seed * 40503) >> 11) & 0xff."""
    return bytes(((i * 2654435761 + seed * 40503) >> 11) & 0xff for i in range(size))


# what the host puts on the disk: path -> (seed, size)
HOST_FILES = {"a": (1, 1), "e": (0, 0), "b": (2, 4096), "c": (3, 70001), "d/big": (4, 1572865),
              "d/s/t": (5, 5000), "h/f299": (6, 100)}
HTREE_FILES = 300               # h/ holds this many: an indexed directory with 1 KiB blocks
# what Ember writes
NEW_FILES = {"n/w1": (11, 300000), "w2": (12, 1), "h/x": (13, 9000)}


def tools():
    for t in ("mkfs.ext4", "e2fsck", "debugfs"):
        if not shutil.which(t) and not os.path.exists(f"/sbin/{t}"):
            pytest.skip(f"{t} (e2fsprogs) is not installed")


def tool(name):
    return shutil.which(name) or f"/sbin/{name}"


def make_image(d, block_size, size):
    src = os.path.join(d, "src")
    for path, (seed, n) in HOST_FILES.items():
        p = os.path.join(src, path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(pattern(seed, n))
    for i in range(HTREE_FILES - 1):
        with open(os.path.join(src, "h", f"f{i}"), "wb") as f:
            f.write(b"x" * (i % 50))
    img = os.path.join(d, "disk.img")
    subprocess.run([tool("mkfs.ext4"), "-q", "-F", "-b", str(block_size), "-d", src, img, f"{size // MiB}M"],
                   check=True, capture_output=True, timeout=120)
    return img


def steps():
    s = ["mount:/dev/vda:/mnt", "statfs:/mnt"]
    s += [f"read:/mnt/{p}:{seed}:{n}" for p, (seed, n) in HOST_FILES.items()]
    s += [f"count:/mnt/h:{HTREE_FILES}", "mkdir:/mnt/n"]
    s += [f"write:/mnt/{p}:{seed}:{n}" for p, (seed, n) in NEW_FILES.items()]
    s += [f"count:/mnt/h:{HTREE_FILES + 1}", "umount:/mnt", "mount:/dev/vda:/mnt"]
    s += [f"read:/mnt/{p}:{seed}:{n}" for p, (seed, n) in NEW_FILES.items()]
    s += [f"read:/mnt/{p}:{seed}:{n}" for p, (seed, n) in list(HOST_FILES.items())[:3]]
    return s + ["umount:/mnt"]


@pytest.mark.parametrize("block_size,size", [(1024, 128 * MiB), (4096, 64 * MiB)])
def test_ext4_disk_read_write_fsck(block_size, size):
    tools()
    with tempfile.TemporaryDirectory() as d:
        img = make_image(d, block_size, size)
        append = "rdinit=/tests/ext4disk -- " + ",".join(steps())   # one argument: init gets few
        assert len(append) < CMDLINE_MAX, len(append)
        q = Qemu(kernel=KERNEL, name=f"ext4disk-{block_size}",
                 extra=("-drive", f"file={img},if=none,format=raw,id=x0",
                        "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
                        "-initrd", INITRD, "-append", append))
        try:
            q.expect(r"init exited with status \d+", 300)
            rc = q.wait_exit(30)
            out = q.log()
            m = re.search(r"^(\d+) passed, (\d+) failed$", out, re.M)
            if not m or int(m.group(2)) != 0 or int(m.group(1)) != len(steps()) or rc != 0 or \
                    "init exited with status 0" not in out:
                q.fail("ext4disk failed inside Ember")
        finally:
            q.close()
        fsck = subprocess.run([tool("e2fsck"), "-fn", img], capture_output=True, timeout=120)
        assert fsck.returncode == 0, "e2fsck -fn: " + fsck.stdout.decode() + fsck.stderr.decode()
        for path, (seed, n) in NEW_FILES.items():
            out = os.path.join(d, "dump")
            subprocess.run([tool("debugfs"), "-R", f"dump /{path} {out}", img], check=True,
                           capture_output=True, timeout=60)
            with open(out, "rb") as f:
                assert f.read() == pattern(seed, n), f"debugfs reads /{path} differently"
            os.unlink(out)
