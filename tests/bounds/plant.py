#!/usr/bin/env python3
"""tests/bounds/plant.py MUTANTS NAME SRC_DIR OUT_DIR

MUTANTS has a line per mutant: name, adversary, the text, " => ", its replacement.

Writes the one file of SRC_DIR that mutant NAME of MUTANTS changes, changed,
into OUT_DIR, and prints its file name. Fails (exit 1) when the mutant is
broken: its text is not found exactly once in SRC_DIR (the code moved on and
the mutant must be updated), so a stale mutant is never taken for a caught one.
"""
import os
import sys

mutants, name, src, out = sys.argv[1:5]
for line in open(mutants):
    if line.startswith('#') or not line.strip():
        continue
    head, _, replace = line.partition(' => ')
    fields = head.split(None, 2)
    if fields[0] != name:
        continue
    find, replace = fields[2].strip(), replace.strip()
    hits = []
    for f in sorted(os.listdir(src)):
        if f.endswith('.c') or f.endswith('.h'):
            text = open(os.path.join(src, f)).read()
            hits += [(f, text)] * text.count(find)
    if len(hits) != 1 or not hits[0][0].endswith('.c'):
        sys.exit(f'plant: broken mutant {name}: "{find}" found {len(hits)} times in {src}/*.c')
    f, text = hits[0]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f), 'w') as o:
        o.write(text.replace(find, replace))
    print(f)
    sys.exit(0)
sys.exit(f'plant: no mutant {name} in {mutants}')
