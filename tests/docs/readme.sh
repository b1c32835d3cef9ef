#!/bin/sh
# tests/docs/readme.sh MAKE WORKDIR -- every example of README.md runs as
# written, right after README's two commands.
#
# In a scratch directory WORKDIR/app that sees the repository's build/ and
# include/ (links), with shardalloc installed into WORKDIR/root by `make
# install DESTDIR=` and pkg-config, CMake and the loader pointed at that
# copy, as if it were installed system-wide:
#   - a ```c block whose first line is /* NAME.c ... */ is written to NAME.c;
#   - a ```cmake block is written to CMakeLists.txt;
#   - every line of a ```sh block is run, in order, with `set -e`, except
#     those that start with `make` or `sudo make` (what this harness does
#     itself) and comments. A line ending in \ continues on the next.
# Fails if any command fails, or if README has no program or no command.
set -eu
make=$1
work=$2
top=$(pwd)
app=$work/app
root=$work/root
rm -rf "$work" && mkdir -p "$app"
ln -s "$top/build" "$app/build"
ln -s "$top/include" "$app/include"

$make --no-print-directory install DESTDIR="$root" PREFIX=/usr/local >/dev/null
export PKG_CONFIG_PATH="$root/usr/local/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$root"
export CMAKE_PREFIX_PATH="$root/usr/local"
export LD_LIBRARY_PATH="$root/usr/local/lib"

# Split README into files: NAME.c, CMakeLists.txt, commands.sh.
awk -v dir="$app" '
    /^```c$/     { mode = "c"; file = ""; next }
    /^```cmake$/ { mode = "cmake"; file = dir "/CMakeLists.txt"; next }
    /^```sh$/    { mode = "sh"; file = dir "/commands.sh"; next }
    /^```/       { mode = ""; next }
    mode == "c" && file == "" {
        if (match($0, /^\/\* [A-Za-z0-9_]+\.c/)) {
            file = dir "/" substr($0, 4, RLENGTH - 3); programs++
        } else { mode = "" ; next }
    }
    mode == "sh" && (/^[ \t]*(#|$)/ || /^(sudo )?make( |$)/) { next }
    mode != "" { print > file; if (mode == "sh") commands++ }
    END { printf "%d %d\n", programs, commands > (dir "/counts") }
' README.md
read programs commands <"$app/counts"
[ "$programs" -gt 0 ] || { echo "readme: no /* NAME.c */ program in README.md" >&2; exit 1; }
[ "$commands" -gt 0 ] || { echo "readme: no command in README.md's sh blocks" >&2; exit 1; }

cd "$app"
echo "--- README.md's commands, run in $app:"
cat commands.sh
echo "---"
sh -ex commands.sh
echo "$programs programs and $commands commands of README.md built and ran"
