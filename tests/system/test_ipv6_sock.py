"""AF_INET6 sockets of guest user programs against the host over a NIC (tap in a network namespace
with IPv6 on; root, skipped saying why without it). One guest per NIC model, booted with the
initramfs (/init's shell, test_sock_host.Guest) and a fixed MAC; the host sends a router
advertisement of fd77::/64 (hostra.py), so the guest has fd77:: + its EUI-64 by SLAAC besides its
link-local address, and the host has fd77::1:
- TCP streams over IPv6, checksummed and compared byte for byte both ways at once (duplex): guest
  server on [::] (nettool xfer serve6) / host client to the guest's SLAAC address, and host
  server on [::] / guest client to fd77::1; 32 MiB each way on virtio-net-device, 4 MiB on the
  other models;
- the same dual-stack guest listener accepting an IPv4 client over the wire (the peer as the
  AF_INET6 socket names it: ::ffff:192.168.77.1);
- a guest client connecting to the host's link-local address with a scope id (fe80::...%eth0).
- busybox's ping -6 / ping6 from the guest to fd77::1 (raw ICMPv6 sockets), also while the host
  pings the guest;
- a connected guest UDP socket told ECONNREFUSED by the host's ICMPv6 port unreachable;
- IPV6_PKTINFO / IPV6_HOPLIMIT of a host datagram received by the guest;
- IPV6_ADD_MEMBERSHIP: a guest socket that joined a group on eth0 receives the host's datagrams
  to it, and none of those to a group nobody joined (through e1000's MTA and RTL8139's MAR
  where the model filters, ip6_input elsewhere);
- IP_RECVERR: the host's ICMP port unreachable in a guest socket's error queue;
- SYN cookies for an IPv6 listener: spoofed SYNs fill its half-open queue, a real client still
  connects through a cookie;
- IP_TTL / IP_TOS and IPV6_HOPLIMIT / IPV6_TCLASS control messages on a guest's send, as the host
  receives them.
- ICMP rate limits (Linux's icmp_ratelimit / icmp_ratemask): a burst of host datagrams to a
  closed guest port gets 6 port unreachables, all of them with icmp_ratelimit 0 or icmp_ratemask 0
  (/proc/sys/net/ipv4, read and written in the guest); the same limits on errors lwIP sends
  itself (protocol unreachable for IP protocol 253) and on ICMPv6 port unreachables
  (net.ipv6.icmp.ratelimit);
- IP_MTU_DISCOVER on the wire: DF set or not per mode on full-size datagrams, EMSGSIZE under DO,
  fragments under WANT (user/tests/sock_pmtudisc.c wire).
Throughput goes to build/test-logs/sock-host-throughput.txt (never asserted)."""
import json
import os
import re
import subprocess
import time

import pytest

import hostsock
from nics import NICS, PYTHON, TapNamespace, qemu_cmd, tap_unavailable
from qemu import KERNEL, Qemu
from test_sock_host import (INITRD, MIB, STREAM_WD, Guest, HostServer, check_xfer, hostsock_ns, kv_line, nettool,
                            report, wait_log)

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTRA = os.path.join(HERE, "hostra.py")
HOSTPING = os.path.join(HERE, "hostping.py")
GUEST_MAC = "52:54:00:12:34:78"
GUEST_SLAAC = "fd77::5054:ff:fe12:3478"      # EUI-64 of GUEST_MAC
HOST6 = "fd77::1"
GUEST_IP, HOST_IP = "192.168.77.2", "192.168.77.1"
IP_ARG = f"ip={GUEST_IP}::{HOST_IP}:255.255.255.0::eth0:off"
HEAVY_NIC = "virtio-net-device"
SLAAC_WAIT_S = 20


def ping6(tap, addr, count=1):
    r = tap.ns([PYTHON, HOSTPING, addr, "--count", str(count), "--interval", "0.2"], timeout=60, check=False)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"received": 0, "out": r.stdout + r.stderr}


class Vm6:
    def __init__(self, nic):
        self.nic = nic
        self.tap = TapNamespace(f"embs6{os.getpid() % 100000}-{NICS.index(nic)}", mtu=1500, addr6=f"{HOST6}/64")
        cmd = qemu_cmd([*self.tap.netdev("n0"), *nic.extra, "-device", f"{nic.device},mac={GUEST_MAC},netdev=n0",
                        "-initrd", INITRD, "-append", IP_ARG], kernel=KERNEL, prefix=self.tap.prefix())
        self.q = Qemu(name=f"ipv6-sock-{nic.id}", cmd=cmd)
        self.g = Guest(self.q).boot()
        wait_log(self.q, r"net: eth0 inet 192\.168\.77\.2/24 gw 192\.168\.77\.1 \(static\)")
        deadline = time.monotonic() + SLAAC_WAIT_S
        while True:                              # an RA until the guest answers on its SLAAC address
            self.tap.ns([PYTHON, HOSTRA, "tap0", "fd77::", "--count", "1"])
            if ping6(self.tap, GUEST_SLAAC)["received"]:
                break
            if time.monotonic() > deadline:
                self.q.fail(f"the guest never answered on {GUEST_SLAAC}")
            time.sleep(1)

    def close(self):
        self.q.close()
        self.tap.close()


@pytest.fixture(scope="module", params=NICS, ids=lambda n: n.id)
def vm6(request):
    reason = tap_unavailable()
    if reason:
        pytest.skip(reason)
    vm = Vm6(request.param)
    request.addfinalizer(vm.close)
    return vm


def size(nic):
    return (32 if nic.id == HEAVY_NIC else 4) * MIB


def test_tcp6_guest_server_duplex(vm6):
    g, tap, n, seed = vm6.g, vm6.tap, size(vm6.nic), 21
    g.start(nettool(f"xfer serve6 5101 {n} {seed} duplex", STREAM_WD), r"xfer: listening on 5101")
    host = hostsock_ns(g, tap, "xfer-client", GUEST_SLAAC, 5101, n, seed, "--duplex")
    out, st = g.finish(STREAM_WD + 30)
    peer = kv_line(out, "xfer: peer")
    # the host's source: fd77::1 or the address it formed from its own RA (both in fd77::/64)
    g.check(peer and peer["family"] == 10 and str(peer["addr"]).startswith("fd77:") and peer["len"] == 28,
            f"peer: {out}")
    check_xfer(g, kv_line(out, "xfer"), host, n, seed + 1, seed)
    g.check(st == 0, f"nettool exited {st}: {out}")
    report(f"{vm6.nic.id}: IPv6 guest server duplex {n // MIB} MiB: host->guest {kv_line(out, 'xfer')['recv_mbps']} "
           f"Mbit/s, guest->host {host['recv_mbps']} Mbit/s")


def test_tcp6_host_server_duplex(vm6):
    g, tap, n, seed = vm6.g, vm6.tap, size(vm6.nic), 23
    srv = HostServer(g, tap, 5102, n, seed, "--duplex", "--v6")
    out, st = g.run(nettool(f"xfer connect {HOST6} 5102 {n} {seed} duplex", STREAM_WD), timeout=STREAM_WD + 30)
    host = srv.result()
    check_xfer(g, kv_line(out, "xfer"), host, n, seed, seed + 1)
    g.check(st == 0, f"nettool exited {st}: {out}")


def test_dual_stack_listener_takes_ipv4_over_the_wire(vm6):
    g, tap, n, seed = vm6.g, vm6.tap, 1 * MIB, 25
    g.start(nettool(f"xfer serve6 5103 {n} {seed}", 120), r"xfer: listening on 5103")
    host = hostsock_ns(g, tap, "xfer-client", GUEST_IP, 5103, n, seed)
    out, st = g.finish(150)
    peer = kv_line(out, "xfer: peer")
    g.check(peer and peer["family"] == 10 and peer["addr"] == f"::ffff:{HOST_IP}", f"peer: {out}")
    check_xfer(g, kv_line(out, "xfer"), host, n, seed + 1, seed)
    g.check(st == 0, f"nettool exited {st}: {out}")


def test_link_local_with_scope_id(vm6):
    g, tap = vm6.g, vm6.tap
    addrs = tap.ns(["ip", "-6", "addr", "show", "dev", "tap0", "scope", "link"]).stdout
    m = re.search(r"inet6 (fe80::[0-9a-f:]+)/64", addrs)
    assert m, addrs
    n, seed = 1 * MIB, 27
    srv = HostServer(g, tap, 5104, n, seed, "--v6")
    out, st = g.run(nettool(f"xfer connect {m.group(1)}%eth0 5104 {n} {seed}", 120), timeout=150)
    host = srv.result()
    check_xfer(g, kv_line(out, "xfer"), host, n, seed, seed + 1)
    g.check(st == 0, f"nettool exited {st}: {out}")
    g.alive()



def test_guest_busybox_ping6_host(vm6):
    """busybox's ping -6 (a raw ICMPv6 socket with ICMP6_FILTER, the kernel's checksum, the hop
    limit from IPV6_2292HOPLIMIT's control message) to the host's fd77::1, small and fragmented."""
    g = vm6.g
    out, st = g.run("/bin/ping -6 -c 3 -i 0.2 fd77::1", timeout=60)
    replies = re.findall(r"^64 bytes from fd77::1: seq=(\d+) ttl=64 time=[\d.]+ ms$", out, re.M)
    g.check(replies == ["0", "1", "2"] and "3 packets transmitted, 3 packets received" in out and st == 0, out)
    out, st = g.run("/bin/ping6 -c 2 -i 0.2 -s 3000 fd77::1", timeout=60)
    g.check(len(re.findall(r"^3008 bytes from fd77::1: seq=\d+ ttl=64", out, re.M)) == 2 and st == 0, out)


def test_host_ping6_guest_while_guest_pings(vm6):
    """The host's echo requests to the guest are still answered (by lwIP) while a guest raw ICMPv6
    socket sees every ICMPv6 message: the host pings while the guest's ping runs."""
    g, tap = vm6.g, vm6.tap
    g.start("/bin/ping -6 -c 10 -i 0.2 fd77::1", r"bytes from fd77::1")
    r = ping6(tap, GUEST_SLAAC, count=5)
    out, st = g.finish(60)
    g.check(r["received"] == 5, f"host ping: {r}")
    g.check("10 packets transmitted, 10 packets received" in out and st == 0, out)



def test_udp6_connected_to_closed_host_port_is_refused(vm6):
    """The host's Linux answers a datagram to a closed port with an ICMPv6 port unreachable; the
    guest's connected UDP socket then reports ECONNREFUSED (POLLERR, recv, SO_ERROR, send:
    user/tests/sock_udp6_refused.c with the host's address)."""
    g = vm6.g
    out, st = g.run(f"/tests/sock_udp6_refused {HOST6}", timeout=90)
    g.check(re.search(r"^4 passed, 0 failed", out, re.M) and st == 0, out)


def test_udp6_pktinfo_and_hop_limit_from_the_wire(vm6):
    """A host datagram to the guest's SLAAC address, sent with hop limit 7: the guest's recvmsg
    reports IPV6_PKTINFO (that address, eth0's ifindex) and IPV6_HOPLIMIT 7
    (user/tests/sock_inet_cmsg.c recv6)."""
    g, tap = vm6.g, vm6.tap
    g.start("/tests/sock_inet_cmsg recv6 5300", r"recv6: listening on 5300")
    send = ("import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); "
            "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 7); "
            f"s.sendto(b'over-the-wire', ('{GUEST_SLAAC}', 5300))")
    g.host("host send", tap.ns, [PYTHON, "-c", send])
    out, st = g.finish(60)
    m = re.search(r"pktinfo n=(\d+) addr=(\S+) ifindex=(\d+) eth0=(\d+) hoplimit=(-?\d+)", out)
    g.check(m and m.group(1) == "13" and m.group(2) == GUEST_SLAAC and m.group(3) == m.group(4) != "0"
            and m.group(5) == "7" and st == 0, out)


MC_GROUP, MC_OTHER, MC_PORT, MC_COUNT = "ff02::1234:5", "ff02::1234:6", 5310, 10


def test_udp6_multicast_membership(vm6):
    g, tap = vm6.g, vm6.tap
    g.start(f"/tests/sock_inet6 mcrecv {MC_PORT} {MC_GROUP} eth0 3", rf"mcrecv: joined on {MC_PORT}")
    send = ("import socket, time; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); "
            f"i = socket.if_nametoindex('{tap.iface}'); "
            "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, i); "
            f"[(s.sendto(b'to-%d' % k, ('{MC_GROUP}', {MC_PORT}, 0, i)), "
            f"s.sendto(b'not-%d' % k, ('{MC_OTHER}', {MC_PORT}, 0, i)), time.sleep(0.02)) for k in range({MC_COUNT})]")
    g.host("host multicast send", tap.ns, [PYTHON, "-c", send])
    out, st = g.finish(60)
    m = re.search(r"mcrecv got=(\d+)", out)
    g.check(m and int(m.group(1)) == MC_COUNT and st == 0,
            f"the guest should get the {MC_COUNT} datagrams to its group only: {out}")


def test_ip_recverr_from_the_wire(vm6):
    """A guest UDP socket with IP_RECVERR sends to a closed host port: the host's Linux answers with
    an ICMP port unreachable quoting the datagram, which the guest reads from its error queue
    (offender the host, ECONNREFUSED, type 3 code 3, the whole payload: user/tests/sock_recverr.c)."""
    g = vm6.g
    out, st = g.run(f"/tests/sock_recverr {HOST_IP} 5399", timeout=90)
    g.check(re.search(r"^1 passed, 0 failed", out, re.M) and st == 0, out)


HOST_CMSG_RECEIVER = """
import json, select, socket, struct
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s4.bind(("0.0.0.0", 5301))
s4.setsockopt(socket.IPPROTO_IP, 12, 1)                          # IP_RECVTTL
s4.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.bind(("::", 5302))
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVTCLASS, 1)
print("READY", flush=True)
got = {}
for _ in range(40):
    if len(got) == 2:
        break
    for s in select.select([s4, s6], [], [], 1)[0]:
        data, anc, _, src = s.recvmsg(100, 256)
        f = {"data": data.decode()}
        for level, typ, v in anc:
            f[f"{level}/{typ}"] = v[0] if len(v) == 1 else struct.unpack("i", v[:4])[0]
        got["v4" if s is s4 else "v6"] = f
print(json.dumps(got), flush=True)
"""


def test_send_cmsg_ttl_tos_on_the_wire(vm6):
    """A guest's sendmsg with IP_TTL 13 + IP_TOS 0x20 (IPv4) and IPV6_HOPLIMIT 9 + IPV6_TCLASS 0x40
    (IPv6): the host receives the datagrams with those header fields (user/tests/sock_send_cmsg.c
    wire)."""
    g, tap = vm6.g, vm6.tap
    p = subprocess.Popen([*tap.prefix(), PYTHON, "-c", HOST_CMSG_RECEIVER], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        g.check(line.strip() == "READY", f"host receiver: {line!r}")
        out, st = g.run(f"/tests/sock_send_cmsg wire {HOST_IP} 5301 {HOST6} 5302", timeout=60)
        res, err = p.communicate(timeout=60)
    finally:
        p.kill()
    got = json.loads(res.strip().splitlines()[-1])
    g.check(st == 0 and re.search(r"^1 passed, 0 failed", out, re.M), out)
    v4, v6 = got.get("v4", {}), got.get("v6", {})
    g.check(v4.get("data") == "wire-v4" and v4.get("0/2") == 13 and v4.get("0/1") == 0x20, f"IPv4 at the host: {got} {err}")
    g.check(v6.get("data") == "wire-v6" and v6.get("41/52") == 9 and v6.get("41/67") == 0x40, f"IPv6 at the host: {got} {err}")


HOST_SYN6_FLOOD = """
import random, socket, struct, sys
sys.path.insert(0, sys.argv[1])
from hostsock import csum, mac_of
iface, gmac, dst, port, count = sys.argv[2], bytes.fromhex(sys.argv[3].replace(":", "")), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
hmac, d = mac_of(iface), socket.inet_pton(socket.AF_INET6, dst)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
rng = random.Random(5)
mss = struct.pack("!BBH", 2, 4, 1440)
for i in range(count):
    src = socket.inet_pton(socket.AF_INET6, "fd77::") [:8] + bytes([0x02] + [rng.randrange(256) for _ in range(7)])
    tcp = struct.pack("!HHIIBBHHH", 30000 + i, port, rng.getrandbits(32), 0, (5 + len(mss) // 4) << 4, 0x02, 64240, 0, 0) + mss
    c = csum(src + d + struct.pack("!IxxxB", len(tcp), 6) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src + d
    s.send(gmac + hmac + struct.pack("!H", 0x86DD) + ip6 + tcp)
print(count, flush=True)
"""


def tcp_ext(g):
    out, st = g.run("/bin/cat /proc/net/netstat")
    lines = re.findall(r"^TcpExt: (.*)$", out, re.M)
    g.check(st == 0 and len(lines) == 2, f"/proc/net/netstat: {out!r}")
    return dict(zip(lines[0].split(), map(int, lines[1].split())))


def test_syn_cookies_for_an_ipv6_listener(vm6):
    """Spoofed IPv6 SYNs (fd77::/64 sources nobody answers for) fill a guest [::] listener's
    half-open queue (backlog 4); the next SYNs get cookies, and a real host client's IPv6
    connection comes in through one (net/tcp_synq.c) and moves 1 MiB byte-exact."""
    g, tap, n, seed = vm6.g, vm6.tap, 1 * MIB, 29
    base = tcp_ext(g)
    g.start(nettool(f"xfer serve6 5105 {n} {seed}", 120), r"xfer: listening on 5105")
    r = tap.ns([PYTHON, "-c", HOST_SYN6_FLOOD, HERE, "tap0", GUEST_MAC, GUEST_SLAAC, "5105", "200"], timeout=60)
    g.check(r.stdout.strip() == "200", f"flood: {r.stdout} {r.stderr}")
    time.sleep(1)
    host = hostsock_ns(g, tap, "xfer-client", GUEST_SLAAC, 5105, n, seed)
    out, st = g.finish(150)
    check_xfer(g, kv_line(out, "xfer"), host, n, seed + 1, seed)
    g.check(st == 0, f"nettool exited {st}: {out}")
    grew = {k: v - base.get(k, 0) for k, v in tcp_ext(g).items()}
    g.check(grew["SyncookiesSent"] >= 150 and grew["SyncookiesRecv"] >= 1 and grew["ListenDrops"] == 0,
            f"TcpExt grew by {grew}")
    g.alive()


HOST_UNREACH_COUNTER = """
import socket, struct, sys, time
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 11, 1)                           # IP_RECVERR
for i in range(n):
    while True:
        try:
            s.sendto(b"burst %d" % i, (dst, port))
            break
        except ConnectionRefusedError:                           # the pending error, taken: again
            pass
got, end = 0, time.monotonic() + 1.5
while time.monotonic() < end:
    try:
        _, anc, _, _ = s.recvmsg(64, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except BlockingIOError:
        time.sleep(0.02)
        continue
    for level, typ, v in anc:
        errno_, origin, itype, code = struct.unpack("IBBB", v[:7])
        if level == socket.IPPROTO_IP and typ == 11 and origin == 2 and itype == 3 and code == 3:
            got += 1
print("unreachables", got, flush=True)
"""
RATE_SYSCTLS = {"icmp_ratelimit": "1000", "icmp_ratemask": "6168", "icmp_msgs_per_sec": "1000", "icmp_msgs_burst": "50"}
BURST = 20
PEER_REFILL_S = 6.5                     # 6 x icmp_ratelimit: the host's bucket in the guest is full again


def test_icmp_ratelimit(vm6):
    """Linux's ICMP rate limits on the port unreachables the guest sends (net/icmp_ratelimit.c):
    the /proc/sys/net/ipv4 settings read Linux's defaults; with icmp_ratelimit 0 a burst of 20
    datagrams to a closed port gets 20 answers; with the default 1000 ms, after the host's bucket
    had time to fill, 6 (XRLIM_BURST_FACTOR: 7 if the burst took over a second); with
    icmp_ratemask 0 (destination unreachable not limited) 20 again; bad writes are EINVAL."""
    g, tap = vm6.g, vm6.tap

    def sysctl(name):
        out, st = g.run(f"/bin/cat /proc/sys/net/ipv4/{name}", timeout=30)
        return out.strip().splitlines()[-1].strip() if st == 0 and out.strip() else f"<{out!r} {st}>"

    def setctl(name, value):
        out, st = g.run(f"/sbin/sysctl -w net.ipv4.{name}={value}", timeout=30)
        return st

    def burst():
        r = g.host("host burst", tap.ns, [PYTHON, "-c", HOST_UNREACH_COUNTER, GUEST_IP, "5397", str(BURST)], timeout=60)
        m = re.search(r"unreachables (\d+)", r.stdout)
        g.check(m, f"host counter: {r.stdout} {r.stderr}")
        return int(m.group(1))

    for name, want in RATE_SYSCTLS.items():
        got = sysctl(name)
        g.check(got == want, f"{name}: {got} (Linux's default {want})")
    g.check(setctl("icmp_ratelimit", 0) == 0 and sysctl("icmp_ratelimit") == "0", "icmp_ratelimit not written")
    try:
        n = burst()
        g.check(n == BURST, f"icmp_ratelimit 0: {n} of {BURST} answered")
        g.check(setctl("icmp_ratelimit", 1000) == 0, "icmp_ratelimit not written back")
        time.sleep(PEER_REFILL_S)
        n = burst()
        g.check(6 <= n <= 7, f"icmp_ratelimit 1000: {n} of {BURST} answered (Linux: 6)")
        g.check(setctl("icmp_ratemask", 0) == 0, "icmp_ratemask not written")
        n = burst()
        g.check(n == BURST, f"icmp_ratemask 0: {n} of {BURST} answered")
        g.check(setctl("icmp_msgs_burst", "-1") != 0 and setctl("icmp_ratelimit", "abc") != 0
                and sysctl("icmp_msgs_burst") == "50" and sysctl("icmp_ratelimit") == "1000", "bad writes taken")
    finally:
        setctl("icmp_ratelimit", 1000)
        setctl("icmp_ratemask", 6168)


HOST_ICMP_ERR_COUNTER = """
import socket, sys, time
kind, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
v6 = kind == "udp6"
# every ICMP (ICMPv6) message coming in, counted by type and code from the guest
icmp = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                     socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
if v6:
    out = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    want, to = (1, 4), (dst, 5398)                               # port unreachable
else:
    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)    # a protocol nobody takes
    want, to = (3, 2), (dst, 0)                                  # protocol unreachable
for i in range(n):
    out.sendto(b"burst %d" % i, to)
got, end = 0, time.monotonic() + 1.5
icmp.settimeout(0.1)
while time.monotonic() < end:
    try:
        data, src = icmp.recvfrom(2048)
    except socket.timeout:
        continue
    if not v6:
        data = data[(data[0] & 15) * 4:]
    if socket.inet_pton(icmp.family, src[0]) == socket.inet_pton(icmp.family, dst) and (data[0], data[1]) == want:
        got += 1
print("errors", got, flush=True)
"""


def test_icmp_ratelimit_lwip_errors_and_icmpv6(vm6):
    """The same limits on the errors lwIP sends itself (net/icmp_lwip_err.c) and on ICMPv6 errors:
    a burst of 20 host packets of IP protocol 253 gets 20 protocol unreachables with icmp_ratelimit
    0 and 6 (7 if slow) with 1000; a burst of 20 IPv6 datagrams to a closed guest port gets 20
    ICMPv6 port unreachables with net.ipv6.icmp.ratelimit 0 and 6 (up to 8 if slow: Linux's 1000 ms
    shifted by 2 for a /64 neighbour, a token per 250 ms) with its default 1000."""
    g, tap = vm6.g, vm6.tap

    def sysctl(path):
        out, st = g.run(f"/bin/cat /proc/sys/net/{path}", timeout=30)
        return out.strip().splitlines()[-1].strip() if st == 0 and out.strip() else f"<{out!r} {st}>"

    def setctl(name, value):
        out, st = g.run(f"/sbin/sysctl -w net.{name}={value}", timeout=30)
        return st

    def burst(kind, dst):
        r = g.host("host burst", tap.ns, [PYTHON, "-c", HOST_ICMP_ERR_COUNTER, kind, dst, str(BURST)], timeout=60)
        m = re.search(r"errors (\d+)", r.stdout)
        g.check(m, f"host counter: {r.stdout} {r.stderr}")
        return int(m.group(1))

    g.check(sysctl("ipv6/icmp/ratelimit") == "1000", f"ipv6 ratelimit: {sysctl('ipv6/icmp/ratelimit')}")
    try:
        g.check(setctl("ipv4.icmp_ratelimit", 0) == 0, "icmp_ratelimit not written")
        n = burst("raw4", GUEST_IP)
        g.check(n == BURST, f"protocol unreachable, icmp_ratelimit 0: {n} of {BURST} answered")
        g.check(setctl("ipv4.icmp_ratelimit", 1000) == 0, "icmp_ratelimit not written back")
        g.check(setctl("ipv6.icmp.ratelimit", 0) == 0 and sysctl("ipv6/icmp/ratelimit") == "0",
                "ipv6 ratelimit not written")
        n = burst("udp6", GUEST_SLAAC)
        g.check(n == BURST, f"ICMPv6 port unreachable, ratelimit 0: {n} of {BURST} answered")
        g.check(setctl("ipv6.icmp.ratelimit", 1000) == 0, "ipv6 ratelimit not written back")
        time.sleep(PEER_REFILL_S)               # both buckets of the host are full again
        n = burst("raw4", GUEST_IP)
        g.check(6 <= n <= 7, f"protocol unreachable, icmp_ratelimit 1000: {n} of {BURST} answered (Linux: 6)")
        n = burst("udp6", GUEST_SLAAC)
        g.check(6 <= n <= 8, f"ICMPv6 port unreachable, ratelimit 1000: {n} of {BURST} answered (Linux: 6)")
    finally:
        setctl("ipv4.icmp_ratelimit", 1000)
        setctl("ipv6.icmp.ratelimit", 1000)


HOST_DF_RECEIVER = """
import json, re, select, socket, struct, sys, time
port = int(sys.argv[1])
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)   # every UDP packet, IP header included
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", port))   # no port unreachables
print("READY", flush=True)
got, end = {}, time.monotonic() + 30
while len(got) < 7 and time.monotonic() < end:
    if not select.select([r], [], [], 0.5)[0]:
        continue
    pkt = r.recv(4096)
    ihl = (pkt[0] & 15) * 4
    if struct.unpack("!H", pkt[ihl + 2:ihl + 4])[0] != port:
        continue
    m = re.match(rb"mode=(\\w+) len=(\\d+)", pkt[ihl + 8:])
    if m:
        got[f"{m.group(1).decode()} {m.group(2).decode()}"] = bool(struct.unpack("!H", pkt[6:8])[0] & 0x4000)
print(json.dumps(got), flush=True)
"""


def test_ip_mtu_discover_df_on_the_wire(vm6):
    """IP_MTU_DISCOVER on the wire (user/tests/sock_pmtudisc.c wire): a full 1500-byte datagram
    leaves the guest with DF under WANT (the default), DO and PROBE, without it under DONT,
    INTERFACE and OMIT, as Linux's ip_dont_fragment; 1473 bytes under DO are EMSGSIZE; under WANT
    they are sent fragmented (no DF) and arrive whole."""
    g, tap = vm6.g, vm6.tap
    p = subprocess.Popen([*tap.prefix(), PYTHON, "-c", HOST_DF_RECEIVER, "5303"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        g.check(line.strip() == "READY", f"host receiver: {line!r}")
        out, st = g.run(f"/tests/sock_pmtudisc wire {HOST_IP} 5303", timeout=60)
        res, err = p.communicate(timeout=60)
    finally:
        p.kill()
    g.check(st == 0 and re.search(r"^9 passed, 0 failed", out, re.M), out)
    got = json.loads(res.strip().splitlines()[-1])
    want = {"want 1472": True, "dont 1472": False, "do 1472": True, "probe 1472": True, "interface 1472": False,
            "omit 1472": False, "want 1473": False}
    g.check(got == want, f"DF bits at the host: {got} (want {want}) {err}")
