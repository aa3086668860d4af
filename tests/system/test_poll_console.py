"""Console readiness: user/tests/poll.c in "console" mode polls the console while this test types
on it. A partial line wakes pollers but is not readable in canonical mode; the line's end makes
poll and epoll report EPOLLIN and read returns it; a signal interrupting a read mid-line keeps
what was typed; with ICANON off one byte is enough."""
import os
import re

from qemu import BUILD, KERNEL, Qemu


def test_console_input_readiness():
    q = Qemu(kernel=KERNEL, name="poll-console",
             extra=("-initrd", os.path.join(BUILD, "initramfs.cpio"), "-append", "rdinit=/tests/poll -- console"))
    try:
        q.expect(r"console: partial\?", 120)
        q.send("hel")                     # no line end: poll must time out (1.5 s)
        q.expect(r"console: rest\?", 30)
        q.send("lo\r")                    # ICRNL: CR ends the line
        q.expect(r"console: sig\?", 30)
        q.send("ab")                      # echoed by the reader, which a signal then interrupts
        q.expect(r"ab", 30)
        q.expect(r"console: end\?", 30)
        q.send("c\r")
        q.expect(r"console: byte\?", 30)
        q.send("x")                       # raw mode
        m = q.expect(r"(\d+) passed, (\d+) failed", 30)
        out = q.log()
        assert int(m.group(2)) == 0 and int(m.group(1)) > 0, out[-4000:]
        q.expect(r"init exited with status 0", 30)
        assert "FAIL" not in out, out[-4000:]
        assert re.search(r"PASS console_read_line", out), out[-4000:]
    finally:
        q.close()
