/* The handle of a library that can never be unloaded stays valid for good, as with glibc:
 * rl_sym and rl_info keep working on it after its last rl_close, and rl_close on it keeps
 * returning 0 (glibc's dlclose does nothing on a NODELETE object). Applies to RL_NODELETE given at
 * the first or a later open, to -z nodelete, and to a library pinned by an STB_GNU_UNIQUE
 * definition in use (which glibc marks NODELETE). An ordinary library's handle dies with its last
 * reference. argv[1]: fixture dir holding libnd_flag.so, libnd_late.so, libsimple.so (copies of
 * one library), libznodelete.so (linked -z nodelete) and libunique.so. */
#include "check.h"

static void stays_valid(rl_handle *h, const char *what)
{
    int i;
    const char *path = NULL;
    void *base = NULL;
    for (i = 0; i < 3; i++) {
        CHECK(rl_close(h) == 0, "%s: rl_close beyond the count returns 0 (round %d)", what, i);
        CHECK(rl_error() == NULL, "%s: and sets no error", what);
    }
    CHECK(rl_info(h, &path, &base, NULL) == 0 && path != NULL && base != NULL, "%s: rl_info still works", what);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *nd_flag = strf("%s/libnd_flag.so", dir);
    char *nd_late = strf("%s/libnd_late.so", dir);
    char *simple = strf("%s/libsimple.so", dir);
    char *znodelete = strf("%s/libznodelete.so", dir);
    char *unique = strf("%s/libunique.so", dir);
    rl_handle *h, *h2;
    int (*bump)(void);

    /* RL_NODELETE at the first open. */
    h = rl_open(nd_flag, RL_NOW | RL_NODELETE);
    CHECK(h != NULL, "rl_open(libnd_flag.so, RL_NODELETE)");
    CHECK(SYM(h, int (*)(void), "simple_bump")() == 1, "bump");
    CHECK(rl_close(h) == 0, "last close");
    bump = SYM(h, int (*)(void), "simple_bump");
    CHECK(bump() == 2, "rl_sym on the RL_NODELETE handle after its last close");
    stays_valid(h, "RL_NODELETE");
    CHECK(rl_sym(h, "no_such_symbol") == NULL, "a missing symbol is still reported");
    EXPECT_ERROR("no_such_symbol", "libnd_flag.so");
    CHECK(SYM(h, int (*)(int), "simple_triple")(2) == 6, "rl_sym after closes beyond the count");

    /* RL_NODELETE on a later open. */
    h = rl_open(nd_late, RL_NOW);
    CHECK(h != NULL, "rl_open(libnd_late.so)");
    h2 = rl_open(nd_late, RL_LAZY | RL_NODELETE);
    CHECK(h2 == h, "same handle");
    CHECK(rl_close(h) == 0 && rl_close(h) == 0, "both references closed");
    CHECK(SYM(h, int (*)(int), "simple_triple")(3) == 9, "rl_sym after RL_NODELETE given late");
    stays_valid(h, "late RL_NODELETE");

    /* DF_1_NODELETE in the file. */
    h = rl_open(znodelete, RL_NOW);
    CHECK(h != NULL, "rl_open(libznodelete.so)");
    CHECK(rl_close(h) == 0, "last close");
    CHECK(SYM(h, int (*)(int), "simple_triple")(4) == 12, "rl_sym on the -z nodelete handle after its last close");
    stays_valid(h, "-z nodelete");

    /* Pinned by its STB_GNU_UNIQUE definition. */
    h = rl_open(unique, RL_NOW);
    CHECK(h != NULL, "rl_open(libunique.so)");
    CHECK(SYM(h, int (*)(void), "unique_bump")() == 1, "unique_bump");
    CHECK(rl_close(h) == 0, "last close");
    CHECK(SYM(h, int (*)(void), "unique_bump")() == 2, "rl_sym on the pinned handle after its last close");
    stays_valid(h, "STB_GNU_UNIQUE");

    /* An ordinary library: its handle dies with its last reference. */
    h = rl_open(simple, RL_NOW);
    CHECK(h != NULL, "rl_open(libsimple.so)");
    CHECK(rl_close(h) == 0, "last close");
    CHECK(!is_mapped(simple), "unloaded");
    CHECK(rl_close(h) == -1, "rl_close beyond the count fails");
    EXPECT_ERROR("invalid handle");
    CHECK(rl_sym(h, "simple_triple") == NULL, "rl_sym on the dead handle fails");
    EXPECT_ERROR("invalid handle");

    free(nd_flag);
    free(nd_late);
    free(simple);
    free(znodelete);
    free(unique);
    CHECKS_DONE();
}
