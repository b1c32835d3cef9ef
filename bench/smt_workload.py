"""bench/smt_workload.py -- writes the SMT-LIB script the `z3` workload solves
(Debian's z3 command-line solver under LD_PRELOAD). z3 keeps its terms in
pools of its own, carved from chunks it mallocs; what it mallocs one by
one are vectors, hash tables, caches, the digits of its big numbers and
string values -- a few hundred thousand calls per second, not millions, as
in most programs that pool their small objects.

The script is generated, deterministic and self-contained (no preamble of
the proof driver's): 3 rounds at scale 1, each in its own push/pop scope so that
every round builds its terms and solver state anew and pop frees them:
  * linear real arithmetic, dense, with large coefficients (sat);
  * word equations over strings with a regular constraint (sat);
  * scheduling in linear integer arithmetic: tasks with durations, a chain
    of precedences and pairwise disjunctions on 3 machines, asked for a
    makespan below an even share of the work (unsat) and at all of it (sat);
  * arrays: a permutation written twice through store chains in different
    orders must give the same array (unsat that they differ).
Only the sat/unsat answers are printed (never a model, which a solver may
pick freely), so the output is the same whoever allocates. Not factoring or
other pure SAT search: z3 keeps its clauses in its own pools, and a search
that long measures the CPU, not the allocator.

Usage: python3 smt_workload.py SCALE OUT.smt2
"""
import sys


def rand(state):
    """A 64-bit LCG step (Knuth's MMIX constants): the same problems on every
    machine, without python's random module changing between versions."""
    state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
    return state, state >> 33


def linear(r, n):
    """Dense linear real arithmetic with coefficients up to a million: the
    simplex tableau's rationals outgrow a machine word, and every pivot
    allocates and frees their digits."""
    state = r + 1
    out = ["(push 1)"] + ["(declare-const v%d Real)" % i for i in range(n)]
    for j in range(2 * n):
        terms = []
        for i in range(n):
            state, a = rand(state)
            state, b = rand(state)
            if a % 3 == 0:
                terms.append("(* %d v%d)" % (b % 2000001 - 1000000, i))
        state, c = rand(state)
        state, d = rand(state)
        out.append("(assert (<= (+ 0 %s) %d))" % (" ".join(terms), c % 1000000))
        out.append("(assert (>= v%d (- %d)))" % (j % n, 1 + d % 1000))
    out += ["(check-sat)", "(pop 1)"]
    return "\n".join(out) + "\n"


def strings(r):
    """Word equations and a regular language: the sequence solver's terms,
    automata and string values, rebuilt as its search splits cases."""
    return """(push 1)
(declare-const x String)
(declare-const y String)
(declare-const z String)
(assert (= (str.++ x "ab" y) (str.++ y "ba" x)))
(assert (= (str.len x) %d))
(assert (str.in_re z (re.+ (re.union (str.to_re "abc") (str.to_re "bca")))))
(assert (= (str.len z) %d))
(assert (str.contains z "cab"))
(check-sat)
(pop 1)
""" % (4 + r % 4, 9 + 3 * (r % 3))


def scheduling(r, tasks):
    dur = [1 + (i * 7 + r * 3) % 9 for i in range(tasks)]
    machines = 3
    out = ["(push 1)"]
    out += ["(declare-const s%d Int)" % i for i in range(tasks)]
    out += ["(declare-const m%d Int)" % i for i in range(tasks)]
    out.append("(declare-const span Int)")
    for i in range(tasks):
        out.append("(assert (and (>= s%d 0) (<= (+ s%d %d) span) (>= m%d 0) (< m%d %d)))"
                   % (i, i, dur[i], i, i, machines))
    # Every fourth task waits for the one before it.
    for i in range(1, tasks):
        if i % 4 == 0:
            out.append("(assert (>= s%d (+ s%d %d)))" % (i, i - 1, dur[i - 1]))
    for i in range(tasks):
        for j in range(i + 1, tasks):
            out.append("(assert (or (distinct m%d m%d) (>= s%d (+ s%d %d)) (>= s%d (+ s%d %d))))"
                       % (i, j, j, i, dur[i], i, j, dur[j]))
    # The machines can at best share the work evenly.
    bound = -(-sum(dur) // machines)
    out.append("(check-sat-assuming ((<= span %d)))" % (bound - 1))
    out.append("(check-sat-assuming ((<= span %d)))" % (sum(dur)))
    out.append("(pop 1)")
    return "\n".join(out) + "\n"


def arrays(r, n):
    perm = [(i * 5 + r) % n for i in range(n)]
    a = "a"
    for i in range(n):
        a = "(store %s %d (select a %d))" % (a, i, perm[i])
    b = "a"
    for i in reversed(range(n)):
        b = "(store %s %d (select a %d))" % (b, i, perm[i])
    return """(push 1)
(declare-const a (Array Int Int))
(assert (not (= %s %s)))
(check-sat)
(pop 1)
""" % (a, b)


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rounds = max(1, int(3 * scale))
    parts = []
    for r in range(rounds):
        parts.append(linear(r, 60))
        parts.append(strings(r))
        parts.append(scheduling(r, 10))
        parts.append(arrays(r, 60))
    with open(sys.argv[2], "w") as f:
        f.write("".join(parts))


if __name__ == "__main__":
    main()
