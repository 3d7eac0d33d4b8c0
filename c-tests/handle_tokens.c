/* Handles are unguessable tokens: small integers, neighbours of a real
 * handle and the encoding of the global scope's id are rejected, never taken
 * for a handle. argv[1]: fixture dir with libsimple.so. */
#include "check.h"

static void rejected(rl_handle *bad, const char *what)
{
    CHECK(rl_sym(bad, "simple_triple") == NULL, "rl_sym on %s (%p)", what, (void *)bad);
    EXPECT_ERROR("invalid handle");
    CHECK(rl_close(bad) == -1, "rl_close on %s (%p)", what, (void *)bad);
    EXPECT_ERROR("invalid handle");
    CHECK(rl_info(bad, NULL, NULL, NULL) == -1, "rl_info on %s (%p)", what, (void *)bad);
    EXPECT_ERROR("invalid handle");
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    rl_handle *global = rl_open(NULL, RL_NOW);
    rl_handle *h = rl_open(strf("%s/libsimple.so", dir), RL_NOW);
    uintptr_t v = (uintptr_t)h;
    uintptr_t i;
    char what[64];

    CHECK(global != NULL && h != NULL, "rl_open");
    CHECK(SYM(h, int (*)(int), "simple_triple")(2) == 6, "the real handle works");
    CHECK(rl_sym(global, "simple_triple") == NULL, "the global scope does not have a local library");
    rl_error();
    /* The ids 1 (the global scope) and 2.. with the old fixed encoding (id << 4 | 8). */
    for (i = 1; i < 64; i++) {
        snprintf(what, sizeof what, "the integer %#lx", (unsigned long)(i << 4 | 8));
        if ((rl_handle *)(i << 4 | 8) != global && (rl_handle *)(i << 4 | 8) != h)
            rejected((rl_handle *)(i << 4 | 8), what);
    }
    for (i = 1; i < 16; i++) {
        rejected((rl_handle *)(v + (i << 4)), "a handle plus a multiple of 16");
        rejected((rl_handle *)(v - (i << 4)), "a handle minus a multiple of 16");
        rejected((rl_handle *)(v ^ ((uintptr_t)1 << (40 + i))), "a handle with a high bit flipped");
    }
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
