/* The first call through a PLT slot of a library opened RL_LAZY allocates nothing once the
 * thread has bound one slot before (the objects of the scopes are held in a buffer the thread
 * reuses). argv[1]: directory of liblazy_many.so. */
#include "check.h"
#include "lazy_many.h"
#include "count_alloc.h"

int main(int argc, char **argv)
{
    int (*rest)(void);
    rl_handle *h = open_lazy_many(argc, argv, &rest);

    counting = 1;
    int sum = rest();
    counting = 0;
    CHECK(sum == 2 + 3 + 4 + 5 + 6 + 7 + 8, "lm_f2 ... lm_f8 through their PLT slots: %d", sum);
    CHECK(allocations == 0, "7 first calls through PLT slots made %d allocations", allocations);
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
