/*
 * The file-layer harness shared by the host tests that drive fs/ through its system calls
 * (test_fs.c, test_ext4_vfs.c): a fake RAM under the real page allocator and kmalloc, one fake
 * thread as `current`, "user memory" that is an arena mapped below USER_TOP (the copy_*_user
 * stubs turn anything outside it into -EFAULT), stubs for what fs/ uses outside its own files,
 * and begin()/end() around each case, which check that every page and kmalloc object came back.
 * Nothing may block: the wait-queue stubs panic if asked to sleep.
 *
 * Each including test defines realtime_offset_ns() and proc_pid_init() (its /proc) itself.
 */
#ifndef TESTS_UNIT_FS_HARNESS_H
#define TESTS_UNIT_FS_HARNESS_H

#include <string.h>
#include <sys/mman.h>
#include "tests/unit/unit.h"
#include "fs/internal.h"
#include "fs/cpio.h"
#include "fs/blkdev.h"
#include "kernel/rlimit.h"
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
bool out_of_memory(const char *why) { (void)why; return false; }   /* mm/oom.c: nothing to kill here */
struct mm;
/* mm/uvm.c for mm/rmap.c: no address space maps a file here (i_mmap stays empty) */
void mm_pin(struct mm *mm) { (void)mm; panic("mm_pin without address spaces"); }
void mm_unpin(struct mm *mm) { (void)mm; panic("mm_unpin without address spaces"); }
void mm_zap_file(struct mm *mm, struct inode *ino, uint64_t pgoff) { (void)mm; (void)ino; (void)pgoff; panic("mm_zap_file"); }
/* proc_pid_init: each test defines its own /proc (the process table is not linked in). */
int proc_sys_init(void) { return 0; }
/* tty_job.c needs the process table: the console here has no job control. */
long tty_job_ioctl(unsigned long cmd, unsigned long arg) { (void)cmd; (void)arg; return -ENOTTY; }
bool tty_job_signal(int sig) { (void)sig; return false; }
long tty_job_check(int sig) { (void)sig; return 0; }          /* nobody is in the background */
/* kernel/rlimit.c: no limits here but RLIMIT_NOFILE's default soft one (fds stop at TEST_NOFILE) */
#define TEST_NOFILE 1024
uint64_t rlimit_cur(int resource) { return resource == RLIMIT_NOFILE ? TEST_NOFILE : ~0UL; }
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

#endif
