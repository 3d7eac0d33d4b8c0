/* rl_sym and rl_vsym that miss allocate nothing once the thread has missed before: the miss is
 * kept for rl_error() to format, in buffers reused from the previous miss. The message is still
 * the right one, and a hit after misses allocates nothing either. argv[1]: directory of
 * libfind_obj.so. */
#include "check.h"

#include "count_alloc.h"

int main(int argc, char **argv)
{
    const char *path = strf("%s/libfind_obj.so", fixture_dir(argc, argv));
    rl_handle *h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "open %s", path);

    /* The first misses of the thread may allocate (thread-local slots, buffers as long as the
     * longest name), and so may the lookups that build the handle's lookup table once it has
     * been searched often enough. */
    for (int i = 0; i < 10000; i++) {
        CHECK(rl_sym(h, "fo_missing_name") == NULL, "miss");
        CHECK(rl_sym(h, "fo_other_missing") == NULL, "miss");
        CHECK(rl_vsym(h, "fo_missing_name", "V_1") == NULL, "versioned miss");
    }
    EXPECT_ERROR("libfind_obj.so", "undefined symbol: fo_missing_name", "version V_1");

    counting = 1;
    for (int i = 0; i < 1000; i++) {
        void *a = rl_sym(h, i % 2 ? "fo_missing_name" : "fo_other_missing");
        void *b = rl_vsym(h, "fo_missing_name", "V_1");
        if (a != NULL || b != NULL) {
            counting = 0;
            CHECK(0, "a miss returned an address");
        }
    }
    void *hit = rl_sym(h, "fo_answer");
    counting = 0;
    CHECK(hit != NULL, "fo_answer");
    CHECK(allocations == 0, "2000 misses and a hit made %d allocations", allocations);
    /* The last miss is what rl_error() tells. */
    EXPECT_ERROR("libfind_obj.so: undefined symbol: fo_missing_name, version V_1");

    CHECK(rl_sym(h, "fo_other_missing") == NULL, "miss");
    EXPECT_ERROR("libfind_obj.so: undefined symbol: fo_other_missing");
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
