#!/bin/sh
# bench/profile.sh -- instruction counts (callgrind) of one workload under
# each allocator (a C workload, or the real program python, perl, ruby or
# z3): total, and the allocator's own functions. Unlike wall time these do
# not move with the load of the machine, so they show where
# shardalloc spends more than its peers. Needs valgrind (apt-get install
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
# The command bench/run.py runs for the workload (the same inputs, scaled);
# never through env(1): callgrind would count env, not the program it execs.
case $w in
    python) cmd="/usr/bin/python3 bench/py_workload.py $scale"
            export PYTHONMALLOC=malloc ;;
    perl)   cmd="/usr/bin/perl bench/pl_workload.pl $scale" ;;
    ruby)   cmd="/usr/bin/ruby bench/rb_workload.rb $scale" ;;
    z3)     /usr/bin/python3 bench/smt_workload.py "$scale" "$out/z3.smt2"
            cmd="z3 $out/z3.smt2" ;;
    *)      cmd="build/bench/$w $scale" ;;
esac
[ $# -gt 0 ] || set -- glibc mimalloc jemalloc tcmalloc shardalloc
for a in "$@"; do
    lib=$(lib_of "$a")
    f="$out/$w.$a.callgrind"
    LD_PRELOAD=$lib valgrind --tool=callgrind --callgrind-out-file="$f" \
        $cmd >"$f.stdout" 2>"$f.log"
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
