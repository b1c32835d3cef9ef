#!/bin/sh
# tests/install/run.sh MAKE WORKDIR -- `make install` into WORKDIR/root, then
# build tests/install/hello.c against that copy with pkg-config and with
# CMake's find_package(shardalloc), run each (hello.c checks its malloc is
# shardalloc's and the library's version the header's), and uninstall.
# Run by `make test-install` (mk/install.mk); any failure exits non-zero.
set -eu
make=$1
work=$2
mkdir -p "$work"
dest=$work/root
prefix=/opt/shardalloc
# Not PREFIX/lib but Debian's multiarch directory (which CMake searches), so
# the .pc and CMake files are checked to follow LIBDIR.
libdir=$prefix/lib/$(${CC:-cc} -print-multiarch)
here=$(cd "$(dirname "$0")" && pwd)

fail() { echo "install: $*" >&2; exit 1; }

$make --no-print-directory install DESTDIR="$dest" PREFIX="$prefix" LIBDIR="$libdir"

major=$(sed -n 's/^#define SA_VERSION_MAJOR *\([0-9]*\)$/\1/p' include/shardalloc.h)
for f in "$libdir/libshardalloc.a" "$libdir/libshardalloc.so.$major" "$libdir/libshardalloc.so" \
         "$prefix/include/shardalloc.h" "$libdir/pkgconfig/shardalloc.pc" \
         "$libdir/cmake/shardalloc/shardalloc-config.cmake" \
         "$libdir/cmake/shardalloc/shardalloc-config-version.cmake" \
         "$prefix/share/man/man3/shardalloc.3"; do
    [ -e "$dest$f" ] || fail "$f not installed"
done
[ -L "$dest$libdir/libshardalloc.so.$major" ] || fail "libshardalloc.so.$major is not a link"
readelf -d "$dest$libdir/libshardalloc.so" | grep -q "SONAME.*\[libshardalloc.so.$major\]" ||
    fail "libshardalloc.so has no SONAME libshardalloc.so.$major"

# pkg-config: the sysroot maps the .pc's absolute paths into DESTDIR.
flags=$(PKG_CONFIG_PATH="$dest$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
        pkg-config --cflags --libs shardalloc)
echo "pkg-config --cflags --libs shardalloc: $flags"
${CC:-cc} -o "$work/hello-pkg-config" "$here/hello.c" $flags
readelf -d "$work/hello-pkg-config" | grep -q "NEEDED.*\[libshardalloc.so.$major\]" ||
    fail "the pkg-config build does not need libshardalloc.so.$major"
LD_LIBRARY_PATH="$dest$libdir" "$work/hello-pkg-config"

# CMake: find_package from the installed package files, shared and static.
cmake -S "$here" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$dest$prefix" >"$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log"; fail "cmake could not configure against the installed copy"; }
cmake --build "$work/cmake" >>"$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log"; fail "cmake could not build against the installed copy"; }
LD_LIBRARY_PATH="$dest$libdir" "$work/cmake/hello"
"$work/cmake/hello_static"

$make --no-print-directory uninstall DESTDIR="$dest" PREFIX="$prefix" LIBDIR="$libdir"
left=$(find "$dest" ! -type d)
[ -z "$left" ] || fail "uninstall left $left"
echo "built with pkg-config and find_package(shardalloc), shared and static, ran; uninstall left nothing"
