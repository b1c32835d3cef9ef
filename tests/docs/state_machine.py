#!/usr/bin/env python3
"""tests/docs/state_machine.py -- docs/state-machine.md says what spec/ and src/ say.

The page names the invariant's conjuncts and quotes the scalar ones, and names
each transition with its C function. This test holds it to that:

- every conjunct of `inv` (spec/page.smt2, followed through inv_core,
  inv_counts and inv_flags) has a row in the invariant table, and every row
  names a define-fun of the spec;
- a quoted s-expression in that table is the define-fun's body exactly (up to
  white space);
- every row of the transitions table names a define-fun of spec/page.smt2 and
  C functions that are defined in src/.

Prints each disagreement and exits 1 if there is any.

    python3 tests/docs/state_machine.py [ROOT]
"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def squash(text):
    """An s-expression with its white space normalised."""
    text = re.sub(r"\s+", " ", text.strip())
    return text.replace("( ", "(").replace(" )", ")")


def define_funs(smt):
    """name -> body text of every define-fun (comments removed)."""
    smt = re.sub(r";[^\n]*", "", smt)
    funs = {}
    for m in re.finditer(r"\(define-fun\s+([A-Za-z_][\w-]*)\s+", smt):
        i = m.end()
        depth, j = 0, i
        # Skip the parameter list and the sort: the body is the third item.
        items = []
        while len(items) < 3 and j < len(smt):
            while smt[j].isspace():
                j += 1
            start = j
            if smt[j] == "(":
                depth = 0
                while True:
                    depth += smt[j] == "("
                    depth -= smt[j] == ")"
                    j += 1
                    if depth == 0:
                        break
            else:
                while not smt[j].isspace() and smt[j] != ")":
                    j += 1
            items.append(smt[start:j])
        funs[m.group(1)] = items[2] if len(items) == 3 else ""
    return funs


def conjuncts(funs, name, expand):
    """The leaves of `name` once the wrappers in `expand` are opened."""
    body = squash(funs[name])
    if body.startswith("(and "):
        calls = re.findall(r"\((\w+) s\)|\((forall) ", body)
        out = []
        for call, forall in calls:
            if forall:
                continue
            out += conjuncts(funs, call, expand) if call in expand else [call]
        # The quantified conjuncts: the predicate each forall applies.
        out += re.findall(r"\(forall \(\([^)]*\)(?: \([^)]*\))*\) \((\w+) s ", body)
        return out
    return [name]


def table(md, heading):
    """Rows (lists of cells) of the first table after `heading`."""
    part = md.split(heading, 1)[1]
    rows = []
    for line in part.splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows[1:]   # without the header row


def c_defined(src_text, fn):
    """A definition: the name, its parameters, then a body (not a call's `;`)."""
    return re.search(r"\b%s\([^;{]*\)\s*\{" % re.escape(fn), src_text) is not None


def main():
    md = read("docs/state-machine.md")
    funs = define_funs(read("spec/page.smt2"))
    src = "".join(read(os.path.join("src", f)) for f in sorted(os.listdir(os.path.join(ROOT, "src")))
                  if f.endswith((".c", ".h")))
    errors = []

    expected = conjuncts(funs, "inv", {"inv_core", "inv_counts", "inv_flags"})
    if len(expected) < 5:
        errors.append("spec/page.smt2: inv opens to only %s: the parse failed" % expected)
    rows = table(md, "## Invariant")
    named = {}
    for cells in rows:
        m = re.match(r"`(\w+)`", cells[0])
        if m:
            named[m.group(1)] = cells[1]
    for c in expected:
        if c not in named:
            errors.append("invariant table: no row for the conjunct %s of inv" % c)
    for name, text in named.items():
        if name not in funs:
            errors.append("invariant table: %s is no define-fun of spec/page.smt2" % name)
            continue
        for quote in re.findall(r"`(\([^`]*\))`", text):
            if squash(quote) != squash(funs[name]):
                errors.append("invariant table: %s quotes\n    %s\n  but spec/page.smt2 says\n    %s"
                              % (name, squash(quote), squash(funs[name])))

    transitions = table(md, "## Transitions")
    if len(transitions) < 8:
        errors.append("transitions table: only %d rows read: the parse failed" % len(transitions))
    for cells in transitions:
        m = re.match(r"`(\w+)`", cells[0])
        if not m or m.group(1) not in funs:
            errors.append("transitions table: %s is no define-fun of spec/page.smt2" % cells[0])
        for fn in re.findall(r"`(_?sa_\w+|page_pop)`", cells[1]):
            if not c_defined(src, fn):
                errors.append("transitions table: %s names %s, defined nowhere in src/" % (cells[0], fn))

    for e in errors:
        print("docs/state-machine.md: " + e, file=sys.stderr)
    print("%d conjuncts of inv, %d quotes and %d transitions as spec/page.smt2 and src/ have them"
          % (len(expected), sum(len(re.findall(r"`\([^`]*\)`", t)) for t in named.values()),
             len(transitions)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
