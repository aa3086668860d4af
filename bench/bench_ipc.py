"""IPC micro-benchmarks (user/bench/ipcbench.c): futex ping-pong across harts, contended mutex,
System V shm producer/consumer bandwidth. See bench/userbench.py for how they run."""
from userbench import run_program


def run():
    return run_program("ipcbench", "ipc")
