/* Opens liblazy_many.so (RL_LAZY) from the fixture directory in argv[1] and makes the first
 * call through one of its PLT slots; *rest is then lm_rest, whose call is the first through
 * seven more slots (it returns 2 + 3 + ... + 8). */
#ifndef RELINK_LAZY_MANY_H
#define RELINK_LAZY_MANY_H

#include "check.h"

static rl_handle *open_lazy_many(int argc, char **argv, int (**rest)(void))
{
    const char *path = strf("%s/liblazy_many.so", fixture_dir(argc, argv));
    rl_handle *h = rl_open(path, RL_LAZY);
    CHECK(h != NULL, "open %s", path);
    int (*first)(void) = SYM(h, int (*)(void), "lm_first");
    *rest = SYM(h, int (*)(void), "lm_rest");
    CHECK(first() == 1, "lm_f1 through its PLT slot");
    return h;
}

#endif
