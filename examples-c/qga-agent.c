/*
 * qga-agent: a guest-agent shim built the way firmware would build it —
 * static storage only, no malloc — on top of libqwire.
 *
 *   qga-agent [--listen SOCKET]
 *
 * Serves the QEMU Guest Agent protocol on stdin/stdout, or on a Unix socket
 * with --listen (one client at a time; like qemu-ga on a serial line, the
 * parser state is kept across clients, so a client must resynchronise with
 * 0xFF + guest-sync-delimited). Implements guest-sync,
 * guest-sync-delimited, guest-ping, guest-info (answered by libqwire),
 * guest-get-time and guest-shutdown (no reply; the program exits 0).
 * Everything else gets qemu-ga's answer for an unknown command.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "qwire.h"
#include "util.h"

static qw_qga_agent agent;
static uint8_t request_buf[64 * 1024];
static uint8_t reply_buf[64 * 1024];
static uint8_t rx[4096];

static const qw_command commands[] = {
    {"guest-get-time", true, false},
    {"guest-shutdown", false, false},
};

static int shutdown_requested;

static void reply_text(qw_reply *reply, qw_error_class class, const char *text)
{
    (void)qw_reply_error(reply, (uint32_t)class, (const uint8_t *)text, strlen(text));
}

/* qemu-ga's checks for a command's arguments: only `allowed` (may be NULL)
 * is accepted, and it must be a string. Returns 1 if an error was sent. */
static int reject_arguments(const qw_call *call, qw_reply *reply, const char *allowed)
{
    qw_json_iter it;
    qw_json key, value;
    char name[64], desc[160];
    size_t len = 0;
    if (call->arguments.ptr == NULL || qw_json_iter_init(call->arguments, &it) != QW_OK) {
        return 0;
    }
    while (qw_json_iter_next(&it, &key, &value) == QW_OK) {
        qw_json_type type;
        if (qw_json_string(key, (uint8_t *)name, sizeof name, &len) != QW_OK
            || allowed == NULL || strcmp(name, allowed) != 0) {
            snprintf(desc, sizeof desc, "Parameter '%s' is unexpected", len < sizeof name ? name : "?");
            reply_text(reply, QW_CLASS_GENERIC_ERROR, desc);
            return 1;
        }
        if (qw_json_type_of(value, &type) != QW_OK || type != QW_JSON_STRING) {
            snprintf(desc, sizeof desc, "Invalid parameter type for '%s', expected: string", name);
            reply_text(reply, QW_CLASS_GENERIC_ERROR, desc);
            return 1;
        }
    }
    return 0;
}

static qw_status handle(void *user, const qw_call *call, qw_reply *reply)
{
    (void)user;
    if (strcmp(call->name, "guest-get-time") == 0) {
        struct timespec ts;
        char text[32];
        if (reject_arguments(call, reply, NULL)) {
            return QW_OK;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(text, sizeof text, "%lld", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
        return qw_reply_ok_json(reply, (const uint8_t *)text, strlen(text));
    }
    if (strcmp(call->name, "guest-shutdown") == 0) {
        if (reject_arguments(call, reply, "mode")) {
            return QW_OK;
        }
        shutdown_requested = 1;
        return qw_reply_ok_empty(reply); /* success-response false: nothing is sent */
    }
    reply_text(reply, QW_CLASS_COMMAND_NOT_FOUND, "unexpected command");
    return QW_OK;
}

/* Feed what arrived; write each reply back. Returns -1 if writing fails. */
static int serve_bytes(int out_fd, const uint8_t *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        size_t used = 0, reply_len = 0;
        const uint8_t *reply = NULL;
        if (qw_qga_agent_feed(&agent, data + off, len - off, &used, &reply, &reply_len) != QW_OK) {
            return -1;
        }
        if (reply_len > 0 && util_write_all(out_fd, reply, reply_len) != 0) {
            return -1;
        }
        off += used;
        if (shutdown_requested) {
            return 0;
        }
    }
    return 0;
}

/* Serve one byte stream until it ends (or a shutdown is requested). */
static void serve(int in_fd, int out_fd)
{
    for (;;) {
        ssize_t n = read(in_fd, rx, sizeof rx);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || serve_bytes(out_fd, rx, (size_t)n) != 0 || shutdown_requested) {
            return;
        }
    }
}

int main(int argc, char **argv)
{
    const char *listen_path = NULL;
    qw_status st;
    util_ignore_sigpipe();
    if (argc == 3 && strcmp(argv[1], "--listen") == 0) {
        listen_path = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: qga-agent [--listen SOCKET]\n");
        return 2;
    }
    st = qw_qga_agent_init(&agent, request_buf, sizeof request_buf, reply_buf, sizeof reply_buf,
                           "qwire-" "0.1.0", commands, sizeof commands / sizeof commands[0], handle, NULL);
    if (st != QW_OK) {
        fprintf(stderr, "qga-agent: %s\n", qw_status_str((uint32_t)st));
        return 2;
    }
    if (listen_path == NULL) {
        serve(0, 1);
        return 0;
    }
    {
        int lfd = util_listen(listen_path);
        if (lfd < 0) {
            fprintf(stderr, "qga-agent: cannot listen on %s: %s\n", listen_path, strerror(errno));
            return 2;
        }
        while (!shutdown_requested) {
            int cfd = accept(lfd, NULL, NULL);
            if (cfd < 0) {
                if (errno == EINTR) {
                    continue;
                }
                fprintf(stderr, "qga-agent: accept: %s\n", strerror(errno));
                return 2;
            }
            serve(cfd, cfd);
            close(cfd);
        }
        close(lfd);
        (void)unlink(listen_path);
    }
    return 0;
}
