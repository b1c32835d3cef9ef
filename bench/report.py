"""bench/report.py -- turn the rows of a benchmark run into benchmarks.md and
the plots benchmarks-{time,rss,latency}.svg, in build/bench/report/ (make
bench-publish copies them to docs/).

Every figure in the report is computed here from the rows (build/bench/results/*.tsv):
medians over the runs that passed both checks (allocator served, checksum),
ratios to mimalloc, geometric means over the workloads every compared
allocator finished, and the targets of issue 5 judged against those numbers.
"""
import datetime
import math
import os
import platform
import statistics
import subprocess
import tempfile

import run as runner

LAT_OPS = ["malloc_local", "free_local", "malloc_remote", "free_remote"]
LAT_COLS = [("p50", "p50"), ("p99", "p99"), ("p9999", "p99.99"), ("max", "max"),
            ("max_quiet", "max outside OS calls"), ("os_ops", "ops with OS calls"),
            ("preempted_ops", "ops preempted")]

# The proven bound of each latency operation's calls, by its name in
# spec/bounds.smt2 (build/verify --only bound_starts prints them).
STEP_BOUNDS = {"malloc_local": "B_MALLOC", "free_local": "B_FREE_LOCAL",
               "malloc_remote": "B_MALLOC", "free_remote": "B_FREE_REMOTE"}

# A time whose slowest run took this many times its fastest is marked "~".
NOISY_SPREAD = 1.5

TARGET_TIME_GM = 0.85
TARGET_RSS_GM = 0.90
TARGET_PEER_FACTOR = 1.25


# ---- numbers ---------------------------------------------------------------------------

def summarize(rows):
    """(workload, allocator) -> medians over the good runs, and what failed."""
    cells = {}
    for r in rows:
        c = cells.setdefault((r["workload"], r["allocator"]),
                             {"seconds": [], "rss": [], "cpu": [], "fields": [], "failed": []})
        if r["status"] == "ok":
            c["seconds"].append(r["seconds"])
            c["rss"].append(r["maxrss_kib"])
            c["cpu"].append(r["cpu_seconds"])
            c["fields"].append(r["fields"])
        else:
            c["failed"].append(r["status"])
    out = {}
    for key, c in cells.items():
        s = {"n": len(c["seconds"]), "failed": c["failed"]}
        if c["seconds"]:
            s["seconds"] = statistics.median(c["seconds"])
            # max/min over the runs: how far one run can be trusted
            s["spread"] = max(c["seconds"]) / min(c["seconds"]) if min(c["seconds"]) > 0 else 1
            s["rss"] = statistics.median(c["rss"])
            s["cpu"] = statistics.median(c["cpu"])
            numeric = {}
            for f in c["fields"]:
                for k, v in f.items():
                    try:
                        x = float(v)
                    except ValueError:
                        continue
                    numeric.setdefault(k, []).append(x)
            s["fields"] = {k: statistics.median(v) for k, v in numeric.items()}
        out[key] = s
    return out


def geomean(values):
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def median_of(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def trimmed_geomean(values):
    """The geometric mean without the best and the worst value: no headline
    rests on one workload (None below three values)."""
    values = sorted(v for v in values if v is not None and v > 0)
    return geomean(values[1:-1]) if len(values) >= 3 else None


# The summary lines under each table: one workload cannot make any of them.
SUMMARIES = [("geometric mean of ratios", geomean),
             ("median ratio", median_of),
             ("geometric mean without best and worst", trimmed_geomean)]


def verdict(ok):
    """A target's judgement, as every line of the report writes it."""
    return "**met**" if ok else "**not met**"


def ratio(summary, w, a, metric, base=runner.BASELINE):
    x, b = summary.get((w, a)), summary.get((w, base))
    if not x or not b or "seconds" not in x or "seconds" not in b or not b[metric]:
        return None
    r = x[metric] / b[metric]
    return None if r != r else r    # NaN: not measured


def order_of(rows, key):
    seen = []
    for r in rows:
        if r[key] not in seen:
            seen.append(r[key])
    return seen


# ---- formatting ------------------------------------------------------------------------

def fmt_ratio(x):
    return "-" if x is None else "%.2f" % x


def fmt_cell(summary, w, a, metric, unit):
    s = summary.get((w, a))
    if not s:
        return "-"
    if "seconds" not in s:
        return "FAILED"
    value = s[metric]
    if value != value:      # NaN: not measured (an older results file)
        return "-"
    text = "%.3f s" % value if unit == "s" else "%.1f MiB" % (value / 1024)
    r = ratio(summary, w, a, metric)
    if r is not None and a != runner.BASELINE:
        text += " (%.2f)" % r
    if metric == "seconds" and s.get("spread", 1) > NOISY_SPREAD:
        text += " ~"
    if s["failed"]:
        text += " [%d failed]" % len(s["failed"])
    return text


def machine_lines(meta):
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, text=True,
                                  stderr=subprocess.DEVNULL).stdout.strip()
        except OSError:
            return ""
    model = sh("lscpu | sed -n 's/^Model name: *//p'")
    hyper = sh("lscpu | sed -n 's/^Hypervisor vendor: *//p'")
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    lines = [
        "- CPU: %s, %d cores%s" % (model or platform.processor(), os.cpu_count() or 0,
                                   (", virtual machine (%s)" % hyper) if hyper else ""),
        "- memory: %s; kernel %s; Debian %s" % (mem, platform.release(),
                                                sh("cat /etc/debian_version")),
        "- compiler: %s (workloads built with -O2)" % sh("cc --version | head -1"),
    ]
    versions = ", ".join("%s %s" % (p, runner.pkg_version(p)) for p in
                         ["libc6", "libmimalloc2.0", "libjemalloc2", "libtcmalloc-minimal4",
                          "redis-server", "python3.11", "sqlite3", "perl", "gcc-12",
                          "z3", "ruby3.1"])
    lines.append("- packages: " + versions)
    lines.append("- shardalloc: commit %s" % meta.get("commit", "not recorded"))
    if "load_start" in meta and "load_end" in meta:
        # Other work on the machine shows here; the runs are only as quiet as it was.
        lines.append("- load average (1 min) when the runs started: %.2f, when they ended: %.2f"
                     % (meta["load_start"], meta["load_end"]))
    return lines


# ---- the report ------------------------------------------------------------------------

def proof_check(f, meta):
    """Does the latency workload's bound agree with the proof driver's?"""
    proved = (meta or {}).get("proof_bounds") or {}
    if not proved:
        return "not checked against the proofs (build/verify was not built: `make verify`)"
    pairs = [("B_MALLOC", "bound_steps_malloc"), ("B_FREE_LOCAL", "bound_steps_free_local"),
             ("B_FREE_REMOTE", "bound_steps_free_remote")]
    bad = ["%s: proofs %d, workload %d" % (k, proved[k], f.get(mine, -1))
           for k, mine in pairs if k in proved and proved[k] != f.get(mine)]
    if bad:
        return ("**DISAGREE** with `build/verify --only bound_starts` (%s): the runner did "
                "not hand the workload the proofs' bounds" % "; ".join(bad))
    return "the same as `build/verify --only bound_starts` prints (%s)" % ", ".join(
        "%s=%d" % (k, proved[k]) for k, _ in pairs if k in proved)


def step_counts(rows):
    """shardalloc's step counts in the latency workload, over every run that
    finished: {operation: {"max", "retries_max", "ops", "calls": {steps:
    calls}}}, the max and sums over the runs (the check is on every call, so
    no median). Or (None, why) when there are none to judge, ("old", why) for
    the results of a workload from before it counted steps."""
    runs = [r["fields"] for r in rows if r["workload"] == "latency"
            and r["allocator"] == runner.OURS and r["status"] == "ok"]
    if not runs:
        return None, "the latency workload did not finish for shardalloc"
    if all("steps_counted" not in f for f in runs):
        return "old", "results from an older latency workload, without step counts"
    out = {op: {"max": 0, "retries_max": 0, "ops": 0, "calls": {}} for op in LAT_OPS}
    for f in runs:
        if f.get("steps_counted") != "yes":
            return None, ("a run without step counts (steps_counted: %s): the library did "
                          "not export sa_thread_steps" % f.get("steps_counted", "missing"))
        for op in LAT_OPS:
            try:
                c = out[op]
                c["max"] = max(c["max"], int(f[op + "_steps_max"]))
                c["retries_max"] = max(c["retries_max"], int(f[op + "_steps_retries_max"]))
                c["ops"] += int(f[op + "_steps_ops"])
                for pair in f[op + "_steps_calls"].split(","):
                    steps, _, calls = pair.partition("=")
                    c["calls"][int(steps)] = c["calls"].get(int(steps), 0) + int(calls)
            except (KeyError, ValueError):
                return None, "a run without %s's step counts" % op
            if c["ops"] == 0 or sum(c["calls"].values()) != c["ops"]:
                return None, "%s's step counts do not add up to its calls" % op
    return out, "%d run%s" % (len(runs), "" if len(runs) == 1 else "s")


def step_check(rows, meta):
    """The latency workload's bound check, judged on steps: the most steps one
    call of each operation took (counted by the library, CAS retries aside)
    against the proven bound; fails closed without counts or bounds."""
    head = ("- latency: max steps per call (counted by the library the workload ran "
            "with, CAS retries aside) <= the proven bound (from `build/verify --only "
            "bound_starts`): ")
    counts, why = step_counts(rows)
    if counts == "old":
        return head + "**not judged** (%s)" % why
    if counts is None:
        return head + "**not met** (%s)" % why
    proved = (meta or {}).get("proof_bounds") or {}
    missing = sorted(set(STEP_BOUNDS.values()) - set(proved))
    if missing:
        return head + ("**not met** (no proven %s: build/verify was not built when the "
                       "suite ran)" % ", ".join(missing))
    judged, over = [], []
    for op in LAT_OPS:
        b, m = proved[STEP_BOUNDS[op]], counts[op]["max"]
        judged.append("%s %d %s %s = %d" % (op, m, "<=" if m <= b else ">", STEP_BOUNDS[op], b))
        if m > b:
            over.append(op)
    retries = max(c["retries_max"] for c in counts.values())
    return head + "%s (%s; %s, %d calls; CAS retries at most %d in one call)" % (
        verdict(not over), "; ".join(judged), why,
        sum(c["ops"] for c in counts.values()), retries)


def step_table(rows, meta):
    """Markdown lines: per operation, its calls by step count (in ranges)."""
    counts, _ = step_counts(rows)
    if not isinstance(counts, dict):
        return []
    proved = (meta or {}).get("proof_bounds") or {}
    ranges = [(0, 0), (1, 1), (2, 3), (4, 15), (16, 63), (64, 255), (256, 1023),
              (1024, 4095), (4096, None)]
    label = ["%d" % lo if lo == hi else "%d+" % lo if hi is None else "%d-%d" % (lo, hi)
             for lo, hi in ranges]
    L = ["| operation | calls | " + " | ".join("%s steps" % x for x in label)
         + " | max | bound | CAS retries (most in a call) |",
         "|---|---:|" + "---:|" * len(ranges) + "---:|---:|---:|"]
    for op in LAT_OPS:
        c = counts[op]
        cells = [sum(n for s, n in c["calls"].items() if s >= lo and (hi is None or s <= hi))
                 for lo, hi in ranges]
        bound = STEP_BOUNDS[op] + (" = %d" % proved[STEP_BOUNDS[op]]
                                   if STEP_BOUNDS[op] in proved else " (not known)")
        L.append("| %s | %d | " % (op, c["ops"]) + " | ".join("%d" % x for x in cells)
                 + " | %d | %s | %d |" % (c["max"], bound, c["retries_max"]))
    return L


def steps_section(rows, meta, summary):
    """The latency section's part on steps: what the judged bound check
    measures, why cycles cannot be it, and the calls by step count."""
    L = ["### Steps per call: the bound check (shardalloc)", "",
         "The proven bounds are judged in steps, the unit the proofs count (loop "
         "iterations, OS calls, deferred-free hook calls: `spec/bounds.smt2`), as the "
         "library the workload ran with counts them for the calling thread "
         "(`sa_thread_steps()`, read before and after every call, the warm-up's mallocs "
         "included). A step that retries a CAS another thread's successful CAS made fail is "
         "the k of a bound's B + k and is counted apart. A step count does not move with "
         "interrupts, VM exits or other load, so the check is met or not by the allocator "
         "alone. Cycles cannot be that check on this machine: a call's max* holds the noise "
         "floor, what interrupts and VM exits add to any timed call (the max* of `nothing`"]
    f = summary.get(("latency", runner.OURS), {}).get("fields") or {}
    if "nothing_max_quiet" in f and "bound_cycles_free_local" in f:
        L[-1] += (", %d cycles here, against the %d cycles a local free's bound comes to)"
                  % (f["nothing_max_quiet"], f["bound_cycles_free_local"]))
    else:
        L[-1] += ")"
    L[-1] += "; such a check is decided by the virtual machine, not by the allocator."
    L.append("")
    L.append("**Check**: " + step_check(rows, meta)[len("- latency: "):])
    L.append("")
    table = step_table(rows, meta)
    if table:
        L.extend(table)
        L.append("")
    return L


def targets(summary, workloads, allocators, rows=(), meta=None):
    """The issue's targets, judged; returns markdown lines."""
    ours = runner.OURS
    peers = [a for a in allocators if a not in (ours, runner.COUNT_OFF)]
    lines = []
    if ours not in allocators:
        return ["shardalloc was not part of this run: no target can be judged."]
    done = [w for w in workloads if ratio(summary, w, ours, "seconds") is not None]
    missing = [w for w in workloads if w not in done]
    tg = geomean([ratio(summary, w, ours, "seconds") for w in done])
    rg = geomean([ratio(summary, w, ours, "rss") for w in done])
    note = "" if not missing else " (over %d workloads; %s missing: failed or not run)" % (
        len(done), ", ".join(missing))

    if tg is not None:
        lines.append("- time geometric mean <= %.2f x mimalloc: %.2f, %s%s" % (
            TARGET_TIME_GM, tg, verdict(tg <= TARGET_TIME_GM and not missing), note))
        lines.append("- peak RSS geometric mean <= %.2f x mimalloc: %.2f, %s%s" % (
            TARGET_RSS_GM, rg, verdict(rg <= TARGET_RSS_GM and not missing), note))
        for metric, name in (("seconds", "time"), ("rss", "peak RSS")):
            rs = [ratio(summary, w, ours, metric) for w in done]
            lines.append("- %s, for comparison: median ratio %s, geometric mean without the "
                         "best and worst workload %s" % (name, fmt_ratio(median_of(rs)),
                                                         fmt_ratio(trimmed_geomean(rs))))
    else:
        lines.append("- time and peak RSS geometric means: **not met** (no workload finished "
                     "for both shardalloc and mimalloc)")
    slow = []
    for w in done:
        times = [summary[(w, p)]["seconds"] for p in peers
                 if (w, p) in summary and "seconds" in summary[(w, p)]]
        if times:
            f = summary[(w, ours)]["seconds"] / min(times)
            if f > TARGET_PEER_FACTOR:
                slow.append("%s %.2fx" % (w, f))
    lines.append("- no workload slower than %.2fx its fastest peer: %s%s" % (
        TARGET_PEER_FACTOR, verdict(not slow and not missing),
        (" (slower: " + ", ".join(slow) + ")") if slow else ""))
    if "latency" in workloads:
        lines.append(step_check(rows, meta))
        lines.extend(latency_targets(summary, peers))
    return lines


# The latency targets: malloc's p50 and p99 at or under jemalloc's,
# its p99.99 the best of all.
LAT_MALLOC_OPS = ["malloc_local", "malloc_remote"]
LAT_RIVAL = "jemalloc"


def latency_targets(summary, peers):
    """The latency probe's targets, judged on the medians over the runs; each
    line fails closed (**not met**) when a figure it needs is missing."""
    def fields(a):
        return summary.get(("latency", a), {}).get("fields") or {}

    ours, rival = fields(runner.OURS), fields(LAT_RIVAL)
    need = ["%s_%s" % (op, p) for op in LAT_MALLOC_OPS for p in ("p50", "p99", "p9999")]
    if any(k not in ours for k in need):
        return ["- latency percentiles: **not met** (the latency workload did not finish "
                "for shardalloc)"]
    lines = []
    for pct in ("p50", "p99"):
        keys = ["%s_%s" % (op, pct) for op in LAT_MALLOC_OPS]
        if any(k not in rival for k in keys):
            lines.append("- latency: malloc %s at or under %s's: **not met** (no %s figures)"
                         % (pct, LAT_RIVAL, LAT_RIVAL))
            continue
        judged = ["%s %d vs %d" % (k[:-len(pct) - 1], ours[k], rival[k]) for k in keys]
        lines.append("- latency: malloc %s at or under %s's: %s (%s)" % (
            pct, LAT_RIVAL, verdict(all(ours[k] <= rival[k] for k in keys)),
            "; ".join(judged)))
    others = {a: fields(a) for a in peers if ("latency", a) in summary}
    worse, judged = [], []
    for op in LAT_MALLOC_OPS:
        k = op + "_p9999"
        best = [(f[k], a) for a, f in others.items() if k in f]
        if len(best) < len(others) or not best:
            worse.append("%s: a peer's figure is missing" % op)
            continue
        low, who = min(best)
        judged.append("%s %d, best peer %s %d" % (op, ours[k], who, low))
        if ours[k] > low:
            worse.append(op)
    lines.append("- latency: malloc p99.99 the best of all: %s (%s)" % (
        verdict(not worse and others), "; ".join(judged) or "no peer measured"))
    return lines


def fastpath_lines(fp, allocators):
    """The instruction counts of `build/bench/fastpath` under callgrind."""
    if not fp:
        return []
    some = next(iter(fp.values()))
    L = ["## Fast path: instructions per malloc + free (callgrind)", "",
         "`build/bench/fastpath %d`: %d pairs of malloc(16..256) and free against 64 live "
         "blocks, under `valgrind --tool=callgrind` (counts do not move with the load of the "
         "machine). malloc and free: the inclusive count of the functions of those names "
         "(generic path, refills and all), per call; whole program: every instruction "
         "including the loop itself (the same for every allocator)." % (some["pairs"], some["pairs"]),
         "", "| allocator | malloc | free | malloc + free (ratio to mimalloc) | whole program per pair |",
         "|---|---:|---:|---:|---:|"]
    base = fp.get(runner.BASELINE)
    for a in allocators:
        f = fp.get(a)
        if not f:
            L.append("| %s | - | - | - | - |" % a)
            continue
        n = f["pairs"]
        both = (f["malloc"] + f["free"]) / n
        rel = ""
        if base and a != runner.BASELINE:
            rel = " (%.2f)" % (both / ((base["malloc"] + base["free"]) / base["pairs"]))
        L.append("| %s | %.1f | %.1f | %.1f%s | %.1f |" % (
            a, f["malloc"] / n, f["free"] / n, both, rel, f["total"] / n))
    L.append("")
    generic = ["%s's %s ran %.1f times%s" % (
        a, runner.GENERIC_FUNCTION[a], 1000.0 * fp[a]["generic_calls"] / fp[a]["pairs"],
        "" if fp[a].get("generic_named", True) else
        " (a library without symbols: the calls its malloc makes out of its fast path)")
        for a in allocators if "generic_calls" in fp.get(a, {})]
    if generic:
        L.append("The generic path (malloc's call when its fast path finds no free block), per "
                 "1000 mallocs, counted by callgrind in the same run: %s." % "; ".join(generic))
        L.append("")
    return L


def reuse_lines(reuse, allocators):
    """How soon each allocator handed freed memory out again (bench/reuse.c)."""
    if not reuse:
        return []
    L = ["## Reuse: how soon freed memory is handed out again (bench/reuse.c)", "",
         "Each workload run once more per allocator with `build/bench/libsareuse.so` "
         "preloaded in front of it: every malloc, calloc, realloc and free is one operation; "
         "a block handed out at an address the program freed n operations before counts its "
         "cache lines (size / 64) as reused after n. In each cell the share of all lines "
         "handed out that were freed at most 1024 operations before (the program read them "
         "just before freeing them: likely still cached when it writes them again), then at "
         "most 65,536. These are the allocator's decisions, not times: for one thread they "
         "are the same on every run and machine; xserver-2's threads interleave differently "
         "every run.", "",
         "| workload | " + " | ".join(allocators) + " |",
         "|---|" + "---:|" * len(allocators)]
    for w in sorted(reuse, key=runner.REUSE_WORKLOADS.index):
        cells = []
        for a in allocators:
            c = reuse[w].get(a)
            if not c or not c["reuse_lines"]:
                cells.append("-")
                continue
            cells.append("%.1f%% / %.1f%%" % (100.0 * c["reuse_near_1k"] / c["reuse_lines"],
                                               100.0 * c["reuse_near_64k"] / c["reuse_lines"]))
        L.append("| %s | %s |" % (w, " | ".join(cells)))
    L.append("")
    return L


def bound_key(op):
    """The bound_cycles_* field that bounds a latency operation."""
    return "bound_cycles_" + ("malloc" if op.startswith("malloc") else op)


def count_off_lines(summary, workloads, allocators):
    """What the fast-path counters cost: shardalloc against itself built
    without them, in the same run; markdown lines, none without --count-off."""
    on, off = runner.OURS, runner.COUNT_OFF
    if on not in allocators or off not in allocators:
        return []
    pairs = [(summary[(w, on)]["seconds"], summary[(w, off)]["seconds"]) for w in workloads
             if "seconds" in summary.get((w, on), {}) and "seconds" in summary.get((w, off), {})]
    ratios = [a / b for a, b in pairs if b > 0]
    if not ratios:
        return []
    return ["## What counting costs", "",
            "shardalloc's time over the same build with its fast-path counters compiled out "
            "(`SA_FAST_PATH_STATS=0`, column %s), over %d workloads: geometric mean **%.3f**, "
            "median **%.3f**, range %.3f-%.3f (above 1: counting is slower)." % (
                off, len(ratios), geomean(ratios), statistics.median(ratios), min(ratios),
                max(ratios)), ""]


def loss_lines(summary, workloads, allocators):
    ours = runner.OURS
    if ours not in allocators:
        return []
    peers = [a for a in allocators if a not in (ours, runner.COUNT_OFF)]
    out = []
    for w in workloads:
        me = summary.get((w, ours))
        if not me or "seconds" not in me:
            out.append("- %s: did not finish (see Failed runs)" % w)
            continue
        done = [(summary[(w, p)]["seconds"], p) for p in peers
                if (w, p) in summary and "seconds" in summary[(w, p)]]
        notes = []
        if done:
            best, who = min(done)
            if me["seconds"] > best:
                cpu_best = summary[(w, who)]["cpu"]
                notes.append("time %.2fx %s's (CPU time %.2fx)" % (
                    me["seconds"] / best, who,
                    me["cpu"] / cpu_best if cpu_best and cpu_best == cpu_best else float("nan")))
        r = ratio(summary, w, ours, "rss")
        if r is not None and r > 1:
            notes.append("peak RSS %.2fx mimalloc's" % r)
        if notes:
            out.append("- %s: %s" % (w, "; ".join(notes)))
    return out


def markdown(rows, tsv_path, runs, partial=False, plots=None, meta=None):
    summary = summarize(rows)
    workloads = order_of(rows, "workload")
    allocators = order_of(rows, "allocator")
    if runner.BASELINE in allocators:   # baseline first after glibc, as in the plots
        allocators = sorted(allocators, key=lambda a: [x[0] for x in runner.PEERS + [(runner.OURS,), (runner.COUNT_OFF,)]].index(a))
    desc = {w[0]: w[2] for w in runner.WORKLOADS}
    when = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    L = []
    L.append("# Benchmarks" if not partial else "# Benchmarks (partial run)")
    L.append("")
    L.append("Generated by `bench/run.py` (`make bench`) on %s from `%s`; do not edit by "
             "hand. Method and workloads are described below the tables." % (
                 when, os.path.relpath(tsv_path, runner.ROOT)))
    L.append("")
    L.append("## Machine")
    L.append("")
    L.extend(machine_lines(meta or {}))
    L.append("")
    for metric, unit, title in (("seconds", "s", "Time"), ("rss", "KiB", "Peak RSS"),
                                ("cpu", "s", "CPU time (user + system)")):
        L.append("## %s (median of %d runs; in parentheses: ratio to mimalloc, lower is better)"
                 % (title, runs))
        if metric == "cpu":
            L.append("")
            L.append("For reference (the targets are on wall time): CPU time moves less with "
                     "other load on the machine; for multithreaded workloads it adds the "
                     "threads up, and spinning waits count.")
        L.append("")
        L.append("| workload | " + " | ".join(allocators) + " |")
        L.append("|---|" + "---:|" * len(allocators))
        for w in workloads:
            label = w + (" [1]" if w == "redis" else "")
            L.append("| %s | " % label + " | ".join(fmt_cell(summary, w, a, metric, unit)
                                                   for a in allocators) + " |")
        # Geometric means over the workloads every allocator in the table finished.
        common = [w for w in workloads
                  if all(ratio(summary, w, a, metric) is not None for a in allocators)]
        for label, f in SUMMARIES:
            values = [f([ratio(summary, w, a, metric) for w in common]) for a in allocators]
            L.append("| **%s** (%d workloads) | " % (label, len(common))
                     + " | ".join("**%s**" % fmt_ratio(v) for v in values) + " |")
        L.append("")
        if "redis" in workloads:
            L.append("[1] Debian's redis-server links jemalloc: its glibc column is jemalloc "
                     "(the binary's own allocator, nothing preloaded).")
            L.append("")
        if metric == "seconds":
            L.append("~ marks a time whose slowest run took more than %.1fx its fastest: the "
                     "median of such runs says little (other load on the machine)." % NOISY_SPREAD)
            L.append("")
    if plots:
        L.append("![time ratios](%s)" % plots[0])
        L.append("")
        L.append("![peak RSS ratios](%s)" % plots[1])
        L.append("")
    latency_plot = plots[2] if plots and len(plots) > 2 and plots[2] else None

    L.append("## Targets (shardalloc against mimalloc %s)" % runner.pkg_version("libmimalloc2.0"))
    L.append("")
    L.extend(targets(summary, workloads, allocators, rows, meta))
    L.append("")
    L.extend(count_off_lines(summary, workloads, allocators))

    L.extend(fastpath_lines((meta or {}).get("fastpath") or {}, allocators))
    L.extend(reuse_lines((meta or {}).get("reuse") or {}, allocators))

    losses = loss_lines(summary, workloads, allocators)
    if losses:
        L.append("## Where shardalloc loses (this run)")
        L.append("")
        L.append("Workloads where shardalloc's median time is above its fastest peer's, or its "
                 "peak RSS above mimalloc's; CPU time beside wall time tells allocator cost "
                 "from waiting. `sh bench/profile.sh WORKLOAD` shows where the instructions go.")
        L.append("")
        L.extend(losses)
        L.append("")

    if "latency" in workloads:
        L.append("## Latency (cycles per call, rdtsc; median over runs of each figure)")
        L.append("")
        if latency_plot:
            L.append("![latency tails](%s)" % latency_plot)
            L.append("")
            L.append("The dashed line is shardalloc's proven bound for the operation in "
                     "cycles at the estimated per-step cost (below): for scale, not a check "
                     "(the check is on steps, below the table). Percentiles include preempted calls and OS calls; max* "
                     "leaves them out. The operation `nothing` in the table times two "
                     "back-to-back timer reads as often as a phase times its calls: its max* "
                     "is the machine's noise floor (interrupts, VM exits), which every max* "
                     "above contains too.")
            L.append("")
        L.append("| allocator | operation | " + " | ".join(c[1] for c in LAT_COLS) + " |")
        L.append("|---|---|" + "---:|" * len(LAT_COLS))
        bound_line = None
        for a in allocators:
            f = summary.get(("latency", a), {}).get("fields")
            if not f:
                L.append("| %s | FAILED |" % a + " |" * len(LAT_COLS))
                continue
            for op in LAT_OPS + (["nothing"] if "nothing_p50" in f else []):
                L.append("| %s | %s | " % (a, op) + " | ".join(
                    "%d" % f.get(op + "_" + k, -1) for k, _ in LAT_COLS) + " |")
            if a == runner.OURS or bound_line is None:
                bound_line = (a, f)
        L.append("")
        if bound_line:
            a, f = bound_line
            if "bound_steps_malloc" in f:
                L.append("Proven step bounds (`spec/bounds.smt2`: B_MALLOC, B_FREE_LOCAL, "
                         "B_FREE_REMOTE), as the runner handed them to the workload, "
                         + proof_check(f, meta) + ": a generic malloc "
                         "**%d steps**, a local free %d, a remote free %d (CAS retries caused "
                         "by other threads' successful CAS come on top). For scale only: the "
                         "per-step cost, estimated under %s as the median local malloc (a "
                         "fast-path call, no loop step) less the timer's own cost (%d cycles), "
                         "is %d cycles, so an operation of B steps would take about (B + 1) of "
                         "those: malloc %d cycles, local free %d, remote free %d. All figures "
                         "in the table include the timer's cost." % (
                             f["bound_steps_malloc"], f["bound_steps_free_local"],
                             f["bound_steps_free_remote"], a, f.get("timer_overhead_cycles", -1),
                             f["step_cycles"], f["bound_cycles_malloc"],
                             f["bound_cycles_free_local"], f["bound_cycles_free_remote"]))
                L.append("")
        L.extend(steps_section(rows, meta, summary))

    if "growth" in workloads:
        L.append("## Memory returned to the OS (growth workload, RSS in MiB, median)")
        L.append("")
        L.append("| allocator | RSS at full size | RSS after shrinking to a tenth | returned |")
        L.append("|---|---:|---:|---:|")
        for a in allocators:
            f = summary.get(("growth", a), {}).get("fields")
            if f and "rss_full_kib" in f:
                full, small = f["rss_full_kib"], f["rss_shrunk_kib"]
                returned = round(100.0 * (full - small) / full) if full else 0
                L.append("| %s | %.1f | %.1f | %d%% |" % (a, full / 1024, small / 1024, returned))
        L.append("")

    failures = [r for r in rows if r["status"] != "ok"]
    if failures:
        L.append("## Failed runs")
        L.append("")
        for r in failures:
            L.append("- run %d, %s, %s: %s" % (r["run"], r["workload"], r["allocator"],
                                              r["status"][:300]))
        L.append("")

    L.append("## Workloads")
    L.append("")
    L.append("| workload | pattern |")
    L.append("|---|---|")
    for w in workloads:
        L.append("| %s | %s |" % (w, desc.get(w, "")))
    L.append("")
    L.append("## Method")
    L.append("")
    L.extend(METHOD)
    return "\n".join(L) + "\n"


METHOD = """\
- Reproduce: `make bench` (every workload, 5 interleaved runs, writes this
  page and the plots to `build/bench/report/`; `make bench-publish` copies them
  here), `make bench-quick` (every workload once at reduced scale, prints the tables),
  `make bench BENCH_ARGS='--only large,latency --runs 7'` (a subset, printed),
  `/usr/bin/python3 bench/run.py --report build/bench/results/<file>.tsv` (this page
  again from a results file), `sh bench/profile.sh bignum 0.05` (instruction
  counts per allocator).
- The C workloads are programs in `bench/` (built into `build/bench/` with -O2)
  that call `malloc`/`free`; the allocator is swapped with `LD_PRELOAD` (glibc:
  nothing preloaded). redis, python, sqlite, perl, gcc, z3 and ruby run
  Debian's own `redis-server`, `python3`, `sqlite3`, `perl`, `gcc` (with its
  `cc1` and `as`), `z3` and `ruby` binaries under `LD_PRELOAD`; gcc's
  checksum is the object file's. Their inputs are ours: the scripts
  `bench/py_workload.py`, `pl_workload.pl`, `rb_workload.rb`,
  `sqlite_workload.sql`, and files generated per run by `bench/cc_workload.py`
  (C) and `bench/smt_workload.py` (SMT-LIB: z3 pools its terms itself, so it
  calls `malloc` a few hundred thousand times a second, not millions).
- Under each table: the geometric mean of the ratios, their median, and the
  geometric mean without the best and the worst workload, so that no
  headline rests on one or two workloads.
- Interleaved: run *r* of a workload runs every allocator once, in an order
  rotated by *r*, before run *r+1*. Reported figures are medians over runs.
- Time: wall time of the process (redis: the client session against the
  preloaded server: our own SET/GET of checksum keys around a bounded
  `redis-benchmark -q -n 50000 -c 20 -P 16 -r 100000 -d 200` of nine tests,
  loopback only).
  Peak RSS: `ru_maxrss` as `/usr/bin/time -f %M` reports it (redis: of the
  server). Not from a `wait4()` of the runner's own: Linux carries the peak
  RSS of the address space a process execs away from into its `ru_maxrss`,
  so children of the python runner would show its RSS as a floor; under
  `time` the floor is about a MiB (the tiniest workloads sit near it).
- Ratios are to mimalloc; geometric means are over the workloads that every
  allocator in the table finished.
- Every run proves which allocator served it: the C workloads print the file
  that defines the `malloc` they call (`dlsym(RTLD_DEFAULT, "malloc")` +
  `dladdr`); for the real programs `build/bench/libsaprobe.so` is preloaded
  after the allocator and names the library its own PLT slot for `malloc`
  was bound to (dlsym would name the PLT stub of a non-PIE executable such
  as python3). A run served by another library than the one named fails. Debian's `redis-server` links jemalloc, so
  its "glibc" column is really jemalloc (the binary's own allocator).
- Every run prints a checksum of the data it allocated and read back (redis:
  the values of its checksum keys and the number of tests completed; python,
  sqlite, perl, ruby: their output; z3: its sat/unsat answers, never a model;
  gcc: its object file). It must equal the checksum most runs of the four
  established allocators printed, or the run fails: an allocator cannot win
  by doing less or by handing out a block twice.
- Python runs with `PYTHONMALLOC=malloc`, so all objects come from `malloc`.
- Latency: each call timed with `lfence; rdtsc; lfence` into a log-linear
  histogram (1/64 resolution). "Outside OS calls" leaves out calls during
  which the allocator called `mmap`/`munmap`/`mremap`/`madvise`/`mprotect`/
  `brk`/`sbrk` through the dynamic linker (the workload defines them and
  counts; glibc calls its internal copies, so none of its calls are left out)
  or during which the thread was switched out (seen through the rseq area:
  the kernel rewrites `cpu_id_start` when it schedules the thread back in).
  Page faults and interrupts without a reschedule stay in.
- Latency, steps (shardalloc only): the workload reads the library's own
  count of the calling thread's steps and CAS retries (`sa_thread_steps()`,
  found with `dlsym`; other allocators have none) before and after every
  call, outside the timed part. The check takes the largest count over
  every call of every run (not a median): one call above its bound fails it.
- The machine is a 2-core virtual machine, and other work may run beside the
  suite (the load averages under Machine show how busy it was): single runs
  can move by tens of percent, which is why the figures are medians of
  interleaved runs, and why the CPU-time table is there for reference.
- `sh bench/profile.sh WORKLOAD` counts instructions per allocator with
  callgrind, which no other load moves; the fast-path table comes from
  `build/bench/fastpath` run the same way by the suite itself
  (`--no-fastpath` skips it).
- Reuse: `build/bench/libsareuse.so` (bench/reuse.c) preloaded in front of
  the allocator counts, per workload, how many operations after its free
  each block the program gets is handed out again, weighted by its cache
  lines (`--no-reuse` skips it): how close to last-in-first-out each
  allocator's reuse is, a decision of its own that the machine's load does
  not move. Whether it costs time depends on the program: a write to a
  block that is no longer cached waits only when something must wait for
  the store (xserver's atomic exchange right after its fill does).
""".splitlines()


# ---- plots -----------------------------------------------------------------------------

def plot(rows, docs, runs):
    """Two SVGs of ratios to mimalloc per workload (log scale) with gnuplot."""
    if not os.path.exists("/usr/bin/gnuplot"):
        return None
    summary = summarize(rows)
    workloads = order_of(rows, "workload")
    allocators = [a for a in order_of(rows, "allocator") if a != runner.BASELINE]
    names = []
    with tempfile.TemporaryDirectory() as tmp:
        for metric, fname, title, ylabel in (
                ("seconds", "benchmarks-time.svg", "Time", "time / mimalloc's"),
                ("rss", "benchmarks-rss.svg", "Peak RSS", "peak RSS / mimalloc's")):
            data = os.path.join(tmp, metric + ".dat")
            with open(data, "w") as f:
                f.write("# workload " + " ".join(allocators) + "\n")
                for w in workloads:
                    f.write(w + " " + " ".join(
                        fmt_ratio(ratio(summary, w, a, metric)).replace("-", "?")
                        for a in allocators) + "\n")
            out = os.path.join(docs, fname)
            cols = ", ".join(
                "'%s' using %d%s title '%s'" % (data, i + 2, ":xtic(1)" if i == 0 else "", a)
                for i, a in enumerate(allocators))
            script = "\n".join([
                "set terminal svg size 1000,460 dynamic font 'sans,12' background '#ffffff'",
                "set output '%s'" % out,
                "set title '%s relative to mimalloc (median of %d runs; below 1 is better)'"
                % (title, runs),
                "set datafile missing '?'",
                "set style data histograms",
                "set style histogram clustered gap 1",
                "set style fill solid 0.85 border -1",
                "set logscale y 2",
                "set yrange [*:*]",
                "set xrange [-0.6:%g]" % (len(workloads) - 0.4),
                "set ylabel \"%s\"" % ylabel,
                "set xtics rotate by -30 nomirror",
                "set grid ytics",
                "set key outside right top",
                "set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb '#000000'",
                "plot " + cols,
            ])
            r = subprocess.run(["gnuplot"], input=script, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if r.returncode != 0:
                runner.log("bench: gnuplot failed: " + r.stderr[-500:])
                return None
            names.append(fname)
    return names


# The tail drawn as a line; the max outside OS calls and preemption is drawn
# apart, as a point after it (it is no percentile of the same population).
LAT_TAIL = [("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9"),
            ("p9999", "p99.99"), ("p99999", "p99.999"), ("max", "max"),
            ("max_quiet", "max*")]


def plot_latency(rows, docs, runs):
    """docs/benchmarks-latency.svg: the tail of each operation per allocator,
    with the proven bound of the generic malloc path as a line."""
    summary = summarize(rows)
    allocators = [a for a in order_of(rows, "allocator")
                  if summary.get(("latency", a), {}).get("fields")]
    if not allocators:
        return None
    ours = summary.get(("latency", runner.OURS), {}).get("fields", {})
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "lat.dat")
        with open(data, "w") as f:
            # One block per operation (blank-line pairs separate gnuplot indexes).
            for op in LAT_OPS:
                f.write("# %s: position label %s\n" % (op, " ".join(allocators)))
                for i, (key, label) in enumerate(LAT_TAIL):
                    vals = [summary[("latency", a)]["fields"].get("%s_%s" % (op, key))
                            for a in allocators]
                    f.write("%d \"%s\" %s\n" % (i, label, " ".join(
                        "?" if v is None else "%d" % max(v, 1) for v in vals)))
                f.write("\n\n")
        out = os.path.join(docs, "benchmarks-latency.svg")
        lines = [
            "set terminal svg size 1000,760 dynamic font 'sans,11' background '#ffffff'",
            "set output '%s'" % out,
            "set datafile missing '?'",
            "set logscale y 10",
            "set grid ytics",
            "set xtics rotate by -30",
            "set key top left samplen 2 spacing 0.9 font ',9'",
            "set yrange [10:1e11]",
            "set ytics 10",
            "set format y '10^{%L}'",
            "set xrange [-0.3:%g]" % (len(LAT_TAIL) - 0.7),
            "set multiplot layout 2,2 title 'Cycles per call, the tail (median of %d runs; "
            "max*: max outside OS calls and preemption)' "
            "margins 0.08,0.98,0.08,0.93 spacing 0.08,0.14" % runs,
        ]
        last = len(LAT_TAIL) - 1
        for idx, op in enumerate(LAT_OPS):
            lines.append("set title '%s'" % op.replace("_", " "))
            if idx == 1:
                lines.append("unset key")
            curves = []
            for i, a in enumerate(allocators):
                curves.append("'%s' index %d every ::0::%d using 1:%d:xtic(2) with linespoints "
                              "lc %d pt %d title '%s'" % (data, idx, last - 1, i + 3, i + 1,
                                                          i + 1, a))
                curves.append("'%s' index %d every ::%d::%d using 1:%d:xtic(2) with points "
                              "lc %d pt %d ps 1.5 notitle" % (data, idx, last, last, i + 3,
                                                              i + 1, i + 1))
            bound = ours.get(bound_key(op))
            if bound:
                curves.append("%d with lines dt 2 lw 2 lc rgb '#000000' title 'proven bound, "
                              "shardalloc'" % bound)
            lines.append("plot " + ", ".join(curves))
        lines.append("unset multiplot")
        r = subprocess.run(["gnuplot"], input="\n".join(lines), text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            runner.log("bench: gnuplot failed: " + r.stderr[-500:])
            return None
    return "benchmarks-latency.svg"


def write(rows, tsv_path, docs, runs, meta=None):
    os.makedirs(docs, exist_ok=True)
    plots = plot(rows, docs, runs)
    if plots:
        plots.append(plot_latency(rows, docs, runs))
    text = markdown(rows, tsv_path, runs, plots=plots, meta=meta)
    path = os.path.join(docs, "benchmarks.md")
    with open(path, "w") as f:
        f.write(text)
    runner.log("bench: wrote %s%s" % (os.path.relpath(path, runner.ROOT),
                                      " and plots" if plots else ""))
