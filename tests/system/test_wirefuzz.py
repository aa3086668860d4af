"""Wire fuzzing (issue 17 item 5): seeded fuzzed frames from the host (tests/system/hostwire.py, our
own generator) at a guest echo server on each NIC model (virtio-net, e1000, rtl8139): spoofed segments at the listener, segments
inside a live connection (sequence numbers learned from the wire), broken IPv4 (lengths, options,
fragments), ICMP, UDP, ARP and raw frames. After each batch a new connection to the fuzzed port
must complete at once (CONNECT_LIMIT_S) and echo byte-exact: the issue's first finding was a 19 s
stall once a batch's spoofed SYNs filled the listen backlog. At the end the guest answers ping
and printed nothing alarming. The live connection's fate is printed, not judged: segments injected
inside its window (data, RST) may legitimately desynchronize or end it, on Linux too. Root is needed for the tap (skipped, saying why, otherwise).
Bounded for `make test`: BATCHES x FRAMES frames per case (WIREFUZZ_FRAMES overrides FRAMES); virtio-net
gets two seeds, e1000 and rtl8139 one each (a different one, so the four cases send different frames)."""
import json
import os

import pytest

from nics import NICS, PYTHON, tap_unavailable
from test_sock_host import GUEST_IP, TapVM, host_ping, nettool

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTWIRE = os.path.join(HERE, "hostwire.py")
PORT = 5020
CASES = [("virtio-net-device", 1), ("virtio-net-device", 2), ("e1000", 3), ("rtl8139", 4)]
BATCHES = 4
FRAMES = int(os.environ.get("WIREFUZZ_FRAMES", 500))
CONNECT_LIMIT_S = 1.0


@pytest.fixture(scope="module")
def wirevm(request):
    reason = tap_unavailable()
    if reason:
        pytest.skip(reason)
    vm = TapVM(next(n for n in NICS if n.id == request.param))
    request.addfinalizer(vm.close)
    return vm


@pytest.mark.parametrize("wirevm,seed", CASES, indirect=["wirevm"], ids=[f"{m}-seed{s}" for m, s in CASES])
def test_fuzzed_frames_never_delay_new_connections(wirevm, seed):
    if not wirevm.usable():
        wirevm.boot()
    tap, g = wirevm.tap, wirevm.g
    g.start(nettool(f"echo {PORT} 256", 600), rf"echo: listening on {PORT}")
    r = g.host("hostwire.py", tap.ns, [PYTHON, HOSTWIRE, tap.iface, GUEST_IP, str(PORT), "--batches", str(BATCHES),
                                       "--frames", str(FRAMES), "--seed", str(seed)], timeout=300)
    res = g.host("hostwire.py output", lambda: json.loads(r.stdout.strip().splitlines()[-1]))
    print(json.dumps(res))
    g.check(len(res["batches"]) == BATCHES, f"{res}")
    for i, b in enumerate(res["batches"]):
        g.check(b["echo_ok"], f"batch {i}: the new connection failed: {res}")
        g.check(b["connect_s"] <= CONNECT_LIMIT_S, f"batch {i}: connect() took {b['connect_s']} s: {res}")
    p = host_ping(tap, GUEST_IP)
    g.check(p["received"] == 3, f"the guest stopped answering ping after the fuzzed frames: {p}")
    out = wirevm.q.log()
    for bad in ("KERNEL PANIC", "lwip: assertion", "lwip: core entered without", "unhandled signal", "Assertion",
                "nettool: watchdog"):
        g.check(bad not in out, f"{bad!r} in the console log")
    wirevm.q.close()          # the echo server still waits for connections: a fresh guest next time
