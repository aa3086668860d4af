import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from qemu import Qemu  # noqa: E402


@pytest.fixture
def boot(request):
    """boot(kernel=..., smp=4, mem='512M', extra=()) -> a booted Qemu at the monitor prompt."""
    started = []

    def start(**kw):
        q = Qemu(name=request.node.name + (f"-{len(started)}" if started else ""), **kw)
        started.append(q)
        return q.boot()

    yield start
    for q in started:
        q.close()


@pytest.fixture
def ember(boot):
    """The test kernel booted with -smp 4 -m 512M."""
    return boot()
