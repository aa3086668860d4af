/*
 * System V shared memory: shmget/shmat/shmdt/shmctl semantics and errors, shmid_ds fields,
 * SHM_RDONLY faults, attachments inherited by fork and dropped by exit, IPC_RMID while attached,
 * and a robust pthread mutex in a segment whose owner process dies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

#define SEG_SIZE 10000

static sigjmp_buf jb;
static volatile int segv;
static void on_segv(int s) { (void)s; segv = 1; siglongjmp(jb, 1); }

static int robust_supported(void)
{
	void *head;
	size_t len;
	return syscall(SYS_get_robust_list, 0, &head, &len) == 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	key_t key = (key_t)(0x45000000 | (getpid() & 0xffff));
	int id = shmget(key, SEG_SIZE, IPC_CREAT | IPC_EXCL | 0600);
	CHECK("shmget_create", id >= 0, "errno=%d", errno);
	errno = 0;
	CHECK("shmget_excl_eexist", shmget(key, SEG_SIZE, IPC_CREAT | IPC_EXCL | 0600) == -1 && errno == EEXIST, "errno=%d", errno);
	CHECK("shmget_existing", shmget(key, 100, 0600) == id, "");
	errno = 0;
	CHECK("shmget_too_big_einval", shmget(key, SEG_SIZE * 2, 0600) == -1 && errno == EINVAL, "errno=%d", errno);
	errno = 0;
	CHECK("shmget_enoent", shmget(key + 1, SEG_SIZE, 0600) == -1 && errno == ENOENT, "errno=%d", errno);
	errno = 0;
	CHECK("shmget_size0_einval", shmget(IPC_PRIVATE, 0, 0600) == -1 && errno == EINVAL, "errno=%d", errno);

	char *a = shmat(id, NULL, 0);
	CHECK("shmat", a != (void *)-1, "errno=%d", errno);
	int zero = 1;
	for (int i = 0; i < SEG_SIZE; i++)
		zero &= a[i] == 0;
	CHECK("pages_zeroed", zero, "");
	struct shmid_ds ds;
	shmctl(id, IPC_STAT, &ds);
	CHECK("ipc_stat_fields", ds.shm_segsz == SEG_SIZE && ds.shm_nattch == 1 && ds.shm_cpid == getpid() &&
	      ds.shm_lpid == getpid() && (ds.shm_perm.mode & 0777) == 0600 && ds.shm_atime > 0 && ds.shm_ctime > 0,
	      "segsz=%zu nattch=%lu cpid=%d lpid=%d mode=%o", ds.shm_segsz, (unsigned long)ds.shm_nattch, ds.shm_cpid,
	      ds.shm_lpid, ds.shm_perm.mode);
	ds.shm_perm.mode = 0640;
	CHECK("ipc_set", shmctl(id, IPC_SET, &ds) == 0 && shmctl(id, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & 0777) == 0640, "");

	char *b = shmat(id, NULL, 0);               /* a second view of the same pages */
	a[5] = 'x';
	CHECK("two_attachments_share", b != (void *)-1 && b != a && b[5] == 'x', "");
	shmctl(id, IPC_STAT, &ds);
	CHECK("nattch_two", ds.shm_nattch == 2, "nattch=%lu", (unsigned long)ds.shm_nattch);
	CHECK("shmdt", shmdt(b) == 0, "errno=%d", errno);
	errno = 0;
	CHECK("shmdt_not_attached_einval", shmdt(b) == -1 && errno == EINVAL, "errno=%d", errno);

	pid_t p = fork();
	if (p == 0) {
		struct shmid_ds d;
		shmctl(id, IPC_STAT, &d);
		a[6] = 'c';
		_exit(d.shm_nattch == 2 ? 0 : 1);       /* inherited attachment */
	}
	int st;
	waitpid(p, &st, 0);
	shmctl(id, IPC_STAT, &ds);
	CHECK("fork_inherits_attachment", WIFEXITED(st) && WEXITSTATUS(st) == 0 && a[6] == 'c', "st=%#x", st);
	CHECK("exit_drops_attachment", ds.shm_nattch == 1 && ds.shm_lpid == p && ds.shm_dtime > 0,
	      "nattch=%lu lpid=%d", (unsigned long)ds.shm_nattch, ds.shm_lpid);

	char *ro = shmat(id, NULL, SHM_RDONLY);
	signal(SIGSEGV, on_segv);
	segv = 0;
	if (sigsetjmp(jb, 1) == 0)
		ro[0] = 1;
	CHECK("shm_rdonly_segv", segv == 1 && ro[5] == 'x', "segv=%d", segv);
	signal(SIGSEGV, SIG_DFL);
	shmdt(ro);
	char *fixed = shmat(id, ro + 1, SHM_RND);      /* ro's range is free again */
	CHECK("shm_rnd_rounds", fixed == ro && fixed[5] == 'x', "%p vs %p", (void *)fixed, (void *)ro);
	shmdt(fixed);
	errno = 0;
	CHECK("unaligned_addr_einval", shmat(id, ro + 1, 0) == (void *)-1 && errno == EINVAL, "errno=%d", errno);
	errno = 0;
	CHECK("occupied_addr_einval", shmat(id, a, 0) == (void *)-1 && errno == EINVAL, "errno=%d", errno);
	errno = 0;
	CHECK("bad_id_einval", shmat(0x7ffffff, NULL, 0) == (void *)-1 && errno == EINVAL, "errno=%d", errno);

	CHECK("rmid_while_attached", shmctl(id, IPC_RMID, NULL) == 0, "errno=%d", errno);
	errno = 0;
	CHECK("rmid_hides_key", shmget(key, SEG_SIZE, 0600) == -1 && errno == ENOENT, "errno=%d", errno);
	CHECK("still_usable_after_rmid", (a[7] = 'z') == 'z' && a[5] == 'x', "");
	shmdt(a);
	errno = 0;
	CHECK("gone_after_last_detach", shmctl(id, IPC_STAT, &ds) == -1 && errno == EINVAL, "errno=%d", errno);

	struct shminfo info;
	CHECK("ipc_info", shmctl(0, IPC_INFO, (struct shmid_ds *)&info) >= 0 && info.shmmni > 0 && info.shmmin == 1,
	      "shmmni=%lu", (unsigned long)info.shmmni);

	if (!robust_supported()) {
		SKIP("robust_mutex_in_shm", "no robust futex lists here (qemu-user answers ENOSYS)");
	} else {
		int rid = shmget(IPC_PRIVATE, 4096, 0600);
		pthread_mutex_t *m = shmat(rid, NULL, 0);
		pthread_mutexattr_t at;
		pthread_mutexattr_init(&at);
		pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
		pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
		pthread_mutex_init(m, &at);
		p = fork();
		if (p == 0) {
			pthread_mutex_t *cm = shmat(rid, NULL, 0);   /* at another address */
			pthread_mutex_lock(cm);
			_exit(0);
		}
		waitpid(p, NULL, 0);
		int r = pthread_mutex_lock(m);
		CHECK("robust_mutex_in_shm", r == EOWNERDEAD, "lock returned %d", r);
		shmdt(m);
		shmctl(rid, IPC_RMID, NULL);
	}
	/* segments, attachments and futex waiters leave nothing behind (Ember only: the host's free
	 * memory moves for its own reasons) */
	struct utsname u;
	uname(&u);
	if (!strstr(u.release, "ember")) {
		SKIP("shm_leaves_nothing_behind", "free memory on the host's Linux moves for reasons of its own");
	} else {
		struct sysinfo before, after;
		for (int round = 0; round < 2; round++) {
			if (round == 1)
				sysinfo(&before);
			for (int i = 0; i < 8; i++) {
				int sid = shmget(IPC_PRIVATE, 64 * 1024, 0600);
				char *m = shmat(sid, NULL, 0);
				memset(m, i, 64 * 1024);
				pid_t c = fork();
				if (c == 0) {
					m[1] = 2;
					_exit(0);
				}
				waitpid(c, NULL, 0);
				shmctl(sid, IPC_RMID, NULL);
				shmdt(m);
			}
		}
		sysinfo(&after);
		long lost = (long)before.freeram - (long)after.freeram;
		CHECK("shm_leaves_nothing_behind", lost <= 64 * 1024 && lost >= -64 * 1024, "lost %ld bytes", lost);
	}
	return t_finish();
}
