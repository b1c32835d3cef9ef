#!/bin/sh
# tests/docs/man.sh -- docs/shardalloc.3 is the manual of this header: every
# function include/shardalloc.h declares is in it, its title line (and
# README.md's licence line, and a CHANGELOG.md section) carries the header's
# version, and its ENVIRONMENT section lists the same SHARDALLOC_
# options as README.md's table; and every option the library accepts (it lists
# them when given an unknown one) is in that table or, for developers' options,
# in docs/development.md. Prints what is missing, and fails, if anything is.
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
grep -q "^MIT licence (\`LICENSE\`). Version $version " README.md ||
    { echo "man: README.md does not say \"Version $version\"" >&2; exit 1; }
grep -q "^## $version\$" CHANGELOG.md ||
    { echo "man: CHANGELOG.md has no section \"## $version\"" >&2; exit 1; }

# The options: README's table rows against the man page's .B lines under ENVIRONMENT.
readme_opts=$(sed -n 's/^| `\(SHARDALLOC_[A-Z_]*\)`.*/\1/p' README.md | sort -u)
man_opts=$(sed -n '/^\.SH ENVIRONMENT/,/^\.SH /s/^\.B \(SHARDALLOC_[A-Z][A-Z_]*\)$/\1/p' "$man" | sort -u)
[ -n "$readme_opts" ] || { echo "man: no option rows in README.md's table" >&2; exit 1; }
if [ "$readme_opts" != "$man_opts" ]; then
    echo "man: README.md's options and $man's ENVIRONMENT differ:" >&2
    echo "  README.md: $(echo $readme_opts)" >&2
    echo "  $man: $(echo $man_opts)" >&2
    exit 1
fi
# The library's own list, from its report of an unknown variable.
accepted=$(SHARDALLOC_DOCS_CHECK_UNKNOWN=1 LD_PRELOAD="$(pwd)/build/libshardalloc.so" /bin/true 2>&1 |
           sed -n 's/.*(valid: \(.*\))$/\1/p' | tr -d ',')
[ -n "$accepted" ] || { echo "man: the library did not list its options for an unknown one" >&2; exit 1; }
missing=""
for o in $accepted; do
    echo "$readme_opts" | grep -qx "$o" || grep -q "\b$o\b" docs/development.md || missing="$missing $o"
done
[ -z "$missing" ] || { echo "man: options the library accepts, documented nowhere:$missing" >&2; exit 1; }

echo "all $count functions of $header and $(echo "$man_opts" | wc -l) options of README.md are in $man, version $version"
