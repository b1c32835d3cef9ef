#!/bin/sh
# tests/preload/git.sh -- git on shardalloc: init a repository, add 200 files,
# commit, log, and check the result (file count, log, fsck).
. "$(dirname "$0")/lib.sh"

export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP" GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' \
       GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'

# make_history RUNNER DIR: the same two commits, run by RUNNER ('preloaded' or
# 'command'); with fixed dates and identity the commit ids are deterministic.
make_history()
{
    mkdir "$2"
    i=0
    while [ $i -lt 200 ]; do
        mkdir -p "$2/d$((i % 10))"
        seq $i $((i * 50 + 100)) >"$2/d$((i % 10))/f$i.txt"
        i=$((i + 1))
    done
    for step in init add commit1 edit commit2; do
        case $step in
        init)    $1 git -C "$2" init -q ;;
        add)     $1 git -C "$2" add . ;;
        commit1) $1 git -C "$2" -c user.name=shardalloc -c user.email=sa@example.invalid \
                     commit -q -m "200 files on shardalloc" ;;
        edit)    echo "one more line" >>"$2/d3/f3.txt" ;;
        commit2) $1 git -C "$2" -c user.name=shardalloc -c user.email=sa@example.invalid \
                     commit -q -a -m "second commit" ;;
        esac
    done
}

repo="$TMP/repo"
make_history preloaded "$repo"
make_history command "$TMP/reference"
g() { preloaded git -C "$repo" "$@"; }

files=$(g ls-files | wc -l)
[ "$files" -eq 200 ] || fail "git ls-files lists $files files, expected 200"
log=$(g log --format=%s)
[ "$log" = "second commit
200 files on shardalloc" ] || fail "unexpected git log: $log"
g log --stat -1 HEAD~1 >"$TMP/stat"
grep -q '200 files changed' "$TMP/stat" || fail "first commit does not have 200 files: $(tail -n 1 "$TMP/stat")"
g fsck --strict --no-progress
g gc -q
# The same commit as git makes without shardalloc.
head_sa=$(g rev-parse HEAD)
head_glibc=$(git -C "$TMP/reference" rev-parse HEAD)
[ "$head_sa" = "$head_glibc" ] || fail "HEAD differs: $head_sa (shardalloc) vs $head_glibc (glibc)"
assert_served 9
assert_stats 9
assert_no_errors
echo "ok: git init/add/commit/log/fsck/gc of 200 files; $(served_count) processes served"
