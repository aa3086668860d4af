"""QEMU killed while Ember replays the journal at mount; the next boot replays again.

The host builds the journal: an image A (mkfs.ext4 -d) and a copy B changed by debugfs -w (new
files, one of 300 KB, a new directory, a file removed), with needs_recovery set in B's superblock
as a mounted file system's logged superblock has it. Every block where B differs from A goes, with
B's contents, into one transaction of A's journal (debugfs jo/jw/jc), so replaying A's journal
turns A into B (the host's e2fsck -fy checks that first). Then, per round, a copy of A is mounted by
Ember (user/tests/ext4disk: say, mount, umount) with the drive's writes throttled so that the
replay takes seconds, and QEMU is SIGKILLed at a random moment after init says the mount starts.
The killed image must hold part of the replay in some rounds (counted from A's and B's blocks).
A second boot without throttling mounts it (replaying again, as the log is still marked in use)
and umounts; afterwards e2fsck -fn is clean and debugfs rdump gives B's tree byte for byte.

REPLAY_KILL_ROUNDS (default 4) rounds per block size; REPLAY_KILL_SEED (default 1)."""
import filecmp
import os
import random
import re
import shutil
import subprocess
import tempfile

import pytest

from qemu import BUILD, KERNEL, Qemu
from test_ext4_disk import pattern, tool, tools

INITRD = os.path.join(BUILD, "initramfs.cpio")
MiB = 1 << 20
ROUNDS = int(os.environ.get("REPLAY_KILL_ROUNDS", "4"))
SEED = int(os.environ.get("REPLAY_KILL_SEED", "1"))
BOOT_TIMEOUT = 240
THROTTLE = "throttling.iops-write=8,throttling.bps-write=131072"   # the replay takes seconds
KILL_MAX_S = 8.0


def run(*cmd, timeout=300):
    return subprocess.run(list(cmd), check=True, capture_output=True, timeout=timeout)


def debugfs_w(img, d, lines):
    cmd = os.path.join(d, "cmd")
    with open(cmd, "w") as f:
        f.write("\n".join(lines) + "\n")
    run(tool("debugfs"), "-w", "-f", cmd, img)


def build(d, bs):
    src = os.path.join(d, "src")
    os.makedirs(os.path.join(src, "keep"))
    for i in range(20):
        with open(os.path.join(src, "keep", f"k{i}"), "wb") as f:
            f.write(pattern(i, 1000 * i + 7))
    with open(os.path.join(src, "gone"), "wb") as f:
        f.write(pattern(99, 5000))
    a = os.path.join(d, "a.img")
    run(tool("mkfs.ext4"), "-q", "-F", "-b", str(bs), "-d", src, a, "64M", timeout=120)
    b = os.path.join(d, "b.img")
    shutil.copy(a, b)
    host = []
    for i, n in enumerate((300000, 1, 4097, 70000)):
        p = os.path.join(d, f"new{i}")
        with open(p, "wb") as f:
            f.write(pattern(200 + i, n))
        host.append(p)
    debugfs_w(b, d, ["mkdir /nd", f"write {host[0]} /nd/big"] +
              [f"write {host[i]} /n{i}" for i in (1, 2, 3)] + ["rm /gone", "rm /keep/k3"])
    ref = os.path.join(d, "ref")
    os.makedirs(ref)
    run(tool("debugfs"), "-R", f"rdump / {ref}", b)
    debugfs_w(b, d, ["feature needs_recovery"])
    # the blocks that differ, with B's contents, into A's journal
    changed, data = [], bytearray()
    with open(a, "rb") as fa, open(b, "rb") as fb:
        n = 0
        while True:
            x, y = fa.read(bs), fb.read(bs)
            if not x:
                break
            if x != y:
                changed.append(n)
                data += y
            n += 1
    blocks = os.path.join(d, "blocks")
    with open(blocks, "wb") as f:
        f.write(data)
    debugfs_w(a, d, ["jo", f"jw -b {','.join(map(str, changed))} {blocks}", "jc"])
    out = run(tool("dumpe2fs"), "-h", a).stdout.decode()
    assert "needs_recovery" in out, out
    return a, b, ref, changed


def same_tree(img, ref, d):
    got = os.path.join(d, "got")
    shutil.rmtree(got, ignore_errors=True)
    os.makedirs(got)
    run(tool("debugfs"), "-R", f"rdump / {got}", img)
    bad = []

    def walk(c):
        bad.extend(os.path.join(c.left, n) for n in c.left_only + c.right_only + c.diff_files + c.funny_files)
        for sub in c.subdirs.values():
            walk(sub)
    walk(filecmp.dircmp(got, ref, ignore=["lost+found"]))
    # dircmp compares by stat signature; compare every file's bytes too
    for root, _, names in os.walk(ref):
        for n in names:
            r = os.path.join(root, n)
            g = os.path.join(got, os.path.relpath(r, ref))
            if not os.path.exists(g) or not filecmp.cmp(r, g, shallow=False):
                bad.append(g)
    return bad


def progress(img, b, changed, bs):
    """How many of the replayed blocks already hold B's contents."""
    n = 0
    with open(img, "rb") as fi, open(b, "rb") as fb:
        for blk in changed:
            fi.seek(blk * bs)
            fb.seek(blk * bs)
            n += fi.read(bs) == fb.read(bs)
    return n


def boot(img, steps, name, throttle=False):
    drive = f"file={img},if=none,format=raw,id=x0" + ("," + THROTTLE if throttle else "")
    return Qemu(kernel=KERNEL, name=name,
                extra=("-drive", drive, "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
                       "-initrd", INITRD, "-append", f"rdinit=/tests/ext4disk -- {steps}"))


@pytest.mark.parametrize("bs", [1024, 4096])
def test_ext4_kill_during_replay(bs):
    tools()
    rnd = random.Random(SEED * 7919 + bs)
    with tempfile.TemporaryDirectory() as d:
        a, b, ref, changed = build(d, bs)
        # the journal is right: e2fsck's replay turns A into B
        host = os.path.join(d, "host.img")
        shutil.copy(a, host)
        fy = subprocess.run([tool("e2fsck"), "-fy", host], capture_output=True, timeout=300)
        assert fy.returncode in (0, 1), fy.stdout.decode() + fy.stderr.decode()
        assert same_tree(host, ref, d) == []
        partial = 0
        for r in range(ROUNDS):
            img = os.path.join(d, "work.img")
            shutil.copy(a, img)
            q = boot(img, "say:mounting,mount:/dev/vda:/mnt,umount:/mnt", f"replay-kill-{bs}-{r}", True)
            try:
                q.expect(r"say: mounting", BOOT_TIMEOUT)
                delay = rnd.uniform(0.05, KILL_MAX_S)
                try:
                    q.expect(r"PASS mount:|KERNEL PANIC", delay)
                except AssertionError as e:
                    if "timed out" not in str(e):
                        raise
            finally:
                q.close()                                  # SIGKILL
            out = q.log()
            assert "KERNEL PANIC" not in out, out[-4000:]
            done = progress(img, b, changed, bs)
            mounted = "PASS mount:" in out
            print(f"round {r}: killed {delay:.2f} s after the mount started, {done}/{len(changed)} blocks "
                  f"replayed{' (the mount had finished)' if mounted else ''}")
            if not mounted and 0 < done < len(changed):
                partial += 1
            q = boot(img, "mount:/dev/vda:/mnt,umount:/mnt", f"replay-again-{bs}-{r}")
            try:
                q.expect(r"init exited with status \d+", BOOT_TIMEOUT)
                rc = q.wait_exit(60)
                out = q.log()
                if "init exited with status 0" not in out or rc != 0 or \
                        not re.search(r"^2 passed, 0 failed$", out, re.M):
                    q.fail("the second mount (replay) and umount failed")
            finally:
                q.close()
            fn = subprocess.run([tool("e2fsck"), "-fn", img], capture_output=True, timeout=300)
            assert fn.returncode == 0, f"round {r}: e2fsck -fn: " + fn.stdout.decode() + fn.stderr.decode()
            bad = same_tree(img, ref, d)
            assert bad == [], f"round {r}: differs from a single replay: {bad[:10]}"
        assert partial > 0, "no kill landed in the middle of the replay"
