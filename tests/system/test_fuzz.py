"""The system-call fuzzer (user/fuzz/sysfuzz.c, scripts/fuzz.py; issue 17 item 2), bounded for
`make test`: fixed seeds for FUZZ_SECONDS each inside Ember (-smp 4, 4 workers) and a short run of
the same binary under qemu-riscv64-static (the host's Linux answers). `make fuzz` runs campaigns.

Inside Ember a run must be clean: no panic, no hang (kernel or user: scripts/fuzz.py tells them
apart, pinging the guest on a tap when root), no worker stuck in a call that ignores SIGALRM, no
worker death the fuzzer cannot explain. Under qemu-user, deaths inside a call are the emulator's
own (qemu-user emulates system calls in the same process, and crashes on some hostile lengths),
counted as "emulator" and allowed; a death outside a call (the fuzzer's own bug) is not.
The corpus (tests/fuzz-corpus/*.txt) holds reproducers of findings: each fixed one with a worker
seed is replayed inside Ember and must pass (those marked NOT FIXED belong to other work)."""
import glob
import os
import re
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import fuzz  # noqa: E402
from qemu import BUILD  # noqa: E402

SEEDS = (1, 2, 3)
FUZZ_SECONDS = int(os.environ.get("FUZZ_SECONDS", 40))
QEMU_USER_SECONDS = 15
MIN_CALLS_PER_S = 50           # far below what either kernel does: a fuzzer that stopped calling fails
BINARY = os.path.join(BUILD, "user", "fuzz", "sysfuzz")


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_inside_ember(seed):
    res, out = fuzz.run_seed(seed, FUZZ_SECONDS, keep=False, name=f"fuzz-seed{seed}")
    print(res)
    assert res["verdict"] == "clean", f"{res}\n--- console tail ---\n{out[-6000:]}"
    assert res["calls"] >= MIN_CALLS_PER_S * FUZZ_SECONDS, res


def test_fuzz_under_linux():
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run(["qemu-riscv64-static", BINARY, "-s", "1", "-t", str(QEMU_USER_SECONDS), "-d", d],
                           capture_output=True, text=True, timeout=QEMU_USER_SECONDS + 120)
    out = p.stdout
    m = re.search(r"^sysfuzz: result (PASS|FAIL) .*calls=(\d+) .*unexplained=(\d+) stuck=(\d+) unkillable=(\d+)$", out, re.M)
    assert m, out[-4000:] + p.stderr[-2000:]
    assert m.group(3) == "0" and m.group(4) == "0" and m.group(5) == "0", out[-6000:]
    assert int(m.group(2)) >= MIN_CALLS_PER_S * QEMU_USER_SECONDS, out[-3000:]
    assert len(re.findall(r"^sysfuzz: hb ", out, re.M)) >= QEMU_USER_SECONDS - 2, "the heartbeat is missing"


CORPUS = sorted(p for p in glob.glob(os.path.join(fuzz.CORPUS, "*.txt"))
                if re.search(r"^worker_seed=", open(p).read(), re.M) and "NOT FIXED" not in open(p).read())


@pytest.mark.parametrize("path", CORPUS, ids=[os.path.basename(p) for p in CORPUS])
def test_fuzz_corpus_replays(path):
    assert fuzz.replay(path) == 0, f"{path} still fails inside Ember"
