/*
 * "#!" scripts (kernel/script.c): parsing the first line the way Linux's fs/binfmt_script.c does.
 */
#ifndef KERNEL_SCRIPT_H
#define KERNEL_SCRIPT_H
#include "kernel/types.h"

/* buf holds the file's first size bytes (size >= 3), NUL-padded past the end of the file, and
 * starts with "#!". The interpreter is the first word after "#!" and blanks; the optional argument
 * is the rest of the line with leading and trailing blanks (spaces, tabs) removed, inner ones
 * kept. buf is modified in place (NULs end both strings). 0 with *name and *arg (NULL: no argument)
 * pointing into buf, or -ENOEXEC: no interpreter name, or a line longer than buf whose
 * interpreter path may have been cut. */
int script_parse(char *buf, size_t size, char **name, char **arg);

#endif
