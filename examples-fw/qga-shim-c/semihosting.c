/* ARM semihosting for qga-shim-c (see semihosting.h). */
#include "semihosting.h"

#define SYS_WRITE0 0x04u
#define SYS_TIME 0x11u
#define SYS_EXIT 0x18u

/* One call: operation in r0, argument in r1, result in r0. QEMU (with
 * -semihosting-config enable=on) performs it and resumes after the BKPT;
 * the host may read memory the argument points to. */
static uint32_t semihost(uint32_t op, uint32_t arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register uint32_t r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

uint32_t sh_time(void)
{
    return semihost(SYS_TIME, 0);
}

void sh_write0(const char *text)
{
    semihost(SYS_WRITE0, (uint32_t)(uintptr_t)text);
}

void sh_exit(uint32_t reason)
{
    semihost(SYS_EXIT, reason);
    for (;;) {
        /* Only without a semihosting host that honours SYS_EXIT. */
    }
}
