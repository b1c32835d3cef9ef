/* bench/probe.c -- libsaprobe.so, preloaded after the allocator under test
 * into the real programs (redis-server, python3, sqlite3), which cannot say
 * themselves which allocator serves them. At load time it appends
 *     allocator: <file of the library whose `malloc` a library call binds to>
 * to the file named by SA_BENCH_PROBE; the runner compares that with the
 * library it meant to preload.
 *
 * Why not dlsym(RTLD_DEFAULT, "malloc"): a non-PIE executable that takes
 * malloc's address (Debian's python3 does) owns a canonical PLT stub that
 * dlsym returns, so dladdr would name the executable. What counts is where
 * calls go: this library is linked with -z now, so the dynamic linker has
 * filled its own PLT slot for malloc before the constructor runs; we find
 * that slot through our dynamic section and name the library it points into.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern ElfW(Dyn) _DYNAMIC[];

/* Never called: its call to malloc gives this library a PLT slot for it. */
__attribute__((used, noinline))
static void *_sa_probe_malloc_ref(size_t n)
{
    return malloc(n);
}

/* Our base address: dladdr on one of our own functions. */
static uintptr_t probe_base(void)
{
    Dl_info info;
    if (dladdr((void *)_sa_probe_malloc_ref, &info) == 0)
        return 0;
    return (uintptr_t)info.dli_fbase;
}

/* The address our PLT slot for `name` holds, or NULL. (On x86-64 the
 * dynamic linker has relocated the d_ptr entries of _DYNAMIC in place.) */
static void *plt_target(const char *name)
{
    const ElfW(Rela) *rel = NULL;
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    size_t relsz = 0;
    for (const ElfW(Dyn) *d = _DYNAMIC; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_JMPREL:   rel = (const ElfW(Rela) *)d->d_un.d_ptr; break;
        case DT_PLTRELSZ: relsz = d->d_un.d_val; break;
        case DT_SYMTAB:   symtab = (const ElfW(Sym) *)d->d_un.d_ptr; break;
        case DT_STRTAB:   strtab = (const char *)d->d_un.d_ptr; break;
        default: break;
        }
    }
    if (rel == NULL || symtab == NULL || strtab == NULL)
        return NULL;
    uintptr_t base = probe_base();
    for (size_t i = 0; i < relsz / sizeof *rel; i++) {
        const ElfW(Sym) *sym = &symtab[ELF64_R_SYM(rel[i].r_info)];
        if (strcmp(strtab + sym->st_name, name) == 0)
            return *(void **)(base + rel[i].r_offset);
    }
    return NULL;
}

__attribute__((constructor))
static void probe_report(void)
{
    const char *out = getenv("SA_BENCH_PROBE");
    if (out == NULL)
        return;
    Dl_info info;
    void *target = plt_target("malloc");
    const char *lib = "unknown";
    if (target != NULL && dladdr(target, &info) != 0 && info.dli_fname != NULL)
        lib = info.dli_fname;
    int fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    /* One write per line, so lines from concurrent processes do not mix. */
    char line[4096] = "allocator: ";
    size_t n = strlen(line);
    size_t len = strlen(lib);
    if (len > sizeof line - n - 2)
        len = sizeof line - n - 2;
    memcpy(line + n, lib, len);
    line[n + len] = '\n';
    ssize_t w = write(fd, line, n + len + 1);
    (void)w;
    close(fd);
}
