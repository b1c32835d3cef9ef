/* tests/fuzz/libfuzzer.c -- the fuzzer's interpreter driven by libFuzzer
 * (mk/fuzz.mk builds it with clang, -fsanitize=fuzzer,address,undefined, and
 * the allocator with coverage, ASan and UBSan). The input's bytes are the
 * decisions: which call, which slot, which size and alignment (fz_src_t reads
 * them in order), so libFuzzer's coverage guidance steers the operations
 * themselves. Each input is one run on 64 slots, every block freed at its
 * end; anything the model or the allocator objects to aborts, and libFuzzer
 * keeps the input. tests/fuzz/corpus/ holds the inputs the run starts from. */
#include <stddef.h>
#include <stdint.h>
#include "fuzz.h"

enum { SLOTS = 64, MAX_OPS = 4096 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_ctx_t c;
    fz_reports_begin();
    fz_ctx_init(&c, SLOTS, 0, 0, data, size);
    while (!fz_src_done(&c.src) && c.op < MAX_OPS)
        fz_step(&c);
    fz_ctx_fini(&c);
    fz_reports_check(&c);
    fz_reports_end();
    return 0;
}
