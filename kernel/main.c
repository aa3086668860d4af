/*
 * Boot. The boot hart arrives in kmain (entry.S) on the boot page table with the direct map. It
 * reads the device tree, brings up the console, memory, the kernel page table, traps, the PLIC,
 * timers and the scheduler, starts the other harts with SBI HSM, prints the banner and hands over
 * to the monitor thread; then it becomes CPU 0's idle thread. Secondary harts arrive in
 * secondary_main with a stack the boot hart allocated for them.
 */
#include "kernel/types.h"
#include "kernel/cpu.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "mm/page.h"
#include "mm/kmalloc.h"
#include "kernel/sched.h"
#include "kernel/timer.h"
#include "mm/mm.h"
#include "kernel/proc.h"
#include "lib/string.h"
#include "kernel/systime.h"
#include "kernel/vdso.h"
#include "fs/fs.h"
#include "fs/do_mounts.h"
#include "kernel/power.h"
#include "drivers/plic/plic.h"
#include "kernel/init.h"
#include "drivers/uart/uart.h"
#include "arch/riscv/riscv.h"
#include "arch/riscv/sbi.h"
#include "arch/riscv/trap.h"
#include "arch/riscv/vm.h"

#define HART_START_TIMEOUT_MS 2000
#define HART_START_ATTEMPTS 2

struct cpu cpus[NCPU];
int ncpus = 1;
uint64_t boot_time_ticks;              /* time CSR when kmain started */

extern char boot_stack_top[], _kernel_start[], _kernel_end[], _secondary_start[];
extern uint64_t hart_mailbox[];           /* entry.S: stack tops for harts parked in _start */
#define MAX_PARKED_HARTS 8

static void set_tp(struct cpu *c) { __asm__ volatile("mv tp, %0" :: "r"(c)); }

/* Hand RAM [start, end) to the page allocator, minus the reserved regions (OpenSBI, the device
 * tree, the initrd), which may come in any order and overlap. */
static void free_ram(paddr_t start, paddr_t end)
{
	struct region r[PLAT_MAX_REGIONS];
	int n = platform.nreserved;
	for (int i = 0; i < n; i++) {          /* insertion sort by base */
		struct region x = platform.reserved[i];
		int j = i;
		for (; j > 0 && r[j - 1].base > x.base; j--)
			r[j] = r[j - 1];
		r[j] = x;
	}
	paddr_t p = start;
	for (int i = 0; i < n && p < end; i++) {
		paddr_t rb = r[i].base, re = r[i].base + r[i].size;
		if (re <= p)
			continue;
		if (rb > p)
			page_free_range(p, MIN(rb, end));
		p = MAX(p, re);
	}
	if (p < end)
		page_free_range(p, end);
}

static void mem_init(void)
{
	paddr_t ram = platform.ram_base, ram_end = ram + platform.ram_size;
	paddr_t free_start = va_to_pa(_kernel_end);
	page_setup(ram, ram_end, &free_start);
	free_ram(ram, va_to_pa(_kernel_start));     /* below the kernel: all but the firmware's */
	free_ram(free_start, ram_end);
}

static void cpu_common_init(void)
{
	trap_init_cpu();
	plic_cpu_init();
	timer_cpu_init();
	this_cpu()->online = true;
}

void secondary_main(unsigned long hartid)
{
	struct cpu *c = NULL;
	for (int i = 0; i < ncpus; i++)
		if (cpus[i].hartid == hartid)
			c = &cpus[i];
	if (!c)
		for (;;)
			wfi();
	set_tp(c);
	kvm_init_hart();
	sched_cpu_init();
	cpu_common_init();
	intr_on();
	sched_idle_loop();
}

static void start_secondaries(void)
{
	for (int i = 0; i < platform.nharts; i++) {
		if (platform.hartids[i] == cpus[0].hartid)
			continue;
		if (ncpus >= NCPU)
			break;
		struct cpu *c = &cpus[ncpus];
		void *stack = alloc_pages(KSTACK_ORDER, 0);
		if (!stack)
			panic("no memory for hart %lu's stack", platform.hartids[i]);
		c->id = ncpus;
		c->hartid = platform.hartids[i];
		c->boot_stack_top = (char *)stack + KSTACK_SIZE;
		plic_set_context(c->id, platform.plic_context[i]);
		ncpus++;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		/* Start it, and if it does not show up in time, try once more: a hart parked in _start
		 * (entry.S) gets its IPI again, one SBI still holds is asked again (seen once: a hart
		 * missing after a boot on hart 3, with no way to tell which path it was on). */
		long err = 0;
		for (int attempt = 0; attempt < HART_START_ATTEMPTS && !READ_ONCE(c->online); attempt++) {
			err = sbi_hart_start(c->hartid, va_to_pa(_secondary_start), (unsigned long)c->boot_stack_top);
			if (err == SBI_ERR_ALREADY_AVAILABLE && c->hartid < MAX_PARKED_HARTS) {
				/* it came in through _start and parked there (entry.S): hand it its stack */
				__atomic_store_n(&hart_mailbox[c->hartid], (uint64_t)c->boot_stack_top, __ATOMIC_SEQ_CST);
				__asm__ volatile("fence rw, rw" ::: "memory");
				sbi_send_ipi(1, c->hartid);
				err = 0;
			}
			if (err)
				break;
			uint64_t deadline = time_now() + ns_to_ticks(HART_START_TIMEOUT_MS * NSEC_PER_MSEC);
			while (!READ_ONCE(c->online) && time_now() < deadline)
				;
			if (!c->online)
				printk("hart %lu: not online after %d ms (SBI status %ld)\n", c->hartid,
				       HART_START_TIMEOUT_MS, sbi_hart_status(c->hartid));
		}
		if (err) {
			printk("hart %lu: hart_start failed (%ld)\n", c->hartid, err);
			ncpus--;
			free_pages(stack, KSTACK_ORDER);
			continue;
		}
		if (!c->online)
			printk("hart %lu did not come online\n", c->hartid);
	}
}

#define INIT_MAX_ARGS 16
#define CMDLINE_MAX 512

/* User space, as Linux starts it: an initramfs (-initrd, else kernel-rv's built-in one) is unpacked
 * and its rdinit= (default /init) runs; without one, or when it lacks that program, the root is a
 * disk: root= (rootfstype=, ro/rw), or with no initramfs and no root= the first disk holding an
 * init program (fs/do_mounts.c), and init= or the usual candidates run from it. Arguments after
 * "--" on the command line go to init. Nothing at all: the no-init handler (the test kernel's
 * monitor) or power-off. */
static void (*no_init_handler)(void);

void set_no_init_handler(void (*fn)(void)) { no_init_handler = fn; }

/* kernel-rv's built-in initramfs (arch/riscv/kernel.ld; empty in the other kernels) */
extern const char __builtin_initramfs_start[], __builtin_initramfs_end[];
static size_t builtin_initramfs_size(void)
{
	return (size_t)((uintptr_t)__builtin_initramfs_end - (uintptr_t)__builtin_initramfs_start);
}

struct boot_args {
	const char *rdinit, *init;          /* NULL: not given */
	const char *root, *rootfstype;
	bool rw;                            /* "rw": the disk root read-write (Linux: ro by default) */
	int argc;                           /* argv[1..argc-1]: after "--" */
};

static void parse_cmdline(char *cmdline, struct boot_args *ba, char **argv)
{
	bool after_dashes = false;
	ba->argc = 1;
	for (char *p = cmdline; *p;) {
		while (*p == ' ')
			*p++ = 0;
		if (!*p)
			break;
		char *tok = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = 0;
		if (after_dashes) {
			if (ba->argc <= INIT_MAX_ARGS)
				argv[ba->argc++] = tok;
		} else if (!strcmp(tok, "--")) {
			after_dashes = true;
		} else if (!strncmp(tok, "rdinit=", 7)) {
			ba->rdinit = tok + 7;
		} else if (!strncmp(tok, "init=", 5)) {
			ba->init = tok + 5;
		} else if (!strncmp(tok, "root=", 5)) {
			ba->root = tok + 5;
		} else if (!strncmp(tok, "rootfstype=", 11)) {
			ba->rootfstype = tok + 11;
		} else if (!strcmp(tok, "rw")) {
			ba->rw = true;
		} else if (!strcmp(tok, "ro")) {
			ba->rw = false;
		}
	}
}

static bool program_exists(const char *path)
{
	int err;
	struct file *f = kernel_open(path, O_RDONLY, &err);
	if (f)
		file_put(f);
	return f != NULL;
}

static void no_init(const char *why)
{
	if (no_init_handler) {
		no_init_handler();
		return;
	}
	printk("%s; powering off\n", why);
	power_fail(1);
}

static void start_user_space(void)
{
	static char cmdline[CMDLINE_MAX];
	static char *argv[INIT_MAX_ARGS + 2];
	static char *envp[] = { "HOME=/", "TERM=linux", "PATH=/bin:/sbin:/usr/bin", NULL };
	struct boot_args ba = { 0 };
	strlcpy(cmdline, platform.bootargs ? platform.bootargs : "", sizeof(cmdline));
	parse_cmdline(cmdline, &ba, argv);

	bool ramfs = true;
	int r = 0;
	if (platform.initrd_end > platform.initrd_start)        /* -initrd wins over a built-in one */
		r = initramfs_unpack(pa_to_va(platform.initrd_start), platform.initrd_end - platform.initrd_start);
	else if (builtin_initramfs_size())
		r = initramfs_unpack(__builtin_initramfs_start, builtin_initramfs_size());
	else
		ramfs = false;
	if (r < 0)
		printk("initramfs: unpack failed (%d)\n", r);

	const char *init = ba.rdinit ? ba.rdinit : "/init";
	if (!ramfs || !program_exists(init)) {
		if (ba.root) {
			if (mount_root(ba.root, ba.rootfstype, ba.rw ? 0 : MS_RDONLY))
				power_fail(1);                  /* Linux: "VFS: Unable to mount root fs" */
		} else if (!ramfs && mount_root_auto()) {
			no_init("no init: boot with an initramfs (-initrd) or a disk holding one");
			return;
		}
		if (!(init = root_init(ba.init))) {
			no_init("no init program found (tried /sbin/init, /etc/init, /bin/init, /bin/sh)");
			return;
		}
	}
	argv[0] = (char *)init;
	argv[ba.argc] = NULL;
	printk("starting %s\n", init);
	proc_start_init(init, argv, envp);
}

void kmain(unsigned long hartid, paddr_t dtb_pa)
{
	struct cpu *c = &cpus[0];
	c->id = 0;
	c->hartid = hartid;
	c->boot_stack_top = boot_stack_top;
	set_tp(c);
	boot_time_ticks = rdtime();

	if (platform_parse(dtb_pa) < 0)
		panic("cannot read the device tree at %#llx", (unsigned long long)dtb_pa);
	if (platform.uart.base)
		uart_init(platform.uart.base, platform.uart_shift);
	printk("\nEmber kernel booting on hart %lu\n", hartid);

	trap_init_cpu();
	mem_init();
	kvm_init();
	sched_init();
	timer_init(platform.timebase_hz, platform.sstc);
	plic_init(platform.plic.base, platform.plic.size, platform.plic_ndev);
	for (int i = 0; i < platform.nharts; i++)
		if (platform.hartids[i] == hartid)
			plic_set_context(0, platform.plic_context[i]);
	if (platform.uart.base && uart_enable_rx(platform.uart_irq) < 0)
		printk("uart: cannot register irq %d\n", platform.uart_irq);
	cpu_common_init();
	intr_on();

	start_secondaries();
	platform_print();
	struct page_stats ps;
	page_get_stats(&ps);
	int online = 0;
	for (int i = 0; i < ncpus; i++)
		online += cpus[i].online;
	printk("%d of %d harts online; memory %llu KiB free, %llu KiB used\n", online, platform.nharts,
	       (unsigned long long)(ps.free * PAGE_SIZE / 1024), (unsigned long long)(ps.used * PAGE_SIZE / 1024));
	systime_init();
	vdso_init();
	initcalls_run();                   /* subsystems, drivers, buses, the stack (kernel/init.h) */
	start_user_space();
	sched_idle_loop();
}
