/* File system rows of `make bench`, run as init by bench/bench_fs.py in Ember and in the Linux
 * guest (Image-blk) on the same fresh ext4 image: mounts DEV on /mnt and prints
 * "bench NAME VALUE UNIT" lines:
 *   seq_write     256 MiB in 1 MiB writes, then fsync (MB/s, the fsync included)
 *   seq_read_cold the same file after umount + mount, which empties any cache of it (MB/s)
 *   seq_read_warm once more (MB/s)
 *   rand_read_4k  4096 preads of 4 KiB at random block offsets of the file (reads/s)
 *   create_unlink 10,000 files of 100 bytes created, then unlinked, then syncfs (files/s)
 *   tar_extract   busybox tar xf of /src.tar (a source tree) into /mnt, then sync (MB/s of tar)
 * Usage: fsbench DEV [SIZE_MiB]. As init it mounts proc and devtmpfs and takes /dev/console as its
 * stdio first (a Linux initramfs has no console node of its own), and powers off at the end. */
#include "bench.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MNT "/mnt"
#define BIG MNT "/big"
#define CHUNK (1 << 20)
#define SMALL_FILES 10000
#define SMALL_SIZE 100
#define RAND_READS 4096

static const char *dev;

static void die(const char *what)
{
	printf("fsbench: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	if (getpid() == 1)
		reboot(RB_POWER_OFF);
	exit(1);
}

static void mount_it(void)
{
	if (mount(dev, MNT, "ext4", 0, NULL))
		die("mount");
}

static void remount(void)
{
	sync();
	if (umount(MNT))
		die("umount");
	mount_it();
}

static double seq_read(size_t bytes, char *buf)
{
	int fd = open(BIG, O_RDONLY);
	if (fd < 0)
		die("open big");
	double t0 = now();
	size_t got = 0;
	ssize_t r;
	while ((r = read(fd, buf, CHUNK)) > 0)
		got += (size_t)r;
	double t = now() - t0;
	close(fd);
	if (got != bytes)
		die("short read");
	return bytes / t / 1e6;
}

static int run_tar(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/busybox", "tar", "xf", "/src.tar", "-C", MNT "/t", (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
	if (getpid() == 1) {
		mkdir("/dev", 0755);
		mkdir("/proc", 0555);
		mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
		mount("proc", "/proc", "proc", 0, NULL);
		int fd = open("/dev/console", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = argc > 1 ? argv[1] : "/dev/vda";
	size_t size = (size_t)(argc > 2 ? atoi(argv[2]) : 256) << 20;
	mkdir(MNT, 0755);
	mount_it();
	char *buf = malloc(CHUNK);
	if (!buf)
		die("malloc");
	for (size_t i = 0; i < CHUNK; i++)
		buf[i] = (char)(i * 131 + 7);

	int fd = open(BIG, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("create big");
	double t0 = now();
	for (size_t done = 0; done < size; done += CHUNK)
		if (write(fd, buf, CHUNK) != CHUNK)
			die("write big");
	if (fsync(fd))
		die("fsync");
	printf("bench seq_write %.1f MB/s\n", size / (now() - t0) / 1e6);
	close(fd);

	remount();
	printf("bench seq_read_cold %.1f MB/s\n", seq_read(size, buf));
	printf("bench seq_read_warm %.1f MB/s\n", seq_read(size, buf));

	remount();
	fd = open(BIG, O_RDONLY);
	if (fd < 0)
		die("open big");
	unsigned seed = 12345;
	t0 = now();
	for (int i = 0; i < RAND_READS; i++) {
		seed = seed * 1103515245u + 12345u;
		off_t off = (off_t)((seed >> 4) % (size >> 12)) << 12;
		if (pread(fd, buf, 4096, off) != 4096)
			die("pread");
	}
	printf("bench rand_read_4k %.0f reads/s\n", RAND_READS / (now() - t0));
	close(fd);

	if (mkdir(MNT "/small", 0755))
		die("mkdir small");
	char name[64];
	t0 = now();
	for (int i = 0; i < SMALL_FILES; i++) {
		snprintf(name, sizeof(name), MNT "/small/f%05d", i);
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, buf, SMALL_SIZE) != SMALL_SIZE)
			die("small create");
		close(fd);
	}
	for (int i = 0; i < SMALL_FILES; i++) {
		snprintf(name, sizeof(name), MNT "/small/f%05d", i);
		if (unlink(name))
			die("small unlink");
	}
	fd = open(MNT, O_RDONLY);
	syncfs(fd);
	close(fd);
	printf("bench create_unlink %.0f files/s\n", SMALL_FILES / (now() - t0));

	struct stat st;
	if (stat("/src.tar", &st) == 0 && mkdir(MNT "/t", 0755) == 0) {
		t0 = now();
		int rc = run_tar();
		sync();
		if (rc == 0)
			printf("bench tar_extract %.1f MB/s\n", st.st_size / (now() - t0) / 1e6);
		else
			printf("fsbench: tar exited %d\n", rc);
	}
	if (umount(MNT))
		die("umount at the end");
	printf("fsbench: done\n");
	if (getpid() == 1)
		reboot(RB_POWER_OFF);
	return 0;
}
