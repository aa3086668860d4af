"""ext4 on virtio-blk, side by side with the Linux 6.1 guest (../shared/anchors/linux-guest/Image-blk)
in one run: user/bench/fsbench.c runs as init in each kernel on a fresh ext4 image made by the
host's mkfs.ext4 (4 KiB blocks), with the same QEMU line (-smp 4 -m 512M, virtio-blk on
virtio-mmio, default cache): sequential write of 256 MiB with fsync, sequential read cold (after a
remount) and warm, 4 KiB random reads, create+unlink of 10,000 small files, busybox tar extraction
of the project's source tree. Kernels alternate (ember, linux, ember, ...), REPS runs each; the
table gives medians, the note min/median/max.

Usage: bench/bench_fs.py [--reps N] [--size MiB]"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from qemu import BUILD, KERNEL, ROOT, Qemu  # noqa: E402
import realtools  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sidebyside  # noqa: E402

REPS = 3
SIZE_MIB = 256
TIMEOUT = 900
LINE = re.compile(r"^bench (\S+) ([\d.]+) (\S+)\r?$", re.M)
ROWS = [("seq_write", "fs: sequential write 256 MiB + fsync"), ("seq_read_cold", "fs: sequential read, cold"),
        ("seq_read_warm", "fs: sequential read, warm"), ("rand_read_4k", "fs: 4 KiB random reads"),
        ("create_unlink", "fs: create+unlink 10,000 small files"), ("tar_extract", "fs: tar extraction (source tree)")]


def make_cpio(d):
    """/init = fsbench, /bin/busybox (the tree's static build), /src.tar (git archive of HEAD)."""
    root = os.path.join(d, "cpio-root")
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy(os.path.join(BUILD, "user", "bench", "fsbench"), os.path.join(root, "init"))
    shutil.copy(os.path.join(BUILD, "busybox", "busybox"), os.path.join(root, "bin", "busybox"))
    for p in ("init", "bin/busybox"):
        os.chmod(os.path.join(root, p), 0o755)
    with open(os.path.join(root, "src.tar"), "wb") as f:
        subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, stdout=f, check=True)
    cpio = os.path.join(d, "fsbench.cpio")
    names = subprocess.run("find . | LC_ALL=C sort", shell=True, cwd=root, capture_output=True, check=True).stdout
    with open(cpio, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], input=names, cwd=root, stdout=out, check=True)
    return cpio


def boot_once(kind, kernel, cpio, d, size_mib, rep):
    img = os.path.join(d, "fs.img")
    if os.path.exists(img):
        os.unlink(img)
    mkfs = shutil.which("mkfs.ext4") or "/sbin/mkfs.ext4"
    subprocess.run([mkfs, "-q", "-F", "-b", "4096", img, f"{size_mib * 2 + 256}M"], check=True,
                   capture_output=True, timeout=120)
    append = f"rdinit=/init -- /dev/vda {size_mib}"
    if kind == "linux":
        append = "console=ttyS0 quiet " + append
    q = Qemu(kernel=kernel, name=f"bench-fs-{kind}-{rep}",
             extra=("-drive", f"file={img},if=none,format=raw,id=d0", "-device", "virtio-blk-device,drive=d0",
                    "-initrd", cpio, "-append", append))
    try:
        q.expect(r"fsbench: (done|.*: )", TIMEOUT)
        out = q.log()
    finally:
        q.close()
    vals = {m.group(1): float(m.group(2)) for m in LINE.finditer(out)}
    err = None if "fsbench: done" in out else out[-600:]
    return vals, err


def measure(reps=REPS, size_mib=SIZE_MIB):
    image = os.path.join(realtools.guest_dir() or "", "Image-blk")
    if not realtools.guest_dir() or not os.path.isfile(image):
        print("bench_fs: ../shared/anchors/linux-guest/Image-blk is absent: Ember only")
        image = None
    kernels = {"ember": KERNEL}
    if image:
        kernels["linux"] = image
    vals = {k: {r: [] for r, _ in ROWS} for k in kernels}
    with tempfile.TemporaryDirectory() as d:
        cpio = make_cpio(d)
        for rep in range(reps):
            for kind, kernel in kernels.items():
                got, err = boot_once(kind, kernel, cpio, d, size_mib, rep)
                for r, _ in ROWS:
                    if r in got:
                        vals[kind][r].append(got[r])
                print(f"  rep {rep + 1}/{reps} {kind}: " + ", ".join(f"{r}={got.get(r, 'fail')}" for r, _ in ROWS)
                      + (f"\n    error: {err}" if err else ""), flush=True)
    units = {"rand_read_4k": "reads/s", "create_unlink": "files/s"}
    rows = []
    for r, name in ROWS:
        e, l = vals["ember"][r], vals.get("linux", {}).get(r, [])
        rows.append(sidebyside.row(name, units.get(r, "MB/s"), e, l, reps))
    return rows


def run():
    return measure()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--size", type=int, default=SIZE_MIB)
    a = ap.parse_args()
    sidebyside.print_rows(measure(a.reps, a.size))


if __name__ == "__main__":
    main()
