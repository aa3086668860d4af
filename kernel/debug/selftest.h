/* In-kernel self-tests driven from the monitor in test builds (CONFIG_SELFTEST). Each prints one
 * result line starting with "selftest <name>: PASS" or "selftest <name>: FAIL". */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H
void selftest_cmd(int argc, char **argv);
void selftest_fault(int argc, char **argv);
#endif
