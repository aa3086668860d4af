"""IPC micro-benchmarks (user/bench/ipcbench.c): futex ping-pong, contended mutex, shm bandwidth,
inside Ember (-smp 4) and, for reference, under qemu-riscv64-static on the host. The Linux 6.1 guest
anchor has no figures for these rows (../shared/anchors/linux-guest.md), so the anchor column stays
empty; the qemu-user figure is given in the note."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from qemu import BUILD, KERNEL, Qemu  # noqa: E402

LINE = re.compile(r"^bench (\S+) ([\d.]+) (\S+)$", re.M)


def run():
    q = Qemu(kernel=KERNEL, name="bench-ipc",
             extra=("-initrd", os.path.join(BUILD, "initramfs.cpio"), "-append", "rdinit=/bench/ipcbench"))
    try:
        q.expect(r"init exited with status \d+", 600)
        ember = {m.group(1): (float(m.group(2)), m.group(3)) for m in LINE.finditer(q.log())}
    finally:
        q.close()
    p = subprocess.run(["qemu-riscv64-static", os.path.join(BUILD, "user", "bench", "ipcbench")],
                       capture_output=True, timeout=600)
    host = {m.group(1): float(m.group(2)) for m in LINE.finditer(p.stdout.decode())}
    rows = []
    for name, (v, unit) in ember.items():
        rows.append({"name": f"ipc: {name}", "value": v, "unit": unit, "anchor": None, "better": "higher" if unit.endswith("/s") else "lower",
                     "note": f"qemu-user on the host: {host.get(name, float('nan')):.3g} {unit}"})
    return rows
