#!/bin/sh
# mk/deps.sh -- the Debian packages `make verify` and `make test` need.
#
# Run by mk/deps.mk before any target that needs them. When one is missing:
# as root it runs `apt-get update` and installs it (what CI and a fresh
# container want); otherwise it stops at once, printing the exact command.
# Without dpkg (not Debian) it test-compiles against Z3 and Criterion instead.
#
#   sh mk/deps.sh            check, install as root, or stop
#   sh mk/deps.sh --list     print the package list (for docs and scripts)
set -eu

# build-essential: cc, c++ (tests/cxx), make. libz3-dev: proofs/.
# libcriterion-dev: tests/api. pkg-config, cmake: tests/install builds against
# the installed copy with both. git, python3, time: tests/preload's programs.
# clang-14, libclang-rt-14-dev: tests/fuzz's libFuzzer target (mk/fuzz.mk).
PACKAGES="build-essential libz3-dev libcriterion-dev pkg-config cmake git python3 time clang-14 libclang-rt-14-dev"

if [ "${1:-}" = --list ]; then
    echo "$PACKAGES"
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    # Not Debian: the package names mean nothing here; check what we use.
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    printf '#include <z3.h>\n#include <criterion/criterion.h>\n' >"$tmp/t.c"
    if ${CC:-cc} -c "$tmp/t.c" -o "$tmp/t.o" 2>/dev/null; then exit 0; fi
    echo "shardalloc: cannot compile against Z3 and Criterion; install the" >&2
    echo "  equivalents of these Debian packages: $PACKAGES" >&2
    exit 1
fi

# One dpkg-query for all: a package it does not know is missing too.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $PACKAGES 2>/dev/null |
            awk '$NF == "installed" { print $1 }') || true
missing=""
for p in $PACKAGES; do
    case " $(echo $installed) " in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
missing=${missing# }
[ -z "$missing" ] && exit 0

command="apt-get update && apt-get install -y $missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "shardalloc: missing Debian packages: $missing" >&2
    echo "  install them with:  sudo sh -c '$command'" >&2
    echo "  (or run make as root, which installs them itself)" >&2
    exit 1
fi
echo "  DEPS      installing $missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing
