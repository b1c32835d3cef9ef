#!/bin/sh
# tests/preload/python.sh -- CPython on shardalloc: a dict/list-heavy script and
# a threaded one, with pymalloc on and off (PYTHONMALLOC=malloc sends every
# object to malloc). Their results are checked against closed forms and against
# the same scripts run on glibc.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/dicts.py" <<'PY'
import sys, os
# Under LD_PRELOAD the library is really mapped into this process.
if os.environ.get('LD_PRELOAD'):
    assert os.environ['LD_PRELOAD'] in open('/proc/self/maps').read(), 'not mapped'
N = 200_000
d = {}
for i in range(N):
    d['k%d' % i] = [i, str(i) * (i % 7), {'sq': i * i}]
assert len(d) == N
total = sum(v[0] for v in d.values())
assert total == N * (N - 1) // 2, total
squares = sum(v[2]['sq'] for v in d.values())
assert squares == (N - 1) * N * (2 * N - 1) // 6, squares
# churn: delete two thirds, grow again, resize lists up and down
for i in range(0, N, 3):
    del d['k%d' % i]
for i in range(N, N + N // 2):
    d['k%d' % i] = list(range(i % 50))
lens = sum(len(v) for v in d.values())
big = [bytearray(i % 5000) for i in range(20_000)]
s = sorted(d.keys(), key=lambda k: (len(k), k))
print(len(d), lens, len(s), s[0], s[-1], sum(len(b) for b in big))
PY

cat >"$TMP/threads.py" <<'PY'
import threading, hashlib
results = {}
def work(t):
    acc = []
    h = hashlib.sha256()
    for i in range(60_000):
        acc.append(('%d-%d' % (t, i)) * (1 + i % 5))
        if len(acc) > 1000:
            for s in acc[:500]:
                h.update(s.encode())
            del acc[:500]
    for s in acc:
        h.update(s.encode())
    results[t] = h.hexdigest()
ths = [threading.Thread(target=work, args=(t,)) for t in range(6)]
for th in ths: th.start()
for th in ths: th.join()
# Each thread's digest must equal the same work done on the main thread.
for t in range(6):
    h = hashlib.sha256()
    for i in range(60_000):
        h.update((('%d-%d' % (t, i)) * (1 + i % 5)).encode())
    assert results[t] == h.hexdigest(), t
print(' '.join(results[t][:12] for t in range(6)))
PY

runs=0
for pymalloc in pymalloc malloc; do
    for script in dicts threads; do
        PYTHONMALLOC=$pymalloc "$PY" "$TMP/$script.py" >"$TMP/$script.glibc"
        PYTHONMALLOC=$pymalloc preloaded "$PY" "$TMP/$script.py" >"$TMP/$script.sa"
        cmp -s "$TMP/$script.glibc" "$TMP/$script.sa" ||
            fail "$script.py (PYTHONMALLOC=$pymalloc): output differs from glibc's: $(cat "$TMP/$script.sa")"
        runs=$((runs + 1))
    done
done
assert_served "$runs"
assert_stats "$runs"
assert_no_errors
echo "ok: $runs python3 runs (dict/list and 6-thread scripts, pymalloc on/off) match glibc; $(served_count) served"
