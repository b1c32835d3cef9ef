/* tests/install/hello.c -- a program built against an installed shardalloc
 * (tests/install/run.sh): its malloc must be shardalloc's, and the library it
 * runs on the version of the header it was compiled with. */
#include <shardalloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *p = malloc(100);
    if (p == NULL || !sa_owns(p)) {
        fprintf(stderr, "hello: malloc did not come from shardalloc\n");
        return 1;
    }
    strcpy(p, "hello");
    free(p);
    if (sa_version() != SA_VERSION) {
        fprintf(stderr, "hello: header %d, library %d\n", SA_VERSION, sa_version());
        return 1;
    }
    printf("on shardalloc %d.%d.%d\n", SA_VERSION_MAJOR, SA_VERSION_MINOR, SA_VERSION_PATCH);
    return 0;
}
