"""Host peer of the soak (user/stress/soak.c), run inside the test's network namespace:
  hostsoak.py PORT FLOW [--timeout S]   prints READY once listening, accepts one connection and
      checks every byte it receives against the soak's pattern (byte k of flow f is
      (k + 17 f) % 251) until the guest closes; prints one JSON line: bytes, bad (mismatching
      bytes), seconds."""
import argparse
import json
import socket
import time

PERIOD = 251


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("flow", type=int)
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    print("READY", flush=True)
    c, _ = ls.accept()
    c.settimeout(a.timeout)
    t0 = time.monotonic()
    period = bytes((j + 17 * a.flow) % PERIOD for j in range(PERIOD))
    pattern = period * ((1 << 20) // PERIOD + 2)
    got = bad = 0
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        off = got % PERIOD
        if d != pattern[off:off + len(d)]:
            bad += sum(1 for i, b in enumerate(d) if b != pattern[off + i])
        got += len(d)
    c.close()
    print(json.dumps({"bytes": got, "bad": bad, "seconds": round(time.monotonic() - t0, 3)}), flush=True)


if __name__ == "__main__":
    main()
