"""Host-side TCP peer for the stack tests and benches (run inside the test's network namespace):
  hosttcp.py sink PORT [--conns N] [--timeout S] [--v6]   prints READY once listening (--v6: on
      [::], else 0.0.0.0), accepts N
      connections, counts what each sends until it closes; prints one JSON line: bytes per
      connection, seconds from the first accept to the last close, and each connection's MSS
  hosttcp.py send ADDR PORT --mib N [--conns K]    K connections, each sending N MiB, then closes;
      prints one JSON line: bytes sent, seconds from the first connect to the last close, and
      each connection's MSS (TCP_MAXSEG: at most what the guest advertised)."""
import argparse
import json
import socket
import threading
import time

CHUNK = 64 * 1024


def sink(a):
    ls = socket.socket(socket.AF_INET6 if a.v6 else socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("::" if a.v6 else "0.0.0.0", a.port))
    ls.listen(64)
    ls.settimeout(a.timeout)
    print("READY", flush=True)
    counts, mss, threads, t0 = [], [], [], None

    def drain(c, i):
        c.settimeout(a.timeout)
        n = 0
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            n += len(d)
        counts[i] = n
        c.close()

    for i in range(a.conns):
        c, _ = ls.accept()
        t0 = t0 or time.monotonic()
        counts.append(0)
        mss.append(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
        t = threading.Thread(target=drain, args=(c, i))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    print(json.dumps({"bytes": counts, "seconds": round(time.monotonic() - t0, 4), "mss": mss}))


def send(a):
    buf = bytes((i * 7 + 3) & 0xFF for i in range(CHUNK))
    sent = [0] * a.conns
    mss = [0] * a.conns
    t0 = time.monotonic()

    def one(i):
        s = socket.create_connection((a.addr, a.port), timeout=a.timeout)
        mss[i] = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
        left = a.mib * 1024 * 1024
        while left:
            n = s.send(buf[:min(left, CHUNK)])
            left -= n
            sent[i] += n
        s.shutdown(socket.SHUT_WR)
        s.settimeout(a.timeout)
        while s.recv(4096):
            pass
        s.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(a.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"bytes": sent, "seconds": round(time.monotonic() - t0, 4), "mss": mss}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sink")
    p.add_argument("port", type=int)
    p.add_argument("--conns", type=int, default=1)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--v6", action="store_true")
    p = sub.add_parser("send")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--mib", type=int, default=16)
    p.add_argument("--conns", type=int, default=1)
    p.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    sink(a) if a.cmd == "sink" else send(a)


if __name__ == "__main__":
    main()
