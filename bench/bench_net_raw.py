#!/usr/bin/env python3
"""Raw-frame throughput per NIC model over a tap device (Stage 4 bench).

For each model in tests/system/nics.NICS: boot the release kernel with -smp 4 in a fresh network
namespace whose tap0 is the NIC's backend, then
  host -> guest: the guest arms `rxwait eth0 N`, the host sends N frames of one size with an
                 AF_PACKET socket; the guest reports frames/s and Mbit/s between its first and last
                 arrival, and the interrupts it took;
  guest -> host: the host binds an AF_PACKET receiver, the guest runs `txburst eth0 N size`; the
                 rate is the host's, first to last arrival (all N must arrive), the interrupts the
                 guest's.
Each figure is the median of three runs. The host queues its whole burst in the tap at once, so a
host->guest rate is the guest's drain rate when the guest is the slower side, else the host's.
Mbit/s counts Ethernet frame bytes (no FCS, preamble or gap). Interrupts per 1000 frames show the
polling mode at work: far below 1000 when frames come faster than the guest drains them.
Speed is measured here and never asserted. Needs root and working network namespaces; without
them the bench says why and returns no rows.

`make bench` (bench/run.py) calls run(): one row per model, direction and frame size (Mbit/s, with
frames/s and interrupts per 1000 frames in the note). Standalone it prints its own table and writes
bench/results/net_raw.json:

  bench/bench_net_raw.py [--frames N] [--sizes 60,1514] [--models id,id] [--reps 3]
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from nics import NICS, TapNamespace, qemu_cmd, tap_unavailable  # noqa: E402
from qemu import PROMPT, Qemu, TEST_KERNEL as KERNEL  # noqa: E402

RESULTS = os.path.join(ROOT, "bench", "results")
RATE_RE = r"(\d+) frames (\d+) bytes in (\d+)\.(\d+) s: (\d+) frames/s (\d+\.\d) Mbit/s"


def host_to_guest(q, tap, frames, size):
    q.send(f"rxwait eth0 {frames} 120000\r")
    q.expect(rf"rxwait eth0: waiting for {frames} frames\n", 30)
    tap.send(frames, sizes=[size])
    m = q.expect(rf"rxwait eth0: (done|timeout) {RATE_RE}\n", 180)
    irq = q.expect(r"rxwait eth0: interrupts (\d+) polls (\d+)", 30)
    q.expect(re.escape(PROMPT), 30)
    got = int(m.group(2))
    return {"frames": got, "complete": m.group(1) == "done", "fps": int(m.group(6)), "mbit": float(m.group(7)),
            "interrupts": int(irq.group(1)), "polls": int(irq.group(2))}


def guest_to_host(q, tap, frames, size):
    rcv = tap.start_receiver(frames, timeout=180, idle=15)
    out = q.command(f"txburst eth0 {frames} {size}", timeout=240)
    g = re.search(rf"txburst eth0: {RATE_RE}", out)
    irq = re.search(r"txburst eth0: busy (\d+) interrupts (\d+) polls (\d+)", out)
    res = rcv.result()
    secs = res["seconds"] or 1e-9
    return {"frames": res["frames"], "complete": res["frames"] == frames,
            "fps": int(res["frames"] / secs), "mbit": round(res["bytes"] * 8 / secs / 1e6, 1),
            "guest_fps": int(g.group(5)) if g else None,
            "interrupts": int(irq.group(2)) if irq else None, "busy": int(irq.group(1)) if irq else None}


def one(fn, q, tap, frames, size):
    try:
        r = fn(q, tap, frames, size)
    except (AssertionError, subprocess.SubprocessError, RuntimeError) as e:
        return {"error": str(e).splitlines()[0]}
    if r.get("interrupts") is not None and r.get("frames"):
        r["irq_per_1000"] = round(r["interrupts"] * 1000 / r["frames"], 1)
    return r


def run_model(nic, frames, sizes, index, reps):
    """Median of `reps` runs (by Mbit/s) per direction and size, on one booted guest."""
    rows = []
    tap = TapNamespace(f"embbench{os.getpid() % 100000}-{index}")
    q = None
    try:
        q = Qemu(kernel=KERNEL, name=f"bench-net-{nic.id}",
                 cmd=qemu_cmd([*tap.netdev("n0"), *nic.args("n0")], kernel=KERNEL, prefix=tap.prefix()))
        q.boot()
        for size in sizes:
            for direction, fn in (("host->guest", host_to_guest), ("guest->host", guest_to_host)):
                runs = [one(fn, q, tap, frames, size) for _ in range(reps)]
                good = sorted((r for r in runs if "error" not in r), key=lambda r: r["mbit"])
                r = dict(good[len(good) // 2]) if good else runs[0]
                r["runs_mbit"] = [x.get("mbit") for x in runs]
                rows.append({"model": nic.id, "direction": direction, "size": size, **r})
    finally:
        if q:
            q.close()
        tap.close()
    return rows


def print_table(rows):
    hdr = f"{'model':26} {'direction':12} {'size':>5} {'frames':>7} {'frames/s':>9} {'Mbit/s':>8} {'irq/1000':>9}"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        if "error" in r:
            print(f"{r['model']:26} {r['direction']:12} {r['size']:>5}  error: {r['error']}")
            continue
        irq = r.get("irq_per_1000")
        print(f"{r['model']:26} {r['direction']:12} {r['size']:>5} {r['frames']:>7} {r['fps']:>9} {r['mbit']:>8.1f} "
              f"{irq if irq is not None else '-':>9}{'' if r['complete'] else '  INCOMPLETE'}")


def measure(frames=20000, sizes=(60, 1514), models=(), reps=3):
    rows = []
    for i, nic in enumerate(n for n in NICS if not models or n.id in models):
        rows += run_model(nic, frames, list(sizes), i, reps)
    return rows


def run():
    """Rows for bench/run.py."""
    reason = tap_unavailable()
    if reason:
        print(f"net_raw: skipped: {reason}")
        return []
    rows = measure()
    print_table(rows)
    out = []
    for r in rows:
        name = f"raw {r['model']} {r['direction']} {r['size']} B"
        if "error" in r:
            out.append({"name": name, "value": None, "unit": "Mbit/s", "anchor": None, "note": r["error"]})
            continue
        irq = r.get("irq_per_1000")
        out.append({"name": name, "value": r["mbit"], "unit": "Mbit/s", "anchor": None, "better": "higher",
                    "note": f"{r['fps']} frames/s, {irq if irq is not None else '-'} irq/1000 frames"
                            f"{'' if r['complete'] else ', INCOMPLETE'}"})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--sizes", default="60,1514")
    ap.add_argument("--models", default="", help="comma-separated model ids (default: all)")
    ap.add_argument("--reps", type=int, default=3, help="runs per measurement (the median is kept)")
    a = ap.parse_args()
    reason = tap_unavailable()
    if reason:
        print(f"net_raw: skipped: {reason}")
        return 0
    if not os.path.exists(KERNEL):
        print(f"net_raw: {KERNEL} missing: run make first")
        return 1
    want = set(filter(None, a.models.split(",")))
    rows = measure(a.frames, [int(s) for s in a.sizes.split(",")], want, a.reps)
    print_table(rows)
    os.makedirs(RESULTS, exist_ok=True)
    qemu_version = subprocess.run(["qemu-system-riscv64", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    doc = {"bench": "net_raw", "date": datetime.datetime.now().isoformat(timespec="seconds"),
           "host": {"cpus": os.cpu_count(), "machine": platform.machine(), "qemu": qemu_version},
           "guest": {"smp": 4, "mem": "512M", "kernel": os.path.relpath(KERNEL, ROOT)},
           "frames_per_run": a.frames, "reps": a.reps, "rows": rows}
    path = os.path.join(RESULTS, "net_raw.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    print(f"net_raw: wrote {os.path.relpath(path, ROOT)}")
    return 0 if all("error" not in r and r["complete"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
