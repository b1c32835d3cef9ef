/* src/options.c -- the SHARDALLOC_* options: their table, the environment
 * read once at process start, and sa_option_get / sa_option_set.
 *
 * The environment is read before malloc works (from the library constructor
 * or the first malloc of the process), so nothing here allocates: `environ`
 * is walked in place and reports go through src/error.c's stack-formatted
 * write(2). Each unknown SHARDALLOC_ variable and each malformed value is
 * reported once, with what would have been valid; the option keeps its
 * default (src/config.h).
 *
 * Values are relaxed atomics: the program may change one from any thread
 * while others read it on their slow paths (a reader sees the old or the new
 * value). No fast path reads an option. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

extern char **environ;

#define PREFIX      "SHARDALLOC_"
#define PREFIX_LEN  (sizeof PREFIX - 1)

_Atomic long long _sa_option_values[SA_OPTION__COUNT] = {
    [SA_OPTION_SHOW_STATS]     = SA_OPTION_SHOW_STATS_DEFAULT,
    [SA_OPTION_VERBOSE]        = SA_OPTION_VERBOSE_DEFAULT,
    [SA_OPTION_PURGE]          = SA_OPTION_PURGE_DEFAULT,
    [SA_OPTION_PURGE_DELAY]    = SA_PURGE_DELAY_MS,
    [SA_OPTION_LIMIT]          = SA_OPTION_LIMIT_DEFAULT,
    [SA_OPTION_ABORT_ON_ERROR] = SA_OPTION_ABORT_ON_ERROR_DEFAULT,
};

/* SHARDALLOC_STATS_FILE, copied (the program may change its environment),
 * and changed from code under the lock (a path is not one atomic word). */
static char stats_file[SA_STATS_FILE_MAX];
static pthread_mutex_t stats_file_lock = PTHREAD_MUTEX_INITIALIZER;

typedef enum value_kind_e { V_BOOL, V_PURGE, V_DELAY, V_SIZE, V_PATH, V_OTHER } value_kind_t;

typedef struct option_desc_s {
    const char *name;       /* after SHARDALLOC_ */
    value_kind_t kind;
} option_desc_t;

/* Indexed by sa_option_t; then the variables that are not sa_option_t's. */
static const option_desc_t descs[] = {
    [SA_OPTION_SHOW_STATS]     = { "SHOW_STATS", V_BOOL },
    [SA_OPTION_VERBOSE]        = { "VERBOSE", V_BOOL },
    [SA_OPTION_PURGE]          = { "PURGE", V_PURGE },
    [SA_OPTION_PURGE_DELAY]    = { "PURGE_DELAY", V_DELAY },
    [SA_OPTION_LIMIT]          = { "LIMIT", V_SIZE },
    [SA_OPTION_ABORT_ON_ERROR] = { "ABORT_ON_ERROR", V_BOOL },
    [SA_OPTION__COUNT]         = { "STATS_FILE", V_PATH },
    /* read by the tracing build's src/trace.c, accepted (and ignored) by the others */
    [SA_OPTION__COUNT + 1]     = { "TRACE_MB", V_OTHER },
};
#define DESC_COUNT (sizeof descs / sizeof descs[0])

/* What a valid value of each kind looks like, for the report. */
static const char *const expected[] = {
    [V_BOOL]  = "0 or 1",
    [V_PURGE] = "dontneed or free",
    [V_DELAY] = "milliseconds, or -1 for never",
    [V_SIZE]  = "bytes, with an optional K, M, G or T: 512M, 2G; 0 for no limit",
    [V_PATH]  = "a file name",
    [V_OTHER] = "",
};

/* ---- parsing, in place ------------------------------------------------------ */

/* A decimal number below 2^62 at *s; advances *s past it. */
static bool parse_decimal(const char **s, long long *out)
{
    const char *p = *s;
    long long v = 0;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (LLONG_MAX >> 1) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    *s = p;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, long long *out)
{
    static const char *const yes[] = { "1", "yes", "true", "on" };
    static const char *const no[] = { "0", "no", "false", "off" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = 1; return true; }
        if (strcasecmp(s, no[i]) == 0) { *out = 0; return true; }
    }
    return false;
}

/* "512M", "2G", "1048576", "64KiB": bytes, binary units. */
static bool parse_size(const char *s, long long *out)
{
    long long v;
    if (!parse_decimal(&s, &v))
        return false;
    static const char units[] = "KMGT";
    const char *u = *s != '\0' ? strchr(units, *s & ~0x20) : NULL;
    if (u != NULL) {
        int shift = 10 * (int)(u - units + 1);
        if (v > (LLONG_MAX >> 1) >> shift)
            return false;
        v <<= shift;
        s++;
        if (strcasecmp(s, "iB") == 0 || strcasecmp(s, "B") == 0)
            s += strlen(s);
    }
    *out = v;
    return *s == '\0';
}

/* The value of option `kind` written as `s`, or false if malformed. */
static bool parse_value(value_kind_t kind, const char *s, long long *out)
{
    switch (kind) {
    case V_BOOL:
        return parse_bool(s, out);
    case V_PURGE:
        if (strcasecmp(s, "dontneed") == 0) { *out = SA_PURGE_DONTNEED; return true; }
        if (strcasecmp(s, "free") == 0) { *out = SA_PURGE_FREE; return true; }
        return false;
    case V_DELAY:
        if (strcmp(s, "-1") == 0 || strcasecmp(s, "never") == 0) { *out = -1; return true; }
        return parse_decimal(&s, out) && *s == '\0';
    case V_SIZE:
        return parse_size(s, out);
    case V_PATH:
        *out = 0;
        return s[0] != '\0' && strlen(s) < sizeof stats_file;
    case V_OTHER:
        return true;
    }
    return false;
}

/* ---- reports ------------------------------------------------------------------ */

/* "options(): <what> SHARDALLOC_X=v (<hint>)" through error.c's one reporter. */
static void report(const char *what, const char *entry, const char *hint_lead, const char *hint)
{
    char text[1024];
    size_t n = 0, cap = sizeof text - 1;
    n = _sa_fmt_str(text, n, cap, entry);
    n = _sa_fmt_str(text, n, cap, " (");
    n = _sa_fmt_str(text, n, cap, hint_lead);
    n = _sa_fmt_str(text, n, cap, hint);
    n = _sa_fmt_str(text, n, cap, ")");
    text[n] = '\0';
    _sa_error_text(SA_ERROR_BAD_OPTION, "options", what, text, entry);
}

static void report_unknown(const char *entry)
{
    char names[512];
    size_t n = 0, cap = sizeof names - 1;
    for (size_t i = 0; i < DESC_COUNT; i++) {
        n = _sa_fmt_str(names, n, cap, i == 0 ? PREFIX : ", " PREFIX);
        n = _sa_fmt_str(names, n, cap, descs[i].name);
    }
    names[n] = '\0';
    report("unknown variable", entry, "valid: ", names);
}

/* ---- one option, by its name ------------------------------------------------------ */

/* The index in descs of the option called name[0..len), or DESC_COUNT. */
static size_t desc_named(const char *name, size_t len)
{
    for (size_t i = 0; i < DESC_COUNT; i++)
        if (strlen(descs[i].name) == len && memcmp(descs[i].name, name, len) == 0)
            return i;
    return DESC_COUNT;
}

/* Option i := value written as text; false (nothing changed) if malformed. */
static bool set_from_text(size_t i, const char *value)
{
    long long v;
    if (!parse_value(descs[i].kind, value, &v))
        return false;
    if (i < SA_OPTION__COUNT) {
        atomic_store_explicit(&_sa_option_values[i], v, memory_order_relaxed);
    } else if (descs[i].kind == V_PATH) {
        pthread_mutex_lock(&stats_file_lock);
        memcpy(stats_file, value, strlen(value) + 1);
        pthread_mutex_unlock(&stats_file_lock);
    }
    return true;
}

/* Option i's value in effect, as text, appended to buf[n..cap). */
static size_t format_value(size_t i, char *buf, size_t n, size_t cap)
{
    if (descs[i].kind == V_PATH) {
        pthread_mutex_lock(&stats_file_lock);
        n = _sa_fmt_str(buf, n, cap, stats_file[0] != '\0' ? stats_file : "(stderr)");
        pthread_mutex_unlock(&stats_file_lock);
    } else if (i == SA_OPTION_PURGE) {
        n = _sa_fmt_str(buf, n, cap, _sa_option((sa_option_t)i) == SA_PURGE_FREE ? "free" : "dontneed");
    } else if (i < SA_OPTION__COUNT) {
        long long v = _sa_option((sa_option_t)i);
        if (v < 0)
            n = _sa_fmt_str(buf, n, cap, "-");
        n = _sa_fmt_u64(buf, n, cap, v < 0 ? (uint64_t)-v : (uint64_t)v, false);
    }
    return n;
}

/* ---- the environment, once ------------------------------------------------------ */

/* One SHARDALLOC_ entry of the environment ("SHARDALLOC_NAME=value"). */
static void option_from_env(const char *entry)
{
    const char *name = entry + PREFIX_LEN;
    const char *eq = strchr(name, '=');
    size_t i = desc_named(name, eq != NULL ? (size_t)(eq - name) : strlen(name));
    if (i == DESC_COUNT)
        report_unknown(entry);
    else if (!set_from_text(i, eq != NULL ? eq + 1 : ""))
        report("malformed value", entry, "expected ", expected[descs[i].kind]);
}

/* "shardalloc[<pid>]: option SHARDALLOC_<NAME>=<value>", one line each. */
static void print_options(void)
{
    char buf[2048];
    size_t n = 0, cap = sizeof buf;
    for (size_t i = 0; i < SA_OPTION__COUNT + 1; i++) {
        n = _sa_fmt_pid_prefix(buf, n, cap);
        n = _sa_fmt_str(buf, n, cap, "option " PREFIX);
        n = _sa_fmt_str(buf, n, cap, descs[i].name);
        n = _sa_fmt_str(buf, n, cap, "=");
        n = format_value(i, buf, n, cap);
        n = _sa_fmt_str(buf, n, cap, "\n");
    }
    _sa_write_stderr(buf, n);
}

void _sa_options_init(void)
{
    for (char **e = environ; e != NULL && *e != NULL; e++)
        if (strncmp(*e, PREFIX, PREFIX_LEN) == 0)
            option_from_env(*e);
    if (_sa_option(SA_OPTION_VERBOSE))
        print_options();
}

/* Fork holds the lock (src/init.c), so a child never inherits it held. */
void _sa_options_lock(void)
{
    pthread_mutex_lock(&stats_file_lock);
}

void _sa_options_unlock(bool child)
{
    _sa_fork_unlock(&stats_file_lock, child);
}

bool _sa_option_stats_file(char *path, size_t size)
{
    pthread_mutex_lock(&stats_file_lock);
    bool set = stats_file[0] != '\0' && strlen(stats_file) < size;
    if (set)
        memcpy(path, stats_file, strlen(stats_file) + 1);
    pthread_mutex_unlock(&stats_file_lock);
    return set;
}

/* ---- from code ----------------------------------------------------------------- */

sa_public long long sa_option_get(sa_option_t option)
{
    if ((unsigned)option >= SA_OPTION__COUNT)
        return -1;
    return _sa_option(option);
}

sa_public int sa_option_set(sa_option_t option, long long value)
{
    if ((unsigned)option >= SA_OPTION__COUNT)
        return EINVAL;
    bool ok;
    switch (descs[option].kind) {
    case V_BOOL:
    case V_PURGE:   ok = value == 0 || value == 1; break;
    case V_DELAY:   ok = value >= -1; break;
    case V_SIZE:    ok = value >= 0; break;
    default:        ok = false; break;
    }
    if (!ok)
        return EINVAL;
    atomic_store_explicit(&_sa_option_values[option], value, memory_order_relaxed);
    return 0;
}

/* The options that are not numbers (STATS_FILE) and every other one, by the
 * name and the text the environment uses. */
sa_public int sa_option_set_text(const char *name, const char *value)
{
    size_t i = name != NULL ? desc_named(name, strlen(name)) : DESC_COUNT;
    if (i == DESC_COUNT || descs[i].kind == V_OTHER || value == NULL || !set_from_text(i, value))
        return EINVAL;
    return 0;
}

sa_public int sa_option_get_text(const char *name, char *buf, size_t size)
{
    size_t i = name != NULL ? desc_named(name, strlen(name)) : DESC_COUNT;
    if (i == DESC_COUNT || descs[i].kind == V_OTHER) {
        errno = EINVAL;
        return -1;
    }
    char text[SA_STATS_FILE_MAX + 16];
    size_t n = format_value(i, text, 0, sizeof text);
    if (size > 0) {
        size_t copied = n < size - 1 ? n : size - 1;
        memcpy(buf, text, copied);
        buf[copied] = '\0';
    }
    return (int)n;
}
