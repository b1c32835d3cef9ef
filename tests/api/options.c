/* tests/api/options.c -- the SHARDALLOC_* options: the environment is parsed
 * (in a forked child, with the real reader src/options.c runs at start),
 * malformed values and unknown names are reported once each with what would
 * have been valid, VERBOSE prints the options in effect, sa_option_set /
 * sa_option_get change them from code, and each option does what it says
 * (PURGE_DELAY -1 never purges on a timer, LIMIT caps mapped memory). */
#include "sa_test.h"

void _sa_options_init(void);    /* src/options.c: what the library runs at start */
void _sa_stats_at_exit(void);   /* src/stats.c: what SHOW_STATS runs at exit */


/* What a child saw: the options before and after reading its environment,
 * and stderr. */
typedef struct env_result_s {
    long long before[SA_OPTION__COUNT];
    long long values[SA_OPTION__COUNT];
    int status;
    char err[SAT_MSG_CAP];
} env_result_t;

/* In a forked child: the environment is exactly `env` (NULL-terminated
 * "NAME=value" entries) and the library's start-up reader runs again. */
typedef struct env_child_s {
    const char *const *env;
    long long *values;      /* shared with the parent: before, then after */
} env_child_t;

static void read_env_in_child(void *arg)
{
    env_child_t *c = arg;
    clearenv();
    for (const char *const *e = c->env; *e != NULL; e++)
        putenv((char *)*e);
    for (int i = 0; i < SA_OPTION__COUNT; i++)
        c->values[i] = sa_option_get((sa_option_t)i);
    _sa_options_init();
    for (int i = 0; i < SA_OPTION__COUNT; i++)
        c->values[SA_OPTION__COUNT + i] = sa_option_get((sa_option_t)i);
}

static void options_from_env(const char *const *env, env_result_t *out)
{
    size_t size = sizeof out->before + sizeof out->values;
    long long *shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert(shared != MAP_FAILED);
    env_child_t child = { env, shared };
    out->status = sat_in_child(read_env_in_child, &child, out->err, sizeof out->err);
    memcpy(out->before, shared, sizeof out->before);
    memcpy(out->values, shared + SA_OPTION__COUNT, sizeof out->values);
    munmap(shared, size);
    cr_assert(WIFEXITED(out->status) && WEXITSTATUS(out->status) == 0, "child status %#x", out->status);
}

static size_t count_lines_with(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

Test(options, environment_values_are_parsed)
{
    static const char *const env[] = {
        "SHARDALLOC_SHOW_STATS=1", "SHARDALLOC_PURGE=free", "SHARDALLOC_PURGE_DELAY=-1",
        "SHARDALLOC_LIMIT=512M", "SHARDALLOC_ABORT_ON_ERROR=yes", "PATH=/bin", NULL,
    };
    env_result_t r;
    options_from_env(env, &r);
    sat_assert_silent(r.err, "valid options");
    cr_assert_eq(r.values[SA_OPTION_SHOW_STATS], 1);
    cr_assert_eq(r.values[SA_OPTION_VERBOSE], r.before[SA_OPTION_VERBOSE]);
    cr_assert_eq(r.values[SA_OPTION_PURGE], SA_PURGE_FREE);
    cr_assert_eq(r.values[SA_OPTION_PURGE_DELAY], -1);
    cr_assert_eq(r.values[SA_OPTION_LIMIT], 512LL << 20);
    cr_assert_eq(r.values[SA_OPTION_ABORT_ON_ERROR], 1);
}

Test(options, sizes_take_binary_units)
{
    static const struct { const char *entry; long long bytes; } cases[] = {
        { "SHARDALLOC_LIMIT=2G", 2LL << 30 },     { "SHARDALLOC_LIMIT=64k", 64LL << 10 },
        { "SHARDALLOC_LIMIT=3MiB", 3LL << 20 },   { "SHARDALLOC_LIMIT=1T", 1LL << 40 },
        { "SHARDALLOC_LIMIT=1048577", 1048577 },  { "SHARDALLOC_LIMIT=0", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *env[] = { cases[i].entry, NULL };
        env_result_t r;
        options_from_env(env, &r);
        sat_assert_silent(r.err, cases[i].entry);
        cr_assert_eq(r.values[SA_OPTION_LIMIT], cases[i].bytes, "%s gave %lld", cases[i].entry,
                     r.values[SA_OPTION_LIMIT]);
    }
}

Test(options, malformed_values_are_reported_once_each_and_ignored)
{
    static const char *const env[] = {
        "SHARDALLOC_LIMIT=12Q", "SHARDALLOC_PURGE_DELAY=soon", "SHARDALLOC_SHOW_STATS=maybe",
        "SHARDALLOC_PURGE=", "SHARDALLOC_LIMIT2=1", "SHARDALLOC_ABORT_ON_ERROR=2", NULL,
    };
    env_result_t r;
    options_from_env(env, &r);
    for (int i = 0; i < SA_OPTION__COUNT; i++)
        cr_assert_eq(r.values[i], r.before[i], "option %d is %lld after a malformed value", i,
                     r.values[i]);
    cr_assert_eq(count_lines_with(r.err, "\n"), 6, "expected 6 reports, got: \"%s\"", r.err);
    cr_assert_eq(count_lines_with(r.err, "shardalloc: options(): malformed value"), 5, "%s", r.err);
    cr_assert(strstr(r.err, "SHARDALLOC_LIMIT=12Q (expected bytes") != NULL, "%s", r.err);
    cr_assert(strstr(r.err, "SHARDALLOC_PURGE_DELAY=soon (expected milliseconds, or -1") != NULL,
              "%s", r.err);
    cr_assert(strstr(r.err, "SHARDALLOC_SHOW_STATS=maybe (expected 0 or 1)") != NULL, "%s", r.err);
    cr_assert(strstr(r.err, "SHARDALLOC_PURGE= (expected dontneed or free)") != NULL, "%s", r.err);
}

Test(options, unknown_variables_are_reported_with_the_valid_names)
{
    static const char *const env[] = { "SHARDALLOC_SHOWSTATS=1", "SHARDALLOCX=1", NULL };
    env_result_t r;
    options_from_env(env, &r);
    cr_assert_eq(count_lines_with(r.err, "\n"), 1, "expected one report, got: \"%s\"", r.err);
    cr_assert(strncmp(r.err, "shardalloc: options(): unknown variable SHARDALLOC_SHOWSTATS=1 (valid: ",
                      strlen("shardalloc: options(): unknown variable SHARDALLOC_SHOWSTATS=1 (valid: ")) == 0,
              "%s", r.err);
    static const char *const names[] = {
        "SHARDALLOC_SHOW_STATS", "SHARDALLOC_VERBOSE", "SHARDALLOC_PURGE,", "SHARDALLOC_PURGE_DELAY",
        "SHARDALLOC_LIMIT", "SHARDALLOC_ABORT_ON_ERROR", "SHARDALLOC_STATS_FILE",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_assert(strstr(r.err, names[i]) != NULL, "the report does not list %s: %s", names[i], r.err);
    cr_assert_eq(r.values[SA_OPTION_SHOW_STATS], r.before[SA_OPTION_SHOW_STATS]);
}

Test(options, verbose_prints_every_option_in_effect_with_the_pid)
{
    static const char *const env[] = {
        "SHARDALLOC_VERBOSE=1", "SHARDALLOC_LIMIT=1G", "SHARDALLOC_PURGE_DELAY=-1",
        "SHARDALLOC_STATS_FILE=/tmp/x.stats", NULL,
    };
    env_result_t r;
    options_from_env(env, &r);
    static const char *const lines[] = {
        "option SHARDALLOC_SHOW_STATS=0\n", "option SHARDALLOC_VERBOSE=1\n",
        "option SHARDALLOC_PURGE=dontneed\n", "option SHARDALLOC_PURGE_DELAY=-1\n",
        "option SHARDALLOC_LIMIT=1073741824\n", "option SHARDALLOC_ABORT_ON_ERROR=0\n",
        "option SHARDALLOC_STATS_FILE=/tmp/x.stats\n",
    };
    size_t n = sizeof lines / sizeof lines[0];
    for (size_t i = 0; i < n; i++)
        cr_assert(strstr(r.err, lines[i]) != NULL, "VERBOSE did not print %s in: %s", lines[i], r.err);
    cr_assert_eq(count_lines_with(r.err, "shardalloc["), n, "%s", r.err);
    cr_assert_eq(count_lines_with(r.err, "]: option SHARDALLOC_"), n, "%s", r.err);
}

Test(options, set_and_get_from_code)
{
    /* the defaults of src/config.h (this suite runs with no SHARDALLOC_ variable) */
    cr_assert_eq(sa_option_get(SA_OPTION_SHOW_STATS), SA_OPTION_SHOW_STATS_DEFAULT);
    cr_assert_eq(sa_option_get(SA_OPTION_VERBOSE), SA_OPTION_VERBOSE_DEFAULT);
    cr_assert_eq(sa_option_get(SA_OPTION_PURGE), SA_OPTION_PURGE_DEFAULT);
    cr_assert_eq(sa_option_get(SA_OPTION_PURGE_DELAY), SA_PURGE_DELAY_MS);
    cr_assert_eq(sa_option_get(SA_OPTION_LIMIT), SA_OPTION_LIMIT_DEFAULT);
    cr_assert_eq(sa_option_get(SA_OPTION_ABORT_ON_ERROR), SA_OPTION_ABORT_ON_ERROR_DEFAULT);
    cr_assert_eq(sa_option_set(SA_OPTION_PURGE_DELAY, 250), 0);
    cr_assert_eq(sa_option_get(SA_OPTION_PURGE_DELAY), 250);
    cr_assert_eq(sa_option_set(SA_OPTION_PURGE_DELAY, -1), 0);
    cr_assert_eq(sa_option_get(SA_OPTION_PURGE_DELAY), -1);
    cr_assert_eq(sa_option_set(SA_OPTION_LIMIT, 1LL << 40), 0);
    cr_assert_eq(sa_option_get(SA_OPTION_LIMIT), 1LL << 40);
    /* refused, and the value kept */
    cr_assert_eq(sa_option_set(SA_OPTION_PURGE_DELAY, -2), EINVAL);
    cr_assert_eq(sa_option_set(SA_OPTION_LIMIT, -1), EINVAL);
    cr_assert_eq(sa_option_set(SA_OPTION_SHOW_STATS, 2), EINVAL);
    cr_assert_eq(sa_option_set(SA_OPTION_PURGE, 7), EINVAL);
    cr_assert_eq(sa_option_set((sa_option_t)SA_OPTION__COUNT, 0), EINVAL);
    cr_assert_eq(sa_option_get(SA_OPTION_PURGE_DELAY), -1);
    cr_assert_eq(sa_option_get(SA_OPTION_LIMIT), 1LL << 40);
    cr_assert_eq(sa_option_get(SA_OPTION_SHOW_STATS), SA_OPTION_SHOW_STATS_DEFAULT);
}

/* The text of option `name` through sa_option_get_text, in a static buffer. */
static const char *text_of(const char *name)
{
    static char buf[256];
    int n = sa_option_get_text(name, buf, sizeof buf);
    cr_assert(n >= 0 && (size_t)n == strlen(buf), "get_text(%s) returned %d for \"%s\"", name, n, buf);
    return buf;
}

Test(options, every_option_set_and_read_as_text_from_code)
{
    cr_assert_str_eq(text_of("STATS_FILE"), "(stderr)");
    cr_assert_eq(sa_option_set_text("STATS_FILE", "/tmp/prog.stats"), 0);
    cr_assert_str_eq(text_of("STATS_FILE"), "/tmp/prog.stats");
    cr_assert_eq(sa_option_set_text("PURGE_DELAY", "never"), 0);
    cr_assert_eq(sa_option_get(SA_OPTION_PURGE_DELAY), -1);
    cr_assert_str_eq(text_of("PURGE_DELAY"), "-1");
    cr_assert_eq(sa_option_set_text("PURGE", "free"), 0);
    cr_assert_eq(sa_option_get(SA_OPTION_PURGE), SA_PURGE_FREE);
    cr_assert_str_eq(text_of("PURGE"), "free");
    cr_assert_eq(sa_option_set_text("LIMIT", "2G"), 0);
    cr_assert_eq(sa_option_get(SA_OPTION_LIMIT), 2LL << 30);
    cr_assert_str_eq(text_of("LIMIT"), "2147483648");
    /* refused, and nothing changed */
    cr_assert_eq(sa_option_set_text("STATS_FILE", ""), EINVAL);
    cr_assert_eq(sa_option_set_text("PURGE_DELAY", "soon"), EINVAL);
    cr_assert_eq(sa_option_set_text("LIMIT", "-1"), EINVAL);
    cr_assert_eq(sa_option_set_text("NO_SUCH_OPTION", "1"), EINVAL);
    cr_assert_eq(sa_option_set_text("TRACE_MB", "1"), EINVAL);      /* the tracing build's */
    cr_assert_eq(sa_option_set_text(NULL, "1"), EINVAL);
    cr_assert_eq(sa_option_set_text("PURGE", NULL), EINVAL);
    cr_assert_str_eq(text_of("STATS_FILE"), "/tmp/prog.stats");
    cr_assert_eq(sa_option_get(SA_OPTION_PURGE_DELAY), -1);
    cr_assert_eq(sa_option_get(SA_OPTION_LIMIT), 2LL << 30);
    /* an unknown name, and a buffer too short: cut, its whole length returned */
    char small[5];
    errno = 0;
    cr_assert_eq(sa_option_get_text("NO_SUCH_OPTION", small, sizeof small), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(sa_option_get_text("STATS_FILE", small, sizeof small), (int)strlen("/tmp/prog.stats"));
    cr_assert_str_eq(small, "/tmp");
    cr_assert_eq(sa_option_get_text("STATS_FILE", NULL, 0), (int)strlen("/tmp/prog.stats"));
    /* back to the defaults for the tests after this one */
    cr_assert_eq(sa_option_set(SA_OPTION_PURGE_DELAY, SA_PURGE_DELAY_MS), 0);
    cr_assert_eq(sa_option_set(SA_OPTION_PURGE, SA_OPTION_PURGE_DEFAULT), 0);
    cr_assert_eq(sa_option_set(SA_OPTION_LIMIT, SA_OPTION_LIMIT_DEFAULT), 0);
}

/* In a child: STATS_FILE set from code to the path in arg, then what
 * SHOW_STATS prints at exit. */
static void stats_to_file_set_from_code(void *arg)
{
    sa_free(sa_malloc(100));
    if (sa_option_set_text("STATS_FILE", arg) != 0 || sa_option_set(SA_OPTION_SHOW_STATS, 1) != 0)
        _exit(3);
    _sa_stats_at_exit();
}

Test(options, stats_file_set_from_code_receives_the_exit_statistics)
{
    char path[] = "/tmp/sa-stats-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    char err[SAT_MSG_CAP];
    int status = sat_in_child(stats_to_file_set_from_code, path, err, sizeof err);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x: %s", status, err);
    char text[SAT_MSG_CAP] = "";
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    unlink(path);
    cr_assert(n > 0, "nothing written to the STATS_FILE set from code (stderr: %s)", err);
    text[n] = '\0';
    cr_assert(strstr(text, "mallocs") != NULL, "no statistics in the file: %s", text);
    cr_assert(strstr(err, "mallocs") == NULL, "the statistics went to stderr too: %s", err);
}

/* Free a few retired-page-sized batches, wait well past the default delay,
 * let a generic malloc run the purge: the purged counter tells. */
static size_t purged_after_freeing_and_waiting(void)
{
    enum { N = 2048, SIZE = 1024 };     /* 2 MiB: many small pages */
    static void *p[N];
    for (size_t i = 0; i < N; i++) {
        p[i] = sa_malloc(SIZE);
        cr_assert_not_null(p[i]);
        memset(p[i], 1, SIZE);
    }
    sa_stats_t before, after;
    sa_stats_get(&before);
    for (size_t i = 0; i < N; i++)
        sa_free(p[i]);
    sa_collect(false);              /* retire the empty pages (delays counted from now) */
    usleep(30 * 1000 + 8 * SA_PURGE_DELAY_MS * 1000);
    for (int i = 0; i < 2 * SA_RETIRE_DELAY; i++)
        sa_free(sa_malloc(SA_LARGE_OBJ_SIZE_MAX));   /* generic calls: retires, purge ticks */
    sa_collect(false);
    sa_stats_get(&after);
    return after.purged - before.purged;
}

Test(options, purge_delay_minus_one_never_purges_on_a_timer)
{
    cr_assert_eq(sa_option_set(SA_OPTION_PURGE_DELAY, -1), 0);
    size_t purged = purged_after_freeing_and_waiting();
    cr_assert_eq(purged, 0, "%zu bytes purged with PURGE_DELAY=-1", purged);
    /* an explicit request still gives the memory back (purged or unmapped) */
    sa_stats_t before, after;
    sa_stats_get(&before);
    sa_collect(true);
    sa_stats_get(&after);
    cr_assert_lt(after.committed, before.committed, "sa_collect(true) gave nothing back");
}

Test(options, purge_delay_zero_purges_at_the_next_tick)
{
    cr_assert_eq(sa_option_set(SA_OPTION_PURGE_DELAY, 0), 0);
    size_t purged = purged_after_freeing_and_waiting();
    cr_assert_gt(purged, 0, "nothing purged with PURGE_DELAY=0");
}

/* LIMIT: allocations past the cap fail with ENOMEM, mapped never passes it,
 * and once memory is freed the allocator serves again. */
Test(options, limit_caps_mapped_memory_and_recovers_after_free)
{
    sa_free(sa_malloc(1));
    sa_stats_t s;
    sa_stats_get(&s);
    size_t limit = s.mapped + (64u << 20);
    cr_assert_eq(sa_option_set(SA_OPTION_LIMIT, (long long)limit), 0);
    enum { MAX = 4096, SIZE = 100000 };     /* medium blocks: segments fill fast */
    static void *p[MAX];
    size_t n = 0;
    errno = 0;
    while (n < MAX && (p[n] = sa_malloc(SIZE)) != NULL) {
        memset(p[n], 0x5a, SIZE);
        n++;
    }
    cr_assert_lt(n, MAX, "no ENOMEM after %zu blocks of %d under a %zu-byte limit", n, SIZE, limit);
    cr_assert_eq(errno, ENOMEM);
    cr_assert_gt(n, (size_t)(32u << 20) / SIZE, "only %zu blocks fit under the limit", n);
    sa_stats_get(&s);
    cr_assert_leq(s.mapped, limit, "mapped %zu past the limit %zu", s.mapped, limit);
    errno = 0;
    cr_assert_null(sa_malloc(128u << 20), "a huge block past the limit was served");
    cr_assert_eq(errno, ENOMEM);
    for (size_t i = 0; i < n; i++)
        sa_free(p[i]);
    /* the same amount again, and a huge block the freed memory makes room for */
    for (size_t i = 0; i < n; i++) {
        p[i] = sa_malloc(SIZE);
        cr_assert_not_null(p[i], "block %zu of %zu refused after freeing", i, n);
    }
    for (size_t i = 0; i < n; i++)
        sa_free(p[i]);
    sa_collect(true);
    void *h = sa_malloc(32u << 20);
    cr_assert_not_null(h, "a 32 MiB block refused after everything was freed");
    sa_free(h);
    cr_assert_eq(sa_option_set(SA_OPTION_LIMIT, 0), 0);
    h = sa_malloc(128u << 20);
    cr_assert_not_null(h, "no limit, still refused");
    sa_free(h);
}
