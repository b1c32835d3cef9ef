#!/bin/sh
# tests/preload/cxx_runtime.sh -- operator new keeps the C++ rules in a C
# program that dlopen()s C++ code: its libstdc++ is loaded then, RTLD_LOCAL,
# after shardalloc's weak references to it were bound to nothing (libshardalloc.so
# does not need libstdc++: mk/cxx.mk checks that). A failed new calls the
# plugin's new_handler until there is none, then throws std::bad_alloc that
# the plugin catches; a failed nothrow new returns nullptr.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/plugin.cpp" <<'CXX'
#include <cstdint>
#include <new>
static volatile std::size_t too_big = SIZE_MAX / 2 + 1;
static int calls;
static void give_up_on_second_call()
{
    if (++calls == 2)
        std::set_new_handler(nullptr);
}
/* Bit 0: new threw bad_alloc; 1: it did after 2 handler calls;
 * 2: nothrow new returned nullptr; 3: a small new worked. */
extern "C" int plugin(void)
{
    int r = 0;
    try { void *p = ::operator new(too_big); ::operator delete(p); } catch (const std::bad_alloc &) { r |= 1; }
    std::set_new_handler(give_up_on_second_call);
    try { void *p = ::operator new(too_big); ::operator delete(p); } catch (const std::bad_alloc &) { r |= calls == 2 ? 2 : 0; }
    if (::operator new(too_big, std::nothrow) == nullptr)
        r |= 4;
    int *small = new int(7);
    if (*small == 7)
        r |= 8;
    delete small;
    return r;
}
CXX
cat >"$TMP/host.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    int (*plugin)(void) = h != NULL ? (int (*)(void))dlsym(h, "plugin") : NULL;
    if (plugin == NULL) {
        printf("dlopen: %s\n", dlerror());
        return 1;
    }
    printf("plugin: %d\n", plugin());
    return 0;
}
C
g++ -O2 -shared -fPIC -Wno-unused-result -o "$TMP/plugin.so" "$TMP/plugin.cpp"
gcc -O2 -o "$TMP/host" "$TMP/host.c" -ldl
out=$(preloaded "$TMP/host" "$TMP/plugin.so") || fail "host program: $out"
[ "$out" = "plugin: 15" ] || fail "C++ plugin in a C program: $out (want 15: bad_alloc, after the handler loop, nullptr, a working new)"
assert_served 1
echo "ok: a C++ plugin dlopen'ed by a C program gets bad_alloc after its new_handler loop, and nullptr from nothrow new"
