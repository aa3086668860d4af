"""Stage 1 system tests: boot on 4 harts, interrupts, console input, scheduler self-tests,
panics and power-off. Each boots QEMU -smp 4 (unless it says otherwise) with a timeout."""
import re
import subprocess
import time

import pytest

from qemu import KERNEL, TEST_KERNEL, Qemu


def parse_row(out, label):
    m = re.search(rf"^\s*{label}:((?:\s+\d+)+)", out, re.M)
    assert m, f"no {label} row in:\n{out}"
    return [int(x) for x in m.group(1).split()]


def test_all_harts_online(ember):
    assert "4 of 4 harts online" in ember.log()
    out = ember.command("cpus")
    assert "4 cpus online" in out
    rows = re.findall(r"^\s*(\d+)\s+(\d+)\s+yes\s", out, re.M)
    assert sorted(int(hart) for _, hart in rows) == [0, 1, 2, 3]


def test_banner_lists_devices(ember):
    log = ember.log()
    assert "memory: 512 MiB at 0x80000000" in log
    assert len(re.findall(r"virtio_mmio@1000[1-8]000\s+virtio,mmio", log)) == 8
    for dev in ("serial@10000000", "plic@c000000", "pci@30000000", "test@100000"):
        assert dev in log


def test_timer_interrupts_on_every_hart(ember):
    first = parse_row(ember.command("irqs"), "LOC")
    time.sleep(0.5)
    second = parse_row(ember.command("irqs"), "LOC")
    assert len(first) == 4 and len(second) == 4
    # 0.5 s at SCHED_HZ = 100 is ~50 ticks per hart; demand a good part of them on every hart
    assert all(b - a >= 20 for a, b in zip(first, second)), (first, second)


def test_serial_input_arrives_by_plic_interrupt(ember):
    before = parse_row(ember.command("irqs"), "10")
    # typed slowly, one byte at a time: each must be echoed by the monitor
    for ch in "uptime":
        ember.send(ch)
        ember.expect(re.escape(ch), 10)
    ember.send("\r")
    ember.expect(r"uptime \d+\.\d+ s", 10)
    ember.expect("ember> ")
    after = parse_row(ember.command("irqs"), "10")
    assert sum(after) - sum(before) >= len("uptime\r"), (before, after)


def test_spinlock_stress_is_exact(ember):
    out = ember.command("selftest spin 2 20000", timeout=120)
    assert re.search(r"selftest spin: PASS counter 160000 expected 160000 threads 8 cpus-seen 0xf", out), out


def test_waitqueue_pingpong_between_harts(ember):
    out = ember.command("selftest pingpong 3000", timeout=120)
    m = re.search(r"selftest pingpong: PASS rounds 3000 token 6000 errors 0 cpus (\d),(\d)", out)
    assert m, out
    assert m.group(1) != m.group(2)


def test_sleep_and_timeout(ember):
    out = ember.command("selftest sleep 100", timeout=30)
    assert "selftest sleep: PASS" in out, out


def test_timer_storm_leaves_the_cpu_working(ember):
    """A timer re-added from its own handler just ahead of now (kernel/timer.c's minimum gap
    between timer interrupts): the thread on that CPU keeps at least a tenth of its progress (without the gap: none)."""
    out = ember.command("selftest storm", timeout=60)
    assert "selftest storm: PASS" in out, out


def test_woken_thread_runs_before_the_busy_cpus_tick(ember):
    """An urgent thread (squeue worker, NIC poll thread) woken onto a CPU a spinning thread keeps
    busy preempts the spinner before that CPU's next tick (kernel/sched.c). Before, it waited for
    the tick: 0/20 rounds. A plain thread woken there, and a new thread whose creator keeps its
    CPU busy, are queued on an idle CPU by the wake-up (kthread_start) itself ("Wake placement"):
    20/20 rounds each; without placement 0/20 (they waited for an idle CPU's tick to be stolen,
    0.4-18 ms, or for the busy CPU's)."""
    out = ember.command("selftest wake", timeout=60)
    assert "selftest wake: PASS" in out, out


def test_unknown_command(ember):
    assert "unknown command 'frobnicate'" in ember.command("frobnicate")


def test_kernel_fault_panics_with_backtrace(ember):
    ember.send("fault\r")
    ember.expect(r"KERNEL PANIC on cpu \d: load page fault in kernel", 20)
    ember.expect(r"stval 0x10\b")
    ember.expect(r"faulting pc: 0x[0-9a-f]+ fault_deref\+0x")
    ember.expect(r"backtrace:")
    ember.expect(r"selftest_fault\+0x")
    ember.expect(r"monitor_thread\+0x")
    assert ember.wait_exit(20) != 0


@pytest.mark.parametrize("kind,cause", [
    ("wtext", r"store page fault"),            # text is R+X, never W
    ("xdata", r"instruction page fault"),      # data is R+W, never X
    ("deadlock", r"self-deadlock on spinlock 'fault_lock'"),
    ("sleepatomic", r"sleeping in atomic context at lib.sleeplock.c"),   # might_sleep()
])
def test_protection_and_lock_faults_panic(ember, kind, cause):
    ember.send(f"fault {kind}\r")
    ember.expect(rf"KERNEL PANIC on cpu \d: .*{cause}", 20)
    ember.expect(r"selftest_fault\+0x")
    assert ember.wait_exit(20) != 0


def test_poweroff_exits_zero(ember):
    ember.send("poweroff\r")
    ember.expect("powering off")
    assert ember.wait_exit(20) == 0


# Functions that only the test kernel's diagnostics define (kernel/debug/, net/debug/).
DEBUG_SYMBOLS = ("monitor_thread", "selftest_cmd", "selftest_fault", "cmd_sqstress", "cmd_tcpsink",
                 "cmd_tcpsend", "stack_ping", "net_cmds_init", "rxsink_tap_fn")


def kernel_text_symbols(path):
    out = subprocess.run(["riscv64-unknown-elf-nm", path], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if len(line.split()) == 3}


def test_release_kernel_has_no_debug_code():
    """The shipping kernel links none of the self-test, stress or monitor code; the test kernel has
    all of it (so the check could fail)."""
    assert not set(DEBUG_SYMBOLS) & kernel_text_symbols(KERNEL)
    assert set(DEBUG_SYMBOLS) <= kernel_text_symbols(TEST_KERNEL)


def test_release_kernel_without_init_says_so_and_powers_off():
    q = Qemu(kernel=KERNEL, name="release-no-init")
    try:
        q.expect(r"no init: boot with an initramfs", 60)
        assert q.wait_exit(20) != 0
        assert "ember>" not in q.log()
    finally:
        q.close()


def test_other_machine_shapes(boot):
    """Nothing is hard-coded: 2 harts with 1 GiB, and 1 hart with 128 MiB, come up the same."""
    q = boot(smp=2, mem="1G")
    assert "2 of 2 harts online" in q.log() and "memory: 1024 MiB" in q.log()
    assert "selftest spin: PASS" in q.command("selftest spin 2 5000", timeout=120)
    q.send("poweroff\r")
    assert q.wait_exit(20) == 0
    q = boot(smp=1, mem="128M")
    assert "1 of 1 harts online" in q.log() and "memory: 128 MiB" in q.log()
    assert "selftest pingpong: PASS" in q.command("selftest pingpong 500", timeout=120)


def test_make_run_boots_to_the_shell():
    """The README's `make run` boots 4 harts into busybox's login shell (/init runs /bin/sh -l),
    which runs programs by name through PATH; `exit` ends the shell, then init, and QEMU exits
    with status 0. /init's own mini shell (no arguments) stays for the tests that type at it."""
    q = Qemu(cmd=["make", "-s", "run"], name="make-run")
    try:
        q.expect("4 of 4 harts online", 60)
        q.expect(r"Ember: busybox v1\.\d+", 60)
        q.expect(r"ember:~# ")
        q.send("hello one two\r")
        q.expect(r"hello from pid \d+: hello one two", 30)
        q.expect(r"ember:~# ")
        q.send("echo $((6 * 7)) $(basename $0)\r")
        q.expect(r"\n42 sh\n", 30)
        q.expect(r"ember:~# ")
        q.send("exit\r")
        q.expect("init exited with status 0", 30)
        assert q.wait_exit(30) == 0
    finally:
        q.close()
