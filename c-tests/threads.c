/* 8 threads open/sym/call/close libraries concurrently: libmt<i>.so (one
 * per thread, all NEEDED libmt_dep.so) and libmt_shared.so (shared by all,
 * not held by the main thread), and call rl_sym on a handle to
 * libsimple.so held by the main thread. argv[1]: fixture dir. */
#include <pthread.h>

#include "check.h"

#define THREADS 8
#define ITERS 150

static const char *dir;
static rl_handle *shared_handle;
static int (*shared_triple)(int);
static pthread_barrier_t start;

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg, it;
    char *own = strf("%s/libmt%d.so", dir, id);
    char *shared = strf("%s/libmt_shared.so", dir);
    char missing[64];

    snprintf(missing, sizeof missing, "missing_symbol_thread_%d", id);
    pthread_barrier_wait(&start);
    for (it = 0; it < ITERS; it++) {
        rl_handle *h = rl_open(own, (it & 1) ? RL_LAZY : RL_NOW);
        rl_handle *hs;
        int (*f)(int);
        const char *err;
        int v;

        CHECK(h != NULL, "thread %d iteration %d: rl_open(%s)", id, it, own);
        CHECK(SYM(h, int (*)(void), "mt_id")() == 1000 + id, "thread %d: mt_id", id);

        hs = rl_open(shared, RL_NOW);
        CHECK(hs != NULL, "thread %d: rl_open(%s)", id, shared);
        v = SYM(hs, int (*)(void), "mt_shared_value")();
        CHECK(v == 1234, "thread %d iteration %d: libmt_shared.so's constructor has not run, or its destructor "
              "has (value %d)", id, it, v);

        f = SYM(shared_handle, int (*)(int), "simple_triple");
        CHECK(f == shared_triple, "thread %d: rl_sym on the shared handle", id);
        CHECK(f(it) == 3 * it, "thread %d: simple_triple", id);

        if (it % 10 == 0) {
            CHECK(rl_sym(shared_handle, missing) == NULL, "thread %d: missing symbol", id);
            err = rl_error();
            CHECK(err != NULL && strstr(err, missing) != NULL,
                  "thread %d: its own error message, got %s", id, err ? err : "(null)");
            CHECK(rl_error() == NULL, "thread %d: error consumed", id);
        }

        CHECK(rl_close(hs) == 0, "thread %d: rl_close(shared)", id);
        CHECK(rl_close(h) == 0, "thread %d: rl_close(own)", id);
    }
    free(own);
    free(shared);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th[THREADS];
    char *simple, *dep, *shared;
    int i;

    dir = fixture_dir(argc, argv);
    simple = strf("%s/libsimple.so", dir);
    dep = strf("%s/libmt_dep.so", dir);
    shared = strf("%s/libmt_shared.so", dir);

    shared_handle = rl_open(simple, RL_NOW);
    CHECK(shared_handle != NULL, "rl_open(%s)", simple);
    shared_triple = SYM(shared_handle, int (*)(int), "simple_triple");

    CHECK(pthread_barrier_init(&start, NULL, THREADS) == 0, "barrier");
    for (i = 0; i < THREADS; i++)
        CHECK(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) == 0, "pthread_create");
    for (i = 0; i < THREADS; i++)
        CHECK(pthread_join(th[i], NULL) == 0, "pthread_join");

    for (i = 0; i < THREADS; i++) {
        char *own = strf("%s/libmt%d.so", dir, i);
        CHECK(!is_mapped(own), "%s unmapped after all threads closed it", own);
        free(own);
    }
    CHECK(!is_mapped(dep), "libmt_dep.so unmapped");
    CHECK(!is_mapped(shared), "libmt_shared.so unmapped");
    CHECK(is_mapped(simple), "libsimple.so still held by the main thread");
    CHECK(rl_close(shared_handle) == 0, "close");
    CHECK(!is_mapped(simple), "unmapped");
    CHECKS_DONE();
}
