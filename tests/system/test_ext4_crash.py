"""Crash consistency of ext4 on virtio-blk: QEMU killed (SIGKILL) at random moments of a write-heavy run.

Each round boots Ember (-smp 4) with user/stress/crashfs as init on an ext4 image made by the
host's mkfs.ext4 (1 KiB and 4 KiB blocks): three processes create, append, rename (sometimes over
another file), unlink files, make/rename/remove directories and fsync some, until the host kills
QEMU after a random delay (seeded). Then, as Linux's guarantees say:
- a copy of the killed image goes through the host's `e2fsck -fy`, which must find nothing but what
  journal replay (and orphan cleanup) fixes, and `e2fsck -fn` after it must be clean;
- the image itself is mounted by Ember again (ext4disk: mount, umount; fs/ext4/journal.c replays
  the journal at mount), after which `e2fsck -fn` must be clean;
- both replays give the same files with the same contents;
- on both, every file whose fsync had returned (the workload's "SEAL" lines) is there, under one of
  the names it may have after its later renames ("MV" lines), with its whole content, and every
  file found at all holds a prefix of its pattern (ordered mode: never stale or zero blocks).
The next round runs on the image Ember recovered, so replayed images are written again.

CRASH_ROUNDS (default 5; 10 gives the issue's 20 seeds) rounds per block size; CRASH_SEED
(default 1) seeds the delays and the workload."""
import os
import random
import re
import shutil
import subprocess
import tempfile

import pytest

from qemu import BUILD, KERNEL, Qemu
from test_ext4_disk import tool, tools

INITRD = os.path.join(BUILD, "initramfs.cpio")
MiB = 1 << 20
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "5"))
SEED = int(os.environ.get("CRASH_SEED", "1"))
KILL_MIN_S, KILL_MAX_S = 0.2, 6.0      # how long the workload runs before the kill
RUN_TIMEOUT = 240                      # boot up to the workload's start (the machine is loaded)

# crashfs's pattern: byte i of file ID is ((i * M + ID * K) >> 11) & 0xff, which depends only on
# (i * M + ID * K) mod 2^19; M is odd, so file ID's pattern is the table for 0 rotated.
M, K, PERIOD = 2654435761, 40503, 1 << 19
_MINV = pow(M, -1, PERIOD)
_BASE = bytes(((i * M) >> 11) & 0xff for i in range(PERIOD))
_BASE2 = _BASE + _BASE


def pattern(fid, n):
    sh = (fid * K * _MINV) % PERIOD
    one = _BASE2[sh:sh + PERIOD]
    return (one * (n // PERIOD + 1))[:n]


def test_pattern_matches_the_c_formula():
    for fid in (0, 1, 1000003, 3000017):
        assert pattern(fid, 3000) == bytes(((i * M + fid * K) >> 11) & 0xff for i in range(3000))
        assert pattern(fid, PERIOD + 5)[PERIOD:] == pattern(fid, 5)


def parse_journal_of_workload(out):
    """{first name: (size, [names...])} for every sealed file, from whole lines only."""
    sealed, where = {}, {}
    # a kill may cut the last line (a SEAL of 33629 bytes read as 336 failed a run): only lines
    # the console finished count
    lines = out.replace("\r", "").split("\n")
    for line in lines[:-1]:
        f = line.split()
        if len(f) == 4 and f[0] == "SEAL":
            sealed[f[1]] = (int(f[3]), [f[1]])
            where[f[1]] = f[1]
        elif len(f) == 3 and f[0] == "MV" and f[1] in where:
            first = where.pop(f[1])
            sealed[first][1].append(f[2])
            where[f[2]] = first
    return sealed


def dump_tree(img, d, rounds):
    """debugfs rdump of /r0 ... into d; {relative path: bytes}."""
    os.makedirs(d)
    for r in rounds:
        subprocess.run([tool("debugfs"), "-R", f"rdump /r{r} {d}", img], check=True,
                       capture_output=True, timeout=300)
    files = {}
    for root, _, names in os.walk(d):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, d)] = f.read()
    shutil.rmtree(d)
    return files


def check_files(files, sealed, where):
    for path, data in files.items():
        m = re.fullmatch(r"r\d+/w\d+/d\d+/(\d+)\.\d+", path)
        assert m, f"{where}: unexpected file {path}"
        assert data == pattern(int(m.group(1)), len(data)), \
            f"{where}: {path} ({len(data)} bytes) is not a prefix of its pattern"
    for first, (size, names) in sealed.items():
        found = [(n, len(files[n])) for n in names if n in files]
        assert any(sz == size for _, sz in found), \
            f"{where}: fsynced {first} ({size} bytes, names {names}) found as {found}"


# What e2fsck -fy may say about a killed image: the journal replay and orphans, nothing else.
FSCK_OK = [r"recovering journal", r"Pass \d[A-Z]?: .*", r"Clearing orphaned inode .*",
           r"Truncating orphaned inode .*", r"\*+ FILE SYSTEM WAS MODIFIED \*+",
           r"\d+/\d+ files \(.*\), \d+/\d+ blocks", r"e2fsck [\d.]+ \(.*\)",
           r"Journal checksum .*", r""]


def fsck_replay(img):
    fy = subprocess.run([tool("e2fsck"), "-fy", img], capture_output=True, timeout=300)
    text = fy.stdout.decode() + fy.stderr.decode()
    bad = [l for l in text.splitlines()
           if not any(re.fullmatch(r"(?:\S+: )?" + ok, l.strip()) for ok in FSCK_OK)]
    assert fy.returncode in (0, 1) and not bad, f"e2fsck -fy (rc {fy.returncode}) found more than the journal: {text}"
    fsck_clean(img, "after e2fsck -fy")
    return "recovering journal" in text


def fsck_clean(img, when):
    fn = subprocess.run([tool("e2fsck"), "-fn", img], capture_output=True, timeout=300)
    assert fn.returncode == 0, f"e2fsck -fn {when}: " + fn.stdout.decode() + fn.stderr.decode()


def qemu(img, append, name):
    return Qemu(kernel=KERNEL, name=name,
                extra=("-drive", f"file={img},if=none,format=raw,id=x0",
                       "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
                       "-initrd", INITRD, "-append", append))


def crash_round(img, rnd, r, name):
    q = qemu(img, f"rdinit=/stress/crashfs -- /dev/vda {rnd.randrange(1 << 30)} {r}", name)
    try:
        q.expect(r"crashfs: running", RUN_TIMEOUT)
        q.expect(r"SEAL ", RUN_TIMEOUT)            # at least one fsync returned
        delay = rnd.uniform(KILL_MIN_S, KILL_MAX_S)
        try:
            q.expect(r"crashfs: FAIL|KERNEL PANIC", delay)
            q.fail("the workload failed before the kill")
        except AssertionError as e:
            if "timed out" not in str(e):
                raise
    finally:
        q.close()                                  # SIGKILL
    out = q.log()
    assert "KERNEL PANIC" not in out and "crashfs: FAIL" not in out, out[-4000:]
    return parse_journal_of_workload(out)


def replay_by_ember(img, name):
    steps = "mount:/dev/vda:/mnt,umount:/mnt"
    q = qemu(img, f"rdinit=/tests/ext4disk -- {steps}", name)
    try:
        q.expect(r"init exited with status \d+", RUN_TIMEOUT)
        rc = q.wait_exit(60)
        out = q.log()
        if "init exited with status 0" not in out or rc != 0 or not re.search(r"^2 passed, 0 failed$", out, re.M):
            q.fail("mount (journal replay) and umount by Ember failed")
    finally:
        q.close()


@pytest.mark.parametrize("block_size,size", [(1024, 256 * MiB), (4096, 256 * MiB)])
def test_ext4_crash_consistency(block_size, size):
    tools()
    rnd = random.Random(SEED * 1000 + block_size)
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "disk.img")
        subprocess.run([tool("mkfs.ext4"), "-q", "-F", "-b", str(block_size), img, f"{size // MiB}M"],
                       check=True, capture_output=True, timeout=120)
        sealed = {}
        for r in range(ROUNDS):
            tag = f"crash-{block_size}-{r}"
            sealed.update(crash_round(img, rnd, r, tag))
            copy = os.path.join(d, "copy.img")
            subprocess.run(["cp", "--sparse=always", img, copy], check=True, timeout=120)
            replayed = fsck_replay(copy)
            files = dump_tree(copy, os.path.join(d, "t"), range(r + 1))
            check_files(files, sealed, f"{tag} e2fsck replay")
            print(f"{tag}: {len(sealed)} fsynced files, {len(files)} files, journal replayed: {replayed}")
            os.unlink(copy)
            replay_by_ember(img, tag + "-replay")
            fsck_clean(img, f"{tag}: after Ember's replay and umount")
            mine = dump_tree(img, os.path.join(d, "t"), range(r + 1))
            check_files(mine, sealed, f"{tag} Ember replay")
            # the same journal replayed by e2fsck and by Ember: the same files, byte for byte
            assert sorted(mine) == sorted(files), \
                f"{tag}: Ember's replay has {sorted(set(mine) ^ set(files))[:10]} where e2fsck's differs"
            assert all(mine[p] == files[p] for p in files), f"{tag}: contents differ after the two replays"
