#!/bin/sh
# tests/docs/help.sh MAKE -- `make help` names every target the makefiles
# declare .PHONY: each must appear as "make TARGET", or match a line
# "make PREFIX-<what>" (the per-suite targets, test-api-<suite>, ...).
# Prints the targets missing from the help, and fails, if there are any.
set -eu
make=$1
help=$($make --no-print-directory help)
phony=$($make --no-print-directory -pn help 2>/dev/null |
        sed -n 's/^\.PHONY: *//p' | tr ' ' '\n' | sort -u | grep -v '^$')
listed=$(echo "$help" | sed -n 's/^ *make \([^ ]*\).*/\1/p')
missing=""
count=0
for t in $phony; do
    count=$((count + 1))
    found=no
    for l in $listed; do
        case $l in
            "$t") found=yes; break ;;
            *"-<"*">")
                prefix=${l%%<*}
                case $t in "$prefix"?*) found=yes; break ;; esac ;;
        esac
    done
    [ $found = yes ] || missing="$missing $t"
done
[ "$count" -gt 10 ] || { echo "help: only $count .PHONY targets found: the database was not read" >&2; exit 1; }
if [ -n "$missing" ]; then
    echo "help: not in \`make help\` (add a \"#   make TARGET  what\" line to its fragment):$missing" >&2
    exit 1
fi
echo "all $count targets are in make help"
