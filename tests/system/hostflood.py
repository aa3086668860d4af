#!/usr/bin/env python3
"""Host side of the SYN flood test (tests/system/test_synflood.py), run inside the test's network
namespace. Prints one JSON line.

  hostflood.py flood IFACE GUEST_IP PORT --seconds S [--rate R] [--seed N]
      SYNs to GUEST_IP:PORT from random spoofed addresses of IFACE's /24 (never the host's or the
      guest's) and random ports, written as raw Ethernet frames (AF_PACKET) for S seconds, at R
      frames per second (0: as fast as the socket takes them). The frames carry an MSS option as a
      real client's do; nobody ever answers the guest's SYN-ACKs, so each one stays half-open.
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


def flood(iface, guest_ip, port, seconds, rate, seed):
    rng = random.Random(seed)
    gip, hip = socket.inet_aton(guest_ip), ip_of(iface)
    gmac, hmac = neigh_mac(guest_ip), mac_of(iface)
    net = hip[:3]
    hosts = [h for h in range(1, 255) if h not in (hip[3], gip[3])]
    frames = [syn_frame(gmac, hmac, net + bytes([rng.choice(hosts)]), gip, rng.randrange(1024, 65536), port,
                        rng.randrange(1 << 32)) for _ in range(POOL)]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind((iface, 0))
    sent = errors = 0
    t0 = time.monotonic()
    end = t0 + seconds
    i = 0
    while True:
        now = time.monotonic()
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
    return {"sent": sent, "errors": errors, "seconds": round(secs, 2), "rate": round(sent / secs)}


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
    p = sub.add_parser("echo")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("bytes", type=int)
    p.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    if a.cmd == "flood":
        r = flood(a.iface, a.guest_ip, a.port, a.seconds, a.rate, a.seed)
    else:
        r = echo(a.addr, a.port, a.bytes, a.timeout)
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
