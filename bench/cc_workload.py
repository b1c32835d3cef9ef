"""bench/cc_workload.py -- writes the C file the `gcc` workload compiles
(gcc -O2 under LD_PRELOAD: the driver, cc1 and as all run on the allocator
under test; cc1 allocates its trees through its own collector but its
vectors, bitmaps, hash tables, obstacks and pass-local data through malloc).

The file is generated, deterministic and self-contained: FUNCS functions,
each a few loops, a switch and a call into the one before over a struct
array, so the optimiser (inlining, loop passes, value numbering) has real
work on every one of them.

Usage: python3 cc_workload.py SCALE OUT.c
"""
import sys


def function(i):
    a, b = (i * 7) % 13 + 1, (i * 11) % 17 + 2
    # One call into the previous function: inlining without a cascade.
    calls = "    acc += f%d(v, n - 1);\n" % (i - 1) if i else ""
    cases = "".join("    case %d: acc ^= v[%d].x * %d + v[%d].y; break;\n"
                    % (c, c % 8, a + c, (c * 3) % 8) for c in range(12))
    return """
static long f%(i)d(struct rec *v, int n)
{
    long acc = %(a)d;
    for (int i = 0; i < n; i++) {
        v[i & 7].x += v[(i + %(b)d) & 7].y * %(a)d;
        if (v[i & 7].x > %(lim)d)
            v[i & 7].x -= v[(i * 3) & 7].z;
        acc += v[i & 7].x ^ (acc >> 3);
    }
    switch (n & 15) {
%(cases)s    default: acc += n;
    }
%(calls)s    for (int j = n; j > 0; j -= %(b)d)
        acc = acc * 33 + v[j & 7].z;
    return acc;
}
""" % {"i": i, "a": a, "b": b, "lim": 1000 + i, "cases": cases, "calls": calls}


def main():
    scale = float(sys.argv[1])
    funcs = max(10, int(200 * scale))
    out = ["struct rec { long x, y, z; };"]
    out.extend(function(i) for i in range(funcs))
    out.append("long run_all(struct rec *v, int n)\n{\n    long acc = 0;")
    out.extend("    acc += f%d(v, n);" % i for i in range(funcs))
    out.append("    return acc;\n}")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
