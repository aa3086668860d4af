"""The host as a real peer of guest *user programs* using BSD sockets. Ember boots the release kernel
with the initramfs; the tests type commands at /init's shell (`/bin/nettool ...`, user/nettool.c;
the monitor is not there when /init runs) and run the host side with tests/system/hostsock.py, over
a tap device in a network namespace the test creates (root; skipped, saying why, without it) or
QEMU user networking (no root needed). Every guest command has a watchdog (nettool -w) shorter
than the test's own timeout, and every failure shows the console log.

What runs where (the file takes about 1.5 minutes on a 2-core machine; the heavy transfers run on
virtio-net-device only, the lighter checks on every model):
- every NIC model in nics.NICS (one guest per model, shared by its tests and rebooted when a
  failed test left it busy):
  * TCP streams with SHA-256 on both sides and a byte-exact comparison with the expected stream:
    guest server / host client and host server / guest client (one direction at a time, so each is
    timed alone), and both directions at once (guest server, `duplex`). virtio-net-device moves
    64 MiB each way (16 MiB for duplex); the other models 4 MiB (2 MiB). Throughput goes to the
    test output (pytest -s or -rP) and build/test-logs/sock-host-throughput.txt, never asserted;
  * a burst of 4 segments, sent on a quiet connection to a guest that only reads, is acknowledged
    at once (median of 11 bursts under 30 ms; with the ACK left to lwIP's delayed-ACK timer the
    medians were 70-95 ms), though LRO or GRO merged it into one frame;
  * 32 host connections open at once to a guest echo server, each echoing its own message; the
    server must have had all 32 open together;
  * the guest pings the host through a SOCK_RAW/IPPROTO_ICMP socket, and captures frames the host
    sends (rawpkt.py) with an AF_PACKET socket (its interface index from if_nametoindex, that is
    SIOCGIFINDEX);
  * robustness with a guest TCP server listening: 830 malformed IPv4/TCP/UDP/ICMP/ARP frames, then
    10,000 SYNs from spoofed source ports (plus 500 with bad TCP checksums). The guest's
    /proc/net/dev must count every frame; it must answer none of the bad-checksum or lying-header
    TCP segments, must answer some of the flood (the host's own stack resets those half-open
    connections, so the listen backlog drains), must hand no flood connection to accept(), and a
    normal connection must work afterwards; the kernel stays up (a new program runs; no panic or
    lwIP assertion in the log). lwIP's own drop counters (the monitor's `netstat`) cannot be read
    while /init owns the console and no /proc file shows them, so the drops are seen from the host.
- no NIC model involved:
  * the host pinging the guest is test_stack.py's test_tap_host_pings_guest_and_back (not repeated;
    the fixture here pings once to know the link is up);
  * QEMU user networking as the contest judge runs it (`-netdev user,hostfwd=tcp:127.0.0.1:P-:G`
    with virtio-net-device, QEMU 7.2's default legacy virtio-mmio): guest server reached through
    the forwarded port, and a guest client reaching a host server through slirp's 10.0.2.2;
    8 MiB each way, checksummed;
  * a leak check: 5,000 socket/connect/accept/close cycles over 127.0.0.1 (nettool churn) must
    leave the free page count (sysinfo) where it was (within the one empty slab kmalloc keeps per
    size class) and the squeues' flow bindings at their baseline. The connecting side closes with
    SO_LINGER {1, 0}: an abortive close (RST) leaves no TIME_WAIT pcb, which lwIP would otherwise
    keep for 2 * TCP_MSL = 120 s (kmalloc'd, since MEMP_MEM_MALLOC): 2,000 plain closes held
    about 250 pages, which would look like a leak until the timers ran out;
  * sysinfo() must write only its struct sysinfo (a kernel bug the leak check found, fixed).
"""
import json
import os
import re
import socket
import subprocess
import threading
import time

import pytest

import hostsock
from nics import NICS, PYTHON, TapNamespace, qemu_cmd, tap_unavailable
from qemu import BOOT_TIMEOUT, BUILD, KERNEL, LOG_DIR, Qemu

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTSOCK = os.path.join(HERE, "hostsock.py")
HOSTPING = os.path.join(HERE, "hostping.py")
INITRD = os.path.join(BUILD, "initramfs.cpio")
THROUGHPUT_LOG = os.path.join(LOG_DIR, "sock-host-throughput.txt")

GUEST_IP, HOST_IP = "192.168.77.2", "192.168.77.1"
IP_ARG = f"ip={GUEST_IP}::{HOST_IP}:255.255.255.0::eth0:off"
MIB = 1 << 20
HEAVY_NIC = "virtio-net-device"
STREAM_WD = 270              # seconds a stream may take in the guest (64 MiB at 12 Mbit/s took 45)

def report(line):
    """Throughput and other figures: shown in the test log, collected in one file."""
    print(line)
    os.makedirs(LOG_DIR, exist_ok=True)
    with open(THROUGHPUT_LOG, "a") as f:
        f.write(time.strftime("%Y-%m-%d %H:%M:%S ") + line + "\n")


# ---- the guest: /init's shell ----

class Guest:
    """/init's shell on the console of a Qemu (prompt "# "; a non-zero status is printed as
    "[exit status N]" before the next prompt). Failures carry the console log (Qemu.fail)."""

    def __init__(self, q):
        self.q = q
        self.start_pos = None
        self.busy = False        # a command was typed and its prompt has not come back (yet)

    def boot(self):
        self.q.expect(r"Ember init", BOOT_TIMEOUT)
        self.q.expect(r"# ", 30)
        return self

    def check(self, cond, why):
        if not cond:
            self.q.fail(why)

    def start(self, line, ready=None, timeout=60):
        """Type a command; with ready, wait for that regex in its output and return the match."""
        self.busy = True
        self.q.send(line + "\r")
        self.q.expect(re.escape(line) + r"(?=\n)", 30)     # the echo; the newline stays for finish()
        self.start_pos = self.q.pos
        if ready:
            return self.q.expect(ready, timeout)
        return None

    def finish(self, timeout=120):
        """Wait for the prompt after the running command: (its output, its exit status)."""
        self.q.pos = self.start_pos
        m = self.q.expect(r"\n# ", timeout)
        out = self.q.log()[self.start_pos:m.start()]
        st = re.search(r"\[exit status (\d+)\]\s*$", out)
        self.busy = False
        return out, int(st.group(1)) if st else 0

    def run(self, line, timeout=120):
        self.start(line)
        return self.finish(timeout)

    def host(self, what, fn, *args, **kw):
        """Run a host-side step; its failure fails the test with the guest's console log."""
        try:
            return fn(*args, **kw)
        except subprocess.CalledProcessError as e:
            self.q.fail(f"{what} failed (status {e.returncode}): {(e.stderr or '')[-3000:]}")
        except (subprocess.TimeoutExpired, OSError, RuntimeError, ValueError, KeyError, IndexError) as e:
            self.q.fail(f"{what} failed: {e!r}")

    def alive(self):
        """The kernel still forks and execs, and printed nothing alarming."""
        out, st = self.run("/bin/hello alive")
        self.check(st == 0 and "hello from pid" in out, f"/bin/hello did not run: {out!r}")
        for bad in ("KERNEL PANIC", "lwip: assertion", "lwip: core entered without", "unhandled signal",
                    "Assertion", "nettool: watchdog"):
            self.check(bad not in self.q.log(), f"{bad!r} in the console log")

    def net_dev(self, dev="eth0"):
        out, st = self.run("/bin/cat /proc/net/dev")
        m = re.search(rf"^ *{dev}: +(\d+) +(\d+) +(\d+) +(\d+)(?: +\d+){{4}} +(\d+) +(\d+) +(\d+) +(\d+)", out, re.M)
        self.check(st == 0 and m, f"no {dev} line in /proc/net/dev: {out!r}")
        keys = ("rx_bytes", "rx_packets", "rx_errs", "rx_drop", "tx_bytes", "tx_packets", "tx_errs", "tx_drop")
        return dict(zip(keys, map(int, m.groups())))


def wait_log(q, pattern, timeout=30):
    """Wait until the whole console log matches (the line may have come before the prompt)."""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, q.log()):
        if time.monotonic() > deadline:
            q.fail(f"timed out after {timeout}s waiting for {pattern!r} in the log")
        time.sleep(0.1)


def kv_line(out, prefix):
    """The key=value pairs of the nettool line starting with prefix (None if absent)."""
    m = re.search(rf"^{prefix} (.*)$", out, re.M)
    if not m:
        return None
    d = {}
    for k, v in re.findall(r"(\w+)=(\S+)", m.group(1)):
        try:
            d[k] = int(v)
        except ValueError:
            try:
                d[k] = float(v)
            except ValueError:
                d[k] = v
    return d


def check_xfer(g, guest, host, nbytes, guest_seed, host_seed):
    """guest: nettool's xfer fields; host: hostsock's. guest_seed: the stream the guest sends."""
    g.check(guest is not None, "no xfer line from the guest")
    exp_g = hostsock.Stream(guest_seed).sha256(nbytes)
    exp_h = hostsock.Stream(host_seed).sha256(nbytes)
    why = f"guest {guest}\nhost {host}"
    g.check("send_error" not in host and "recv_error" not in host, "host socket error: " + why)
    g.check(host["sent"] == nbytes and host["sent_sha256"] == exp_h, "host sent the wrong stream: " + why)
    g.check(guest["sent"] == nbytes and guest["sent_sha256"] == exp_g, "guest sent the wrong stream: " + why)
    g.check(guest["recv"] == nbytes and guest["first_bad"] == -1 and guest["recv_sha256"] == exp_h,
            "the guest received other bytes than the host sent: " + why)
    g.check(host["recv"] == nbytes and host["first_bad"] == -1 and host["recv_sha256"] == exp_g,
            "the host received other bytes than the guest sent: " + why)


# ---- tap: one guest per NIC model ----

def nettool(args, watchdog):
    """The command line: nettool ends itself after `watchdog` seconds (so a hang in the guest
    cannot outlive the test's own timeout, which is longer)."""
    return f"/bin/nettool -w {watchdog} {args}"


def host_ping(tap, addr, count=3):
    r = tap.ns([PYTHON, HOSTPING, addr, "--count", str(count), "--interval", "0.1"], timeout=60)
    return json.loads(r.stdout.strip().splitlines()[-1])


def hostsock_ns(g, tap, *args, timeout=300):
    """hostsock.py inside the namespace: its JSON result (a failure carries the console log)."""
    r = g.host(f"hostsock.py {args[0]}", tap.ns, [PYTHON, HOSTSOCK, *map(str, args)], timeout=timeout)
    return g.host(f"hostsock.py {args[0]} output", lambda: json.loads(r.stdout.strip().splitlines()[-1]))


class HostServer:
    """hostsock.py xfer-server in the namespace, listening when the constructor returns."""

    def __init__(self, g, tap, *args):
        self.g = g
        self.p = subprocess.Popen([*tap.prefix(), PYTHON, HOSTSOCK, "xfer-server", *map(str, args)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if line.strip() != "READY":
            self.p.kill()
            g.q.fail(f"host server did not start: {line!r} {self.p.stderr.read()}")

    def result(self, timeout=300):
        try:
            out, err = self.p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.g.q.fail(f"the host server did not finish within {timeout} s")
        finally:
            self.p.kill()
        if self.p.returncode:
            self.g.q.fail(f"host server failed ({self.p.returncode}): {err[-3000:]}")
        return json.loads(out.strip().splitlines()[-1])


class TapVM:
    """One NIC model's guest on tap0 of its own namespace. boot() again replaces a guest that an
    earlier test left unusable (a command still running, or QEMU gone), so failures stay local."""

    def __init__(self, nic):
        self.nic = nic
        self.tap = TapNamespace(f"embsock{os.getpid() % 100000}-{NICS.index(nic)}", mtu=1500)
        self.q = None
        self.boots = 0
        try:
            self.boot()
        except BaseException:
            self.close()
            raise

    def boot(self):
        if self.q:
            self.q.close()
        self.boots += 1
        cmd = qemu_cmd([*self.tap.netdev("n0"), *self.nic.args("n0"), "-initrd", INITRD, "-append", IP_ARG],
                       kernel=KERNEL, prefix=self.tap.prefix())
        self.q = Qemu(name=f"sock-host-{self.nic.id}" + (f"-{self.boots}" if self.boots > 1 else ""), cmd=cmd)
        self.g = Guest(self.q).boot()
        wait_log(self.q, r"net: eth0 inet 192\.168\.77\.2/24 gw 192\.168\.77\.1 \(static\)")
        r = host_ping(self.tap, GUEST_IP)     # the link works, and the host learns the guest's MAC
        self.g.check(r["received"] == 3, f"the host cannot ping the guest: {r}")

    def usable(self):
        return not self.g.busy and self.q.proc.poll() is None

    def close(self):
        if self.q:
            self.q.close()
        self.tap.close()


@pytest.fixture(scope="module", params=NICS, ids=lambda n: n.id)
def tapvm(request):
    reason = tap_unavailable()
    if reason:
        pytest.skip(reason)
    vm = TapVM(request.param)
    request.addfinalizer(vm.close)
    return vm


@pytest.fixture
def tapguest(tapvm):
    if not tapvm.usable():
        tapvm.boot()
    return tapvm.nic, tapvm.tap, tapvm.g


def stream_size(nic, heavy_mib, light_mib):
    return (heavy_mib if nic.id == HEAVY_NIC else light_mib) * MIB


def test_tcp_stream_guest_server(tapguest):
    nic, tap, g = tapguest
    n, seed = stream_size(nic, 64, 4), 11
    g.start(nettool(f"xfer serve 5001 {n} {seed}", STREAM_WD), r"xfer: listening on 5001")
    host = hostsock_ns(g, tap, "xfer-client", GUEST_IP, 5001, n, seed)
    out, st = g.finish(STREAM_WD + 30)
    guest = kv_line(out, "xfer")
    check_xfer(g, guest, host, n, seed + 1, seed)
    g.check(st == 0, f"nettool exited {st}: {out}")
    report(f"{nic.id}: guest server, {n // MIB} MiB each way: host->guest {guest['recv_mbps']} Mbit/s, "
           f"guest->host {host['recv_mbps']} Mbit/s (receiver side)")


BURST_SEGS = 4                   # an even count: unmerged, lwIP acknowledges every second segment
BURSTS = 11
BURST_ACK_MS = 30                # at once: ~1 ms; delayed (lwIP's 250 ms timer): medians of 70-95 ms


def test_merged_burst_acknowledged_at_once(tapguest):
    """A burst of several segments that reaches the guest as one merged frame (virtio-net's LRO:
    QEMU passes the host's GSO frame whole; the others' software GRO) is acknowledged at once, as
    Linux does when more than one full segment is unacknowledged (net/stack.c
    stack_tcp_big_segment), not after the delayed-ACK timer that lwIP's own rule would wait for:
    it counts the merged frame as one segment. The host sends BURSTS bursts of BURST_SEGS segments
    to a guest socket that only reads (so no reply or window update carries the ACK), each on a
    quiet connection, and times how long each waits for its ACK; the median must be well under
    the timer. The stream still arrives whole (nettool's xfer checks)."""
    nic, tap, g = tapguest
    burst = BURST_SEGS * 1448                 # the host's MSS toward the guest (timestamps on)
    n, seed = BURSTS * burst, 21
    g.start(nettool(f"xfer serve 5006 {n} {seed}", 120), r"xfer: listening on 5006")
    host = hostsock_ns(g, tap, "xfer-client", GUEST_IP, 5006, n, seed, "--burst", burst, timeout=150)
    out, st = g.finish(150)
    check_xfer(g, kv_line(out, "xfer"), host, n, seed + 1, seed)
    g.check(st == 0, f"nettool exited {st}: {out}")
    ack = sorted(host["ack_ms"])
    report(f"{nic.id}: {BURSTS} bursts of {burst} bytes, ACK waits (ms, sorted): {ack}")
    g.check(len(ack) == BURSTS and ack[BURSTS // 2] < BURST_ACK_MS,
            f"bursts waited {host['ack_ms']} ms for their ACK (median over {BURST_ACK_MS} ms: delayed)")


def test_tcp_stream_guest_client(tapguest):
    nic, tap, g = tapguest
    n, seed = stream_size(nic, 64, 4), 21
    srv = HostServer(g, tap, 5002, n, seed)
    try:
        out, st = g.run(nettool(f"xfer connect {HOST_IP} 5002 {n} {seed}", STREAM_WD), timeout=STREAM_WD + 30)
        host = srv.result()
    finally:
        srv.p.kill()
    guest = kv_line(out, "xfer")
    check_xfer(g, guest, host, n, seed, seed + 1)
    g.check(st == 0, f"nettool exited {st}: {out}")
    report(f"{nic.id}: guest client, {n // MIB} MiB each way: guest->host {host['recv_mbps']} Mbit/s, "
           f"host->guest {guest['recv_mbps']} Mbit/s (receiver side)")


def test_tcp_stream_both_directions_at_once(tapguest):
    nic, tap, g = tapguest
    n, seed = stream_size(nic, 16, 2), 31
    g.start(nettool(f"xfer serve 5003 {n} {seed} duplex", STREAM_WD), r"xfer: listening on 5003")
    host = hostsock_ns(g, tap, "xfer-client", GUEST_IP, 5003, n, seed, "--duplex")
    out, st = g.finish(STREAM_WD + 30)
    guest = kv_line(out, "xfer")
    check_xfer(g, guest, host, n, seed + 1, seed)
    g.check(st == 0, f"nettool exited {st}: {out}")
    report(f"{nic.id}: duplex, {n // MIB} MiB each way at once: host->guest {guest['recv_mbps']} Mbit/s, "
           f"guest->host {host['recv_mbps']} Mbit/s")


def test_32_host_connections_at_once(tapguest):
    nic, tap, g = tapguest
    conns, size = 32, 3000
    g.start(nettool(f"echo 5004 {conns}", 120), r"echo: listening on 5004")
    host = hostsock_ns(g, tap, "echo-clients", GUEST_IP, 5004, "--conns", conns, "--size", size, timeout=150)
    out, st = g.finish(150)
    guest = kv_line(out, "echo")
    g.check(host["ok"] == conns and not host["errors"], f"echoes wrong: {host}")
    g.check(guest == {"connections": conns, "bytes": conns * size, "max_open": conns, "errors": 0},
            f"guest echo server: {guest} ({out})")
    g.check(st == 0, f"nettool exited {st}: {out}")


def test_guest_pings_host_with_raw_icmp_socket(tapguest):
    nic, tap, g = tapguest
    out, st = g.run(nettool(f"ping {HOST_IP} 4", 60), timeout=90)
    replies = re.findall(rf"^64 bytes from {re.escape(HOST_IP)}: icmp_seq=(\d+) ttl=\d+ time=[\d.]+ ms$", out, re.M)
    g.check(replies == ["0", "1", "2", "3"], f"replies: {replies}\n{out}")
    g.check("4 packets transmitted, 4 received" in out and st == 0, out)


def test_proc_net_arp_lists_the_host_as_linux_does(tapguest):
    """/proc/net/arp in Linux's layout (net/netproc.c): after the guest pinged the host, the host's
    address with HW type 0x1, flags 0x2 (complete), the tap's MAC, mask * and eth0; busybox arp -n,
    which parses that file, prints the same neighbour."""
    nic, tap, g = tapguest
    out, st = g.run(nettool(f"ping {HOST_IP} 1", 60), timeout=90)
    g.check(st == 0, out)
    hmac = tap.ns(["cat", f"/sys/class/net/{tap.iface}/address"]).stdout.strip()
    out, st = g.run("/bin/cat /proc/net/arp")
    lines = [l for l in out.splitlines() if l.strip() and not l.startswith("#") and "/bin/cat" not in l]
    g.check(st == 0 and lines and lines[0] == "IP address       HW type     Flags       HW address            Mask     Device",
            f"/proc/net/arp's header: {out!r}")
    want = f"{HOST_IP:<16} 0x1         0x2         {hmac:<17}     *        eth0"
    g.check(want in lines[1:], f"/proc/net/arp lacks {want!r}: {out!r}")
    out, st = g.run("/bin/busybox arp -n")
    g.check(st == 0 and re.search(rf"^\? \({re.escape(HOST_IP)}\) at {re.escape(hmac)} \[ether\]\s+on eth0$", out, re.M),
            f"busybox arp -n: {out!r}")


def test_guest_captures_host_frames_with_af_packet(tapguest):
    nic, tap, g = tapguest
    count, sizes = 24, [60, 61, 300, 1000, 1514]
    m = g.start(nettool(f"capture eth0 {count} 0x88b5", 60), r"capture: ready on eth0|(?m:^nettool: .*$)")
    if "ready" not in m.group(0):
        out, _ = g.finish()
        g.q.fail(f"capture did not start: {out}")
    r = g.host("rawpkt.py send", tap.send, count=count, sizes=sizes, ethertype=0x88B5)
    g.check(r["sent"] == count, f"the host sent {r}")
    out, st = g.finish(90)
    frames = re.findall(r"^frame len=(\d+) type=0x88b5 src=02:eb:00:00:00:01 ifindex=\d+ seq=(\d+) pattern=(\w+)$",
                        out, re.M)
    g.check(sorted(int(s) for _, s, _ in frames) == list(range(count)), f"frames/seqs: {frames}\n{out}")
    g.check(all(p == "ok" for _, _, p in frames), f"pattern errors\n{out}")
    g.check(all(int(n) >= sizes[int(s) % len(sizes)] for n, s, _ in frames), f"short frames\n{out}")
    g.check(kv_line(out, "capture")["bad"] == 0 and st == 0, out)


def test_hostile_frames_and_syn_flood_with_server_running(tapguest):
    nic, tap, g = tapguest
    port = 5005
    before = g.net_dev()
    g.start(nettool(f"echo {port} 1", 240), rf"echo: listening on {port}")
    t0 = time.monotonic()
    hostile = hostsock_ns(g, tap, "hostile", tap.iface, GUEST_IP, port)
    flood = hostsock_ns(g, tap, "synflood", tap.iface, GUEST_IP, port, "--count", 10000)
    report(f"{nic.id}: {hostile['sent']} malformed frames, then {flood['sent']} SYNs in {flood['seconds']} s: "
           f"guest answered {flood['synack']} SYN-ACKs and {flood['rst']} RSTs on {flood['ports_answered']} ports "
           f"({time.monotonic() - t0:.1f} s with the answers)")
    report(f"{nic.id}: the guest's answers to the malformed TCP frames, by source port: {hostile['answers']}")
    g.check(hostile["sent"] == hostile["frames"], f"host could not send every frame: {hostile}")
    g.check(not hostile["answered_bad"], f"the guest answered SYNs it should have dropped: {hostile}")
    g.check(flood["sent"] == 10500, f"host could not send every SYN: {flood}")
    g.check(flood["answered_bad"] == 0, f"the guest answered SYNs with bad checksums: {flood}")
    g.check(flood["synack"] > 0, f"the guest answered none of the flood's SYNs: {flood}")
    # a normal connection afterwards; the flood's half-open connections never reach accept()
    host = hostsock_ns(g, tap, "echo-clients", GUEST_IP, port, "--conns", 1, "--size", 5000, timeout=120)
    out, st = g.finish(270)
    g.check(host["ok"] == 1, f"the connection after the flood failed: {host}")
    g.check(kv_line(out, "echo") == {"connections": 1, "bytes": 5000, "max_open": 1, "errors": 0} and st == 0, out)
    after = g.net_dev()
    rx = after["rx_packets"] - before["rx_packets"]
    g.check(rx >= hostile["sent"] + flood["sent"], f"eth0 counted {rx} frames of {hostile['sent'] + flood['sent']}: "
            f"{before} -> {after}")
    report(f"{nic.id}: /proc/net/dev eth0 rx {rx} frames, drop {after['rx_drop'] - before['rx_drop']}, "
           f"errs {after['rx_errs'] - before['rx_errs']}")
    g.alive()


# ---- QEMU user networking, the contest judge's way (no root) ----

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_user_networking_hostfwd():
    hport, gport = free_port(), 5006
    q = Qemu(kernel=KERNEL, name="sock-host-usernet",
             extra=("-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{hport}-:{gport}",
                    "-device", "virtio-net-device,netdev=n0", "-initrd", INITRD))
    try:
        g = Guest(q).boot()
        wait_log(q, r"net: eth0 inet 10\.0\.2\.15/24 gw 10\.0\.2\.2 \(dhcp\)")
        n, seed = 8 * MIB, 41
        # guest server, reached through the forwarded port
        g.start(nettool(f"xfer serve {gport} {n} {seed}", 150), rf"xfer: listening on {gport}")
        host = g.host("host client", hostsock.xfer_client, "127.0.0.1", hport, n, seed, timeout=120)
        out, st = g.finish(180)
        check_xfer(g, kv_line(out, "xfer"), host, n, seed + 1, seed)
        g.check(st == 0, out)
        report(f"user networking hostfwd, {n // MIB} MiB each way: host->guest {kv_line(out, 'xfer')['recv_mbps']} "
               f"Mbit/s, guest->host {host['recv_mbps']} Mbit/s")
        # guest client, reaching a host server on 127.0.0.1 through slirp's gateway address
        sport, seed = free_port(), 51
        res, ready = {}, threading.Event()

        def serve():
            try:
                res.update(hostsock.xfer_server(sport, n, seed, timeout=120, ready=ready.set))
            except Exception as e:      # reported below
                res["error"] = repr(e)
                ready.set()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        g.check(ready.wait(30) and "error" not in res, f"host server: {res}")
        out, st = g.run(nettool(f"xfer connect 10.0.2.2 {sport} {n} {seed}", 150), timeout=180)
        t.join(130)
        g.check(not t.is_alive() and "error" not in res, f"host server: {res}")
        check_xfer(g, kv_line(out, "xfer"), res, n, seed, seed + 1)
        g.check(st == 0, out)
        g.alive()
    finally:
        q.close()


# ---- socket churn over 127.0.0.1: no pages leak (no root) ----

LEAK_CYCLES = 5000
LEAK_SLACK_PAGES = 16     # kmalloc keeps one empty slab per size class (8), plus noise


def test_socket_churn_leaves_no_pages_behind():
    q = Qemu(kernel=KERNEL, name="sock-host-churn", extra=("-initrd", INITRD, "-append", "ip=off"))
    try:
        g = Guest(q).boot()

        def free_pages():
            out, st = g.run(nettool("mem", 30))      # sysinfo into a guarded buffer (see below)
            m = kv_line(out, "mem")
            g.check(st == 0 and m, out)
            return m["free_pages"]

        def flow_bindings():
            out, st = g.run("/bin/cat /proc/net/squeue")
            m = re.search(r"flow bindings (\d+)", out)
            g.check(st == 0 and m, out)
            return int(m.group(1))

        def churn(n):
            out, st = g.run(nettool(f"churn {n}", 400), timeout=430)
            c = kv_line(out, "churn")
            g.check(st == 0 and c and c["cycles"] == n, f"churn failed: {out}")
            return c

        churn(300)                              # warm-up: caches and lwIP's first allocations
        base_pages, base_flows = free_pages(), flow_bindings()
        c = churn(LEAK_CYCLES)
        report(f"churn: {c['cycles']} connect/accept/close cycles over 127.0.0.1 in {c['seconds']} s "
               f"({c['per_s']}/s)")
        # the resets and closes finish on the squeues shortly after the program exits
        pages = []
        for _ in range(5):
            pages.append(free_pages())
            if abs(pages[-1] - base_pages) <= LEAK_SLACK_PAGES:
                break
            time.sleep(1)
        flows = flow_bindings()
        report(f"churn: free pages {base_pages} before, {pages} after; flow bindings {base_flows} -> {flows}")
        g.check(abs(pages[-1] - base_pages) <= LEAK_SLACK_PAGES,
                f"{base_pages - pages[-1]} pages gone after {LEAK_CYCLES} cycles (free {base_pages} -> {pages})")
        g.check(flows == base_flows, f"flow bindings {base_flows} -> {flows}")
        g.alive()
    finally:
        q.close()


def test_sysinfo_stays_inside_struct_sysinfo():
    """sysinfo() writes exactly Linux's 112-byte struct sysinfo (it once wrote 344 bytes, zeroing 232
    bytes of the caller's stack: found by the leak check; nettool mem counts the guard bytes it changed)."""
    q = Qemu(kernel=KERNEL, name="sock-host-sysinfo", extra=("-initrd", INITRD, "-append", "ip=off"))
    try:
        g = Guest(q).boot()
        out, st = g.run(nettool("mem", 30))
        m = kv_line(out, "mem")
        g.check(st == 0 and m, out)
        assert m["sysinfo_overrun"] == 0, f"sysinfo wrote {m['sysinfo_overrun']} bytes past struct sysinfo"
    finally:
        q.close()
