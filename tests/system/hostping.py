"""ICMP echo from the host without the `ping` binary (iputils is not among the dependencies).

Run inside the test's network namespace (`ip netns exec NS python3 hostping.py ADDR ...`, as root):
  hostping.py ADDR [--count N] [--size BYTES] [--interval S] [--timeout S]
sends N echo requests on a raw ICMP socket (ICMPv6 when ADDR has a colon: fe80::1%tap0 works) (the host fragments those larger than the MTU), waits
up to `timeout` for each reply, and prints one JSON line: sent, received, rtt_ms (one per reply,
in order), lost (sequence numbers without a reply)."""
import argparse
import json
import os
import select
import socket
import struct
import time

ICMP_ECHO, ICMP_ECHOREPLY = 8, 0
ICMP6_ECHO, ICMP6_ECHOREPLY = 128, 129
IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def echo(ident, seq, size, v6=False):
    payload = bytes((i + seq) & 0xFF for i in range(size))
    if v6:      # the host kernel fills in an ICMPv6 raw socket's checksum (it covers a pseudo-header)
        return struct.pack("!BBHHH", ICMP6_ECHO, 0, 0, ident, seq) + payload
    hdr = struct.pack("!BBHHH", ICMP_ECHO, 0, 0, ident, seq)
    return struct.pack("!BBHHH", ICMP_ECHO, 0, checksum(hdr + payload), ident, seq) + payload


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--size", type=int, default=56)
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--timeout", type=float, default=2.0)
    a = ap.parse_args()
    v6 = ":" in a.addr
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        dest = socket.getaddrinfo(a.addr, None, socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)[0][4]
        want_src, reply = dest[0], ICMP6_ECHOREPLY
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
        dest, want_src, reply = (a.addr, 0), a.addr, ICMP_ECHOREPLY
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    ident = os.getpid() & 0xFFFF
    rtts, lost = [], []
    for seq in range(a.count):
        t0 = time.perf_counter()
        s.sendto(echo(ident, seq, a.size, v6), dest)
        deadline = t0 + a.timeout
        got = None
        while got is None:
            left = deadline - time.perf_counter()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                break
            data, src = s.recvfrom(65536)
            t = time.perf_counter()
            ihl = 0 if v6 else (data[0] & 0xF) * 4   # an ICMPv6 raw socket gets no IP header
            if len(data) < ihl + 8 or src[0].split("%")[0] != want_src.split("%")[0]:
                continue
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if typ == reply and rid == ident and rseq == seq and len(data) - ihl - 8 == a.size:
                got = (t - t0) * 1000
        if got is None:
            lost.append(seq)
        else:
            rtts.append(round(got, 4))
        spent = time.perf_counter() - t0
        if seq + 1 < a.count and spent < a.interval:
            time.sleep(a.interval - spent)
    print(json.dumps({"sent": a.count, "received": len(rtts), "rtt_ms": rtts, "lost": lost}))


if __name__ == "__main__":
    main()
