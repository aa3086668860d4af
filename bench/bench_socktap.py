#!/usr/bin/env python3
"""TCP throughput between a guest USER program using BSD sockets and the host, over a tap per NIC
model: the socket-layer counterpart of bench_tcp.py's raw-API tap rows. No Linux figure here (the
old anchors quoted a stale linux-guest.md); the real iperf3 on Ember and on the Linux guest in the
same run is bench_realtools.py.

For each model in tests/system/nics.NICS: a fresh network namespace (tap0 = 192.168.77.1/24, MTU
1500), the release kernel (-smp 4) with the initramfs and /bench/netbench as init, serving
(`netbench server PORT`, user/bench/netbench.c: a thread per connection, 128 KiB reads and writes).
The host side is this file run as `--peer` inside the namespace, a small Python client speaking
netbench's stream protocol with 1 MiB application buffers (socket buffers left to Linux's
autotuning, as iperf3 leaves them):
  host->guest: "SEND\n", then 128 KiB writes for SECONDS, shutdown; the guest's server answers
               "OK bytes t_first t_eof" from its own clock -> Mbit/s at the receiver (the guest);
  guest->host: "RECV\n", then the guest's server writes 128 KiB blocks; the host counts what
               arrives for SECONDS after the first byte and closes -> Mbit/s at the receiver (host).
Rows "socket tcp MODEL guest->host" / "... host->guest": median of --reps runs of SECONDS each (3 of
5 s; the whole module takes about 3 minutes on a 2-core host); and "... interrupts": the device
interrupts per 10^6 bytes of each run, from the line the guest's server prints after each
connection (netbench: served ... interrupts N, read from its /proc/interrupts). Every step has a
timeout, and the guest is watched while the host peer runs. A failed run leaves its value out (the
note says why, and the console log is printed); a guest that died or hung is rebooted before the
next run, so one failure costs only that run. A guest that does not boot ends its model, two failed runs end a
direction, and no run starts after BUDGET seconds, so a broken kernel cannot stretch the module
much past 6 minutes. Speed is measured, never asserted.

build/kernel.elf and build/initramfs.cpio are copied to a private directory first, so a rebuild
during the run does not change them under QEMU. Needs root and network namespaces (skipped, saying
why, without them).

  bench/bench_socktap.py [-t SECONDS] [--reps N] [--models id,id]
  bench/bench_socktap.py --peer send|recv ADDR PORT SECONDS     (the host side; prints one JSON line)
"""
import argparse
import errno
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from nics import NICS, PYTHON, TapNamespace, qemu_cmd, tap_unavailable  # noqa: E402
from qemu import BOOT_TIMEOUT, BUILD, KERNEL, Qemu  # noqa: E402

ME = os.path.abspath(__file__)
INITRAMFS = os.path.join(BUILD, "initramfs.cpio")
GUEST, HOST = "192.168.77.2", "192.168.77.1"
PORT = 5201
SECONDS = 5
REPS = 3
BLOCK = 128 << 10                 # the host's writes (iperf3's default, like netbench)
RECV_BUF = 1 << 20                # the host's reads
IO_TIMEOUT = 20                   # seconds any one socket call of the peer may block
CONNECT_TIMEOUT = 15              # the peer retries connect() this long (the guest may still be starting)
PEER_SLACK = 60                   # the peer subprocess may take SECONDS + this
LOG_TAIL = 4000
BUDGET = 270                      # seconds after which the module starts no more runs (normally ~3 min)
DIRS = ("guest->host", "host->guest")


def first_line(e):
    return (str(e).strip().splitlines() or [repr(e)])[0]


# ---- the host side (runs inside the namespace) ----

def peer_connect(addr, port):
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(IO_TIMEOUT)
        try:
            s.connect((addr, port))
            return s
        except OSError as e:
            s.close()
            if time.monotonic() > deadline or e.errno not in (errno.ECONNREFUSED, errno.EHOSTUNREACH, None):
                raise RuntimeError(f"connect to {addr}:{port}: {e!r}") from None
            time.sleep(0.2)


def peer_send(addr, port, secs):
    """host->guest: the guest's figures are the receiver's."""
    s = peer_connect(addr, port)
    try:
        s.sendall(b"SEND\n")
        block = memoryview(bytes([0xa5]) * BLOCK)
        sent = 0
        t0 = time.monotonic()
        end = t0 + secs
        while time.monotonic() < end:
            s.sendall(block)
            sent += BLOCK
        t_sent = time.monotonic()
        s.shutdown(socket.SHUT_WR)
        line = b""
        while not line.endswith(b"\n"):
            chunk = s.recv(256)
            if not chunk:
                break
            line += chunk
        m = re.match(rb"OK (\d+) ([\d.]+) ([\d.]+)\n", line)
        if not m:
            raise RuntimeError(f"bad answer from the guest's server: {line[:100]!r}")
        got, g0, g1 = int(m.group(1)), float(m.group(2)), float(m.group(3))
        if got != sent:
            raise RuntimeError(f"the guest received {got} bytes, the host sent {sent}")
        if g1 <= g0:
            raise RuntimeError(f"the guest's times are not increasing: {line!r}")
        return {"mbps": round(got * 8 / (g1 - g0) / 1e6, 1), "bytes": got, "seconds": round(g1 - g0, 3),
                "sender_mbps": round(sent * 8 / (t_sent - t0) / 1e6, 1)}
    finally:
        s.close()


def peer_recv(addr, port, secs):
    """guest->host: the host is the receiver; it counts the bytes after the first read for SECONDS."""
    s = peer_connect(addr, port)
    try:
        s.sendall(b"RECV\n")
        buf = bytearray(RECV_BUF)
        if not s.recv_into(buf):
            raise RuntimeError("the guest's server closed the connection at once")
        t0 = t1 = time.monotonic()
        end = t0 + secs
        got = 0
        while t1 < end:
            n = s.recv_into(buf)
            if not n:
                raise RuntimeError(f"the guest's server closed the connection after {got} bytes")
            got += n
            t1 = time.monotonic()
        return {"mbps": round(got * 8 / (t1 - t0) / 1e6, 1), "bytes": got, "seconds": round(t1 - t0, 3)}
    finally:
        # abortive close (RST): the guest's writer stops at once instead of filling a dead window
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        s.close()


def peer_main(mode, addr, port, secs):
    try:
        r = (peer_send if mode == "send" else peer_recv)(addr, port, secs)
    except socket.timeout:
        why = "the guest stopped sending" if mode == "recv" else "the guest stopped receiving or answering"
        print(json.dumps({"error": f"{why}: a socket call blocked for {IO_TIMEOUT} s"}), flush=True)
        return 1
    except (OSError, RuntimeError, ValueError) as e:
        print(json.dumps({"error": first_line(e) if isinstance(e, RuntimeError) else repr(e)}), flush=True)
        return 1
    print(json.dumps(r), flush=True)
    return 0


# ---- the guest side ----

class Files:
    """Private copies of the kernel and initramfs (a concurrent `make` may rewrite build/)."""

    def __init__(self):
        for f in (KERNEL, INITRAMFS):
            if not os.path.exists(f):
                raise RuntimeError(f"{os.path.relpath(f, ROOT)} not built (make)")
        self.dir = tempfile.mkdtemp(prefix="ember-socktap-")
        self.kernel = os.path.join(self.dir, "kernel.elf")
        self.initrd = os.path.join(self.dir, "initramfs.cpio")
        for attempt in range(5):   # copy a consistent pair: neither file changed while copying
            before = [self._stamp(f) for f in (KERNEL, INITRAMFS)]
            shutil.copyfile(KERNEL, self.kernel)
            shutil.copyfile(INITRAMFS, self.initrd)
            if [self._stamp(f) for f in (KERNEL, INITRAMFS)] == before and time.time() - max(
                    b[1] for b in before) > 1:
                return
            time.sleep(2)
        print("socktap: build/ kept changing while copying the kernel; using the last copy", flush=True)

    @staticmethod
    def _stamp(f):
        st = os.stat(f)
        return (st.st_size, st.st_mtime)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def console_tail(q):
    return f"--- console log ({q.name}, last {LOG_TAIL} chars) ---\n{q.log()[-LOG_TAIL:]}\n--- end of console log ---"


def guest_words(q):
    """What the guest said that explains a failure: netbench's errors, a panic, init's exit."""
    log = q.log()
    lines = [m.group(0).strip() for m in re.finditer(
        r"^.*(netbench: .*|KERNEL PANIC.*|panic.*|lwip: assertion.*|init exited with status \d+).*$", log, re.M | re.I)]
    return "; ".join(lines[-2:])


class Guest:
    """One NIC model's guest on tap0 of `tap`, netbench serving on PORT as init."""

    def __init__(self, nic, tap, files):
        self.nic, self.tap, self.files = nic, tap, files
        self.q = None
        self.boots = 0

    def boot(self):
        self.close()
        self.boots += 1
        cmd = qemu_cmd([*self.tap.netdev("n0"), *self.nic.args("n0"), "-initrd", self.files.initrd, "-append",
                        f"ip={GUEST}::{HOST}:255.255.255.0::eth0:off rdinit=/bench/netbench -- server {PORT}"],
                       kernel=self.files.kernel, prefix=self.tap.prefix())
        self.q = Qemu(name=f"bench-socktap-{self.nic.id}" + (f"-{self.boots}" if self.boots > 1 else ""), cmd=cmd)
        self.q.expect(rf"netbench server listening on port {PORT}", BOOT_TIMEOUT)
        deadline = time.monotonic() + 30
        while not re.search(r"net: eth0 inet 192\.168\.77\.2/24", self.q.log()):
            if time.monotonic() > deadline:
                self.q.fail("the guest's address was not configured")
            time.sleep(0.1)

    def healthy(self):
        return (self.q is not None and self.q.proc.poll() is None
                and not re.search(r"init exited with status|KERNEL PANIC", self.q.log()))

    def close(self):
        if self.q:
            self.q.close()
            self.q = None


def one_run(g, direction, secs):
    """One run's result (the peer's JSON); raises RuntimeError saying why it failed. The guest is
    watched while the peer runs, so a guest that dies or panics ends the run at once."""
    mode = "recv" if direction == "guest->host" else "send"
    p = subprocess.Popen([*g.tap.prefix(), PYTHON, ME, "--peer", mode, GUEST, str(PORT), str(secs)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + secs + PEER_SLACK
    try:
        while True:
            try:
                out, err = p.communicate(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                pass
            if not g.healthy():
                raise RuntimeError("the guest died during the run" if g.q.proc.poll() is None
                                   else f"QEMU exited ({g.q.proc.returncode}) during the run")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the host peer did not finish within {secs + PEER_SLACK:g} s")
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    try:
        res = json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise RuntimeError(f"the host peer failed ({p.returncode}): {(err or out).strip()[-300:]}") from None
    if "error" in res:
        raise RuntimeError(f"host peer: {res['error']}")
    return res


SERVED = re.compile(r"netbench: served (SEND|RECV) bytes (\d+) interrupts (-?\d+)")
SERVED_WAIT = 5                   # seconds the guest may take to print its line after the peer ends


def interrupts_per_mb(g, seen):
    """Device interrupts per MB (10^6 bytes) of the run that just ended: from the guest server's
    "served" line (the seen+1-th in the console log), or None if it does not come."""
    deadline = time.monotonic() + SERVED_WAIT
    while True:
        lines = SERVED.findall(g.q.log())
        if len(lines) > seen:
            _, nbytes, irqs = lines[seen]
            return round(int(irqs) / (int(nbytes) / 1e6), 2) if int(nbytes) and int(irqs) >= 0 else None
        if time.monotonic() > deadline or not g.healthy():
            return None
        time.sleep(0.1)


def irq_row(name, vals):
    got = [v for v in vals if v is not None]
    return {"name": name, "value": round(statistics.median(got), 2) if got else None, "unit": "irq/MB",
            "better": "lower", "note": "device interrupts per 10^6 bytes moved (the guest's /proc/interrupts); "
            f"runs {', '.join(f'{x:.2f}' if x is not None else '-' for x in vals)}" if vals else "no run"}


def median_row(name, vals, anchor, notes):
    got = [v for v in vals if v is not None]
    v = round(statistics.median(got), 1) if got else None
    parts = [f"runs {', '.join(f'{x:.0f}' if x is not None else '-' for x in vals)}"] if vals else []
    parts += notes
    return {"name": name, "value": v, "unit": "Mbit/s", "anchor": anchor, "better": "higher",
            "note": "; ".join(parts)}


class BootFailed(Exception):
    pass


def measure_model(nic, index, files, secs, reps, deadline):
    """Both rows of one model. A failed run is left out (its reason goes in the note) and the guest
    rebooted; a guest that does not boot ends the model, two failed runs end a direction, and no run
    starts after `deadline` (time.monotonic()), so a broken kernel cannot stretch the module."""
    anchors = dict.fromkeys(DIRS)          # no Linux figure (bench_realtools.py has the real tools side by side)
    vals = {d: [] for d in DIRS}
    irqs = {d: [] for d in DIRS}
    notes = {d: [] for d in DIRS}

    def note(d, why):
        if why not in notes[d]:
            notes[d].append(why)

    def failed(d, what, e):
        why = first_line(e)
        if g.q is not None:
            said = guest_words(g.q)
            if said and said not in why:
                why += f" (guest: {said})"
            print(f"socktap: {nic.id} {what} failed: {why}\n{console_tail(g.q)}", flush=True)
            g.close()        # the next run boots a fresh guest
        else:
            print(f"socktap: {nic.id} {what} failed: {why}", flush=True)
        return why

    tap = g = None
    try:
        tap = TapNamespace(f"embstap{os.getpid() % 100000}-{index}", mtu=1500)
        g = Guest(nic, tap, files)
        for d in DIRS:
            for _ in range(reps):
                if time.monotonic() > deadline:
                    note(d, "runs not started: the module's time budget ran out")
                    break
                if vals[d].count(None) >= 2:
                    note(d, "no more runs after 2 failures")
                    break
                if not g.healthy():
                    try:
                        g.boot()
                    except (RuntimeError, AssertionError, OSError) as e:
                        why = "boot failed: " + failed(d, "boot", e)
                        for dd in DIRS:
                            note(dd, why)
                        raise BootFailed from None
                try:
                    seen = len(SERVED.findall(g.q.log()))
                    r = one_run(g, d, secs)
                    vals[d].append(r["mbps"])
                    irqs[d].append(interrupts_per_mb(g, seen))
                    print(f"socktap: {nic.id} {d}: {r['mbps']:.0f} Mbit/s ({r['bytes'] >> 20} MiB in "
                          f"{r['seconds']} s)", flush=True)
                except (RuntimeError, AssertionError, OSError, subprocess.SubprocessError) as e:
                    vals[d].append(None)
                    note(d, failed(d, d, e))
                time.sleep(0.3)          # let the previous connection's close settle
    except BootFailed:
        pass
    except Exception as e:  # the namespace itself: one model's failure must not hide the others
        why = first_line(e)
        print(f"socktap: {nic.id} failed: {why}", flush=True)
        for d in DIRS:
            note(d, why)
    finally:
        if g:
            if g.boots > 1:
                for d in DIRS:
                    note(d, f"{g.boots} boots")
            g.close()
        if tap:
            tap.close()
    return ([median_row(f"socket tcp {nic.id} {d}", vals[d], anchors[d], notes[d]) for d in DIRS] +
            [irq_row(f"socket tcp {nic.id} {d} interrupts", irqs[d]) for d in DIRS])


def measure(secs=SECONDS, reps=REPS, models=(), budget=BUDGET):
    reason = tap_unavailable()
    if reason:
        print(f"socktap: skipped: {reason}")
        return []
    deadline = time.monotonic() + budget
    chosen = [n for n in NICS if not models or n.id in models]
    try:
        files = Files()
    except (RuntimeError, OSError) as e:
        return [median_row(f"socket tcp {n.id} {d}", [], None, [first_line(e)])
                for n in chosen for i, d in enumerate(DIRS)]
    rows = []
    try:
        for i, nic in enumerate(chosen):
            rows += measure_model(nic, i, files, secs, reps, deadline)
    finally:
        files.close()
    return rows


def run():
    """Rows for bench/run.py."""
    return measure()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        ap = argparse.ArgumentParser(prog="bench_socktap.py --peer")
        ap.add_argument("mode", choices=("send", "recv"))
        ap.add_argument("addr")
        ap.add_argument("port", type=int)
        ap.add_argument("seconds", type=float)
        a = ap.parse_args(sys.argv[2:])
        return peer_main(a.mode, a.addr, a.port, a.seconds)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-t", "--seconds", type=float, default=SECONDS)
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--models", default="", help="comma-separated: " + ",".join(n.id for n in NICS))
    a = ap.parse_args()
    models = set(filter(None, a.models.split(",")))
    bad = models - {n.id for n in NICS}
    if bad:
        ap.error(f"unknown models {sorted(bad)}")
    t0 = time.monotonic()
    rows = measure(a.seconds, a.reps, models)
    for r in rows:
        v = "-" if r["value"] is None else f"{r['value']:.1f}"
        anchor = f"{r['anchor']}" if r.get("anchor") else "-"
        print(f"{r['name']:57} {v:>9} {anchor:>6} {r['unit']}  {r.get('note', '')}")
    print(f"socktap: {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
