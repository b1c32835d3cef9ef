# tests/preload/lib.sh -- sourced by every real-program test in this directory.
#
# The caller sets SA_SO to the absolute path of libshardalloc.so (mk/test.mk does).
# `preloaded CMD...` runs CMD (and every process it starts) on shardalloc, with
# two witnesses that shardalloc really served them:
#  - the dynamic linker's own log (LD_DEBUG=bindings, one file per process):
#    `assert_served N` checks that in at least N processes `malloc` was bound
#    to libshardalloc.so;
#  - SHARDALLOC_SHOW_STATS=1, the statistics each process prints at exit, collected
#    in $SA_STATS: `assert_stats N` checks at least N processes reported mappings.
#    (Programs that close stderr before exit, like coreutils, cannot report.)
# The last line a test prints is its one-line summary (mk/test.mk shows it).

set -eu

: "${SA_SO:?set SA_SO to the absolute path of libshardalloc.so}"
[ -f "$SA_SO" ] || { echo "no $SA_SO" >&2; exit 1; }

PY=/usr/bin/python3                     # Debian's, not a pyenv shim
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sa-preload.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
SA_STATS="$TMP/shardalloc-stderr"
: >"$SA_STATS"
mkdir "$TMP/ld"

fail()
{
    echo "FAIL: $*" >&2
    exit 1
}

# preloaded CMD ARGS...: stdout is CMD's, stderr goes to $SA_STATS (and is
# shown if CMD fails).
preloaded()
{
    _rc=0
    LD_PRELOAD="$SA_SO" SHARDALLOC_SHOW_STATS=1 LD_DEBUG=bindings LD_DEBUG_OUTPUT="$TMP/ld/p" \
        "$@" 2>>"$SA_STATS" || _rc=$?
    if [ "$_rc" -ne 0 ]; then
        echo "--- stderr of: $*" >&2
        tail -n 40 "$SA_STATS" >&2
        fail "$1 exited with status $_rc under LD_PRELOAD"
    fi
}

# The number of processes whose malloc calls went to shardalloc: the dynamic
# linker bound some object's `malloc` to libshardalloc.so.
served_count()
{
    grep -l "to $SA_SO \[[0-9]*\]: normal symbol \`malloc'" "$TMP"/ld/p.* 2>/dev/null | wc -l
}

assert_served()
{
    _n=$(served_count)
    [ "$_n" -ge "$1" ] ||
        fail "malloc was bound to $SA_SO in $_n process(es), expected at least $1"
}

# The number of processes whose exit statistics (src/stats.c sa_stats_print,
# one "shardalloc[<pid>]: stats: <name> <value>" line per counter) show OS mappings made.
stats_count()
{
    grep -c '^shardalloc\[[0-9]*\]: stats: mmap_calls [1-9]' "$SA_STATS" || true
}

assert_stats()
{
    _n=$(stats_count)
    [ "$_n" -ge "$1" ] || {
        echo "--- shardalloc's stderr:" >&2
        tail -n 40 "$SA_STATS" >&2
        fail "expected statistics from at least $1 process(es) served by shardalloc, found $_n"
    }
}

# No process reported a bad pointer or other error through shardalloc.
assert_no_errors()
{
    if grep -v -i 'stat' "$SA_STATS" | grep -q '^shardalloc: .*()'; then
        grep '^shardalloc: .*()' "$SA_STATS" | head -n 5 >&2
        fail "shardalloc reported errors"
    fi
}
