/* tests/api/order.c -- collect rebuilds a page's `free` in address order
 * (src/page.c free_order, spec: page.smt2 order_free): after most of a page
 * was freed in a random order, malloc hands its blocks out by address; and
 * the guard the rebuild rests on: it finds the free blocks by their canary
 * (second word), so a LIVE block whose data happens to equal its canary
 * must make it leave the list as it is -- every block still handed out
 * exactly once, the LIVE one never. A list in address order, or in reverse,
 * in runs (freed in the order malloc handed the blocks out, or in reverse)
 * is put in order by the walk before that pass (free_order_walk), which
 * reads no canary: those tests plant a LIVE block carrying its canary, so
 * the pass could not have done it. Only the generic path's collect
 * rebuilds: a page sa_collect collected (as a thread's exit does) keeps its
 * list (src/page.c _sa_page_collect_unordered). The owner's frees within
 * its heap's budget go onto `free` and skip that collect (free.c
 * free_lifo): each test spends the budget first.
 */
#include "sa_test.h"

#define SIZE   (SA_SMALL_PAGE_SIZE / SA_ORDER_BLOCKS_MAX)  /* the largest page it orders */
#define PER_PAGE (SA_SMALL_PAGE_SIZE / SIZE)

static uintptr_t page_of(const void *p)
{
    return (uintptr_t)p >> SA_SMALL_PAGE_SHIFT;
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

/* The owner's frees go onto `free` itself (free.c free_lifo), handed out
 * next in the order they were freed, until its heap has made
 * SA_LIFO_FREES_MAX of them since its last generic call; after that they
 * wait on local_free for the generic path's collect, which orders them.
 * These tests are about that collect: full_page spends the budget last,
 * on blocks of another size freed and malloc'd straight back (no generic
 * call), so the frees that follow go onto local_free. */
#define SPENDER 48

static void spend_lifo_budget(void)
{
    void *first = sa_malloc(SPENDER), *kept = sa_malloc(SPENDER), *p = sa_malloc(SPENDER);
    cr_assert(first != NULL && kept != NULL && p != NULL);
    sa_free(first);     /* local_free non-empty: the frees after it may go onto `free` */
    for (size_t i = 0; i < SA_LIFO_FREES_MAX; i++) {
        sa_free(p);
        cr_assert_eq(sa_malloc(SPENDER), p, "a free onto `free` did not come back next");
    }
}

/* Fill three pages of SIZE blocks; in `mine` the blocks of one full page that
 * is not the head of its queue (not the last block's page), shuffled, or
 * `sorted` by address. Spends the heap's budget of frees onto `free`. */
static size_t full_page(void **mine, bool sorted)
{
    void **all = sat_map(3 * PER_PAGE * sizeof *all);
    for (size_t i = 0; i < 3 * PER_PAGE; i++)
        cr_assert_not_null(all[i] = sa_malloc(SIZE));
    uintptr_t page = 0;
    for (size_t i = 0, run = 0; i < 3 * PER_PAGE && page == 0; i++) {
        run = i > 0 && page_of(all[i]) == page_of(all[i - 1]) ? run + 1 : 1;
        if (run == PER_PAGE && page_of(all[i]) != page_of(all[3 * PER_PAGE - 1]))
            page = page_of(all[i]);
    }
    cr_assert_neq(page, 0, "no full page of %d-byte blocks", (int)SIZE);
    size_t n = 0;
    for (size_t i = 0; i < 3 * PER_PAGE; i++)
        if (page_of(all[i]) == page)
            mine[n++] = all[i];
    cr_assert_eq(n, PER_PAGE);
    uint64_t rng = 4242;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(sat_rand(&rng) % (i + 1));
        void *t = mine[i];
        mine[i] = mine[j];
        mine[j] = t;
    }
    if (sorted)
        qsort(mine, n, sizeof *mine, by_address);
    spend_lifo_budget();
    return n;
}

/* Free all of mine but mine[0] (in their shuffled order). */
static void free_all_but_first(void **mine, size_t n)
{
    for (size_t i = 1; i < n; i++)
        sa_free(mine[i]);
}

/* Malloc until a block comes from the page of mine (its collect: the
 * generic call) and on until the page's free blocks, all of mine but
 * mine[0], are all handed out; `out` gets them in the order handed out. */
static void reuse(void **mine, size_t n, void **out)
{
    uintptr_t page = page_of(mine[0]);
    size_t got = 0, calls = 0;
    while (got < n - 1) {
        void *p = sa_malloc(SIZE);
        cr_assert_not_null(p);
        cr_assert_lt(++calls, 4 * PER_PAGE, "the page's blocks did not all come back");
        if (page_of(p) == page)
            out[got++] = p;
        else
            cr_assert(got == 0, "malloc left the page with %zu of its free blocks", n - 1 - got);
    }
    /* each block of the page but mine[0], once */
    for (size_t i = 0; i < got; i++) {
        cr_assert_neq(out[i], mine[0], "the LIVE block was handed out");
        for (size_t j = 0; j < i; j++)
            cr_assert_neq(out[i], out[j], "block %p handed out twice", out[i]);
    }
}

/* Free `p` (a block of the page of `live`) and give the LIVE block `live`
 * its canary, read off the freed block: free_order's pass then finds one
 * block too many carrying it and leaves the list as it is. */
static void free_and_plant_canary(void *p, void *live)
{
    sa_free(p);
    uintptr_t cookie = ((volatile uintptr_t *)p)[1] ^ (uintptr_t)p;
    ((uintptr_t *)live)[1] = (uintptr_t)live ^ cookie;
}

static bool ascending(void **p, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if ((uintptr_t)p[i] <= (uintptr_t)p[i - 1])
            return false;
    return true;
}

Test(order, freed_page_is_handed_out_in_address_order)
{
    void **mine = sat_map(PER_PAGE * sizeof *mine), **out = sat_map(PER_PAGE * sizeof *out);
    size_t n = full_page(mine, false);
    free_all_but_first(mine, n);
    reuse(mine, n, out);
    cr_assert(ascending(out, n - 1), "the page's free blocks were not handed out by address");
}

Test(order, live_block_carrying_its_canary_keeps_the_list)
{
    void **mine = sat_map(PER_PAGE * sizeof *mine), **out = sat_map(PER_PAGE * sizeof *out);
    size_t n = full_page(mine, false);
    /* a freed block's second word is its canary, address ^ cookie: read the
     * cookie off one, and give the LIVE block mine[0] its own canary */
    sa_free(mine[n - 1]);
    uintptr_t cookie = ((volatile uintptr_t *)mine[n - 1])[1] ^ (uintptr_t)mine[n - 1];
    mine[n - 1] = NULL;     /* freed already: free_all_but_first's sa_free(NULL) does nothing */
    ((uintptr_t *)mine[0])[1] = (uintptr_t)mine[0] ^ cookie;
    free_all_but_first(mine, n);
    reuse(mine, n, out);
    cr_assert_not(ascending(out, n - 1), "the list was rebuilt although a LIVE block carried its canary");
    cr_assert_eq(((uintptr_t *)mine[0])[1], (uintptr_t)mine[0] ^ cookie, "the LIVE block was written");
}

Test(order, sa_collect_leaves_the_list_unordered)
{
    void **mine = sat_map(PER_PAGE * sizeof *mine), **out = sat_map(PER_PAGE * sizeof *out);
    size_t n = full_page(mine, false);
    free_all_but_first(mine, n);
    sa_collect(false);      /* collects the page: `free` then holds its blocks */
    reuse(mine, n, out);
    cr_assert_not(ascending(out, n - 1), "sa_collect's collect rebuilt the list in address order");
}

Test(order, page_freed_in_allocation_order_is_reversed_without_the_pass)
{
    void **mine = sat_map(PER_PAGE * sizeof *mine), **out = sat_map(PER_PAGE * sizeof *out);
    size_t n = full_page(mine, true);
    /* freed lowest first, as malloc handed them out: local_free runs down */
    free_and_plant_canary(mine[1], mine[0]);
    for (size_t i = 2; i < n; i++)
        sa_free(mine[i]);
    reuse(mine, n, out);
    cr_assert(ascending(out, n - 1), "a page freed in address order was not handed out by address");
}

Test(order, page_freed_in_wrapped_order_is_put_in_order_run_by_run)
{
    void **mine = sat_map(PER_PAGE * sizeof *mine), **out = sat_map(PER_PAGE * sizeof *out);
    size_t n = full_page(mine, true), k = n / 3;
    /* freed from k up, then from 1 up to k - 1 (an allocation order that
     * wrapped round the page): local_free is two runs going down */
    free_and_plant_canary(mine[k], mine[0]);
    for (size_t i = k + 1; i < n; i++)
        sa_free(mine[i]);
    for (size_t i = 1; i < k; i++)
        sa_free(mine[i]);
    reuse(mine, n, out);
    cr_assert(ascending(out, n - 1), "two runs in reverse order were not handed out by address");
}

/* Free all of the page but mine[0] so that local_free is RUNS runs going
 * down, block i in run i % RUNS: put in order, each run is a run going up,
 * and each starts below the one before (a break); with `canary`, the first
 * block freed plants the LIVE block's canary. */
#define RUNS (SA_ORDER_BREAKS_MAX + 2)
static void free_interleaved_runs(void **mine, size_t n, bool canary)
{
    for (size_t r = RUNS; r-- > 0;)
        for (size_t i = r; i < n; i += RUNS)
            if (i == 0)
                continue;
            else if (canary && r == RUNS - 1 && i == r)
                free_and_plant_canary(mine[i], mine[0]);
            else
                sa_free(mine[i]);
}

Test(order, runs_breaking_too_often_are_left_to_the_pass)
{
    void **mine = sat_map(PER_PAGE * sizeof *mine), **out = sat_map(PER_PAGE * sizeof *out);
    size_t n = full_page(mine, true);
    free_interleaved_runs(mine, n, false);
    reuse(mine, n, out);
    cr_assert(ascending(out, n - 1), "runs breaking SA_ORDER_BREAKS_MAX + 1 times were not relinked by address");
}

Test(order, walk_that_gives_up_keeps_every_block_once)
{
    void **mine = sat_map(PER_PAGE * sizeof *mine), **out = sat_map(PER_PAGE * sizeof *out);
    size_t n = full_page(mine, true);
    /* the walk reverses runs until one too many breaks, the pass then
     * finds the LIVE block's canary: the list stays as the walk left it */
    free_interleaved_runs(mine, n, true);
    reuse(mine, n, out);    /* each block but mine[0] once */
    cr_assert_not(ascending(out, n - 1), "the list was rebuilt although a LIVE block carried its canary");
}
