/* src/error.c -- the one error path: "shardalloc: <call>(): <what> <value>"
 * on stderr, formatted on the stack and written with write(2), never through
 * malloc or stdio (it runs inside malloc and free, and before malloc works).
 * After the message: the program's callback (sa_register_error), then, with
 * SHARDALLOC_ABORT_ON_ERROR=1, abort() as glibc does on a detected misuse. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

static sa_error_fn *_Atomic error_fn;
static void *_Atomic error_arg;

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

size_t _sa_fmt_pid_prefix(char *buf, size_t n, size_t cap)
{
    n = _sa_fmt_str(buf, n, cap, "shardalloc[");
    n = _sa_fmt_u64(buf, n, cap, (uint64_t)getpid(), false);
    return _sa_fmt_str(buf, n, cap, "]: ");
}

void _sa_write_stderr(const char *buf, size_t n)
{
    _sa_write_fd(STDERR_FILENO, buf, n);
}

void _sa_write_fd(int fd, const char *buf, size_t n)
{
    int saved = errno;
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w <= 0)
            break;
        buf += w;
        n -= (size_t)w;
    }
    errno = saved;
}

sa_public void sa_register_error(sa_error_fn *fn, void *arg)
{
    atomic_store_explicit(&error_arg, arg, memory_order_relaxed);
    atomic_store_explicit(&error_fn, fn, memory_order_release);
}

void _sa_error_text(sa_error_kind_t kind, const char *call, const char *what, const char *text,
                    const void *p)
{
    char buf[1024];
    size_t n = 0, cap = sizeof buf - 1;
    n = _sa_fmt_str(buf, n, cap, "shardalloc: ");
    n = _sa_fmt_str(buf, n, cap, call);
    n = _sa_fmt_str(buf, n, cap, "(): ");
    n = _sa_fmt_str(buf, n, cap, what);
    n = _sa_fmt_str(buf, n, cap, " ");
    if (text != NULL)
        n = _sa_fmt_str(buf, n, cap, text);
    else
        n = _sa_fmt_u64(buf, n, cap, (uintptr_t)p, true);
    buf[n++] = '\n';
    _sa_write_stderr(buf, n);
    sa_error_fn *fn = atomic_load_explicit(&error_fn, memory_order_acquire);
    if (fn != NULL)
        fn(kind, call, p, atomic_load_explicit(&error_arg, memory_order_relaxed));
    if (_sa_option(SA_OPTION_ABORT_ON_ERROR))
        abort();
}

void _sa_error_ptr(sa_error_kind_t kind, const char *call, const char *what, const void *p)
{
    _sa_error_text(kind, call, what, NULL, p);
}
