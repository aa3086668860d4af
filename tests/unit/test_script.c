// unit-sources: kernel/script.c
/* "#!" line parsing (kernel/script.c) against what Linux's binfmt_script makes of each line:
 * the interpreter, the one optional argument with inner blanks kept, and ENOEXEC for lines with no
 * interpreter or with an interpreter path cut by the 256 bytes execve reads. */
#include <string.h>
#include "tests/unit/unit.h"
#include "kernel/script.h"
#include "kernel/errno.h"

#define BUF 256

static char buf[BUF];
static char *name, *arg;

/* Parse text as a file's first bytes (NUL-padded like exec's buffer). */
static int parse(const char *text)
{
	memset(buf, 0, sizeof(buf));
	memcpy(buf, text, strlen(text) < BUF ? strlen(text) : BUF);
	name = arg = NULL;
	return script_parse(buf, sizeof(buf), &name, &arg);
}

TEST(plain)
{
	CHECK_EQ(parse("#!/bin/sh\necho hi\n"), 0);
	CHECK(name && !strcmp(name, "/bin/sh"));
	CHECK(arg == NULL);
}

TEST(argument_keeps_inner_blanks)
{
	CHECK_EQ(parse("#! \t/usr/bin/env  python3 -u  x \t\nprint()\n"), 0);
	CHECK(name && !strcmp(name, "/usr/bin/env"));
	CHECK(arg && !strcmp(arg, "python3 -u  x"));
}

TEST(trailing_blanks_no_argument)
{
	CHECK_EQ(parse("#!/bin/sh \t \n"), 0);
	CHECK(name && !strcmp(name, "/bin/sh"));
	CHECK(arg == NULL);
}

TEST(no_newline_short_file)
{
	CHECK_EQ(parse("#!/bin/awk -f"), 0);
	CHECK(name && !strcmp(name, "/bin/awk"));
	CHECK(arg && !strcmp(arg, "-f"));
}

TEST(no_interpreter)
{
	CHECK_EQ(parse("#!\n/bin/sh\n"), -ENOEXEC);
	CHECK_EQ(parse("#!  \t \n"), -ENOEXEC);
	/* a file of just "#!": an empty name, as Linux gets (its open of "" then fails, ENOENT) */
	CHECK_EQ(parse("#!"), 0);
	CHECK(name && !*name && arg == NULL);
}

TEST(long_line)
{
	char line[400] = "#!/bin/sh ";
	memset(line + 10, 'a', 300);          /* the argument is cut at the buffer's end */
	line[310] = 0;
	CHECK_EQ(parse(line), 0);
	CHECK(name && !strcmp(name, "/bin/sh"));
	CHECK(arg && strlen(arg) == BUF - 1 - 10 && arg[0] == 'a');
	memset(line, 0, sizeof(line));
	strcpy(line, "#!/");
	memset(line + 3, 'b', 300);           /* the interpreter path itself does not fit */
	CHECK_EQ(parse(line), -ENOEXEC);
	memset(line, 0, sizeof(line));
	strcpy(line, "#!");
	memset(line + 2, ' ', 300);           /* blanks to the end */
	CHECK_EQ(parse(line), -ENOEXEC);
}

UNIT_TESTS(CASE(plain), CASE(argument_keeps_inner_blanks), CASE(trailing_blanks_no_argument),
	   CASE(no_newline_short_file), CASE(no_interpreter), CASE(long_line))
