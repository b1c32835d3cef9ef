#!/usr/bin/python3
"""bench/run.py -- run the benchmark suite against glibc, mimalloc, jemalloc,
tcmalloc and shardalloc, and write the results (stdlib only: Debian's python3).

    make bench          every workload, 5 runs, writes build/bench/report/benchmarks.md
                        and its plots (make bench-publish copies them to docs/)
    make bench-quick    a few minutes: 1 run of each at reduced scale, table to stdout

Method (also written into the report):
  * allocators are interleaved: run r of a workload runs every allocator once,
    in an order rotated by r, before run r+1 starts, so drift of the machine
    (other load, thermal, page cache) spreads over all allocators alike;
  * time is the wall time of the process (for redis: of the client session),
    peak RSS is its ru_maxrss as /usr/bin/time reports it (redis: the server's),
    and so is its CPU time (user + system), which other load moves less;
    we report medians over runs, ratios to mimalloc, and geometric means;
  * every run proves which allocator served it (the workload, or the probe
    library for real programs, prints the file that defines `malloc`) and
    prints a checksum of its data, which must be the same for every allocator;
    a run that fails either check, crashes or times out counts as failed.

The results of every run go to build/bench/results/<timestamp>.tsv (--results);
`run.py --report FILE.tsv` rebuilds the report from such a file. The report goes
to build/bench/report/ (--docs), never to docs/ unless asked.
"""
import argparse
import datetime
import json
import os
import random
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIBDIR = "/usr/lib/x86_64-linux-gnu"

# (name, library to preload or None, Debian package that ships it)
PEERS = [
    ("glibc", None, "libc6"),
    ("mimalloc", LIBDIR + "/libmimalloc.so.2", "libmimalloc2.0"),
    ("jemalloc", LIBDIR + "/libjemalloc.so.2", "libjemalloc2"),
    ("tcmalloc", LIBDIR + "/libtcmalloc_minimal.so.4", "libtcmalloc-minimal4"),
]
BASELINE = "mimalloc"
OURS = "shardalloc"
# shardalloc built with SA_FAST_PATH_STATS=0 (--count-off): what counting costs.
# Not a peer: it is left out of the targets and of "best peer".
COUNT_OFF = "shardalloc-count-off"

# Packages the suite needs (tools as well as the peer allocators).
PACKAGES = ["libmimalloc2.0", "libjemalloc2", "libtcmalloc-minimal4",
            "redis-server", "redis-tools", "sqlite3", "gnuplot-nox", "time",
            "python3", "perl", "gcc", "z3", "ruby", "valgrind"]

# The workloads: name, kind, one-line description.
# kind "c": build/bench/<name> <scale> (bench/<name>.c, or .cpp for the C++
# ones); the others are real programs.
WORKLOADS = [
    ("bignum", "c", "single thread, bignum-like lifetime mix of small objects"),
    ("prodcons", "c", "one thread allocates, another frees (cross-thread free)"),
    ("server", "c", "larson-like server: random sizes, tables handed between threads, thread churn"),
    ("churn", "c", "threads created and destroyed every round, their objects live on"),
    ("falseshare", "c", "small objects allocated by one thread, written by others"),
    ("large", "c", "5-25 MiB blocks allocated, touched, freed in a loop"),
    ("growth", "c", "long-lived growth, slowly moving working set, then shrink"),
    ("buffers", "c", "single thread, 16 KiB-1 MiB buffers replacing a live set of 256, each written whole"),
    ("latency", "c", "per-operation rdtsc cycles of malloc/free, local and remote"),
    ("redis", "redis", "redis-server under redis-benchmark on loopback"),
    ("python", "python", "python3 (PYTHONMALLOC=malloc): dicts, JSON, sorting"),
    ("sqlite", "sqlite", "sqlite3 shell: in-memory table, index, aggregates"),
    ("live-small", "c", "single thread, random 16-256 B (1/64 up to 1 KiB) replacing a live set of 100"),
    ("live-large", "c", "the same loop against a live set of 100,000 blocks (cache misses, many pages)"),
    ("xserver-2", "c", "2 threads share a table: each request's block displaces and frees another thread's"),
    ("xserver-8", "c", "the same with 8 threads on the 2 cores (preempted mid-free)"),
    ("xserver-2-sparse", "c", "xserver-2 with each block's second word left as malloc gave it (short strings)"),
    ("relay", "c", "2 chains of workers: each starts its successor, hands it its table of blocks, exits"),
    ("tchurn", "c", "4 fresh threads per round hand blocks through a shared table; later threads free them"),
    ("leakgrow", "c", "4 fresh threads per round churn a live set, each leaks 32 blocks when it ends"),
    ("newdelete", "c", "C++: new[] of 9 B-1 KiB replacing a live set, std::map nodes and strings, vector growth"),
    ("perl", "perl", "perl: split log lines, hashes of arrays, regex substitutions, sorting"),
    ("gcc", "gcc", "gcc -O2 -c on a generated 200-function C file (driver, cc1, as)"),
    ("z3", "z3", "z3 solver: generated SMT-LIB rounds (dense linear reals, strings, scheduling, arrays)"),
    ("ruby", "ruby", "ruby: records as hashes of strings and arrays, grouping, sorting, GC churn"),
]
# C workloads that run a binary of another name, or with arguments after
# the scale: name -> (binary in build/bench, extra arguments).
C_COMMANDS = {
    "live-small": ("liveset", ["100"]),
    "live-large": ("liveset", ["100000"]),
    "xserver-2": ("xserver", ["2"]),
    "xserver-8": ("xserver", ["8"]),
    "xserver-2-sparse": ("xserver", ["2", "sparse"]),
}
# `make bench-quick`: every workload once, at this fraction of its work.
QUICK_SCALE = 0.3

# A run taking this long hangs: every workload takes seconds, under load too.
TIMEOUT_S = 60


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- setup ------------------------------------------------------------------------

def ensure_packages():
    """Install what is missing with apt (the suite's only network use)."""
    missing = [p for p in PACKAGES
               if subprocess.run(["dpkg", "-s", p], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL).returncode != 0]
    if not missing:
        return
    log("bench: installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-qq"], env=env, check=True)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq"] + missing, env=env, check=True)


def pkg_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return r.stdout.strip() if r.returncode == 0 else "not installed"


# ---- running one process -------------------------------------------------------------

class Proc:
    """A child process, its wall time and its peak RSS.

    The command runs as `/usr/bin/time -f '%M %U %S' -o FILE env VAR=... cmd`:
    GNU time forks and reports ru_maxrss and CPU times of the workload from
    wait4(). Not wait4() on a
    child of ours: Linux carries the peak RSS of the address space a process
    execs away from into its ru_maxrss, so every child of this python process
    would show python's RSS as a floor; time's own floor is about a MiB. The
    preload variables are set by env, after time, so time itself runs on the
    system allocator."""

    def __init__(self, cmd, env_extra, stdin_data=None):
        self.out = tempfile.TemporaryFile("w+")
        self.err = tempfile.TemporaryFile("w+")
        fd, self.rss_file = tempfile.mkstemp(prefix="sa-bench-rss-")
        os.close(fd)
        env = dict(os.environ)
        for k in ("LD_PRELOAD", "SA_BENCH_PROBE", "PYTHONMALLOC"):
            env.pop(k, None)
        full = (["/usr/bin/time", "-f", "%M %U %S", "-o", self.rss_file, "env"]
                + ["%s=%s" % kv for kv in sorted(env_extra.items())] + cmd)
        stdin = subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL
        self.t0 = time.perf_counter()
        self.p = subprocess.Popen(full, env=env, stdin=stdin, stdout=self.out,
                                  stderr=self.err, text=True)
        if stdin_data is not None:
            self.p.stdin.write(stdin_data)
            self.p.stdin.close()
        self.status = None
        self.timed_out = False
        self.maxrss = 0
        self.cpu = float("nan")
        self.seconds = None

    def wait(self, timeout=None):
        # A blocking wait (Popen.wait with a timeout polls, in steps of up to
        # 50 ms, which would round every time); a timer kills a hung run.
        killer = threading.Timer(timeout or TIMEOUT_S, self.time_out)
        killer.start()
        try:
            self.p.wait()
        finally:
            killer.cancel()
        self.seconds = time.perf_counter() - self.t0
        self.status = self.p.returncode
        try:
            # The last line is ours ("Command exited with ..." may precede it).
            with open(self.rss_file) as f:
                last = f.read().strip().splitlines()[-1].split()
            self.maxrss = int(last[0])
            self.cpu = float(last[1]) + float(last[2])
        except (OSError, ValueError, IndexError):
            self.maxrss = 0
        os.unlink(self.rss_file)
        return self

    def time_out(self):
        self.timed_out = True
        self.kill()

    def kill(self):
        """Kill time's child (the workload); time then reaps it, reports and
        exits. time itself is killed only if it does not."""
        try:
            kids = subprocess.run(["pgrep", "-P", str(self.p.pid)], stdout=subprocess.PIPE,
                                  text=True).stdout.split()
            for k in kids:
                os.kill(int(k), 9)
            self.p.wait(5)
        except (ProcessLookupError, OSError, subprocess.TimeoutExpired):
            try:
                self.p.kill()
            except ProcessLookupError:
                pass

    def stdout(self):
        self.out.seek(0)
        return self.out.read()

    def stderr(self):
        self.err.seek(0)
        return self.err.read()


def parse_fields(text):
    """'name: value' lines -> dict (last one wins)."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key and " " not in key.strip():
            fields[key.strip()] = value.strip()
    return fields


def env_for(lib, probe_lib, probe_out, extra=None):
    """The variables the workload (not /usr/bin/time) runs with."""
    env = {}
    preload = ([lib] if lib else []) + ([probe_lib] if probe_lib else [])
    if preload:
        env["LD_PRELOAD"] = " ".join(preload)
    if probe_out:
        env["SA_BENCH_PROBE"] = probe_out
    env.update(extra or {})
    return env


def probe_lines(path):
    try:
        with open(path) as f:
            return [l.partition(":")[2].strip() for l in f if l.startswith("allocator:")]
    except FileNotFoundError:
        return []


# ---- the workloads -------------------------------------------------------------------

def free_port():
    """A free high port on loopback (random, so parallel runs do not meet)."""
    for _ in range(50):
        port = random.randint(20000, 60000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


class Resp:
    """A minimal RESP client (redis-cli would be one process per command)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))

    def reply(self):
        line = self.f.readline()
        kind, rest = line[:1], line[1:-2]
        if kind in (b"+", b":"):
            return rest
        if kind == b"-":
            raise RuntimeError("redis: " + rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError("redis: bad reply %r" % line)

    def close(self):
        self.f.close()
        self.s.close()


def redis_value(i):
    # Values of 16..2000 bytes, deterministic.
    return (b"v%08d" % i) * (2 + (i * 37) % 250)


def run_redis(lib, probe_lib, probe_out, scale):
    """redis-server preloaded, driven from loopback; time = the client session.
    The server is always stopped before this returns, whatever went wrong."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = Proc(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                       "--save", "", "--appendonly", "no", "--daemonize", "no",
                       "--dir", tmp, "--logfile", os.path.join(tmp, "log")],
                      env_for(lib, probe_lib, probe_out))
        try:
            return redis_session(server, port, scale)
        finally:
            if server.p.poll() is None:
                server.kill()
            if server.status is None:
                server.wait()


def redis_session(server, port, scale):
    deadline = time.time() + 10
    conn = None
    while conn is None and time.time() < deadline and server.p.poll() is None:
        try:
            conn = Resp(port)
        except OSError:
            time.sleep(0.02)
    if conn is None:
        return None, "server did not start (exit %s) %s" % (server.p.poll(), server.stderr()[-300:])
    t0 = time.perf_counter()
    keys = max(1, int(20000 * scale))
    # Our own keys: deterministic values we read back at the end.
    for i in range(keys):
        conn.send("SET", "chk:%d" % i, redis_value(i))
    for i in range(keys):
        conn.reply()
    n = max(1000, int(50000 * scale))
    bench = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-q", "-n", str(n),
         "-c", "20", "-P", "16", "-r", "100000", "-d", "200",
         "-t", "set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT_S)
    crc = 0
    for i in range(keys):
        conn.send("GET", "chk:%d" % i)
    for i in range(keys):
        v = conn.reply()
        crc = zlib.crc32(b"missing" if v is None else v, crc)
    seconds = time.perf_counter() - t0
    # "requests per second" lines: one per test that completed.
    done = sum(1 for part in bench.stdout.replace("\r", "\n").splitlines()
               if "requests per second" in part and "rps=" not in part)
    try:
        conn.send("SHUTDOWN", "NOSAVE")
        conn.reply()
    except (OSError, RuntimeError):
        pass        # the server closes the connection as it exits
    conn.close()
    server.wait()
    if server.timed_out:
        return None, "redis-server hung: killed after %d s" % TIMEOUT_S
    if server.status != 0:
        return None, "redis-server exit %s: %s" % (server.status, server.stderr()[-300:])
    if bench.returncode != 0:
        return None, "redis-benchmark failed: " + bench.stdout[-300:]
    return {"seconds": seconds, "maxrss": server.maxrss, "cpu": server.cpu,
            "checksum": "%08x-%d" % (crc, done), "fields": {"tests_done": str(done)}}, None


def workload_command(workload, build, scale, workdir, bounds=None):
    """How a workload runs: (argv, variables it needs, stdin text or None,
    file it writes whose contents are its checksum or None). Inputs it
    needs generated (gcc's C file, z3's SMT-LIB) are written to `workdir`.
    The one description of each command: run_one runs it, --print-command
    prints it (bench/profile.sh). Not for redis (a server and its client)."""
    name, kind = workload[0], workload[1]
    if kind == "c":
        binary, extra = C_COMMANDS.get(name, (name, []))
        bound_env = {"SA_BENCH_" + k: str(v) for k, v in (bounds or {}).items()}
        return [os.path.join(build, binary), "%g" % scale] + extra, bound_env, None, None
    if kind == "python":
        return (["/usr/bin/python3", os.path.join(HERE, "py_workload.py"), "%g" % scale],
                {"PYTHONMALLOC": "malloc"}, None, None)
    if kind == "perl":
        return ["/usr/bin/perl", os.path.join(HERE, "pl_workload.pl"), "%g" % scale], {}, None, None
    if kind == "ruby":
        return ["/usr/bin/ruby", os.path.join(HERE, "rb_workload.rb"), "%g" % scale], {}, None, None
    if kind == "gcc":
        src, obj = os.path.join(workdir, "gen.c"), os.path.join(workdir, "gen.o")
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "cc_workload.py"),
                        "%g" % scale, src], check=True)
        return ["gcc", "-O2", "-c", src, "-o", obj], {}, None, obj
    if kind == "z3":
        smt = os.path.join(workdir, "gen.smt2")
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "smt_workload.py"),
                        "%g" % scale, smt], check=True)
        return ["z3", smt], {}, None, None
    if kind == "sqlite":
        with open(os.path.join(HERE, "sqlite_workload.sql")) as f:
            sql = ".parameter set @rows %d\n" % max(100, int(200000 * scale)) + f.read()
        return ["sqlite3", ":memory:"], {}, sql, None
    raise ValueError(kind)


def print_command(name, build, scale, workdir):
    """--print-command: the workload's command as one line of shell words,
    its variables first (NAME=value). Returns the exit status."""
    workload = next((w for w in WORKLOADS if w[0] == name), None)
    if workload is None or workload[1] == "redis":
        log("run.py: no single command for workload %r" % name)
        return 2
    os.makedirs(workdir, exist_ok=True)
    argv, env, stdin_data, _ = workload_command(workload, build, scale, workdir)
    if stdin_data is not None:
        log("run.py: %s reads its input from stdin: no single command" % name)
        return 2
    print(" ".join(shlex.quote(w) for w in ["%s=%s" % kv for kv in sorted(env.items())] + argv))
    return 0


def run_one(workload, lib, args, scale, bounds=None):
    """Run one workload under one allocator; `bounds` are the proven step
    bounds (proof_bounds()), handed to the C workloads. Returns (result
    dict, error or None)."""
    name, kind = workload[0], workload[1]
    probe_lib = os.path.join(args.build, "libsaprobe.so")
    with tempfile.TemporaryDirectory() as tmp:
        probe_out = os.path.join(tmp, "probe")
        if kind == "redis":
            res, err = run_redis(lib, probe_lib, probe_out, scale)
            if res is not None:
                res["served_by"] = probe_lines(probe_out)
            return res, err
        cmd, extra, stdin_data, written = workload_command(workload, args.build, scale, tmp, bounds)
        if kind == "c":     # a C workload prints which allocator served it
            proc = Proc(cmd, env_for(lib, None, None, extra))
        else:
            proc = Proc(cmd, env_for(lib, probe_lib, probe_out, extra), stdin_data=stdin_data)
        proc.wait()
        out = proc.stdout()
        fields = parse_fields(out)
        if proc.timed_out:
            return None, "hung: killed after %d s" % TIMEOUT_S
        if proc.status != 0:
            return None, "exit %s: %s" % (proc.status, proc.stderr().strip()[-300:])
        if kind == "c":
            served = [fields.get("allocator", "")]
            checksum = fields.get("checksum", "")
        elif written is not None:
            # The file it wrote (gcc's object): the same whoever allocated.
            served = probe_lines(probe_out)
            with open(written, "rb") as f:
                checksum = "%08x" % zlib.crc32(f.read())
        else:
            served = probe_lines(probe_out)
            checksum = fields.get("checksum") or "%08x" % zlib.crc32(out.encode())
        return {"seconds": proc.seconds, "maxrss": proc.maxrss, "cpu": proc.cpu,
                "checksum": checksum,
                "fields": fields, "served_by": served}, None


def system_allocator(kind):
    """The library serving malloc when nothing is preloaded."""
    if kind == "redis":
        return "libjemalloc.so.2"      # Debian's redis-server links jemalloc
    return "libc.so.6"


def check_served(served, lib, kind):
    if not served or any(not s for s in served):
        return "no allocator report"
    want = os.path.realpath(lib) if lib else None
    for s in served:
        if want is not None:
            if os.path.realpath(s) != want:
                return "served by %s, not %s" % (s, lib)
        elif os.path.basename(s) != system_allocator(kind):
            return "served by %s, not %s" % (s, system_allocator(kind))
    return None


# ---- the suite -------------------------------------------------------------------------

TSV_COLUMNS = ["run", "workload", "allocator", "status", "seconds", "maxrss_kib",
               "cpu_seconds", "checksum", "served_by", "fields"]


def check_checksums(rows):
    """Every run of a workload must print the same checksum. The reference is
    the one most runs of the established allocators printed (of all runs if
    only shardalloc ran), so the allocator under test cannot set it; runs
    that differ are marked failed."""
    peers, everyone = {}, {}
    for row in rows:
        if row["status"] == "ok":
            everyone.setdefault(row["workload"], []).append(row["checksum"])
            if row["allocator"] not in (OURS, COUNT_OFF):
                peers.setdefault(row["workload"], []).append(row["checksum"])
    for row in rows:
        sums = peers.get(row["workload"]) or everyone.get(row["workload"])
        if row["status"] != "ok" or not sums:
            continue
        ref = max(sorted(set(sums)), key=sums.count)
        if row["checksum"] != ref:
            row["status"] = "checksum %s differs from %s (the peers' runs)" % (
                row["checksum"], ref)


def write_tsv(path, rows, meta):
    """One line per run; then `# meta {json}`: what the report says about the
    circumstances (load averages, the shardalloc commit measured)."""
    with open(path, "w") as tsv:
        tsv.write("\t".join(TSV_COLUMNS) + "\n")
        for row in rows:
            tsv.write("\t".join(json.dumps(row[c]) if c == "fields" else str(row[c])
                                for c in TSV_COLUMNS) + "\n")
        tsv.write("# meta %s\n" % json.dumps(meta, sort_keys=True))


def shardalloc_commit():
    def git(*a):
        return subprocess.run(["git", "-C", ROOT] + list(a), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True).stdout.strip()
    rev = git("rev-parse", "--short", "HEAD") or "?"
    dirty = git("status", "--porcelain", "--", "src", "include")
    return rev + (" with uncommitted changes in src/" if dirty else "")


def proof_bounds():
    """The step bounds as the proofs state them (`build/verify --only
    bound_starts` prints B_MALLOC=... B_FREE_REMOTE=... B_FREE_LOCAL=...),
    to check the latency workload's own computation against; {} if the
    driver is not built or does not say."""
    verify = os.path.join(ROOT, "build", "verify")
    if not os.access(verify, os.X_OK):
        return {}
    try:
        out = subprocess.run([verify, "--only", "bound_starts"], cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    bounds = {}
    for word in out.split():
        key, sep, value = word.partition("=")
        if sep and key in ("B_MALLOC", "B_FREE_LOCAL", "B_FREE_REMOTE") and value.isdigit():
            bounds[key] = int(value)
    return bounds


# ---- the fast path in instructions (callgrind) ----------------------------------------

# malloc/free pairs bench/fastpath makes under callgrind (quick: a fifth).
FASTPATH_PAIRS = 1000000

# The function each allocator's malloc calls when its fast path finds no free
# block (the generic path, page refills and all): counted per 1000 mallocs.
GENERIC_FUNCTION = {OURS: "_sa_malloc_generic", BASELINE: "_mi_malloc_generic"}


def generic_calls(name, calls):
    """How often the generic path of allocator `name` ran, from the callgrind
    call counts, and whether the function was found by its name: (count,
    named), or (None, False). A library without symbols (Debian's libmimalloc is
    stripped) has no such name in the profile: its malloc tail-jumps into the
    generic path, so callgrind books the generic path's own calls (the
    deferred-free hook, the delayed frees, the page search, once each per
    run) as calls of malloc into unnamed functions; the most frequent of
    those is the count."""
    fn = GENERIC_FUNCTION.get(name)
    if fn is None:
        return None, False
    named = [n for (caller, callee), n in calls.items() if callee == fn]
    if named:
        return sum(named), True
    unnamed = [n for (caller, callee), n in calls.items()
               if caller == "malloc" and re.match(r"0x[0-9a-f]+$", callee)]
    return (max(unnamed), False) if unnamed else (None, False)


def callgrind_functions(annotated):
    """callgrind_annotate --inclusive=yes --tree=caller text -> (program
    total, {function name: inclusive count}, {(caller, callee): calls})."""
    total, incl, calls = None, {}, {}
    pending = []        # caller lines seen since the last function line
    for line in annotated.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
            continue
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+([<*>])\s+(\S*?):(\S+?)(?: \((\d[\d,]*)x\))?(?: \[.*\])?$",
                     line)
        if not m:
            pending = []
            continue
        count, kind, name = int(m.group(1).replace(",", "")), m.group(2), m.group(4)
        if kind == "<":
            pending.append((name, int((m.group(5) or "0").replace(",", ""))))
        elif kind == "*":
            incl[name] = max(incl.get(name, 0), count)
            for caller, n in pending:
                calls[(caller, name)] = calls.get((caller, name), 0) + n
            pending = []
    return total, incl, calls


def fastpath_counts(args, allocators):
    """Instructions per malloc+free pair (build/bench/fastpath under
    callgrind) for every allocator: {name: {pairs, total, malloc, free[,
    generic_calls, generic_named]}}, or {} without valgrind. Load-independent: the one
    place the suite compares the allocators' fast paths directly."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        log("bench: valgrind not found: no instruction counts")
        return {}
    pairs = FASTPATH_PAIRS // (5 if args.quick else 1)
    out = {}
    for name, lib in allocators:
        with tempfile.TemporaryDirectory() as tmp:
            cg = os.path.join(tmp, "callgrind.out")
            env = dict(os.environ)
            env.pop("LD_PRELOAD", None)
            if lib:
                env["LD_PRELOAD"] = lib
            try:
                r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg,
                                    os.path.join(args.build, "fastpath"), str(pairs)],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, timeout=20 * TIMEOUT_S)
                ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=caller",
                                     "--threshold=100", cg],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, timeout=TIMEOUT_S).stdout if r.returncode == 0 else ""
            except (OSError, subprocess.TimeoutExpired) as e:
                log("bench: fastpath under callgrind, %s: %s" % (name, e))
                continue
        fields = parse_fields(r.stdout)
        bad = check_served([fields.get("allocator", "")], lib, "c")
        total, incl, calls = callgrind_functions(ann)
        if r.returncode != 0 or bad or total is None or "malloc" not in incl or "free" not in incl:
            log("bench: fastpath under callgrind, %s: %s" % (
                name, bad or "exit %d or no malloc/free in the profile" % r.returncode))
            continue
        res = {"pairs": pairs, "total": total, "malloc": incl["malloc"], "free": incl["free"]}
        generic, named = generic_calls(name, calls)
        if generic is not None:
            res["generic_calls"] = generic
            res["generic_named"] = named
        out[name] = res
        log("  fastpath   %-10s %6.1f Ir/pair (malloc %.1f, free %.1f)" % (
            name, total / pairs, incl["malloc"] / pairs, incl["free"] / pairs))
    return out


# ---- how soon freed memory is handed out again (bench/reuse.c) ------------------------

# The workloads run once more per allocator under libsareuse.so: the live
# sets small (everything cached whatever comes back) and large, a FIFO with
# drifting sizes, and threads freeing each other's blocks.
REUSE_WORKLOADS = ["live-small", "live-large", "growth", "xserver-2"]
REUSE_FIELDS = ("reuse_lines", "reuse_near_1k", "reuse_near_64k")


def reuse_counts(args, allocators, workloads, scale):
    """Lines handed out again soon after their free, per workload of
    REUSE_WORKLOADS (those of this run, at its scale) and allocator: {workload: {name:
    {reuse_lines, reuse_near_1k, reuse_near_64k}}}. One run each: for one
    thread the counts are the allocator's decisions alone, the same every
    run."""
    shim = os.path.join(args.build, "libsareuse.so")
    if not os.path.exists(shim):
        log("bench: %s not found (make bench-build builds it): no reuse counts" % shim)
        return {}
    out = {}
    for w in workloads:
        if w[0] not in REUSE_WORKLOADS:
            continue
        for name, lib in allocators:
            with tempfile.TemporaryDirectory() as tmp:
                report_path = os.path.join(tmp, "reuse")
                cmd, extra, _, _ = workload_command(w, args.build, scale, tmp)
                env = env_for(" ".join([shim] + ([lib] if lib else [])), None, None,
                              dict(extra or {}, SA_REUSE_OUT=report_path))
                proc = Proc(cmd, env)
                proc.wait()
                try:
                    with open(report_path) as f:
                        fields = parse_fields(f.read())
                except FileNotFoundError:
                    fields = {}
            bad = check_served([fields.get("allocator", "")], lib, "c")
            if proc.timed_out or proc.status != 0 or bad or \
                    not all(fields.get(k, "").isdigit() for k in REUSE_FIELDS):
                log("bench: reuse, %s under %s: %s" % (
                    w[0], name, bad or "exit %s, or no counts written" % proc.status))
                continue
            counts = {k: int(fields[k]) for k in REUSE_FIELDS}
            out.setdefault(w[0], {})[name] = counts
            log("  reuse      %-10s %-10s %5.1f%% of lines within 1024 operations" % (
                w[0], name, 100.0 * counts["reuse_near_1k"] / max(counts["reuse_lines"], 1)))
    return out


def run_suite(args, allocators, workloads):
    os.makedirs(args.results, exist_ok=True)
    stamp = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
    tsv_path = os.path.join(args.results, ("quick-" if args.quick else "") + stamp + ".tsv")
    scale = QUICK_SCALE if args.quick else 1.0
    meta = {"load_start": os.getloadavg()[0], "commit": shardalloc_commit(),
            "proof_bounds": proof_bounds()}
    if not args.no_fastpath:
        meta["fastpath"] = fastpath_counts(args, allocators)
    if not args.no_reuse:
        meta["reuse"] = reuse_counts(args, allocators, workloads, scale)
    rows = []
    for r in range(args.runs):
        for w in workloads:
            order = allocators[r % len(allocators):] + allocators[:r % len(allocators)]
            for alloc_name, lib in order:
                try:
                    res, err = run_one(w, lib, args, scale, meta["proof_bounds"])
                except (subprocess.TimeoutExpired, OSError, RuntimeError) as e:
                    res, err = None, "%s: %s" % (type(e).__name__, e)
                status = "ok"
                if res is None:
                    status = "failed: " + (err or "?").replace("\t", " ").replace("\n", " ")
                    res = {"seconds": float("nan"), "maxrss": 0, "cpu": float("nan"),
                           "checksum": "", "served_by": [], "fields": {}}
                else:
                    bad = check_served(res["served_by"], lib, w[1])
                    if bad:
                        status = "wrong allocator: " + bad
                rows.append({"run": r + 1, "workload": w[0], "allocator": alloc_name,
                             "status": status, "seconds": res["seconds"],
                             "maxrss_kib": res["maxrss"], "cpu_seconds": res["cpu"],
                             "checksum": res["checksum"],
                             "served_by": ",".join(sorted(set(res["served_by"]))),
                             "fields": res["fields"]})
                # "ran": the checksum is judged when every run is in.
                log("  run %d/%d  %-10s %-10s %7.3f s %9d KiB  %s  %s" % (
                    r + 1, args.runs, w[0], alloc_name, res["seconds"],
                    res["maxrss"], res["checksum"], "ran" if status == "ok" else status))
            # Kept up to date, so an interrupted suite leaves what it measured.
            write_tsv(tsv_path, rows, meta)
    check_checksums(rows)
    meta["load_end"] = os.getloadavg()[0]
    write_tsv(tsv_path, rows, meta)
    return tsv_path, rows, meta


def read_tsv(path):
    """The rows of a results file, and its meta line (or {})."""
    rows, meta = [], {}
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.startswith("# meta "):
                meta = json.loads(line[len("# meta "):])
                continue
            cells = dict(zip(header, line.rstrip("\n").split("\t")))
            rows.append({"run": int(cells["run"]), "workload": cells["workload"],
                         "allocator": cells["allocator"], "status": cells["status"],
                         "seconds": float(cells["seconds"]),
                         "maxrss_kib": int(cells["maxrss_kib"]),
                         "cpu_seconds": float(cells.get("cpu_seconds", "nan")),
                         "checksum": cells["checksum"], "served_by": cells["served_by"],
                         "fields": json.loads(cells["fields"])})
    return rows, meta


def main():
    global TIMEOUT_S
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="every workload once at reduced scale, table to stdout")
    ap.add_argument("--runs", type=int, default=None, help="runs per allocator (default 5, quick 1)")
    ap.add_argument("--only", default="", help="comma-separated workloads")
    ap.add_argument("--allocators", default="", help="comma-separated allocators")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--lib", default=os.path.join(ROOT, "build", "libshardalloc.so"),
                    help="shardalloc's shared library")
    ap.add_argument("--count-off", action="store_true",
                    help="also run shardalloc with its fast-path counters compiled out "
                         "(SA_FAST_PATH_STATS=0): what counting costs")
    ap.add_argument("--count-off-lib", default=os.path.join(ROOT, "build", "bench",
                                                            "libshardalloc-count-off.so"))
    ap.add_argument("--results", default=os.path.join(ROOT, "build", "bench", "results"))
    ap.add_argument("--docs", default=os.path.join(ROOT, "build", "bench", "report"),
                    help="where benchmarks.md and its plots are written")
    ap.add_argument("--report", metavar="TSV", help="only rebuild the report from a results file")
    ap.add_argument("--no-install", action="store_true", help="do not apt-get missing packages")
    ap.add_argument("--no-fastpath", action="store_true",
                    help="skip the instruction counts of the fast path (callgrind)")
    ap.add_argument("--no-reuse", action="store_true",
                    help="skip the counts of how soon freed memory is handed out again "
                         "(bench/reuse.c)")
    ap.add_argument("--timeout", type=int, default=TIMEOUT_S,
                    help="seconds after which a run counts as hung (default %d)" % TIMEOUT_S)
    ap.add_argument("--print-command", metavar="WORKLOAD",
                    help="print the workload's command line (variables first) and exit: "
                         "bench/profile.sh runs it under callgrind")
    ap.add_argument("--scale", type=float, default=1.0, help="--print-command: the workload's scale")
    ap.add_argument("--workdir", default=os.path.join(ROOT, "build", "bench", "profile"),
                    help="--print-command: where generated inputs (gcc, z3) are written")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    TIMEOUT_S = args.timeout
    if args.print_command:
        return print_command(args.print_command, args.build, args.scale, os.path.abspath(args.workdir))

    import report    # bench/report.py: tables, targets, plots
    if args.report:
        rows, meta = read_tsv(args.report)
        report.write(rows, args.report, args.docs, runs=max(r["run"] for r in rows), meta=meta)
        return 0

    if args.runs is None:
        # 5, not the minimum 3: the machine is shared, medians of 5 hold better.
        args.runs = 1 if args.quick else 5
    if not args.no_install:
        ensure_packages()

    allocators = [(n, lib) for n, lib, _ in PEERS]
    if os.path.exists(args.lib):
        # A copy: the library may be rebuilt while the suite runs (make in
        # another terminal); every run must measure the same build.
        snapshot = os.path.join(args.build, "libshardalloc-under-test.so")
        shutil.copy2(args.lib, snapshot)
        allocators.append((OURS, snapshot))
    else:
        log("bench: %s not found: shardalloc left out of this run" % args.lib)
    if args.count_off:
        if not os.path.exists(args.count_off_lib):
            log("bench: %s not found (make bench-build builds it)" % args.count_off_lib)
            return 2
        allocators.append((COUNT_OFF, args.count_off_lib))
    if args.allocators:
        keep = args.allocators.split(",")
        allocators = [a for a in allocators if a[0] in keep]
    workloads = [w for w in WORKLOADS if not args.only or w[0] in args.only.split(",")]
    if not workloads or not allocators:
        log("bench: nothing to run")
        return 2

    log("bench: %d workloads x %d allocators x %d runs%s" % (
        len(workloads), len(allocators), args.runs, " (quick)" if args.quick else ""))
    tsv_path, rows, meta = run_suite(args, allocators, workloads)
    log("bench: results in %s" % os.path.relpath(tsv_path, ROOT))
    if args.quick or args.only or args.allocators:
        # A partial run prints its table; docs/ keeps the full suite's.
        print(report.markdown(rows, tsv_path, runs=args.runs, partial=True, meta=meta))
    else:
        report.write(rows, tsv_path, args.docs, runs=args.runs, meta=meta)
    failed = [r for r in rows if r["status"] != "ok"]
    for r in failed:
        log("bench: FAILED run %d %s %s: %s" % (r["run"], r["workload"], r["allocator"],
                                                r["status"]))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    sys.exit(main())
