#!/usr/bin/python3
"""tests/stress/churn_curve.py -- the thread churn of tests/stress/churn.c under every allocator,
one after another in the same run: the resident set and the mapped size (MiB)
every EVERY rounds, as a Markdown table (docs/design.md, "How abandoned
memory is bounded"), and each one's time and peak.

    churn_curve.py CHURN_BINARY LIBSHARDALLOC [ROUNDS THREADS EVERY]

An allocator whose library is missing is reported, not skipped silently."""
import os
import subprocess
import sys

from peers import PEERS, env_for


def run(binary, lib, rounds, threads, every):
    env = env_for(lib)
    out = subprocess.run([binary, str(rounds), str(threads), str(every)], env=env,
                         capture_output=True, text=True, timeout=1800, check=True).stdout
    rows, peak = {}, None
    for line in out.splitlines()[1:]:
        fields = line.split()
        if fields[0] == "peak_rss_mib":
            peak = float(fields[1])
            continue
        r, rss, vm, secs = fields
        rows[int(r)] = (float(rss), float(vm), float(secs))
    if peak is None:
        raise SystemExit(f"{binary}: no peak_rss_mib line")
    return rows, peak


def main():
    if len(sys.argv) not in (3, 6):
        sys.exit(__doc__)
    binary, sa_lib = sys.argv[1], sys.argv[2]
    rounds, threads, every = (int(a) for a in sys.argv[3:6]) if len(sys.argv) == 6 else (500, 100, 50)
    allocators = [("shardalloc", sa_lib)] + PEERS
    results, peaks = {}, {}
    for name, lib in allocators:
        if lib is not None and not os.path.exists(lib):
            print(f"{name}: {lib} missing", file=sys.stderr)
            sys.exit(1)
        results[name], peaks[name] = run(binary, lib, rounds, threads, every)
    names = [n for n, _ in allocators]
    print(f"Rounds of {threads} threads (tests/stress/churn.c), RSS / mapped MiB after the round:\n")
    print("| round | " + " | ".join(names) + " |")
    print("|---:|" + "---:|" * len(names))
    for r in sorted(results[names[0]]):
        cells = [f"{results[n][r][0]:.0f} / {results[n][r][1]:.0f}" for n in names]
        print(f"| {r} | " + " | ".join(cells) + " |")
    best = min(peaks[n] for n in names[1:])
    print("| peak RSS (VmHWM) | " + " | ".join(f"{peaks[n]:.0f}" for n in names) + " |")
    print("| seconds | " + " | ".join(f"{max(v[2] for v in results[n].values()):.1f}" for n in names) + " |")
    print(f"\nshardalloc's peak RSS is {peaks[names[0]] / best:.2f}x the best peer's ({best:.0f} MiB).")


if __name__ == "__main__":
    main()
