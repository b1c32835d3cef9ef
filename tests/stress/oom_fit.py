#!/usr/bin/python3
"""tests/stress/oom_fit.py -- issue 10's out-of-memory pattern (tests/stress/
oom_fit.c) under shardalloc and its four peers, one after another in the same
run, at each address-space limit: the live data that fit (mean and lowest of
the cycles, MiB) and the thread-cycles whose small mallocs failed after
everything was freed, as a Markdown table (docs/design.md, "Out of memory").

    oom_fit.py OOM_FIT_BINARY LIBSHARDALLOC [THREADS CYCLES LIMIT_MIB...]

An allocator whose library is missing is reported, not skipped silently."""
import os
import subprocess
import sys

from peers import PEERS, env_for


def run(binary, lib, limit, threads, cycles):
    env = env_for(lib)
    r = subprocess.run([binary, str(limit), str(threads), str(cycles)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=600)
    if r.returncode < 0:
        return f"crashed (signal {-r.returncode})"     # a peer's bug is reported, not hidden
    for line in r.stdout.splitlines():
        f = line.split()
        if r.returncode == 0 and f[0] == "total":  # total fit_mib_min M fit_mib_mean A failed F of N
            return f"{float(f[4]):.0f} ({float(f[2]):.0f}), {f[6]}/{f[8]}"
    raise SystemExit(f"{binary} under {lib}: exit {r.returncode}, no total line")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, sa_lib = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    cycles = int(sys.argv[4]) if len(sys.argv) > 4 else 6
    limits = [int(a) for a in sys.argv[5:]] or [48, 96, 256]
    allocators = [("shardalloc", sa_lib)] + PEERS
    for name, lib in allocators:
        if lib is not None and not os.path.exists(lib):
            sys.exit(f"{name}: {lib} missing")
    print(f"{threads} threads, {cycles} cycles (tests/stress/oom_fit.c): live MiB that fit, mean "
          f"(lowest), and thread-cycles whose small mallocs failed after everything was freed:\n")
    print("| limit | " + " | ".join(n for n, _ in allocators) + " |")
    print("|---:|" + "---:|" * len(allocators))
    for limit in limits:
        cells = [run(binary, lib, limit, threads, cycles) for _, lib in allocators]
        print(f"| {limit} MiB | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
