"""Truncation of mapped files on ext4 (issue 12, mm/rmap.c): user/tests/mmap_truncate (which
test_user.py runs under Linux and on Ember's tmpfs) runs as init on an ext4 root, in a directory on
the disk, with "leave": it then shrinks a file written through a shared mapping while still mapped,
stores past the new EOF in the last page, syncs and exits, and Ember powers off. The host's
e2fsck -fn finds the image clean and debugfs reads exactly the kept bytes (the store past EOF and
the dropped pages never reach the disk)."""
import tempfile

from test_mmap_shared_ext4 import debugfs_cat, run_on_ext4_root

PG = 4096
KEPT = PG + 50


def test_truncate_of_mapped_files_on_the_ext4_root():
    with tempfile.TemporaryDirectory() as d:
        img, out = run_on_ext4_root(d, "mmap_truncate", "/ leave", 40, "root-mmap-truncate")
        assert "leave: mmap_truncated.bin in /" in out, out[-4000:]
        want = bytearray((i * 7 + 3) & 0xff for i in range(KEPT))
        want[100:104] = b"kept"
        got = debugfs_cat(img, "/mmap_truncated.bin")
        assert got == bytes(want), (len(got), got[96:108])


def test_open_racing_the_last_close_reads_mapped_stores_on_ext4():
    """user/tests/mmap_evict_race on the ext4 root: a child's stores through a shared mapping
    (made read-only, then unmapped) must be read by an open racing its last close."""
    with tempfile.TemporaryDirectory() as d:
        run_on_ext4_root(d, "mmap_evict_race", "/", 3, "root-mmap-evict-race")
