/* ARM semihosting (BKPT 0xAB) for qga-shim-c: the host services the shim
 * uses. Numbers from Arm's "Semihosting for AArch32 and AArch64". */
#ifndef QGA_SHIM_SEMIHOSTING_H
#define QGA_SHIM_SEMIHOSTING_H

#include <stdint.h>

/* ADP_Stopped_ApplicationExit: QEMU exits with status 0. */
#define SH_APPLICATION_EXIT 0x20026u
/* ADP_Stopped_RunTimeErrorUnknown: QEMU exits with status 1. */
#define SH_RUNTIME_ERROR 0x20023u

/* Seconds since 1970-01-01 00:00:00 UTC by the host's clock (SYS_TIME). */
uint32_t sh_time(void);

/* Print a NUL-terminated string on the host console, QEMU's standard
 * error (SYS_WRITE0). */
void sh_write0(const char *text);

/* Stop the machine (SYS_EXIT with `reason`; on AArch32 the argument is the
 * reason itself). */
void sh_exit(uint32_t reason) __attribute__((noreturn));

#endif
