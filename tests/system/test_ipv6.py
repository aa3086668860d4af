"""IPv6 on every NIC model (net/stack6.c), host peers over a tap device in a network namespace
with IPv6 on (nics.TapNamespace addr6; root, skipped saying why without it):
- the guest's link-local address is fe80::/64 + the EUI-64 of its MAC, and the host reaches it:
  neighbour discovery both ways, which needs the solicited-node multicast group to reach the guest
  through the NIC's multicast filter (net/stack6.c says what each driver does); echoes of 56 and
  3000 bytes (IPv6 fragments both ways, reassembled by lwIP);
- SLAAC: after a router advertisement of fd77::/64 (tests/system/hostra.py) the guest answers on
  fd77:: + its EUI-64, and not before; then the guest pings the host's fd77::1 (the monitor's
  ping over an lwIP ICMPv6 raw pcb), 56 and 1400 bytes;
- the IPv4 side still works next to it.
"""
import json
import os
import time

import pytest

from nics import NICS, PYTHON, TapNamespace, qemu_cmd, tap_unavailable
from qemu import Qemu
from test_stack import host_ping, ping, wait_log

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTRA = os.path.join(HERE, "hostra.py")
GUEST_MAC = "52:54:00:12:34:77"
GUEST_LL = "fe80::5054:ff:fe12:3477"     # EUI-64 of GUEST_MAC (universal/local bit flipped)
PREFIX = "fd77::"
GUEST_SLAAC = "fd77::5054:ff:fe12:3477"
SLAAC_WAIT_S = 15                        # RA -> address tentative -> DAD (one probe, 1 s) -> preferred


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
