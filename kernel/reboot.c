/*
 * reboot(2), Linux's checks: both magic numbers, then the command. POWER_OFF and HALT power the
 * machine off (QEMU exits 0); RESTART also ends the machine (QEMU runs with -no-reboot). Nothing
 * is synced here, as on Linux: callers sync(2) first. Any other command is EINVAL.
 */
#include "kernel/errno.h"
#include "kernel/power.h"
#include "kernel/proc.h"
#include "kernel/types.h"

#define LINUX_REBOOT_MAGIC1 0xfee1deadu
#define LINUX_REBOOT_MAGIC2 672274793u
#define LINUX_REBOOT_MAGIC2A 85072278u
#define LINUX_REBOOT_MAGIC2B 369367448u
#define LINUX_REBOOT_MAGIC2C 537993216u
#define LINUX_REBOOT_CMD_RESTART 0x01234567u
#define LINUX_REBOOT_CMD_HALT 0xcdef0123u
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedcu
#define LINUX_REBOOT_CMD_CAD_ON 0x89abcdefu
#define LINUX_REBOOT_CMD_CAD_OFF 0x00000000u


long sys_reboot(int magic1, int magic2, unsigned cmd, uintptr_t arg)
{
	(void)arg;
	unsigned m2 = (unsigned)magic2;
	if ((unsigned)magic1 != LINUX_REBOOT_MAGIC1 ||
	    (m2 != LINUX_REBOOT_MAGIC2 && m2 != LINUX_REBOOT_MAGIC2A && m2 != LINUX_REBOOT_MAGIC2B &&
	     m2 != LINUX_REBOOT_MAGIC2C))
		return -EINVAL;
	switch (cmd) {
	case LINUX_REBOOT_CMD_POWER_OFF:
	case LINUX_REBOOT_CMD_HALT:
	case LINUX_REBOOT_CMD_RESTART:
		power_off();
	case LINUX_REBOOT_CMD_CAD_ON:
	case LINUX_REBOOT_CMD_CAD_OFF:
		return 0;
	}
	return -EINVAL;
}
