"""Raw Ethernet frames on a host interface (AF_PACKET), for the network tests and benches.

Run inside the test's network namespace (`ip netns exec NS python3 rawpkt.py ...`) because the
tap device lives there:

  rawpkt.py send IFACE --count N [--sizes 60,1514 | --lens 5,1600] [--type 0x88b5] [--dst MAC]
      sends N frames (sizes cycle through the list, default 60..1514); prints one JSON line
  rawpkt.py recv IFACE --count N [--type 0x88b5] [--timeout S] [--idle S]
      prints READY once bound, then counts incoming frames of that ethertype until N arrived, or
      `idle` seconds pass without one, or `timeout`; prints one JSON line: frames, bytes, distinct
      sequence numbers, first/last arrival times

Frame layout (the same as the kernel's txburst): destination, source, ethertype, then a 32-bit
big-endian sequence number and a byte pattern.
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_EXP = 0x88B5
ETH_HLEN = 14
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33
SO_SNDBUFFORCE = 32
RCVBUF = 64 << 20
BROADCAST = b"\xff" * 6
SRC_MAC = bytes.fromhex("02eb00000001")    # locally administered
PATTERN = bytes(range(256)) * 40


def default_sizes(count):
    return [60 + i % (1514 - 60 + 1) for i in range(count)]


def frame(seq, length, ethertype=ETH_P_EXP, dst=BROADCAST, src=SRC_MAC):
    hdr = dst + src + struct.pack("!H", ethertype)
    body = struct.pack("!I", seq & 0xFFFFFFFF) + PATTERN
    if length <= ETH_HLEN:
        return hdr[:length]
    return (hdr + body)[:length] if length <= ETH_HLEN + len(body) else hdr + body + bytes(length - ETH_HLEN - len(body))


def send(iface, lens, ethertype=ETH_P_EXP, dst=BROADCAST):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, RCVBUF)
    except OSError:
        pass
    sent = nbytes = errors = 0
    t0 = time.monotonic()
    for i, n in enumerate(lens):
        try:
            s.send(frame(i, n, ethertype, dst))
            sent += 1
            nbytes += n
        except OSError:
            errors += 1
    t1 = time.monotonic()
    s.close()
    return {"sent": sent, "bytes": nbytes, "errors": errors, "seconds": t1 - t0}


class Receiver:
    """Bound before the guest starts sending; count() then waits for the frames."""

    def __init__(self, iface, ethertype=ETH_P_EXP):
        self.ethertype = ethertype
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
        try:
            self.s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        except OSError:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.s.bind((iface, ethertype))

    def count(self, want, timeout=120.0, idle=10.0):
        frames = nbytes = 0
        seqs = set()
        first = last = None
        deadline = time.monotonic() + timeout
        last_seen = time.monotonic()
        while frames < want:
            now = time.monotonic()
            wait = min(deadline - now, last_seen + idle - now)
            if wait <= 0:
                break
            r, _, _ = select.select([self.s], [], [], wait)
            if not r:
                continue
            data, addr = self.s.recvfrom(65536)
            if addr[2] == PACKET_OUTGOING:
                continue
            last_seen = last = time.monotonic()
            if first is None:
                first = last
            frames += 1
            nbytes += len(data)
            if len(data) >= ETH_HLEN + 4:
                seqs.add(struct.unpack("!I", data[ETH_HLEN:ETH_HLEN + 4])[0])
        # a short grace period catches duplicates or extra frames beyond `want`
        extra = 0
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            r, _, _ = select.select([self.s], [], [], max(0.0, end - time.monotonic()))
            if not r:
                break
            data, addr = self.s.recvfrom(65536)
            if addr[2] != PACKET_OUTGOING:
                extra += 1
        self.s.close()
        return {"frames": frames, "bytes": nbytes, "distinct_seqs": len(seqs), "extra": extra,
                "seconds": (last - first) if first is not None else 0.0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["send", "recv"])
    ap.add_argument("iface")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--sizes", help="comma-separated frame sizes to cycle through")
    ap.add_argument("--lens", help="exact comma-separated lengths, one frame each (malformed tests)")
    ap.add_argument("--type", default="0x88b5")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument("--dst", help="destination MAC (default: broadcast)")
    a = ap.parse_args()
    ethertype = int(a.type, 0)
    if a.mode == "send":
        if a.lens:
            lens = [int(x) for x in a.lens.split(",")]
        elif a.sizes:
            sizes = [int(x) for x in a.sizes.split(",")]
            lens = [sizes[i % len(sizes)] for i in range(a.count)]
        else:
            lens = default_sizes(a.count)
        dst = bytes.fromhex(a.dst.replace(":", "")) if a.dst else BROADCAST
        print(json.dumps(send(a.iface, lens, ethertype, dst)), flush=True)
    else:
        r = Receiver(a.iface, ethertype)
        print("READY", flush=True)
        print(json.dumps(r.count(a.count, a.timeout, a.idle)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
