#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int fill_address(struct sockaddr_un *addr, const char *path)
{
    size_t n = strlen(path);
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    if (n >= sizeof addr->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(addr->sun_path, path, n + 1);
    return 0;
}

int util_connect(const char *path)
{
    struct sockaddr_un addr;
    int fd;
    if (fill_address(&addr, path) != 0) {
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int util_listen(const char *path)
{
    struct sockaddr_un addr;
    int fd;
    if (fill_address(&addr, path) != 0) {
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    (void)unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 1) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int util_write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

long long util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int util_wait_readable(int fd, long long deadline_ms)
{
    for (;;) {
        struct pollfd p;
        long long left = deadline_ms < 0 ? -1 : deadline_ms - util_now_ms();
        int r;
        if (deadline_ms >= 0 && left <= 0) {
            return 0;
        }
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        r = poll(&p, 1, left < 0 ? -1 : (left > 60000 ? 60000 : (int)left));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return -1;
        }
        if (r > 0) {
            return 1;
        }
    }
}

int util_print_json(FILE *out, qw_json value)
{
    /* Normalising never makes a value longer than twice... plus escapes:
     * a non-ASCII byte becomes up to 6 bytes, so reserve 6x. */
    static uint8_t buf[6 * (1u << 20) + 64];
    qw_writer w;
    size_t len = 0;
    if (value.len > (1u << 20)) {
        return -1;
    }
    if (qw_writer_init(&w, buf, sizeof buf) != QW_OK || qw_writer_json(&w, value) != QW_OK
        || qw_writer_finish(&w, &len) != QW_OK) {
        return -1;
    }
    return fwrite(buf, 1, len, out) == len ? 0 : -1;
}

void util_print_string(FILE *out, qw_json str)
{
    static uint8_t buf[64 * 1024];
    size_t len = 0;
    if (qw_json_string(str, buf, sizeof buf, &len) == QW_OK) {
        fwrite(buf, 1, len, out);
    } else if (str.ptr != NULL) {
        fwrite(str.ptr, 1, str.len, out);
    }
}

int util_parse_ms(const char *s, long long *out)
{
    char *end = NULL;
    long long v;
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return 0;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0) {
        return 0;
    }
    *out = v;
    return 1;
}

void util_ignore_sigpipe(void)
{
    (void)signal(SIGPIPE, SIG_IGN);
}
