/*
 * qga-shim-c: the QEMU Guest Agent as bare-metal C firmware (C99,
 * freestanding) for QEMU's mps2-an386 (Cortex-M4), on libqwire.a through
 * include/qwire.h. The twin of the Rust shim in examples-fw/qga-shim: same
 * commands, same replies, same board facts (docs/FIRMWARE.md).
 *
 * libqwire's agent answers guest-sync, guest-sync-delimited, guest-ping and
 * guest-info itself; this file answers:
 *  - guest-get-time: nanoseconds since the Unix epoch; the epoch is the
 *    host's clock read once at boot (semihosting SYS_TIME, whole seconds),
 *    the time since boot the FPGAIO 100 Hz counter: 0 to 1 s behind the
 *    host, in 10 ms steps;
 *  - guest-shutdown: powerdown (default) and halt stop the machine with
 *    semihosting SYS_EXIT / ADP_Stopped_ApplicationExit (QEMU exits 0),
 *    reboot resets the system; no reply on success;
 *  - guest-x-stack-watermark (vendor): {"used": N, "size": M, "init": I}:
 *    N bytes of the 16 KiB stack used by the agent loop so far, I bytes by
 *    start-up (startup.c paints the stack at reset; main() reads the
 *    start-up mark and paints the free part again before its loop).
 * Static storage only; there is no malloc to call.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "qwire.h"
#include "semihosting.h"

#define VERSION "qga-shim-c-0.1.0"

static qw_qga_agent agent;
static uint8_t input[2048];  /* the largest request */
static uint8_t output[2048]; /* the largest reply (QW_QGA_MIN_OUTPUT) */
static uint8_t rx[64];       /* one UART read */

enum command { CMD_GET_TIME, CMD_SHUTDOWN, CMD_STACK_WATERMARK };

static const qw_command commands[] = {
    [CMD_GET_TIME] = {"guest-get-time", true, false},
    [CMD_SHUTDOWN] = {"guest-shutdown", false, false},
    [CMD_STACK_WATERMARK] = {"guest-x-stack-watermark", true, false},
};

enum halt { HALT_NONE, HALT_POWER_OFF, HALT_REBOOT };

struct shim {
    uint32_t boot_epoch_s; /* host time at boot, whole seconds */
    uint32_t boot_ticks;   /* the 100 Hz counter then */
    uint32_t init_stack;   /* stack bytes used by start-up */
    enum halt halt;        /* set by a successful guest-shutdown */
};

/* ---- small freestanding string helpers ---------------------------------- */

static size_t str_len(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}

static bool str_eq(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* A bounded text buffer; `len` stops growing when full (the NUL stays). */
struct text {
    char buf[160];
    size_t len;
};

static void text_add(struct text *t, const char *s)
{
    while (*s != '\0' && t->len + 1 < sizeof t->buf) {
        t->buf[t->len++] = *s++;
    }
    t->buf[t->len] = '\0';
}

static void text_add_u32(struct text *t, uint32_t v)
{
    char digits[11];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0 && t->len + 1 < sizeof t->buf) {
        t->buf[t->len++] = digits[--n];
    }
    t->buf[t->len] = '\0';
}

/* ---- replies ---------------------------------------------------------- */

static void reply_error(qw_reply *reply, qw_error_class class_, const char *desc)
{
    (void)qw_reply_error(reply, (uint32_t)class_, (const uint8_t *)desc, str_len(desc));
}

/* qemu-ga's argument checks: members other than `allowed` (NULL: none) are
 * "unexpected", and `allowed` must be a string. Returns true if an error
 * was answered. */
static bool refuse_arguments(const qw_call *call, qw_reply *reply, const char *allowed)
{
    qw_json_iter it;
    qw_json key, value;
    char name[64];
    size_t len = 0;
    struct text desc = {{0}, 0};

    if (call->arguments.ptr == NULL || qw_json_iter_init(call->arguments, &it) != QW_OK) {
        return false;
    }
    while (qw_json_iter_next(&it, &key, &value) == QW_OK) {
        qw_json_type type;
        if (qw_json_string(key, (uint8_t *)name, sizeof name, &len) != QW_OK) {
            name[0] = '\0';
            len = 0;
        }
        if (allowed == NULL || len != str_len(allowed) || !str_eq(name, allowed)) {
            text_add(&desc, "Parameter '");
            text_add(&desc, name);
            text_add(&desc, "' is unexpected");
            reply_error(reply, QW_CLASS_GENERIC_ERROR, desc.buf);
            return true;
        }
        if (qw_json_type_of(value, &type) != QW_OK || type != QW_JSON_STRING) {
            text_add(&desc, "Invalid parameter type for '");
            text_add(&desc, allowed);
            text_add(&desc, "', expected: string");
            reply_error(reply, QW_CLASS_GENERIC_ERROR, desc.buf);
            return true;
        }
    }
    return false;
}

static int64_t now_ns(const struct shim *shim)
{
    uint32_t ticks = board_ticks_100hz() - shim->boot_ticks; /* wraps */
    return (int64_t)shim->boot_epoch_s * 1000000000 + (int64_t)ticks * 10000000;
}

static void reply_time(const struct shim *shim, qw_reply *reply)
{
    uint8_t json[24];
    qw_writer w;
    size_t len = 0;
    if (qw_writer_init(&w, json, sizeof json) != QW_OK || qw_writer_int(&w, now_ns(shim)) != QW_OK
        || qw_writer_finish(&w, &len) != QW_OK) {
        reply_error(reply, QW_CLASS_GENERIC_ERROR, "cannot write the time");
        return;
    }
    (void)qw_reply_ok_json(reply, json, len);
}

static void reply_watermark(const struct shim *shim, qw_reply *reply)
{
    uint8_t json[64];
    qw_writer w;
    size_t len = 0;
    if (qw_writer_init(&w, json, sizeof json) != QW_OK || qw_writer_begin_object(&w) != QW_OK
        || qw_writer_key(&w, (const uint8_t *)"used", 4) != QW_OK
        || qw_writer_uint(&w, board_stack_used()) != QW_OK
        || qw_writer_key(&w, (const uint8_t *)"size", 4) != QW_OK
        || qw_writer_uint(&w, board_stack_size()) != QW_OK
        || qw_writer_key(&w, (const uint8_t *)"init", 4) != QW_OK
        || qw_writer_uint(&w, shim->init_stack) != QW_OK || qw_writer_end_object(&w) != QW_OK
        || qw_writer_finish(&w, &len) != QW_OK) {
        reply_error(reply, QW_CLASS_GENERIC_ERROR, "cannot write the watermark");
        return;
    }
    (void)qw_reply_ok_json(reply, json, len);
}

static void shutdown(struct shim *shim, const qw_call *call, qw_reply *reply)
{
    qw_json mode;
    char text[16];
    size_t len = 0;
    enum halt halt = HALT_POWER_OFF;

    if (refuse_arguments(call, reply, "mode")) {
        return;
    }
    if (call->arguments.ptr != NULL && qw_json_get(call->arguments, (const uint8_t *)"mode", 4, &mode) == QW_OK) {
        if (qw_json_string(mode, (uint8_t *)text, sizeof text, &len) != QW_OK || len != str_len(text)) {
            text[0] = '\0'; /* too long, or a NUL inside: not a valid mode */
        }
        if (str_eq(text, "reboot")) {
            halt = HALT_REBOOT;
        } else if (!str_eq(text, "powerdown") && !str_eq(text, "halt")) {
            /* qemu-ga 7.2's words, unbalanced parenthesis included. */
            reply_error(reply, QW_CLASS_GENERIC_ERROR,
                        "mode is invalid (valid values are: halt|powerdown|reboot");
            return;
        }
    }
    shim->halt = halt;
    (void)qw_reply_ok_empty(reply); /* silent: success-response is false */
}

static qw_status handle(void *user, const qw_call *call, qw_reply *reply)
{
    struct shim *shim = user;
    switch (call->index) {
    case CMD_GET_TIME:
        if (!refuse_arguments(call, reply, NULL)) {
            reply_time(shim, reply);
        }
        break;
    case CMD_SHUTDOWN:
        shutdown(shim, call, reply);
        break;
    default: /* CMD_STACK_WATERMARK */
        if (!refuse_arguments(call, reply, NULL)) {
            reply_watermark(shim, reply);
        }
        break;
    }
    return QW_OK;
}

/* ---- main loop -------------------------------------------------------- */

static void report_and_exit(const struct shim *shim)
{
    struct text line = {{0}, 0};
    text_add(&line, "qga-shim: guest-shutdown; stack high-water mark ");
    text_add_u32(&line, board_stack_used());
    text_add(&line, " of ");
    text_add_u32(&line, board_stack_size());
    text_add(&line, " bytes (start-up ");
    text_add_u32(&line, shim->init_stack);
    text_add(&line, ")\n");
    sh_write0(line.buf);
    sh_exit(SH_APPLICATION_EXIT);
}

int main(void)
{
    static struct shim shim;
    struct text banner = {{0}, 0};

    shim.boot_ticks = board_ticks_100hz();
    shim.boot_epoch_s = sh_time();
    shim.halt = HALT_NONE;
    uart_init(115200u);
    board_start_systick_1ms();
    if (qw_qga_agent_init(&agent, input, sizeof input, output, sizeof output, VERSION, commands,
                          sizeof commands / sizeof commands[0], handle, &shim)
        != QW_OK) {
        sh_write0("qga-shim: qw_qga_agent_init failed\n");
        sh_exit(SH_RUNTIME_ERROR);
    }
    text_add(&banner, "qga-shim: " VERSION " on UART0, epoch ");
    text_add_u32(&banner, shim.boot_epoch_s);
    text_add(&banner, " s\n");
    sh_write0(banner.buf);
    /* Start-up is done: keep its stack mark, and measure the loop alone. */
    shim.init_stack = board_stack_used();
    board_repaint_free_stack();

    for (;;) {
        size_t n = uart_read(rx, sizeof rx);
        const uint8_t *rest = rx;
        while (n > 0) {
            size_t used = 0, reply_len = 0;
            const uint8_t *reply = NULL;
            if (qw_qga_agent_feed(&agent, rest, n, &used, &reply, &reply_len) != QW_OK || used > n) {
                sh_write0("qga-shim: qw_qga_agent_feed failed\n");
                sh_exit(SH_RUNTIME_ERROR);
            }
            uart_write(reply, reply_len);
            rest += used;
            n -= used;
        }
        if (shim.halt == HALT_POWER_OFF) {
            report_and_exit(&shim);
        } else if (shim.halt == HALT_REBOOT) {
            board_reset();
        }
    }
}
