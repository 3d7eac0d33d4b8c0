/* A library defining an STB_GNU_UNIQUE symbol stays loaded after its last rl_close (glibc pins
 * such objects too: the one definition must stay valid for the whole process).
 * argv[1]: fixture dir holding libunique.so. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/libunique.so", dir);
    rl_handle *h, *again;
    int (*bump)(void);

    CHECK(!is_mapped(path), "%s mapped before the open", path);
    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    bump = SYM(h, int (*)(void), "unique_bump");
    CHECK(bump() == 1 && bump() == 2, "unique_bump counts");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECK(is_mapped(path), "a library with an STB_GNU_UNIQUE symbol must stay mapped after its last close");

    /* Opening it again gives the same object, its state intact. */
    again = rl_open(path, RL_NOW | RL_NOLOAD);
    CHECK(again != NULL, "RL_NOLOAD finds the pinned library");
    CHECK(SYM(again, int (*)(void), "unique_bump")() == 3, "state kept across close and reopen");
    CHECK(rl_close(again) == 0, "rl_close again");
    CHECK(is_mapped(path), "still pinned");
    free(path);
    CHECKS_DONE();
}
