/*
 * TEMPORARY stand-ins for functions the process code (the lead's) will provide, so kernel/fs/
 * links before they exist. Each is weak: the real definition wins as soon as it is linked in.
 * Delete this file once the proc code defines current_exe().
 */
#include "kernel/fs/fs.h"

/* /proc/self/exe reads as ENOENT until the real one exists */
__attribute__((weak)) const char *current_exe(void) { return NULL; }
