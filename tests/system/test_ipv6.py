"""IPv6 on every NIC model (net/stack6.c), host peers over a tap device in a network namespace
with IPv6 on (nics.TapNamespace addr6; root, skipped saying why without it):
- the guest's link-local address is fe80::/64 + the EUI-64 of its MAC, and the host reaches it:
  neighbour discovery both ways, which needs the solicited-node multicast group to reach the guest
  through the NIC's multicast filter (net/stack6.c says what each driver does); echoes of 56 and
  3000 bytes (IPv6 fragments both ways, reassembled by lwIP);
- SLAAC: after a router advertisement of fd77::/64 (tests/system/hostra.py) the guest answers on
  fd77:: + its EUI-64, and not before; then the guest pings the host's fd77::1 (the monitor's
  ping over an lwIP ICMPv6 raw pcb), 56 and 1400 bytes;
- the IPv4 side still works next to it;
- the NIC's multicast filter (test_multicast_filter): frames to the guest's solicited-node group
  arrive on every model; frames to a group nobody joined are dropped by the e1000's MTA and the
  RTL8139's MAR (QEMU's models filter), and arrive on virtio-net (no control queue: everything);
- TCP over IPv6 each way with the raw-API tools, the offloads carrying it where the model has them
  (test_tcp6_offloads_both_ways: virtio-net's TSO6 and LRO, the others' software GRO).
"""
import json
import os
import re
import time

import pytest

from nics import NICS, PYTHON, RAWPKT, TapNamespace, qemu_cmd, rx_type_frames, tap_unavailable
from qemu import Qemu
from test_stack import HOSTTCP, csum_left, host_ping, offload_frames, ping, tcpsend_to_host_sink, wait_log

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTRA = os.path.join(HERE, "hostra.py")
GUEST_MAC = "52:54:00:12:34:77"
GUEST_LL = "fe80::5054:ff:fe12:3477"     # EUI-64 of GUEST_MAC (universal/local bit flipped)
PREFIX = "fd77::"
GUEST_SLAAC = "fd77::5054:ff:fe12:3477"
SLAAC_WAIT_S = 15                        # RA -> address tentative -> DAD (one probe, 1 s) -> preferred
TCP6_MIB = 32
HOST6 = "fd77::1"


@pytest.fixture(scope="module", params=NICS, ids=lambda n: n.id)
def tap6(request):
    reason = tap_unavailable()
    if reason:
        pytest.skip(reason)
    nic = request.param
    tap = TapNamespace(f"emb6{os.getpid() % 100000}-{NICS.index(nic)}", mtu=1500, addr6="fd77::1/64")
    request.addfinalizer(tap.close)
    cmd = qemu_cmd([*tap.netdev("n0"), *nic.extra, "-device", f"{nic.device},mac={GUEST_MAC},netdev=n0",
                    "-append", "ip=192.168.77.2::192.168.77.1:255.255.255.0::eth0:off"], prefix=tap.prefix())
    q = Qemu(name=f"ipv6-tap-{nic.id}", cmd=cmd)
    request.addfinalizer(q.close)
    q.boot()
    wait_log(q, r"net: eth0 inet 192\.168\.77\.2/24 gw 192\.168\.77\.1 \(static\)")
    return nic, tap, q


def ping_until(tap, addr, wait_s, **kw):
    """Ping addr until an echo comes back or wait_s passes; the last result."""
    deadline = time.monotonic() + wait_s
    while True:
        r = host_ping(tap, addr, **kw)
        if r["received"] or time.monotonic() > deadline:
            return r


def test_host_pings_link_local(tap6):
    nic, tap, q = tap6
    # the guest's DAD for its link-local address takes about a second after boot
    r = ping_until(tap, f"{GUEST_LL}%tap0", 10, count=1)
    assert r["received"] == 1, r
    r = host_ping(tap, f"{GUEST_LL}%tap0", count=5)
    assert r["received"] == 5, r
    r = host_ping(tap, f"{GUEST_LL}%tap0", count=2, size=3000)    # fragmented both ways
    assert r["received"] == 2, r
    neigh = tap.ns(["ip", "-6", "neigh", "show", "dev", "tap0"]).stdout
    assert GUEST_LL in neigh and GUEST_MAC in neigh.lower(), neigh
    # IPv4 alongside
    assert host_ping(tap, "192.168.77.2", count=2)["received"] == 2
    assert "lwip: assertion" not in q.log()


GUEST_SOLICITED_MAC = "33:33:ff:12:34:77"    # ff02::1:ff12:3477: GUEST_LL's solicited-node group
UNJOINED_MAC = "33:33:de:ad:be:ef"           # ff02::dead:beef's: nobody joined it
ETH_P_JOINED, ETH_P_UNJOINED = 0x88B6, 0x88B5
MC_FRAMES = 20
FILTERING_DRIVERS = ("e1000", "rtl8139")    # QEMU's models apply MTA / MAR; virtio-net passes all


def test_multicast_filter(tap6):
    """The device's multicast list (net/netdev.h: Multicast) follows lwIP's MLD joins into the
    driver's filter: MC_FRAMES frames to the solicited-node group of the guest's link-local address
    all arrive (counted by ethertype), MC_FRAMES to a group nobody joined arrive only where the
    model has no filter (virtio-net), and ND keeps working through the filter."""
    nic, tap, q = tap6
    assert ping_until(tap, f"{GUEST_LL}%tap0", 10, count=1)["received"] == 1   # DAD done, group joined

    def count(t):
        return rx_type_frames(q.command("rxtypes eth0"), "eth0", t)[0]

    before = {t: count(t) for t in (ETH_P_JOINED, ETH_P_UNJOINED)}
    for mac, t in ((UNJOINED_MAC, ETH_P_UNJOINED), (GUEST_SOLICITED_MAC, ETH_P_JOINED)):
        r = tap.ns([PYTHON, RAWPKT, "send", tap.iface, "--count", str(MC_FRAMES), "--type", hex(t), "--dst", mac])
        assert json.loads(r.stdout.strip().splitlines()[-1])["sent"] == MC_FRAMES, r.stdout
    deadline = time.monotonic() + 10
    while count(ETH_P_JOINED) - before[ETH_P_JOINED] < MC_FRAMES and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)                     # the unjoined frames went first: any that passed are in
    joined = count(ETH_P_JOINED) - before[ETH_P_JOINED]
    unjoined = count(ETH_P_UNJOINED) - before[ETH_P_UNJOINED]
    assert joined == MC_FRAMES, (joined, unjoined)
    assert unjoined == (0 if nic.driver in FILTERING_DRIVERS else MC_FRAMES), (joined, unjoined)
    assert host_ping(tap, f"{GUEST_LL}%tap0", count=2)["received"] == 2


def test_slaac_address_from_router_advertisement(tap6):
    nic, tap, q = tap6
    r = host_ping(tap, GUEST_SLAAC, count=1, timeout=1.0)
    assert r["received"] == 0, r                    # no prefix yet: no such address
    out = tap.ns([PYTHON, HOSTRA, "tap0", PREFIX, "--count", "2"])
    assert json.loads(out.stdout.strip().splitlines()[-1])["sent"] == 2
    r = ping_until(tap, GUEST_SLAAC, SLAAC_WAIT_S, count=1)
    assert r["received"] == 1, r
    r = host_ping(tap, GUEST_SLAAC, count=3)
    assert r["received"] == 3, r
    sent, got, out = ping(q, "fd77::1", count=3)
    assert got == 3, out
    out = q.command("ping -c 2 -s 1400 fd77::1", timeout=60)
    assert "2 packets transmitted, 2 received" in out, out
    assert "lwip: assertion" not in q.log()


def test_tcp6_offloads_both_ways(tap6):
    """TCP over IPv6 each way, 32 MiB, every byte counted by the other side: the guest's raw-API
    tcpsend to a host sink on fd77::1, and a host sender (its MTU raised to 9000) to the guest's
    tcpsink on its SLAAC address. The offloads must carry IPv6 where the model has them:
    virtio-net says tso6 (HOST_TSO6) and its tso counter grows while only IPv6 flows; it takes
    the host's coalesced IPv6 segments (GUEST_TSO6: the lro counter grows); the other models
    coalesce in software (net/gro.c: the gro counter grows). The e1000 says tso6 too (its driver
    cuts IPv6 TSO frames: QEMU's model writes a wrong IPv6 payload length into the segments it
    cuts) and its tso counter grows; QEMU's RTL8139 cuts IPv4 only, so its driver cuts IPv6 TSO
    frames too, checksums included (net/tso.c), says tso6 and its tso counter grows. The guest
    must advertise its device MTU's IPv6 MSS (1440) however big its TSO6 netif's mtu6 is, or the
    host would send frames the guest drops.
    The TSO frames go with their TCP checksum left to the driver (net/stack.c: lwIP does not
    sum 16 KiB that the driver and device redo) where the driver says tsocsum (virtio-net and
    e1000, not RTL8139): netstat's csum-left counter grows there and only there.
    Runs after the SLAAC test (it sends its own advertisement too)."""
    nic, tap, q = tap6
    virtio = nic.driver.startswith("virtio")
    tso6, tsocsum = True, nic.driver != "rtl8139"
    features = re.search(r"features (\S+)", q.command("ifconfig eth0")).group(1).split(",")
    assert ("tso6" in features, "tsocsum" in features, "lro" in features, "gro" in features) == \
        (tso6, tsocsum, virtio, not virtio), features
    tap.ns([PYTHON, HOSTRA, "tap0", PREFIX, "--count", "1"])
    assert ping_until(tap, GUEST_SLAAC, SLAAC_WAIT_S, count=1)["received"] == 1
    tso0, lro0, gro0 = offload_frames(q)
    left0 = csum_left(q)
    tcpsend_to_host_sink(q, tap, HOST6, 5012, TCP6_MIB, v6=True)      # guest -> host
    tso1, _, _ = offload_frames(q)
    assert (tso1 - tso0 > 0) == tso6, f"{tso1 - tso0} TSO frames"
    # the TSO frames' TCP checksums were left to the device (which redoes them), not summed by
    # lwIP as well; every byte still arrived, so the device did complete them
    assert (csum_left(q) - left0 > 0) == tsocsum, f"{csum_left(q) - left0} checksums left to the device"
    # host -> guest
    assert "listening on 5011" in q.command("tcpsink 5011")
    tap.ns(["ip", "link", "set", tap.iface, "mtu", "9000"])
    try:
        r = tap.ns([PYTHON, HOSTTCP, "send", GUEST_SLAAC, "5011", "--mib", str(TCP6_MIB)], timeout=300)
    finally:
        tap.ns(["ip", "link", "set", tap.iface, "mtu", "1500"])
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["bytes"] == [TCP6_MIB << 20], res
    assert res["mss"] == [1440], res
    sink = q.command("tcpsink")
    assert re.search(rf"resets 0 bytes {TCP6_MIB << 20}\b", sink), sink
    _, lro2, gro2 = offload_frames(q)
    assert (lro2 - lro0 > 0) == virtio, f"{lro2 - lro0} LRO frames"
    assert (gro2 - gro0 > 0) == (not virtio), f"{gro2 - gro0} GRO frames"
    dev = q.command("ifconfig eth0")
    assert re.search(r"rx packets \d+ bytes \d+ dropped 0 errors 0", dev), dev
    assert "lwip: assertion" not in q.log()
