/* rl_sym from several threads on a handle while another thread closes it
 * (unloading the library) and opens the library again, over and over: no
 * crash, and every answer is either the address of the symbol in the copy the
 * handle stands for, a miss naming the library, or "invalid handle" once it
 * is closed. argv[1]: fixture dir with libsimple.so. */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>

#define ROUNDS 200
#define READERS 3

struct generation {
    rl_handle *h;
    void *triple;
};

static struct generation gens[ROUNDS];
static atomic_int current = -1;
static atomic_int done;
static atomic_long hits, misses, invalid;

static void *reader(void *arg)
{
    (void)arg;
    long k = 0;
    while (!atomic_load(&done)) {
        int i = atomic_load(&current);
        if (i < 0)
            continue;
        struct generation g = gens[i];
        const char *name = k++ % 8 == 7 ? "simple_nope" : "simple_triple";
        void *p = rl_sym(g.h, name);
        const char *e = rl_error();
        if (p != NULL) {
            CHECK(name[7] == 't' && p == g.triple, "generation %d: %s at %p, expected %p", i, name, p, g.triple);
            CHECK(e == NULL, "no error after a hit: %s", e);
            atomic_fetch_add(&hits, 1);
        } else if (e != NULL && strstr(e, "invalid handle") != NULL) {
            atomic_fetch_add(&invalid, 1);
        } else {
            CHECK(name[7] == 'n' && e != NULL && strstr(e, "libsimple.so: undefined symbol: simple_nope") != NULL,
                  "generation %d: %s not found: %s", i, name, e ? e : "(no error)");
            atomic_fetch_add(&misses, 1);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *simple = strf("%s/libsimple.so", dir);
    pthread_t t[READERS];
    for (int r = 0; r < READERS; r++)
        CHECK(pthread_create(&t[r], NULL, reader, NULL) == 0, "pthread_create");
    for (int i = 0; i < ROUNDS; i++) {
        rl_handle *h = rl_open(simple, RL_NOW);
        CHECK(h != NULL, "rl_open round %d", i);
        gens[i].h = h;
        gens[i].triple = rl_sym(h, "simple_triple");
        CHECK(gens[i].triple != NULL, "simple_triple");
        atomic_store(&current, i);
        /* Let the readers search it (often enough for it to get its table). */
        long until = atomic_load(&hits) + 2000;
        while (atomic_load(&hits) < until)
            sched_yield();
        CHECK(rl_close(h) == 0, "rl_close round %d", i);
    }
    atomic_store(&done, 1);
    for (int r = 0; r < READERS; r++)
        pthread_join(t[r], NULL);
    printf("hits %ld, misses %ld, invalid handle %ld\n", atomic_load(&hits), atomic_load(&misses), atomic_load(&invalid));
    CHECK(atomic_load(&invalid) > 0, "some lookups raced with a close");
    CHECKS_DONE();
}
