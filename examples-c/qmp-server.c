/*
 * qmp-server: a toy VMM control plane on libqwire's QMP server.
 *
 *   qmp-server --listen SOCKET
 *
 * Greets like QEMU (offering oob), enforces capabilities negotiation, and
 * implements query-version, query-status, stop and cont (with STOP and
 * RESUME events sent before their replies, as QEMU does) and quit (a
 * SHUTDOWN event, the reply, then exit 0). Any other command gets QEMU's
 * CommandNotFound. One client at a time; each connection is greeted and
 * negotiates afresh.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "qwire.h"
#include "util.h"

static qw_qmp_server server;
static uint8_t request_buf[64 * 1024];
static uint8_t out_buf[64 * 1024];
static uint8_t rx[4096];

static const qw_command commands[] = {
    {"query-version", true, false},
    {"query-status", true, false},
    {"stop", true, false},
    {"cont", true, false},
    {"quit", true, false},
};

static int running = 1;
static int quit_requested;

static void now(int64_t *seconds, int64_t *micros)
{
    struct timeval tv;
    if (gettimeofday(&tv, NULL) == 0) {
        *seconds = tv.tv_sec;
        *micros = tv.tv_usec;
    } else {
        *seconds = -1; /* as QEMU reports an unreadable clock */
        *micros = -1;
    }
}

static void event(qw_reply *reply, const char *name, const char *data)
{
    int64_t s, us;
    now(&s, &us);
    (void)qw_reply_event(reply, (const uint8_t *)name, strlen(name), (const uint8_t *)data,
                         data != NULL ? strlen(data) : 0, s, us);
}

static qw_status ok(qw_reply *reply, const char *json)
{
    return qw_reply_ok_json(reply, (const uint8_t *)json, strlen(json));
}

static qw_status handle(void *user, const qw_call *call, qw_reply *reply)
{
    (void)user;
    if (call->arguments.ptr != NULL && call->arguments.len > 2) {
        static const char msg[] = "Parameter arguments are not accepted by this server";
        return qw_reply_error(reply, QW_CLASS_GENERIC_ERROR, (const uint8_t *)msg, sizeof msg - 1);
    }
    if (strcmp(call->name, "query-version") == 0) {
        return ok(reply, "{\"qemu\": {\"micro\": 0, \"minor\": 1, \"major\": 0}, \"package\": \"qwire qmp-server\"}");
    }
    if (strcmp(call->name, "query-status") == 0) {
        return ok(reply, running ? "{\"status\": \"running\", \"singlestep\": false, \"running\": true}"
                                 : "{\"status\": \"paused\", \"singlestep\": false, \"running\": false}");
    }
    if (strcmp(call->name, "stop") == 0) {
        if (running) {
            event(reply, "STOP", NULL);
            running = 0;
        }
        return qw_reply_ok_empty(reply);
    }
    if (strcmp(call->name, "cont") == 0) {
        if (!running) {
            event(reply, "RESUME", NULL);
            running = 1;
        }
        return qw_reply_ok_empty(reply);
    }
    if (strcmp(call->name, "quit") == 0) {
        event(reply, "SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
        quit_requested = 1;
        return qw_reply_ok_empty(reply);
    }
    return QW_OK; /* unreachable: the server only calls for listed commands */
}

/* Serve one connection until it closes or `quit` ran. */
static void serve(int fd)
{
    size_t written = 0;
    if (qw_qmp_server_reset(&server) != QW_OK
        || qw_qmp_server_greeting(&server, out_buf, sizeof out_buf, &written) != QW_OK
        || util_write_all(fd, out_buf, written) != 0) {
        return;
    }
    while (!quit_requested) {
        size_t off = 0;
        ssize_t n = read(fd, rx, sizeof rx);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        while (off < (size_t)n) {
            size_t used = 0;
            if (qw_qmp_server_feed(&server, rx + off, (size_t)n - off, out_buf, sizeof out_buf, &used,
                                   &written) != QW_OK
                || util_write_all(fd, out_buf, written) != 0) {
                return;
            }
            off += used;
            if (quit_requested) {
                return;
            }
        }
    }
}

int main(int argc, char **argv)
{
    int lfd;
    qw_status st;
    util_ignore_sigpipe();
    if (argc != 3 || strcmp(argv[1], "--listen") != 0) {
        fprintf(stderr, "usage: qmp-server --listen SOCKET\n");
        return 2;
    }
    st = qw_qmp_server_init(&server, request_buf, sizeof request_buf, 0, 1, 0, "qwire qmp-server", true,
                            commands, sizeof commands / sizeof commands[0], handle, NULL);
    if (st != QW_OK) {
        fprintf(stderr, "qmp-server: %s\n", qw_status_str((uint32_t)st));
        return 2;
    }
    lfd = util_listen(argv[2]);
    if (lfd < 0) {
        fprintf(stderr, "qmp-server: cannot listen on %s: %s\n", argv[2], strerror(errno));
        return 2;
    }
    while (!quit_requested) {
        int cfd = accept(lfd, NULL, NULL);
        if (cfd < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "qmp-server: accept: %s\n", strerror(errno));
            return 2;
        }
        serve(cfd);
        close(cfd);
    }
    close(lfd);
    (void)unlink(argv[2]);
    return 0;
}
