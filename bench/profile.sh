#!/bin/sh
# bench/profile.sh -- instruction counts (callgrind) of one C workload under
# each allocator: total, and the allocator's own functions. Unlike wall time
# these do not move with the load of the machine, so they show where
# shardalloc spends more than its peers. Needs valgrind (apt-get install
# valgrind) and `make bench-build lib`.
#
#   sh bench/profile.sh WORKLOAD [SCALE] [ALLOCATOR...]
#   e.g. sh bench/profile.sh bignum 0.05 mimalloc shardalloc
set -eu
cd "$(dirname "$0")/.."
w=${1:?usage: profile.sh WORKLOAD [SCALE] [ALLOCATOR...]}
scale=${2:-0.05}
shift $(( $# >= 2 ? 2 : 1 ))
[ $# -gt 0 ] || set -- glibc mimalloc jemalloc tcmalloc shardalloc
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
for a in "$@"; do
    lib=$(lib_of "$a")
    f="$out/$w.$a.callgrind"
    LD_PRELOAD=$lib valgrind --tool=callgrind --callgrind-out-file="$f" \
        "build/bench/$w" "$scale" >"$f.stdout" 2>"$f.log"
    total=$(sed -n 's/.*Collected : //p' "$f.log")
    printf '%-10s %14s instructions  checksum %s\n' "$a" "$total" \
        "$(sed -n 's/^checksum: //p' "$f.stdout")"
    # The allocator's functions, inclusive, with call counts (who calls them
    # from the workload): the first lines of the caller tree.
    callgrind_annotate --inclusive=yes "$f" 2>/dev/null |
        grep -E '(malloc|free|realloc|calloc|sa_|mi_|je_|tc_|_int_)' |
        grep -v -E '/bench/|bench\.h' | head -8 | sed 's/^/    /'
done
