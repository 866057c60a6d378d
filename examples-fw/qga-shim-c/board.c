/* The mps2-an386 board for qga-shim-c (see board.h). */
#include "board.h"

/* CMSDK APB UART0 (Arm DDI0479): DATA 0x0, STATE 0x4 (bit 0 TX buffer full,
 * bit 1 RX buffer full), CTRL 0x8 (bit 0 TX enable, bit 1 RX enable),
 * BAUDDIV 0x10. One byte of buffer each way: QEMU hands over the next
 * received byte only after DATA was read, so nothing is lost. */
#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x0u))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x4u))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x8u))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define STATE_TX_FULL 0x1u
#define STATE_RX_FULL 0x2u
#define CTRL_TX_EN 0x1u
#define CTRL_RX_EN 0x2u

/* FPGAIO (0x4002_8000) CLK100HZ, register 0x14: 10 ms ticks since reset. */
#define FPGAIO_CLK100HZ (*(volatile const uint32_t *)0x40028014u)

/* The SCB's AIRCR: VECTKEY plus SYSRESETREQ requests a system reset. */
#define SCB_AIRCR (*(volatile uint32_t *)0xe000ed0cu)
#define AIRCR_SYSRESETREQ 0x05fa0004u

/* SysTick (Armv7-M): CSR bit 0 ENABLE, bit 2 CLKSOURCE (core clock). */
#define SYST_CSR (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR (*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR (*(volatile uint32_t *)0xe000e018u)

/* The stack region, from link.ld. */
extern uint32_t __stack_limit[];
extern uint32_t __stack_top[];

void uart_init(uint32_t baud)
{
    uint32_t div = BOARD_PCLK_HZ / baud;
    UART_BAUDDIV = div < 16u ? 16u : div;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;
}

size_t uart_read(uint8_t *buf, size_t len)
{
    size_t n = 0;
    if (len == 0) {
        return 0;
    }
    while ((UART_STATE & STATE_RX_FULL) == 0) {
    }
    while (n < len && (UART_STATE & STATE_RX_FULL) != 0) {
        buf[n++] = (uint8_t)UART_DATA;
    }
    return n;
}

void uart_write(const uint8_t *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        while ((UART_STATE & STATE_TX_FULL) != 0) {
        }
        UART_DATA = buf[i];
    }
}

void board_start_systick_1ms(void)
{
    SYST_RVR = BOARD_PCLK_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 0x1u | 0x4u;
}

uint32_t board_ticks_100hz(void)
{
    return FPGAIO_CLK100HZ;
}

uint32_t board_stack_used(void)
{
    const volatile uint32_t *at = __stack_limit;
    while (at < __stack_top && *at == BOARD_STACK_PAINT) {
        at++;
    }
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)at);
}

void board_repaint_free_stack(void)
{
    volatile uint32_t *at = __stack_limit;
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    while (at < sp) {
        *at++ = BOARD_STACK_PAINT;
    }
}

uint32_t board_stack_size(void)
{
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit);
}

void board_reset(void)
{
    __asm__ volatile("dsb" ::: "memory");
    SCB_AIRCR = AIRCR_SYSRESETREQ;
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {
    }
}
