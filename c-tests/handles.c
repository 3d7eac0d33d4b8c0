/* Handle table semantics. argv[1]: fixture dir, which holds libsimple.so,
 * link.so -> libsimple.so, hard.so (hard link), libsimple_copy.so, sub/,
 * libnd_flag.so, libnd_late.so (copies of libsimple.so) and libznodelete.so
 * (linked -z nodelete). */
#include <pthread.h>

#include "check.h"

int host_answer(void)
{
    return 42;
}

static void *thread_errors(void *arg)
{
    const char *err;
    rl_handle *h = arg;
    err = rl_error();
    if (err != NULL) {
        fprintf(stderr, "new thread sees another thread's error: %s\n", err);
        return (void *)1;
    }
    if (rl_sym(h, "no_such_symbol_thread") != NULL)
        return (void *)2;
    /* left unread on purpose: must not leak into the main thread */
    return NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *simple = strf("%s/libsimple.so", dir);
    char *copy = strf("%s/libsimple_copy.so", dir);
    char *nd_flag = strf("%s/libnd_flag.so", dir);
    char *nd_late = strf("%s/libnd_late.so", dir);
    char *znodelete = strf("%s/libznodelete.so", dir);
    const char *spellings[] = {"./libsimple.so", "./link.so", "sub/../libsimple.so", "./hard.so",
                               "./sub/../sub/../libsimple.so", NULL};
    const size_t nspell = sizeof spellings / sizeof spellings[0];
    rl_handle *h, *h2, *hc, *self, *stale;
    int (*triple)(int), (*bump)(void);
    int stack_var = 0;
    void *heap_junk, *ret;
    pthread_t th;
    size_t i;

    CHECK(chdir(dir) == 0, "chdir(%s)", dir);

    /* RL_NOLOAD on a library that is not loaded. */
    CHECK(rl_open(simple, RL_NOW | RL_NOLOAD) == NULL, "RL_NOLOAD before loading");
    rl_error();
    CHECK(!is_mapped(simple), "RL_NOLOAD does not load");

    h = rl_open(simple, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", simple);
    triple = SYM(h, int (*)(int), "simple_triple");
    bump = SYM(h, int (*)(void), "simple_bump");
    CHECK(triple(4) == 12, "simple_triple");
    CHECK(bump() == 1, "fresh data");

    spellings[nspell - 1] = strf("%s/link.so", dir);
    for (i = 0; i < nspell; i++) {
        h2 = rl_open(spellings[i], RL_NOW);
        CHECK(h2 == h, "\"%s\" names the same file: %p vs %p", spellings[i], (void *)h2, (void *)h);
    }
    h2 = rl_open(simple, RL_LAZY | RL_NOLOAD);
    CHECK(h2 == h, "RL_NOLOAD finds the loaded library");

    hc = rl_open(copy, RL_NOW);
    CHECK(hc != NULL && hc != h, "a copy of the file is a different library");
    CHECK(SYM(hc, int (*)(void), "simple_bump")() == 1, "the copy has its own data");
    CHECK(rl_close(hc) == 0, "close the copy");
    CHECK(!is_mapped(copy), "copy unmapped");

    /* nspell + 2 references now (the first open, nspell spellings, RL_NOLOAD). */
    for (i = 0; i < nspell + 1; i++) {
        CHECK(rl_close(h) == 0, "close reference %zu", i);
        CHECK(is_mapped(simple), "still mapped with references left (after %zu closes)", i + 1);
        CHECK(triple(5) == 15, "still usable");
    }
    CHECK(bump() == 2, "same instance all along");
    CHECK(rl_close(h) == 0, "last close");
    CHECK(!is_mapped(simple), "unmapped after the last close");

    /* The stale handle. */
    stale = h;
    CHECK(rl_sym(stale, "simple_triple") == NULL, "rl_sym on a closed handle");
    EXPECT_SOME_ERROR();
    CHECK(rl_close(stale) == -1, "rl_close on a closed handle");
    EXPECT_SOME_ERROR();

    CHECK(rl_open(simple, RL_NOW | RL_NOLOAD) == NULL, "RL_NOLOAD after unloading");
    rl_error();

    h = rl_open(simple, RL_NOW);
    CHECK(h != NULL, "reload");
    bump = SYM(h, int (*)(void), "simple_bump");
    CHECK(bump() == 1, "data starts fresh after a real unload");

    /* Garbage handles. */
    {
        rl_handle *garbage[3];
        heap_junk = calloc(1, 256);
        garbage[0] = (rl_handle *)(uintptr_t)0x1234;
        garbage[1] = (rl_handle *)&stack_var;
        garbage[2] = (rl_handle *)heap_junk;
        for (i = 0; i < 3; i++) {
            CHECK(rl_sym(garbage[i], "simple_triple") == NULL, "rl_sym on garbage handle %zu", i);
            EXPECT_SOME_ERROR();
            CHECK(rl_vsym(garbage[i], "simple_triple", "V1") == NULL, "rl_vsym on garbage handle %zu", i);
            EXPECT_SOME_ERROR();
            CHECK(rl_close(garbage[i]) == -1, "rl_close on garbage handle %zu", i);
            EXPECT_SOME_ERROR();
        }
        free(heap_junk);
        CHECK(is_mapped(simple) && bump() == 2, "real handle unaffected");
    }

    /* rl_error: NULL once read, thread-local. */
    CHECK(rl_error() == NULL, "no pending error");
    CHECK(rl_sym(h, "no_such_symbol_main") == NULL, "missing symbol");
    CHECK(pthread_create(&th, NULL, thread_errors, h) == 0, "pthread_create");
    CHECK(pthread_join(th, &ret) == 0, "pthread_join");
    CHECK(ret == NULL, "thread saw a clean error state (%p)", ret);
    EXPECT_ERROR("no_such_symbol_main");
    CHECK(rl_error() == NULL, "error read once");

    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(simple), "unmapped");

    /* RL_NODELETE at first open. */
    h = rl_open(nd_flag, RL_NOW | RL_NODELETE);
    CHECK(h != NULL, "rl_open(RL_NODELETE)");
    bump = SYM(h, int (*)(void), "simple_bump");
    CHECK(bump() == 1, "bump");
    CHECK(rl_close(h) == 0, "close RL_NODELETE library");
    CHECK(is_mapped(nd_flag), "RL_NODELETE library stays mapped after the last close");
    CHECK(bump() == 2, "and keeps working with its data");
    h2 = rl_open(nd_flag, RL_NOW | RL_NOLOAD);
    CHECK(h2 != NULL, "RL_NOLOAD still finds the RL_NODELETE library");
    CHECK(rl_close(h2) == 0, "close");

    /* RL_NODELETE on a second open of a loaded library. */
    h = rl_open(nd_late, RL_NOW);
    CHECK(h != NULL, "rl_open(nd_late)");
    h2 = rl_open(nd_late, RL_NOW | RL_NODELETE);
    CHECK(h2 == h, "same handle");
    CHECK(rl_close(h2) == 0 && rl_close(h) == 0, "close both");
    CHECK(is_mapped(nd_late), "RL_NODELETE given on a later open also pins it");

    /* DF_1_NODELETE in the file. */
    h = rl_open(znodelete, RL_NOW);
    CHECK(h != NULL, "rl_open(libznodelete.so)");
    triple = SYM(h, int (*)(int), "simple_triple");
    CHECK(rl_close(h) == 0, "close");
    CHECK(is_mapped(znodelete), "DF_1_NODELETE library stays mapped");
    CHECK(triple(3) == 9, "and usable");

    /* The global scope. */
    self = rl_open(NULL, RL_NOW);
    CHECK(self != NULL, "rl_open(NULL, RL_NOW)");
    {
        int (*p_printf)(const char *, ...) = SYM(self, int (*)(const char *, ...), "printf");
        int (*p_answer)(void) = SYM(self, int (*)(void), "host_answer");
        CHECK(p_printf == printf, "rl_sym(self, printf) = %p, &printf = %p", (void *)p_printf, (void *)printf);
        CHECK(p_printf("printf through rl_sym(self)\n") > 0, "call printf");
        CHECK(p_answer == host_answer, "host's own exported function");
        CHECK(p_answer() == 42, "call it");
        CHECK(SYM(self, void *, "rl_open") != NULL, "librelink itself is in the global scope");
        h = rl_open(simple, RL_NOW | RL_LOCAL);
        CHECK(h != NULL, "open RL_LOCAL");
        CHECK(rl_sym(self, "simple_triple") == NULL, "an RL_LOCAL library is not in the global scope");
        EXPECT_ERROR("simple_triple");
        CHECK(rl_close(h) == 0, "close");
        CHECK(rl_sym(self, "no_such_symbol_global") == NULL, "missing global symbol");
        EXPECT_ERROR("no_such_symbol_global");
    }
    CHECK(rl_close(self) == 0, "close the global-scope handle");

    CHECKS_DONE();
}
