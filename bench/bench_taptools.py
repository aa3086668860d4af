#!/usr/bin/env python3
"""The real iperf3 between the host and a guest over a tap per NIC model, Ember (the shipping
kernel) and the Linux 6.1 guest (../shared/anchors/linux-guest/Image-blk, else Image:
realtools.linux_image()) side by side in one run.

For each model in tests/system/nics.NICS: a network namespace holding tap0 (192.168.77.1/24, MTU
1500), and in each rep two boots, Ember then Linux (alternating, -smp 4 -m 512M, QEMU inside the
namespace), each guest running the static iperf3 3.12 of linux-guest/bin as `iperf3 -s` on
192.168.77.2. The host's own iperf3 (Debian's package) runs in the namespace as the client:
  host->guest: `iperf3 -c 192.168.77.2 -t SECONDS -O 1 -J`, the receiver's (the guest's) rate;
  guest->host: the same with -R, the receiver's (the host's) rate.
and the same two over IPv6 (rows "... v6"): the client runs `iperf3 -6 -c fe80::...%tap0`, to the
guest's link-local address, which both kernels form from the MAC the bench gives the NIC
(GUEST_MAC, EUI-64); the namespace's tap has IPv6 on (fd77::1/64 and its own link-local address).
Image-blk has IPv6; a Linux guest kernel built without it (no "PF_INET6" at boot: linux-guest/Image)
has no anchor for those rows, and the note says so.
A row's value is Ember's median over the reps, its anchor the Linux guest's median from this run;
the note has min/median/max of both. A failed run (a guest that did not boot, a client that failed
or a hang: the Linux guest's 8139cp is known to hang under load on QEMU 7.2) counts as missing and
the note says how many. Speed is measured, never asserted.

Needs root and network namespaces, the host's iperf3, and ../shared (skipped, saying why, without).

  bench/bench_taptools.py [-t SECONDS] [--reps N] [--models id,id]     (TAPTOOLS_REPS=N for make bench)
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))

import realtools  # noqa: E402
import sidebyside  # noqa: E402
from nics import NICS, TapNamespace, qemu_cmd, tap_unavailable  # noqa: E402
from qemu import BOOT_TIMEOUT, KERNEL, Qemu  # noqa: E402

GUEST, HOST = "192.168.77.2", "192.168.77.1"
PORT = 5201
SECONDS = 4
REPS = int(os.environ.get("TAPTOOLS_REPS", "5"))
MTU = 1500
CLIENT_SLACK = 30            # seconds a client may run beyond its -t before it counts as hung
READY_RETRY = 15             # seconds the first client keeps retrying a refused connection
DIRS = ("host->guest", "guest->host", "host->guest v6", "guest->host v6")
GUEST_MAC = "52:54:00:12:34:79"
GUEST6 = "fe80::5054:ff:fe12:3479"           # the link-local address of GUEST_MAC (EUI-64)
HOST6 = "fd77::1/64"
LINUX_PROLOGUE = """
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
ip link set lo up; ip link set eth0 mtu {mtu} up; ip addr add {guest}/24 dev eth0
""".format(mtu=MTU, guest=GUEST)
SERVE = "iperf3 -s -p {port} >/dev/null 2>&1 &\necho @@READY@@\nwhile true; do sleep 1000; done\n".format(port=PORT)


def ember_cpio(dest):
    script = "#!/bin/sh\nexport PATH=/opt/real:/bin:/sbin:/usr/bin:/usr/sbin\n" + SERVE
    return realtools.pack(dest, script, base_root=realtools.ember_rootfs())


def linux_cpio(dest):
    busybox = os.path.join(realtools.guest_dir(), "bin", "busybox")
    script = "#!/bin/busybox sh\nexport PATH=/opt/real:/bin:/sbin:/usr/bin:/usr/sbin\n" + LINUX_PROLOGUE + SERVE
    return realtools.pack(dest, script, extra_files=[(busybox, "/bin/busybox")], dev_nodes=True)


def client(tap, reverse, secs, v6=False):
    """Mbit/s at the receiver of one host iperf3 run; raises RuntimeError saying why it failed."""
    to = ["-6", "-c", f"{GUEST6}%{tap.iface}"] if v6 else ["-c", GUEST]
    cmd = ["iperf3", *to, "-p", str(PORT), "-t", str(secs), "-O", "1", "-J", *(["-R"] if reverse else [])]
    deadline = time.monotonic() + READY_RETRY
    while True:
        try:
            r = tap.ns(cmd, timeout=secs + 1 + CLIENT_SLACK, check=False)
        except subprocess.TimeoutExpired:
            raise RuntimeError("the client hung")
        out = realtools.iperf_json(r.stdout) or {}
        err = out.get("error") or (r.stderr.strip() if r.returncode else "")
        if not err:
            break
        if "refused" in err and time.monotonic() < deadline:
            time.sleep(1)
            continue
        raise RuntimeError(f"iperf3 failed: {err}")
    bps = out.get("end", {}).get("sum_received", {}).get("bits_per_second")
    if not bps:
        raise RuntimeError("iperf3 gave no receiver rate")
    return bps / 1e6


def one_boot(nic, tap, kind, kernel, cpio, append, rep, secs):
    """{direction: Mbit/s or None}, [why a run failed]."""
    nic_args = nic.args("n0")
    nic_args[-1] += f",mac={GUEST_MAC}"        # the -device argument: a MAC whose EUI-64 is GUEST6
    cmd = qemu_cmd([*tap.netdev("n0"), *nic_args, "-initrd", cpio, "-append", append],
                   kernel=kernel, prefix=tap.prefix())
    q = Qemu(name=f"bench-taptools-{nic.id}-{kind}-{rep}", cmd=cmd)
    vals, why = dict.fromkeys(DIRS), []
    try:
        try:
            q.expect("@@READY@@", BOOT_TIMEOUT)
        except AssertionError as e:
            return vals, [f"{kind} did not boot: {str(e).splitlines()[0]}"]
        for d in DIRS:
            if d.endswith(" v6") and kind == "linux" and "PF_INET6" not in q.log():
                why.append(f"{kind} {d}: the guest kernel has no IPv6 (no PF_INET6 at boot)")
                continue           # its client would only hang
            try:
                vals[d] = client(tap, d.startswith("guest->host"), secs, v6=d.endswith(" v6"))
            except RuntimeError as e:
                why.append(f"{kind} {d}: {e}")
            if q.proc.poll() is not None:
                why.append(f"{kind} guest exited")
                break
            time.sleep(1)          # iperf3's server reopens its listener between tests
    finally:
        q.close()
    return vals, why


def skipped(why):
    return [{"name": "real iperf3 tap", "value": None, "unit": "", "anchor": None, "note": "skipped: " + why}]


def measure(secs=SECONDS, reps=REPS, models=()):
    why = tap_unavailable()
    if why:
        return skipped(why)
    if not shutil.which("iperf3"):
        return skipped("the host has no iperf3 (Debian package iperf3)")
    if not realtools.bin_dir() or not realtools.linux_image():
        return skipped(realtools.why_absent() if not realtools.bin_dir() else "no linux-guest/Image-blk or Image")
    work = os.path.join(os.path.dirname(KERNEL), "taptools")
    os.makedirs(work, exist_ok=True)
    ember_kernel = os.path.join(work, "kernel.elf")
    shutil.copy(KERNEL, ember_kernel)          # a rebuild during the run does not change it
    ip = f"ip={GUEST}::{HOST}:255.255.255.0::eth0:off"
    kernels = {
        "ember": (ember_kernel, ember_cpio(os.path.join(work, "ember.cpio")), f"{ip} rdinit=/init -- /bin/sh /run.sh"),
        "linux": (realtools.linux_image(), linux_cpio(os.path.join(work, "linux.cpio")),
                  "console=ttyS0 rdinit=/run.sh"),
    }
    rows = []
    for nic in NICS:
        if models and nic.id not in models:
            continue
        vals = {k: {d: [] for d in DIRS} for k in kernels}
        fails = {k: [] for k in kernels}
        tap = TapNamespace(f"bench-taptools-{os.getpid()}", addr=f"{HOST}/24", mtu=MTU, txqueuelen=1000, addr6=HOST6)
        try:
            for rep in range(reps):
                for kind, (kernel, cpio, append) in kernels.items():
                    got, why = one_boot(nic, tap, kind, kernel, cpio, append, rep, secs)
                    for d, v in got.items():
                        if v:
                            vals[kind][d].append(v)
                    fails[kind] += why
                    print(f"  {nic.id} rep {rep + 1}/{reps} {kind}: " + ", ".join(
                        f"{d} {got[d]:.4g}" if got[d] else f"{d} fail" for d in DIRS)
                        + (f" ({'; '.join(why)})" if why else ""), flush=True)
        finally:
            tap.close()
        for d in DIRS:
            failed = "".join(f"; {kind} failed {reps - len(vals[kind][d])}x ({fails[kind][0] if fails[kind] else 'no result'})"
                             for kind in kernels if len(vals[kind][d]) < reps)
            rows.append(sidebyside.row(f"real iperf3 tap {nic.id} {d}", "Mbit/s", vals["ember"][d], vals["linux"][d],
                                       reps, failed))
    return rows


def run():
    """Rows for bench/run.py."""
    return measure()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("-t", "--seconds", type=int, default=SECONDS)
    ap.add_argument("--models", default="", help="comma-separated NIC ids (default: all)")
    a = ap.parse_args()
    sidebyside.print_rows(measure(a.seconds, a.reps, [m for m in a.models.split(",") if m]))


if __name__ == "__main__":
    main()
