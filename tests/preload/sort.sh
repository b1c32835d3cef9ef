#!/bin/sh
# tests/preload/sort.sh -- GNU sort on shardalloc: two million lines, numeric
# and text, with two threads; the output is compared with the known answer.
. "$(dirname "$0")/lib.sh"

N=2000003    # prime, so i * 7919 mod N is a permutation of 0 .. N-1
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) print (i * 7919) % n }' >"$TMP/in"
seq 0 $((N - 1)) >"$TMP/want"

preloaded sort -n --parallel=2 -S 64M "$TMP/in" >"$TMP/out"
cmp -s "$TMP/out" "$TMP/want" || fail "sort -n output differs from 0..$((N - 1))"

# text keys, reverse, unique: the permutation twice gives each line once
cat "$TMP/in" "$TMP/in" | preloaded sort -u -r --parallel=2 -S 16M -T "$TMP" >"$TMP/out"
sort -u -r "$TMP/in" >"$TMP/want"
cmp -s "$TMP/out" "$TMP/want" || fail "sort -u -r output differs from glibc-run sort's"
lines=$(wc -l <"$TMP/out")
[ "$lines" -eq $N ] || fail "sort -u gave $lines lines, expected $N"
# sort closes stderr before it exits (coreutils' close_stdout): no statistics.
assert_served 2
assert_no_errors
echo "ok: sort of $N lines (numeric; reverse unique with temp files) is correct; $(served_count) processes served"
