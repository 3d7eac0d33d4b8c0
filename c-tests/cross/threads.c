/* Threads on the target machine (run only where qemu-user runs threads: not for aarch64
 * guests, whose pthread_create hangs under qemu-user 7.2). With several threads at once:
 * first calls through lazily bound PLT slots with integer and floating-point arguments (the
 * trampoline under contention), and thread-local variables of relink-loaded libraries, each
 * thread with its own initialized copy, in a general-dynamic library and in an initial-exec
 * one (static TLS), including a thread created before the libraries were opened. */
#include "check.h"
#include <pthread.h>

#define THREADS 4

typedef double (*mix_fn)(long, double, long, double, long, double, long, double, long, double, long, double, long,
                         double, long, double, long, double, long, double);

struct lib {
    long *(*addr)(void);
    long (*bump)(long);
    double (*scaled)(double);
    int (*zeros_sum)(void);
};

static struct lib libs[2];
static mix_fn call_mix;
static pthread_barrier_t opened, go, done;

struct result {
    int bad;
    char what[160];
    long *counter[2];
};

/* One per thread started by main, then the one of the thread started before the opens. */
static struct result results[THREADS + 1];

static void fail(struct result *r, const char *what, long got)
{
    if (!r->bad)
        snprintf(r->what, sizeof r->what, "%s (got %ld)", what, got);
    r->bad = 1;
}

static double want_mix(void)
{
    double want = 0;
    for (int i = 0; i < 10; i++)
        want += (double)(i + 1) * (double)(i + 1) * (2 * i + 1) + (double)(i + 1) * (2 * i + 2) * (i + 0.5);
    return want;
}

/* What every thread does once the libraries are open: their variables start as initialized,
 * stay the thread's own, and calls bound on first use give the right results. */
static void work(struct result *r, long seed)
{
    pthread_barrier_wait(&go);
    double r0 = call_mix(1, 0.5, 2, 1.5, 3, 2.5, 4, 3.5, 5, 4.5, 6, 5.5, 7, 6.5, 8, 7.5, 9, 8.5, 10, 9.5);
    if (r0 != want_mix())
        fail(r, "call_mix through a lazily bound slot", (long)r0);
    for (int l = 0; l < 2; l++) {
        struct lib *b = &libs[l];
        long *c = b->addr();
        r->counter[l] = c;
        if (*c != 5)
            fail(r, l ? "initial-exec counter starts at 5" : "general-dynamic counter starts at 5", *c);
        if (b->scaled(4.0) != 10.0)
            fail(r, "scale starts at 2.5", 0);
        if (b->zeros_sum() != 0)
            fail(r, ".tbss starts zeroed", b->zeros_sum());
        for (int i = 0; i < 1000; i++)
            b->bump(seed);
        if (*c != 5 + 1000 * seed)
            fail(r, "counter keeps the thread's own value", *c);
    }
    /* Every thread is still alive when the addresses of their variables are compared. */
    pthread_barrier_wait(&done);
}

static void *early_thread(void *arg)
{
    /* Created before the libraries are opened. */
    pthread_barrier_wait(&opened);
    work(arg, 7);
    return NULL;
}

static void *thread(void *arg)
{
    struct result *r = arg;
    work(r, (long)(r - results) + 1);
    return NULL;
}

static void load(struct lib *b, rl_handle *h)
{
    b->addr = SYM(h, long *(*)(void), "counter_addr");
    b->bump = SYM(h, long (*)(long), "bump");
    b->scaled = SYM(h, double (*)(double), "scaled");
    b->zeros_sum = SYM(h, int (*)(void), "zeros_sum");
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    CHECK(pthread_barrier_init(&opened, NULL, 2) == 0, "barrier");
    CHECK(pthread_barrier_init(&go, NULL, THREADS + 2) == 0, "barrier");
    CHECK(pthread_barrier_init(&done, NULL, THREADS + 2) == 0, "barrier");
    pthread_t early, t[THREADS];
    CHECK(pthread_create(&early, NULL, early_thread, &results[THREADS]) == 0, "pthread_create (early)");

    const char *names[2] = {"libcross_tls_gd.so", "libcross_tls_ie.so"};
    rl_handle *h[3];
    for (int l = 0; l < 2; l++) {
        const char *path = strf("%s/%s", dir, names[l]);
        h[l] = rl_open(path, RL_NOW);
        CHECK(h[l] != NULL, "rl_open(%s)", path);
        load(&libs[l], h[l]);
    }
    const char *lazy = strf("%s/libcross_lazy.so", dir);
    h[2] = rl_open(lazy, RL_LAZY);
    CHECK(h[2] != NULL, "rl_open(%s, RL_LAZY)", lazy);
    call_mix = SYM(h[2], mix_fn, "call_mix");
    int (*unbound)(void) = SYM(h[2], int (*)(void), "unbound_slots");
    int before = unbound();
    CHECK(before >= 3, "the PLT slots are not bound before the threads call (%d unbound)", before);

    pthread_barrier_wait(&opened);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, thread, &results[i]) == 0, "pthread_create %d", i);
    /* The main thread calls at the same time. */
    pthread_barrier_wait(&go);
    double r0 = call_mix(1, 0.5, 2, 1.5, 3, 2.5, 4, 3.5, 5, 4.5, 6, 5.5, 7, 6.5, 8, 7.5, 9, 8.5, 10, 9.5);
    CHECK(r0 == want_mix(), "call_mix in the main thread: %g", r0);
    pthread_barrier_wait(&done);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "pthread_join %d", i);
    CHECK(pthread_join(early, NULL) == 0, "pthread_join (early)");

    for (int i = 0; i <= THREADS; i++) {
        CHECK(!results[i].bad, "thread %d%s: %s", i, i == THREADS ? " (created before rl_open)" : "", results[i].what);
        for (int j = 0; j < i; j++)
            for (int l = 0; l < 2; l++)
                CHECK(results[i].counter[l] != results[j].counter[l], "threads %d and %d share %s's counter", i, j,
                      names[l]);
    }
    /* The main thread's own copies were not touched by the others. */
    for (int l = 0; l < 2; l++)
        CHECK(*libs[l].addr() == 5, "%s: the main thread's counter is still 5: %ld", names[l], *libs[l].addr());
    CHECK(unbound() < before, "the calls bound the slots (%d unbound, %d before)", unbound(), before);
    for (int l = 0; l < 3; l++)
        CHECK(rl_close(h[l]) == 0, "rl_close");
    CHECKS_DONE();
}
