"""Stage 5 foundation system tests: lwIP behind the squeues, interface configuration, loopback,
the kernel's ping and raw-API TCP, the /proc files and the squeue stress test. Every QEMU run is
bounded.

- QEMU user networking, each NIC model: DHCP gives eth0 10.0.2.15/24 (console line and ifconfig);
  `ping 10.0.2.2` from the monitor gets replies (QEMU's slirp answers ICMP echo to its gateway).
- `ip=` static configuration, `ip=off`, loopback ping (127.0.0.1 and our own address, counted on lo).
- The squeue stress test (cross-CPU enqueue: exactly once, in order per producer and squeue).
- TCP over loopback with the in-kernel raw-API sender and sink (tcpsend/tcpsink): every byte
  acknowledged and counted, connections spread over the squeues, flow bindings released.
- /proc/net/dev, /proc/interrupts and /proc/net/squeue read by a user program (/bin/cat as init).
- Hostile IPv4/ARP/TCP/UDP frames through QEMU's UDP socket backend: the kernel stays up, lwIP
  counts the drops, and the stack still answers.
- With root and usable network namespaces, for each NIC model over tap: the host pings the guest
  (also with fragments), the guest pings the host, and TCP moves 16 MiB each way between the
  guest's raw-API sender/sink and a host peer (tests/system/hosttcp.py).
"""
import json
import os
import random
import re
import socket
import struct
import subprocess
import time

import pytest

from nics import NICS, PYTHON, TapNamespace, qemu_cmd, tap_unavailable
from qemu import BUILD, Qemu

DHCP_RE = r"net: eth0 inet 10\.0\.2\.15/24 gw 10\.0\.2\.2 \(dhcp\)"
PING_SUMMARY = r"(\d+) packets transmitted, (\d+) received"


def wait_log(q, pattern, timeout=30):
    """Wait until the console log (from the start: it may have been printed before the prompt)
    matches pattern."""
    deadline = time.monotonic() + timeout
    while True:
        m = re.search(pattern, q.log())
        if m:
            return m
        if time.monotonic() > deadline:
            q.fail(f"timed out after {timeout}s waiting for {pattern!r} in the log")
        time.sleep(0.1)


def ping(q, addr, count=3, timeout=60):
    out = q.command(f"ping -c {count} -i 100 -W 1000 {addr}", timeout=timeout)
    m = re.search(PING_SUMMARY, out)
    assert m, out
    return int(m.group(1)), int(m.group(2)), out


def lo_counters(q):
    out = q.command("ifconfig lo")
    rx = re.search(r"rx packets (\d+)", out)
    tx = re.search(r"tx packets (\d+)", out)
    assert rx and tx, out
    return int(rx.group(1)), int(tx.group(1))


@pytest.fixture(params=NICS, ids=lambda n: n.id)
def nic(request):
    return request.param


def test_dhcp_and_ping_gateway(boot, nic):
    q = boot(extra=["-netdev", "user,id=n0", *nic.args("n0")])
    wait_log(q, DHCP_RE)
    out = q.command("ifconfig eth0")
    assert re.search(r"^  inet 10\.0\.2\.15/24 gw 10\.0\.2\.2 \(dhcp\)$", out, re.M), out
    sent, got, out = ping(q, "10.0.2.2")
    assert sent == 3 and got == 3, out
    assert re.search(r"64 bytes from 10\.0\.2\.2: icmp_seq=0 ttl=\d+ time=[\d.]+ ms", out), out


def test_static_ip_and_loopback(boot):
    q = boot(extra=["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0",
                    "-append", "ip=10.0.2.20::10.0.2.2:255.255.255.0::eth0:off"])
    wait_log(q, r"net: eth0 inet 10\.0\.2\.20/24 gw 10\.0\.2\.2 \(static\)")
    assert "DHCP started" not in q.log()
    assert re.search(r"^  inet 10\.0\.2\.20/24 gw 10\.0\.2\.2 \(static\)$", q.command("ifconfig eth0"), re.M)
    assert ping(q, "10.0.2.2")[1] == 3
    # loopback: 127.0.0.1 and our own address both go through lo (and its squeues)
    rx0, tx0 = lo_counters(q)
    assert ping(q, "127.0.0.1")[1] == 3
    assert ping(q, "10.0.2.20")[1] == 3
    rx1, tx1 = lo_counters(q)
    assert rx1 - rx0 >= 12 and tx1 - tx0 >= 12, (rx0, tx0, rx1, tx1)   # 6 requests + 6 replies
    # nobody home: counted as lost, not hung
    sent, got, out = ping(q, "10.0.2.99", count=2)
    assert sent == 2 and got == 0 and "no reply" in out, out


def test_ip_off_leaves_nic_unconfigured_lo_up(boot):
    q = boot(extra=["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0", "-append", "ip=off"])
    assert re.search(r"^  inet none$", q.command("ifconfig eth0"), re.M)
    assert re.search(r"^  inet 127\.0\.0\.1/8 gw 0\.0\.0\.0 \(loopback\)$", q.command("ifconfig lo"), re.M)
    assert ping(q, "127.0.0.1", count=2)[1] == 2
    assert "DHCP started" not in q.log()


def test_no_nic_loopback_only(boot):
    q = boot()
    assert re.search(r"^net: 0 devices$", q.log(), re.M)
    assert ping(q, "127.0.0.1", count=2)[1] == 2
    assert "usage" in q.command("ping 127.0.0")
    assert "usage" in q.command("ping -c x 127.0.0.1")


def test_squeue_stress_exactly_once_in_order(boot):
    q = boot(extra=["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"])
    out = q.command("sqstress 3000", timeout=200)
    assert "sqstress: PASS" in out, out
    # callbacks holding the stack lock for 50 us made other CPUs' squeues delegate to the holder,
    # which ran their items (as theirs, in order: checked above) and never overlapped another
    m = re.search(r"stack lock overlaps (\d+), squeues delegated (\d+) times", out)
    assert m and int(m.group(1)) == 0 and int(m.group(2)) > 0, out
    m = re.search(r"exactly once (\d+), more than once (\d+), order errors (\d+), wrong squeue (\d+)", out)
    assert m and int(m.group(2)) == int(m.group(3)) == int(m.group(4)) == 0, out
    m = re.search(r"inline (\d+) queued (\d+)", out)
    assert int(m.group(1)) > 0 and int(m.group(2)) > 0, out   # both paths taken
    out = q.command("sqstat")
    assert re.search(r"^stack lock: acquisitions \d+ held_ns \d+", out, re.M), out
    assert len(re.findall(r"^ *\d+ +\d+ +\d+ +\d+", out, re.M)) == 4, out


def test_tcp_over_loopback(boot):
    q = boot(extra=["-append", "ip=off"])
    assert "listening on 5001" in q.command("tcpsink 5001")
    out = q.command("tcpsend 127.0.0.1 5001 8", timeout=300)
    assert re.search(r"tcpsend: 1 connection, 8388608 bytes acknowledged in [\d.]+ s: [\d.]+ Mbit/s\n", out), out
    assert "local sink got 8388608 bytes" in out, out
    out = q.command("tcpsend 127.0.0.1 5001 2 8", timeout=300)
    assert re.search(r"tcpsend: 8 connections, 16777216 bytes acknowledged", out), out
    assert "errors" not in out, out
    out = q.command("tcpsink")
    m = re.search(r"connections (\d+) closed (\d+) resets (\d+) bytes (\d+)", out)
    assert m and m.groups() == ("9", "9", "0", str(8388608 + 16777216)), out
    spread = [int(x) for x in re.search(r"accepted per squeue:((?: \d+)+)", out).group(1).split()]
    assert sum(spread) == 9 and sum(1 for x in spread if x) >= 2, out   # the SYNs' squeues, by flow hash
    assert "flow bindings 0" in q.command("sqstat")                      # the senders unbound theirs
    out = q.command("tcpsend 127.0.0.1 5009 1")                         # no listener: reset, reported
    assert re.search(r"connection 0: lwIP error -\d+ after 0 bytes", out) and "(errors)" in out, out


def test_proc_files_read_by_user_program():
    """/bin/cat as init reads the three files through the syscall layer."""
    q = Qemu(name="proc-files", extra=["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0",
                                       "-initrd", os.path.join(BUILD, "initramfs.cpio"), "-append",
                                       "rdinit=/bin/cat -- /proc/net/dev /proc/interrupts /proc/net/squeue"])
    try:
        q.expect(r"init exited with status (\d+)", 60)
        q.wait_exit(30)
        log = q.log()
    finally:
        q.close()
    assert "init exited with status 0" in log, log[-3000:]
    assert re.search(r"^Inter-\|   Receive {48}\|  Transmit$", log, re.M), log[-3000:]
    assert re.search(r"^ face \|bytes    packets errs drop fifo frame compressed multicast\|bytes    packets errs "
                     r"drop fifo colls carrier compressed$", log, re.M)
    for dev in ("lo", "eth0"):
        assert re.search(rf"^ *{dev}: +\d+ +\d+( +\d+){{14}}$", log, re.M), (dev, log[-3000:])
    assert re.search(r"^ {11}CPU0 {7}CPU1 {7}CPU2 {7}CPU3 *$", log, re.M), log[-3000:]
    assert re.search(r"^ +10: +\d+ +\d+ +\d+ +\d+ +SiFive PLIC +10 Level +uart", log, re.M), log[-3000:]
    assert re.search(r"^LOC: +\d+ +\d+ +\d+ +\d+ +Local timer interrupts$", log, re.M)
    assert re.search(r"^IPI: +\d+ +\d+ +\d+ +\d+ +Inter-processor interrupts$", log, re.M)
    assert re.search(r"^sq cpu +inline +queued +drains", log, re.M)
    assert re.search(r"^stack lock: acquisitions \d+ held_ns \d+ wait_ns \d+ contended \d+ delegated \d+$", log, re.M)


# ---- hostile frames through QEMU's UDP socket backend (no root needed) ----

GUEST_MAC = bytes.fromhex("525400123456")
HOST_MAC = bytes.fromhex("020000000001")
GUEST_IP = bytes([10, 0, 2, 15])
PEER_IP = bytes([10, 0, 2, 2])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto, payload, tot=None, ihl=5, frag=0, bad_csum=False, src=PEER_IP, dst=GUEST_IP):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot if tot is not None else 20 + len(payload), 0x1234, frag,
                      64, proto, 0, src, dst)
    c = csum(hdr) ^ (0x5555 if bad_csum else 0)
    hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
    return hdr + payload


def eth(payload, ethertype=0x0800):
    return GUEST_MAC + HOST_MAC + struct.pack("!H", ethertype) + payload


def hostile_frames(rng):
    tcp_syn = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x02, 8192, 0, 0)
    udp = struct.pack("!HHHH", 5000, 7, 8 + 4, 0) + b"ping"
    frames = [
        eth(b""), eth(b"\x45"), eth(ipv4(6, tcp_syn)[:19]),            # truncated IP headers
        eth(ipv4(6, tcp_syn, tot=10)), eth(ipv4(6, tcp_syn, tot=4000)),  # total length lies
        eth(ipv4(6, tcp_syn, ihl=4)), eth(ipv4(6, tcp_syn, ihl=15)),     # header length lies
        eth(ipv4(6, tcp_syn, bad_csum=True)),                            # bad IP checksum
        eth(ipv4(6, tcp_syn)),                                           # bad TCP checksum (0)
        eth(ipv4(6, tcp_syn[:10])), eth(ipv4(17, udp[:5])),              # truncated TCP/UDP headers
        eth(ipv4(17, udp)),                                              # UDP to a closed port
        eth(ipv4(17, struct.pack("!HHHH", 5000, 7, 200, 0) + b"x")),     # UDP length lies
        eth(ipv4(1, b"\x08\x00")),                                       # truncated ICMP echo
        eth(ipv4(17, udp, frag=0x2000)), eth(ipv4(17, b"z" * 64, frag=0x1fff)),  # fragments that never complete
        eth(b"\x00\x01\x08\x00\x06\x04\x00\x02" + b"\xff" * 5, 0x0806),   # truncated ARP
        eth(b"\x00\x01\x08\x00\x06\x04\x00\x09" + b"\x00" * 20, 0x0806),  # bad ARP opcode
    ]
    for _ in range(300):                                                 # random IPv4 payloads
        proto = rng.choice([1, 6, 17, 0, 255])
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 120)))
        frames.append(eth(ipv4(proto, body, bad_csum=rng.random() < 0.3)))
        raw = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 80)))
        frames.append(eth(raw, rng.choice([0x0800, 0x0806])))
    return frames


def test_hostile_frames_kernel_survives(boot):
    host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host.bind(("127.0.0.1", 0))
    hport = host.getsockname()[1]
    s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s2.bind(("127.0.0.1", 0))
    qport = s2.getsockname()[1]
    s2.close()
    try:
        q = boot(extra=["-netdev", f"socket,id=n0,udp=127.0.0.1:{hport},localaddr=127.0.0.1:{qport}",
                        "-device", "virtio-net-device,netdev=n0",
                        "-append", "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"])
        wait_log(q, r"net: eth0 inet 10\.0\.2\.15/24")
        frames = hostile_frames(random.Random(5))
        for f in frames:
            host.sendto(f, ("127.0.0.1", qport))
        out = q.command("netstat", timeout=60)
        ip = re.search(r"^ip +xmit \d+ recv (\d+) fw \d+ drop (\d+) chkerr (\d+) lenerr (\d+)", out, re.M)
        assert ip and int(ip.group(1)) > 0, out
        assert int(ip.group(2)) + int(ip.group(3)) + int(ip.group(4)) > 0, out   # drops were counted
        assert "4 cpus online" in q.command("cpus")
        assert ping(q, "127.0.0.1", count=2)[1] == 2
        assert ping(q, "10.0.2.15", count=2)[1] == 2
    finally:
        host.close()


# ---- tap in a network namespace (root) ----

GUEST_IP, HOST_IP = "192.168.77.2", "192.168.77.1"
HOSTPING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostping.py")


def host_ping(tap, addr, count=3, size=56, interval=0.2, timeout=2.0):
    """Echo requests from the host side of the tap (tests/system/hostping.py); its JSON result."""
    r = tap.ns([PYTHON, HOSTPING, addr, "--count", str(count), "--size", str(size), "--interval", str(interval),
                "--timeout", str(timeout)], timeout=count * (interval + timeout) + 30)
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module", params=NICS, ids=lambda n: n.id)
def tapstack(request):
    reason = tap_unavailable()
    if reason:
        pytest.skip(reason)
    nic = request.param
    # a 1500-byte MTU on the host side too: large echoes are fragmented by the host, not dropped
    tap = TapNamespace(f"embstk{os.getpid() % 100000}-{NICS.index(nic)}", mtu=1500)
    request.addfinalizer(tap.close)
    cmd = qemu_cmd([*tap.netdev("n0"), *nic.args("n0"), "-append",
                    "ip=192.168.77.2::192.168.77.1:255.255.255.0::eth0:off"], prefix=tap.prefix())
    q = Qemu(name=f"stack-tap-{nic.id}", cmd=cmd)
    request.addfinalizer(q.close)
    q.boot()
    wait_log(q, r"net: eth0 inet 192\.168\.77\.2/24 gw 192\.168\.77\.1 \(static\)")
    return nic, tap, q


def test_tap_host_pings_guest_and_back(tapstack):
    nic, tap, q = tapstack
    r = host_ping(tap, "192.168.77.2", count=5)
    assert r["received"] == 5, r
    # a larger echo: IP fragments both ways (3000 bytes over a 1500-byte MTU), reassembled by lwIP
    r = host_ping(tap, "192.168.77.2", count=2, size=3000)
    assert r["received"] == 2, r
    sent, got, out = ping(q, "192.168.77.1")
    assert got == 3, out
    dev = q.command("ifconfig eth0")
    assert re.search(r"rx packets [1-9]\d* bytes \d+ dropped 0 errors 0", dev), dev


HOSTTCP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hosttcp.py")
TCP_MIB = 16


def offload_frames(q):
    """(TSO frames sent, LRO frames received, frames software GRO built) from ifconfig's counters."""
    dev = q.command("ifconfig eth0")
    rx = re.search(r"rx packets \d+ bytes \d+ dropped \d+ errors \d+ lro (\d+) gro (\d+)", dev)
    return (int(re.search(r"tx packets \d+ bytes \d+ dropped \d+ errors \d+ busy \d+ tso (\d+)", dev).group(1)),
            int(rx.group(1)), int(rx.group(2)))


def csum_left(q):
    """TCP segments sent with their checksum left to a TSO_CSUM driver (monitor netstat)."""
    return int(re.search(r"tso\s+csum-left (\d+)", q.command("netstat")).group(1))


def tcpsend_to_host_sink(q, tap, addr, port, mib, v6=False):
    """The guest's raw-API tcpsend of mib MiB to a host sink (hosttcp.py) on addr: port; asserts
    that all of it was acknowledged and counted by the host."""
    p = subprocess.Popen([*tap.prefix(), PYTHON, HOSTTCP, "sink", str(port), *(["--v6"] if v6 else [])],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "READY"
        out = q.command(f"tcpsend {addr} {port} {mib}", timeout=300)
        res = json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1])
    finally:
        p.kill()
    assert re.search(rf"tcpsend: 1 connection, {mib << 20} bytes acknowledged", out), out
    assert res["bytes"] == [mib << 20], res


def test_tap_tcp_both_ways(tapstack):
    """TCP each way with the raw-API tools. Every model does TSO (virtio with QEMU's default
    vnet_hdr over tap, the e1000 and the RTL8139 C+ in hardware) and virtio LRO too: the guest must
    say so, send big segments the device cuts (the tso counter grows) and take the host's
    coalesced ones (the lro counter grows), with every byte arriving. The other models coalesce
    in software (net/gro.c: the gro feature and counter), with every byte arriving too.
    The host side's MTU is raised to 9000 for the host->guest half: the guest must still advertise
    its own MTU's MSS (1460), whatever size its TSO netif has, or the host would send 9000-byte
    frames that the guest drops.
    virtio-net and the e1000 take the TSO frames with their TCP checksum unset (tsocsum: their
    drivers write it; netstat's csum-left grows); the RTL8139 gets the stack's sum (QEMU's model
    needs it: without it this stream stalls)."""
    nic, tap, q = tapstack
    lro = nic.driver.startswith("virtio")              # every model does TSO; virtio LRO too
    tsocsum = nic.driver != "rtl8139"
    features = re.search(r"features (\S+)", q.command("ifconfig eth0")).group(1).split(",")
    assert ("tso" in features, "lro" in features, "gro" in features) == (True, lro, not lro), features
    assert ("tsocsum" in features) == tsocsum, features
    tso_before, lro_before, gro_before = offload_frames(q)
    left_before = csum_left(q)
    # guest -> host: the kernel's raw-API sender to a host sink
    tcpsend_to_host_sink(q, tap, HOST_IP, 5002, TCP_MIB)
    tso_sent = offload_frames(q)[0] - tso_before
    assert tso_sent > 0, f"{tso_sent} TSO frames"
    assert (csum_left(q) - left_before > 0) == tsocsum, f"{csum_left(q) - left_before} checksums left to the driver"
    # host -> guest: a host sender (MTU 9000 on its side) to the kernel's sink
    if "listening" not in q.command("tcpsink"):
        assert "listening on 5001" in q.command("tcpsink 5001")
    before = int(re.search(r"bytes (\d+)", q.command("tcpsink")).group(1))
    tap.ns(["ip", "link", "set", tap.iface, "mtu", "9000"])
    try:
        r = tap.ns([PYTHON, HOSTTCP, "send", GUEST_IP, "5001", "--mib", str(TCP_MIB)], timeout=300)
    finally:
        tap.ns(["ip", "link", "set", tap.iface, "mtu", "1500"])
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["bytes"] == [TCP_MIB << 20], res
    assert res["mss"] == [1460], res
    after = int(re.search(r"bytes (\d+)", q.command("tcpsink")).group(1))
    assert after - before == TCP_MIB << 20
    _, lro_now, gro_now = offload_frames(q)
    assert (lro_now - lro_before > 0) == lro, f"{lro_now - lro_before} LRO frames"
    assert (gro_now - gro_before > 0) == (not lro), f"{gro_now - gro_before} GRO frames"
    dev = q.command("ifconfig eth0")
    assert re.search(r"rx packets \d+ bytes \d+ dropped 0 errors 0", dev), dev


def test_tap_irq_follows_the_flow(tapstack):
    """Interrupt steering: after a host->guest transfer, the NIC's IRQ (and so its poll) is on the
    CPU whose squeue the connection lives on (net/stack.c steer_irqs), as /proc/net/squeue says."""
    nic, tap, q = tapstack
    if "listening" not in q.command("tcpsink"):
        assert "listening on 5001" in q.command("tcpsink 5001")

    def per_squeue():
        out = q.command("tcpsink")
        return [int(x) for x in re.search(r"accepted per squeue:([\d ]+)", out).group(1).split()]

    before = per_squeue()
    r = tap.ns([PYTHON, HOSTTCP, "send", GUEST_IP, "5001", "--mib", str(TCP_MIB)], timeout=300)
    assert json.loads(r.stdout.strip().splitlines()[-1])["bytes"] == [TCP_MIB << 20]
    after = per_squeue()
    grew = [c for c, (a, b) in enumerate(zip(before, after)) if b > a]
    assert len(grew) == 1, (before, after)
    steer = re.search(r"irq steering: eth0 irq (\d+) on cpu (\d+), moved (\d+) times", q.command("sqstat"))
    assert steer, q.log()[-3000:]
    assert int(steer.group(2)) == grew[0], (steer.group(0), before, after)
