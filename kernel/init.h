/*
 * Start-up by registration, as Linux's initcalls: a file declares `driver_init(fn)` (or another
 * level) and kmain's initcalls_run() calls every such fn once, level by level:
 *
 *   core_init    subsystems other code registers into: the file layer, the net_device registry
 *   driver_init  drivers register with their bus (pci_register_driver, virtio_register_driver)
 *   bus_init     buses scan and bind devices to the registered drivers (virtio-mmio, PCI)
 *   late_init    what needs the devices: the network stack's interfaces, /proc files
 *   debug_init   the test kernel's diagnostics (kernel/debug/, net/debug/: monitor commands,
 *                self-tests, stress generators); those files are not linked into the shipping
 *                kernel, so it has no such calls at all
 *
 * Within a level the order is link order (the Makefile's sorted source list). No subsystem calls
 * a driver by name, and kmain calls no subsystem beyond arch, memory and the scheduler: adding a
 * driver or a subsystem means adding files, not editing a switchboard.
 *
 * The fns run in kmain's thread context on CPU 0 with interrupts on and the other harts online:
 * they may allocate and sleep.
 */
#ifndef KERNEL_INIT_H
#define KERNEL_INIT_H

typedef void (*initcall_t)(void);

/* The linker script keeps the .initcall.<n> sections sorted by name between __initcall_start and
 * __initcall_end, so the level digit orders them. */
#define INITCALL_AT(level, fn) \
	static const initcall_t __initcall_##fn __attribute__((used, section(".initcall." #level), aligned(8))) = fn

#define core_init(fn) INITCALL_AT(1, fn)
#define driver_init(fn) INITCALL_AT(2, fn)
#define bus_init(fn) INITCALL_AT(3, fn)
#define late_init(fn) INITCALL_AT(4, fn)
#define debug_init(fn) INITCALL_AT(5, fn)

void initcalls_run(void);     /* kmain, once */

/* What kmain runs when there is no init (no initramfs): the test kernel's monitor registers itself
 * here from its debug_init; the shipping kernel has none and powers off, saying why. */
void set_no_init_handler(void (*fn)(void));

#endif
