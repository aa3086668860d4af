"""The root file system on a virtio-blk disk (fs/do_mounts.c), booted as Linux boots one.

The host makes an ext4 image (mkfs.ext4 -d) holding the tree's static busybox and an init
script; the shipping kernel (build/kernel.elf) boots it:
- with neither -initrd nor -append: Ember finds the disk itself, mounts it read-write as /,
  with devtmpfs on /dev and proc on /proc, and runs /sbin/init as pid 1;
- with root=/dev/vda (read-only by default, as Linux) and init=/bin/other -- args;
- with root= and rw;
- with a test program as init (user/tests/mount's file calls: renameat2, the sync family,
  fallocate, sendfile, copy_file_range) on the ext4 root, as under Linux on any file system;
- with a disk that holds no init program, or a root= device that does not exist: a clear message
  and a failing exit, never a panic.
After a read-write boot the host's e2fsck -fn finds the image clean and debugfs reads what init
wrote."""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from qemu import BUILD, KERNEL, Qemu
from test_contest_disk import static_busybox, tool

INIT = """\
#!/bin/busybox sh
B=/bin/busybox
$B echo "init: $0 pid $$ args [$*]"
$B cat /proc/mounts
$B echo "cwd: $($B pwd) up: $(cd /..; $B pwd)"
$B ls -1 / | $B cat
if $B sh -c "$B echo written by init > /written.txt" 2>/dev/null; then $B echo "write: ok"; else $B echo "write: refused"; fi
$B cat /data.txt
$B sync
$B poweroff -f
"""


def make_disk(d, with_init=True, extra_files=()):
    busybox = static_busybox()
    if not busybox:
        pytest.skip("no static riscv64 busybox (build/busybox/busybox or ../shared/anchors/linux-guest/bin)")
    if not shutil.which("mkfs.ext4") and not os.path.exists("/sbin/mkfs.ext4"):
        pytest.skip("mkfs.ext4 (e2fsprogs) is not installed")
    src = os.path.join(d, "src")
    for sub in ("bin", "sbin", "dev", "proc", "tmp"):
        os.makedirs(os.path.join(src, sub))
    shutil.copy(busybox, os.path.join(src, "bin", "busybox"))
    os.chmod(os.path.join(src, "bin", "busybox"), 0o755)
    if with_init:
        for p in ("sbin/init", "bin/other"):
            with open(os.path.join(src, p), "w") as f:
                f.write(INIT)
            os.chmod(os.path.join(src, p), 0o755)
    for path in extra_files:
        shutil.copy(path, os.path.join(src, os.path.basename(path)))
    with open(os.path.join(src, "data.txt"), "w") as f:
        f.write("data on the disk root\n")
    img = os.path.join(d, "root.img")
    subprocess.run([tool("mkfs.ext4"), "-q", "-F", "-d", src, img, "32M"],
                   check=True, capture_output=True, timeout=120)
    return img


def boot(img, append=None, name="root-disk"):
    extra = ["-drive", f"file={img},if=none,format=raw,id=d0",
             "-device", "virtio-blk-device,drive=d0"]
    if append is not None:
        extra += ["-append", append]
    q = Qemu(kernel=KERNEL, name=name, extra=tuple(extra))
    try:
        rc = q.wait_exit(120)
        out = q.log().replace("\r", "")
    finally:
        q.close()
    assert "KERNEL PANIC" not in out, out[-4000:]
    return rc, out


def mounts(out):
    return [l.split() for l in out.splitlines() if re.match(r"^\S+ /\S* \S+ r[ow]", l)]


def check_fsck(img, written):
    fsck = subprocess.run([tool("e2fsck"), "-fn", img], capture_output=True, timeout=120)
    assert fsck.returncode == 0, "e2fsck -fn: " + fsck.stdout.decode() + fsck.stderr.decode()
    cat = subprocess.run([tool("debugfs"), "-R", "cat /written.txt", img], capture_output=True, timeout=60)
    assert (cat.stdout.decode() == "written by init\n") == written, cat.stdout + cat.stderr


def test_disk_found_without_initrd_or_command_line():
    with tempfile.TemporaryDirectory() as d:
        img = make_disk(d)
        rc, out = boot(img, name="root-auto")
        assert rc == 0, out[-4000:]
        assert "init: /sbin/init pid 1 args []" in out, out[-4000:]
        m = mounts(out)
        assert ["/dev/vda", "/", "ext4"] == m[0][:3] and m[0][3].startswith("rw"), m
        assert ["devtmpfs", "/dev", "devtmpfs"] in [x[:3] for x in m], m
        assert ["proc", "/proc", "proc"] in [x[:3] for x in m], m
        assert not any(x[2] == "rootfs" or x[1].startswith("/root") for x in m), \
            "rootfs and what is mounted on it are out of sight: " + str(m)
        assert "cwd: / up: /" in out, out[-4000:]
        assert re.search(r"^bin$", out, re.M) and re.search(r"^lost\+found$", out, re.M) and "data on the disk root" in out, out[-4000:]
        assert "write: ok" in out, out[-4000:]
        check_fsck(img, written=True)


def test_root_is_read_only_by_default_and_init_gets_its_arguments():
    with tempfile.TemporaryDirectory() as d:
        img = make_disk(d)
        rc, out = boot(img, "root=/dev/vda rootfstype=ext4 init=/bin/other -- one two", name="root-ro")
        assert rc == 0, out[-4000:]
        assert "init: /bin/other pid 1 args [one two]" in out, out[-4000:]
        m = mounts(out)
        assert m[0][:3] == ["/dev/vda", "/", "ext4"] and m[0][3].startswith("ro"), m
        assert "write: refused" in out, out[-4000:]
        check_fsck(img, written=False)


def test_root_rw():
    with tempfile.TemporaryDirectory() as d:
        img = make_disk(d)
        rc, out = boot(img, "root=/dev/vda rw", name="root-rw")
        assert rc == 0, out[-4000:]
        assert "init: /sbin/init pid 1" in out and "write: ok" in out, out[-4000:]
        check_fsck(img, written=True)


def test_disk_without_init_is_not_taken():
    with tempfile.TemporaryDirectory() as d:
        img = make_disk(d, with_init=False)
        rc, out = boot(img, name="root-noinit")
        assert rc != 0, out[-4000:]
        assert "/dev/vda holds no init program" in out and "no init" in out, out[-4000:]


def test_root_device_missing_is_an_error():
    with tempfile.TemporaryDirectory() as d:
        img = make_disk(d)
        rc, out = boot(img, "root=/dev/vdq", name="root-missing")
        assert rc != 0, out[-4000:]
        assert "root: cannot mount /dev/vdq" in out, out[-4000:]


def test_file_calls_on_the_ext4_root():
    prog = os.path.join(BUILD, "user", "tests", "mount")
    with tempfile.TemporaryDirectory() as d:
        img = make_disk(d, extra_files=[prog])
        rc, out = boot(img, "root=/dev/vda rw init=/mount -- /", name="root-filecalls")
        assert re.search(r"^\d+ passed, 0 failed$", out, re.M) and rc == 0, out[-4000:]
        assert "PASS fallocate KEEP_SIZE allocates" in out and "PASS write into allocated blocks past EOF" in out, out[-4000:]
        fsck = subprocess.run([tool("e2fsck"), "-fn", img], capture_output=True, timeout=120)
        assert fsck.returncode == 0, "e2fsck -fn: " + fsck.stdout.decode() + fsck.stderr.decode()


def test_readdir_of_a_changing_directory_on_the_ext4_root():
    """user/tests/dirchurn on ext4 (test_user.py runs it on Linux and on Ember's tmpfs): an htree
    directory read a few entries per getdents64 while names come and go; hash-order cookies."""
    prog = os.path.join(BUILD, "user", "tests", "dirchurn")
    with tempfile.TemporaryDirectory() as d:
        img = make_disk(d, extra_files=[prog])
        rc, out = boot(img, "root=/dev/vda rw init=/dirchurn -- /", name="root-dirchurn")
        assert re.search(r"^9 passed, 0 failed$", out, re.M) and rc == 0, out[-4000:]
        fsck = subprocess.run([tool("e2fsck"), "-fn", img], capture_output=True, timeout=120)
        assert fsck.returncode == 0, "e2fsck -fn: " + fsck.stdout.decode() + fsck.stderr.decode()


def test_inode_numbers_coming_back_on_the_ext4_root():
    """user/tests/inoreuse on ext4: a directory made and removed while a file is created and
    unlinked, each getting the number the other freed; the VFS must never hand out the old one."""
    prog = os.path.join(BUILD, "user", "tests", "inoreuse")
    with tempfile.TemporaryDirectory() as d:
        img = make_disk(d, extra_files=[prog])
        rc, out = boot(img, "root=/dev/vda rw init=/inoreuse -- /", name="root-inoreuse")
        assert re.search(r"^3 passed, 0 failed$", out, re.M) and rc == 0, out[-4000:]
        fsck = subprocess.run([tool("e2fsck"), "-fn", img], capture_output=True, timeout=120)
        assert fsck.returncode == 0, "e2fsck -fn: " + fsck.stdout.decode() + fsck.stderr.decode()


def test_truncate_tail_zeros_on_the_ext4_root():
    """user/tests/truncate_tail on ext4: truncate into a block, extend (ftruncate, a write past the
    end, fallocate): zeros past the short size, through read, mmap and after a reopen; then the
    bytes past each file's end on the disk are zeros for e2fsck and debugfs too."""
    prog = os.path.join(BUILD, "user", "tests", "truncate_tail")
    with tempfile.TemporaryDirectory() as d:
        img = make_disk(d, extra_files=[prog])
        rc, out = boot(img, "root=/dev/vda rw init=/truncate_tail -- /", name="root-truncate-tail")
        assert re.search(r"^21 passed, 0 failed$", out, re.M) and rc == 0, out[-4000:]
        fsck = subprocess.run([tool("e2fsck"), "-fn", img], capture_output=True, timeout=120)
        assert fsck.returncode == 0, "e2fsck -fn: " + fsck.stdout.decode() + fsck.stderr.decode()
