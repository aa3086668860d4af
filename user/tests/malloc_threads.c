/*
 * glibc's malloc from many threads at once: each thread gets its own arena, an mmap'd 64 MiB heap
 * that glibc trims into alignment with munmap and grows with mprotect. Threads allocate, fill,
 * check and free blocks of many sizes (small, large ones that come from the arena, and mmap'd
 * ones), while other threads come and go (detached). Any corruption makes glibc abort or a check
 * fail. Covers mmap/munmap/mprotect of partial ranges under concurrency.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"

#define THREADS 8
#define ROUNDS 3
#define ITERS 400
#define SLOTS 32

static int bad;

static void *worker(void *arg)
{
	uintptr_t seed = (uintptr_t)arg * 2654435761u + 1;
	unsigned char *slot[SLOTS] = { 0 };
	size_t len[SLOTS] = { 0 };
	for (int i = 0; i < ITERS; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		int k = (int)((seed >> 33) % SLOTS);
		if (slot[k]) {
			for (size_t j = 0; j < len[k]; j += 97)
				if (slot[k][j] != (unsigned char)(k + j))
					__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
			free(slot[k]);
			slot[k] = NULL;
			continue;
		}
		static const size_t sizes[] = { 24, 200, 4000, 65536, 131072, 300000 };
		len[k] = sizes[(seed >> 40) % 6] + (seed >> 50) % 512;
		slot[k] = malloc(len[k]);
		if (!slot[k]) {
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		for (size_t j = 0; j < len[k]; j += 97)
			slot[k][j] = (unsigned char)(k + j);
	}
	for (int k = 0; k < SLOTS; k++)
		free(slot[k]);
	return NULL;
}

int main(void)
{
	alarm(120);
	int created = 0;
	for (int r = 0; r < ROUNDS; r++) {
		pthread_t t[THREADS];
		for (int i = 0; i < THREADS; i++)
			if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(r * THREADS + i + 1)) == 0)
				created++;
		for (int i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
	}
	CHECK("threads_created", created == ROUNDS * THREADS, "created=%d", created);
	CHECK("no_corruption", bad == 0, "bad=%d", bad);
	return t_finish();
}
