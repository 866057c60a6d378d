/*
 * qmp-client: run one QMP command against a QMP server (QEMU) on a Unix
 * socket.
 *
 *   qmp-client [--timeout MS] SOCKET COMMAND [ARGUMENTS_JSON]
 *
 * Connects, reads the greeting, negotiates, runs COMMAND with
 * ARGUMENTS_JSON (a JSON object), and prints its `return` value as one line
 * of JSON on stdout (exit 0). A QMP error prints `CLASS: desc` on stderr
 * (exit 1). Events that arrive meanwhile go to stderr as `event: <json>`.
 * Connection failure, protocol failure or timeout (default 10000 ms for the
 * whole exchange) exit 2 with a message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qwire.h"
#include "util.h"

static uint8_t frame_buf[1u << 20];
static uint8_t out_buf[1u << 16];
static uint8_t rx[1u << 16];

static int fail(const char *what)
{
    fprintf(stderr, "qmp-client: %s\n", what);
    return 2;
}

static void print_event(const qw_qmp_event *ev)
{
    /* Rebuild the event as one line of JSON. */
    static uint8_t buf[1u << 20];
    char name[256];
    size_t name_len = 0;
    size_t len = 0;
    qw_writer w;
    if (qw_json_string(ev->event_name, (uint8_t *)name, sizeof name, &name_len) != QW_OK) {
        return;
    }
    if (qw_writer_init(&w, buf, sizeof buf) != QW_OK || qw_writer_begin_object(&w) != QW_OK
        || qw_writer_key(&w, (const uint8_t *)"event", 5) != QW_OK
        || qw_writer_string(&w, (const uint8_t *)name, name_len) != QW_OK) {
        return;
    }
    if (ev->value.ptr != NULL) {
        (void)qw_writer_key(&w, (const uint8_t *)"data", 4);
        (void)qw_writer_json(&w, ev->value);
    }
    (void)qw_writer_key(&w, (const uint8_t *)"timestamp", 9);
    (void)qw_writer_begin_object(&w);
    (void)qw_writer_key(&w, (const uint8_t *)"seconds", 7);
    (void)qw_writer_int(&w, ev->seconds);
    (void)qw_writer_key(&w, (const uint8_t *)"microseconds", 12);
    (void)qw_writer_int(&w, ev->microseconds);
    (void)qw_writer_end_object(&w);
    (void)qw_writer_end_object(&w);
    if (qw_writer_finish(&w, &len) == QW_OK) {
        fputs("event: ", stderr);
        fwrite(buf, 1, len, stderr);
        fputc('\n', stderr);
    }
}

int main(int argc, char **argv)
{
    long long timeout = 10000;
    const char *path, *command, *args = NULL;
    qw_qmp_client client;
    uint64_t command_id = 0;
    int sent = 0;
    long long deadline;
    int fd, argi = 1;

    util_ignore_sigpipe();
    if (argi + 1 < argc && strcmp(argv[argi], "--timeout") == 0) {
        if (!util_parse_ms(argv[argi + 1], &timeout)) {
            return fail("bad --timeout");
        }
        argi += 2;
    }
    if (argc - argi < 2 || argc - argi > 3) {
        fprintf(stderr, "usage: qmp-client [--timeout MS] SOCKET COMMAND [ARGUMENTS_JSON]\n");
        return 2;
    }
    path = argv[argi];
    command = argv[argi + 1];
    if (argc - argi == 3) {
        args = argv[argi + 2];
    }
    fd = util_connect(path);
    if (fd < 0) {
        fprintf(stderr, "qmp-client: cannot connect to %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (qw_qmp_client_init(&client, frame_buf, sizeof frame_buf) != QW_OK) {
        return fail("cannot initialise the client");
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
            size_t used = 0, written = 0;
            qw_qmp_event ev;
            qw_status st = qw_qmp_client_feed(&client, rx + off, (size_t)n - off, &used, &ev);
            if (st != QW_OK) {
                return fail(qw_status_str((uint32_t)st));
            }
            off += used;
            switch (ev.kind) {
            case QW_QMP_EVENT_GREETING:
                if (qw_qmp_client_negotiate(&client, false, out_buf, sizeof out_buf, &written) != QW_OK
                    || util_write_all(fd, out_buf, written) != 0) {
                    return fail("cannot negotiate");
                }
                break;
            case QW_QMP_EVENT_NEGOTIATED:
                st = qw_qmp_client_send(&client, (const uint8_t *)command, strlen(command),
                                        (const uint8_t *)args, args != NULL ? strlen(args) : 0, false,
                                        out_buf, sizeof out_buf, &command_id, &written);
                if (st == QW_ERR_INVALID_JSON || st == QW_ERR_WRONG_TYPE) {
                    return fail("ARGUMENTS_JSON must be one JSON object");
                }
                if (st != QW_OK || util_write_all(fd, out_buf, written) != 0) {
                    return fail("cannot send the command");
                }
                sent = 1;
                break;
            case QW_QMP_EVENT_NEGOTIATION_FAILED:
                fputs("qmp-client: negotiation failed: ", stderr);
                util_print_string(stderr, ev.error_desc);
                fputc('\n', stderr);
                return 2;
            case QW_QMP_EVENT_RETURN:
                if (sent && ev.id == command_id) {
                    if (util_print_json(stdout, ev.value) != 0) {
                        return fail("cannot print the reply");
                    }
                    fputc('\n', stdout);
                    return fflush(stdout) == 0 ? 0 : 2;
                }
                break;
            case QW_QMP_EVENT_ERROR:
                if (sent && ev.id == command_id) {
                    util_print_string(stderr, ev.error_class);
                    fputs(": ", stderr);
                    util_print_string(stderr, ev.error_desc);
                    fputc('\n', stderr);
                    return 1;
                }
                break;
            case QW_QMP_EVENT_TOO_LARGE:
                if (sent && (!ev.has_id || ev.id == command_id)) {
                    fprintf(stderr, "qmp-client: reply of %llu bytes is larger than the %u-byte buffer\n",
                            (unsigned long long)ev.len, (unsigned)sizeof frame_buf);
                    return 2;
                }
                break;
            case QW_QMP_EVENT_EVENT:
                print_event(&ev);
                break;
            case QW_QMP_EVENT_MALFORMED:
                fprintf(stderr, "qmp-client: ignoring malformed input at byte %llu\n", (unsigned long long)ev.at);
                break;
            case QW_QMP_EVENT_NEED_MORE:
            case QW_QMP_EVENT_LATE:
            case QW_QMP_EVENT_UNSOLICITED:
            default:
                break;
            }
        }
    }
}
