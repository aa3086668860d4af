"""Host-side peer of user/nettool.c for tests/system/test_sock_host.py. Usable as a module (the QEMU
user-networking test calls it in-process) and as a script run inside the test's network namespace
(`ip netns exec NS python3 hostsock.py ...`); each script mode prints one JSON line (servers print
READY first, once listening).

  hostsock.py xfer-client ADDR PORT BYTES SEED [--duplex]   the connecting side of nettool's
  hostsock.py xfer-server PORT BYTES SEED [--duplex] [--v6] stream protocol (see user/nettool.c;
      --v6 listens on [::])
  hostsock.py xfer-client ... --burst B [--gap S]   sends in bursts of B bytes, each one send()
      after the last was wholly acknowledged and S seconds (default 0.3) of quiet; ack_ms lists
      how long each burst waited for its acknowledgement (the socket's TIOCOUTQ reaching 0)
  hostsock.py echo-clients ADDR PORT --conns N [--size B]   N connections opened before any data
      moves, then each sends a distinct message and reads it back
  hostsock.py hostile IFACE GUEST_IP PORT                   malformed IPv4/TCP/UDP/ICMP frames
  hostsock.py synflood IFACE GUEST_IP PORT --count N        valid SYNs from spoofed source ports,
      plus SYNs with bad TCP checksums from another port range; counts the guest's answers

Frames are built from the host's address on IFACE and the guest's MAC from the neighbour table
(the caller has talked to the guest before)."""
import argparse
import fcntl
import hashlib
import json
import random
import select
import socket
import struct
import sys
import termios
import threading
import time

BLOCK = 65536
ROT_STEP = 4099
MASK64 = (1 << 64) - 1
IO = 1 << 20
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


# ---- nettool's test stream ----

def stream_base(seed):
    x = (seed * 0x9E3779B97F4A7C15 + 1) & MASK64 or 1
    words = []
    for _ in range(BLOCK // 8):
        x ^= (x << 13) & MASK64
        x ^= x >> 7
        x ^= (x << 17) & MASK64
        words.append(x)
    return struct.pack(f"<{BLOCK // 8}Q", *words)


class Stream:
    """stream(seed) of user/nettool.c: chunk(k) and the bytes at any offset."""

    def __init__(self, seed):
        self.seed = seed
        self.base = stream_base(seed)

    def chunk(self, k):
        rot = (k * ROT_STEP) % BLOCK
        return struct.pack("<QQ", self.seed & MASK64, k) + (self.base[rot:] + self.base[:rot])[16:]

    def chunks(self, nbytes):
        k = 0
        while nbytes > 0:
            c = self.chunk(k)
            yield c if nbytes >= BLOCK else c[:nbytes]
            nbytes -= BLOCK
            k += 1

    def sha256(self, nbytes):
        h = hashlib.sha256()
        for c in self.chunks(nbytes):
            h.update(c)
        return h.hexdigest()


class Checker:
    """Hashes received bytes and finds the first one that differs from the expected stream."""

    def __init__(self, seed):
        self.stream = Stream(seed)
        self.h = hashlib.sha256()
        self.got = 0
        self.first_bad = -1
        self._k = -1
        self._chunk = b""

    def feed(self, data):
        self.h.update(data)
        if self.first_bad < 0:
            mv = memoryview(data)
            off = self.got
            while len(mv):
                k, at = divmod(off, BLOCK)
                if k != self._k:
                    self._k, self._chunk = k, self.stream.chunk(k)
                take = min(BLOCK - at, len(mv))
                if mv[:take] != self._chunk[at:at + take]:
                    exp = self._chunk[at:at + take]
                    self.first_bad = off + next(i for i in range(take) if mv[i] != exp[i])
                    break
                off += take
                mv = mv[take:]
        self.got += len(data)


def unacked(sock):
    """Bytes the socket has sent or queued that the peer has not acknowledged (TIOCOUTQ)."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]


def send_bursts(sock, data, burst, gap, ack_ms, timeout):
    """data in bursts of `burst` bytes: each one send() on a quiet connection, then wait (polling)
    until the peer acknowledged all of it; appends each wait to ack_ms."""
    for off in range(0, len(data), burst):
        time.sleep(gap)
        piece = data[off:off + burst]
        t0 = time.monotonic()
        sock.sendall(piece)
        while unacked(sock):
            if time.monotonic() - t0 > timeout:
                raise TimeoutError("a burst was not acknowledged")
            time.sleep(0.0005)
        ack_ms.append(round((time.monotonic() - t0) * 1000, 2))


def xfer(sock, nbytes, send_seed, recv_seed, sender_first, duplex, timeout=300, burst=0, gap=0.3):
    """One side of nettool's stream protocol on a connected socket; returns the same fields as
    nettool's xfer line (and ack_ms with burst: send_bursts)."""
    sock.settimeout(timeout)
    res = {}

    def send():
        h = hashlib.sha256()
        sent = 0
        t0 = time.monotonic()
        try:
            for c in Stream(send_seed).chunks(nbytes):
                if burst:
                    res.setdefault("ack_ms", [])
                    send_bursts(sock, c, burst, gap, res["ack_ms"], timeout)
                else:
                    sock.sendall(c)
                h.update(c)
                sent += len(c)
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            res["send_error"] = repr(e)
        res.update(sent=sent, sent_sha256=h.hexdigest(), send_s=round(time.monotonic() - t0, 4))

    def recv():
        chk = Checker(recv_seed)
        t0 = None
        try:
            while True:
                d = sock.recv(IO)
                if not d:
                    break
                t0 = t0 or time.monotonic()
                chk.feed(d)
        except OSError as e:
            res["recv_error"] = repr(e)
        secs = time.monotonic() - t0 if t0 else 0.0
        res.update(recv=chk.got, recv_sha256=chk.h.hexdigest(), recv_s=round(secs, 4),
                   recv_mbps=round(chk.got * 8 / secs / 1e6, 1) if secs else 0.0, first_bad=chk.first_bad)

    if duplex:
        t = threading.Thread(target=send)
        t.start()
        recv()
        t.join()
    elif sender_first:
        send()
        recv()
    else:
        recv()
        send()
    return res


def xfer_client(addr, port, nbytes, seed, duplex=False, timeout=300, burst=0, gap=0.3):
    s = socket.create_connection((addr, port), timeout=timeout)
    try:
        return xfer(s, nbytes, seed, seed + 1, True, duplex, timeout, burst, gap)
    finally:
        s.close()


def xfer_server(port, nbytes, seed, duplex=False, timeout=300, ready=lambda: print("READY", flush=True), v6=False):
    ls = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("::" if v6 else "0.0.0.0", port))
    ls.listen(4)
    ls.settimeout(timeout)
    ready()
    c, _ = ls.accept()
    ls.close()
    try:
        return xfer(c, nbytes, seed + 1, seed, False, duplex, timeout)
    finally:
        c.close()


# ---- many connections ----

def echo_clients(addr, port, conns, size=1000, timeout=120):
    """All connections are open before any data moves and none is closed before every echo came
    back, so the server has them all open at once."""
    socks = []
    for _ in range(conns):
        s = socket.create_connection((addr, port), timeout=timeout)
        s.settimeout(timeout)
        socks.append(s)
    msgs = [(f"connection {i:03d} of {conns}: ".encode() * (size // 20 + 1))[:size] for i in range(conns)]
    errors, ok = [], 0
    replies = [bytearray() for _ in range(conns)]

    echoed = threading.Barrier(conns, timeout=timeout)

    def one(i):
        try:
            socks[i].sendall(msgs[i])
            while len(replies[i]) < size:
                d = socks[i].recv(65536)
                if not d:
                    break
                replies[i] += d
            echoed.wait()                       # every connection still open on both sides here
            socks[i].shutdown(socket.SHUT_WR)
            extra = socks[i].recv(65536)       # EOF once the server closes
            if extra:
                replies[i] += extra
        except (OSError, threading.BrokenBarrierError) as e:
            errors.append(f"connection {i}: {e!r}")
            echoed.abort()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, s in enumerate(socks):
        s.close()
        if bytes(replies[i]) == msgs[i]:
            ok += 1
        else:
            errors.append(f"connection {i}: echoed {len(replies[i])} bytes, not its {size}-byte message")
    return {"conns": conns, "ok": ok, "errors": errors[:10]}


# ---- raw frames (inside the namespace) ----

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_of(iface):
    with open(f"/sys/class/net/{iface}/address") as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def ip_of(iface):
    import fcntl
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        return fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", iface.encode()))[20:24]   # SIOCGIFADDR
    finally:
        s.close()


def neigh_mac(ip):
    with open("/proc/net/arp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if parts[0] == ip and parts[3] != "00:00:00:00:00:00":
                return bytes.fromhex(parts[3].replace(":", ""))
    raise RuntimeError(f"{ip} is not in the neighbour table")


class Wire:
    def __init__(self, iface, guest_ip):
        self.iface = iface
        self.gip = socket.inet_aton(guest_ip)
        self.hip = ip_of(iface)
        self.hmac = mac_of(iface)
        self.gmac = neigh_mac(guest_ip)
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.s.bind((iface, 0))
        self.sent = 0

    def eth(self, payload, ethertype=ETH_P_IP):
        return self.gmac + self.hmac + struct.pack("!H", ethertype) + payload

    def ipv4(self, proto, payload, tot=None, ihl=5, frag=0, bad_csum=False, ident=0x1234, options=b""):
        hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot if tot is not None else 20 + len(options) + len(payload),
                          ident, frag, 64, proto, 0, self.hip, self.gip) + options
        c = csum(hdr) ^ (0x5555 if bad_csum else 0)
        return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload

    def tcp(self, sport, dport, flags, seq=1, ack=0, payload=b"", bad_csum=False, doff=5, opts=b""):
        hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, 65535, 0, 0) + opts
        pseudo = self.hip + self.gip + struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
        c = csum(pseudo + hdr + payload) ^ (0x00FF if bad_csum else 0)
        return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload

    def udp(self, sport, dport, payload, length=None, bad_csum=False):
        n = length if length is not None else 8 + len(payload)
        hdr = struct.pack("!HHHH", sport, dport, n, 0)
        pseudo = self.hip + self.gip + struct.pack("!BBH", 0, 17, 8 + len(payload))
        c = (csum(pseudo + hdr + payload) ^ (0x0F0F if bad_csum else 0)) or 0xFFFF
        return hdr[:6] + struct.pack("!H", c) + payload

    def send(self, frames, pace=0):
        for i, f in enumerate(frames):
            try:
                self.s.send(f)
                self.sent += 1
            except OSError:
                pass
            if pace and i % pace == pace - 1:
                time.sleep(0.001)


def hostile_frames(w, port, rng):
    """Garbage and lies in every layer the guest parses, aimed at the listening port too. Returns
    the frames and the TCP source ports of those the guest must not answer at all (each TCP frame
    has a source port of its own, 40000 up, so every answer can be attributed)."""
    ports = iter(range(40000, 41000))
    silent = []

    def syn(**kw):
        return w.tcp(next(ports), port, 0x02, **kw)

    def quiet(seg):
        silent.append(struct.unpack("!H", seg[:2])[0])
        return seg

    f = [
        w.eth(b""), w.eth(b"\x45"), w.eth(w.ipv4(6, quiet(syn()))[:19]),             # truncated IPv4
        w.eth(w.ipv4(6, quiet(syn()), tot=10)), w.eth(w.ipv4(6, quiet(syn()), tot=4000)),  # total length lies
        w.eth(w.ipv4(6, quiet(syn()), ihl=4)), w.eth(w.ipv4(6, quiet(syn()), ihl=15)),     # header length lies
        w.eth(w.ipv4(6, syn(), ihl=6, options=b"\x44\xff\x00\x00")),                   # bad IP option (lwIP
                                                                                   # skips options: may answer)
        w.eth(w.ipv4(6, quiet(syn()), bad_csum=True)),                                # bad IP checksum
        w.eth(w.ipv4(6, quiet(syn(bad_csum=True)))),                                  # bad TCP checksum
        w.eth(w.ipv4(6, quiet(syn())[:10])), w.eth(w.ipv4(6, quiet(syn())[:19])),     # truncated TCP
        w.eth(w.ipv4(6, quiet(syn(doff=15)))),                                        # data offset lies
        w.eth(w.ipv4(6, quiet(syn(doff=2)))),
        w.eth(w.ipv4(6, syn(doff=8, opts=b"\x02\x00\x05\xb4\x03\xff\x08\x00"))),       # bad TCP options
        w.eth(w.ipv4(6, quiet(w.tcp(next(ports), port, 0x3F)))),                      # SYN+RST+FIN+...
        w.eth(w.ipv4(6, w.tcp(next(ports), port, 0x10, seq=5, ack=12345))),           # stray ACK (a reset)
        w.eth(w.ipv4(6, quiet(w.tcp(next(ports), port, 0x04)))),                      # stray RST: never answered
        w.eth(w.ipv4(6, w.tcp(next(ports), port, 0x18, payload=b"data without a connection"))),
        w.eth(w.ipv4(6, quiet(syn()), frag=0x2000)),                                  # fragments that never
        w.eth(w.ipv4(6, quiet(syn()), frag=0x2000 | 0x1FFF)),                         # complete
        w.eth(w.ipv4(6, b"z" * 64, frag=0x1FFF)),
        w.eth(w.ipv4(17, w.udp(5000, 7, b"ping")[:5])),                               # truncated UDP
        w.eth(w.ipv4(17, w.udp(5000, 7, b"x", length=200))),                          # UDP length lies
        w.eth(w.ipv4(17, w.udp(5000, 7, b"x", length=3))),
        w.eth(w.ipv4(17, w.udp(5000, 9, b"bad checksum", bad_csum=True))),
        w.eth(w.ipv4(17, w.udp(5000, 9, b"closed port"))),
        w.eth(w.ipv4(1, b"\x08\x00")), w.eth(w.ipv4(1, b"\x08\x00\x00\x00\x00\x01\x00\x01xx")),  # bad ICMP
        w.eth(b"\x00\x01\x08\x00\x06\x04\x00\x02" + b"\xff" * 5, 0x0806),            # truncated ARP
    ]
    for _ in range(400):                                                             # random payloads
        proto = rng.choice([1, 6, 17, 0, 255])
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 120)))
        if proto == 6 and rng.random() < 0.5:
            body = struct.pack("!HH", rng.randrange(1024, 40000), port) + body        # at the server
        f.append(w.eth(w.ipv4(proto, body, bad_csum=rng.random() < 0.3)))
        raw = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 80)))
        f.append(w.eth(raw, rng.choice([0x0800, 0x0806])))
    return f, silent


class GuestReplies:
    """Counts TCP segments the guest sends to the host on IFACE (bound before the frames go out)."""

    def __init__(self, iface, guest_ip):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        self.s.bind((iface, ETH_P_IP))
        self.gip = socket.inet_aton(guest_ip)
        self.by_port = {}

    def drain(self, idle=2.0, limit=60.0):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if not select.select([self.s], [], [], idle)[0]:
                break
            data, addr = self.s.recvfrom(65536)
            if addr[2] == PACKET_OUTGOING or len(data) < 14 + 20 + 14:
                continue
            ip = data[14:]
            ihl = (ip[0] & 0xF) * 4
            if ip[9] != 6 or ip[12:16] != self.gip:
                continue
            dport = struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]
            flags = ip[ihl + 13]
            kind = "synack" if flags & 0x12 == 0x12 else "rst" if flags & 0x04 else "other"
            self.by_port.setdefault(dport, []).append(kind)
        self.s.close()


def hostile(iface, guest_ip, port, seed=7):
    w = Wire(iface, guest_ip)
    rep = GuestReplies(iface, guest_ip)
    frames, silent = hostile_frames(w, port, random.Random(seed))
    w.send(frames)
    rep.drain(idle=1.0)
    return {"sent": w.sent, "frames": len(frames), "must_drop": len(silent),
            "answered_bad": {p: rep.by_port[p] for p in silent if p in rep.by_port},
            "answers": {p: ks for p, ks in sorted(rep.by_port.items()) if 40000 <= p < 41000}}


def synflood(iface, guest_ip, port, count, bad=500):
    """count valid SYNs from ports 20000.. (the guest answers with SYN-ACKs, the host's own stack
    resets those, so the half-open connections go away) and `bad` SYNs with wrong TCP checksums
    from ports 50000.. (the guest must answer none of them)."""
    w = Wire(iface, guest_ip)
    rep = GuestReplies(iface, guest_ip)
    good_ports = [20000 + i % 30000 for i in range(count)]
    frames = [w.eth(w.ipv4(6, w.tcp(p, port, 0x02, seq=i * 7919), ident=i & 0xFFFF)) for i, p in enumerate(good_ports)]
    badf = [w.eth(w.ipv4(6, w.tcp(50000 + i, port, 0x02, seq=i, bad_csum=True))) for i in range(bad)]
    t0 = time.monotonic()
    w.send(frames + badf)
    secs = time.monotonic() - t0
    rep.drain(idle=2.0)
    kinds = [k for p, ks in rep.by_port.items() if 20000 <= p < 50000 for k in ks]
    return {"sent": w.sent, "seconds": round(secs, 3), "synack": kinds.count("synack"), "rst": kinds.count("rst"),
            "ports_answered": sum(1 for p in rep.by_port if 20000 <= p < 50000),
            "answered_bad": sum(len(ks) for p, ks in rep.by_port.items() if 50000 <= p < 50000 + bad)}


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("xfer-client")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("bytes", type=int)
    p.add_argument("seed", type=int)
    p.add_argument("--duplex", action="store_true")
    p.add_argument("--burst", type=int, default=0)
    p.add_argument("--gap", type=float, default=0.3)
    p = sub.add_parser("xfer-server")
    p.add_argument("port", type=int)
    p.add_argument("bytes", type=int)
    p.add_argument("seed", type=int)
    p.add_argument("--duplex", action="store_true")
    p.add_argument("--v6", action="store_true", help="listen on [::] (AF_INET6)")
    p = sub.add_parser("echo-clients")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--conns", type=int, default=32)
    p.add_argument("--size", type=int, default=1000)
    for name in ("hostile", "synflood"):
        p = sub.add_parser(name)
        p.add_argument("iface")
        p.add_argument("guest_ip")
        p.add_argument("port", type=int)
        p.add_argument("--count", type=int, default=10000)
    a = ap.parse_args()
    if a.cmd == "xfer-client":
        r = xfer_client(a.addr, a.port, a.bytes, a.seed, a.duplex, burst=a.burst, gap=a.gap)
    elif a.cmd == "xfer-server":
        r = xfer_server(a.port, a.bytes, a.seed, a.duplex, v6=a.v6)
    elif a.cmd == "echo-clients":
        r = echo_clients(a.addr, a.port, a.conns, a.size)
    elif a.cmd == "hostile":
        r = hostile(a.iface, a.guest_ip, a.port)
    else:
        r = synflood(a.iface, a.guest_ip, a.port, a.count)
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    sys.exit(main())
