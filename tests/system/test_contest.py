"""kernel-rv, the OS contest's submission (`make all`): booted with the judge's exact QEMU line
(../shared/oscomp/README.md: `-bios default`, no -initrd, no -append), it runs its built-in
initramfs's /init, the contest runner (user/contest/runner.c)."""
import os

from qemu import ROOT, Qemu

KERNEL_RV = os.path.join(ROOT, "kernel-rv")


def judge_cmd(kernel, smp=1, mem="1G", disk=None):
    """The judge's run_qemu.py line (a disk only when one is given)."""
    cmd = ["qemu-system-riscv64", "-machine", "virt", "-kernel", kernel, "-m", mem, "-nographic",
           "-smp", str(smp), "-bios", "default"]
    if disk:
        cmd += ["-drive", f"file={disk},if=none,format=raw,id=x0",
                "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0"]
    return cmd + ["-no-reboot", "-device", "virtio-net-device,netdev=net", "-netdev", "user,id=net",
                  "-rtc", "base=utc"]


def test_kernel_rv_runs_its_builtin_runner_and_powers_off():
    """Without a disk the runner says it cannot mount one and the machine powers off."""
    assert os.path.exists(KERNEL_RV), "make all builds kernel-rv at the top of the tree"
    q = Qemu(name="contest-no-disk", cmd=judge_cmd(KERNEL_RV))
    try:
        q.expect(r"starting /init", 60)
        q.expect(r"runner: cannot mount /dev/vda on /mnt", 60)
        q.wait_exit(30)
        assert "KERNEL PANIC" not in q.log()
    finally:
        q.close()
