#!/bin/sh
# bench/profile.sh -- instruction counts (callgrind) of one workload under
# each allocator (any of bench/run.py's but redis and sqlite: a C one, or
# the real program python, perl, ruby, z3, or gcc: its driver only, as
# callgrind does not follow the cc1 it runs): total, and the
# allocator's own functions. Unlike wall time these do not move with the
# load of the machine, so they show where shardalloc spends more than its
# peers. Needs valgrind (apt-get install
# valgrind) and `make bench-build lib`.
#
#   sh bench/profile.sh WORKLOAD [SCALE] [ALLOCATOR...]
#   e.g. sh bench/profile.sh bignum 0.05 mimalloc shardalloc
#        sh bench/profile.sh ruby 0.3
set -eu
cd "$(dirname "$0")/.."
w=${1:?usage: profile.sh WORKLOAD [SCALE] [ALLOCATOR...]}
scale=${2:-0.05}
shift $(( $# >= 2 ? 2 : 1 ))
lib_of() {
    case $1 in
        glibc)      echo "" ;;
        mimalloc)   echo /usr/lib/x86_64-linux-gnu/libmimalloc.so.2 ;;
        jemalloc)   echo /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 ;;
        tcmalloc)   echo /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 ;;
        shardalloc) echo "$PWD/build/libshardalloc.so" ;;
        *) echo "profile.sh: unknown allocator $1" >&2; exit 2 ;;
    esac
}
out=build/bench/profile
mkdir -p "$out"
[ $# -gt 0 ] || set -- glibc mimalloc jemalloc tcmalloc shardalloc
allocators="$*"
# The command bench/run.py runs for the workload (the same inputs, scaled;
# generated ones written to $out), its variables (NAME=value) first: those
# are exported, so valgrind runs the program itself (through env(1),
# callgrind would count env, not the program it execs).
line=$(/usr/bin/python3 bench/run.py --print-command "$w" --scale "$scale" --workdir "$out")
eval "set -- $line"
while [ $# -gt 0 ]; do
    case $1 in
        [A-Z]*=*) export "$1"; shift ;;
        *) break ;;
    esac
done
for a in $allocators; do
    lib=$(lib_of "$a")
    f="$out/$w.$a.callgrind"
    LD_PRELOAD=$lib valgrind --tool=callgrind --callgrind-out-file="$f" \
        "$@" >"$f.stdout" 2>"$f.log"
    total=$(sed -n 's/.*Collected : //p' "$f.log")
    printf '%-10s %14s instructions  checksum %s\n' "$a" "$total" \
        "$(sed -n 's/^checksum: //p' "$f.stdout" | grep . || cksum <"$f.stdout" | cut -d' ' -f1)"
    # The allocator's functions, inclusive, with call counts (who calls them
    # from the workload): the first lines of the caller tree.
    # --threshold=100: in a real program the allocator is well under the
    # default cut of 99% of the total.
    callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null |
        grep -E '(malloc|free|realloc|calloc|sa_|mi_|je_|tc_|_int_)' |
        grep -v -E '/bench/|bench\.h' | head -8 | sed 's/^/    /'
done
