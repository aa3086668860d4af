"""The real, unmodified network tools (iperf3 3.12, netperf/netserver 2.7.0, static riscv64 binaries
from ../shared/anchors/linux-guest/bin) packed into an initramfs and run by a shell script inside a
guest: shared by tests/system/test_realtools.py (Ember) and bench/bench_realtools.py (Ember and the
Linux guest side by side).

A script is a list of (name, command line). Each command runs under `timeout` with its output framed
by "@@BEGIN name@@" and "@@END name rc=N@@" lines; parse() splits a console log into {name: (rc,
output)} and the rate parsers read iperf3's and netperf's result lines."""
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile

from qemu import BUILD, ROOT

CMD_TIMEOUT = 40             # seconds one client run may take inside the guest before `timeout` ends it


def shared_dir():
    """<repo>/../shared (the directory beside the checkout), else /work/shared; None if neither."""
    for d in (os.path.join(ROOT, "..", "shared"), os.path.join(ROOT, "..", "..", "shared"), "/work/shared"):
        if os.path.isdir(d):
            return os.path.abspath(d)
    return None


def guest_dir():
    s = shared_dir()
    return os.path.join(s, "anchors", "linux-guest") if s else None


def linux_image():
    """The Linux guest kernel for the network rows, or None: Image-blk when present (the same
    drivers as Image plus IPv6, ext4 and virtio-blk, so the IPv6 rows have an anchor too), else
    Image (IPv4 only)."""
    g = guest_dir()
    for name in ("Image-blk", "Image"):
        if g and os.path.isfile(os.path.join(g, name)):
            return os.path.join(g, name)
    return None


def bin_dir():
    """Where the real binaries are, or None."""
    g = guest_dir()
    b = os.path.join(g, "bin") if g else None
    if b and all(os.path.isfile(os.path.join(b, n)) for n in ("iperf3", "netperf", "netserver")):
        return b
    return None


def why_absent():
    s = shared_dir()
    if not s:
        return (f"no ../shared beside the checkout ({os.path.join(ROOT, '..', 'shared')}) "
                "nor /work/shared: the real iperf3/netperf binaries live there")
    return f"{s}/anchors/linux-guest/bin lacks iperf3, netperf or netserver"


def script_text(steps, prologue=""):
    """A busybox sh script that runs each step framed by markers, then powers off (exit)."""
    lines = ["#!/bin/sh", "export PATH=/opt/real:/bin:/sbin:/usr/bin:/usr/sbin", "cd /tmp", prologue]
    for name, cmd in steps:
        lines.append(f"echo '@@BEGIN {name}@@'")
        lines.append(f"timeout {CMD_TIMEOUT} {cmd} 2>&1")
        lines.append(f"echo \"@@END {name} rc=$?@@\"")
    lines.append("echo '@@DONE@@'")
    return "\n".join(lines) + "\n"


def pack(dest, script, base_root=None, extra_files=(), dev_nodes=False):
    """Write a newc cpio at dest: base_root's tree (Ember's build/rootfs) or a bare tree, plus
    /opt/real/{iperf3,netperf,netserver}, /run.sh = script, and extra_files [(src, path)];
    dev_nodes: /dev/console and /dev/null device nodes (a Linux initramfs needs them)."""
    b = bin_dir()
    with tempfile.TemporaryDirectory() as d:
        root = os.path.join(d, "root")
        if base_root:
            shutil.copytree(base_root, root, symlinks=True)
        else:
            os.makedirs(root)
        os.makedirs(os.path.join(root, "opt", "real"), exist_ok=True)
        os.makedirs(os.path.join(root, "tmp"), exist_ok=True)
        for n in ("iperf3", "netperf", "netserver"):
            shutil.copy(os.path.join(b, n), os.path.join(root, "opt", "real", n))
            os.chmod(os.path.join(root, "opt", "real", n), 0o755)
        for src, path in extra_files:
            p = os.path.join(root, path.lstrip("/"))
            os.makedirs(os.path.dirname(p), exist_ok=True)
            shutil.copy(src, p)
            os.chmod(p, 0o755)
        if dev_nodes:
            os.makedirs(os.path.join(root, "dev"), exist_ok=True)
            os.mknod(os.path.join(root, "dev", "console"), 0o600 | stat.S_IFCHR, os.makedev(5, 1))
            os.mknod(os.path.join(root, "dev", "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        with open(os.path.join(root, "run.sh"), "w") as f:
            f.write(script)
        os.chmod(os.path.join(root, "run.sh"), 0o755)
        names = subprocess.run("find . | LC_ALL=C sort", shell=True, cwd=root, capture_output=True,
                               check=True).stdout
        with open(dest, "wb") as out:
            subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], input=names, cwd=root, stdout=out,
                           check=True)
    return dest


def ember_rootfs():
    return os.path.join(BUILD, "rootfs")


SECTION = re.compile(r"@@BEGIN (\S+)@@\n(.*?)@@END \1 rc=(\d+)@@", re.S)


def parse(log):
    return {m.group(1): (int(m.group(3)), m.group(2)) for m in SECTION.finditer(log.replace("\r", ""))}


UNITS = {"bits/sec": 1e-6, "Kbits/sec": 1e-3, "Mbits/sec": 1.0, "Gbits/sec": 1e3}
IPERF_LINE = re.compile(r"^\[\s*(SUM|\d+)\].*?\s([\d.]+) ([KMG]?bits/sec).*?\b(sender|receiver)\b", re.M)


def iperf_rate(out):
    """Mbit/s of an iperf3 text report: the receiver's SUM line when there is one, else the sum of
    the receiver lines (per direction, --bidir gives two; their sum is returned). None if absent."""
    rx = [(m.group(1), float(m.group(2)) * UNITS[m.group(3)]) for m in IPERF_LINE.finditer(out)
          if m.group(4) == "receiver"]
    if not rx:
        return None
    sums = [r for tag, r in rx if tag == "SUM"]
    return sum(sums) if sums else sum(r for _, r in rx)


def iperf_json(out):
    """The JSON object iperf3 -J printed (None if it did not parse)."""
    i, j = out.find("{"), out.rfind("}")
    if i < 0 or j < i:
        return None
    try:
        return json.loads(out[i:j + 1])
    except ValueError:
        return None


NUM_ROW = re.compile(r"^[ \t]*(\d+(?:\.\d+)?(?:[ \t]+\d+(?:\.\d+)?){2,})[ \t]*$", re.M)


def netperf_rate(out):
    """The result of a netperf run: the last figure of its last all-numeric row (throughput in
    10^6 bits/s for *_STREAM/MAERTS/SENDFILE, whose last row is the receiver's for UDP_STREAM;
    transactions/s for *_RR/CRR, whose result row is the first). None if absent."""
    rows = [m.group(1).split() for m in NUM_ROW.finditer(out)]
    rows = [r for r in rows if len(r) >= 4]
    if not rows:
        return None
    if "Trans" in out:
        return float(rows[0][-1])
    return float(rows[-1][-1])
