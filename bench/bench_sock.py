#!/usr/bin/env python3
"""Socket benchmarks over 127.0.0.1 (user/bench/netbench.c), measured the way iperf3 and netperf do:
TCP stream with 1 and 4 flows (128 KiB writes), UDP stream (1 KiB datagrams as fast as possible,
receiver-side Mbit/s and loss %), TCP_RR, TCP_CRR and UDP_RR (64-byte request/response), and
netperf's TCP_STREAM and UDP_STREAM with 16 KiB socket buffers and 1 KiB messages (the OS contest's
settings). Each test runs SECONDS (3) and reports the receiver's figure.

Ember: one boot per test (release kernel, ip=off, /bench/netbench as init with the test after "--"),
so a test that fails, hangs or takes the kernel down costs only its own rows: they stay in the
table with no value and the reason in the note. qemu-user: one run of every test on the host's
Linux (qemu-riscv64-static), quoted in the note.

Anchors (../shared/anchors): the Linux 6.1 guest's iperf3 loopback figures where they exist (TCP 1
and 4 streams); otherwise the OS contest's baseline, and the note says so. Not like for like: the
contest runs iperf3 for 2 s and netperf for 1 s, its parallel TCP uses 5 streams, and its figures
come from another machine. Speed is measured, never asserted.

  bench/bench_sock.py [-t SECONDS] [--reps N] [--tests tcp:1,udp,...] [--no-ember] [--no-host]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from qemu import BUILD, KERNEL, Qemu  # noqa: E402

PROGRAM = os.path.join(BUILD, "user", "bench", "netbench")
INITRAMFS = os.path.join(BUILD, "initramfs.cpio")
LINE = re.compile(r"^bench (\S+) ([\d.]+) (\S+)$", re.M)
ERROR = re.compile(r"^netbench: .*$", re.M)
SECONDS = 3

# test (netbench arguments) -> its rows: (name, unit, Linux guest anchor, contest baseline, what the
# contest measured)
TESTS = {
    "tcp:1": [("tcp_stream_1", "Mbit/s", 1823, 796, "iperf3 BASIC_TCP")],
    "tcp:4": [("tcp_stream_4", "Mbit/s", 2065, 1280, "iperf3 PARALLEL_TCP, 5 streams")],
    "udp": [("udp_stream", "Mbit/s", None, 393, "iperf3 BASIC_UDP -b 1000G"),
            ("udp_stream_loss", "%", None, None, None)],
    "tcp_rr": [("tcp_rr", "trans/s", None, 2018, "netperf TCP_RR")],
    "tcp_crr": [("tcp_crr", "trans/s", None, 390.5, "netperf TCP_CRR")],
    "udp_rr": [("udp_rr", "trans/s", None, 2070, "netperf UDP_RR")],
    "netperf_tcp": [("netperf_tcp_stream", "Mbit/s", None, 79.75, "netperf TCP_STREAM")],
    "netperf_udp": [("netperf_udp_stream", "Mbit/s", None, 27.5, "netperf UDP_STREAM"),
                    ("netperf_udp_stream_loss", "%", None, None, None)],
}


def first_line(e):
    return (str(e).strip().splitlines() or [repr(e)])[0]


def ember_run(test, secs):
    """One boot running one test: ({name: value}, reason it failed or "")."""
    if not os.path.exists(KERNEL) or not os.path.exists(INITRAMFS):
        return {}, "kernel or initramfs not built (make)"
    args = " ".join(test.split(":"))
    q = Qemu(kernel=KERNEL, name=f"bench-sock-{test.replace(':', '-')}",
             extra=("-initrd", INITRAMFS, "-append", f"ip=off rdinit=/bench/netbench -- -t {secs} {args}"))
    why = ""
    try:
        m = q.expect(r"init exited with status (\d+)", 4 * secs + 120)
        if m.group(1) != "0":
            why = f"netbench exited with status {m.group(1)}"
    except AssertionError as e:        # timeout, or QEMU died: keep what was printed
        why = first_line(e)
    finally:
        q.close()
    log = q.log()
    vals = {m.group(1): float(m.group(2)) for m in LINE.finditer(log)}
    errors = [e for e in ERROR.findall(log) if "bytes in" not in e and "transactions in" not in e
              and "datagrams of" not in e]
    specific = [e for e in errors if " failed: " not in e]
    if errors:                         # netbench's own words say more than the exit status
        why = "; ".join((specific or errors)[-2:])
    elif why and re.search(r"panic", log, re.I):
        why += "; kernel panic: " + re.search(r".*panic.*", log, re.I).group(0).strip()
    return vals, why


def host_run(tests, secs):
    """Every test in one qemu-user run: ({name: value}, reason or "")."""
    if not os.path.exists(PROGRAM):
        return {}, "netbench not built (make)"
    args = [a for t in tests for a in t.split(":")]
    try:
        p = subprocess.run(["qemu-riscv64-static", PROGRAM, "-t", str(secs), *args], capture_output=True,
                           timeout=len(tests) * (4 * secs + 40))
    except (OSError, subprocess.TimeoutExpired) as e:
        return {}, first_line(e)
    out, err = p.stdout.decode(), p.stderr.decode()
    vals = {m.group(1): float(m.group(2)) for m in LINE.finditer(out)}
    fails = [line for line in err.splitlines() if "failed" in line]
    return vals, "; ".join(fails)


def median(vals):
    return round(statistics.median(vals), 2) if vals else None


def measure(secs=SECONDS, reps=1, tests=tuple(TESTS), ember=True, host=True):
    ember_vals = {}                    # name -> [values]
    ember_why = {}                     # test -> reason of the last failure
    host_vals = {}
    for _ in range(reps):
        if ember:
            for t in tests:
                print(f"sock: ember {t} ...", flush=True)
                vals, why = ember_run(t, secs)
                for k, v in vals.items():
                    ember_vals.setdefault(k, []).append(v)
                if why:
                    ember_why[t] = why
                    print(f"sock: ember {t}: {why}", flush=True)
        if host:
            print("sock: qemu-user ...", flush=True)
            vals, why = host_run(tests, secs)
            for k, v in vals.items():
                host_vals.setdefault(k, []).append(v)
            if why:
                print(f"sock: qemu-user: {why}", flush=True)
    rows = []
    for t in tests:
        for name, unit, linux, contest, what in TESTS[t]:
            runs = ember_vals.get(name, [])
            v = median(runs)
            notes = []
            if reps > 1 and runs:
                notes.append("runs " + ", ".join(f"{x:.4g}" for x in runs))
            if ember and v is None:
                notes.append(f"Ember: {ember_why.get(t) or 'no result'}")
            elif not ember:
                notes.append("Ember not run")
            h = median(host_vals.get(name, []))
            if host:
                notes.append(f"qemu-user on the host: {'-' if h is None else f'{h:.4g}'} {unit}")
            anchor = linux if linux is not None else contest
            if contest is not None:
                notes.append(("anchor = " if linux is None else "") + f"contest {what} baseline {contest:g}")
            rows.append({"name": f"sock: {name}", "value": v, "unit": unit, "anchor": anchor,
                         "better": "lower" if unit == "%" else "higher", "contest": contest,
                         "qemu_user": h, "note": "; ".join(notes)})
            # Ember only: the stack lock's share of the test (netbench reads ember_netstat)
            for kind, what in (("held", "held"), ("wait", "waited for")):
                lock = median(ember_vals.get(f"{name}_stack_lock_{kind}", []))
                if lock is not None:
                    rows.append({"name": f"sock: {name} stack lock {kind}", "value": lock, "unit": "%",
                                 "anchor": None, "better": "lower",
                                 "note": f"time the stack lock was {what}, summed over the squeues, "
                                         "in % of one CPU over the test"})
    return rows


def run():
    """Rows for bench/run.py."""
    return measure()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-t", "--seconds", type=float, default=SECONDS)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--tests", default=",".join(TESTS), help="comma-separated: " + ",".join(TESTS))
    ap.add_argument("--no-ember", action="store_true")
    ap.add_argument("--no-host", action="store_true")
    a = ap.parse_args()
    tests = [t for t in a.tests.split(",") if t]
    bad = [t for t in tests if t not in TESTS]
    if bad:
        ap.error(f"unknown tests {bad}; known: {', '.join(TESTS)}")
    secs = int(a.seconds) if a.seconds == int(a.seconds) else a.seconds
    rows = measure(secs, a.reps, tests, not a.no_ember, not a.no_host)
    for r in rows:
        v = "-" if r["value"] is None else f"{r['value']:.4g}"
        anchor = f"{r['anchor']:g}" if r.get("anchor") else "-"
        print(f"{r['name']:32} {v:>9} {anchor:>7} {r['unit']:8} {r.get('note', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
