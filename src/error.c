/* src/error.c -- the one error path: "shardalloc: <call>(): <what> <value>"
 * on stderr, formatted on the stack and written with write(2), never through
 * malloc or stdio (it runs inside malloc and free). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

/* Append v in base 10 or 16 (with 0x) at buf[*n], bounded by cap. */
size_t _sa_fmt_u64(char *buf, size_t n, size_t cap, uint64_t v, bool hex)
{
    char digits[24];
    size_t d = 0;
    unsigned base = hex ? 16 : 10;
    do {
        digits[d++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    if (hex)
        n = _sa_fmt_str(buf, n, cap, "0x");
    while (d > 0 && n < cap)
        buf[n++] = digits[--d];
    return n;
}

size_t _sa_fmt_str(char *buf, size_t n, size_t cap, const char *s)
{
    while (*s != '\0' && n < cap)
        buf[n++] = *s++;
    return n;
}

void _sa_write_stderr(const char *buf, size_t n)
{
    int saved = errno;
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, buf, n);
        if (w <= 0)
            break;
        buf += w;
        n -= (size_t)w;
    }
    errno = saved;
}

void _sa_error(const char *call, const char *what, uintptr_t value, bool is_pointer)
{
    char buf[256];
    size_t n = 0, cap = sizeof buf - 1;
    n = _sa_fmt_str(buf, n, cap, "shardalloc: ");
    n = _sa_fmt_str(buf, n, cap, call);
    n = _sa_fmt_str(buf, n, cap, "(): ");
    n = _sa_fmt_str(buf, n, cap, what);
    n = _sa_fmt_str(buf, n, cap, " ");
    n = _sa_fmt_u64(buf, n, cap, value, is_pointer);
    buf[n++] = '\n';
    _sa_write_stderr(buf, n);
}
