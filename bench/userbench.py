"""Shared by the bench modules that run a user program from user/bench/: inside Ember (-smp 4, the
program as init) and, for reference, under qemu-riscv64-static on the host. The program prints
"bench NAME VALUE UNIT" lines. These rows have no Linux guest figure, so their anchor stays empty and the qemu-user figure goes in the note."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from qemu import BUILD, KERNEL, Qemu  # noqa: E402

LINE = re.compile(r"^bench (\S+) ([\d.]+) (\S+)$", re.M)
TIMEOUT = 600


def run_program(program, prefix):
    q = Qemu(kernel=KERNEL, name=f"bench-{program}",
             extra=("-initrd", os.path.join(BUILD, "initramfs.cpio"), "-append", f"rdinit=/bench/{program}"))
    try:
        q.expect(r"init exited with status \d+", TIMEOUT)
        ember = {m.group(1): (float(m.group(2)), m.group(3)) for m in LINE.finditer(q.log())}
    finally:
        q.close()
    p = subprocess.run(["qemu-riscv64-static", os.path.join(BUILD, "user", "bench", program)],
                       capture_output=True, timeout=TIMEOUT)
    host = {m.group(1): float(m.group(2)) for m in LINE.finditer(p.stdout.decode())}
    return [{"name": f"{prefix}: {name}", "value": v, "unit": unit, "anchor": None,
             "better": "higher" if unit.endswith("/s") else "lower",
             "note": f"qemu-user on the host: {host.get(name, float('nan')):.3g} {unit}"}
            for name, (v, unit) in ember.items()]
