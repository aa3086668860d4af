#!/usr/bin/env python3
"""Host side of the SYN flood test (tests/system/test_synflood.py), run inside the test's network
namespace. Prints one JSON line.

  hostflood.py flood IFACE GUEST_IP PORT --seconds S [--rate R] [--seed N]
      SYNs to GUEST_IP:PORT from random spoofed addresses of IFACE's /24 (never the host's or the
      guest's) and random ports, written as raw Ethernet frames (AF_PACKET) for S seconds, at R
      frames per second (0: as fast as the socket takes them). The frames carry an MSS option as a
      real client's do; nobody ever answers the guest's SYN-ACKs, so each one stays half-open.
      It also counts the distinct spoofed addresses the guest sent ARP requests for meanwhile
      ("arp_requests"): the guest answers every SYN to the MAC it came from, so none.
  hostflood.py flood6 IFACE GUEST_IP6 GUEST_MAC PORT --seconds S [--rate R] [--seed N]
      The same over IPv6: SYNs to [GUEST_IP6]:PORT from random spoofed addresses of its /64.
  hostflood.py race IFACE GUEST_IP PORT [--fill N]
      A raw TCP peer at .200 of the /24 whose SYN the guest queued as half-open sends that SYN
      again once N spoofed SYNs filled the queue; the guest answers it with a cookie, the peer
      acknowledges the cookie with data, which must come back (not a reset).
  hostflood.py echo ADDR PORT BYTES [--timeout T]
      A legitimate client: connects (the time connect() took is reported), sends BYTES of a fixed
      pseudo-random stream while a second thread reads the echo back, and compares every byte.

The guest's MAC comes from the neighbour table (the caller pinged the guest before)."""
import argparse
import json
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostsock import csum, ip_of, mac_of, neigh_mac  # noqa: E402

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_ALL = 0x0003
ETH_P_ARP = 0x0806
POOL = 32768                   # distinct SYNs; the flood cycles through them
BATCH = 256                    # frames between two looks at the clock
MSS_OPT = struct.pack("!BBH", 2, 4, 1460)


def syn_frame(gmac, hmac, src, dst, sport, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (5 + len(MSS_OPT) // 4) << 4, 0x02, 64240, 0, 0) + MSS_OPT
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), seq & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return gmac + hmac + struct.pack("!H", ETH_P_IP) + ip + tcp


def syn6_frame(gmac, hmac, src, dst, sport, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (5 + len(MSS_OPT) // 4) << 4, 0x02, 64240, 0, 0) + MSS_OPT
    c = csum(src + dst + struct.pack("!IxxxB", len(tcp), 6) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src + dst
    return gmac + hmac + struct.pack("!H", ETH_P_IPV6) + ip6 + tcp


def flood(iface, guest_ip, port, seconds, rate, seed, guest_mac=None):
    rng = random.Random(seed)
    hmac = mac_of(iface)
    if guest_mac:                      # IPv6: spoofed interface ids in the guest's /64
        gip = socket.inet_pton(socket.AF_INET6, guest_ip)
        gmac = bytes.fromhex(guest_mac.replace(":", ""))
        frames = [syn6_frame(gmac, hmac, gip[:8] + bytes([0x02] + [rng.randrange(256) for _ in range(7)]), gip,
                             rng.randrange(1024, 65536), port, rng.randrange(1 << 32)) for _ in range(POOL)]
    else:
        gip, hip = socket.inet_aton(guest_ip), ip_of(iface)
        gmac = neigh_mac(guest_ip)
        net = hip[:3]
        hosts = [h for h in range(1, 255) if h not in (hip[3], gip[3])]
        frames = [syn_frame(gmac, hmac, net + bytes([rng.choice(hosts)]), gip, rng.randrange(1024, 65536), port,
                            rng.randrange(1 << 32)) for _ in range(POOL)]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind((iface, 0))
    arp = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    arp.bind((iface, ETH_P_ARP))
    arp.setblocking(False)
    spoofed_arp = None if guest_mac else set()   # IPv4: ARP; IPv6's neighbour discovery is not counted
    sent = errors = 0
    t0 = time.monotonic()
    end = t0 + seconds
    i = 0
    while True:
        now = time.monotonic()
        if spoofed_arp is not None:
            count_arp_requests(arp, gmac, hip, spoofed_arp)
        if now >= end:
            break
        if rate and sent > (now - t0) * rate:
            time.sleep(min(0.002, end - now))
            continue
        for _ in range(BATCH):
            try:
                s.send(frames[i])
                sent += 1
            except OSError:
                errors += 1
            i = (i + 1) % POOL
    secs = time.monotonic() - t0
    s.close()
    arp.close()
    r = {"sent": sent, "errors": errors, "seconds": round(secs, 2), "rate": round(sent / secs)}
    if spoofed_arp is not None:
        r["arp_requests"] = len(spoofed_arp)
    return r


def count_arp_requests(sock, gmac, hip, seen):
    """Drain the ARP frames received so far; add to seen the addresses other than the host's that
    the guest (gmac) asked for: it ARPs for a spoofed source only if it answers a SYN through ARP."""
    while True:
        try:
            f = sock.recv(128)
        except BlockingIOError:
            return
        if len(f) >= 42 and f[6:12] == gmac and struct.unpack("!H", f[20:22])[0] == 1 and f[38:42] != hip:
            seen.add(f[38:42])


# ---- a retransmitted SYN answered with a cookie while its half-open connection exists ----

RACE_PAYLOAD = b"a cookie for a retransmitted SYN"


class RawPeer:
    """A TCP peer at an address of the tap's /24 that the host does not own, spoken through AF_PACKET:
    it answers the guest's ARP requests for that address (and only those) itself."""

    def __init__(self, iface, guest_ip, host_byte):
        self.gip, hip = socket.inet_aton(guest_ip), ip_of(iface)
        self.ip = hip[:3] + bytes([host_byte])
        self.gmac, self.hmac = neigh_mac(guest_ip), mac_of(iface)
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.bind((iface, ETH_P_ALL))
        self.s.settimeout(0.2)

    def send_tcp(self, sport, dport, seq, ack, flags, opts=b"", payload=b"", src=None):
        src = src or self.ip
        doff = 5 + len(opts) // 4
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, 65535, 0, 0) + opts + payload
        c = csum(src + self.gip + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, self.gip)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        self.s.send(self.gmac + self.hmac + struct.pack("!H", ETH_P_IP) + ip + tcp)

    def wait(self, pred, timeout, any_dst=False):
        """The first TCP segment from the guest to our address (any_dst: to any address) that pred
        accepts, as a dict, or None; answers ARP requests for our address meanwhile."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                data, addr = self.s.recvfrom(65536)
            except socket.timeout:
                continue
            if addr[2] == 4 or len(data) < 42:          # PACKET_OUTGOING: our own frames
                continue
            etype = struct.unpack("!H", data[12:14])[0]
            if etype == ETH_P_ARP and data[20:22] == b"\x00\x01" and data[38:42] == self.ip:
                reply = (data[6:12] + self.hmac + struct.pack("!HHHBBH", ETH_P_ARP, 1, ETH_P_IP, 6, 4, 2) +
                         self.hmac + self.ip + data[22:28] + data[28:32])
                self.s.send(reply)
                continue
            if etype != ETH_P_IP or data[23] != 6 or data[26:30] != self.gip or not (any_dst or data[30:34] == self.ip):
                continue
            ip = data[14:]
            ihl = (ip[0] & 0xF) * 4
            tot = struct.unpack("!H", ip[2:4])[0]
            t = ip[ihl:tot]
            doff = (t[12] >> 4) * 4
            seg = {"sport": struct.unpack("!H", t[0:2])[0], "dport": struct.unpack("!H", t[2:4])[0],
                   "seq": struct.unpack("!I", t[4:8])[0], "ack": struct.unpack("!I", t[8:12])[0],
                   "flags": t[13], "opts": t[20:doff], "payload": t[doff:]}
            if pred(seg):
                return seg
        return None


def has_wscale(opts):
    i = 0
    while i < len(opts):
        if opts[i] == 0:
            break
        if opts[i] == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if opts[i] == 3:
            return True
        i += opts[i + 1]
    return False


def race(iface, guest_ip, port, fill, seed):
    """SYN from the peer (the guest keeps a half-open connection and answers with its SYN-ACK), then
    `fill` SYNs from spoofed addresses (the half-open queue fills: cookie mode), then the peer's SYN
    again: answered with a cookie; the peer acknowledges the cookie with data, which must be echoed
    (the half-open connection became the cookie's), then both sides close."""
    rng = random.Random(seed)
    p = RawPeer(iface, guest_ip, 200)
    sport, isn = 40000 + rng.randrange(1000), rng.randrange(1 << 31)
    opts = MSS_OPT + b"\x01\x03\x03\x07"                 # MSS 1460, NOP, window scale 7
    r = {}

    def from_guest(flags_mask, flags):
        return lambda g: g["dport"] == sport and g["flags"] & flags_mask == flags

    p.send_tcp(sport, port, isn, 0, 0x02, opts)
    first = p.wait(from_guest(0x17, 0x12), 5)
    if not first:
        return {"error": "no SYN-ACK for the first SYN"}
    r["synack_seq"], r["synack_wscale"] = first["seq"], has_wscale(first["opts"])
    gip = p.gip
    hosts = [h for h in range(3, 255) if h not in (200, gip[3])]
    # Fill the queue, paced (e1000's and RTL8139's models drop what their rings cannot hold), until a
    # spoofed address gets a cookie: the spoofed SYNs ask for window scaling, which the guest's
    # half-open entries grant in their SYN-ACKs and a cookie cannot, so a SYN-ACK without it to a
    # spoofed address is cookie mode (both kinds go straight back to the SYN's MAC).
    def cookie_synack(g):
        return g["flags"] & 0x12 == 0x12 and g["dport"] != sport and not has_wscale(g["opts"])

    filled, mode_on = 0, None
    while filled < fill and not mode_on:
        for _ in range(16):
            p.send_tcp(rng.randrange(1024, 65536), port, rng.randrange(1 << 32), 0, 0x02, opts,
                       src=p.ip[:3] + bytes([rng.choice(hosts)]))
        filled += 16
        mode_on = p.wait(cookie_synack, 0.02, any_dst=True)
    if not mode_on:
        mode_on = p.wait(cookie_synack, 3, any_dst=True)
    r["fill_syns"] = filled
    if not mode_on:
        return {**r, "error": f"no cookie for any of {filled} spoofed SYNs"}
    # The same SYN again. One SYN per 250 ms still goes through lwIP as cookie mode's probe
    # (net/tcp_synq.c), and lwIP answers a retransmission with its entry's own SYN-ACK, so a lone
    # SYN after a pause is always that probe: a spoofed SYN just before ours takes the probe's turn
    # (the flood goes on, as it would), and should ours still be the probe on a slow host, the
    # client retransmits, as real clients do.
    cookie = None
    for attempt in range(6):
        p.send_tcp(rng.randrange(1024, 65536), port, rng.randrange(1 << 32), 0, 0x02, MSS_OPT,
                   src=p.ip[:3] + bytes([rng.choice(hosts)]))
        p.send_tcp(sport, port, isn, 0, 0x02, opts)
        cookie = p.wait(lambda g: from_guest(0x17, 0x12)(g) and g["seq"] != first["seq"], 0.5)
        if cookie:
            r["syn_retransmissions"] = attempt + 1
            break
    if not cookie:
        return {**r, "error": "the retransmitted SYN got no SYN-ACK with another ISN"}
    r["cookie_seq"], r["cookie_wscale"], r["cookie_ack"] = cookie["seq"], has_wscale(cookie["opts"]), cookie["ack"]
    c = cookie["seq"]
    p.send_tcp(sport, port, isn + 1, c + 1, 0x18, payload=RACE_PAYLOAD)
    echoed = b""
    end = time.monotonic() + 10
    rst = False
    while len(echoed) < len(RACE_PAYLOAD) and time.monotonic() < end:
        g = p.wait(lambda g: g["dport"] == sport, 1)
        if not g:
            continue
        if g["flags"] & 0x04:
            rst = True
            break
        if g["payload"] and g["seq"] == c + 1 + len(echoed):
            echoed += g["payload"]
            p.send_tcp(sport, port, isn + 1 + len(RACE_PAYLOAD), c + 1 + len(echoed), 0x10)
    r.update(echoed=echoed.decode(errors="replace"), rst=rst)
    # close: our FIN, then acknowledge the guest's
    seq = isn + 1 + len(RACE_PAYLOAD)
    p.send_tcp(sport, port, seq, c + 1 + len(echoed), 0x11)
    fin = p.wait(lambda g: g["dport"] == sport and g["flags"] & 0x01, 5)
    if fin:
        p.send_tcp(sport, port, seq + 1, fin["seq"] + len(fin["payload"]) + 1, 0x10)
    r["guest_fin"] = bool(fin)
    return r


def pattern(nbytes, seed=1):
    r = random.Random(seed)
    return r.randbytes(nbytes)


def echo(addr, port, nbytes, timeout):
    data = pattern(nbytes)
    t0 = time.monotonic()
    try:
        s = socket.create_connection((addr, port), timeout=timeout)
    except OSError as e:
        return {"connected": False, "error": repr(e), "connect_s": round(time.monotonic() - t0, 3)}
    connect_s = time.monotonic() - t0
    s.settimeout(timeout)
    got = bytearray()
    err = []

    def send():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(f"send: {e!r}")

    t = threading.Thread(target=send)
    t.start()
    try:
        while True:
            d = s.recv(1 << 16)
            if not d:
                break
            got += d
    except OSError as e:
        err.append(f"recv: {e!r}")
    t.join(timeout)
    s.close()
    first_bad = next((i for i, (a, b) in enumerate(zip(got, data)) if a != b), -1)
    return {"connected": True, "connect_s": round(connect_s, 3), "seconds": round(time.monotonic() - t0, 3),
            "sent": nbytes, "recv": len(got), "first_bad": first_bad, "exact": bytes(got) == data, "errors": err}


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("flood")
    p.add_argument("iface")
    p.add_argument("guest_ip")
    p.add_argument("port", type=int)
    p.add_argument("--seconds", type=float, default=12)
    p.add_argument("--rate", type=int, default=0)
    p.add_argument("--seed", type=int, default=17)
    p = sub.add_parser("flood6")
    p.add_argument("iface")
    p.add_argument("guest_ip")
    p.add_argument("guest_mac")
    p.add_argument("port", type=int)
    p.add_argument("--seconds", type=float, default=12)
    p.add_argument("--rate", type=int, default=0)
    p.add_argument("--seed", type=int, default=17)
    p = sub.add_parser("race")
    p.add_argument("iface")
    p.add_argument("guest_ip")
    p.add_argument("port", type=int)
    p.add_argument("--fill", type=int, default=1000)
    p.add_argument("--seed", type=int, default=5)
    p = sub.add_parser("echo")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("bytes", type=int)
    p.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    if a.cmd == "flood":
        r = flood(a.iface, a.guest_ip, a.port, a.seconds, a.rate, a.seed)
    elif a.cmd == "flood6":
        r = flood(a.iface, a.guest_ip, a.port, a.seconds, a.rate, a.seed, a.guest_mac)
    elif a.cmd == "race":
        r = race(a.iface, a.guest_ip, a.port, a.fill, a.seed)
    else:
        r = echo(a.addr, a.port, a.bytes, a.timeout)
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
