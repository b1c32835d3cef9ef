/* bench/newdelete.cpp -- a C++ program's allocations: everything goes
 * through operator new and delete, which the preloaded allocator replaces
 * as it replaces malloc. Single thread, three shapes a C++ program mixes:
 *  - arrays: new char[] of 9..1024 bytes (7 in 8 at most 256) replacing a
 *    random one of a live set of 4096 (delete[] of the old one first);
 *  - nodes: a std::map<uint32_t, std::string> that gains a key or loses
 *    one at random each step (a node by new, its string's buffer by new
 *    when it is longer than the inline 15 bytes; freed by sized delete);
 *  - growth: every 8th step a std::vector<uint64_t> grown by push_back to
 *    1..128 elements (a new and a sized delete at each doubling).
 * The checksum reads back every block and the map, so an allocator handing
 * out a block twice shows.
 *
 *   newdelete SCALE      (SCALE 1: 2M steps) */
#include "bench.h"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

const size_t LIVE = 4096;
const size_t MAP_KEYS = 8192;    /* keys drawn below this: the map holds about half */

struct array_slot {
    char *p;
    size_t size;
};

size_t array_size(bench_rng_t *rng)
{
    return bench_range(rng, 0, 7) != 0 ? bench_range(rng, 9, 256) : bench_range(rng, 257, 1024);
}

/* A value of 4..60 characters: about half past the inline buffer. */
std::string value_for(uint64_t r)
{
    return std::string(4 + (size_t)(r % 57), (char)('a' + (r >> 8) % 26));
}

}  // namespace

int main(int argc, char **argv)
{
    bench_start(argc, argv);
    size_t steps = bench_scaled(2000000);
    bench_rng_t rng = { 7 };
    uint64_t sum = 0;

    std::vector<array_slot> live(LIVE, array_slot{ nullptr, 0 });
    std::map<uint32_t, std::string> nodes;

    for (size_t i = 0; i < steps; i++) {
        array_slot &slot = live[bench_range(&rng, 0, LIVE - 1)];
        if (slot.p != nullptr) {
            sum += bench_read(slot.p, slot.size);
            delete[] slot.p;
        }
        slot.size = array_size(&rng);
        slot.p = new char[slot.size];
        bench_fill(slot.p, slot.size, i);

        uint64_t r = bench_rand(&rng);
        uint32_t key = (uint32_t)(r % MAP_KEYS);
        auto it = nodes.find(key);
        if (it != nodes.end()) {
            sum += it->second.size() * 131 + (unsigned char)it->second[0];
            nodes.erase(it);
        } else {
            nodes.emplace(key, value_for(r >> 16));
        }

        if (i % 8 == 0) {
            std::vector<uint64_t> grown;
            size_t n = bench_range(&rng, 1, 128);
            for (size_t k = 0; k < n; k++)
                grown.push_back(k * i);
            sum += grown.back() + grown.size();
        }
    }

    for (array_slot &slot : live) {
        if (slot.p != nullptr) {
            sum += bench_read(slot.p, slot.size);
            delete[] slot.p;
        }
    }
    for (const auto &kv : nodes)
        sum += kv.first + kv.second.size();
    std::printf("map_nodes_left: %zu\n", nodes.size());
    bench_finish(sum);
    return 0;
}
