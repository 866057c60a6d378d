/* The mps2-an386 board for qga-shim-c: the CMSDK APB UART (polled), the
 * FPGAIO 100 Hz counter, the stack watermark and a system reset. Register
 * facts: QEMU's hw/char/cmsdk-apb-uart.c, hw/misc/mps2-fpgaio.c and
 * hw/arm/mps2.c (docs/FIRMWARE.md). */
#ifndef QGA_SHIM_BOARD_H
#define QGA_SHIM_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* The APB clock that drives the UART (QEMU's SYSCLK_FRQ). */
#define BOARD_PCLK_HZ 25000000u

/* Set BAUDDIV for `baud` (at least 16, as QEMU requires) and enable UART0's
 * transmitter and receiver. */
void uart_init(uint32_t baud);

/* Wait for one byte, then take what else has already arrived, up to `len`
 * bytes. Returns at least 1 (a serial line has no end). */
size_t uart_read(uint8_t *buf, size_t len);

/* Send `len` bytes, waiting for the one-byte transmit buffer each time. */
void uart_write(const uint8_t *buf, size_t len);

/* Run SysTick from the core clock with a 1 ms period, no interrupt. Not
 * for the shim: for QEMU, whose CMSDK UART model does not tell the chardev
 * when its one-byte receive buffer frees up, so the next host byte is only
 * taken at QEMU's next main-loop wake-up; the running SysTick timer wakes
 * it every period (without it, bytes sent before the UART was enabled were
 * seen to wait more than 20 s). Real hardware needs none of this. */
void board_start_systick_1ms(void);

/* Ticks of the FPGAIO 100 Hz counter since reset. */
uint32_t board_ticks_100hz(void);

/* Bytes of the stack region used since it was last painted (the deepest
 * word no longer holding the paint), and the region's size. */
uint32_t board_stack_used(void);
uint32_t board_stack_size(void);

/* Paint the free part of the stack (below the caller's stack pointer)
 * again, so later watermarks measure only what runs after this call. */
void board_repaint_free_stack(void);

/* The value the stack is painted with at reset. */
#define BOARD_STACK_PAINT 0xccccccccu

/* Reset the system (SYSRESETREQ); QEMU boots the image again. */
void board_reset(void) __attribute__((noreturn));

#endif
