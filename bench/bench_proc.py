"""Process micro-benchmarks (user/bench/procbench.c): getpid, fork+exit+wait, pipe ping-pong
across harts, thread create+join. See bench/userbench.py for how they run."""
from userbench import run_program


def run():
    return run_program("procbench", "proc")
