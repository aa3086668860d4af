/*
 * /proc/net/unix in Linux's format (net/unix/af_unix.c's unix_seq_show): a header, then one line
 * per unix socket: address (zero, as Linux shows it to the unprivileged), reference count,
 * protocol (0), flags (__SO_ACCEPTCON for a listener), type, socket state (SS_UNCONNECTED 1,
 * SS_CONNECTED 3), the socket's inode number (0 for an embryo not yet accepted) and its name
 * (abstract names with '@' for every NUL, as Linux prints them). The list is read under unix_lock.
 */
#include "net/unix/unix.h"
#include "kernel/init.h"
#include "kernel/printk.h"
#include "fs/fs.h"

#define SO_ACCEPTCON_FLAG 0x10000           /* __SO_ACCEPTCON */
#define SS_UNCONNECTED 1
#define SS_CONNECTED 3

static size_t unix_proc_show(char *buf, size_t size)
{
	size_t n = 0;
	bufprintf(buf, size, &n, "Num       RefCount Protocol Flags    Type St Inode Path\n");
	spin_lock(&unix_lock);
	struct list_head *p;
	list_for_each(p, &unix_all) {
		struct unix_sock *u = list_entry(p, struct unix_sock, all_node);
		unsigned long ino = u->s && u->s->file ? (unsigned long)u->s->file->inode->ino : 0;
		bufprintf(buf, size, &n, "%016x: %08X %08X %08X %04X %02X %5lu", 0,
			  (unsigned)__atomic_load_n(&u->refs, __ATOMIC_RELAXED), 0,
			  u->state == UNIX_LISTENING ? SO_ACCEPTCON_FLAG : 0, (unsigned)u->type,
			  u->state == UNIX_CONNECTED ? SS_CONNECTED : SS_UNCONNECTED, ino);
		if (u->addr) {
			char name[UNIX_ADDR_MAX + 2];
			int len = u->addr->len - UNIX_SUN_OFF, i = 0, k = 0;
			const uint8_t *sun = u->addr->bytes + UNIX_SUN_OFF;
			if (sun[0])
				len--;                       /* a path: without its NUL */
			else
				name[k++] = '@', i++;
			for (; i < len; i++)
				name[k++] = sun[i] ? (char)sun[i] : '@';
			name[k] = 0;
			bufprintf(buf, size, &n, " %s", name);
		}
		bufprintf(buf, size, &n, "\n");
	}
	spin_unlock(&unix_lock);
	return n;
}

static void unix_proc_init(void)
{
	if (proc_create("/proc/net/unix", unix_proc_show) < 0)
		printk("unix: cannot create /proc/net/unix\n");
}
late_init(unix_proc_init);
