"""exec, side by side with the Linux 6.1 guest (../shared/anchors/linux-guest/Image) in one run:
user/bench/execbench.c runs as init in each kernel from the same initramfs (-smp 4 -m 512M) and
counts fork+exec+wait per second of a dynamic glibc hello (the kernel's ELF loader, glibc's
loader, libc mapped from the RAM file system), of the static hello and of busybox `true`.
Kernels alternate (ember, linux, ember, ...), REPS runs each; the table gives medians, the note
min/median/max.

Usage: bench/bench_exec.py [--reps N]"""
import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from qemu import BUILD, KERNEL, Qemu  # noqa: E402
import realtools  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sidebyside  # noqa: E402

REPS = 3
TIMEOUT = 600
LINE = re.compile(r"^bench (\S+) ([\d.]+) (\S+)\r?$", re.M)
ROWS = [("fork_exec_wait_hello_dynamic_glibc", "exec: fork+exec+wait, dynamic glibc hello"),
        ("fork_exec_wait_hello_static", "exec: fork+exec+wait, static hello"),
        ("fork_exec_wait_busybox_true", "exec: fork+exec+wait, busybox true")]


def make_cpio(d):
    """/init = execbench, /bin/{hello, hello-dyn, busybox, true -> busybox}, glibc's loader and libc
    in /lib (/lib64/lp64d -> /lib), /dev/console and /dev/null for Linux (Ember has its devtmpfs)."""
    root = os.path.join(d, "root")
    for sub in ("bin", "lib", "lib64", "dev"):
        os.makedirs(os.path.join(root, sub))
    rootfs = os.path.join(BUILD, "rootfs")
    shutil.copy(os.path.join(BUILD, "user", "bench", "execbench"), os.path.join(root, "init"))
    for name in ("hello", "hello-dyn"):
        shutil.copy(os.path.join(rootfs, "bin", name), os.path.join(root, "bin", name))
    shutil.copy(os.path.join(BUILD, "busybox", "busybox"), os.path.join(root, "bin", "busybox"))
    os.symlink("busybox", os.path.join(root, "bin", "true"))
    for name in ("ld-linux-riscv64-lp64d.so.1", "libc.so.6"):
        shutil.copy(os.path.join(rootfs, "lib", name), os.path.join(root, "lib", name))
    os.symlink("../lib", os.path.join(root, "lib64", "lp64d"))
    os.mknod(os.path.join(root, "dev", "console"), 0o600 | stat.S_IFCHR, os.makedev(5, 1))
    os.mknod(os.path.join(root, "dev", "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    names = subprocess.run("find . | LC_ALL=C sort", shell=True, cwd=root, capture_output=True,
                           check=True).stdout
    cpio = os.path.join(d, "exec.cpio")
    with open(cpio, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], input=names, cwd=root, stdout=out, check=True)
    return cpio


def boot_once(kind, kernel, cpio, rep):
    append = "rdinit=/init"
    if kind == "linux":
        append = "console=ttyS0 quiet " + append
    q = Qemu(kernel=kernel, name=f"bench-exec-{kind}-{rep}", extra=("-initrd", cpio, "-append", append))
    try:
        q.expect(r"execbench: done", TIMEOUT)
        out = q.log()
    finally:
        q.close()
    return {m.group(1): float(m.group(2)) for m in LINE.finditer(out)}


def measure(reps=REPS):
    image = os.path.join(realtools.guest_dir() or "", "Image")
    kernels = {"ember": KERNEL}
    if realtools.guest_dir() and os.path.isfile(image):
        kernels["linux"] = image
    else:
        print("bench_exec: ../shared/anchors/linux-guest/Image is absent: Ember only")
    vals = {k: {r: [] for r, _ in ROWS} for k in kernels}
    with tempfile.TemporaryDirectory() as d:
        cpio = make_cpio(d)
        for rep in range(reps):
            for kind, kernel in kernels.items():
                got = boot_once(kind, kernel, cpio, rep)
                for r, _ in ROWS:
                    if r in got:
                        vals[kind][r].append(got[r])
                print(f"  rep {rep + 1}/{reps} {kind}: " + ", ".join(f"{r}={got.get(r, 'fail')}" for r, _ in ROWS),
                      flush=True)
    rows = []
    for r, name in ROWS:
        e, l = vals["ember"][r], vals.get("linux", {}).get(r, [])
        rows.append(sidebyside.row(name, "/s", e, l, reps))
    return rows


def run():
    return measure()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=REPS)
    a = ap.parse_args()
    sidebyside.print_rows(measure(a.reps))


if __name__ == "__main__":
    main()
