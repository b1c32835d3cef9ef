/* tests/tsan/races.c -- the allocator's cross-thread paths under
 * ThreadSanitizer (make test-tsan builds src/ and this file with
 * -fsanitize=thread; Criterion's runner does not start under it, so this is
 * a plain program: exit status 0 and no report, or a failure).
 *
 * THREADS workers share a table of slots, one row per worker. Each request
 * takes a random slot of a random row (the block there was most likely
 * allocated by another thread: a remote free), checks the block still
 * carries the tag its allocator wrote, frees it, and puts a fresh tagged
 * block of a random size in a slot of its own row. Every round the workers
 * exit and new ones start (abandon, reclaim, forwarded pages, thread exit
 * with live blocks); a few requests grow a block with realloc. The blocks
 * are of every kind another thread may free: small and medium, aligned ones
 * (an interior pointer into a page the owner marks has_aligned), large (a
 * page of a segment of its own size class), huge (a mapping, maybe from the
 * huge cache) and far aligned huge ones. Every race the sanitizer sees, and
 * every block that comes back with someone else's tag, fails the test. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shardalloc.h"

enum { THREADS = 4, SLOTS = 2048, ROUNDS = 6, REQUESTS = 60000 };

typedef struct tag_s { uint64_t owner_seq; size_t size; } tag_t;

static _Atomic(tag_t *) table[THREADS][SLOTS];
static atomic_int failures;

static void fail(const char *what, const void *p)
{
    fprintf(stderr, "races: %s (%p)\n", what, p);
    atomic_fetch_add(&failures, 1);
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A block of `size` bytes whose first and last bytes say who made it, from
 * malloc or, with alignment > 0, from one of the aligned calls. */
static tag_t *make(size_t size, size_t alignment, uint64_t owner_seq)
{
    tag_t *t = NULL;
    if (alignment == 0) {
        t = sa_malloc(size);
    } else if (owner_seq % 3 == 0) {
        t = sa_aligned_alloc(alignment, size);
    } else if (owner_seq % 3 == 1) {
        t = sa_memalign(alignment, size);
    } else {
        void *q;
        if (sa_posix_memalign(&q, alignment, size) == 0)
            t = q;
    }
    if (t == NULL) {
        fail("allocation returned NULL", NULL);
        return NULL;
    }
    if (alignment != 0 && ((uintptr_t)t & (alignment - 1)) != 0)
        fail("misaligned block", t);
    t->owner_seq = owner_seq;
    t->size = size;
    ((unsigned char *)t)[size - 1] = (unsigned char)owner_seq;
    return t;
}

static void check_and_free(tag_t *t)
{
    if (t == NULL)
        return;
    if (((unsigned char *)t)[t->size - 1] != (unsigned char)t->owner_seq)
        fail("a block lost its tag: handed out twice?", t);
    sa_free(t);
}

static void *worker(void *arg)
{
    size_t id = (size_t)arg;
    uint64_t s = 0x9e3779b97f4a7c15ull * (id + 1), seq = 0;
    for (int r = 0; r < REQUESTS; r++) {
        uint64_t x = next_rand(&s);
        size_t row = x % THREADS, slot = (x >> 8) % SLOTS;
        check_and_free(atomic_exchange(&table[row][slot], NULL));
        size_t size = sizeof(tag_t) + 1 + (x >> 20) % 700;   /* the tag byte after the header */
        size_t alignment = 0, kind = (x >> 40) % 1024;
        if (kind < 128)
            alignment = (size_t)32 << (kind % 8);          /* 32 .. 4096: interior pointers */
        else if (kind < 144)
            size = ((size_t)64 << 10) + (x >> 20) % (1 << 20);  /* large: 64 KiB .. 1 MiB */
        else if (kind < 146)
            size = (size_t)3 << 20;     /* huge: a mapping of its own */
        else if (kind == 146)
            alignment = (size_t)4 << 20;    /* far aligned huge */
        tag_t *t = make(size, alignment, (id << 56) | ++seq);
        if (t != NULL && (x >> 50) % 64 == 0) {
            /* grow it: the tag moves with the contents */
            size_t to = size * 3;
            tag_t *u = sa_realloc(t, to);
            if (u == NULL) {
                fail("realloc returned NULL", t);
            } else {
                u->size = to;
                ((unsigned char *)u)[to - 1] = (unsigned char)u->owner_seq;
                t = u;
            }
        }
        check_and_free(atomic_exchange(&table[id][(x >> 30) % SLOTS], t));
    }
    return NULL;
}

int main(void)
{
    for (int round = 0; round < ROUNDS; round++) {
        pthread_t th[THREADS];
        for (size_t i = 0; i < THREADS; i++)
            if (pthread_create(&th[i], NULL, worker, (void *)i) != 0) {
                perror("pthread_create");
                return 1;
            }
        for (size_t i = 0; i < THREADS; i++)
            pthread_join(th[i], NULL);
    }
    for (size_t i = 0; i < THREADS; i++)
        for (size_t j = 0; j < SLOTS; j++)
            check_and_free(atomic_exchange(&table[i][j], NULL));
    sa_collect(true);
    if (atomic_load(&failures) != 0)
        return 1;
    printf("ok: %d rounds of %d threads, %d requests each, cross-thread frees of small, aligned, "
           "large and huge blocks, realloc\n",
           ROUNDS, THREADS, REQUESTS);
    return 0;
}
