"""busybox inside Ember: the login shell `make run` gives (/init -- /bin/sh -l) is driven through
the console with a script of applet invocations and their expected output; then the contest's
busybox group (../shared/oscomp/suite/scripts/busybox, skipped where ../shared is absent) runs as
the judge runs it, and vi is driven as a person would.

Each command is typed as  echo '{{'; CMD; echo "}}$?"  so its output is what lies between a line
"{{" and "}}STATUS" (the echo of the typed line has quotes there, so it never matches)."""
import os
import re
import time

import pytest

from qemu import BUILD, KERNEL, ROOT, Qemu

CONTEST_DIR = os.path.join(ROOT, "..", "..", "shared", "oscomp", "suite", "scripts", "busybox")
if not os.path.isdir(CONTEST_DIR):
    CONTEST_DIR = "/work/shared/oscomp/suite/scripts/busybox"
PROMPT = r"ember:[^\n]*# "
MEM_KB = 512 * 1024


class Shell:
    def __init__(self, name, args=""):
        """args: kernel arguments before the usual ones."""
        self.q = Qemu(kernel=KERNEL, name=name, extra=(
            "-initrd", os.path.join(BUILD, "initramfs.cpio"), "-append", f"{args} rdinit=/init -- /bin/sh -l"))
        self.q.expect(r"Ember: busybox", 90)
        self.q.expect(PROMPT, 30)
        # a wide terminal: the line editor does not wrap long command lines
        self.run("stty cols 250")

    def run(self, cmd, timeout=60):
        """(output, exit status) of one command line."""
        self.q.send(f"echo '{{{{'; {cmd}; echo \"}}}}$?\"\r")
        m = self.q.expect(r"(?s)\n\{\{\n(.*?)\}\}(\d+)\n", timeout)
        return m.group(1).rstrip("\n"), int(m.group(2))

    def close(self):
        self.q.close()


@pytest.fixture(scope="module")
def sh():
    s = Shell("busybox")
    yield s
    s.close()


def year():
    return time.strftime("%Y", time.gmtime())


# (command, expected output: a string matched exactly or a compiled regex searched, exit status)
SCRIPT = [
    ("cd /tmp && pwd", "/tmp", 0),
    ("echo hello | cat", "hello", 0),
    ("false", "", 1),
    ("basename /aaa/bbb; dirname /aaa/bbb", "bbb\n/aaa", 0),
    ("expr 6 \\* 7", "42", 0),
    ("printf 'abc\\n'", "abc", 0),
    ("which ls", "/bin/ls", 0),
    ("uname -sm; hostname", "Linux riscv64\nember", 0),
    ("date +%Y", year, 0),
    ("hwclock -u | grep -o '20[0-9][0-9]'", year, 0),
    ("echo 'hello world' > t.txt && cat t.txt", "hello world", 0),
    ("cut -c 3 t.txt", "l", 0),
    ("head -n 1 t.txt; tail -n 1 t.txt", "hello world\nhello world", 0),
    ("od -c t.txt | head -n 1", re.compile(r"^0000000\s+h\s+e\s+l\s+l\s+o\s+w\s+o\s+r\s+l\s+d\s+\\n$"), 0),
    ("hexdump -C t.txt",
     "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |hello world.|\n0000000c", 0),
    ("md5sum t.txt", "6f5902ac237024bdd0c176cb93063dc4  t.txt", 0),
    ("sha256sum t.txt", "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447  t.txt", 0),
    ("printf 'b\\na\\nb\\n' | sort | uniq", "a\nb", 0),
    ("wc -c < t.txt; wc -w t.txt", "12\n2 t.txt", 0),
    ("grep -c hello t.txt; grep nothing t.txt", "1", 1),
    ("sed 's/world/ember/' t.txt", "hello ember", 0),
    ("awk '{ print $2, length($1) }' t.txt", "world 5", 0),
    ("stat -c '%s %F' t.txt", "12 regular file", 0),
    ("[ -f t.txt ] && echo file", "file", 0),
    ("mkdir -p d/e && touch d/e/f && find d -type f", "d/e/f", 0),
    ("cp t.txt d/ && mv d/t.txt d/u.txt && ls d | cat", "e\nu.txt", 0),
    ("du -k d/u.txt", "4\td/u.txt", 0),
    ("rm -r d && ls d", re.compile(r"No such file or directory"), 1),
    ("tar czf a.tgz t.txt && rm t.txt && tar xzf a.tgz && cat t.txt", "hello world", 0),
    ("gzip -c t.txt | gunzip", "hello world", 0),
    ("seq 3 | xargs echo", "1 2 3", 0),
    ("head -c 4096 /dev/urandom | wc -c", "4096", 0),
    ("echo x > /dev/full", re.compile(r"No space left on device"), 1),
    ("sleep 1 && echo slept", "slept", 0),
    ("time true", re.compile(r"real\s+0m 0\.\d\ds\nuser\s+0m 0\.\d\ds\nsys\s+0m 0\.\d\ds"), 0),
    # processes and /proc
    ("cat /proc/$$/comm; readlink /proc/self/exe", "sh\n/bin/busybox", 0),
    ("ps -o pid,ppid,comm,args | grep -v grep | grep 'ps -o'",
     re.compile(r"^\s*\d+\s+\d+\s+ps\s+ps -o pid,ppid,comm,args$"), 0),
    ("ps | head -n 2", re.compile(r"PID\s+USER\s+TIME\s+COMMAND\n\s+1 root\s+\d+:\d\d /init /bin/sh -l"), 0),
    ("top -b -n 1 | head -n 4",
     re.compile(r"Mem: \d+K used, \d+K free.*\nCPU:.*% idle.*\nLoad average: \d+\.\d\d \d+\.\d\d \d+\.\d\d "
                r"\d+/\d+ \d+\n\s+PID\s+PPID\s+USER\s+STAT\s+VSZ"), 0),
    ("uptime", re.compile(r"up\s+\d+ min,\s+0 users,\s+load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d"), 0),
    ("mount | head -n 1", "rootfs on / type rootfs (rw,relatime)", 0),   # the initramfs root, as Linux names it
    ("dmesg | grep -c 'Ember kernel booting'", "1", 0),
    ("kill -0 $$ && echo alive", "alive", 0),
    # network over loopback
    ("ifconfig lo | grep -o 'inet addr:[0-9.]*'", "inet addr:127.0.0.1", 0),
    # ip reads links and addresses over NETLINK_ROUTE (net/netlink/), the queue length by ioctl
    ("ip link show lo | head -n 1", "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qlen 1000", 0),
    ("ip addr show lo | grep -o 'inet6* [^ ]* scope host'", "inet 127.0.0.1/8 scope host\ninet6 ::1/128 scope host", 0),
    ("ip addr show lo | grep -c -e deprecated -e dynamic", "0", 1),
    ("ping -c 1 127.0.0.1 | grep -o '1 packets received'", "1 packets received", 0),
    # ICMPv6 raw sockets (ICMP6_FILTER, the kernel's checksum, the hop limit of IPV6_2292HOPLIMIT's message)
    ("ping -6 -c 2 ::1 | grep -o -e 'seq=1 ttl=64' -e '2 packets received'", "seq=1 ttl=64\n2 packets received", 0),
    ("ping6 -c 1 -s 3000 ::1 | grep -o -e '^3008 bytes from ::1' -e '1 packets received'",
     "3008 bytes from ::1\n1 packets received", 0),
    # (a background job must not read the console: SIGTTIN would stop it, as on Linux)
    ("nc -l -p 5555 < /dev/null > got.txt & sleep 0.5; echo over-tcp | nc 127.0.0.1 5555; wait; cat got.txt",
     "over-tcp", 0),
    ("mkdir -p www && echo page > www/x.html && httpd -p 8080 -h /tmp/www && sleep 0.3 && "
     "wget -q -O - http://127.0.0.1:8080/x.html", "page", 0),
    # AF_UNIX: syslogd binds the datagram socket /dev/log, logger sends to it, netstat -x lists it
    # from /proc/net/unix
    ("syslogd -O /tmp/unix.log && sleep 0.5 && logger -t ember over-unix-socket && sleep 0.5 && "
     "grep -o 'ember: over-unix-socket' /tmp/unix.log && netstat -x | grep -c ' /dev/log$'; "
     "kill $(pidof syslogd)", "ember: over-unix-socket\n1", 0),
    # job control basics (a non-interactive shell, as scripts run them; see test_jobs for timing)
    ("sh -c 'sleep 10 & kill %1; wait; echo waited'", "waited", 0),
    ("(sleep 0.2; echo bg) & wait; echo fg", "bg\nfg", 0),
]


@pytest.mark.parametrize("cmd,want,status", SCRIPT, ids=[c for c, _, _ in SCRIPT])
def test_applet(sh, cmd, want, status):
    out, rc = sh.run(cmd)
    if callable(want):
        want = want()
    if isinstance(want, re.Pattern):
        assert want.search(out), f"{cmd!r}: output {out!r} does not match {want.pattern!r}"
    else:
        assert out == want, f"{cmd!r}: output {out!r}, expected {want!r}"
    assert rc == status, f"{cmd!r}: status {rc}, expected {status}; output {out!r}"


def test_free_and_df_true_figures(sh):
    """free and df print what the kernel has: all RAM as total, used + free = total, and a tmpfs
    as big as RAM with its free space the free memory."""
    out, rc = sh.run("free | grep Mem:")
    total, used, free = (int(x) for x in out.split()[1:4])
    assert rc == 0 and total == MEM_KB and used + free == total and 0 < used < total, out
    # busybox df skips the "rootfs" entry that names the initramfs root (as on Linux): a tmpfs mount
    out, rc = sh.run("mkdir -p /mnt/dft && mount -t tmpfs tmpfs /mnt/dft && df -k /mnt/dft | tail -n 1")
    fields = out.split()
    assert rc == 0 and fields[0] == "tmpfs" and int(fields[1]) == MEM_KB and fields[-1] == "/mnt/dft", out
    assert int(fields[2]) + int(fields[3]) == MEM_KB, out


def test_ps_sees_a_background_job(sh):
    # wait until the child has exec'd sleep (before that, ps shows it as a copy of the shell)
    out, rc = sh.run("sleep 30 & p=$!; i=0; while [ \"$(cat /proc/$p/comm)\" != sleep ] && [ $i -lt 50 ]; "
                     "do sleep 0.1; i=$((i + 1)); done; ps -o pid,stat,args | grep \"^ *$p \"; kill $p; wait")
    # S once it sleeps; R if it has not gone to sleep yet on a loaded host
    assert re.search(r"^\s*\d+ [RS]\s+sleep 30$", out, re.M), out


def test_sysrq_trigger(sh):
    """/proc/sysrq-trigger (kernel/sysrq.c): 't' prints every thread with the kernel backtrace of
    where a sleeping one sleeps, 'l' every CPU's backtrace (each CPU answers an IPI), anything
    else the help line; the text reaches the console and the kernel log (dmesg) as on Linux."""
    out, rc = sh.run("sleep 30 & p=$!; i=0; while [ \"$(cat /proc/$p/comm)\" != sleep ] && [ $i -lt 50 ]; "
                     "do sleep 0.1; i=$((i + 1)); done; sleep 0.5; "
                     "echo tlQ > /proc/sysrq-trigger; echo '?' > /proc/sysrq-trigger; kill $p; wait; "
                     "dmesg | grep -c 'sysrq: Show State'")
    # the sleeping `sleep`: its state line, then frames down to the system call's entry
    m = re.search(r"^\s+\d+ sleep\s+sleeping cpu \d switches \d+\n((?:  0x[0-9a-f]+ \S+\n)+)", out, re.M)
    assert m, out
    frames = m.group(1)
    assert "__schedule+" in frames and re.search(r"(nanosleep|sleep_ns_until)\+", frames), out
    assert "trap_user+" in frames, out
    assert re.search(r"^\s+\d+ squeue/0\s+\S+\s+cpu 0 .*\(kernel thread\)$", out, re.M), out
    # 'l': the writer's CPU and each of the other three answer
    assert "sysrq: Show backtrace of all active CPUs" in out, out
    assert len(set(re.findall(r"^sysrq: CPU (\d) running", out, re.M))) == 4, out
    assert "did not answer" not in out, out
    assert len(re.findall(r"^  cpu \d: cur -?\d+ \S+, run queue \d+", out, re.M)) >= 4 + 3, out
    # 'Q' (net/squeue.c registers it): one line per squeue
    assert "sysrq: Show squeues" in out, out
    sq_line = r"^  squeue/\d: len \d+, (?:idle|processing), worker \S+, sq_done waiters (?:yes|no)"
    assert len(re.findall(sq_line, out, re.M)) == 4, out
    assert "sysrq: HELP : " in out and "show-squeues(Q)" in out, out
    assert int(out.splitlines()[-1]) >= 1, out      # the kernel log kept it
    # nothing stuck: a packet or timer may be in flight at one sample, but within a few samples
    # every squeue is seen empty with its worker asleep
    rest = r"^  squeue/\d: len 0, idle, worker sleeping, sq_done waiters no$"
    for _ in range(10):
        out, rc = sh.run("echo Q > /proc/sysrq-trigger")
        if len(re.findall(rest, out, re.M)) == 4:
            break
        time.sleep(0.3)
    assert len(re.findall(rest, out, re.M)) == 4, out


def readprofile(sh, cmd="readprofile -m /proc/kallsyms"):
    """{function: samples} and the total from busybox readprofile's listing."""
    out, rc = sh.run(cmd)
    assert rc == 0, out
    counts = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[0].isdigit():
            counts[f[1]] = int(f[0])
    assert "total" in counts, out
    return counts


def test_readprofile_with_profile_boot_argument(sh):
    """/proc/profile (kernel/profile.c) as Linux's: booted with profile=2, each timer interrupt in
    kernel mode counts its pc in 4-byte steps of the text; busybox readprofile reads it against
    /proc/kallsyms (kernel/kallsyms.c, which has Linux's format and _stext); a write resets it.
    Without profile= there is no /proc/profile."""
    out, rc = sh.run("test -e /proc/profile")
    assert rc == 1, "the default boot has no /proc/profile"
    p = Shell("busybox-profile", args="profile=2")
    try:
        out, rc = p.run("readprofile -i; grep -c ' T ' /proc/kallsyms; grep ' T _stext$' /proc/kallsyms")
        assert rc == 0, out
        lines = out.splitlines()
        assert lines[0] == "Sampling_step: 4", out
        assert int(lines[1]) > 500 and re.fullmatch(r"ffffffc0[0-9a-f]{8} T _stext", lines[2]), out
        # 400 MB from /dev/zero: the kernel clears user buffers (__uaccess_clear) for seconds
        p.run("readprofile -r; dd if=/dev/zero of=/dev/null bs=64k count=6000 2>/dev/null")
        busy = readprofile(p)
        assert busy.get("__uaccess_clear", 0) >= 5, busy
        assert busy["total"] >= busy["__uaccess_clear"] + busy.get("sched_idle_loop", 0), busy
        # a reset: far fewer samples right after it than the idle CPUs alone gather over the dd
        out, rc = p.run("readprofile -r; readprofile -m /proc/kallsyms | grep -w total")
        assert rc == 0 and int(out.split()[0]) < busy["total"] // 4, (out, busy)
    finally:
        p.close()


def test_jobs(sh):
    """`sleep 10 &`, `kill %1`, `wait`: the job ends at once (well before its 10 s)."""
    out, rc = sh.run("s=$(date +%s); sleep 10 & sleep 0.5; jobs; kill %1; wait; e=$(date +%s); "
                     "echo elapsed $((e - s))")
    assert re.search(r"^\[1\]\+\s+Running", out, re.M), out
    assert int(re.search(r"elapsed (\d+)", out).group(1)) <= 3, out
    out, rc = sh.run("sh -c 'sleep 10 & s=$(date +%s); kill %1; wait; echo elapsed $(($(date +%s) - s))'")
    assert int(re.search(r"elapsed (\d+)", out).group(1)) <= 3, out


def test_job_control_on_the_console(sh):
    """The login shell runs with job control (the console is its controlling terminal): jobs
    get their own process groups, ^C interrupts the foreground job (status 130) and not the
    shell, and the shell is still there afterwards."""
    out, rc = sh.run("sleep 30 & p=$!; sleep 0.3; cut -d' ' -f5 /proc/$p/stat; echo $p; kill $p; wait")
    pgid, pid = out.split()[-2:]
    assert pgid == pid, out
    sh.q.send("sleep 30\r")
    sh.q.expect(r"sleep 30\n", 10)
    time.sleep(1)
    start = time.monotonic()
    sh.q.send("\x03")
    sh.q.expect(PROMPT, 10)
    assert time.monotonic() - start < 5
    sh.q.send("echo interrupted=$?\r")          # (run() would report its own echo's status)
    sh.q.expect(r"\ninterrupted=130\n", 10)
    sh.q.expect(PROMPT, 10)


def test_stopped_jobs_on_the_console(sh):
    """Stopped jobs as on Linux: ^Z sends SIGTSTP to the foreground job's group and the shell
    reports it Stopped (its /proc stat state is T), `jobs` lists it, `bg` resumes it in the
    background (Running, state S), `fg` brings it back to the foreground, where ^C ends it (130);
    kill -STOP/-CONT stop and resume a background job; a background job that reads the console
    is stopped by SIGTTIN instead of taking the shell's input."""
    sh.q.send("sleep 100\r")
    sh.q.expect(r"sleep 100\n", 10)
    time.sleep(1)
    sh.q.send("\x1a")                           # ^Z
    sh.q.expect(r"\[1\]\+\s+Stopped\s+sleep 100", 10)
    sh.q.expect(PROMPT, 10)
    out, rc = sh.run("jobs; cut -d' ' -f3 /proc/$(pidof sleep)/stat")
    assert re.search(r"^\[1\]\+\s+Stopped\s+sleep 100$", out, re.M), out
    assert out.splitlines()[-1] == "T", out
    out, rc = sh.run("bg; sleep 0.3; jobs; cut -d' ' -f3 /proc/$(pidof sleep)/stat")
    assert re.search(r"^\[1\]\+\s+Running\s+sleep 100$", out, re.M), out
    assert out.splitlines()[-1] in ("S", "R"), out
    out, rc = sh.run("kill -STOP %1; sleep 0.3; jobs; cut -d' ' -f3 /proc/$(pidof sleep)/stat")
    assert re.search(r"^\[1\]\+\s+Stopped", out, re.M) and out.splitlines()[-1] == "T", out
    # (ash waits without WCONTINUED, so its `jobs` still says Stopped, on Linux too: ask /proc)
    out, rc = sh.run("kill -CONT %1; sleep 0.3; cut -d' ' -f3 /proc/$(pidof sleep)/stat")
    assert out in ("S", "R"), out
    sh.q.send("fg\r")
    sh.q.expect(r"\nsleep 100\n", 10)
    time.sleep(1)
    start = time.monotonic()
    sh.q.send("\x03")
    sh.q.expect(PROMPT, 10)
    assert time.monotonic() - start < 5
    sh.q.send("echo interrupted=$?\r")
    sh.q.expect(r"\ninterrupted=130\n", 10)
    sh.q.expect(PROMPT, 10)
    # a background reader stops (SIGTTIN) and leaves the console to the shell
    out, rc = sh.run("cat & sleep 0.5; jobs; cut -d' ' -f3 /proc/$!/stat; kill -9 %1; wait; echo still-here")
    assert re.search(r"^\[1\]\+\s+Stopped.*\s+cat$", out, re.M), out
    assert re.search(r"^T\nstill-here$", out, re.M), out


def test_vi(sh):
    """vi in raw mode on the console: insert, escape, write and quit."""
    sh.q.send("vi /tmp/vi.txt\r")
    time.sleep(2)
    sh.q.send("ihello from vi\x1b")
    time.sleep(0.5)
    sh.q.send(":wq\r")
    out, rc = sh.run("cat /tmp/vi.txt")
    assert out.endswith("hello from vi") and rc == 0, out


@pytest.mark.skipif(not os.path.isfile(os.path.join(CONTEST_DIR, "busybox_cmd.txt")),
                    reason="the contest suite (../shared/oscomp) is not here")
def test_contest_busybox_group(sh):
    """The judge's busybox group: busybox_testcode.sh reads busybox_cmd.txt and runs each line as
    ./busybox LINE, printing "testcase busybox LINE success|fail". The two files are typed into
    the guest. Every line succeeds (false is expected to fail and counts as a success)."""
    with open(os.path.join(CONTEST_DIR, "busybox_cmd.txt")) as f:
        cmds = f.read()
    with open(os.path.join(CONTEST_DIR, "busybox_testcode.sh")) as f:
        script = f.read()
    sh.run("mkdir -p /tmp/contest && cd /tmp/contest && ln -sf /bin/busybox busybox")
    for name, text in (("busybox_cmd.txt", cmds), ("busybox_testcode.sh", script)):
        # a line at a time, each after the previous one's echo: the console has a small input ring
        sh.q.send(f"cat > {name} << 'EMBER_EOF'\r")
        for line in text.splitlines():
            sh.q.expect(r"\n> ", 30)
            sh.q.send(line + "\r")
        sh.q.expect(r"\n> ", 30)
        sh.q.send("EMBER_EOF\r")
        out, rc = sh.run(f"wc -l < {name}")
        assert int(out) == len(text.splitlines()), f"{name} arrived with {out} lines"
    out, rc = sh.run("./busybox sh busybox_testcode.sh 2>/dev/null | grep testcase", timeout=180)
    results = re.findall(r"testcase busybox (.*) (success|fail)$", out, re.M)
    lines = [l for l in cmds.splitlines() if l.strip()]
    assert len(results) == len(lines), out
    failed = [c for c, r in results if r == "fail"]
    assert failed == [], out
    sh.run("cd /tmp")
