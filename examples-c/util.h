/*
 * Small helpers shared by the example programs: Unix sockets, deadlines,
 * and printing JSON values handed out by qwire. Not part of the library.
 */
#ifndef QWIRE_EXAMPLES_UTIL_H
#define QWIRE_EXAMPLES_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qwire.h"

/* Connect to the Unix socket at `path`; -1 with errno on failure. */
int util_connect(const char *path);

/* Listen on a Unix socket at `path` (a stale socket file is replaced). */
int util_listen(const char *path);

/* Write all of `buf`; 0 on success, -1 on error. */
int util_write_all(int fd, const void *buf, size_t len);

/* Milliseconds on a monotonic clock. */
long long util_now_ms(void);

/*
 * Wait until `fd` is readable or `deadline_ms` (util_now_ms() scale) has
 * passed: 1 readable, 0 timed out, -1 error. A deadline < 0 waits forever.
 */
int util_wait_readable(int fd, long long deadline_ms);

/* Print a JSON value normalised to compact ASCII (one line), no newline. */
int util_print_json(FILE *out, qw_json value);

/* Print a JSON string value unescaped (invalid bytes left as they are). */
void util_print_string(FILE *out, qw_json str);

/* Make writes to a closed peer fail with EPIPE instead of killing the
 * process with SIGPIPE. */
void util_ignore_sigpipe(void);

/* Parse a non-negative decimal integer; 1 on success. */
int util_parse_ms(const char *s, long long *out);

#endif
