"""Block device: sequential read of a 64 MiB raw disk image through /dev/vda inside Ember
(virtio-blk on legacy virtio-mmio, -smp 4), as `dd if=/dev/vda of=/dev/null bs=...` would
(user/bench/blkbench.c). Ember's figure only; the note has qemu-user reading the image file on the
host, for scale."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from qemu import BUILD, KERNEL, Qemu  # noqa: E402

LINE = re.compile(r"^bench (\S+) ([\d.]+) (\S+)$", re.M)
TIMEOUT = 600
SIZE = 64 << 20


def run():
    prog = os.path.join(BUILD, "user", "bench", "blkbench")
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "disk.img")
        with open(img, "wb") as f:
            f.write(os.urandom(SIZE))
        q = Qemu(kernel=KERNEL, name="bench-blk",
                 extra=("-drive", f"file={img},if=none,format=raw,id=x0", "-device", "virtio-blk-device,drive=x0",
                        "-initrd", os.path.join(BUILD, "initramfs.cpio"),
                        "-append", "rdinit=/bench/blkbench -- /dev/vda"))
        try:
            q.expect(r"init exited with status \d+", TIMEOUT)
            ember = {m.group(1): (float(m.group(2)), m.group(3)) for m in LINE.finditer(q.log())}
        finally:
            q.close()
        p = subprocess.run(["qemu-riscv64-static", prog, img], capture_output=True, timeout=TIMEOUT)
        host = {m.group(1): float(m.group(2)) for m in LINE.finditer(p.stdout.decode())}
    return [{"name": f"blk: {name} /dev/vda", "value": v, "unit": unit, "anchor": None, "better": "higher",
             "note": f"qemu-user reading the image file: {host.get(name, float('nan')):.4g} {unit}"}
            for name, (v, unit) in ember.items()]
