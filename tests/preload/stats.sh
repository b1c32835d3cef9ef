#!/bin/sh
# tests/preload/stats.sh -- glibc's statistics calls answered by shardalloc
# under LD_PRELOAD: malloc_info writes XML of shardalloc's own statistics
# (its blocks in use per size class, its mappings), not glibc's empty arena;
# mallinfo2 and malloc_stats report shardalloc's numbers; sa_stats_json's text
# is JSON python reads.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/info.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
    enum { N = 1000, SIZE = 3000 };
    static void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = malloc(SIZE);
    if (malloc_info(0, stdout) != 0)
        return 1;
    struct mallinfo2 m = mallinfo2();
    printf("mallinfo2 uordblks %zu arena %zu\n", m.uordblks, m.arena);
    if (malloc_info(1, stdout) != -1)
        return 2;
    malloc_stats();
    size_t (*json)(char *, size_t) = (size_t (*)(char *, size_t))dlsym(RTLD_DEFAULT, "sa_stats_json");
    if (json == NULL)
        return 3;
    /* room to spare: the malloc of the buffer itself moves the numbers */
    size_t room = json(NULL, 0) + 256;
    char *text = malloc(room);
    size_t len = text != NULL ? json(text, room) : 0;
    if (len == 0 || len >= room || strlen(text) != len)
        return 4;
    printf("json %s\n", text);
    free(text);
    for (int i = 0; i < N; i++)
        free(p[i]);
    return 0;
}
C
cc -O0 -o "$TMP/info" "$TMP/info.c"
preloaded "$TMP/info" >"$TMP/out"
grep -q '^<malloc version="1" allocator="shardalloc">$' "$TMP/out" || fail "not shardalloc's XML: $(head -n 3 "$TMP/out")"
grep -q '^</malloc>$' "$TMP/out" || fail "XML not closed"
# 1000 blocks of 3000 bytes: the 3072-byte class holds 1000 blocks in use (more: stdio's own)
count=$(sed -n 's/^<size from="[0-9]*" to="3072" total="[0-9]*" count="\([0-9]*\)"\/>$/\1/p' "$TMP/out")
[ -n "$count" ] && [ "$count" -ge 1000 ] || fail "no 3072-byte class with 1000 blocks: $(grep '<size' "$TMP/out" | head -n 5)"
mapped=$(sed -n 's/^<system type="current" size="\([0-9]*\)"\/>$/\1/p' "$TMP/out")
[ -n "$mapped" ] && [ "$mapped" -ge 3000000 ] || fail "mapped $mapped in the XML"
used=$(sed -n 's/^mallinfo2 uordblks \([0-9]*\) arena \([0-9]*\)$/\1/p' "$TMP/out")
[ -n "$used" ] && [ "$used" -ge 3072000 ] || fail "mallinfo2 uordblks $used"
grep -q '^shardalloc\[[0-9]*\]: stats: mallocs [0-9]' "$SA_STATS" || fail "malloc_stats printed nothing"
sed -n 's/^json //p' "$TMP/out" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
big = [c for c in d["classes"] if c["block_size"] == 3072]
assert d["mallocs"] >= 1000 and d["allocated"] >= 3072000, d
assert big and big[0]["mallocs"] >= 1000 and big[0]["active_peak"] >= big[0]["active"], big
' || fail "sa_stats_json: not the JSON expected"
assert_served 1
assert_no_errors
echo "ok: malloc_info is shardalloc's XML ($count blocks of 3072 bytes, $mapped bytes mapped), mallinfo2, malloc_stats and sa_stats_json (read by python) its numbers"
