#!/usr/bin/env python3
"""Host side of the system-call fuzzer (user/fuzz/sysfuzz.c, issue 17 item 2).

Boots Ember (the release kernel, -smp 4 -m 512M) with /bin/sysfuzz under /init and watches the
console. The verdict of one run:
  clean          sysfuzz printed "result PASS";
  kernel-panic   the kernel printed KERNEL PANIC;
  kernel-hang    no heartbeat for HB_TIMEOUT_S and the guest does not answer ping on its tap;
  user-hang      a worker STUCK/UNKILLABLE (printed with its last calls), or no heartbeat while the
                 guest still answers ping (the fuzzer's parent does not run);
  hang           no heartbeat, and no tap to ping (not root): kernel or user undetermined;
  unexplained    a worker died of a signal it did not send itself (printed with its last calls);
  failed         anything else (QEMU exited early, no result line).
Ping needs root (a network namespace with a tap, as the tap tests); without it the run still goes,
and a hang is reported as undetermined.

Every finding is kept in the corpus (tests/fuzz-corpus/ by default): a small text file with the
campaign seed, the worker seed and call count that replay it (`sysfuzz -r WSEED -n CALLS`,
or `scripts/fuzz.py --replay FILE`), the verdict and the worker's last calls. A panic keeps the seed
and the kernel's panic text (the workers' rings die with the kernel).

  scripts/fuzz.py --seconds 300 --seeds 1 2 3         a campaign (make fuzz SECONDS=300 SEEDS="1 2 3")
  scripts/fuzz.py --replay tests/fuzz-corpus/X.txt     replay one reproducer inside Ember
"""
import argparse
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from qemu import BUILD, KERNEL, Qemu  # noqa: E402
import nics  # noqa: E402

INITRD = os.path.join(BUILD, "initramfs.cpio")
CORPUS = os.path.join(ROOT, "tests", "fuzz-corpus")
HB_TIMEOUT_S = 15           # no heartbeat for this long: a hang (the fuzzer prints one every second)
BOOT_S = 60
GUEST_IP, HOST_IP = "192.168.77.2", "192.168.77.1"
HB = re.compile(r"^sysfuzz: hb t=(\d+) calls=(\d+)", re.M)
RESULT = re.compile(r"^sysfuzz: result (PASS|FAIL) (.*)$", re.M)
BLOCK = re.compile(r"^sysfuzz: (UNEXPLAINED|STUCK|UNKILLABLE) worker \d+ pid \d+ seed (0x[0-9a-f]+) after (\d+) calls; "
                   r"last calls:\n((?:sysfuzz:   .*\n|sysfuzz: fault: .*\n)*)sysfuzz: reproduce: sysfuzz -r (0x[0-9a-f]+) -n (\d+)",
                   re.M)


def ping(tap):
    r = tap.ns([nics.PYTHON, os.path.join(ROOT, "tests", "system", "hostping.py"), GUEST_IP, "--count", "3",
                "--interval", "0.3", "--timeout", "2"], timeout=60, check=False)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])["received"] > 0
    except (ValueError, IndexError, KeyError):
        return False


def boot(cmdline, name, use_tap, smp=4, mem="512M"):
    """A Qemu running /init -- cmdline; with a tap (and the guest's static address) when asked and
    possible. Returns (qemu, tap or None, why no tap)."""
    why = nics.tap_unavailable() if use_tap else "not asked for"
    tap = None
    extra = ["-initrd", INITRD]
    append = f"rdinit=/init -- {cmdline}"
    if not why:
        tap = nics.TapNamespace(f"embfuzz{os.getpid() % 100000}", mtu=1500)
        extra += [*tap.netdev("n0"), *nics.NICS[0].args("n0")]
        append = f"ip={GUEST_IP}::{HOST_IP}:255.255.255.0::eth0:off " + append
    cmd = nics.qemu_cmd([*extra, "-append", append], kernel=KERNEL, smp=smp, mem=mem,
                        prefix=tap.prefix() if tap else ())
    return Qemu(name=name, cmd=cmd), tap, why


def watch(q, tap, why_no_tap, seconds):
    """Follow the console until a verdict: (verdict, detail)."""
    start = time.monotonic()
    last_hb_len, last_hb_t = 0, time.monotonic()
    seen_hb = False
    while True:
        time.sleep(0.5)
        out = q.log()
        if "KERNEL PANIC" in out:
            time.sleep(2)
            out = q.log()
            return "kernel-panic", out[out.index("KERNEL PANIC"):][:3000]
        m = RESULT.search(out)
        if m:
            if m.group(1) == "PASS":
                return "clean", m.group(0)
            if re.search(r"^sysfuzz: (STUCK|UNKILLABLE) worker", out, re.M):
                return "user-hang", m.group(0)
            if "UNEXPLAINED" in out:
                return "unexplained", m.group(0)
            return "failed", m.group(0)
        hbs = HB.findall(out)
        if len(hbs) != last_hb_len:
            last_hb_len, last_hb_t, seen_hb = len(hbs), time.monotonic(), True
        now = time.monotonic()
        if q.proc.poll() is not None:
            return "failed", f"QEMU exited ({q.proc.returncode}) without a result line"
        limit = HB_TIMEOUT_S if seen_hb else BOOT_S
        if now - last_hb_t > limit:
            if tap is None:
                return "hang", f"no heartbeat for {limit} s; kernel or user space undetermined ({why_no_tap})"
            if ping(tap):
                return "user-hang", f"no heartbeat for {limit} s but the guest answers ping: the fuzzer's parent is stuck"
            return "kernel-hang", f"no heartbeat for {limit} s and no answer to ping"
        if now - start > seconds + BOOT_S + 60:
            return "failed", "no result line in time"


def keep_findings(out, seed, verdict, detail, corpus, tag):
    """One corpus file per finding; returns their paths."""
    os.makedirs(corpus, exist_ok=True)
    files = []
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    for m in BLOCK.finditer(out):
        kind, wseed, ncalls = m.group(1), m.group(5), m.group(6)
        path = os.path.join(corpus, f"{stamp}-{tag}-seed{seed}-{kind.lower()}-{wseed}.txt")
        with open(path, "w") as f:
            f.write(f"# sysfuzz reproducer: {kind} in a campaign (seed {seed}), {tag}\n")
            f.write(f"campaign_seed={seed}\nworker_seed={wseed}\ncalls={ncalls}\nkind={kind.lower()}\n")
            f.write(f"replay: sysfuzz -r {wseed} -n {ncalls}\n# last calls:\n")
            f.write("".join(line.replace("sysfuzz:   ", "", 1) + "\n" for line in m.group(4).splitlines()))
            report = out.find("sysrq: Show State", m.end())
            if report >= 0:     # the kernel's side (sysfuzz's kernel_report): threads and CPUs
                end = out.find("sysfuzz: kernel report ends", report)
                f.write("# kernel report (/proc/sysrq-trigger tl):\n")
                f.write("".join("# " + line + "\n" for line in out[report:end if end > 0 else None].splitlines()))
        files.append(path)
    if verdict in ("kernel-panic", "kernel-hang", "hang") or (verdict != "clean" and not files):
        path = os.path.join(corpus, f"{stamp}-{tag}-seed{seed}-{verdict}.txt")
        with open(path, "w") as f:
            f.write(f"# sysfuzz finding: {verdict} (seed {seed}), {tag}\ncampaign_seed={seed}\nkind={verdict}\n")
            f.write(f"replay: sysfuzz -s {seed} (the whole campaign)\n# detail:\n{detail}\n# console tail:\n")
            f.write(out[-4000:])
        files.append(path)
    return files


def run_seed(seed, seconds, workers=4, corpus=CORPUS, use_tap=True, keep=True, name=None, extra_args=""):
    name = name or f"fuzz-seed{seed}"
    q, tap, why = boot(f"/bin/sysfuzz -s {seed} -t {seconds} -w {workers} -d /tmp {extra_args}".strip(), name, use_tap)
    try:
        verdict, detail = watch(q, tap, why, seconds)
        out = q.log()
    finally:
        q.close()
        if tap:
            tap.close()
    calls = HB.findall(out)
    m = RESULT.search(out)
    res = {"seed": seed, "seconds": seconds, "workers": workers, "verdict": verdict, "detail": detail[:2000],
           "calls": int(re.search(r"calls=(\d+)", m.group(2)).group(1)) if m else (int(calls[-1][1]) if calls else 0),
           "ping": why is None, "files": []}
    if keep and verdict != "clean":
        res["files"] = keep_findings(out, seed, verdict, detail, corpus, "ember-smp4")
    return res, out


def replay(path, seconds_limit=120):
    text = open(path).read()
    m = re.search(r"^worker_seed=(0x[0-9a-f]+)\ncalls=(\d+)", text, re.M)
    if not m:
        print(f"{path}: not a worker reproducer (campaign seed only: run `scripts/fuzz.py --seeds N`)")
        return 2
    q, tap, why = boot(f"/bin/sysfuzz -r {m.group(1)} -n {m.group(2)} -d /tmp", "fuzz-replay", False)
    try:
        q.expect(r"init exited with status \d+|KERNEL PANIC", seconds_limit)
        time.sleep(1)
        out = q.log()
    finally:
        q.close()
    print(out[-6000:])
    r = RESULT.search(out)
    return 0 if r and r.group(1) == "PASS" and "KERNEL PANIC" not in out else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--corpus", default=CORPUS)
    ap.add_argument("--no-tap", action="store_true", help="do not ping (hangs stay undetermined)")
    ap.add_argument("--replay", help="replay one corpus file inside Ember")
    a = ap.parse_args()
    if a.replay:
        return replay(a.replay)
    total, bad = 0, 0
    for seed in a.seeds:
        res, _ = run_seed(seed, a.seconds, a.workers, a.corpus, not a.no_tap)
        total += res["calls"]
        bad += res["verdict"] != "clean"
        print(json.dumps(res), flush=True)
    print(f"fuzz: {len(a.seeds)} seeds x {a.seconds} s, -smp 4: {total} calls, {bad} runs with findings")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
