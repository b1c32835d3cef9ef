#!/bin/sh
# tests/preload/gcc.sh -- gcc on shardalloc: the driver and the programs it
# runs (cc1, as, collect2, ld) compile and link a small C program, which then
# runs (also on shardalloc) and prints the expected result.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/prog.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; long v; };

int main(void)
{
    struct node *head = NULL;
    for (long i = 1; i <= 100000; i++) {
        struct node *n = malloc(sizeof *n);
        if (n == NULL)
            return 1;
        n->v = i;
        n->next = head;
        head = n;
    }
    long sum = 0;
    while (head != NULL) {
        struct node *next = head->next;
        sum += head->v;
        free(head);
        head = next;
    }
    char *s = strdup("shardalloc");
    s = realloc(s, 1 << 20);
    printf("%ld %s\n", sum, s);
    free(s);
    return 0;
}
C

preloaded gcc -O2 -Wall -o "$TMP/prog" "$TMP/prog.c"
compiled=$(served_count)
[ "$compiled" -ge 3 ] || fail "only $compiled of gcc's processes were served (want driver, cc1, as, ld)"
out=$(preloaded "$TMP/prog")
[ "$out" = "5000050000 shardalloc" ] || fail "compiled program printed: $out"
assert_served $((compiled + 1))
assert_stats $((compiled + 1))
assert_no_errors
echo "ok: gcc compiled and linked a C program ($compiled processes served), it ran and printed the right sum"
