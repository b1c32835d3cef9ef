/* tests/conformance/workloads.h -- what the tracing build runs for the replay:
 * allocation patterns chosen so that, together, they drive every page
 * transition of spec/page.smt2 (docs/verification.md lists which does what).
 * They use the sa_* entry points only; scaffolding memory (queues, tables)
 * comes from the C library's malloc. `scale` 1 is the size `make test` runs,
 * `make conformance-long` runs larger ones.
 */
#ifndef RP_WORKLOADS_H
#define RP_WORKLOADS_H

#include <stddef.h>

typedef struct rp_workload_s {
    const char *name;
    const char *what;
    void (*run)(unsigned scale);
} rp_workload_t;

extern const rp_workload_t rp_workloads[];
extern const size_t rp_workload_count;

#endif /* RP_WORKLOADS_H */
