"""Stage 4 system tests for the PCI NIC drivers (e1000, RTL8139), each booting QEMU -smp 4.

- QEMU user networking (no privileges): the boot lists the PCI function and the net device with its
  IRQ and hart; `arping eth0 10.0.2.2` gets the reply through the device's interrupt, taken on the
  hart the IRQ is routed to. With virtio-net-device + e1000 + rtl8139 at once, each answers and each
  has its own IRQ on its own hart.
- A tap device in a network namespace the test creates (root only; skipped otherwise): the host
  sends 10,000 frames of mixed sizes (60..1514) and the guest's counters match exactly; the guest
  sends 10,000 (txburst) and the host counts every one on a raw socket; runts and oversized frames
  are accounted for and the kernel stays up. Rates are printed (pytest -s) and appended to
  build/test-logs/nic-rates.txt.
"""
import contextlib
import ctypes
import os
import re
import shutil
import socket
import struct
import subprocess
import time

import pytest

from qemu import OPENSBI, TEST_KERNEL, LOG_DIR
from nics import tap_unavailable

MODELS = {
    "e1000": {"device": "e1000", "pci_id": "8086:100e"},
    "rtl8139": {"device": "rtl8139", "pci_id": "10ec:8139"},
}
GATEWAY = "10.0.2.2"                       # QEMU user networking's gateway
GATEWAY_MAC = "52:55:0a:00:02:02"
ETH_P_EXP = 0x88B5                         # what txburst / rxwait use
NFRAMES = 10000


def netdev_line(log, name):
    m = re.search(rf"^{name}: (\S+) mac ([0-9a-f:]{{17}}) mtu (\d+) irq (\d+) cpu (\d+) features \S+ up link$",
                  log, re.M)
    assert m, f"no netdev line for {name} in:\n{log[-4000:]}"
    return {"driver": m.group(1), "mac": m.group(2), "irq": int(m.group(4)), "cpu": int(m.group(5))}


def irq_row(ember, irq):
    out = ember.command("irqs")
    m = re.search(rf"^\s*{irq}:((?:\s+\d+)+)\s+SiFive PLIC", out, re.M)   # /proc/interrupts' layout
    assert m, f"no row for irq {irq} in:\n{out}"
    return [int(x) for x in m.group(1).split()]


def counters(ember, dev):
    out = ember.command(f"ifconfig {dev}")
    rx = re.search(r"rx packets (\d+) bytes (\d+) dropped (\d+) errors (\d+)", out)
    tx = re.search(r"tx packets (\d+) bytes (\d+) dropped (\d+) errors (\d+) busy (\d+)", out)
    ints = re.search(r"interrupts (\d+) polls (\d+)", out)
    assert rx and tx and ints, out
    keys = ["rx_packets", "rx_bytes", "rx_dropped", "rx_errors", "tx_packets", "tx_bytes", "tx_dropped",
            "tx_errors", "tx_busy", "interrupts", "polls"]
    return dict(zip(keys, [int(x) for x in rx.groups() + tx.groups() + ints.groups()]))


def delta(after, before):
    return {k: after[k] - before[k] for k in after}


def arping_ok(ember, dev):
    """arping the gateway; the reply must come through dev's interrupt on its hart."""
    info = netdev_line(ember.log(), dev)
    before_row = irq_row(ember, info["irq"])
    before = counters(ember, dev)
    out = ember.command(f"arping {dev} {GATEWAY}", timeout=30)
    assert re.search(rf"arp reply from {re.escape(GATEWAY)} is-at {GATEWAY_MAC}", out), out
    d = delta(counters(ember, dev), before)
    assert d["interrupts"] >= 1 and d["rx_packets"] >= 1 and d["tx_packets"] >= 1, d
    after_row = irq_row(ember, info["irq"])
    taken = [a - b for a, b in zip(after_row, before_row)]
    assert taken[info["cpu"]] >= 1, (dev, info, taken)
    assert sum(taken) == taken[info["cpu"]], f"{dev} interrupts on other harts: {taken}"
    return info


def device_arg(model, netdev):
    # PCI NICs: no option ROM (QEMU looks for efi-<nic>.rom, which RISC-V never runs and the
    # Debian qemu-system-misc install need not have)
    return f"{model},netdev={netdev}" + ("" if model.startswith("virtio") else ",romfile=")


def user_nic(model, idx):
    return ["-netdev", f"user,id=n{idx}", "-device", device_arg(model, f"n{idx}")]


@pytest.mark.parametrize("model", sorted(MODELS))
def test_boot_lines_and_arping(boot, model):
    q = boot(extra=user_nic(MODELS[model]["device"], 0))
    log = q.log()
    assert re.search(rf"^pci 00:\d\d\.0 {MODELS[model]['pci_id']} class 020000 irq \d+ bar0 ", log, re.M), log
    info = netdev_line(log, "eth0")
    assert info["driver"] == model
    assert info["mac"] == "52:54:00:12:34:56"
    assert re.search(rf"^eth0: {model}\b.* at 00:\d\d\.0 regs 0x[0-9a-f]+ .*irq {info['irq']}\b", log, re.M), log
    arping_ok(q, "eth0")
    # and again, now that the device is warm: still answered, still by interrupt
    arping_ok(q, "eth0")


def test_three_nic_kinds_each_own_irq_and_hart(boot):
    extra = user_nic("virtio-net-device", 0) + user_nic("e1000", 1) + user_nic("rtl8139", 2)
    q = boot(extra=extra)
    log = q.log()
    infos = {dev: netdev_line(log, dev) for dev in ("eth0", "eth1", "eth2")}
    drivers = sorted(i["driver"] for i in infos.values())
    assert "e1000" in drivers and "rtl8139" in drivers and len(drivers) == 3, infos
    assert len({i["irq"] for i in infos.values()}) == 3, infos
    assert len({i["cpu"] for i in infos.values()}) == 3, infos
    for dev in infos:
        arping_ok(q, dev)


def hmp(path, line, timeout=10):
    """One command on QEMU's human monitor at a unix socket; returns its output."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            s.connect(path)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

    def until_prompt():
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf.decode(errors="replace")

    try:
        until_prompt()
        s.sendall(line.encode() + b"\n")
        return until_prompt()
    finally:
        s.close()


@pytest.mark.parametrize("model", sorted(MODELS))
def test_link_status_change_interrupt(boot, tmp_path, model):
    """Pulling the virtual cable raises the link-change interrupt (e1000 LSC, RTL8139 LinkChg):
    the device loses NETDEV_LINK, gets it back when the cable returns, and still answers."""
    sock = str(tmp_path / "hmp.sock")
    q = boot(extra=user_nic(MODELS[model]["device"], 0) + ["-monitor", f"unix:{sock},server=on,wait=off"])
    netdev_line(q.log(), "eth0")                 # boots with the link up
    hmp(sock, "set_link n0 off")
    q.expect(r"eth0: link down", 10)
    assert re.search(r"^eth0: .* up no-link$", q.command("ifconfig eth0"), re.M)
    hmp(sock, "set_link n0 on")
    q.expect(r"eth0: link up", 10)               # e1000: after QEMU's 500 ms autonegotiation
    assert re.search(r"^eth0: .* up link$", q.command("ifconfig eth0"), re.M)
    arping_ok(q, "eth0")


# ---- tap in a network namespace (root) ----

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33
SO_SNDBUFFORCE = 32


needs_root = pytest.mark.skipif(tap_unavailable() is not None, reason=str(tap_unavailable()))


def sh(*args):
    subprocess.run(args, check=True, timeout=30, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@contextlib.contextmanager
def in_netns(ns):
    """Run the body (in this thread) inside network namespace ns; sockets made there stay there."""
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        yield
    finally:
        if _libc.setns(orig, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(orig)
        os.close(target)


@pytest.fixture
def netns():
    """A fresh namespace with tap0 in it (IPv6 off: no stray frames), deleted afterwards."""
    ns = f"embernic{os.getpid()}"
    subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL, timeout=30)
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        sh("ip", "netns", "exec", ns, "ip", "tuntap", "add", "dev", "tap0", "mode", "tap")
        # a long queue and a jumbo MTU: the host may send ahead of the guest, and oversized frames
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "tap0", "txqueuelen", "20000", "mtu", "9000", "up")
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], timeout=30)


def tap_stat(ns, name):
    out = subprocess.run(["ip", "netns", "exec", ns, "cat", f"/sys/class/net/tap0/statistics/{name}"],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    return int(out)


def boot_on_tap(boot, ns, model):
    cmd = ["ip", "netns", "exec", ns, "qemu-system-riscv64", "-machine", "virt", "-smp", "4", "-m", "512M",
           "-bios", OPENSBI, "-kernel", TEST_KERNEL, "-display", "none", "-serial", "stdio",
           "-monitor", "none", "-no-reboot", "-append", "ip=off",    # no DHCP: the frame counts are exact
           "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no", "-device", device_arg(model, "n0")]
    return boot(cmd=cmd)


def raw_socket(ns, proto=ETH_P_EXP, rcvbuf=0):
    with in_netns(ns):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
        s.bind(("tap0", proto))
    return s


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


HOST_MAC = bytes([0x02, 0x00, 0x00, 0x00, 0x00, 0x01])


PATTERN = bytes(range(256)) * 8


def frame(dst, size, seq, ethertype=ETH_P_EXP):
    """dst, our MAC, ethertype, a 32-bit sequence number, then a pattern; cut to size (runts too)."""
    hdr = dst + HOST_MAC + struct.pack("!HI", ethertype, seq)
    if size <= len(hdr):
        return hdr[:size]
    n = size - len(hdr)
    body = b""
    while len(body) < n:
        body += PATTERN[seq % 256:]
    return hdr + body[:n]


def mixed_sizes(n):
    """n sizes spread over 60..1514, deterministic (both ends included)."""
    return [60 + (i * 7919) % 1455 for i in range(n)]


def record_rate(line):
    print(line)
    os.makedirs(LOG_DIR, exist_ok=True)
    with open(os.path.join(LOG_DIR, "nic-rates.txt"), "a") as f:
        f.write(time.strftime("%Y-%m-%d %H:%M:%S ") + line + "\n")


@needs_root
@pytest.mark.parametrize("model", sorted(MODELS))
def test_tap_10000_frames_each_way_exact(boot, netns, model):
    q = boot_on_tap(boot, netns, model)
    guest = mac_bytes(netdev_line(q.log(), "eth0")["mac"])
    tx = raw_socket(netns)
    tx_dropped0 = tap_stat(netns, "tx_dropped")

    # host -> guest
    sizes = mixed_sizes(NFRAMES)
    frames = [frame(guest, size, i) for i, size in enumerate(sizes)]
    before = counters(q, "eth0")
    q.send(f"rxwait eth0 {NFRAMES} 120000\r")
    q.expect(rf"rxwait eth0: waiting for {NFRAMES} frames", 30)
    t0 = time.monotonic()
    for f in frames:
        tx.send(f)
    host_send_s = time.monotonic() - t0
    m = q.expect(r"rxwait eth0: (\w+) (\d+) frames (\d+) bytes in \S+ s: (\d+) frames/s ([\d.]+) Mbit/s", 150)
    q.expect(r"rxwait eth0: interrupts (\d+) polls (\d+)")
    q.expect("ember> ", 30)
    assert m.group(1) == "done" and int(m.group(2)) == NFRAMES, m.group(0)
    d = delta(counters(q, "eth0"), before)
    assert tap_stat(netns, "tx_dropped") == tx_dropped0, "the host dropped frames before QEMU read them"
    assert d["rx_packets"] == NFRAMES, d
    assert d["rx_bytes"] == sum(sizes), d
    assert d["rx_errors"] == 0 and d["rx_dropped"] == 0, d
    assert d["interrupts"] < NFRAMES, d            # polling mode: far fewer interrupts than frames
    types = q.command("rxtypes eth0")
    assert re.search(rf"type 0x88b5 frames {NFRAMES} bytes {sum(sizes)}\b", types), types
    record_rate(f"{model} host->guest: {m.group(2)} frames {m.group(4)} frames/s {m.group(5)} Mbit/s "
                f"(interrupts {d['interrupts']}, polls {d['polls']}, host send {host_send_s:.2f} s)")

    # guest -> host: a socket opened now sees only what follows (frames queue in its big buffer)
    rx = raw_socket(netns, rcvbuf=256 << 20)
    before = counters(q, "eth0")
    out = q.command(f"txburst eth0 {NFRAMES}", timeout=180)
    m = re.search(r"txburst eth0: (\d+) frames (\d+) bytes in \S+ s: (\d+) frames/s ([\d.]+) Mbit/s", out)
    assert m and int(m.group(1)) == NFRAMES, out
    d = delta(counters(q, "eth0"), before)
    assert d["tx_packets"] == NFRAMES and d["tx_dropped"] == 0 and d["tx_errors"] == 0, d
    seen = {}
    rx.settimeout(5)
    while len(seen) < NFRAMES:
        try:
            data = rx.recv(65536)
        except socket.timeout:
            break
        if data[6:12] != guest or len(data) < 18:
            continue
        seq = struct.unpack("!I", data[14:18])[0]
        seen[seq] = seen.get(seq, 0) + 1
        expect_len = 60 + seq % (1514 - 60 + 1)        # txburst cycles 60..1514
        assert len(data) == expect_len, (seq, len(data))
    stats = rx.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    packets, drops = struct.unpack("II", stats)
    assert drops == 0, f"host socket dropped {drops}"
    assert sorted(seen) == list(range(NFRAMES)), f"host got {len(seen)} distinct of {NFRAMES}"
    assert all(c == 1 for c in seen.values())
    record_rate(f"{model} guest->host: {m.group(1)} frames {m.group(3)} frames/s {m.group(4)} Mbit/s")
    tx.close()
    rx.close()


@needs_root
@pytest.mark.parametrize("model", sorted(MODELS))
def test_tap_runts_and_oversized_are_accounted(boot, netns, model):
    """Runts (14..59 bytes) and oversized frames (1515..4000) from the host: QEMU's NIC models pad
    runts to 60 bytes (so they arrive as minimum-size frames); oversized ones are counted in
    rx_errors, whether the driver drops them or the chip does (e1000 counts those in ROC). Good frames
    after them still arrive, and the kernel stays up."""
    q = boot_on_tap(boot, netns, model)
    guest = mac_bytes(netdev_line(q.log(), "eth0")["mac"])
    tx = raw_socket(netns)
    runts = [frame(guest, size, i) for i, size in enumerate(range(14, 60))]
    big = [frame(guest, size, 1000 + i) for i, size in enumerate(list(range(1515, 1531)) + [2000, 3000, 4000])]
    good = [frame(guest, size, 2000 + i) for i, size in enumerate(mixed_sizes(100))]
    before = counters(q, "eth0")
    q.send(f"rxwait eth0 {len(runts) + len(good)} 60000\r")
    q.expect(r"rxwait eth0: waiting for", 30)
    for f in runts + big + good:
        tx.send(f)
    q.expect(r"rxwait eth0: done", 90)
    q.expect("ember> ", 30)
    d = delta(counters(q, "eth0"), before)
    assert d["rx_packets"] == len(runts) + len(good), d
    assert d["rx_errors"] == len(big), d
    # still alive and well: the monitor answers and the harts are all there
    assert "4 cpus online" in q.command("cpus")
    types = q.command("rxtypes eth0")
    assert re.search(r"type 0x88b5 frames %d\b" % (len(runts) + len(good)), types), types
    tx.close()
