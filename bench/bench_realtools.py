#!/usr/bin/env python3
"""The real, unmodified iperf3 3.12 and netperf 2.7.0 on Ember (the shipping kernel) and on the
Linux 6.1 guest (../shared/anchors/linux-guest/Image-blk, which has IPv6 for the ::1 rows, else
Image), side by side in one run, over loopback.

Each rep boots Ember, then Linux (alternating), on the same QEMU line (-smp 4 -m 512M, one
virtio-net-device on user networking so glibc's getaddrinfo finds an address), and runs every row
once inside the guest from a script (tests/system/realtools.py): iperf3 TCP 1 and 4 streams, -R,
UDP -b 1000G, TCP 1 and 4 streams over IPv6 (-6 -c ::1) (-t SECONDS against an iperf3 -s -D); netperf TCP_STREAM, TCP_RR, TCP_CRR, UDP_RR with
the contest's flags (-l 1). A row's value is Ember's median over the reps, its anchor the Linux
guest's median from this same run; the note has min/median/max of both. A failed run counts as
missing (the note says how many).

  bench/bench_realtools.py [--reps N] [-t SECONDS]      (REALTOOLS_REPS=N for make bench)
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))

import realtools  # noqa: E402
import sidebyside  # noqa: E402
from qemu import BUILD, KERNEL, OPENSBI, Qemu  # noqa: E402

REPS = int(os.environ.get("REALTOOLS_REPS", "5"))
SECONDS = 2
BOOT_BUDGET = 300            # seconds one guest may take for the whole script
CONTEST = "-s 16k -S 16k -m 1k -M 1k"
CONTEST_RR = CONTEST + " -r 64,64 -R 1"
NIC = ("-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0")
LINUX_PROLOGUE = """
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
ip link set lo up; ip addr add 10.0.2.15/24 dev eth0; ip link set eth0 up
"""


def rows_spec(secs):
    """(row name, step name, command, parser, unit)"""
    ip = "127.0.0.1"
    ic = f"iperf3 -c {ip} -p 5201 -t {secs} -i 0"
    ic6 = f"iperf3 -c ::1 -p 5201 -t {secs} -i 0"
    nc = f"netperf -H {ip} -p 12865 -l 1 -t"
    it, nt = realtools.iperf_rate, realtools.netperf_rate
    return [
        ("real iperf3 lo tcp 1 stream", "tcp1", ic, it, "Mbit/s"),
        ("real iperf3 lo tcp -P 4", "tcp4", f"{ic} -P 4", it, "Mbit/s"),
        ("real iperf3 lo tcp -R", "tcpR", f"{ic} -R", it, "Mbit/s"),
        ("real iperf3 lo udp -b 1000G", "udp", f"{ic} -u -b 1000G", it, "Mbit/s"),
        # IPv6 over ::1, against the same server (dual-stack: iperf3 -s asks for AF_INET6 first)
        ("real iperf3 lo6 tcp 1 stream (::1)", "tcp1_6", f"{ic6} -6", it, "Mbit/s"),
        ("real iperf3 lo6 tcp -P 4 (::1)", "tcp4_6", f"{ic6} -6 -P 4", it, "Mbit/s"),
        ("real netperf lo TCP_STREAM (contest flags)", "TCP_STREAM", f"{nc} TCP_STREAM -- {CONTEST}", nt, "Mbit/s"),
        ("real netperf lo TCP_RR (contest flags)", "TCP_RR", f"{nc} TCP_RR -- {CONTEST_RR}", nt, "trans/s"),
        ("real netperf lo TCP_CRR (contest flags)", "TCP_CRR", f"{nc} TCP_CRR -- {CONTEST_RR}", nt, "trans/s"),
        ("real netperf lo UDP_RR (contest flags)", "UDP_RR", f"{nc} UDP_RR -- {CONTEST_RR}", nt, "trans/s"),
    ]


def script_steps(spec):
    steps = [("iperf_server", "iperf3 -s -p 5201 -D"), ("netserver", "netserver -L 127.0.0.1 -p 12865")]
    return steps + [(step, cmd) for _, step, cmd, _, _ in spec]


def linux_cpio(spec):
    g = realtools.guest_dir()
    busybox = os.path.join(g, "bin", "busybox")
    script = realtools.script_text(script_steps(spec), prologue=LINUX_PROLOGUE).replace(
        "#!/bin/sh", "#!/bin/busybox sh") + "poweroff -f\n"
    dest = os.path.join(BUILD, "realtools-linux.cpio")
    realtools.pack(dest, script, extra_files=[(busybox, "/bin/busybox")], dev_nodes=True)
    return dest


def ember_cpio(spec):
    return realtools.pack(os.path.join(BUILD, "realtools-ember.cpio"), realtools.script_text(script_steps(spec)),
                          base_root=realtools.ember_rootfs())


def boot_once(kind, kernel, cpio, append, rep):
    q = Qemu(kernel=kernel, name=f"bench-realtools-{kind}-{rep}",
             extra=("-initrd", cpio, "-append", append, *NIC))
    try:
        q.expect("@@DONE@@", BOOT_BUDGET)
        return realtools.parse(q.log()), None
    except AssertionError as e:
        return realtools.parse(q.log()), str(e).splitlines()[0]
    finally:
        q.close()


def measure(reps=REPS, secs=SECONDS):
    if not realtools.bin_dir() or not realtools.linux_image():
        why = realtools.why_absent() if not realtools.bin_dir() else "no linux-guest/Image-blk or Image"
        return [{"name": "real tools", "value": None, "unit": "", "anchor": None, "note": "skipped: " + why}]
    spec = rows_spec(secs)
    kernels = {
        "ember": (KERNEL, ember_cpio(spec), "rdinit=/init -- /bin/sh /run.sh"),
        "linux": (realtools.linux_image(), linux_cpio(spec), "console=ttyS0 rdinit=/run.sh"),
    }
    vals = {k: {s[1]: [] for s in spec} for k in kernels}
    fails = {k: {s[1]: 0 for s in spec} for k in kernels}
    for rep in range(reps):
        for kind, (kernel, cpio, append) in kernels.items():       # alternating: ember, linux, ...
            parsed, err = boot_once(kind, kernel, cpio, append, rep)
            for _, step, _, parser, _ in spec:
                rc, out = parsed.get(step, (None, ""))
                v = parser(out) if rc == 0 else None
                if v:
                    vals[kind][step].append(v)
                else:
                    fails[kind][step] += 1
            print(f"  rep {rep + 1}/{reps} {kind}: " + ", ".join(
                f"{s[1]}={vals[kind][s[1]][-1]:.4g}" if len(vals[kind][s[1]]) else f"{s[1]}=fail" for s in spec)
                + (f" ({err})" if err else ""), flush=True)
    rows = []
    for name, step, _, _, unit in spec:
        failed = "".join(f"; {kind} failed {fails[kind][step]}x" for kind in kernels if fails[kind][step])
        rows.append(sidebyside.row(name, unit, vals["ember"][step], vals["linux"][step], reps, failed))
    return rows


def run():
    """Rows for bench/run.py."""
    return measure()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("-t", "--seconds", type=int, default=SECONDS)
    a = ap.parse_args()
    sidebyside.print_rows(measure(a.reps, a.seconds))


if __name__ == "__main__":
    main()
