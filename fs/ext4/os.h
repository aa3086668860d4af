/*
 * What fs/ext4/ needs from its environment besides the block device: memory and string
 * functions. In the kernel they are kmalloc/kfree and kernel/string.h; built with -DHOST_TEST
 * (tests/unit/) they are the C library's, so ASan sees every allocation.
 */
#ifndef FS_EXT4_OS_H
#define FS_EXT4_OS_H
#include "kernel/types.h"
#include "kernel/errno.h"

#ifdef HOST_TEST
#include <stdlib.h>
#include <string.h>
static inline void *ext4_malloc(size_t n) { return malloc(n); }
static inline void *ext4_zalloc(size_t n) { return calloc(1, n); }
static inline void ext4_free(void *p) { free(p); }
#else
#include "mm/kmalloc.h"
#include "lib/string.h"
static inline void *ext4_malloc(size_t n) { return kmalloc(n); }
static inline void *ext4_zalloc(size_t n) { return kzalloc(n); }
static inline void ext4_free(void *p) { kfree(p); }
#endif

#ifndef EUCLEAN
#define EUCLEAN 117       /* Linux: "Structure needs cleaning" (ext4's EFSCORRUPTED) */
#endif
#ifndef EMLINK
#define EMLINK 31
#endif
#ifndef EXDEV
#define EXDEV 18
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "fs/ext4 reads on-disk little-endian fields directly"
#endif

#endif
