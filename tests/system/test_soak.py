"""The soak (issue 17 item 4): user/stress/soak runs as init for SOAK_SECONDS (`make soak`, 600 by
default, SECONDS=... overrides; not part of `make test`): 4 loopback TCP flows whose every byte is
checked, one flow to a host peer over a tap (virtio-net; when root and namespaces work) checked byte
by byte on the host (hostsoak.py), and fork/exec churn. Every process must come back with status 0,
and MemFree must return to its starting value within 1%."""
import json
import os
import re
import subprocess

import pytest

from nics import NICS, PYTHON, TapNamespace, qemu_cmd, tap_unavailable
from qemu import BUILD, KERNEL, Qemu

SECONDS = int(os.environ.get("SOAK_SECONDS", "0") or 0)
pytestmark = pytest.mark.skipif(not SECONDS, reason="the soak runs from `make soak` (SOAK_SECONDS), not in make test")

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTSOAK = os.path.join(HERE, "hostsoak.py")
INITRD = os.path.join(BUILD, "initramfs.cpio")
GUEST_IP, HOST_IP = "192.168.78.2", "192.168.78.1"
HOST_PORT = 7200
HOST_FLOW = 4                     # soak.c's LOOP_FLOWS: the host flow's pattern index
RESULT = re.compile(r"^(\d+) passed, (\d+) failed$", re.M)


def test_soak():
    reason = tap_unavailable()
    tap = peer = None
    try:
        if reason is None:
            tap = TapNamespace(f"embsoak{os.getpid() % 100000}", addr=f"{HOST_IP}/24", mtu=1500)
            peer = subprocess.Popen([*tap.prefix(), PYTHON, HOSTSOAK, str(HOST_PORT), str(HOST_FLOW),
                                     "--timeout", str(SECONDS + 180)], stdout=subprocess.PIPE, text=True)
            assert peer.stdout.readline().strip() == "READY"
            nic = NICS[0]
            ip_arg = f"ip={GUEST_IP}::{HOST_IP}:255.255.255.0::eth0:off"
            cmd = qemu_cmd([*tap.netdev("n0"), *nic.args("n0"), "-initrd", INITRD, "-append",
                            f"{ip_arg} rdinit=/stress/soak -- {SECONDS} {HOST_IP} {HOST_PORT}"],
                           kernel=KERNEL, prefix=tap.prefix())
            q = Qemu(name="soak", cmd=cmd)
        else:
            print(f"no host flow: {reason}")
            q = Qemu(kernel=KERNEL, name="soak",
                     extra=("-initrd", INITRD, "-append", f"rdinit=/stress/soak -- {SECONDS}"))
        try:
            q.expect(r"init exited with status \d+", SECONDS + 300)
            q.wait_exit(30)
            out = q.log()
        finally:
            q.close()
        for line in out.splitlines():
            if line.startswith("soak:"):
                print(line)
        m = RESULT.search(out)
        assert m and int(m.group(2)) == 0 and int(m.group(1)) > 0, out[-6000:]
        assert "init exited with status 0" in out, out[-6000:]
        if peer:
            res = json.loads(peer.communicate(timeout=120)[0].strip().splitlines()[-1])
            sent = int(re.search(r"soak: host flow sent (\d+) bytes", out).group(1))
            print(f"host flow: {res}")
            assert res["bytes"] == sent and sent > 0 and res["bad"] == 0, (res, sent)
    finally:
        if peer and peer.poll() is None:
            peer.kill()
        if tap:
            tap.close()
