/*
 * qwire-dump: split a captured QMP/QGA byte stream into messages,
 * sentinels and errors, with their stream offsets.
 *
 *   qwire-dump [--max-frame BYTES] [--max-depth N] [--single-quotes] [FILE]
 *
 * Prints exactly what core/examples/dump.rs prints (one JSON object per
 * line, see README.md "The dump tool"). Exit status 0 for any input, 2 for
 * bad arguments or an unreadable file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qwire.h"

static void usage(const char *why)
{
    if (why != NULL && why[0] != '\0') {
        fprintf(stderr, "qwire-dump: %s\n", why);
    }
    fprintf(stderr, "usage: qwire-dump [--max-frame BYTES] [--max-depth N] [--single-quotes] [FILE]\n");
}

static int parse_size(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end = NULL;
    unsigned long long v;
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return 0;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return 0;
    }
    *out = v;
    return 1;
}

static void print_event(const qw_event *e, bool single_quotes)
{
    switch (e->kind) {
    case QW_EVENT_FRAME: {
        qw_message_kind kind = QW_MESSAGE_OTHER;
        qw_json v;
        /* A frame is valid in the dialect it was framed with. */
        if (qw_json_parse(e->frame.ptr, e->frame.len, single_quotes, &v) == QW_OK) {
            (void)qw_classify(v, &kind);
        }
        printf("{\"at\":%" PRIu64 ",\"len\":%" PRIu64 ",\"kind\":\"%s\"}\n", e->at, e->len,
               qw_message_kind_str((uint32_t)kind));
        break;
    }
    case QW_EVENT_SENTINEL:
        printf("{\"at\":%" PRIu64 ",\"sentinel\":true}\n", e->at);
        break;
    case QW_EVENT_ERROR:
        printf("{\"at\":%" PRIu64 ",\"error\":\"%s\"}\n", e->at, qw_error_kind_str((uint32_t)e->error));
        break;
    case QW_EVENT_TOO_LARGE:
        printf("{\"at\":%" PRIu64 ",\"error\":\"too-large\",\"len\":%" PRIu64 "}\n", e->at, e->len);
        break;
    case QW_EVENT_INCOMPLETE:
        printf("{\"at\":%" PRIu64 ",\"incomplete\":true}\n", e->at);
        break;
    case QW_EVENT_NEED_MORE:
    default:
        break;
    }
}

int main(int argc, char **argv)
{
    unsigned long long max_frame = 1u << 20;
    qw_framer_config config = {0, false};
    const char *path = NULL;
    FILE *in = stdin;
    static unsigned char chunk[64 * 1024];
    unsigned char *buf;
    qw_framer framer;
    qw_event ev;
    int i;

    for (i = 1; i < argc; i++) {
        unsigned long long v = 0;
        if (strcmp(argv[i], "--max-frame") == 0) {
            if (i + 1 >= argc || !parse_size(argv[++i], (size_t)-1, &v)) {
                usage("bad --max-frame");
                return 2;
            }
            max_frame = v;
        } else if (strcmp(argv[i], "--max-depth") == 0) {
            if (i + 1 >= argc || !parse_size(argv[++i], 1024, &v) || v == 0) {
                usage("--max-depth must be 1..=1024");
                return 2;
            }
            config.max_depth = (uint16_t)v;
        } else if (strcmp(argv[i], "--single-quotes") == 0) {
            config.single_quotes = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage("");
            return 2;
        } else if (strncmp(argv[i], "--", 2) == 0) {
            usage("unknown option");
            return 2;
        } else if (path == NULL) {
            path = argv[i];
        } else {
            usage("only one FILE");
            return 2;
        }
    }
    if (path != NULL) {
        in = fopen(path, "rb");
        if (in == NULL) {
            fprintf(stderr, "qwire-dump: %s: %s\n", path, strerror(errno));
            return 2;
        }
    }
    /* The library never allocates; this tool chooses its frame buffer. */
    buf = malloc(max_frame > 0 ? (size_t)max_frame : 1);
    if (buf == NULL) {
        fprintf(stderr, "qwire-dump: out of memory\n");
        return 2;
    }
    if (qw_framer_init(&framer, buf, (size_t)max_frame, &config) != QW_OK) {
        fprintf(stderr, "qwire-dump: bad configuration\n");
        return 2;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, in);
        size_t off = 0;
        if (n == 0) {
            break;
        }
        while (off < n) {
            size_t used = 0;
            qw_status st = qw_framer_feed(&framer, chunk + off, n - off, &used, &ev);
            if (st != QW_OK) {
                fprintf(stderr, "qwire-dump: %s\n", qw_status_str((uint32_t)st));
                return 2;
            }
            print_event(&ev, config.single_quotes);
            off += used;
        }
    }
    if (ferror(in)) {
        fprintf(stderr, "qwire-dump: read error\n");
        return 2;
    }
    if (qw_framer_finish(&framer, &ev) == QW_OK) {
        print_event(&ev, config.single_quotes);
    }
    free(buf);
    if (in != stdin) {
        fclose(in);
    }
    return fflush(stdout) == 0 ? 0 : 2;
}
