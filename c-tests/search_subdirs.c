/* Directories of the search with and without capability subdirectories, searched again and
 * again: a directory holding none is searched for the name alone (remembered after its first
 * search), one holding `tls/` still has it tried first, on every open, also after a search that
 * walked it whole.
 * LD_LIBRARY_PATH=<dir>/bare:<dir>/caps, where bare/ holds libpick_bare.so (PICK_VALUE 1) and
 * caps/ holds libpick.so (2) and tls/libpick.so (3). argv[1]: fixture dir. */
#include "check.h"

static void pick(const char *name, int want, int round)
{
    rl_handle *h = rl_open(name, RL_NOW);
    CHECK(h != NULL, "round %d: %s found: %s", round, name, rl_error());
    if (h == NULL)
        return;
    int (*value)(void) = SYM(h, int (*)(void), "pick_value");
    CHECK(value() == want, "round %d: %s is the one with value %d (got %d)", round, name, want, value());
    CHECK(rl_close(h) == 0, "round %d: close %s", round, name);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    for (int round = 0; round < 3; round++) {
        /* A name found nowhere walks every directory whole. */
        CHECK(rl_open("libpick_nowhere.so", RL_NOW) == NULL, "round %d: a missing name is not found", round);
        EXPECT_ERROR("libpick_nowhere.so");
        pick("libpick_bare.so", 1, round);
        pick("libpick.so", 3, round);
        CHECK(!is_mapped(strf("%s/caps/tls/libpick.so", dir)), "round %d: unloaded", round);
    }
    CHECKS_DONE();
}
