/*
 * File seals on files memfd_create did not make, as Linux: a regular file of a tmpfs (/dev/shm)
 * is a shmem file born with F_SEAL_SEAL, so F_GET_SEALS answers F_SEAL_SEAL (also on a read-only
 * descriptor) and F_ADD_SEALS fails with EPERM (and with EPERM first on a read-only descriptor,
 * EINVAL first for unknown seal bits); files of other kinds (/dev/null, a pipe, an eventfd, a
 * tmpfs directory, whose read-only descriptor makes F_ADD_SEALS EPERM first) have no seals:
 * EINVAL. A memfd made with
 * MFD_ALLOW_SEALING still takes seals.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"

#define SHM_DIR "/dev/shm"
#define BAD_SEAL 0x4000

static void no_seals(const char *what, int fd)
{
	char name[64];
	errno = 0;
	snprintf(name, sizeof(name), "%s_get_seals_einval", what);
	CHECK(name, fcntl(fd, F_GET_SEALS) == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	snprintf(name, sizeof(name), "%s_add_seals_einval", what);
	CHECK(name, fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) == -1 && errno == EINVAL, "errno %d", errno);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	mkdir(SHM_DIR, 01777);                   /* Linux has it; a bare Ember /dev may not */
	char path[64];
	snprintf(path, sizeof(path), SHM_DIR "/seals-%d", (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK("create_shm_file", fd >= 0, "errno %d", errno);
	if (fd < 0)
		return t_finish();
	CHECK("shm_file_born_sealed", fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL, "seals %d errno %d",
	      fcntl(fd, F_GET_SEALS), errno);
	errno = 0;
	CHECK("shm_file_add_seals_eperm", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) == -1 && errno == EPERM, "errno %d", errno);
	errno = 0;
	CHECK("shm_file_unknown_seal_einval", fcntl(fd, F_ADD_SEALS, BAD_SEAL) == -1 && errno == EINVAL, "errno %d", errno);
	CHECK("shm_file_still_grows", ftruncate(fd, 4096) == 0 && write(fd, "x", 1) == 1, "errno %d", errno);
	int ro = open(path, O_RDONLY);
	CHECK("shm_readonly_get_seals", fcntl(ro, F_GET_SEALS) == F_SEAL_SEAL, "errno %d", errno);
	errno = 0;
	CHECK("shm_readonly_add_eperm", fcntl(ro, F_ADD_SEALS, F_SEAL_GROW) == -1 && errno == EPERM, "errno %d", errno);
	close(ro);
	close(fd);
	unlink(path);

	int dir = open(SHM_DIR, O_RDONLY | O_DIRECTORY);   /* read-only: F_ADD_SEALS is EPERM first */
	errno = 0;
	CHECK("tmpfs_dir_get_seals_einval", fcntl(dir, F_GET_SEALS) == -1 && errno == EINVAL, "errno %d", errno);
	errno = 0;
	CHECK("tmpfs_dir_add_seals_eperm", fcntl(dir, F_ADD_SEALS, F_SEAL_GROW) == -1 && errno == EPERM, "errno %d", errno);
	close(dir);
	int null = open("/dev/null", O_RDWR);
	no_seals("dev_null", null);
	close(null);
	int p[2];
	pipe(p);
	no_seals("pipe", p[1]);
	close(p[0]);
	close(p[1]);
	int ev = eventfd(0, 0);
	no_seals("eventfd", ev);
	close(ev);

	int m = memfd_create("seals", MFD_ALLOW_SEALING);
	CHECK("memfd_still_seals", fcntl(m, F_GET_SEALS) == 0 && fcntl(m, F_ADD_SEALS, F_SEAL_GROW) == 0 &&
	      fcntl(m, F_GET_SEALS) == F_SEAL_GROW, "errno %d", errno);
	close(m);
	return t_finish();
}
