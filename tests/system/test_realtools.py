"""The real, unmodified iperf3 3.12 and netperf 2.7.0 (static riscv64 binaries from
../shared/anchors/linux-guest/bin, the directory beside the checkout) inside Ember over loopback.

One boot runs a script (realtools.py) next to Ember's own programs: the iperf3 server is started
once as a daemon (-s -D) and serves every client mode in turn, the contest's iperf group (including
PARALLEL_UDP, -u -b 1000G -P 5, which once took the server down); then netserver and every netperf
test with the contest's flags and with defaults. Each mode is one pytest item that checks its exit
status and a plausible result (non-zero Mbit/s, transactions/s > 0). Skips, saying why, where the
binaries are absent.

IPv6: the server is started without -4, so iperf3 asks for an AF_INET6 socket first and the same
dual-stack listener serves the IPv4 clients above (v4-mapped) and the -6 clients over ::1 (IPERF6);
a second netserver listens on ::1 for netperf -6 (NETPERF6)."""
import os

import pytest

import realtools
from qemu import BUILD, KERNEL, Qemu

T = "-t 1"
IP = "127.0.0.1"
IPERF = [
    # contest's iperf group (iperf_testcode.sh), -t 1 instead of 2
    ("BASIC_UDP", f"-u -b 1000G"),
    ("BASIC_TCP", ""),
    ("PARALLEL_UDP", "-u -P 5 -b 1000G"),
    ("PARALLEL_TCP", "-P 5"),
    ("REVERSE_UDP", "-u -R -b 1000G"),
    ("REVERSE_TCP", "-R"),
    *[(f"P{n}", f"-P {n}") for n in range(1, 9)],
    ("bidir", "--bidir"),
    ("window", "-w 64K"),
    ("len", "-l 8K"),
    ("mss", "-M 1000"),
    ("nodelay", "-N"),
    ("sendfile", "-Z"),
    ("udp_len", "-u -b 100M -l 1400"),
]
IPERF_JSON = [
    ("json", "-J"),
    ("congestion", "-C reno -J"),
]
CONTEST = "-s 16k -S 16k -m 1k -M 1k"
CONTEST_RR = CONTEST + " -r 64,64 -R 1"
NETPERF = [
    ("UDP_STREAM", CONTEST), ("TCP_STREAM", CONTEST), ("UDP_RR", CONTEST_RR), ("TCP_RR", CONTEST_RR),
    ("TCP_CRR", CONTEST_RR), ("TCP_MAERTS", CONTEST), ("TCP_SENDFILE", CONTEST),
]
IP6 = "::1"
NIC_IP, NIC_GW = "10.0.2.15", "10.0.2.2"       # QEMU user networking's
IPERF6 = [
    ("TCP", ""),
    ("UDP", "-u -b 1000G"),
    ("REVERSE_TCP", "-R"),
    ("PARALLEL_TCP", "-P 4"),
    ("bidir", "--bidir"),
]
NETPERF6 = [("TCP_STREAM", CONTEST), ("TCP_MAERTS", CONTEST), ("UDP_STREAM", CONTEST), ("TCP_RR", CONTEST_RR),
            ("TCP_CRR", CONTEST_RR), ("UDP_RR", CONTEST_RR)]
NETPERF_DEFAULT = ["TCP_STREAM", "TCP_MAERTS", "TCP_SENDFILE", "UDP_STREAM", "TCP_RR", "TCP_CRR", "UDP_RR"]


def steps():
    s = [("iperf_server", "iperf3 -s -p 5001 -D")]
    for name, args in IPERF + IPERF_JSON:
        # iperf3's server closes its listening socket after a test and opens a new one: a client
        # that starts in between is refused (on Linux too), so give the daemon a moment first
        s.append((f"iperf_{name}", f"sh -c 'sleep 1; exec iperf3 -c {IP} -p 5001 {T} -i 0 {args}'"))
    for name, args in IPERF6:
        s.append((f"iperf6_{name}", f"sh -c 'sleep 1; exec iperf3 -6 -c {IP6} -p 5001 {T} -i 0 {args}'"))
    s.append(("iperf_alive", "pidof iperf3"))
    s.append(("netserver", f"netserver -L {IP} -p 12865"))
    for test, flags in NETPERF:
        s.append((f"netperf_{test}_contest", f"netperf -H {IP} -p 12865 -t {test} -l 1 -- {flags}"))
    for test in NETPERF_DEFAULT:
        s.append((f"netperf_{test}_default", f"netperf -H {IP} -p 12865 -t {test} -l 1"))
    s.append(("netserver6", f"netserver -6 -L {IP6} -p 12866"))
    for test, flags in NETPERF6:
        s.append((f"netperf6_{test}", f"netperf -6 -H {IP6} -p 12866 -t {test} -l 1 -- {flags}"))
    return s


@pytest.fixture(scope="module")
def results():
    if not realtools.bin_dir():
        pytest.skip(realtools.why_absent())
    cpio = realtools.pack(os.path.join(BUILD, "realtools-test.cpio"), realtools.script_text(steps()),
                          base_root=realtools.ember_rootfs())
    # A NIC with an address, as on Linux: glibc's getaddrinfo with AI_ADDRCONFIG (netperf uses it)
    # asks NETLINK_ROUTE for the addresses and ignores loopback ones, so with lo alone it finds
    # neither family and "127.0.0.1" does not resolve (the Linux guest needs the same, see
    # ../shared/anchors/linux-guest/README.md). Static (ip=), so no step waits for DHCP.
    q = Qemu(kernel=KERNEL, name="realtools",
             extra=("-initrd", cpio, "-append", f"ip={NIC_IP}::{NIC_GW}:255.255.255.0::eth0:off rdinit=/init -- /bin/sh /run.sh",
                    "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"))
    try:
        q.expect("@@DONE@@", 600)
        log = q.log()
    finally:
        q.close()
    return realtools.parse(log), log


def section(results, name):
    parsed, log = results
    assert name in parsed, f"{name}: no output section\n{log[-4000:]}"
    return parsed[name]


def test_iperf_server_daemon(results):
    rc, out = section(results, "iperf_server")
    assert rc == 0, out
    rc, out = section(results, "iperf_alive")
    assert rc == 0 and out.split(), f"the iperf3 server is gone after the clients: {out}"


@pytest.mark.parametrize("name,args", IPERF, ids=[n for n, _ in IPERF])
def test_iperf(results, name, args):
    rc, out = section(results, f"iperf_{name}")
    assert rc == 0, f"exit {rc}\n{out}"
    rate = realtools.iperf_rate(out)
    assert rate and rate > 0, f"no non-zero receiver rate\n{out}"


@pytest.mark.parametrize("name,args", IPERF_JSON, ids=[n for n, _ in IPERF_JSON])
def test_iperf_json(results, name, args):
    rc, out = section(results, f"iperf_{name}")
    assert rc == 0, f"exit {rc}\n{out}"
    j = realtools.iperf_json(out)
    assert j and "end" in j, f"no JSON report\n{out}"
    assert j["end"]["sum_received"]["bits_per_second"] > 0, out
    if "-C" in args:
        # TCP_CONGESTION set by the client and read back on both ends
        assert j["end"].get("sender_tcp_congestion") == "reno", out
        assert j["end"].get("receiver_tcp_congestion") == "reno", out


@pytest.mark.parametrize("test,flags", NETPERF, ids=[t for t, _ in NETPERF])
def test_netperf_contest(results, test, flags):
    rc, out = section(results, f"netperf_{test}_contest")
    assert rc == 0, f"exit {rc}\n{out}"
    rate = realtools.netperf_rate(out)
    assert rate and rate > 0, f"no non-zero result\n{out}"


@pytest.mark.parametrize("test", NETPERF_DEFAULT)
def test_netperf_default(results, test):
    rc, out = section(results, f"netperf_{test}_default")
    assert rc == 0, f"exit {rc}\n{out}"
    rate = realtools.netperf_rate(out)
    assert rate and rate > 0, f"no non-zero result\n{out}"


@pytest.mark.parametrize("name,args", IPERF6, ids=[n for n, _ in IPERF6])
def test_iperf6(results, name, args):
    rc, out = section(results, f"iperf6_{name}")
    assert rc == 0, f"exit {rc}\n{out}"
    assert "::1" in out, f"not an IPv6 connection\n{out}"
    rate = realtools.iperf_rate(out)
    assert rate and rate > 0, f"no non-zero receiver rate\n{out}"


@pytest.mark.parametrize("test,flags", NETPERF6, ids=[t for t, _ in NETPERF6])
def test_netperf6(results, test, flags):
    rc, out = section(results, "netserver6")
    assert rc == 0, out
    rc, out = section(results, f"netperf6_{test}")
    assert rc == 0, f"exit {rc}\n{out}"
    assert "::1" in out or "AF_INET6" in out, f"not over IPv6\n{out}"
    rate = realtools.netperf_rate(out)
    assert rate and rate > 0, f"no non-zero result\n{out}"
