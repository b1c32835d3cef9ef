#!/bin/sh
# tests/preload/options.sh -- the SHARDALLOC_* options as a real program sees
# them under LD_PRELOAD: read before main (VERBOSE prints them; an unknown name
# or a malformed value is reported once), SHOW_STATS writes the statistics at
# exit to SHARDALLOC_STATS_FILE with the pid on every line, ABORT_ON_ERROR
# turns a double free into SIGABRT after its message, LIMIT makes a program's
# big allocation fail while the rest of it runs.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/prog.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
    char *keep = malloc(32), *p = malloc(32);
    strcpy(keep, "kept");
    if (argc > 1 && strcmp(argv[1], "double-free") == 0) {
        free(p);
        free(p);
    } else if (argc > 1 && strcmp(argv[1], "big") == 0) {
        void *big = malloc(256u << 20);
        printf("big %s\n", big == NULL ? "refused" : "served");
        free(big);
    }
    printf("%s\n", keep);
    return 0;
}
C
cc -O0 -o "$TMP/prog" "$TMP/prog.c"

# VERBOSE: every option in effect, before the program's own output
out=$(LD_PRELOAD="$SA_SO" SHARDALLOC_VERBOSE=1 SHARDALLOC_LIMIT=1G "$TMP/prog" 2>"$TMP/err")
[ "$out" = "kept" ] || fail "program output under VERBOSE: $out"
grep -q "^shardalloc\[[0-9]*\]: option SHARDALLOC_LIMIT=1073741824$" "$TMP/err" ||
    fail "VERBOSE did not print the limit: $(cat "$TMP/err")"
[ "$(grep -c '^shardalloc\[[0-9]*\]: option SHARDALLOC_' "$TMP/err")" -eq 7 ] ||
    fail "VERBOSE printed $(grep -c option "$TMP/err") options, expected 7"

# unknown and malformed: one report each, the program runs on
LD_PRELOAD="$SA_SO" SHARDALLOC_SHOWSTATS=1 SHARDALLOC_PURGE_DELAY=soon "$TMP/prog" >/dev/null 2>"$TMP/err" ||
    fail "the program failed with a bad option"
[ "$(wc -l <"$TMP/err")" -eq 2 ] || fail "expected 2 reports: $(cat "$TMP/err")"
grep -q "^shardalloc: options(): unknown variable SHARDALLOC_SHOWSTATS=1 (valid: SHARDALLOC_SHOW_STATS, " "$TMP/err" ||
    fail "unknown variable not reported: $(cat "$TMP/err")"
grep -q "^shardalloc: options(): malformed value SHARDALLOC_PURGE_DELAY=soon (expected " "$TMP/err" ||
    fail "malformed value not reported: $(cat "$TMP/err")"

# SHOW_STATS to a file, appended by each process, every line with its pid
LD_PRELOAD="$SA_SO" SHARDALLOC_SHOW_STATS=1 SHARDALLOC_STATS_FILE="$TMP/stats" "$TMP/prog" >/dev/null 2>"$TMP/err"
LD_PRELOAD="$SA_SO" SHARDALLOC_SHOW_STATS=1 SHARDALLOC_STATS_FILE="$TMP/stats" "$TMP/prog" >/dev/null 2>>"$TMP/err"
[ ! -s "$TMP/err" ] || fail "SHOW_STATS with a file wrote to stderr: $(head -n 3 "$TMP/err")"
[ "$(grep -c ': stats: mmap_calls [1-9]' "$TMP/stats")" -eq 2 ] || fail "stats file: $(head -n 5 "$TMP/stats")"
grep -v '^shardalloc\[[0-9][0-9]*\]: ' "$TMP/stats" | head -n 1 | grep -q . &&
    fail "a stats line without the pid: $(grep -v '^shardalloc\[[0-9]' "$TMP/stats" | head -n 1)"
[ "$(sed 's/\].*//' "$TMP/stats" | sort -u | wc -l)" -eq 2 ] || fail "expected two pids in the stats file"

# ABORT_ON_ERROR: the message, then SIGABRT (status 134 from the shell)
rc=0
LD_PRELOAD="$SA_SO" SHARDALLOC_ABORT_ON_ERROR=1 "$TMP/prog" double-free >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" -eq 134 ] || fail "double free with ABORT_ON_ERROR exited $rc, expected 134 (SIGABRT)"
grep -q "^shardalloc: free(): double free 0x" "$TMP/err" || fail "no message before the abort: $(cat "$TMP/err")"
# ... and without it the program goes on
out=$(LD_PRELOAD="$SA_SO" "$TMP/prog" double-free 2>"$TMP/err") || fail "double free without ABORT_ON_ERROR failed"
[ "$out" = "kept" ] || fail "output after a reported double free: $out"

# LIMIT: the big block is refused, the program runs on
out=$(LD_PRELOAD="$SA_SO" SHARDALLOC_LIMIT=64M "$TMP/prog" big 2>"$TMP/err") || fail "prog big failed under LIMIT"
[ "$out" = "big refused
kept" ] || fail "under SHARDALLOC_LIMIT=64M: $out"
out=$(LD_PRELOAD="$SA_SO" "$TMP/prog" big 2>"$TMP/err") || fail "prog big failed"
[ "$out" = "big served
kept" ] || fail "without a limit: $out"
echo "ok: options read before main (VERBOSE, unknown and malformed reported), SHOW_STATS to a file with pids, ABORT_ON_ERROR aborts, LIMIT refuses"
