/*
 * /proc/<pid>/maps and /proc/<pid>/cwd, the same on Linux and in Ember:
 *   - maps: every line is "start-end perms offset major:minor inode" with lowercase hex; an
 *     anonymous PROT_READ mapping lies inside a r--p line with offset 0, device 00:00, inode 0;
 *     a MAP_SHARED file mapping at page offset 1 is an rw-s line with offset 1000, the file's
 *     device and inode; the main stack's line (holding a local variable's address) is named
 *     [stack] at column 73; after munmap the anonymous range is gone
 *   - cwd: readlink gives getcwd's answer, follows chdir, and shows a child's own directory
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include "sockutil.h"

struct map {
	unsigned long start, end;
	char perms[8];
	unsigned long long off;
	unsigned maj, min;
	unsigned long ino;
	int name_col;                    /* 1-based column of the name, 0 if none */
	char name[256];
};

static int read_maps(const char *path, struct map *m, int max, int *bad)
{
	FILE *f = fopen(path, "r");
	int n = 0;
	*bad = 0;
	if (!f)
		return -1;
	char line[512];
	while (n < max && fgets(line, sizeof(line), f)) {
		struct map *x = &m[n];
		int used = 0;
		memset(x, 0, sizeof(*x));
		if (sscanf(line, "%lx-%lx %4s %llx %x:%x %lu%n", &x->start, &x->end, x->perms, &x->off, &x->maj, &x->min,
			   &x->ino, &used) != 7 || strlen(x->perms) != 4) {
			(*bad)++;
			continue;
		}
		char *p = line + used;
		while (*p == ' ')
			p++;
		if (*p && *p != '\n') {
			x->name_col = (int)(p - line) + 1;
			snprintf(x->name, sizeof(x->name), "%s", p);
			x->name[strcspn(x->name, "\n")] = 0;
		}
		n++;
	}
	fclose(f);
	return n;
}

static struct map maps[512];

static void test_maps(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *anon = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char fname[64];
	snprintf(fname, sizeof(fname), "/tmp/ember-maps-%d", getpid());
	int fd = open(fname, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ftruncate(fd, 4 * pg);
	struct stat st;
	fstat(fd, &st);
	char *fm = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pg);
	int bad, n = read_maps("/proc/self/maps", maps, 512, &bad);
	CHECK("maps_read", n > 3 && bad == 0, "n=%d bad=%d", n, bad);
	bool anon_ok = false, file_ok = false, stack_ok = false;
	int local = 0;
	unsigned long here = (unsigned long)&local;
	for (int i = 0; i < n; i++) {
		struct map *m = &maps[i];
		if (m->start <= (unsigned long)anon && m->end >= (unsigned long)anon + 3 * pg)
			anon_ok = !strcmp(m->perms, "r--p") && m->off == 0 && m->maj == 0 && m->min == 0 && m->ino == 0;
		if (m->start == (unsigned long)fm && m->end == (unsigned long)fm + 2 * pg)
			file_ok = !strcmp(m->perms, "rw-s") && m->off == (unsigned long long)pg && m->ino == st.st_ino &&
				  m->maj == major(st.st_dev) && m->min == minor(st.st_dev);
		if (m->start <= here && here < m->end)
			stack_ok = !strcmp(m->name, "[stack]") && m->name_col == 74 && m->perms[0] == 'r' && m->perms[1] == 'w';
	}
	CHECK("maps_anonymous", anon_ok, "anon=%p", (void *)anon);
	CHECK("maps_shared_file", file_ok, "fm=%p ino=%lu", (void *)fm, (unsigned long)st.st_ino);
	CHECK("maps_stack", stack_ok, "local=%#lx", here);
	munmap(anon, 3 * pg);
	n = read_maps("/proc/self/maps", maps, 512, &bad);
	bool gone = true;
	for (int i = 0; i < n; i++)
		if (maps[i].start <= (unsigned long)anon + pg && (unsigned long)anon + pg < maps[i].end)
			gone = false;
	CHECK("maps_after_munmap", gone, "still mapped");
	munmap(fm, 2 * pg);
	close(fd);
	unlink(fname);
}

static void test_cwd(void)
{
	char want[PATH_MAX], got[PATH_MAX];
	getcwd(want, sizeof(want));
	long r = readlink("/proc/self/cwd", got, sizeof(got) - 1);
	got[r > 0 ? r : 0] = 0;
	CHECK("cwd_self", r > 0 && !strcmp(got, want), "got=%s want=%s", got, want);
	char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/ember-cwd-%d", getpid());
	mkdir(dir, 0755);
	chdir(dir);
	r = readlink("/proc/self/cwd", got, sizeof(got) - 1);
	got[r > 0 ? r : 0] = 0;
	CHECK("cwd_follows_chdir", r > 0 && !strcmp(got, dir), "got=%s", got);
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		chdir("/");
		write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	read(p[0], &c, 1);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	r = readlink(path, got, sizeof(got) - 1);
	got[r > 0 ? r : 0] = 0;
	CHECK("cwd_of_child", r > 0 && !strcmp(got, "/"), "got=%s r=%ld", got, r);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	chdir(want);
	rmdir(dir);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_maps();
	test_cwd();
	return t_finish();
}
