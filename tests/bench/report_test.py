#!/usr/bin/python3
"""tests/bench/report_test.py -- the judge of `make bench` judged: the figures
and verdicts bench/report.py writes into docs/benchmarks.md, computed from
made-up rows whose answers are known, so a headline or a target cannot pass
because the code that states it is wrong. Run by `make test` (test-bench-report).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import report  # noqa: E402
import run as runner  # noqa: E402

ALLOCATORS = [name for name, _, _ in runner.PEERS] + [runner.OURS]
failures = []


def check(name, ok, detail=""):
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail and not ok else ""))
    if not ok:
        failures.append(name)


def row(w, a, seconds, rss_kib=1024, status="ok", fields=None):
    return {"workload": w, "allocator": a, "status": status, "seconds": seconds,
            "maxrss_kib": rss_kib, "cpu_seconds": seconds, "fields": fields or {}}


def latency_fields(p50, p99, p9999):
    f = {}
    for op in report.LAT_OPS:
        f.update({op + "_p50": p50, op + "_p99": p99, op + "_p9999": p9999})
    return f


def judged(lines, prefix):
    hit = [x for x in lines if x.startswith(prefix)]
    return hit[0] if len(hit) == 1 else "missing or twice: %r" % hit


# ---- the summary figures -----------------------------------------------------------
check("geomean of 1, 4 is 2", abs(report.geomean([1.0, 4.0]) - 2.0) < 1e-12)
check("geomean skips missing figures", abs(report.geomean([None, 2.0, 8.0]) - 4.0) < 1e-12)
check("geomean of nothing is None", report.geomean([]) is None)
check("median of an even count is the mean of the middle two",
      report.median_of([4.0, 1.0, 3.0, 2.0]) == 2.5)
check("trimmed geomean drops the best and the worst",
      abs(report.trimmed_geomean([100.0, 2.0, 8.0, 0.01]) - 4.0) < 1e-12)
check("trimmed geomean needs three figures", report.trimmed_geomean([1.0, 2.0]) is None)

rows = [row("w", "mimalloc", s) for s in (1.0, 3.0, 2.0)] + \
       [row("w", runner.OURS, s) for s in (1.0, 1.5, 9.0)] + \
       [row("w", runner.OURS, 0.1, status="checksum")]
s = report.summarize(rows)
check("the median is over the runs that passed", s[("w", runner.OURS)]["seconds"] == 1.5)
check("a failed run is counted as failed", s[("w", runner.OURS)]["failed"] == ["checksum"])
check("spread is slowest over fastest", s[("w", runner.OURS)]["spread"] == 9.0)
check("ratio to mimalloc", report.ratio(s, "w", runner.OURS, "seconds") == 0.75)


# ---- the targets ------------------------------------------------------------------
def suite(ours_time, ours_rss, lat_ours, lat_jemalloc=(78, 1000, 11000), drop=None):
    """Two workloads plus the latency probe; every peer takes 1 s and 1 MiB."""
    rows = []
    for w in ("a", "b", "latency"):
        for a in ALLOCATORS:
            if (w, a) == drop:
                continue
            t, kib = (ours_time, ours_rss * 1024) if a == runner.OURS else (1.0, 1024)
            f = {}
            if w == "latency":
                f = latency_fields(*(lat_ours if a == runner.OURS else
                                     lat_jemalloc if a == "jemalloc" else (104, 1500, 12000)))
            rows.append(row(w, a, t, kib, fields=f))
    return rows


def targets_of(rows):
    s = report.summarize(rows)
    ws = report.order_of(rows, "workload")
    return report.targets(s, ws, report.order_of(rows, "allocator"), rows, {})


# Each target's line, judged met on a suite that meets every target (0.80x
# time, 0.85x RSS, malloc p50 equal to jemalloc's, p99 and p99.99 below it)
# and not met on one that misses each (1.30x, 0.95x, p50 104 > 78, p99
# 1100 > 1000, p99.99 11500 > jemalloc's 11000).
TARGET_LINES = [("time geometric mean", "- time geometric mean"),
                ("peak RSS geometric mean", "- peak RSS geometric mean"),
                ("no workload over the peer factor", "- no workload slower"),
                ("malloc p50", "- latency: malloc p50"),
                ("malloc p99", "- latency: malloc p99 "),
                ("malloc p99.99 the best", "- latency: malloc p99.99")]
for suite_name, lines, want in (("a suite meeting them", targets_of(suite(0.8, 0.85, (78, 900, 10000))), "**met**"),
                                ("a suite missing them", targets_of(suite(1.3, 0.95, (104, 1100, 11500))), "**not met**")):
    for name, prefix in TARGET_LINES:
        line = judged(lines, prefix)
        check("%s: %s %s" % (suite_name, name, want.strip("*")), want in line, line)

gone = targets_of(suite(0.5, 0.5, (50, 500, 5000), drop=("b", runner.OURS)))
check("a workload missing for shardalloc fails the time target closed",
      "**not met**" in judged(gone, "- time geometric mean"))
check("... and the peer factor", "**not met**" in judged(gone, "- no workload slower"))
nojem = targets_of(suite(0.5, 0.5, (50, 500, 5000), drop=("latency", "jemalloc")))
check("no jemalloc latency figures: p50 not met", "**not met**" in judged(nojem, "- latency: malloc p50"))
failed_peer = [r if (r["workload"], r["allocator"]) != ("latency", "tcmalloc")
               else dict(r, status="crashed") for r in suite(0.5, 0.5, (50, 500, 5000))]
check("a peer's failed latency run: p99.99 not met (unknown best)",
      "**not met**" in judged(targets_of(failed_peer), "- latency: malloc p99.99"))
noours = targets_of(suite(0.5, 0.5, (50, 500, 5000), drop=("latency", runner.OURS)))
check("shardalloc's latency run missing: percentiles not met",
      "**not met**" in judged(noours, "- latency percentiles"))

# ---- the reuse table (bench/reuse.c's counts) ------------------------------------------
reuse = {"growth": {"mimalloc": {"reuse_lines": 200, "reuse_near_1k": 50, "reuse_near_64k": 150},
                    runner.OURS: {"reuse_lines": 0, "reuse_near_1k": 0, "reuse_near_64k": 0}},
         "live-small": {"mimalloc": {"reuse_lines": 8, "reuse_near_1k": 8, "reuse_near_64k": 8}}}
rl = report.reuse_lines(reuse, ["mimalloc", runner.OURS])
check("reuse: no counts, no section", report.reuse_lines({}, ALLOCATORS) == [])
check("reuse: shares of the lines handed out, within 1024 then 65536 operations",
      "| growth | 25.0% / 75.0% | - |" in rl, "\n".join(rl))
check("reuse: workloads in the suite's order", [x.split(" |")[0] for x in rl if x.startswith("| ")
                                                 and not x.startswith("| workload")] ==
      ["| live-small", "| growth"], "\n".join(rl))
check("reuse: an allocator without counts, or with no line handed out, is a dash",
      "| live-small | 100.0% / 100.0% | - |" in rl, "\n".join(rl))

if failures:
    print("report_test: %d check(s) failed: %s" % (len(failures), ", ".join(failures)))
    sys.exit(1)
print("report_test: every check passed")
