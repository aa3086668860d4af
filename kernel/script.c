/*
 * "#!" lines, as Linux's fs/binfmt_script.c reads them. Only the first size bytes of the file
 * count (BINPRM_BUF_SIZE, 256): a line longer than that is accepted when the interpreter's name
 * ends inside it (then the argument is cut), and refused (ENOEXEC) when the name itself may be cut.
 * A pure function of the buffer: kernel/exec.c calls it, tests/unit/test_script.c checks it.
 */
#include "kernel/script.h"
#include "kernel/errno.h"

static bool spacetab(char c) { return c == ' ' || c == '\t'; }

/* The first byte in [first, last] that is not a blank, or NULL. */
static char *next_non_spacetab(char *first, const char *last)
{
	for (; first <= last; first++)
		if (!spacetab(*first))
			return first;
	return NULL;
}

/* The first blank or NUL in [first, last], or NULL. */
static char *next_terminator(char *first, const char *last)
{
	for (; first <= last; first++)
		if (spacetab(*first) || !*first)
			return first;
	return NULL;
}

int script_parse(char *buf, size_t size, char **name, char **arg)
{
	char *buf_end = buf + size - 1, *i_end = NULL;
	for (char *c = buf; c <= buf_end && !i_end; c++)
		if (*c == '\n')
			i_end = c;
	if (!i_end) {
		i_end = next_non_spacetab(buf + 2, buf_end);
		if (!i_end || !next_terminator(i_end, buf_end))
			return -ENOEXEC;        /* all blanks, or an interpreter path cut by the buffer */
		i_end = buf_end;
	}
	while (i_end > buf + 2 && spacetab(i_end[-1]))
		i_end--;
	char *i_name = next_non_spacetab(buf + 2, i_end - 1);
	if (!i_name || i_name >= i_end)
		return -ENOEXEC;                /* no interpreter name */
	char *i_arg = NULL, *i_sep = next_terminator(i_name, i_end - 1);
	if (i_sep && *i_sep)
		i_arg = next_non_spacetab(i_sep, i_end - 1);
	*i_end = 0;
	if (i_sep)
		*i_sep = 0;
	*name = i_name;
	*arg = i_arg;
	return 0;
}
