"""A listening TCP server in the guest keeps serving through a SYN flood (net/tcp_synq.c: the bounded
half-open queue and SYN cookies), on virtio-net, e1000 and RTL8139.

Per NIC model, one guest (the release kernel and the initramfs, /init's shell, as
test_sock_host.py) on tap0 of a network namespace (root; skipped, saying why, without it):
  1. warm-up: one 1 MiB echo through the guest's echo server (nettool echo), then the baseline:
     free pages (nettool mem: sysinfo) and /proc/net/netstat's TcpExt counters;
  2. the guest's echo server waits for two connections while the host floods its port with SYNs
     from random spoofed addresses of the tap's /24 and random ports (hostflood.py: raw frames
     through AF_PACKET, FLOOD_S seconds as fast as the host sends them); nobody answers the
     guest's SYN-ACKs, so the half-open queue is full for the whole flood and 20 s after;
  3. during the flood a legitimate client connects, within CONNECT_LIMIT_S, and echoes 1 MiB
     byte-exact; right after the flood another one does the same;
     The guest answers the flood's SYNs without ARP (the host sees no ARP request for a spoofed
     address): through ARP, the half-open queue's SYN-ACKs evicted the host from lwIP's 64-entry
     table during the flood and dropped what was queued on it, and the legitimate client's
     connection waited out retransmission timers past a minute (a CI failure on RTL8139);
  4. /proc/net/netstat counted cookies sent (the flood), received (the clients' ACKs) and no
     listen drops; free pages come back to the baseline (within LEAK_SLACK_PAGES) once the
     flood's half-open connections expired; the kernel is alive and printed nothing alarming.
The IPv6 variant (test_ipv6_server_keeps_serving_through_a_syn_flood): the guest has fd77::/64 by
SLAAC (test_ipv6_sock.Vm6), its echo server listens on [::], the flood's SYNs come from spoofed
addresses of that /64 (hostflood.py flood6) and the legitimate client connects to the guest's
SLAAC address within CONNECT_LIMIT_S during the flood: the poll threads answer IPv6 SYNs with
cookies too (net/tcp_synq.c: tcp_synq_answer6).
Before all that, FIN_ROUNDS echoes in a row must each end with the guest's FIN (the RTL8139 model
lost it from TSO frames: test_every_echo_ends_with_the_servers_fin).
Rates and times go to the test output and build/test-logs/sock-host-throughput.txt.

The rate. FLOOD_RATE (SYNFLOOD_RATE in the environment overrides it; 0 = as fast as the host
sends) is one the guest takes in full on a loaded 2-core host: at the host's full speed (~100,000
SYNs/s from one Python process) QEMU's NIC model takes ~40,000 frames/s here and the tap drops the
rest before the guest sees them, so a legitimate client's SYN and segments are lost on the link
with that probability whatever the server does (measured then: every SYN that arrived answered,
connect 1.1 s, i.e. one SYN retransmission, and the 1 MiB echo 16 s of retransmissions). The
test is about what the stack does with the SYNs it gets, so it floods below the link's capacity:
at 20,000/s RTL8139's model took only 2/3 of the frames on a busy host (other QEMUs running),
dropping a real client's first SYN too, while virtio-net and e1000 took all and connected in
ms; 10,000/s (120,000 SYNs, a thousand times the half-open queue) leaves a margin on all three."""
import json
import os
import re
import subprocess
import time

import pytest

from nics import NICS, PYTHON, tap_unavailable
from test_sock_host import GUEST_IP, TapVM, kv_line, nettool, report

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTFLOOD = os.path.join(HERE, "hostflood.py")
MODELS = ("virtio-net-device", "e1000", "rtl8139")
PORT = 5010
MIB = 1 << 20
FLOOD_S = 12
FLOOD_RATE = int(os.environ.get("SYNFLOOD_RATE", 10000))   # SYNs per second (see the note above)
FLOOD_LEAD_S = 2             # the flood runs this long before the first legitimate client
CONNECT_LIMIT_S = 1.0        # the goal: a legitimate client connects within 1 s
ECHO_TIMEOUT = 90
LEAK_SLACK_PAGES = 16        # as test_sock_host's churn check: kmalloc's empty slabs, noise
MEMORY_WAIT_S = 60           # half-open connections live 20 s (TCP_SYN_RCVD_TIMEOUT)
NETSTAT_FIELDS = ("SyncookiesSent", "SyncookiesRecv", "SyncookiesFailed", "ListenOverflows", "ListenDrops")


@pytest.fixture(scope="module", params=[n for n in NICS if n.id in MODELS], ids=lambda n: n.id)
def floodvm(request):
    reason = tap_unavailable()
    if reason:
        pytest.skip(reason)
    vm = TapVM(request.param)
    request.addfinalizer(vm.close)
    return vm


def netstat(g):
    out, st = g.run("/bin/cat /proc/net/netstat")
    lines = re.findall(r"^TcpExt: (.*)$", out, re.M)
    g.check(st == 0 and len(lines) == 2, f"/proc/net/netstat: {out!r}")
    names, values = lines[0].split(), lines[1].split()
    g.check(len(names) == len(values) and all(v.isdigit() for v in values), f"/proc/net/netstat: {out!r}")
    d = dict(zip(names, map(int, values)))
    g.check(all(f in d for f in NETSTAT_FIELDS), f"/proc/net/netstat lacks some of {NETSTAT_FIELDS}: {out!r}")
    return d


def free_pages(g):
    out, st = g.run(nettool("mem", 30))
    m = kv_line(out, "mem")
    g.check(st == 0 and m, out)
    return m["free_pages"]


def host_echo(g, tap, nbytes, addr=GUEST_IP, port=PORT):
    r = g.host("hostflood.py echo", tap.ns, [PYTHON, HOSTFLOOD, "echo", addr, str(port), str(nbytes),
                                             "--timeout", str(ECHO_TIMEOUT)], timeout=ECHO_TIMEOUT * 2 + 30)
    return g.host("hostflood.py echo output", lambda: json.loads(r.stdout.strip().splitlines()[-1]))


def check_echo(g, r, what):
    g.check(r["connected"], f"{what}: the legitimate client could not connect: {r}")
    g.check(r["exact"] and r["recv"] == MIB and r["first_bad"] == -1 and not r["errors"],
            f"{what}: the echo was not byte-exact: {r}")
    g.check(r["connect_s"] <= CONNECT_LIMIT_S, f"{what}: connect() took {r['connect_s']} s: {r}")


FIN_ROUNDS = 20
FIN_PORT = 5013


def test_every_echo_ends_with_the_servers_fin(floodvm):
    """FIN_ROUNDS 1 MiB echoes in a row, each ending with the guest's FIN: the host reads EOF. The
    guest's last segment and its FIN often leave as one TSO frame; QEMU's RTL8139 model dropped the
    FIN from the last segment it cut, and the host then waited for EOF forever (about 1 echo in 20;
    drivers/rtl8139/rtl8139.c now cuts that segment itself)."""
    g, tap = floodvm.g, floodvm.tap
    g.start(nettool(f"echo {FIN_PORT} {FIN_ROUNDS}", 60 + FIN_ROUNDS * 10), rf"echo: listening on {FIN_PORT}")
    for i in range(FIN_ROUNDS):
        check_echo(g, host_echo(g, tap, MIB, port=FIN_PORT), f"echo {i + 1} of {FIN_ROUNDS}")
    out, st = g.finish(60)
    g.check(kv_line(out, "echo") == {"connections": FIN_ROUNDS, "bytes": FIN_ROUNDS * MIB, "max_open": 1, "errors": 0}
            and st == 0, f"guest echo server: {out}")


def test_server_keeps_serving_through_a_syn_flood(floodvm):
    nic, tap, g = floodvm.nic, floodvm.tap, floodvm.g
    # 1. warm-up and baseline
    g.start(nettool(f"echo {PORT} 1", 120), rf"echo: listening on {PORT}")
    warm = host_echo(g, tap, MIB)
    out, st = g.finish(150)
    check_echo(g, warm, "warm-up")
    g.check(st == 0, out)
    base_pages, base = free_pages(g), netstat(g)

    # 2. the flood, 3. a client during it and one right after
    g.start(nettool(f"echo {PORT} 2", FLOOD_S + 2 * ECHO_TIMEOUT + 60), rf"echo: listening on {PORT}")
    fl = subprocess.Popen([*tap.prefix(), PYTHON, HOSTFLOOD, "flood", tap.iface, GUEST_IP, str(PORT),
                           "--seconds", str(FLOOD_S), "--rate", str(FLOOD_RATE)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(FLOOD_LEAD_S)
        during = host_echo(g, tap, MIB)
        still_flooding = fl.poll() is None
        out, err = fl.communicate(timeout=FLOOD_S + 60)
    finally:
        fl.kill()
    g.check(fl.returncode == 0, f"hostflood.py flood failed: {err[-3000:]}")
    flood = json.loads(out.strip().splitlines()[-1])
    after = host_echo(g, tap, MIB)
    out, st = g.finish(2 * ECHO_TIMEOUT + 60)
    mid = netstat(g)
    report(f"{nic.id}: SYN flood {flood['sent']} SYNs in {flood['seconds']} s ({flood['rate']}/s); legitimate "
           f"client during it: connect {during.get('connect_s')} s, 1 MiB echo {during.get('seconds')} s; "
           f"right after: connect {after.get('connect_s')} s, echo {after.get('seconds')} s; netstat {mid}")
    check_echo(g, during, "during the flood")
    g.check(flood["arp_requests"] == 0,
            f"the guest sent ARP requests for {flood['arp_requests']} spoofed addresses: its half-open SYN-ACKs "
            f"went through ARP (evicting real neighbours) rather than to the SYNs' MAC")
    g.check(still_flooding or FLOOD_LEAD_S + during["connect_s"] < FLOOD_S,
            f"the client meant to connect during the flood connected after it: {during}")
    check_echo(g, after, "right after the flood")
    g.check(kv_line(out, "echo") == {"connections": 2, "bytes": 2 * MIB, "max_open": 1, "errors": 0} and st == 0,
            f"guest echo server: {out}")

    # 4. counters and memory
    grew = {f: mid[f] - base[f] for f in NETSTAT_FIELDS}
    g.check(grew["SyncookiesSent"] > 0, f"no SYN cookies sent during the flood: {grew}")
    g.check(grew["SyncookiesRecv"] >= 1, f"no legitimate client came in through a cookie: {grew}")
    g.check(grew["SyncookiesSent"] <= flood["sent"], f"more cookies than SYNs: {grew}, {flood}")
    g.check(grew["ListenOverflows"] == 0 and grew["ListenDrops"] == 0, f"the listener dropped SYNs: {grew}")
    pages = [free_pages(g)]
    deadline = time.monotonic() + MEMORY_WAIT_S
    while abs(pages[-1] - base_pages) > LEAK_SLACK_PAGES and time.monotonic() < deadline:
        time.sleep(3)
        pages.append(free_pages(g))
    report(f"{nic.id}: free pages {base_pages} before the flood, after it {pages}; TcpExt grew by {grew}")
    g.check(abs(pages[-1] - base_pages) <= LEAK_SLACK_PAGES,
            f"{base_pages - pages[-1]} pages still gone {MEMORY_WAIT_S} s after the flood (free {base_pages} -> {pages})")
    g.alive()


RACE_PORT = 5011


def test_cookie_answer_to_a_retransmitted_syn_completes_its_half_open_connection(floodvm):
    """A client's SYN got a half-open entry (and a SYN-ACK with window scaling); its retransmission
    came while the queue was full and was answered with a cookie by the NIC's poll thread, which
    cannot see the entry; the client's ACK of the cookie must complete the connection (lwIP alone
    would reset it: the ACK does not acknowledge the entry's SYN-ACK)."""
    tap, g = floodvm.tap, floodvm.g
    base = netstat(g)
    g.start(nettool(f"echo {RACE_PORT} 1", 90), rf"echo: listening on {RACE_PORT}")
    r = g.host("hostflood.py race", tap.ns, [PYTHON, HOSTFLOOD, "race", tap.iface, GUEST_IP, str(RACE_PORT)],
               timeout=120)
    r = g.host("hostflood.py race output", lambda: json.loads(r.stdout.strip().splitlines()[-1]))
    out, st = g.finish(120)
    after = netstat(g)
    report(f"{floodvm.nic.id}: retransmitted SYN under cookie mode: {r}")
    g.check("error" not in r, f"race: {r}")
    g.check(r["synack_wscale"] and not r["cookie_wscale"], f"the cookie SYN-ACK should drop window scaling: {r}")
    g.check(not r["rst"] and r["echoed"] == "a cookie for a retransmitted SYN", f"not echoed: {r}")
    g.check(r["guest_fin"], f"the guest did not close: {r}")
    g.check(kv_line(out, "echo") == {"connections": 1, "bytes": 32, "max_open": 1, "errors": 0} and st == 0,
            f"guest echo server: {out}")
    g.check(after["SyncookiesRecv"] - base["SyncookiesRecv"] == 1, f"netstat {base} -> {after}")
    g.alive()


PORT6 = 5012


@pytest.fixture(scope="module", params=[n for n in NICS if n.id in MODELS], ids=lambda n: n.id)
def floodvm6(request):
    reason = tap_unavailable()
    if reason:
        pytest.skip(reason)
    from test_ipv6_sock import Vm6
    vm = Vm6(request.param)
    request.addfinalizer(vm.close)
    return vm


def test_ipv6_server_keeps_serving_through_a_syn_flood(floodvm6):
    from test_ipv6_sock import GUEST_MAC, GUEST_SLAAC
    nic, tap, g = floodvm6.nic, floodvm6.tap, floodvm6.g
    base = netstat(g)
    g.start(nettool(f"echo6 {PORT6} 1", FLOOD_S + ECHO_TIMEOUT + 60), rf"echo: listening on {PORT6}")
    fl = subprocess.Popen([*tap.prefix(), PYTHON, HOSTFLOOD, "flood6", tap.iface, GUEST_SLAAC, GUEST_MAC, str(PORT6),
                           "--seconds", str(FLOOD_S), "--rate", str(FLOOD_RATE)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(FLOOD_LEAD_S)
        during = host_echo(g, tap, MIB, GUEST_SLAAC, PORT6)
        still_flooding = fl.poll() is None
        out, err = fl.communicate(timeout=FLOOD_S + 60)
    finally:
        fl.kill()
    g.check(fl.returncode == 0, f"hostflood.py flood6 failed: {err[-3000:]}")
    flood = json.loads(out.strip().splitlines()[-1])
    out, st = g.finish(ECHO_TIMEOUT + 60)
    mid = netstat(g)
    report(f"{nic.id}: IPv6 SYN flood {flood['sent']} SYNs in {flood['seconds']} s ({flood['rate']}/s); legitimate "
           f"client during it: connect {during.get('connect_s')} s, 1 MiB echo {during.get('seconds')} s; netstat {mid}")
    check_echo(g, during, "during the IPv6 flood")
    g.check(still_flooding or FLOOD_LEAD_S + during["connect_s"] < FLOOD_S,
            f"the client meant to connect during the flood connected after it: {during}")
    g.check(kv_line(out, "echo") == {"connections": 1, "bytes": MIB, "max_open": 1, "errors": 0} and st == 0,
            f"guest echo server: {out}")
    grew = {f: mid[f] - base[f] for f in NETSTAT_FIELDS}
    # The poll threads' shortcut answers nearly every SYN (85-90% of those sent, here, the rest lost
    # on the link); through the squeues alone most SYNs were dropped at STACK_RX_SYN_QUEUE_MAX
    # (16% answered, measured with the shortcut disabled) and the client's echo took 11.6 s.
    g.check(flood["sent"] / 3 <= grew["SyncookiesSent"] <= flood["sent"],
            f"cookies sent for under a third of the SYNs (the poll threads' shortcut idle?): {grew}, {flood}")
    g.check(grew["SyncookiesRecv"] >= 1, f"no legitimate client came in through a cookie: {grew}")
    g.check(grew["ListenOverflows"] == 0 and grew["ListenDrops"] == 0, f"the listener dropped SYNs: {grew}")
    g.alive()
