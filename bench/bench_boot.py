"""Boot time (QEMU start -> monitor prompt, wall seconds, median of 5) and memory in use after boot,
on the release kernel with -smp 4 -m 512M."""
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "system"))
from qemu import Qemu, TEST_KERNEL as KERNEL  # noqa: E402  (monitor commands: the test kernel)

RUNS = 5


def run():
    times, used = [], []
    for i in range(RUNS):
        t0 = time.monotonic()
        q = Qemu(kernel=KERNEL, name=f"bench-boot-{i}")
        try:
            q.boot()
            times.append(time.monotonic() - t0)
            m = re.search(r"in use (\d+) KiB", q.command("mem"))
            used.append(int(m.group(1)) / 1024)
        finally:
            q.close()
    return [
        {"name": "boot: QEMU start -> monitor prompt", "value": statistics.median(times), "unit": "s",
         "anchor": 0.75, "better": "lower", "note": f"median of {RUNS}; Linux: QEMU start -> /init"},
        {"name": "memory used after boot", "value": statistics.median(used), "unit": "MiB",
         "anchor": 10.0, "better": "lower", "note": "RAM not free: kernel image, page array, firmware, allocations"},
    ]
