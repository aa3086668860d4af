/* Machine shutdown: QEMU exits 0 after power_off() and non-zero after power_fail(). */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H
void __attribute__((noreturn)) power_off(void);
void __attribute__((noreturn)) power_fail(int code);
#endif
