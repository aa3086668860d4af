/*
 * Copy-on-write after fork, many times over, with the child running first (Ember's fork
 * placement: the child runs on its parent's CPU before the parent returns from fork): whatever
 * the child writes, on the stack right where its parent's frames were, on the heap, in .data and
 * .bss, the parent must find its own memory untouched when it returns, and the child must see
 * the parent's values as of the fork. Single-threaded parents, then a parent whose other threads
 * keep writing their own pages while it forks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

#define ROUNDS 150
#define THREADED_ROUNDS 25               /* each copy fences the writers' harts: waits for the host to run them */
#define STACK_WORDS 2048                 /* 16 KiB of the parent's frame */
#define HEAP_WORDS (16 * 1024)           /* 128 KiB */
#define CHILD_DEPTH 8                    /* the child's frames, each CHILD_FRAME_WORDS */
#define CHILD_FRAME_WORDS 1024
#define WRITERS 3

static uint64_t data_words[512] = { 1 };   /* .data */
static uint64_t bss_words[512];            /* .bss */

static uint64_t pattern(uint64_t round, uint64_t i) { return (round << 32) ^ (i * 0x9e3779b97f4a7c15ULL); }

/* The child's deep frames: overwrite the stack below the fork call with its own words. */
static __attribute__((noinline)) uint64_t scribble(int depth, uint64_t seed)
{
	volatile uint64_t frame[CHILD_FRAME_WORDS];
	for (int i = 0; i < CHILD_FRAME_WORDS; i++)
		frame[i] = ~pattern(seed, (uint64_t)i);
	return depth ? scribble(depth - 1, seed + 1) + frame[depth] : frame[0];
}

/* One fork: 0 when both sides saw what they should, else a code saying what differed. */
static __attribute__((noinline)) int one_round(uint64_t round, uint64_t *heap)
{
	volatile uint64_t stack[STACK_WORDS];
	for (uint64_t i = 0; i < STACK_WORDS; i++)
		stack[i] = pattern(round, i);
	for (uint64_t i = 0; i < HEAP_WORDS; i++)
		heap[i] = pattern(round + 1, i);
	for (uint64_t i = 0; i < 512; i++) {
		data_words[i] = pattern(round + 2, i);
		bss_words[i] = pattern(round + 3, i);
	}
	pid_t c = fork();
	if (c < 0)
		return 100;
	if (c == 0) {
		int bad = 0;
		for (uint64_t i = 0; i < STACK_WORDS && !bad; i++)
			bad = stack[i] != pattern(round, i) ? 1 : 0;
		for (uint64_t i = 0; i < HEAP_WORDS && !bad; i++)
			bad = heap[i] != pattern(round + 1, i) ? 2 : 0;
		for (uint64_t i = 0; i < HEAP_WORDS; i++)
			heap[i] = ~heap[i];
		for (uint64_t i = 0; i < 512; i++) {
			data_words[i] = 0;
			bss_words[i] = ~0ULL;
		}
		for (uint64_t i = 0; i < STACK_WORDS; i++)
			stack[i] = 0;
		scribble(CHILD_DEPTH, round);
		_exit(bad);
	}
	/* the parent, as soon as fork returns: its memory is its own */
	int bad = 0;
	for (uint64_t i = 0; i < STACK_WORDS && !bad; i++)
		bad = stack[i] != pattern(round, i) ? 11 : 0;
	int st = 0;
	if (waitpid(c, &st, 0) != c)
		return 101;
	for (uint64_t i = 0; i < STACK_WORDS && !bad; i++)
		bad = stack[i] != pattern(round, i) ? 12 : 0;
	for (uint64_t i = 0; i < HEAP_WORDS && !bad; i++)
		bad = heap[i] != pattern(round + 1, i) ? 13 : 0;
	for (uint64_t i = 0; i < 512 && !bad; i++)
		bad = data_words[i] != pattern(round + 2, i) ? 14 : bss_words[i] != pattern(round + 3, i) ? 15 : 0;
	if (!bad && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		bad = WIFEXITED(st) ? 20 + WEXITSTATUS(st) : 99;
	return bad;
}

static atomic_int stop_writers;

static void *writer(void *arg)
{
	uint64_t *mine = arg;
	for (uint64_t n = 0; !atomic_load(&stop_writers); n++)
		for (int i = 0; i < 1024; i++)
			mine[i] = n + (uint64_t)i;
	return NULL;
}

static void rounds(const char *name, uint64_t *heap, int n)
{
	int bad = 0, at = -1;
	for (int r = 0; r < n && !bad; r++)
		if ((bad = one_round((uint64_t)r, heap)) != 0)
			at = r;
	CHECK(name, bad == 0, "round %d: code %d (1-2 child saw wrong values, 11-15 the parent's memory changed, "
	      "2x the child's status)", at, bad);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	uint64_t *heap = malloc(HEAP_WORDS * sizeof(uint64_t));
	if (!heap) {
		FAIL("malloc", "%s", strerror(errno));
		return t_finish();
	}
	rounds("fork: parent's stack, heap, .data and .bss stay its own; the child sees them as at fork", heap, ROUNDS);
	pthread_t th[WRITERS];
	static uint64_t areas[WRITERS][1024];
	for (int i = 0; i < WRITERS; i++)
		pthread_create(&th[i], NULL, writer, areas[i]);
	rounds("fork with threads writing meanwhile: the same", heap, THREADED_ROUNDS);
	atomic_store(&stop_writers, 1);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);
	free(heap);
	return t_finish();
}
