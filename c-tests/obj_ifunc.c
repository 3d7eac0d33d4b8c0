/* IFUNC symbols of objects are resolved as those of shared libraries: calls
 * inside the unit, pointers to them in data and in code, and rl_sym all reach
 * the implementation the resolver picks. argv[1]: fixture dir; then variants. */
#include "check.h"

int main(int argc, char **argv)
{
    int v;
    for (v = 2; v < argc; v++) {
        char *path = strf("%s/obj_ifunc_%s.o", fixture_dir(argc, argv), argv[v]);
        rl_handle *h = rl_open(path, RL_NOW);
        int (*pick)(void);
        CHECK(h != NULL, "%s: rl_open", argv[v]);
        pick = SYM(h, int (*)(void), "pick");
        CHECK(pick() == 2, "%s: rl_sym gives the implementation the resolver picked", argv[v]);
        CHECK(SYM(h, int (*)(void), "call_pick")() == 20, "%s: a call inside the unit", argv[v]);
        CHECK((*SYM(h, int (**)(void), "pick_pointer"))() == 2, "%s: a pointer in data", argv[v]);
        CHECK(SYM(h, int (*(*)(void))(void), "pick_address")()() == 2, "%s: an address taken in code", argv[v]);
        CHECK(rl_close(h) == 0, "close");
    }
    CHECKS_DONE();
}
