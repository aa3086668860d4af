"""Boot Ember under QEMU and talk to its console.

Every run has a timeout. When an expectation fails, the AssertionError carries the console log, so
pytest shows what the kernel printed; every log is also kept under build/test-logs/.
"""
import os
import re
import signal
import subprocess
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
KERNEL = os.path.join(BUILD, "kernel.elf")
TEST_KERNEL = os.path.join(BUILD, "kernel-test.elf")
LOG_DIR = os.path.join(BUILD, "test-logs")
PROMPT = "ember> "
BOOT_TIMEOUT = 60
LOG_TAIL = 6000


class Qemu:
    def __init__(self, kernel=TEST_KERNEL, smp=4, mem="512M", extra=(), name="qemu", cmd=None):
        self.name = name
        self.cmd = cmd or ["qemu-system-riscv64", "-machine", "virt", "-smp", str(smp), "-m", mem,
                    "-bios", OPENSBI, "-kernel", kernel, "-display", "none", "-serial", "stdio",
                    "-monitor", "none", "-no-reboot", *extra]
        self.out = ""
        self.pos = 0            # expect() searches from here
        self.lock = threading.Lock()
        # own session, so close() can kill whatever the command started (make run -> QEMU)
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0, cwd=ROOT,
                                     start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            data = self.proc.stdout.read(4096)
            if not data:
                break
            with self.lock:
                self.out += data.decode("utf-8", "replace").replace("\r", "")

    def log(self):
        with self.lock:
            return self.out

    def fail(self, why):
        raise AssertionError(f"{why}\n--- console log ({self.name}, last {LOG_TAIL} chars) ---\n"
                             f"{self.log()[-LOG_TAIL:]}\n--- end of console log ---")

    def expect(self, pattern, timeout=30):
        """Wait for regex `pattern` after the previous match; return the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                m = rx.search(self.out, self.pos)
                if m:
                    self.pos = m.end()
                    return m
            if self.proc.poll() is not None:
                self.reader.join(2)
                with self.lock:
                    m = rx.search(self.out, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                self.fail(f"QEMU exited ({self.proc.returncode}) before {pattern!r} appeared")
            if time.monotonic() > deadline:
                self.fail(f"timed out after {timeout}s waiting for {pattern!r}")
            time.sleep(0.02)

    def send(self, text, delay=0.0):
        for ch in text:
            self.proc.stdin.write(ch.encode())
            self.proc.stdin.flush()
            if delay:
                time.sleep(delay)

    def boot(self):
        self.expect(re.escape(PROMPT), BOOT_TIMEOUT)
        return self

    def command(self, line, timeout=60):
        """Type a monitor command; return its output (up to the next prompt)."""
        self.send(line + "\r")
        # The echo of what we typed; a kernel message (printk writes whole lines, e.g. DHCP's
        # "net: eth0 inet ...") may land in the middle of it.
        self.expect("".join(re.escape(c) + r"(?:[^\n]*\n)??" for c in line) + r"\n", timeout)
        start = self.pos
        self.expect(re.escape(PROMPT), timeout)
        with self.lock:
            return self.out[start:self.pos - len(PROMPT)]

    def wait_exit(self, timeout=30):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"QEMU did not exit within {timeout}s")

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.reader.join(2)
        os.makedirs(LOG_DIR, exist_ok=True)
        with open(os.path.join(LOG_DIR, self.name + ".log"), "w") as f:
            f.write(" ".join(self.cmd) + "\n" + self.log())
