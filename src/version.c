/* src/version.c -- which shardalloc is running: the header's version, compiled
 * in, so a program can compare it with the SA_VERSION it was built against. */
#include "internal.h"

sa_public int sa_version(void)
{
    return SA_VERSION;
}
