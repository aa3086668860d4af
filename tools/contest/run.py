#!/usr/bin/env python3
"""Boot kernel-rv on an sdcard with the judge's QEMU line and score it as the judge does (`make contest`).

The QEMU line is the judge's (../shared/oscomp/README.md, run_qemu.py): -bios default, no -initrd,
no -append, the sdcard on virtio-blk-device on virtio-mmio-bus.0, virtio-net with user networking,
-no-reboot; standard input gets one newline and is closed. A timeout ends QEMU (it is our own child:
killed by its pid). The console is split at the group markers
  #### OS COMP TEST GROUP START <group>-<libc> ####  ...  #### OS COMP TEST GROUP END <group>-<libc> ####
and each group's lines are piped to ../shared/oscomp/judge/judge_<group>-<libc>.py, whose JSON list
of cases is summed: points = sum of "score"; maximum = sum of "all" ("total") for pass/fail groups,
2 per case for the benchmark groups (their per-case score is 2 - 1/s, below 2). A case fails when
it passed less than all of its points, or (benchmark groups) when it has no result (score 0).
A table is printed and the whole result (with the judge's per-case JSON) is written to
bench/results/contest-smp<N>-<UTC time>.json; the console log goes beside it.

Usage: run.py --kernel kernel-rv --img build/contest/sdcard-rv.img --smp 1|4 [--timeout S]
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time

# As the judge's run.py (parse_serial_out): a START opens a group, any line holding an END marker
# (of whatever group) or another START closes the open one.
START = re.compile(r"#### OS COMP TEST GROUP START ([a-zA-Z0-9-]+) ####")
END = "#### OS COMP TEST GROUP END"
BENCH = {"iperf", "netperf", "cyclictest", "libcbench", "lmbench", "iozone", "unixbench"}
ORDER = ["basic", "busybox", "lua", "libctest", "iozone", "unixbench", "iperf", "libcbench",
         "lmbench", "cyclictest", "netperf", "ltp"]


def judge_cmd(kernel, img, smp, mem):
    return ["qemu-system-riscv64", "-machine", "virt", "-kernel", kernel, "-m", mem, "-nographic",
            "-smp", str(smp), "-bios", "default",
            "-drive", f"file={img},if=none,format=raw,id=x0",
            "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
            "-no-reboot", "-device", "virtio-net-device,netdev=net", "-netdev", "user,id=net",
            "-rtc", "base=utc"]


def boot(cmd, timeout, log_path):
    """Run QEMU, echo and log its console; returns (text, seconds, timed_out)."""
    t0 = time.time()
    out = []
    with open(log_path, "wb") as log:
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        p.stdin.write(b"\n")
        p.stdin.close()
        os.set_blocking(p.stdout.fileno(), False)
        timed_out = False
        while True:
            chunk = None
            try:
                chunk = p.stdout.read(65536)
            except BlockingIOError:
                pass
            if chunk:
                out.append(chunk)
                log.write(chunk)
                log.flush()
                if os.environ.get("CONTEST_ECHO", "1") == "1":
                    sys.stdout.buffer.write(chunk)
                    sys.stdout.flush()
            elif p.poll() is not None:
                rest = p.stdout.read() or b""
                out.append(rest)
                log.write(rest)
                break
            else:
                time.sleep(0.05)
            if time.time() - t0 > timeout:
                timed_out = True
                p.kill()
                p.wait()
                break
    return b"".join(out).decode("utf-8", "replace"), time.time() - t0, timed_out


def split_groups(text):
    """{group-libc: [lines]} for every START marker (see START/END above); ended: closed by an END."""
    groups, cur, ended = {}, None, set()
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        m = START.search(line)
        if END in line or m:
            if cur is not None and not m:
                ended.add(cur)
            cur = None
            if m:
                cur = m.group(1)
                groups[cur] = []
            continue
        if cur is not None:
            groups[cur].append(line)
    return groups, ended


def score_group(judge_dir, name, lines):
    group = name.rsplit("-", 1)[0]
    script = os.path.join(judge_dir, f"judge_{name}.py")
    if not os.path.exists(script):
        return None
    r = subprocess.run([sys.executable, script], input="\n".join(lines) + "\n", text=True,
                       capture_output=True, timeout=120)
    try:
        cases = json.loads(r.stdout)
    except ValueError:
        return {"error": (r.stderr or r.stdout)[-2000:], "points": 0, "max": 0, "failed": ["judge error"],
                "cases": []}
    points = sum(float(c.get("score", 0)) for c in cases)
    if group in BENCH:
        maximum = 2.0 * len(cases)
        failed = [f'{c["name"]}' for c in cases if float(c.get("score", 0)) <= 0]
        low = [f'{c["name"]}={float(c.get("score", 0)):.2f}' for c in cases
               if 0 < float(c.get("score", 0)) <= 1.5]
    else:
        maximum = sum(float(c.get("all", c.get("total", 1))) for c in cases)
        failed = [c["name"] for c in cases
                  if float(c.get("pass", 0)) < float(c.get("all", c.get("total", 1)))]
        low = []
    return {"points": round(points, 3), "max": maximum, "failed": failed, "at_or_below_1.5": low,
            "cases": cases}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default="kernel-rv")
    ap.add_argument("--img", default="build/contest/sdcard-rv.img")
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--mem")
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--judge", default=None)
    ap.add_argument("--results", default="bench/results")
    ap.add_argument("--log", help="score an existing console log instead of booting")
    a = ap.parse_args()
    mem = a.mem or ("1G" if a.smp == 1 else "2G")
    judge_dir = a.judge
    if not judge_dir:
        for up in ("..", "../.."):
            d = os.path.join(up, "shared", "oscomp", "judge")
            if os.path.isdir(d):
                judge_dir = d
                break
    if not judge_dir:
        print("contest: ../shared/oscomp/judge is absent: nothing to score with; stopping.")
        return 2
    os.makedirs(a.results, exist_ok=True)
    stamp = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
    base = os.path.join(a.results, f"contest-smp{a.smp}-{stamp}")
    cmd = judge_cmd(a.kernel, a.img, a.smp, mem)
    if a.log:
        with open(a.log, encoding="utf-8", errors="replace") as f:
            text = f.read()
        secs, timed_out = 0.0, False
    else:
        print("contest: " + " ".join(cmd), flush=True)
        text, secs, timed_out = boot(cmd, a.timeout, base + ".log")
    groups, ended = split_groups(text)
    rows = []
    for name in sorted(groups, key=lambda n: (n.rsplit("-", 1)[-1] != "musl",
                                              ORDER.index(n.rsplit("-", 1)[0])
                                              if n.rsplit("-", 1)[0] in ORDER else 99, n)):
        res = score_group(judge_dir, name, groups[name])
        if res is None:
            continue
        res["group"] = name
        res["ended"] = name in ended
        rows.append(res)
    print()
    print(f"contest: smp {a.smp}, -m {mem}: {secs:.0f} s{' (TIMED OUT)' if timed_out else ''}"
          f"{', powered off' if not timed_out and not a.log else ''}")
    print(f"{'group':<18} {'points':>8} {'max':>6}  failed cases")
    for r in rows:
        fl = ", ".join(r["failed"])
        if r.get("at_or_below_1.5"):
            fl += ("; " if fl else "") + "<=1.5: " + ", ".join(r["at_or_below_1.5"])
        if not r["ended"]:
            fl += ("; " if fl else "") + "(no END marker)"
        print(f"{r['group']:<18} {r['points']:>8.2f} {r['max']:>6.0f}  {fl}")
    total = sum(r["points"] for r in rows)
    print(f"{'total':<18} {total:>8.2f}")
    with open(base + ".json", "w") as f:
        json.dump({"smp": a.smp, "mem": mem, "seconds": round(secs, 1), "timed_out": timed_out,
                   "qemu": cmd, "total": total, "groups": rows}, f, indent=1)
    print(f"contest: results in {base}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
