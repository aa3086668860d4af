"""exec micro-benchmark (user/bench/execbench.c): fork+exec+wait per second of a dynamic glibc
hello (kernel ELF loader + glibc's loader + libc mapped from the RAM file system) and of the static
hello. The bench does not boot the Linux guest for user programs (bench/userbench.py), so only
Ember's figure is given; qemu-user on the host cannot exec riscv64 binaries without binfmt_misc."""
from userbench import run_program

NOTE = "Ember only: no Linux guest run for user programs; qemu-user cannot exec riscv64 without binfmt_misc"


def run():
    rows = run_program("execbench", "exec")
    for r in rows:
        if "nan" in r["note"]:
            r["note"] = NOTE
    return rows
