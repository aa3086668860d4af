#!/usr/bin/env python3
"""ICMP echo round trips through the stack (Stage 5 foundation bench): per NIC model over a tap.

For each model in tests/system/nics.NICS: boot the release kernel with -smp 4 in a fresh network
namespace (tap0 = 192.168.77.1/24, MTU 1500; the guest is 192.168.77.2 by `ip=`), then
  host->guest: the host sends N echo requests (tests/system/hostping.py, raw ICMP socket, 56 data
               bytes, 20 ms apart); round trip per request as the host measures it;
  guest->host: the kernel's monitor `ping` sends N to the host; round trips as the guest measures;
and once, on the first model, `ping 127.0.0.1` inside the guest (lo through the squeues).
Each row is the median of N (min and max in the note). No Linux figure (the old anchor quoted a stale
linux-guest.md). Speed is measured, never asserted. Needs
root and network namespaces for the tap rows; the loopback row needs neither.

  bench/bench_ping.py [--count N] [--models id,id]
"""
import argparse
import json
import os
import re
import statistics
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from nics import NICS, PYTHON, TapNamespace, qemu_cmd, tap_unavailable  # noqa: E402
from qemu import Qemu, TEST_KERNEL as KERNEL  # noqa: E402  (monitor commands: the test kernel)

HOSTPING = os.path.join(ROOT, "tests", "system", "hostping.py")
GUEST, HOST = "192.168.77.2", "192.168.77.1"
RTT_RE = r"rtt min/avg/max = ([\d.]+)/([\d.]+)/([\d.]+) ms, median ([\d.]+) ms"


def summary(vals):
    return {"median": round(statistics.median(vals), 3), "min": round(min(vals), 3), "max": round(max(vals), 3),
            "n": len(vals)} if vals else None


def guest_ping(q, addr, count):
    """The kernel's ping, quiet (a console line per reply would disturb the timing)."""
    out = q.command(f"ping -q -c {count} -i 20 {addr}", timeout=count + 60)   # the monitor takes 8 words
    m = re.search(RTT_RE, out)
    n = re.search(r"(\d+) received", out)
    if not m:
        return None
    return {"median": float(m.group(4)), "min": float(m.group(1)), "max": float(m.group(3)), "n": int(n.group(1))}


def wait_address(q, timeout=30):
    import time
    deadline = time.monotonic() + timeout
    while not re.search(r"net: eth0 inet 192\.168\.77\.2/24", q.log()):
        if time.monotonic() > deadline:
            raise RuntimeError("guest address not configured")
        time.sleep(0.1)


def measure_model(nic, index, count, loopback):
    tap = TapNamespace(f"embping{os.getpid() % 100000}-{index}", mtu=1500)
    q = None
    res = {"model": nic.id}
    try:
        q = Qemu(kernel=KERNEL, name=f"bench-ping-{nic.id}",
                 cmd=qemu_cmd([*tap.netdev("n0"), *nic.args("n0"), "-append",
                               f"ip={GUEST}::{HOST}:255.255.255.0::eth0:off"], kernel=KERNEL, prefix=tap.prefix()))
        q.boot()
        wait_address(q)
        tap.ns([PYTHON, HOSTPING, GUEST, "--count", "3"], timeout=60)          # warm up ARP on both sides
        r = tap.ns([PYTHON, HOSTPING, GUEST, "--count", str(count), "--interval", "0.02"], timeout=count + 60)
        hp = json.loads(r.stdout.strip().splitlines()[-1])
        res["host_to_guest"] = summary(hp["rtt_ms"])
        res["host_to_guest_lost"] = len(hp["lost"])
        res["guest_to_host"] = guest_ping(q, HOST, count)
        if loopback:
            res["loopback"] = guest_ping(q, "127.0.0.1", count)
        res["sqstat"] = q.command("sqstat")
    except Exception as e:  # one model's failure must not hide the others
        res["error"] = str(e).splitlines()[0]
    finally:
        if q:
            q.close()
        tap.close()
    return res


def loopback_only(count):
    q = Qemu(kernel=KERNEL, name="bench-ping-lo")
    try:
        q.boot()
        return guest_ping(q, "127.0.0.1", count)
    finally:
        q.close()


def rows_for(results):
    rows = []
    for r in results:
        m = r["model"]
        if "error" in r:
            rows.append({"name": f"ping {m}", "value": None, "unit": "ms", "anchor": None, "note": r["error"]})
            continue
        for key, label in (("host_to_guest", "host->guest"), ("guest_to_host", "guest->host")):
            s = r.get(key)
            anchor = None
            note = f"min {s['min']} max {s['max']} of {s['n']}" if s else "no replies"
            if key == "host_to_guest" and r.get("host_to_guest_lost"):
                note += f", {r['host_to_guest_lost']} lost"
            rows.append({"name": f"ping rtt {label} {m}", "value": s["median"] if s else None, "unit": "ms",
                         "anchor": anchor, "better": "lower", "note": note})
        if r.get("loopback"):
            s = r["loopback"]
            rows.append({"name": "ping rtt loopback in guest", "value": s["median"], "unit": "ms", "anchor": None,
                         "better": "lower", "note": f"min {s['min']} max {s['max']} of {s['n']}"})
    return rows


def measure(count=50, models=()):
    reason = tap_unavailable()
    if reason:
        print(f"ping: tap rows skipped: {reason}")
        lo = loopback_only(count)
        return [{"model": "none", "loopback": lo, "host_to_guest": None, "guest_to_host": None}] if lo else []
    chosen = [n for n in NICS if not models or n.id in models]
    return [measure_model(nic, i, count, loopback=(i == 0)) for i, nic in enumerate(chosen)]


def run():
    """Rows for bench/run.py."""
    return rows_for(measure())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--models", default="", help="comma-separated model ids (default: all)")
    a = ap.parse_args()
    results = measure(a.count, set(filter(None, a.models.split(","))))
    for row in rows_for(results):
        v = "-" if row["value"] is None else f"{row['value']:.3f}"
        print(f"{row['name']:44} {v:>8} {row['unit']}  {row.get('note', '')}")
    for r in results:
        if r.get("sqstat"):
            print(f"\n{r['model']} squeues after the run:\n{r['sqstat'].strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
