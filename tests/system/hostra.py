"""A router advertisement from the host (no radvd among the dependencies).

Run inside the test's network namespace (as root):
  hostra.py IFACE PREFIX [--count N] [--interval S]
sends N router advertisements to ff02::1 on IFACE carrying one prefix-information option (PREFIX,
e.g. fd77::, length 64, on-link and autonomous: hosts form addresses from it by SLAAC) and the
interface's MAC as the source link-layer option. The host kernel fills in the ICMPv6 checksum.
Prints one JSON line: sent."""
import argparse
import json
import socket
import struct
import time

ND_ROUTER_ADVERT = 134
OPT_SLLA, OPT_PREFIX = 1, 3
PREFIX_LEN = 64
PREFIX_FLAGS = 0xC0                 # L (on-link) | A (autonomous)
VALID_S, PREFERRED_S = 86400, 14400
ROUTER_LIFETIME_S = 0               # not a default router: only the prefix matters
IPV6_MULTICAST_IF, IPV6_MULTICAST_HOPS = 17, 18
ND_HOP_LIMIT = 255                  # RFC 4861: receivers drop ND messages with any other hop limit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("prefix")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--interval", type=float, default=0.5)
    a = ap.parse_args()
    with open(f"/sys/class/net/{a.iface}/address") as f:
        mac = bytes.fromhex(f.read().strip().replace(":", ""))
    ifindex = socket.if_nametoindex(a.iface)
    ra = struct.pack("!BBHBBHII", ND_ROUTER_ADVERT, 0, 0, 64, 0, ROUTER_LIFETIME_S, 0, 0)
    ra += struct.pack("!BB", OPT_SLLA, 1) + mac
    ra += struct.pack("!BBBBIII", OPT_PREFIX, 4, PREFIX_LEN, PREFIX_FLAGS, VALID_S, PREFERRED_S, 0)
    ra += socket.inet_pton(socket.AF_INET6, a.prefix)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex)
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_MULTICAST_HOPS, ND_HOP_LIMIT)
    for i in range(a.count):
        s.sendto(ra, ("ff02::1", 0, 0, ifindex))
        if i + 1 < a.count:
            time.sleep(a.interval)
    print(json.dumps({"sent": a.count}))


if __name__ == "__main__":
    main()
