// unit-sources: fs/tmpfs.c fs/tmpfs_data.c fs/inode.c fs/super.c fs/mount.c fs/blkdev.c fs/sync.c fs/copy.c fs/namei.c fs/file.c lib/sleeplock.c fs/sys_file.c fs/open_path.c fs/sys_path.c fs/pipe.c fs/dev.c fs/dev_mem.c fs/dev_rtc.c fs/sys_utime.c fs/procfs.c fs/fs_init.c fs/initramfs.c fs/cpio.c mm/page.c mm/kmalloc.c fs/ext4/ext4_vfs.c fs/ext4/journal.c fs/ext4/hash.c fs/ext4/super.c fs/ext4/csum.c fs/ext4/alloc.c fs/ext4/inode.c fs/ext4/extents.c fs/ext4/dir.c fs/ext4/namei.c fs/ext4/orphan.c lib/crc32c.c
/*
 * ext4 under the VFS (fs/ext4/ext4_vfs.c), on the host: an image made by the host's mkfs.ext4 -d
 * sits behind a block device node (fs/blkdev.h) and is mounted with mount(2) like any file
 * system; reads, getdents, getcwd, symlinks, statfs, /proc/mounts, then writes of every kind
 * through the system calls; after umount the host's e2fsck must find the image clean and
 * debugfs must read back what was written. The same harness as test_fs.c: every case gives back
 * every page and kmalloc object (the ext4 library itself uses the C library's malloc here).
 *
 * MERGE NOTE: this file needs fs/ext4/ from the ext4 branch; it lives in tests/unit/ext4/ so
 * that tests/unit/run.sh (tests/unit/test_*.c) skips it until then: move it to
 * tests/unit/test_ext4_vfs.c at merge time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int open(const char *path, int flags, ...);          /* <fcntl.h> would clash with fs/abi.h */
void *memmem(const void *hay, size_t n, const void *needle, size_t m);   /* _GNU_SOURCE too */

#include <string.h>
#include <sys/mman.h>
#include "tests/unit/unit.h"
#include "fs/internal.h"
#include "fs/vfs_disk.h"
#include "kernel/systime.h"
#include "fs/cpio.h"
#include "fs/blkdev.h"
#include "fs/tmpfs.h"
#include "kernel/errno.h"
#include "mm/kmalloc.h"
#include "kernel/printk.h"
#include "mm/page.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "kernel/timer.h"
#include "mm/uaccess.h"

#define RAM_SIZE  (128UL << 20)
#define RAM_ALIGN (4UL << 20)
#define ARENA_ADDR 0x40000000UL              /* below USER_TOP (and in ASan's low memory) */
#define ARENA_SIZE (64UL << 20)
#define BAD ((uintptr_t)ARENA_ADDR + ARENA_SIZE + 4096)   /* unmapped "user" address */

/* ---- stubs for what fs/ uses outside its own files ---- */

static uint64_t fake_ns = 1000000000ULL;
uint64_t time_ns(void) { return fake_ns += 1000; }

void waitq_init(struct waitq *wq, const char *name) { spin_init(&wq->lock, name); list_init(&wq->head); }
void prepare_to_wait(struct waitq *wq, struct wait_entry *e) { (void)wq; e->queued = false; }
void finish_wait(struct waitq *wq, struct wait_entry *e) { (void)wq; (void)e; }
int wake_up(struct waitq *wq, int nr) { (void)wq; (void)nr; return 0; }
bool waitq_active(struct waitq *wq) { (void)wq; return false; }
void wait_schedule(uint64_t deadline) { (void)deadline; panic("a test would have slept"); }

static int raised_sig;
bool signal_pending(void) { return false; }
void signal_raise(int sig) { raised_sig = sig; }
static const char *exe_path = "/bin/prog";
const char *current_exe(void) { return exe_path; }
void get_random_bytes(void *buf, size_t n) { memset(buf, 0x5a, n); }
/* proc_pid.c and proc_sys.c need the process table: /proc holds just /proc/self/mounts here */
int proc_pid_init(void) { return proc_create("/proc/self/mounts", mounts_show); }
int proc_sys_init(void) { return 0; }
/* tty_job.c needs the process table: the console here has no job control. */
long tty_job_ioctl(unsigned long cmd, unsigned long arg) { (void)cmd; (void)arg; return -ENOTTY; }
bool tty_job_signal(int sig) { (void)sig; return false; }
void console_set_intr_hook(bool (*hook)(char c)) { (void)hook; }

static char console_out[4096];
static size_t console_len;
static const char *console_in;
void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n && console_len + 1 < sizeof(console_out); i++)
		console_out[console_len++] = s[i];
	console_out[console_len] = '\0';
}
int console_getc(void) { return console_in && *console_in ? (uint8_t)*console_in++ : 4; /* ^D */ }
bool console_input_any(bool (*match)(int c, void *arg), void *arg)
{
	for (const char *p = console_in; p && *p; p++)
		if (!match || match((uint8_t)*p, arg))
			return true;
	return false;
}
static struct waitq console_wq;
struct waitq *console_waitq(void) { return &console_wq; }
void eventpoll_release(struct file *f) { (void)f; }      /* no epoll here: lists stay empty */

static bool in_arena(uintptr_t a, size_t n) { return a >= ARENA_ADDR && n <= ARENA_SIZE && a - ARENA_ADDR <= ARENA_SIZE - n; }
int copy_from_user(void *dst, uintptr_t src, size_t n)
{
	if (!in_arena(src, n))
		return -EFAULT;
	memcpy(dst, (void *)src, n);
	return 0;
}
int copy_to_user(uintptr_t dst, const void *src, size_t n)
{
	if (!in_arena(dst, n))
		return -EFAULT;
	memcpy((void *)dst, src, n);
	return 0;
}
int clear_user(uintptr_t dst, size_t n)
{
	if (!in_arena(dst, n))
		return -EFAULT;
	memset((void *)dst, 0, n);
	return 0;
}
long strncpy_from_user(char *dst, uintptr_t src, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		if (!in_arena(src + i, 1))
			return -EFAULT;
		if ((dst[i] = ((char *)src)[i]) == '\0')
			return i;
	}
	return -ENAMETOOLONG;
}

/* ---- set-up: RAM, the file system and a thread, once; per-case leak accounting ---- */

static struct thread me;
static size_t ubrk;
static uint64_t base_used, base_live;

static uint64_t pages_used(void)
{
	struct page_stats st;
	kmalloc_shrink();
	page_get_stats(&st);
	return st.used;
}

static uint64_t kmalloc_live(void)
{
	struct kmalloc_stats ks;
	kmalloc_get_stats(&ks);
	return ks.allocs - ks.frees;
}

static void begin(void)
{
	static bool booted;
	if (!booted) {
		char *ram = aligned_alloc(RAM_ALIGN, RAM_SIZE);
		paddr_t pa = (paddr_t)(uintptr_t)ram, free_pa = pa;
		page_setup(pa, pa + RAM_SIZE, &free_pa);
		page_free_range(free_pa, pa + RAM_SIZE);
		void *arena = mmap((void *)ARENA_ADDR, ARENA_SIZE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (arena != (void *)ARENA_ADDR) {
			printf("cannot map the user arena\n");
			exit(2);
		}
		fs_init();
		booted = true;
	}
	cpus[0].cur = &me;
	ubrk = 0;
	raised_sig = 0;
	base_used = pages_used();
	base_live = kmalloc_live();
	me.files = files_new();
	me.fs = fs_ctx_new();
}

static void end(void)
{
	files_put(me.files);
	fs_ctx_put(me.fs);
	me.files = NULL;
	me.fs = NULL;
	CHECK_EQ(kmalloc_live(), base_live);
	CHECK_EQ(pages_used(), base_used);
}

/* "user" memory */
static uintptr_t ubuf(size_t n)
{
	uintptr_t p = ARENA_ADDR + ubrk;
	ubrk = ALIGN_UP(ubrk + n, 16);
	if (ubrk > ARENA_SIZE) {
		printf("arena exhausted\n");
		exit(2);
	}
	return p;
}
static uintptr_t ustr(const char *s) { uintptr_t p = ubuf(strlen(s) + 1); strcpy((char *)p, s); return p; }

static long op(const char *path, int flags, unsigned mode) { return sys_openat(AT_FDCWD, ustr(path), flags, mode); }
static long wr(int fd, const char *s) { return sys_write(fd, ustr(s), strlen(s)); }
static long rd(int fd, char *out, size_t n)
{
	uintptr_t b = ubuf(n + 1);
	long r = sys_read(fd, b, n);
	if (r >= 0) {
		memcpy(out, (void *)b, r);
		out[r] = '\0';
	}
	return r;
}
static long stp(const char *path, struct linux_stat *st, int flags)
{
	uintptr_t b = ubuf(sizeof(*st));
	long r = sys_newfstatat(AT_FDCWD, ustr(path), b, flags);
	memcpy(st, (void *)b, sizeof(*st));
	return r;
}
static long mkd(const char *path) { return sys_mkdirat(AT_FDCWD, ustr(path), 0755); }
static long unl(const char *path, int flags) { return sys_unlinkat(AT_FDCWD, ustr(path), flags); }
static long ren(const char *a, const char *b, unsigned flags)
{
	return sys_renameat2(AT_FDCWD, ustr(a), AT_FDCWD, ustr(b), flags);
}
static long sym(const char *target, const char *path) { return sys_symlinkat(ustr(target), AT_FDCWD, ustr(path)); }
static bool exists(const char *path) { struct linux_stat st; return stp(path, &st, AT_SYMLINK_NOFOLLOW) == 0; }


uint64_t realtime_offset_ns(void) { return 1700000000ULL * 1000000000ULL; }

/* ---- the image behind /dev/img0 ---- */

static char img_path[64], img_dir[48];
static int img_fd = -1;
#define IMG_BS 4096
#define IMG_BLOCKS 8192                          /* 32 MiB */

static int img_read(void *priv, uint64_t blk, uint32_t n, void *buf)
{
	(void)priv;
	return pread(img_fd, buf, (size_t)n * IMG_BS, (off_t)blk * IMG_BS) == (ssize_t)n * IMG_BS ? 0 : -EIO;
}
static int img_write(void *priv, uint64_t blk, uint32_t n, const void *buf)
{
	(void)priv;
	return pwrite(img_fd, buf, (size_t)n * IMG_BS, (off_t)blk * IMG_BS) == (ssize_t)n * IMG_BS ? 0 : -EIO;
}
static int img_flush(void *priv) { (void)priv; return fsync(img_fd) == 0 ? 0 : -EIO; }
static const struct blkdev_ops img_ops = { .read_blocks = img_read, .write_blocks = img_write, .flush = img_flush };

static int sh(const char *fmt, const char *arg)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg);
	return system(cmd);
}

static void make_image(void)
{
	strcpy(img_dir, "/tmp/ember-e4v-XXXXXX");
	if (!mkdtemp(img_dir))
		exit(2);
	snprintf(img_path, sizeof(img_path), "%s/img", img_dir);
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/tree/sub/deeper && printf 'hello ext4\\n' > %s/tree/hello && "
		 "ln -s sub/deeper %s/tree/link && head -c 70000 /dev/urandom > %s/tree/sub/blob && "
		 "mkfs.ext4 -q -F -b 4096 -d %s/tree %s 32M",
		 img_dir, img_dir, img_dir, img_dir, img_dir, img_path);
	if (system(cmd) != 0) {
		printf("mkfs.ext4 failed\n");
		exit(2);
	}
	img_fd = open(img_path, O_RDWR);
}

static long mnt_(const char *src, const char *target, const char *type, unsigned long flags)
{
	return sys_mount(src ? ustr(src) : 0, ustr(target), type ? ustr(type) : 0, flags, 0);
}

static bool listed(int dfd, const char *name)
{
	uintptr_t b = ubuf(4096);
	sys_lseek(dfd, 0, SEEK_SET);
	long n = sys_getdents64(dfd, b, 4096);
	for (long at = 0; at < n;) {
		struct linux_dirent64 *de = (struct linux_dirent64 *)(b + at);
		if (strcmp(de->d_name, name) == 0)
			return true;
		at += de->d_reclen;
	}
	return false;
}

TEST(ext4_read_through_the_vfs)
{
	int err;
	struct blkdev_geom geom = { .block_size = IMG_BS, .block_count = IMG_BLOCKS, .major = 254, .minor = 0 };
	make_image();
	begin();                                     /* boots the fs layer on the first call */
	end();
	CHECK(blkdev_register_node("img0", &img_ops, NULL, &geom, &err) != NULL);   /* lives on */
	CHECK(find_filesystem("ext4") != NULL);          /* fs_init registered it */
	begin();
	CHECK_EQ(mkd("/tmp/e"), 0);
	CHECK_EQ(mnt_("/dev/img0", "/tmp/e", "ext4", 0), 0);
	char buf[4096];
	int f = op("/tmp/e/hello", O_RDONLY, 0);
	CHECK_EQ(rd(f, buf, 100), 11);
	CHECK(strcmp(buf, "hello ext4\n") == 0);
	sys_close(f);
	struct linux_stat st;
	CHECK_EQ(stp("/tmp/e/sub/blob", &st, 0), 0);
	CHECK_EQ(st.st_size, 70000);
	CHECK_EQ(st.st_dev, linux_dev(254, 0));
	CHECK_EQ(stp("/tmp/e/link", &st, 0), 0);                    /* followed: a directory */
	CHECK((st.st_mode & S_IFMT) == S_IFDIR);
	uintptr_t lb = ubuf(64);
	CHECK_EQ(sys_readlinkat(AT_FDCWD, ustr("/tmp/e/link"), lb, 64), 10);
	CHECK(memcmp((void *)lb, "sub/deeper", 10) == 0);
	int d = op("/tmp/e", O_RDONLY | O_DIRECTORY, 0);
	CHECK(listed(d, "hello") && listed(d, "sub") && listed(d, "lost+found") && listed(d, ".."));
	sys_close(d);
	CHECK_EQ(sys_chdir(ustr("/tmp/e/link")), 0);
	char *cwd = (char *)ubuf(64);
	CHECK_EQ(sys_getcwd((uintptr_t)cwd, 64), 18);
	CHECK(strcmp(cwd, "/tmp/e/sub/deeper") == 0);
	CHECK_EQ(sys_chdir(ustr("../../..")), 0);                   /* out through the mount root */
	CHECK_EQ(sys_getcwd((uintptr_t)cwd, 64), 5);
	CHECK(strcmp(cwd, "/tmp") == 0);
	uintptr_t sfb = ubuf(sizeof(struct linux_statfs));
	CHECK_EQ(sys_statfs(ustr("/tmp/e"), sfb), 0);
	struct linux_statfs *sf = (struct linux_statfs *)sfb;
	CHECK_EQ(sf->f_type, 0xEF53);
	CHECK_EQ(sf->f_bsize, IMG_BS);
	CHECK(sf->f_blocks > 0 && sf->f_bfree < sf->f_blocks && sf->f_bavail <= sf->f_bfree);
	f = op("/proc/mounts", O_RDONLY, 0);
	CHECK(rd(f, buf, sizeof(buf) - 1) > 0);
	sys_close(f);
	CHECK(strstr(buf, "/dev/img0 /tmp/e ext4 rw,relatime 0 0\n") != NULL);
	CHECK_EQ(sys_umount2(ustr("/tmp/e"), 0), 0);
	CHECK_EQ(unl("/tmp/e", AT_REMOVEDIR), 0);
	end();
}

TEST(ext4_writes_checked_by_e2fsck)
{
	begin();
	CHECK_EQ(mkd("/tmp/e"), 0);
	CHECK_EQ(mnt_("/dev/img0", "/tmp/e", "ext4", 0), 0);
	static char pattern[100000];
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)(i * 31 + i / 4096);
	uintptr_t u = ubuf(sizeof(pattern));
	memcpy((void *)u, pattern, sizeof(pattern));
	int f = op("/tmp/e/new", O_CREAT | O_RDWR, 0640);
	CHECK(f >= 0);
	CHECK_EQ(sys_write(f, u, sizeof(pattern)), sizeof(pattern));
	uintptr_t back = ubuf(sizeof(pattern));
	CHECK_EQ(sys_pread64(f, back, sizeof(pattern), 0), sizeof(pattern));
	CHECK(memcmp((void *)back, pattern, sizeof(pattern)) == 0);
	CHECK_EQ(sys_fsync(f), 0);
	struct linux_stat st;
	CHECK_EQ(sys_fstat(f, ubuf(sizeof(st))), 0);
	sys_close(f);
	CHECK_EQ(stp("/tmp/e/new", &st, 0), 0);
	CHECK_EQ(st.st_size, sizeof(pattern));
	CHECK_EQ(st.st_mode, S_IFREG | 0640);
	CHECK_EQ(mkd("/tmp/e/d"), 0);
	CHECK_EQ(mkd("/tmp/e/d"), -EEXIST);
	CHECK_EQ(ren("/tmp/e/new", "/tmp/e/d/moved", 0), 0);
	CHECK_EQ(sys_linkat(AT_FDCWD, ustr("/tmp/e/d/moved"), AT_FDCWD, ustr("/tmp/e/hard"), 0), 0);
	CHECK_EQ(stp("/tmp/e/hard", &st, 0), 0);
	CHECK_EQ(st.st_nlink, 2);
	CHECK_EQ(sym("d/moved", "/tmp/e/sym"), 0);
	f = op("/tmp/e/sym", O_RDONLY, 0);
	CHECK_EQ(sys_read(f, back, 10), 10);
	CHECK(memcmp((void *)back, pattern, 10) == 0);
	sys_close(f);
	f = op("/tmp/e/hello", O_WRONLY | O_APPEND, 0);
	CHECK_EQ(wr(f, "more\n"), 5);
	sys_close(f);
	CHECK_EQ(sys_truncate(ustr("/tmp/e/sub/blob"), 5000), 0);
	CHECK_EQ(unl("/tmp/e/sub/deeper", AT_REMOVEDIR), 0);
	CHECK_EQ(unl("/tmp/e/sub", AT_REMOVEDIR), -ENOTEMPTY);
	CHECK_EQ(mkd("/tmp/e/x"), 0);
	CHECK_EQ(ren("/tmp/e/x", "/tmp/e/d", RENAME_NOREPLACE), -EEXIST);
	CHECK_EQ(ren("/tmp/e/x", "/tmp/e/d", RENAME_EXCHANGE), 0);
	CHECK(exists("/tmp/e/x/moved"));
	CHECK_EQ(mkd("/tmp/e/x/in"), 0);
	CHECK_EQ(ren("/tmp/e/x", "/tmp/e/x/in/x", 0), -EINVAL);      /* into itself */
	CHECK_EQ(unl("/tmp/e/x/in", AT_REMOVEDIR), 0);
	CHECK_EQ(sys_fchmodat(AT_FDCWD, ustr("/tmp/e/hello"), 0600), 0);
	/* unlinked and replaced while open: the data lives until the last close */
	f = op("/tmp/e/doomed", O_CREAT | O_RDWR, 0644);
	CHECK_EQ(wr(f, "still readable"), 14);
	CHECK_EQ(unl("/tmp/e/doomed", 0), 0);
	CHECK(!exists("/tmp/e/doomed"));
	char got2[32];
	CHECK_EQ(sys_pread64(f, ubuf(32), 32, 0), 14);
	CHECK_EQ(sys_lseek(f, 0, SEEK_SET), 0);
	CHECK_EQ(rd(f, got2, 31), 14);
	CHECK(strcmp(got2, "still readable") == 0);
	uintptr_t fst = ubuf(sizeof(struct linux_stat));
	CHECK_EQ(sys_fstat(f, fst), 0);
	CHECK_EQ(((struct linux_stat *)fst)->st_nlink, 0);
	int d = op("/tmp/e", O_RDONLY | O_DIRECTORY, 0);
	uintptr_t db = ubuf(8192);
	long dn = sys_getdents64(d, db, 8192);
	CHECK(dn > 0 && !memmem((void *)db, dn, "doomed", 6));
	sys_close(d);
	int g = op("/tmp/e/victim", O_CREAT | O_RDWR, 0644);
	CHECK_EQ(wr(g, "old data"), 8);
	int h = op("/tmp/e/newer", O_CREAT | O_RDWR, 0644);
	CHECK_EQ(wr(h, "new"), 3);
	sys_close(h);
	CHECK_EQ(ren("/tmp/e/newer", "/tmp/e/victim", 0), 0);
	CHECK_EQ(sys_pread64(g, (uintptr_t)ubuf(16), 16, 0), 8);
	sys_close(g);
	sys_close(f);
	f = op("/tmp/e/victim", O_RDONLY, 0);
	CHECK_EQ(rd(f, got2, 31), 3);
	sys_close(f);
	/* a removed cwd: ENOENT inside it, and the file system stays writable */
	CHECK_EQ(mkd("/tmp/e/cwd"), 0);
	CHECK_EQ(sys_chdir(ustr("/tmp/e/cwd")), 0);
	CHECK_EQ(unl("/tmp/e/cwd", AT_REMOVEDIR), 0);
	CHECK_EQ(op("x", O_CREAT | O_RDWR, 0644), -ENOENT);
	CHECK_EQ(sys_newfstatat(AT_FDCWD, ustr("y"), ubuf(256), 0), -ENOENT);
	CHECK_EQ(sys_chdir(ustr("/tmp")), 0);
	CHECK_EQ(mkd("/tmp/e/after"), 0);
	CHECK_EQ(sys_umount2(ustr("/tmp/e"), 0), 0);
	CHECK_EQ(sh("debugfs -R 'ls -l /' %s 2>/dev/null | grep -q doomed", img_path) != 0, 1);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img_path), 0);      /* orphans released */
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img_path), 0);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "debugfs -R 'cat /x/moved' %s 2>/dev/null > %s/moved", img_path, img_dir);
	CHECK_EQ(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/moved", img_dir);
	FILE *fp = fopen(cmd, "rb");
	static char got[sizeof(pattern) + 1];
	CHECK(fp && fread(got, 1, sizeof(got), fp) == sizeof(pattern) && memcmp(got, pattern, sizeof(pattern)) == 0);
	if (fp)
		fclose(fp);
	snprintf(cmd, sizeof(cmd), "debugfs -R 'cat /hello' %s 2>/dev/null | grep -q '^more$'", img_path);
	CHECK_EQ(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "debugfs -R 'stat /hello' %s 2>/dev/null | grep -q 'Mode:  0600'", img_path);
	CHECK_EQ(system(cmd), 0);
	/* read-only mounts refuse writes */
	CHECK_EQ(mnt_("/dev/img0", "/tmp/e", "ext4", MS_RDONLY), 0);
	CHECK_EQ(op("/tmp/e/other", O_CREAT | O_RDWR, 0644), -EROFS);
	CHECK_EQ(mnt_(NULL, "/tmp/e", NULL, MS_REMOUNT), 0);
	f = op("/tmp/e/other", O_CREAT | O_RDWR, 0644);
	CHECK(f >= 0);
	sys_close(f);
	CHECK_EQ(sys_umount2(ustr("/tmp/e"), 0), 0);
	CHECK_EQ(sh("e2fsck -fn %s >/dev/null 2>&1", img_path), 0);
	CHECK_EQ(unl("/tmp/e", AT_REMOVEDIR), 0);
	end();
	close(img_fd);
	sh("rm -rf %s", img_dir);
}

UNIT_TESTS(CASE(ext4_read_through_the_vfs), CASE(ext4_writes_checked_by_e2fsck))
