/*
 * The OS-contest runner: /init of kernel-rv's built-in initramfs (Makefile, `make all`).
 *
 * The judge boots kernel-rv with no -initrd and no -append, an ext4 sdcard on virtio-blk, and reads
 * the console (../shared/oscomp/README.md). This program does what the judge expects a kernel to do
 * by itself, from user space: it mounts the disk, and for each libc tree the disk holds (musl, then
 * glibc) runs every `<group>_testcode.sh` of that tree, in the judge's order, each as
 * `./busybox sh ./<group>_testcode.sh` in the tree's directory, with the console as its output
 * (nothing buffered here), and a time limit per group so that one stuck group cannot eat the
 * judge's hour. Then it syncs and powers off.
 *
 * Loaders. The trees' programs name their loader by absolute path (/lib/ld-musl-riscv64.so.1,
 * /lib/ld-linux-riscv64-lp64d.so.1) and glibc's loader then looks for libc.so.6 in /lib. Before a
 * tree runs, /lib (a directory of this RAM root) is filled with symbolic links to every file of the
 * tree's lib/ (and ld-musl-riscv64.so.1 -> its libc.so, which is musl's loader); the links are
 * removed before the next tree. Links rather than bind mounts or a mount namespace: they need
 * nothing from the kernel beyond symlink(2), and the two trees never run at the same time.
 *
 * Shell. The suite's own scripts (basic/run-all.sh, for one) start with #!/bin/sh, which a disk
 * holding only ./busybox does not provide: /bin (on PATH, which the kernel sets for init) gets a
 * link to the tree's busybox for /bin/busybox and for every applet it lists (`busybox --list`:
 * sh, ls, ...), the root file system a busybox system would have; busybox's `which ls` finds one.
 * The links are exchanged with the tree, like /lib's.
 *
 * Warm-up. Before a tree's groups run, the runner reads every regular file at the tree's top
 * level (the programs, up to PRELOAD_MAX bytes each) once, so that the disk's blocks are cached.
 * The suite's scripts start servers in the background and their clients right after
 * (`./netserver ... &` then `./netperf`): a server still paging its binary in from the disk when
 * the client connects makes the case fail, where a server started from the cache listens in time.
 *
 * Leftovers. A group may leave daemons behind (iperf3 -s -D detaches into its own session, so
 * killing the script's process group misses it). After each group the runner, which is init,
 * kills every other process (kill(-1, SIGKILL)) so that nothing holds ports, CPU or the disk
 * when the next group starts or the disk is unmounted.
 *
 * Kernel messages. The judge reads the console line by line; a kernel message landing inside a
 * test's output (the DHCP lease arrives a second or two after boot, while basic runs) breaks that
 * test's expected lines. The runner starts with syslog(2) CONSOLE_OFF (as `dmesg -n 1` in an init
 * script): the kernel still logs everything (dmesg), and panics still reach the console.
 *
 * A disk without /musl or /glibc is not a contest disk: the runner says so and powers off.
 * Usage (for tests): runner [DEVICE [GROUP...]]: another disk than /dev/vda, or only some groups.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DISK_DEFAULT "/dev/vda"
#define MNT "/mnt"
#define SYSLOG_ACTION_CONSOLE_OFF 6
#define LIBDIR "/lib"
#define BINDIR "/bin"
#define PATH_LEN 512
#define MAX_GROUPS 32
#define TOTAL_BUDGET_S 3300           /* the judge allows 3600 s for the whole run */
#define MIN_START_S 30                /* do not start a group with less than this left */

/* The judge's order, and each group's time limit in seconds. Groups found on the disk but not
 * listed here run afterwards, in name order, with DEFAULT_LIMIT_S. */
static const struct { const char *name; int limit_s; } known_groups[] = {
	{ "basic", 300 }, { "busybox", 300 }, { "lua", 120 }, { "libctest", 600 }, { "iozone", 600 },
	{ "unixbench", 600 }, { "iperf", 300 }, { "libcbench", 300 }, { "lmbench", 600 },
	{ "cyclictest", 300 }, { "netperf", 300 }, { "ltp", 900 },
};
#define DEFAULT_LIMIT_S 300
#define PRELOAD_MAX (16L << 20)        /* bytes: larger files are not read ahead */
#define REAP_LIMIT_S 10                /* for the killed leftovers to be reaped */

static const char *const trees[] = { "musl", "glibc" };
static time_t start_time;
static volatile sig_atomic_t timed_out;

static void say(const char *fmt, ...)
{
	char buf[PATH_LEN * 2];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (n > 0 && write(STDOUT_FILENO, buf, (size_t)n) < 0)
		return;
}

static void on_alarm(int sig) { (void)sig; timed_out = 1; }

static int limit_of(const char *group)
{
	for (size_t i = 0; i < sizeof(known_groups) / sizeof(known_groups[0]); i++)
		if (!strcmp(known_groups[i].name, group))
			return known_groups[i].limit_s;
	return DEFAULT_LIMIT_S;
}

static int rank_of(const char *group)
{
	for (size_t i = 0; i < sizeof(known_groups) / sizeof(known_groups[0]); i++)
		if (!strcmp(known_groups[i].name, group))
			return (int)i;
	return (int)(sizeof(known_groups) / sizeof(known_groups[0]));
}

static int cmp_groups(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int rx = rank_of(x), ry = rank_of(y);
	return rx != ry ? rx - ry : strcmp(x, y);
}

/* The groups of a tree: every <group>_testcode.sh in dir, in the judge's order. */
static int find_groups(const char *dir, char *names[], int max)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	const char *suffix = "_testcode.sh";
	size_t sl = strlen(suffix);
	for (struct dirent *e; (e = readdir(d)) && n < max;) {
		size_t l = strlen(e->d_name);
		if (l > sl && !strcmp(e->d_name + l - sl, suffix))
			names[n++] = strndup(e->d_name, l - sl);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_groups);
	return n;
}

static void clear_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	char path[2 * PATH_LEN];
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

static void clear_lib(void)
{
	clear_dir(LIBDIR);
	clear_dir(BINDIR);
}

/* /bin/busybox and /bin/<applet> -> <tree>/busybox for every applet of `busybox --list`. */
static void link_bin(const char *tree_dir)
{
	char src[PATH_LEN + 16], dst[PATH_LEN + 8], name[PATH_LEN];
	mkdir(BINDIR, 0755);
	snprintf(src, sizeof(src), "%s/busybox", tree_dir);
	if (symlink(src, BINDIR "/busybox") < 0)
		say("runner: symlink " BINDIR "/busybox: %s\n", strerror(errno));
	int fd[2];
	if (pipe(fd) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		close(fd[1]);
		execl(src, "busybox", "--list", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	FILE *f = fdopen(fd[0], "r");
	int n = 0;
	while (f && fgets(name, sizeof(name), f)) {
		name[strcspn(name, "\n")] = 0;
		if (!name[0] || strchr(name, '/'))
			continue;
		snprintf(dst, sizeof(dst), BINDIR "/%s", name);
		if (symlink(src, dst) == 0)
			n++;
	}
	if (f)
		fclose(f);
	else
		close(fd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (!n && symlink(src, BINDIR "/sh") < 0)   /* a busybox without --list: sh at least */
		say("runner: symlink " BINDIR "/sh: %s\n", strerror(errno));
}

/* /lib/<name> -> <tree>/lib/<name> for every file there; musl's libc.so is also its loader. */
static void link_lib(const char *tree_dir, const char *tree)
{
	clear_lib();
	mkdir(LIBDIR, 0755);
	char src[2 * PATH_LEN], dst[2 * PATH_LEN], lib[PATH_LEN + 8];
	snprintf(lib, sizeof(lib), "%s/lib", tree_dir);
	DIR *d = opendir(lib);
	if (!d) {
		say("runner: %s has no lib/\n", tree_dir);
		return;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(src, sizeof(src), "%s/%s", lib, e->d_name);
		snprintf(dst, sizeof(dst), LIBDIR "/%s", e->d_name);
		if (symlink(src, dst) < 0)
			say("runner: symlink %s: %s\n", dst, strerror(errno));
	}
	closedir(d);
	if (!strcmp(tree, "musl")) {
		snprintf(src, sizeof(src), "%s/libc.so", lib);
		if (symlink(src, LIBDIR "/ld-musl-riscv64.so.1") < 0 && errno != EEXIST)
			say("runner: symlink ld-musl: %s\n", strerror(errno));
	}
}

/* Reads the tree's top-level regular files once (see "Warm-up"). */
static void preload(const char *tree_dir)
{
	static char buf[64 * 1024];
	char path[2 * PATH_LEN];
	DIR *d = opendir(tree_dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", tree_dir, e->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PRELOAD_MAX)
			continue;
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	closedir(d);
}

/* Runs one group's script; kills its whole process group at the time limit. */
static void run_group(const char *tree_dir, const char *tree, const char *group)
{
	int left = TOTAL_BUDGET_S - (int)(time(NULL) - start_time);
	if (left < MIN_START_S) {
		say("runner: no time left for %s-%s\n", group, tree);
		return;
	}
	int limit = limit_of(group);
	if (limit > left)
		limit = left;
	char script[PATH_LEN];
	snprintf(script, sizeof(script), "./%s_testcode.sh", group);
	pid_t pid = fork();
	if (pid < 0) {
		say("runner: fork: %s\n", strerror(errno));
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		if (chdir(tree_dir) < 0)
			_exit(127);
		execl("./busybox", "busybox", "sh", script, (char *)NULL);
		say("runner: exec %s/busybox: %s\n", tree_dir, strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	timed_out = 0;
	alarm((unsigned)limit);
	int status = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, 0);
		if (r == pid)
			break;
		if (r < 0 && errno == EINTR && timed_out) {
			say("\nrunner: %s-%s exceeded %d s: stopped\n", group, tree, limit);
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			/* the script's own END marker never came: close the group for the judge */
			say("#### OS COMP TEST GROUP END %s-%s ####\n", group, tree);
			break;
		}
		if (r < 0 && errno != EINTR)
			break;
	}
	alarm(0);
	kill(-pid, SIGKILL);                 /* anything the script left running in its group */
	kill(-1, SIGKILL);                   /* and daemons that left it (see "Leftovers") */
	timed_out = 0;
	alarm(REAP_LIMIT_S);                 /* a process that cannot die must not stop the run */
	while (waitpid(-1, NULL, 0) > 0 || (errno == EINTR && !timed_out))
		;
	alarm(0);
}

/* The disk is left clean (journal empty, e2fsck -fn finds nothing) when umount works. */
static void power_off(void)
{
	sync();
	if (umount(MNT) < 0 && errno != EINVAL)
		say("runner: umount " MNT ": %s\n", strerror(errno));
	reboot(RB_POWER_OFF);
	_exit(1);
}

int main(int argc, char **argv)
{
	const char *disk = argc > 1 ? argv[1] : DISK_DEFAULT;
	start_time = time(NULL);
	klogctl(SYSLOG_ACTION_CONSOLE_OFF, NULL, 0);   /* see "Kernel messages" above */
	struct sigaction sa = { .sa_handler = on_alarm };   /* no SA_RESTART: waitpid returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mkdir(MNT, 0755);
	if (mount(disk, MNT, "ext4", 0, NULL) < 0) {
		say("runner: cannot mount %s on " MNT ": %s\n", disk, strerror(errno));
		power_off();
	}
	int ran = 0;
	for (size_t t = 0; t < sizeof(trees) / sizeof(trees[0]); t++) {
		char dir[PATH_LEN];
		snprintf(dir, sizeof(dir), MNT "/%s", trees[t]);
		struct stat st;
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		char *groups[MAX_GROUPS];
		int n = find_groups(dir, groups, MAX_GROUPS);
		link_lib(dir, trees[t]);
		link_bin(dir);
		preload(dir);
		for (int g = 0; g < n; g++) {
			bool wanted = argc <= 2;
			for (int a = 2; a < argc; a++)
				wanted |= !strcmp(argv[a], groups[g]);
			if (wanted) {
				run_group(dir, trees[t], groups[g]);
				ran++;
			}
			free(groups[g]);
		}
	}
	clear_lib();
	if (!ran)
		say("runner: %s holds no /musl or /glibc test groups\n", disk);
	say("runner: done in %ld s\n", (long)(time(NULL) - start_time));
	power_off();
}
