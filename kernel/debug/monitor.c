/*
 * The test kernel's monitor: with no init to run (no initramfs), it reads lines from the console
 * (echoing each byte as it arrives through the UART interrupt) and runs commands: help, cpus, mem,
 * irqs, threads, uptime, poweroff, the self-tests, a deliberate kernel fault, and what other debug
 * files add (monitor_add_command from their debug_init: net/debug/netcmd.c). Not linked into the
 * shipping kernel, which has no console commands.
 */
#include "kernel/debug/monitor.h"
#include "kernel/init.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "kernel/platform.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/debug/selftest.h"
#include "lib/string.h"
#include "kernel/timer.h"
#include "kernel/irq.h"
#include "arch/riscv/vm.h"

#define LINE_MAX 128
#define MAX_ARGS 8
#define CH_BACKSPACE 0x08
#define CH_DELETE 0x7f

extern uint64_t boot_time_ticks;

static void echo(char c) { console_write(&c, 1); }

static int read_line(char *buf, int size)
{
	int n = 0;
	for (;;) {
		int c = console_getc();
		if (c == '\r' || c == '\n') {
			echo('\n');
			buf[n] = 0;
			return n;
		}
		if (c == CH_BACKSPACE || c == CH_DELETE) {
			if (n > 0) {
				n--;
				console_write("\b \b", 3);
			}
			continue;
		}
		if (n < size - 1 && c >= ' ') {
			buf[n++] = (char)c;
			echo((char)c);
		}
	}
}

static void cmd_cpus(int argc __unused, char **argv __unused)
{
	printk("cpu hart online timer-irqs ipis switches idle-ticks current\n");
	for (int i = 0; i < ncpus; i++) {
		struct cpu *c = &cpus[i];
		struct thread *t = READ_ONCE(c->cur);
		printk("%3d %4lu %6s %10llu %4llu %8llu %10llu %s\n", c->id, c->hartid, c->online ? "yes" : "no",
		       (unsigned long long)c->timer_irqs, (unsigned long long)c->ipi_irqs,
		       (unsigned long long)c->ctx_switches, (unsigned long long)c->idle_ticks, t ? t->name : "-");
	}
	int online = 0;
	for (int i = 0; i < ncpus; i++)
		online += cpus[i].online;
	printk("%d cpus online\n", online);
}

static void cmd_mem(int argc __unused, char **argv __unused)
{
	struct page_stats ps;
	struct kmalloc_stats ks;
	struct vm_stats vs;
	page_get_stats(&ps);
	kmalloc_get_stats(&ks);
	vm_get_stats(&vs);
	printk("pages: total %llu free %llu used %llu reserved %llu cached %llu (page %lu bytes)\n",
	       (unsigned long long)ps.total, (unsigned long long)ps.free, (unsigned long long)ps.used,
	       (unsigned long long)ps.reserved, (unsigned long long)ps.cached, PAGE_SIZE);
	printk("memory: free %llu KiB used %llu KiB in use %llu KiB (used + kernel image, page array, firmware)\n",
	       (unsigned long long)(ps.free * PAGE_SIZE / 1024), (unsigned long long)(ps.used * PAGE_SIZE / 1024),
	       (unsigned long long)((ps.total - ps.free) * PAGE_SIZE / 1024));
	printk("kmalloc: allocs %llu frees %llu slab-pages %llu large %llu\n", (unsigned long long)ks.allocs,
	       (unsigned long long)ks.frees, (unsigned long long)ks.slab_pages, (unsigned long long)ks.large_allocs);
	printk("kernel page table: %llu table pages, %llu 4K / %llu 2M / %llu 1G mappings\n",
	       (unsigned long long)vs.pt_pages, (unsigned long long)vs.mapped_4k, (unsigned long long)vs.mapped_2m,
	       (unsigned long long)vs.mapped_1g);
}

/* /proc/interrupts' text (drivers/plic/irq_proc.c) */
static void cmd_irqs(int argc __unused, char **argv __unused)
{
	size_t size = PAGE_SIZE;
	char *buf = kmalloc(size);
	if (!buf)
		return;
	irq_show(buf, size);
	console_write(buf, strlen(buf));
	kfree(buf);
}

static void cmd_threads(int argc __unused, char **argv __unused) { sched_dump(); }

static void cmd_uptime(int argc __unused, char **argv __unused)
{
	uint64_t ns = time_ns();
	printk("uptime %llu.%03llu s (booted at %llu ms)\n", (unsigned long long)(ns / NSEC_PER_SEC),
	       (unsigned long long)(ns % NSEC_PER_SEC / NSEC_PER_MSEC),
	       (unsigned long long)(ticks_to_ns(boot_time_ticks) / NSEC_PER_MSEC));
}

static void cmd_poweroff(int argc __unused, char **argv __unused)
{
	printk("powering off\n");
	power_off();
}

static void cmd_help(int argc, char **argv);

#define MAX_EXTRA_COMMANDS 32

struct command {
	const char *name;
	const char *help;
	monitor_fn fn;
};

static struct command extra[MAX_EXTRA_COMMANDS];
static int nextra;

int monitor_add_command(const char *name, const char *help, monitor_fn fn)
{
	if (nextra == MAX_EXTRA_COMMANDS)
		return -1;
	extra[nextra++] = (struct command){ name, help, fn };
	return 0;
}

static const struct command commands[] = {
	{ "help", "list commands", cmd_help },
	{ "cpus", "harts, timer interrupts, context switches", cmd_cpus },
	{ "mem", "page and kmalloc counters", cmd_mem },
	{ "irqs", "interrupt counts per CPU (as /proc/interrupts)", cmd_irqs },
	{ "threads", "kernel threads", cmd_threads },
	{ "uptime", "time since reset", cmd_uptime },
	{ "poweroff", "shut down (QEMU exits 0)", cmd_poweroff },
	{ "selftest", "selftest spin|pingpong|sleep [args]", selftest_cmd },
	{ "fault", "fault [null|wtext|xdata|deadlock|sleepatomic]: deliberate kernel fault", selftest_fault },
};

static void cmd_help(int argc __unused, char **argv __unused)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printk("  %-10s %s\n", commands[i].name, commands[i].help);
	for (int i = 0; i < nextra; i++)
		printk("  %-10s %s\n", extra[i].name, extra[i].help);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	for (int i = 0; i < nextra; i++)
		if (!strcmp(name, extra[i].name))
			return &extra[i];
	return NULL;
}

static void monitor_thread(void *arg __unused)
{
	char line[LINE_MAX];
	char *argv[MAX_ARGS];
	printk("Ember monitor: type 'help'\n");
	for (;;) {
		printk("ember> ");
		read_line(line, sizeof(line));
		int argc = 0;
		for (char *p = line; *p && argc < MAX_ARGS;) {
			while (*p == ' ')
				*p++ = 0;
			if (!*p)
				break;
			argv[argc++] = p;
			while (*p && *p != ' ')
				p++;
		}
		if (argc == 0)
			continue;
		const struct command *cmd = find_command(argv[0]);
		if (!cmd)
			printk("unknown command '%s' (try 'help')\n", argv[0]);
		else
			cmd->fn(argc, argv);
	}
}

static void monitor_start(void)
{
	if (!kthread_create(monitor_thread, NULL, "monitor", -1))
		panic("cannot start the monitor");
}

static void monitor_init(void) { set_no_init_handler(monitor_start); }
debug_init(monitor_init);
