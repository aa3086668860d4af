"""Console output (kernel/console.c: an output ring the UART's transmit interrupt empties) and fork
placement (kernel/sched.c), read from the host side of the serial line. user/stress/console runs
as init at -smp 4:
  - burst: more lines than the output ring holds, then power-off at once: every line arrives, in
    order, none cut (power-off empties the ring first; a full ring makes the writer wait for room).
  - writers: four processes write whole lines at once: no line is torn, each writer's in order.
  - forkline: the contest's test_pipe pattern (parent and child each print "cpid: N" in three
    write()s right after fork) 1000 times: no two lines interleave.
  - spread: three forked spinners run at once on three CPUs."""
import os
import re

import pytest

from qemu import BUILD, KERNEL, Qemu

RESULT = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)
PATTERN = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BURST_LINES = 3000          # about 230 KiB: fourteen times the 16 KiB ring
FORK_ROUNDS = 1000


def run(args, name, timeout=300):
    q = Qemu(kernel=KERNEL, name=f"console-{name}",
             extra=("-initrd", os.path.join(BUILD, "initramfs.cpio"), "-append", f"rdinit=/stress/console -- {args}"))
    try:
        q.wait_exit(timeout)
        return q.log()
    finally:
        q.close()


def check_result(out):
    m = RESULT.search(out)
    assert m and int(m.group(2)) == 0 and int(m.group(1)) > 0, out[-6000:]
    assert "init exited with status 0" in out, out[-6000:]


def test_burst_then_power_off_loses_nothing():
    out = run(f"burst {BURST_LINES}", "burst")
    got = re.findall(r"^burst (\d+) (.*)$", out, re.M)
    assert [int(i) for i, _ in got] == list(range(BURST_LINES)), out[-3000:]
    assert all(p == PATTERN for _, p in got), [g for g in got if g[1] != PATTERN][:5]
    assert "panic" not in out.lower(), out[-3000:]


def test_concurrent_writers_lines_whole_and_in_order():
    out = run("writers", "writers")
    check_result(out)
    lines = [l for l in out.split("\n") if re.match(r"^w\d ", l)]
    torn = [l for l in out.split("\n") if "w" in l and PATTERN[:8] in l and not re.fullmatch(rf"w\d \d+ {PATTERN}", l)]
    assert not torn, torn[:5]
    for k in range(4):
        seq = [int(l.split()[1]) for l in lines if l.startswith(f"w{k} ")]
        assert seq == list(range(300)), (k, seq[:20])


def test_fork_then_print_lines_do_not_interleave():
    out = run(f"forkline {FORK_ROUNDS}", "forkline")
    check_result(out)
    body = out[:out.index("forkline done")]
    lines = [l for l in body.split("\n") if "cpid" in l]
    bad = [l for l in lines if not re.fullmatch(r"cpid: \d+", l)]
    assert not bad, f"{len(bad)} interleaved lines, e.g. {bad[:5]}"
    assert len(lines) == 2 * FORK_ROUNDS, len(lines)
    assert sum(l == "cpid: 0" for l in lines) == FORK_ROUNDS


def test_forked_spinners_spread_over_cpus():
    out = run("spread", "spread")
    check_result(out)
