/* Thread-local storage of linked objects, used from several threads:
 * obj_tls_<variant>.o and obj_tls_other_<variant>.o linked by rl_link. Each
 * thread sees its own copies, initialized from the unit's TLS image; rl_sym of
 * a TLS variable gives the calling thread's copy. argv[1]: fixture dir; then
 * the variants. OBJ_TLS_THREADS in the environment sets how many threads run
 * besides the main one (8 by default; 0 under qemu-user, whose aarch64 guests
 * hang in pthread_create). */
#include "check.h"
#include <pthread.h>

#define THREADS 8
#define ROUNDS 50

static int (*bump)(void);
static int *(*counter_address)(void), *(*other_address)(void);
static rl_handle *unit;

static void *worker(void *arg)
{
    int i, ok = 1;
    (void)arg;
    for (i = 0; i < ROUNDS && ok; i++) {
        /* counter 11.., static 5.., other 1.., buf 1.. in this thread only */
        int want = (11 + i) * 1000 + (5 + i) * 100 + (1 + i) * 10 + (1 + i);
        ok = bump() == want;
    }
    ok = ok && rl_sym(unit, "tls_counter") == counter_address() && *counter_address() == 10 + ROUNDS;
    ok = ok && rl_sym(unit, "tls_other") == other_address();
    return (void *)(long)ok;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    int v;
    for (v = 2; v < argc; v++) {
        rl_input in[2] = {{strf("%s/obj_tls_%s.o", dir, argv[v]), NULL, 0, NULL, 0},
                          {strf("%s/obj_tls_other_%s.o", dir, argv[v]), NULL, 0, NULL, 0}};
        pthread_t t[THREADS];
        const char *env = getenv("OBJ_TLS_THREADS");
        int i, threads = env ? atoi(env) : THREADS;
        CHECK(threads >= 0 && threads <= THREADS, "OBJ_TLS_THREADS=%s", env);
        unit = rl_link(in, 2, RL_NOW, NULL);
        CHECK(unit != NULL, "%s: rl_link", argv[v]);
        bump = SYM(unit, int (*)(void), "tls_bump");
        counter_address = SYM(unit, int *(*)(void), "tls_counter_address");
        other_address = SYM(unit, int *(*)(void), "tls_other_address");
        for (i = 0; i < threads; i++)
            CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0, "pthread_create");
        CHECK(worker(NULL) != NULL, "%s: the main thread's copies", argv[v]);
        for (i = 0; i < threads; i++) {
            void *ok;
            CHECK(pthread_join(t[i], &ok) == 0 && ok != NULL, "%s: thread %d's copies", argv[v], i);
        }
        CHECK(rl_close(unit) == 0, "close");
    }
    CHECKS_DONE();
}
