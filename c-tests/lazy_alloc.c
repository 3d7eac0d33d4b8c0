/* The first call through a PLT slot of a library opened RL_LAZY allocates nothing once the
 * thread has bound one slot before (the objects of the scopes are held in a buffer the thread
 * reuses). argv[1]: directory of liblazy_many.so. */
#include "check.h"
#include "count_alloc.h"

int main(int argc, char **argv)
{
    const char *path = strf("%s/liblazy_many.so", fixture_dir(argc, argv));
    rl_handle *h = rl_open(path, RL_LAZY);
    CHECK(h != NULL, "open %s", path);
    int (*first)(void) = SYM(h, int (*)(void), "lm_first");
    int (*rest)(void) = SYM(h, int (*)(void), "lm_rest");
    CHECK(first() == 1, "lm_f1 through its PLT slot");

    counting = 1;
    int sum = rest();
    counting = 0;
    CHECK(sum == 2 + 3 + 4 + 5 + 6 + 7 + 8, "lm_f2 ... lm_f8 through their PLT slots: %d", sum);
    CHECK(allocations == 0, "7 first calls through PLT slots made %d allocations", allocations);
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
