#!/usr/bin/env python3
"""TCP throughput through lwIP and the squeues, before sockets: the kernel's raw-API sender and sink
(monitor `tcpsend` / `tcpsink`, net/tcptest.c) against each other over lo, and against a host peer
(tests/system/hosttcp.py) over a tap per NIC model.

Rows (Mbit/s of payload, median of --reps runs):
  loopback 1 and 4 connections (ip=off guest, release kernel);
  per NIC model: guest->host (the guest's tcpsend, time to the last ACK) and host->guest (the host's
  sender, connect to close).
These rows have no Linux figure: a Linux guest has no raw-API sender (the kernel writes from a
kernel buffer and the sink discards in the stack, so they are an upper bound for what sockets get on
top). The real iperf3 side by side with the Linux guest, measured in the same run, is
bench_realtools.py. Speed is measured, never asserted. Also prints the squeue counters after each guest's run.

  bench/bench_tcp.py [--mib N] [--reps R] [--models id,id] [--no-tap]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from nics import NICS, PYTHON, TapNamespace, qemu_cmd, tap_unavailable  # noqa: E402
from qemu import Qemu, TEST_KERNEL as KERNEL  # noqa: E402  (monitor commands: the test kernel)

HOSTTCP = os.path.join(ROOT, "tests", "system", "hosttcp.py")
GUEST, HOST = "192.168.77.2", "192.168.77.1"
SEND_RE = r"tcpsend: (\d+) connections?, (\d+) bytes acknowledged in [\d.]+ s: ([\d.]+) Mbit/s(.*)"


def guest_send(q, addr, port, mib, conns=1):
    out = q.command(f"tcpsend {addr} {port} {mib} {conns}", timeout=600)
    m = re.search(SEND_RE, out)
    if not m or "errors" in m.group(4):
        raise RuntimeError(f"tcpsend failed: {out.strip()[-200:]}")
    return float(m.group(3))


def median_row(name, vals, anchor, note=""):
    vals = [v for v in vals if v is not None]
    v = round(statistics.median(vals), 1) if vals else None
    runs = ", ".join(f"{x:.0f}" for x in vals)
    return {"name": name, "value": v, "unit": "Mbit/s", "anchor": anchor, "better": "higher",
            "note": f"runs {runs}{'; ' + note if note else ''}"}


def loopback(mib, reps):
    q = Qemu(kernel=KERNEL, name="bench-tcp-lo", extra=["-append", "ip=off"])
    rows = []
    try:
        q.boot()
        q.command("tcpsink 5001")
        for conns in (1, 4):
            vals = [guest_send(q, "127.0.0.1", 5001, max(1, mib // conns), conns) for _ in range(reps)]
            rows.append(median_row(f"tcp loopback raw-API {conns} conn", vals, None,
                                   "kernel sender -> kernel sink, no socket copies"))
        print(q.command("sqstat").strip())
    finally:
        q.close()
    return rows


def host_sink_run(tap, q, mib):
    p = subprocess.Popen([*tap.prefix(), PYTHON, HOSTTCP, "sink", "5002"], stdout=subprocess.PIPE, text=True)
    try:
        if p.stdout.readline().strip() != "READY":
            raise RuntimeError("host sink did not start")
        v = guest_send(q, HOST, 5002, mib)
        res = json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1])
        if res["bytes"] != [mib << 20]:
            raise RuntimeError(f"host sink got {res['bytes']}")
        return v
    finally:
        p.kill()


def host_send_run(tap, mib):
    r = tap.ns([PYTHON, HOSTTCP, "send", GUEST, "5001", "--mib", str(mib)], timeout=600)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    return res["bytes"][0] * 8 / res["seconds"] / 1e6


def tap_model(nic, index, mib, reps):
    tap = TapNamespace(f"embtcp{os.getpid() % 100000}-{index}", mtu=1500)
    q = None
    try:
        q = Qemu(kernel=KERNEL, name=f"bench-tcp-{nic.id}",
                 cmd=qemu_cmd([*tap.netdev("n0"), *nic.args("n0"), "-append",
                               f"ip={GUEST}::{HOST}:255.255.255.0::eth0:off"], kernel=KERNEL, prefix=tap.prefix()))
        q.boot()
        deadline = time.monotonic() + 30
        while not re.search(r"net: eth0 inet 192\.168\.77\.2/24", q.log()):
            if time.monotonic() > deadline:
                raise RuntimeError("guest address not configured")
            time.sleep(0.1)
        q.command("tcpsink 5001")
        h2g = g2h = None            # no Linux raw-API counterpart (see the docstring)
        out = [median_row(f"tcp {nic.id} guest->host raw-API", [host_sink_run(tap, q, mib) for _ in range(reps)], g2h),
               median_row(f"tcp {nic.id} host->guest raw-API", [host_send_run(tap, mib) for _ in range(reps)], h2g)]
        print(f"{nic.id}:\n{q.command('sqstat').strip()}")
        return out
    except Exception as e:  # one model's failure must not hide the others
        return [{"name": f"tcp {nic.id}", "value": None, "unit": "Mbit/s", "anchor": None,
                 "note": str(e).splitlines()[0]}]
    finally:
        if q:
            q.close()
        tap.close()


def measure(mib=64, reps=3, models=(), tap=True):
    rows = loopback(mib, reps)
    reason = tap_unavailable()
    if not tap or reason:
        if reason:
            print(f"tcp: tap rows skipped: {reason}")
        return rows
    for i, nic in enumerate(n for n in NICS if not models or n.id in models):
        rows += tap_model(nic, i, mib, reps)
    return rows


def run():
    """Rows for bench/run.py."""
    return measure()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--models", default="")
    ap.add_argument("--no-tap", action="store_true")
    a = ap.parse_args()
    rows = measure(a.mib, a.reps, set(filter(None, a.models.split(","))), not a.no_tap)
    for r in rows:
        v = "-" if r["value"] is None else f"{r['value']:.1f}"
        anchor = f"{r['anchor']}" if r.get("anchor") else "-"
        print(f"{r['name']:46} {v:>9} {anchor:>6} Mbit/s  {r.get('note', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
