/* Reset and exception vectors for qga-shim-c on the Cortex-M4 of
 * mps2-an386: paint the stack, set up .data and .bss, enable the FPU (the
 * library is built for the hard-float ABI), run main(). */
#include <stdint.h>

#include "board.h"
#include "semihosting.h"

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];

int main(void);
void reset_handler(void) __attribute__((noreturn));
static void fault_handler(void) __attribute__((noreturn));

/* CPACR: full access to coprocessors 10 and 11 (the FPU). */
#define SCB_CPACR (*(volatile uint32_t *)0xe000ed88u)
#define CPACR_CP10_CP11 (0xfu << 20)

void reset_handler(void)
{
    uint32_t *p;
    uint32_t *sp;
    const uint32_t *src;

    SCB_CPACR |= CPACR_CP10_CP11;
    __asm__ volatile("dsb\n\tisb" ::: "memory");

    /* Paint the stack below the current stack pointer (this function's
     * own frame, above it, counts as used). */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = __stack_limit; p < sp; p++) {
        *(volatile uint32_t *)p = BOARD_STACK_PAINT;
    }
    for (p = __data_start, src = __data_load; p < __data_end; p++, src++) {
        *p = *src;
    }
    for (p = __bss_start; p < __bss_end; p++) {
        *p = 0;
    }
    main();
    sh_exit(SH_RUNTIME_ERROR);
}

/* Any fault ends the emulation with exit status 1. */
static void fault_handler(void)
{
    sh_write0("qga-shim-c: fault\n");
    sh_exit(SH_RUNTIME_ERROR);
}

typedef void (*vector_fn)(void);

/* Initial stack pointer, then the 15 system exception vectors. No device
 * interrupt is enabled. */
__attribute__((section(".vectors"), used)) static const vector_fn vectors[16] = {
    (vector_fn)(uintptr_t)__stack_top,
    reset_handler,
    fault_handler, /* NMI */
    fault_handler, /* HardFault */
    fault_handler, /* MemManage */
    fault_handler, /* BusFault */
    fault_handler, /* UsageFault */
    0, 0, 0, 0,
    fault_handler, /* SVCall */
    fault_handler, /* DebugMonitor */
    0,
    fault_handler, /* PendSV */
    fault_handler, /* SysTick */
};
