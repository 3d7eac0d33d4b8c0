/* Thread-local storage of a relink-loaded library, for each access model the
 * test built (general dynamic, local dynamic, TLS descriptors): 8 threads, 4
 * started before rl_open and 4 after, each gets its own initialized copy of
 * every variable, at distinct and properly aligned addresses, and its writes
 * stay its own; rl_sym of a thread-local variable gives the calling thread's
 * copy. Then 200 open / use in threads / close cycles must not grow the heap.
 * argv[1]: fixture dir; argv[2..]: library file names (builds of
 * fixtures/rt_tls.c; a name containing "local" marks the build whose
 * variables are static, so that only rt_probe is exported). */
#include <malloc.h>
#include <pthread.h>

#include "check.h"

#define EARLY 4
#define LATE 4
#define THREADS (EARLY + LATE)
#define NVARS 7
#define ZBUF 4096
#define CYCLES 200
#define WARMUP 20
#define HEAP_SLACK (64 * 1024)

static const char *const var_names[NVARS] = {"rt_int", "rt_tag", "rt_a64", "rt_zd", "rt_zs", "rt_zbuf", "rt_probe"};
static const size_t var_align[NVARS] = {4, 1, 64, 8, 2, 32, 4};
static const size_t var_size[NVARS] = {4, 13, 8, 8, 2, ZBUF, 4};

struct api {
    int (*check_fresh)(void);
    void (*fill)(unsigned);
    int (*check_filled)(unsigned);
    void (*addrs)(void **);
};

static rl_handle *h;
static struct api api;
static const char *lib_name;
static int exported; /* variables other than rt_probe are exported */
static pthread_barrier_t loaded, filled, done;
static void *addrs[THREADS + 1][NVARS];

static void load_api(rl_handle *lib, struct api *a)
{
    a->check_fresh = SYM(lib, int (*)(void), "rt_tls_check_fresh");
    a->fill = SYM(lib, void (*)(unsigned), "rt_tls_fill");
    a->check_filled = SYM(lib, int (*)(unsigned), "rt_tls_check_filled");
    a->addrs = SYM(lib, void (*)(void **), "rt_tls_addrs");
}

/* Checks every thread does on its own copy; `me` indexes addrs[]. */
static void use_own_copy(int me)
{
    unsigned seed = 100u + (unsigned)me * 17u;
    int bad, v;

    bad = api.check_fresh();
    CHECK(bad == 0, "%s, thread %d: variables do not start at their initial values (mask %#x)", lib_name, me, bad);
    api.addrs(addrs[me]);
    for (v = 0; v < NVARS; v++) {
        CHECK(addrs[me][v] != NULL && (uintptr_t)addrs[me][v] % var_align[v] == 0,
              "%s, thread %d: %s at %p is not %zu-aligned", lib_name, me, var_names[v], addrs[me][v], var_align[v]);
    }
    CHECK(rl_sym(h, "rt_probe") == addrs[me][6], "%s, thread %d: rl_sym(rt_probe) = %p, the library's own is %p",
          lib_name, me, rl_sym(h, "rt_probe"), addrs[me][6]);
    if (exported) {
        for (v = 0; v < NVARS; v++)
            CHECK(rl_sym(h, var_names[v]) == addrs[me][v], "%s, thread %d: rl_sym(%s) = %p, the library's is %p",
                  lib_name, me, var_names[v], rl_sym(h, var_names[v]), addrs[me][v]);
    }
    api.fill(seed);
    bad = api.check_filled(seed);
    CHECK(bad == 0, "%s, thread %d: reading back its own writes (mask %#x)", lib_name, me, bad);
    pthread_barrier_wait(&filled);
    /* Every thread has written its copy: ours must still hold our values. */
    bad = api.check_filled(seed);
    CHECK(bad == 0, "%s, thread %d: another thread's writes leaked into this thread's copy (mask %#x)", lib_name, me,
          bad);
    CHECK(*(int *)addrs[me][0] == (int)seed * 3 + 1 && ((unsigned char *)addrs[me][5])[ZBUF - 1] ==
              (unsigned char)(seed + ZBUF - 1),
          "%s, thread %d: values through the reported addresses", lib_name, me);
    v = *(int *)rl_sym(h, "rt_probe");
    CHECK(v == (int)seed + 1000, "%s, thread %d: rt_probe through rl_sym reads %d", lib_name, me, v);
}

static void *early_thread(void *arg)
{
    pthread_barrier_wait(&loaded);
    use_own_copy((int)(intptr_t)arg);
    pthread_barrier_wait(&done);
    return NULL;
}

static void *late_thread(void *arg)
{
    use_own_copy((int)(intptr_t)arg);
    pthread_barrier_wait(&done);
    return NULL;
}

static int overlap(const void *a, size_t an, const void *b, size_t bn)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y + bn && y < x + an;
}

static void threads_for(const char *dir, const char *file)
{
    char *path = strf("%s/%s", dir, file);
    pthread_t t[THREADS];
    int i, j, v, bad;

    lib_name = file;
    exported = strstr(file, "local") == NULL;
    CHECK(pthread_barrier_init(&loaded, NULL, EARLY + 1) == 0 && pthread_barrier_init(&filled, NULL, THREADS) == 0 &&
              pthread_barrier_init(&done, NULL, THREADS + 1) == 0,
          "barriers");
    for (i = 0; i < EARLY; i++)
        CHECK(pthread_create(&t[i], NULL, early_thread, (void *)(intptr_t)i) == 0, "pthread_create");

    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    load_api(h, &api);
    pthread_barrier_wait(&loaded);
    for (i = EARLY; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, late_thread, (void *)(intptr_t)i) == 0, "pthread_create");

    /* While the threads hold their copies, the main thread's is untouched. */
    bad = api.check_fresh();
    CHECK(bad == 0, "%s, main thread: initial values (mask %#x)", file, bad);
    api.addrs(addrs[THREADS]);
    CHECK(rl_sym(h, "rt_probe") == addrs[THREADS][6], "%s, main thread: rl_sym(rt_probe)", file);

    pthread_barrier_wait(&done);
    for (i = 0; i < THREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "join");

    /* All copies were alive at the same time: no two may share memory. */
    for (v = 0; v < NVARS; v++)
        for (i = 0; i <= THREADS; i++)
            for (j = i + 1; j <= THREADS; j++)
                CHECK(!overlap(addrs[i][v], var_size[v], addrs[j][v], var_size[v]),
                      "%s: %s of thread %d (%p) and thread %d (%p) overlap", file, var_names[v], i, addrs[i][v], j,
                      addrs[j][v]);
    bad = api.check_fresh();
    CHECK(bad == 0, "%s, main thread: still its initial values after the threads wrote theirs (mask %#x)", file, bad);

    CHECK(rl_close(h) == 0, "rl_close(%s)", path);
    CHECK(!is_mapped(path), "%s unmapped after rl_close", path);
    pthread_barrier_destroy(&loaded);
    pthread_barrier_destroy(&filled);
    pthread_barrier_destroy(&done);
    printf("%s: 8 threads (4 from before the load), distinct aligned copies\n", file);
    free(path);
}

/* One cycle: open, use in the main thread, in a thread that exits before
 * rl_close and in one that exits after it, close. */
static pthread_barrier_t cyc_touched, cyc_closed;

struct cycle_arg {
    struct api *a;
    int wait_for_close;
    int bad;
};

static void *cycle_thread(void *p)
{
    struct cycle_arg *c = p;
    c->bad = c->a->check_fresh();
    c->a->fill(5);
    c->bad |= c->a->check_filled(5) << 8;
    if (c->wait_for_close) {
        pthread_barrier_wait(&cyc_touched);
        pthread_barrier_wait(&cyc_closed);
    }
    return NULL;
}

static void cycle(const char *path)
{
    rl_handle *lib = rl_open(path, RL_NOW);
    struct api a;
    struct cycle_arg before = {&a, 0, 0}, after = {&a, 1, 0};
    pthread_t t1, t2;

    CHECK(lib != NULL, "cycle: rl_open(%s)", path);
    load_api(lib, &a);
    CHECK(a.check_fresh() == 0, "cycle: main thread's fresh copy");
    a.fill(9);
    CHECK(pthread_create(&t1, NULL, cycle_thread, &before) == 0 && pthread_create(&t2, NULL, cycle_thread, &after) == 0,
          "pthread_create");
    CHECK(pthread_join(t1, NULL) == 0, "join");
    pthread_barrier_wait(&cyc_touched);
    CHECK(a.check_filled(9) == 0, "cycle: main thread's copy");
    CHECK(rl_close(lib) == 0, "cycle: rl_close");
    pthread_barrier_wait(&cyc_closed);
    CHECK(pthread_join(t2, NULL) == 0, "join");
    CHECK(before.bad == 0 && after.bad == 0, "cycle: thread copies (%#x, %#x)", before.bad, after.bad);
}

static int map_count(void)
{
    char *maps = read_maps(), *p;
    int n = 0;
    for (p = maps; *p; p++)
        n += *p == '\n';
    free(maps);
    return n;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *paths[8];
    int nlibs = argc - 2, i, fds0, maps0;
    size_t heap0, heap1;

    CHECK(nlibs > 0 && nlibs <= 8, "usage: rt_tls DIR LIB...");
    for (i = 0; i < nlibs; i++) {
        threads_for(dir, argv[2 + i]);
        paths[i] = strf("%s/%s", dir, argv[2 + i]);
    }

    CHECK(pthread_barrier_init(&cyc_touched, NULL, 2) == 0 && pthread_barrier_init(&cyc_closed, NULL, 2) == 0,
          "barriers");
    for (i = 0; i < WARMUP; i++)
        cycle(paths[i % nlibs]);
    malloc_trim(0);
    heap0 = mallinfo2().uordblks;
    fds0 = count_fds();
    maps0 = map_count();
    for (i = 0; i < CYCLES; i++)
        cycle(paths[i % nlibs]);
    malloc_trim(0);
    heap1 = mallinfo2().uordblks;
    printf("heap in use: %zu bytes before %d cycles, %zu after\n", heap0, CYCLES, heap1);
    CHECK(heap1 < heap0 + HEAP_SLACK,
          "%d open/use/close cycles grew the heap by %zu bytes (a %d-byte TLS block per cycle would be %d)", CYCLES,
          heap1 - heap0, ZBUF, ZBUF * CYCLES);
    CHECK(count_fds() == fds0, "file descriptors leaked: %d before, %d after", fds0, count_fds());
    CHECK(map_count() <= maps0 + 8, "mappings leaked: %d before, %d after", maps0, map_count());
    for (i = 0; i < nlibs; i++)
        CHECK(!is_mapped(paths[i]), "%s unmapped", paths[i]);
    CHECKS_DONE();
}
