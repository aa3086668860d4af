"""exec micro-benchmark (user/bench/execbench.c): fork+exec+wait per second of a dynamic glibc
hello (kernel ELF loader + glibc's loader + libc mapped from the RAM file system) and of the static
hello. The bench does not boot the Linux guest for user programs (bench/userbench.py), so only
Ember's figure is given; qemu-user on the host cannot exec riscv64 binaries without binfmt_misc."""
from userbench import run_program


def run():
    return run_program("execbench", "exec")
