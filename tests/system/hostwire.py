#!/usr/bin/env python3
"""Host side of the wire fuzzer (tests/system/test_wirefuzz.py; issue 17 item 5), run inside the
test's network namespace. Our own seeded frame generator (no scapy). Prints one JSON line.

  hostwire.py IFACE GUEST_IP PORT --batches B --frames N --seed S

Opens a live TCP connection to the guest's echo server on PORT and learns its sequence numbers
from the host's own outgoing segment (AF_PACKET sees it). Then B batches of N raw frames, each
one of:
  listener   TCP to PORT from spoofed addresses of the /24 (never the host's or the guest's):
             SYNs with random options, random flags, bad data offsets and checksums, truncations;
  live       TCP segments inside the live connection's 4-tuple, sequence and acknowledgement
             numbers near the real ones, random flags (RST and SYN included) and options;
  ip         IPv4 with bad header lengths, total lengths, options, fragments (MF, offsets),
             random protocols; ICMP of random types and codes; UDP with bad lengths;
  arp        ARP of random opcodes and lengths from spoofed senders (never the host's address:
             poisoning the guest's entry for the host would be a legitimate way to break it);
  raw        a valid Ethernet header with random ethertype and payload, runts and giants.
After each batch a NEW connection to PORT must complete and echo 64 bytes: its connect time is
recorded (the test wants it at once). The live connection's fate is reported, not judged: a
fuzzed RST inside its window may legitimately end it."""
import argparse
import json
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostsock import csum, ip_of, mac_of, neigh_mac  # noqa: E402

ETH_P_ALL, ETH_P_IP, ETH_P_ARP = 0x0003, 0x0800, 0x0806
PACKET_OUTGOING = 4
_RB = random.Random(0)


def RB(n):
    """Random bytes from the seeded generator (main() seeds it): a batch is reproducible."""
    return _RB.randbytes(n)


def tcp_seg(src, dst, sport, dport, seq, ack, flags, opts=b"", payload=b"", rng=None, bad=False):
    off = 5 + (len(opts) + 3) // 4
    opts = opts + b"\0" * ((off - 5) * 4 - len(opts))
    if rng and rng.random() < 0.1:
        off = rng.randrange(16)                      # a data offset that lies
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4, flags & 0xFF,
                      rng.randrange(65536) if rng else 65535, 0, rng.randrange(65536) if rng and rng.random() < 0.1 else 0)
    tcp += opts + payload
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    if bad:
        c ^= 0x5A5A
    return tcp[:16] + struct.pack("!H", c) + tcp[18:]


def ipv4(src, dst, proto, payload, rng, ident=0, frag=0x4000, ttl=64, opts=b"", tot=None, ihl=None, bad=False):
    hl = 5 + (len(opts) + 3) // 4
    opts = opts + b"\0" * ((hl - 5) * 4 - len(opts))
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | (ihl if ihl is not None else hl), rng.randrange(256) if rng.random() < 0.1 else 0,
                    tot if tot is not None else hl * 4 + len(payload), ident, frag, ttl, proto, 0, src, dst) + opts
    c = csum(h)
    if bad:
        c ^= 0x1234
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def rand_opts(rng):
    kinds = [b"\x02\x04" + struct.pack("!H", rng.choice([0, 1, 536, 1460, 65535])),   # MSS
             b"\x03\x03" + bytes([rng.randrange(256)]),                            # window scale
             b"\x04\x02",                                                          # SACK permitted
             b"\x08\x0a" + RB(8),                                          # timestamps
             b"\x05" + bytes([rng.choice([2, 10, 18, 34, 255])]) + RB(rng.randrange(0, 34)),   # SACK blocks
             bytes([rng.randrange(256), rng.randrange(256)]),                      # unknown kind, any length
             b"\x01" * rng.randrange(4), b"\x00", bytes([rng.randrange(256)])]      # NOPs, EOL, a lone kind
    return b"".join(rng.choice(kinds) for _ in range(rng.randrange(0, 5)))[:40]


class Gen:
    def __init__(self, rng, gmac, hmac, gip, hip, port, live):
        self.rng, self.gmac, self.hmac, self.gip, self.hip, self.port, self.live = rng, gmac, hmac, gip, hip, port, live
        net = hip[:3]
        self.spoofed = [net + bytes([h]) for h in range(2, 255) if h not in (hip[3], gip[3])]

    def eth(self, etype, payload):
        return self.gmac + self.hmac + struct.pack("!H", etype) + payload

    def flags(self):
        r = self.rng
        return r.choice([0x02, 0x02, 0x12, 0x10, 0x11, 0x04, 0x14, 0x18, 0x01, 0x03, 0x06, 0x3F, 0x29, r.randrange(256)])

    def listener(self):
        r = self.rng
        src = r.choice(self.spoofed)
        payload = RB(r.choice([0, 0, 1, 100, 1400]))
        seg = tcp_seg(src, self.gip, r.randrange(1024, 65536), self.port, r.randrange(1 << 32),
                      r.randrange(1 << 32), self.flags(), rand_opts(r), payload, r, bad=r.random() < 0.1)
        frame = self.eth(ETH_P_IP, ipv4(src, self.gip, 6, seg, r, ident=r.randrange(65536)))
        return frame[:r.randrange(14, len(frame))] if r.random() < 0.05 else frame

    def in_conn(self):
        r = self.rng
        sport, snd, rcv = self.live
        seq = snd + r.choice([0, 0, 1, -1, r.randrange(-70000, 70000), r.randrange(1 << 32)])
        ack = rcv + r.choice([0, 0, 1, -1, r.randrange(-70000, 70000), r.randrange(1 << 32)])
        payload = RB(r.choice([0, 0, 1, 10, 536, 1400]))
        seg = tcp_seg(self.hip, self.gip, sport, self.port, seq, ack, self.flags(), rand_opts(r), payload, r,
                      bad=r.random() < 0.1)
        return self.eth(ETH_P_IP, ipv4(self.hip, self.gip, 6, seg, r, ident=r.randrange(65536)))

    def ip(self):
        r = self.rng
        src = r.choice(self.spoofed)
        kind = r.randrange(5)
        if kind == 0:      # ICMP of any type and code, sometimes quoting the live connection
            quote = ipv4(self.gip, self.hip, 6, struct.pack("!HHI", self.port, self.live[0], self.live[2]), r)
            body = struct.pack("!BBHI", r.randrange(20), r.randrange(16), 0, r.randrange(1 << 32)) + \
                (quote if r.random() < 0.5 else RB(r.randrange(0, 64)))
            body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
            proto, payload = 1, body
        elif kind == 1:    # UDP with honest or lying lengths
            data = RB(r.randrange(0, 600))
            ln = r.choice([8 + len(data), 0, 7, 65535, r.randrange(65536)])
            payload = struct.pack("!HHHH", r.randrange(65536), r.choice([self.port, 7, 53, r.randrange(65536)]), ln, 0) + data
            proto = 17
        elif kind == 2:    # a TCP segment to the listener, fragmented
            payload = tcp_seg(src, self.gip, r.randrange(1024, 65536), self.port, r.randrange(1 << 32), 0, 0x02,
                              rand_opts(r), b"", r)
            proto = 6
        else:              # a random protocol and payload
            proto, payload = r.randrange(256), RB(r.randrange(0, 1400))
        frag = r.choice([0x4000, 0, 0x2000, 0x2000 | r.randrange(0x2000), r.randrange(0x2000), r.randrange(65536)])
        opts = RB(r.choice([0, 0, 4, 8, 40])) if r.random() < 0.3 else b""
        tot = None if r.random() < 0.8 else r.choice([0, 19, 20, 65535, r.randrange(65536)])
        ihl = None if r.random() < 0.9 else r.randrange(16)
        return self.eth(ETH_P_IP, ipv4(src, self.gip, proto, payload, r, ident=r.randrange(65536), frag=frag,
                                       ttl=r.randrange(256), opts=opts, tot=tot, ihl=ihl, bad=r.random() < 0.1))

    def arp(self):
        r = self.rng
        body = struct.pack("!HHBBH", r.choice([1, 1, 6, r.randrange(65536)]), r.choice([0x0800, 0x0800, r.randrange(65536)]),
                           r.choice([6, 6, 0, 255]), r.choice([4, 4, 0, 16, 255]), r.choice([1, 2, r.randrange(65536)]))
        body += self.hmac[:3] + RB(3) + r.choice(self.spoofed) + RB(6) + r.choice([self.gip, RB(4)])
        return self.eth(ETH_P_ARP, body[:r.randrange(0, len(body) + 1)] if r.random() < 0.2 else body)

    def raw(self):
        r = self.rng
        return self.eth(r.choice([0x86DD, 0x8100, 0x88CC, r.randrange(65536)]), RB(r.choice([0, 1, 46, 200, 1486, 1600])))

    def frame(self):
        r = self.rng.random()
        if r < 0.30:
            return "listener", self.listener()
        if r < 0.60:
            return "live", self.in_conn()
        if r < 0.85:
            return "ip", self.ip()
        if r < 0.93:
            return "arp", self.arp()
        return "raw", self.raw()


def learn_live(iface, sock, port):
    """(sport, snd_nxt, rcv_nxt) of the live connection, from our own outgoing segment."""
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    cap.bind((iface, 0))
    cap.settimeout(3)
    sport = sock.getsockname()[1]
    sock.sendall(b"x" * 16)
    deadline = time.monotonic() + 5
    try:
        while time.monotonic() < deadline:
            data, addr = cap.recvfrom(65536)
            if addr[2] != PACKET_OUTGOING or len(data) < 54 or data[12:14] != b"\x08\x00" or data[23] != 6:
                continue
            ihl = (data[14] & 0xF) * 4
            t = data[14 + ihl:]
            sp, dp, seq, ack = struct.unpack("!HHII", t[:12])
            tot = struct.unpack("!H", data[16:18])[0]
            plen = tot - ihl - (t[12] >> 4) * 4
            if sp == sport and dp == port and plen > 0:
                return sport, seq + plen, ack
    finally:
        cap.close()
    raise RuntimeError("did not see the live connection's segment")


def echo_once(gip, port, timeout=10):
    t0 = time.monotonic()
    s = socket.create_connection((gip, port), timeout=timeout)
    ct = time.monotonic() - t0
    try:
        s.settimeout(timeout)
        msg = RB(64)
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = s.recv(len(msg) - len(got))
            if not d:
                break
            got += d
        return ct, got == msg
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("guest_ip")
    ap.add_argument("port", type=int)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    _RB.seed(a.seed * 7919 + 1)
    gip, hip = socket.inet_aton(a.guest_ip), ip_of(a.iface)
    live = socket.create_connection((a.guest_ip, a.port), timeout=10)
    live.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tup = learn_live(a.iface, live, a.port)
    live.settimeout(5)
    echoed = b""
    while len(echoed) < 16:
        echoed += live.recv(16 - len(echoed))
    gen = Gen(rng, neigh_mac(a.guest_ip), mac_of(a.iface), gip, hip, a.port, tup)
    out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    out.bind((a.iface, 0))
    res = {"seed": a.seed, "batches": [], "kinds": {}, "send_errors": 0}
    for b in range(a.batches):
        for _ in range(a.frames):
            kind, f = gen.frame()
            res["kinds"][kind] = res["kinds"].get(kind, 0) + 1
            try:
                out.send(f)
            except OSError:
                res["send_errors"] += 1
        time.sleep(0.2)                       # let the guest take the batch
        try:
            ct, ok = echo_once(a.guest_ip, a.port)
            res["batches"].append({"connect_s": round(ct, 3), "echo_ok": ok})
        except OSError as e:
            res["batches"].append({"connect_s": None, "echo_ok": False, "error": str(e)})
    try:
        live.settimeout(3)
        live.sendall(b"y" * 8)
        got = live.recv(64)
        res["live"] = "alive" if got else "closed"
    except OSError as e:
        res["live"] = f"ended: {e}"
    print(json.dumps(res))


if __name__ == "__main__":
    main()
