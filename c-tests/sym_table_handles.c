/* Lookups through a handle that has been searched often enough to get its
 * own lookup table: the handle is still rejected once closed (also while its
 * library stays loaded as another's dependency), works again when the same
 * library is opened again, and neighbours of it are rejected too.
 * argv[1]: fixture dir with libsimple.so and libsymtab_user.so. */
#include "check.h"

#define MANY 20000

static void hammer(rl_handle *h, void *expect)
{
    for (int i = 0; i < MANY; i++) {
        CHECK(rl_sym(h, "simple_triple") == expect, "hit %d", i);
        if (i % 64 == 0) {
            CHECK(rl_sym(h, "simple_nope") == NULL, "miss %d", i);
            EXPECT_ERROR("libsimple.so: undefined symbol: simple_nope");
        }
    }
    CHECK(rl_sym(h, "simple_counter") != NULL, "data symbol");
}

static void rejected(rl_handle *bad, const char *what)
{
    for (int i = 0; i < 3; i++) {
        CHECK(rl_sym(bad, "simple_triple") == NULL, "rl_sym on %s (%p)", what, (void *)bad);
        EXPECT_ERROR("invalid handle");
    }
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *simple = strf("%s/libsimple.so", dir);
    char *user = strf("%s/libsymtab_user.so", dir);

    /* Closed and unloaded: a stale handle; the next open is another handle. */
    rl_handle *h = rl_open(simple, RL_NOW);
    CHECK(h != NULL, "rl_open");
    hammer(h, rl_sym(h, "simple_triple"));
    CHECK(rl_close(h) == 0, "rl_close");
    rejected(h, "a closed handle");
    rl_handle *h2 = rl_open(simple, RL_NOW);
    CHECK(h2 != NULL && h2 != h, "a new handle after unloading");
    rejected(h, "a closed handle, its library open again");
    hammer(h2, rl_sym(h2, "simple_triple"));

    /* Forged neighbours of a handle with a table. */
    uintptr_t v = (uintptr_t)h2;
    for (uintptr_t i = 1; i < 64; i++) {
        rejected((rl_handle *)(v + (i << 4)), "a handle plus a multiple of 16");
        rejected((rl_handle *)(v - (i << 4)), "a handle minus a multiple of 16");
        rejected((rl_handle *)(v ^ ((uintptr_t)1 << (4 + i % 56))), "a handle with a bit flipped");
    }
    hammer(h2, rl_sym(h2, "simple_triple"));

    /* Closed but still loaded (a dependency of another library): rejected all the same, and
     * valid again (the same handle) once opened again. */
    rl_handle *u = rl_open(user, RL_NOW);
    CHECK(u != NULL, "rl_open %s", user);
    void *triple = rl_sym(h2, "simple_triple");
    CHECK(rl_close(h2) == 0, "rl_close");
    rejected(h2, "a closed handle whose library another one keeps loaded");
    CHECK(SYM(u, int (*)(int), "symtab_user")(2) == 7, "the library is still there");
    CHECK(rl_sym(u, "simple_triple") == triple, "and found through its user");
    rl_handle *h3 = rl_open(simple, RL_NOW);
    CHECK(h3 == h2, "the same handle when opened again while loaded");
    hammer(h3, triple);
    CHECK(rl_close(h3) == 0, "rl_close");
    rejected(h3, "closed again");
    CHECK(rl_close(u) == 0, "rl_close user");
    rejected(h3, "closed and unloaded");
    rejected(u, "the user, closed");

    /* Handles share the slots of the lock-free table of handles: a stale handle whose slot
     * now holds the table of a later open of the library is still rejected. */
    static rl_handle *stale[1100];
    for (int i = 0; i < 1100; i++) {
        stale[i] = rl_open(simple, RL_NOW);
        CHECK(stale[i] != NULL, "rl_open %d", i);
        void *at = rl_sym(stale[i], "simple_triple");
        for (int k = 0; k < 600; k++)
            CHECK(rl_sym(stale[i], "simple_triple") == at, "open %d, hit %d", i, k);
        for (int j = i < 1000 ? i : 0; j < i; j++) {
            CHECK(rl_sym(stale[j], "simple_triple") == NULL, "handle %d closed, %d open", j, i);
            rl_error();
        }
        CHECK(rl_close(stale[i]) == 0, "rl_close %d", i);
    }
    CHECKS_DONE();
}
