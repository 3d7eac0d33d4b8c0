/* What rl_error() says after rl_sym finds nothing through a handle with a lookup table: the
 * message is made only when asked for, from what the miss kept. It names the library searched
 * and the symbol, whichever handle missed before, whatever the caller did to its copy of the
 * name since, and it is the calling thread's own.
 * argv[1]: fixture dir with libsimple.so and libsymtab_user.so (which needs libsimple.so). */
#include "check.h"
#include <pthread.h>

/* Enough lookups for a handle to get its lookup table. */
static void warm(rl_handle *h)
{
    for (int i = 0; i < 20000; i++)
        CHECK(rl_sym(h, "simple_triple") != NULL, "hit %d", i);
}

static rl_handle *simple, *user;
static pthread_barrier_t missed, read_main;

static void *other_thread(void *arg)
{
    (void)arg;
    CHECK(rl_sym(user, "thread_nope") == NULL, "miss in the thread");
    pthread_barrier_wait(&missed);
    pthread_barrier_wait(&read_main);
    EXPECT_ERROR("libsymtab_user.so: undefined symbol: thread_nope");
    return NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    simple = rl_open(strf("%s/libsimple.so", dir), RL_NOW);
    user = rl_open(strf("%s/libsymtab_user.so", dir), RL_NOW);
    CHECK(simple != NULL && user != NULL, "rl_open");
    warm(simple);
    warm(user);

    /* Handle after handle: each message names its own library. */
    CHECK(rl_sym(simple, "nope_a") == NULL, "miss a");
    EXPECT_ERROR("libsimple.so: undefined symbol: nope_a");
    CHECK(rl_sym(user, "nope_b") == NULL, "miss b");
    EXPECT_ERROR("libsymtab_user.so: undefined symbol: nope_b");
    CHECK(rl_sym(simple, "nope_c") == NULL, "miss c");
    EXPECT_ERROR("libsimple.so: undefined symbol: nope_c");

    /* Misses not read in between: the last one is reported. */
    CHECK(rl_sym(user, "nope_d") == NULL && rl_sym(simple, "nope_e") == NULL, "two misses");
    EXPECT_ERROR("libsimple.so: undefined symbol: nope_e");
    CHECK(rl_sym(simple, "nope_f") == NULL && rl_sym(user, "nope_g") == NULL, "two misses");
    EXPECT_ERROR("libsymtab_user.so: undefined symbol: nope_g");

    /* A miss the slow way (a version), one through the global scope, then the table's again. */
    CHECK(rl_vsym(simple, "nope_h", "V1") == NULL, "versioned miss");
    EXPECT_ERROR("libsimple.so: undefined symbol: nope_h, version V1");
    CHECK(rl_sym(RL_DEFAULT, "nope_i") == NULL, "miss through RL_DEFAULT");
    EXPECT_ERROR("undefined symbol: nope_i");
    CHECK(rl_sym(RL_DEFAULT, "nope_j") == NULL && rl_sym(simple, "nope_k") == NULL, "two misses");
    EXPECT_ERROR("libsimple.so: undefined symbol: nope_k");
    CHECK(rl_sym(simple, "nope_l") == NULL && rl_vsym(user, "nope_m", "V2") == NULL, "two misses");
    EXPECT_ERROR("libsymtab_user.so: undefined symbol: nope_m, version V2");

    /* The name is kept, not the caller's buffer. */
    char name[32];
    strcpy(name, "nope_kept");
    CHECK(rl_sym(user, name) == NULL, "miss through a buffer");
    strcpy(name, "overwritten");
    EXPECT_ERROR("libsymtab_user.so: undefined symbol: nope_kept");

    /* Per thread: another thread's miss is not this one's, nor the other way round. */
    pthread_t t;
    pthread_barrier_init(&missed, NULL, 2);
    pthread_barrier_init(&read_main, NULL, 2);
    CHECK(pthread_create(&t, NULL, other_thread, NULL) == 0, "pthread_create");
    pthread_barrier_wait(&missed);
    CHECK(rl_error() == NULL, "the thread's miss is not seen here");
    CHECK(rl_sym(simple, "main_nope") == NULL, "miss in main");
    pthread_barrier_wait(&read_main);
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    EXPECT_ERROR("libsimple.so: undefined symbol: main_nope");

    CHECK(rl_close(user) == 0 && rl_close(simple) == 0, "rl_close");
    CHECKS_DONE();
}
