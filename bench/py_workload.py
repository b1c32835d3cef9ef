"""bench/py_workload.py -- workload 9b: a python3 program, run by the runner
under LD_PRELOAD with PYTHONMALLOC=malloc (so every object, not only those
above pymalloc's 512-byte limit, comes from the allocator under test).

Pattern: an in-memory index of records, as a web service or a build tool
keeps one: build dicts of tuples and strings, serialise to JSON and back,
sort and group, then drop most of it and rebuild, a few times. Prints a
checksum of everything it computed (the same for every allocator).

Usage: python3 py_workload.py [scale]
"""
import json
import sys
import zlib


def build(n, salt):
    records = {}
    for i in range(n):
        key = "user:%d:%d" % (salt, i)
        records[key] = {
            "id": i,
            "name": "name-%x" % (i * 2654435761 % 2**32),
            "tags": ["t%d" % (i % k) for k in (3, 5, 7)],
            "score": (i * 7919) % 1000 / 10.0,
        }
    return records


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    n = max(1, int(20000 * scale))
    crc = 0
    keep = []
    for rnd in range(6):
        records = build(n, rnd)
        text = json.dumps(records, sort_keys=True)
        crc = zlib.crc32(text.encode(), crc)
        back = json.loads(text)
        by_tag = {}
        for rec in back.values():
            for t in rec["tags"]:
                by_tag.setdefault(t, []).append(rec["score"])
        for t in sorted(by_tag):
            scores = sorted(by_tag[t])
            crc = zlib.crc32(("%s %d %.1f" % (t, len(scores), scores[len(scores) // 2])).encode(), crc)
        # A tenth of each round lives on: long-lived growth next to churn.
        keep.append([v["name"] for k, v in back.items() if v["id"] % 10 == 0])
        del records, back, by_tag, text
    crc = zlib.crc32(repr(sum(len(k) for k in keep)).encode(), crc)
    print("checksum: %08x" % crc)


if __name__ == "__main__":
    main()
