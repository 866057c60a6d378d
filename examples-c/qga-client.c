/*
 * qga-client: run one guest-agent command against a QEMU Guest Agent on a
 * Unix socket (qemu-ga, or the host end of a virtio-serial/serial chardev).
 *
 *   qga-client [--timeout MS] SOCKET COMMAND [ARGUMENTS_JSON]
 *
 * Synchronises with 0xFF + guest-sync-delimited and a random id (so stale
 * output and half-read input from earlier clients do no harm), runs
 * COMMAND and prints its `return` value as one line of JSON (exit 0). An
 * agent error prints `CLASS: desc` on stderr (exit 1). Commands that are
 * not answered on success (guest-shutdown, guest-suspend-*) exit 0 once
 * sent. Failure or timeout (default 10000 ms) exit 2 with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qwire.h"
#include "util.h"

static uint8_t frame_buf[1u << 20];
static uint8_t out_buf[1u << 16];
static uint8_t rx[1u << 16];

static int fail(const char *what)
{
    fprintf(stderr, "qga-client: %s\n", what);
    return 2;
}

/* A fresh sync id: random, so no earlier client's reply can match it. */
static int64_t random_id(void)
{
    uint64_t v = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, &v, sizeof v) != (ssize_t)sizeof v) {
        v = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
    }
    if (fd >= 0) {
        close(fd);
    }
    return (int64_t)(v >> 2); /* positive, fits int64 */
}

int main(int argc, char **argv)
{
    long long timeout = 10000;
    const char *path, *command, *args = NULL;
    qw_qga_client client;
    bool answers = true;
    long long deadline;
    size_t written = 0;
    int fd, argi = 1;

    util_ignore_sigpipe();
    if (argi + 1 < argc && strcmp(argv[argi], "--timeout") == 0) {
        if (!util_parse_ms(argv[argi + 1], &timeout)) {
            return fail("bad --timeout");
        }
        argi += 2;
    }
    if (argc - argi < 2 || argc - argi > 3) {
        fprintf(stderr, "usage: qga-client [--timeout MS] SOCKET COMMAND [ARGUMENTS_JSON]\n");
        return 2;
    }
    path = argv[argi];
    command = argv[argi + 1];
    if (argc - argi == 3) {
        args = argv[argi + 2];
    }
    (void)qw_qga_success_response((const uint8_t *)command, strlen(command), &answers);
    fd = util_connect(path);
    if (fd < 0) {
        fprintf(stderr, "qga-client: cannot connect to %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (qw_qga_client_init(&client, frame_buf, sizeof frame_buf) != QW_OK
        || qw_qga_client_sync(&client, random_id(), out_buf, sizeof out_buf, &written) != QW_OK
        || util_write_all(fd, out_buf, written) != 0) {
        return fail("cannot start synchronising");
    }
    deadline = util_now_ms() + timeout;
    for (;;) {
        ssize_t n;
        size_t off = 0;
        int ready = util_wait_readable(fd, deadline);
        if (ready == 0) {
            return fail("timed out");
        }
        if (ready < 0) {
            return fail("poll failed");
        }
        n = read(fd, rx, sizeof rx);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return fail(n == 0 ? "connection closed before the reply" : "read failed");
        }
        while (off < (size_t)n) {
            size_t used = 0;
            bool expects = true;
            qw_qga_event ev;
            qw_status st = qw_qga_client_feed(&client, rx + off, (size_t)n - off, &used, &ev);
            if (st != QW_OK) {
                return fail(qw_status_str((uint32_t)st));
            }
            off += used;
            switch (ev.kind) {
            case QW_QGA_EVENT_SYNCED:
                st = qw_qga_client_send(&client, (const uint8_t *)command, strlen(command),
                                        (const uint8_t *)args, args != NULL ? strlen(args) : 0, answers,
                                        out_buf, sizeof out_buf, &written, &expects);
                if (st == QW_ERR_INVALID_JSON || st == QW_ERR_WRONG_TYPE) {
                    return fail("ARGUMENTS_JSON must be one JSON object");
                }
                if (st != QW_OK || util_write_all(fd, out_buf, written) != 0) {
                    return fail("cannot send the command");
                }
                if (!expects) {
                    return 0; /* not answered on success: done once sent */
                }
                break;
            case QW_QGA_EVENT_RETURN:
                if (util_print_json(stdout, ev.value) != 0) {
                    return fail("cannot print the reply");
                }
                fputc('\n', stdout);
                return fflush(stdout) == 0 ? 0 : 2;
            case QW_QGA_EVENT_ERROR:
                util_print_string(stderr, ev.error_class);
                fputs(": ", stderr);
                util_print_string(stderr, ev.error_desc);
                fputc('\n', stderr);
                return 1;
            case QW_QGA_EVENT_TOO_LARGE:
                fprintf(stderr, "qga-client: reply of %llu bytes is larger than the %u-byte buffer\n",
                        (unsigned long long)ev.len, (unsigned)sizeof frame_buf);
                return 2;
            case QW_QGA_EVENT_NOTHING:
            case QW_QGA_EVENT_LATE_ERROR:
            case QW_QGA_EVENT_DISCARDED:
            default:
                break;
            }
        }
    }
}
