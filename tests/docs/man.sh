#!/bin/sh
# tests/docs/man.sh -- docs/shardalloc.3 is the manual of this header: every
# function include/shardalloc.h declares is in it, and its title line carries
# the header's version. Prints what is missing, and fails, if anything is.
set -eu
man=docs/shardalloc.3
header=include/shardalloc.h
functions=$(sed -n 's/^[a-z][a-z_ ]*[ *]\(sa_[a-z0-9_]*\)(.*/\1/p' "$header" | sort -u)
count=$(echo "$functions" | grep -c . || true)
[ "$count" -gt 10 ] || { echo "man: only $count functions found in $header" >&2; exit 1; }
missing=""
for f in $functions; do
    grep -q "\\b$f\\b" "$man" || missing="$missing $f"
done
[ -z "$missing" ] || { echo "man: $man does not describe:$missing" >&2; exit 1; }
version=$(for part in MAJOR MINOR PATCH; do
              sed -n "s/^#define SA_VERSION_$part *\\([0-9]*\\)\$/\\1/p" "$header"
          done | paste -sd.)
grep -q "^\\.TH .*\"shardalloc $version\"" "$man" ||
    { echo "man: the .TH line of $man does not name shardalloc $version" >&2; exit 1; }
echo "all $count functions of $header are in $man, version $version"
