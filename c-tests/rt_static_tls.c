/* Initial-exec (static) TLS in relink-loaded code. A library that reaches its
 * own thread-local variables initial-exec (DF_STATIC_TLS, or only its TPOFF
 * relocations say so) gets a static TLS block: 6 threads,
 * 3 started before rl_open and 3 after, each find every variable initialized
 * (.tdata copied, .tbss zeroed), at the same offset from their thread pointer;
 * the library's initial-exec, general/local dynamic and descriptor accesses,
 * rl_sym and rl_iterate_phdr all see that one block; writes stay per thread.
 * Also from memory, over 100 open/close cycles (the space is given back), and
 * refusals that leave nothing behind: a block larger than glibc's spare static
 * TLS (the message names the tunable that enlarges it), an initialization image
 * that needs relocation, initial-exec access to another relink-loaded
 * library's dynamic TLS.
 * argv[1]: fixture dir. argv[2] = "tunable": run with a larger
 * glibc.rtld.optional_static_tls; only the large block is checked, and loads. */
#include "refused.h"

#include <link.h>
#include <pthread.h>

#include "fixtures/rt_static_tls.h"

#define EARLY 3
#define LATE 3
#define THREADS (EARLY + LATE)
#define CYCLES 100

/* Reached initial-exec: the first five; general dynamic (or a descriptor):
 * rt_st_gd; local dynamic (or a descriptor): rt_st_ld. */
static const char *const var_names[RT_ST_NVARS] = {"rt_st_int", "rt_st_tag", "rt_st_a64", "rt_st_zbuf",
                                                    "rt_st_hidden", "rt_st_gd", "rt_st_ld"};
static const size_t var_align[RT_ST_NVARS] = {4, 1, 64, 1, 4, 4, 2};
static const size_t var_size[RT_ST_NVARS] = {4, 16, 8, RT_ST_ZBUF, 4, 4, 2};
static const int var_exported[RT_ST_NVARS] = {1, 1, 1, 1, 0, 1, 0};

struct api {
    void (*addrs)(void **);
    int (*check_fresh)(void);
    void (*fill)(unsigned);
    int (*check_filled)(unsigned);
};

static rl_handle *h;
static struct api api;
static const char *lib_name;
static pthread_barrier_t loaded, filled, done;
static void *addrs[THREADS + 1][RT_ST_NVARS];
static intptr_t offsets[THREADS + 1][RT_ST_NVARS];

static uintptr_t thread_pointer(void)
{
    uintptr_t tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    return tp;
}

static void load_api(rl_handle *lib, struct api *a)
{
    a->addrs = SYM(lib, void (*)(void **), "rt_st_addrs");
    a->check_fresh = SYM(lib, int (*)(void), "rt_st_check_fresh");
    a->fill = SYM(lib, void (*)(unsigned), "rt_st_fill");
    a->check_filled = SYM(lib, int (*)(unsigned), "rt_st_check_filled");
}

/* Records this thread's addresses of the variables (each reached through
 * its own model) in addrs[me], and their offsets from the thread pointer in
 * offsets[me]; rl_sym must agree with the library. */
static void same_block(int me)
{
    int v;
    api.addrs(addrs[me]);
    for (v = 0; v < RT_ST_NVARS; v++) {
        CHECK((uintptr_t)addrs[me][v] % var_align[v] == 0, "%s, thread %d: %s at %p is not %zu-aligned", lib_name, me,
              var_names[v], addrs[me][v], var_align[v]);
        if (var_exported[v])
            CHECK(rl_sym(h, var_names[v]) == addrs[me][v], "%s, thread %d: rl_sym(%s) = %p, the library's is %p",
                  lib_name, me, var_names[v], rl_sym(h, var_names[v]), addrs[me][v]);
        offsets[me][v] = (intptr_t)((uintptr_t)addrs[me][v] - thread_pointer());
    }
    CHECK(rl_sym(h, "rt_st_hidden") == NULL, "the hidden variable is not exported");
    (void)rl_error();
}

/* The variables must hold what rt_st_fill(seed) wrote. */
static void expect_filled(int me, unsigned seed, const char *when)
{
    int bad = api.check_filled(seed);
    CHECK(bad == 0, "%s, thread %d, %s: its own values are gone (mask %#x)", lib_name, me, when, bad);
}

static void use_own_copy(int me)
{
    unsigned seed = 100u + (unsigned)me * 17u;
    int bad = api.check_fresh();
    CHECK(bad == 0, "%s, thread %d: variables do not start at their initial values (mask %#x)", lib_name, me, bad);
    same_block(me);
    api.fill(seed);
    expect_filled(me, seed, "right after writing them");
    pthread_barrier_wait(&filled);
    expect_filled(me, seed, "after every thread wrote its own");
    CHECK(*(int *)rl_sym(h, "rt_st_int") == (int)seed, "%s, thread %d: rt_st_int through rl_sym", lib_name, me);
}

/* Threads 0 .. EARLY-1 start before rl_open and wait for it. */
static void *thread_main(void *arg)
{
    int me = (int)(intptr_t)arg;
    if (me < EARLY)
        pthread_barrier_wait(&loaded);
    use_own_copy(me);
    pthread_barrier_wait(&done);
    return NULL;
}

struct phdr_walk {
    const char *name;
    size_t modid;
    uintptr_t data, memsz;
    int found, stubs;
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *p)
{
    struct phdr_walk *w = p;
    int i;
    (void)size;
    if (info->dlpi_name != NULL && strncmp(info->dlpi_name, "/proc/self/fd/", 14) == 0)
        w->stubs++;
    if (info->dlpi_name == NULL || strcmp(info->dlpi_name, w->name) != 0)
        return 0;
    w->found++;
    w->modid = info->dlpi_tls_modid;
    w->data = (uintptr_t)info->dlpi_tls_data;
    for (i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_TLS)
            w->memsz = info->dlpi_phdr[i].p_memsz;
    return 0;
}

/* The system loader's own list, for the objects relink has it load. */
static int stubs_cb(struct dl_phdr_info *info, size_t size, void *p)
{
    (void)size;
    if (info->dlpi_name != NULL && strncmp(info->dlpi_name, "/proc/self/fd/", 14) == 0)
        ++*(int *)p;
    return 0;
}

static int system_stubs(void)
{
    int n = 0;
    dl_iterate_phdr(stubs_cb, &n);
    return n;
}

/* rl_info and rl_iterate_phdr describe the block the main thread uses. */
static void introspection(const char *path)
{
    struct phdr_walk w;
    size_t modid = 0;
    int v;
    memset(&w, 0, sizeof w);
    w.name = path;
    CHECK(rl_info(h, NULL, NULL, &modid) == 0 && modid != 0, "%s: rl_info gives a TLS module id", lib_name);
    CHECK(rl_iterate_phdr(phdr_cb, &w) == 0 && w.found == 1, "%s: rl_iterate_phdr lists it once", lib_name);
    CHECK(w.stubs == 0, "rl_iterate_phdr lists %d objects named /proc/self/fd/N", w.stubs);
    CHECK(w.modid == modid, "%s: dlpi_tls_modid %zu, rl_info %zu", lib_name, w.modid, modid);
    for (v = 0; v < RT_ST_NVARS; v++) {
        uintptr_t a = (uintptr_t)addrs[THREADS][v];
        CHECK(w.data != 0 && a >= w.data && a + var_size[v] <= w.data + w.memsz,
              "%s: %s at %#lx outside dlpi_tls_data %#lx + PT_TLS memsz %#lx", lib_name, var_names[v],
              (unsigned long)a, (unsigned long)w.data, (unsigned long)w.memsz);
    }
}

static void threads_for(const char *dir, const char *file, int flags)
{
    char *path = strf("%s/%s", dir, file);
    pthread_t t[THREADS];
    int i, j, v, bad;

    lib_name = file;
    CHECK(pthread_barrier_init(&loaded, NULL, EARLY + 1) == 0, "barrier");
    CHECK(pthread_barrier_init(&filled, NULL, THREADS) == 0, "barrier");
    CHECK(pthread_barrier_init(&done, NULL, THREADS + 1) == 0, "barrier");
    for (i = 0; i < THREADS; i++) {
        if (i == EARLY) {
            /* The early threads exist: open, and let them go. */
            h = rl_open(path, flags);
            CHECK(h != NULL, "rl_open(%s)", path);
            load_api(h, &api);
            bad = api.check_fresh();
            CHECK(bad == 0, "%s, main thread: initial values (mask %#x)", file, bad);
            same_block(THREADS);
            introspection(path);
            pthread_barrier_wait(&loaded);
        }
        CHECK(pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i) == 0, "pthread_create");
    }
    pthread_barrier_wait(&done);
    for (i = 0; i < THREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "join");

    /* One block at one offset: every model reaches it in every thread. */
    for (i = 0; i < THREADS; i++)
        for (v = 0; v < RT_ST_NVARS; v++)
            CHECK(offsets[i][v] == offsets[THREADS][v],
                  "%s: thread %d's %s at thread pointer %+ld, the main thread's at %+ld", file, i, var_names[v],
                  (long)offsets[i][v], (long)offsets[THREADS][v]);
    for (v = 0; v < RT_ST_NVARS; v++)
        for (i = 0; i <= THREADS; i++)
            for (j = i + 1; j <= THREADS; j++)
                CHECK((uintptr_t)addrs[i][v] + var_size[v] <= (uintptr_t)addrs[j][v] ||
                          (uintptr_t)addrs[j][v] + var_size[v] <= (uintptr_t)addrs[i][v],
                      "%s: %s of thread %d (%p) and thread %d (%p) overlap", file, var_names[v], i, addrs[i][v], j,
                      addrs[j][v]);
    bad = api.check_fresh();
    CHECK(bad == 0, "%s, main thread: still its initial values after the threads wrote theirs (mask %#x)", file, bad);
    CHECK(system_stubs() == 1, "the system loader holds one object for the block");

    CHECK(rl_close(h) == 0, "rl_close(%s)", path);
    CHECK(!is_mapped(path), "%s unmapped after rl_close", path);
    CHECK(system_stubs() == 0 && !maps_mention("relink static TLS"), "the block's object is unloaded with it");
    pthread_barrier_destroy(&loaded);
    pthread_barrier_destroy(&filled);
    pthread_barrier_destroy(&done);
    printf("%s: block at thread pointer %+ld in 7 threads (3 from before the load)\n", file,
           (long)offsets[THREADS][0]);
    free(path);
}

static void from_memory(const char *dir, const char *file)
{
    char *path = strf("%s/%s", dir, file);
    size_t len;
    char *image = read_file_or_die(path, &len);
    int bad;
    h = rl_open_mem(image, len, "static-tls-in-memory", RL_NOW);
    free(image);
    CHECK(h != NULL, "rl_open_mem(%s)", path);
    lib_name = "static-tls-in-memory";
    load_api(h, &api);
    bad = api.check_fresh();
    CHECK(bad == 0, "from memory: initial values (mask %#x)", bad);
    same_block(THREADS);
    CHECK(rl_close(h) == 0, "rl_close");
    CHECK(system_stubs() == 0, "the block's object is unloaded with it");
    free(path);
}

/* Without the space coming back at each close, glibc's spare static TLS would
 * run out after a few cycles. */
static void cycles(const char *dir, const char *file)
{
    char *path = strf("%s/%s", dir, file);
    int i, bad;
    for (i = 0; i < CYCLES; i++) {
        h = rl_open(path, i % 2 ? RL_LAZY : RL_NOW);
        CHECK(h != NULL, "cycle %d: rl_open(%s)", i, path);
        load_api(h, &api);
        bad = api.check_fresh();
        api.fill((unsigned)i);
        bad |= api.check_filled((unsigned)i) << 8;
        CHECK(bad == 0, "cycle %d: mask %#x", i, bad);
        CHECK(rl_close(h) == 0, "cycle %d: rl_close", i);
    }
    CHECK(system_stubs() == 0 && !is_mapped(path), "nothing left after %d cycles", CYCLES);
    printf("%d open/close cycles\n", CYCLES);
    free(path);
}

static void *big_thread(void *p)
{
    char *(*addr)(void) = (char *(*)(void))p;
    CHECK(strcmp(addr(), "big") == 0, "the large block in a new thread");
    return NULL;
}

static void tunable(const char *dir)
{
    char *path = strf("%s/librt_static_tls_big.so", dir);
    char *(*addr)(void);
    pthread_t t;
    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "with a larger glibc.rtld.optional_static_tls, rl_open(%s)", path);
    addr = SYM(h, char *(*)(void), "rt_st_big_addr");
    CHECK(strcmp(addr(), "big") == 0, "the large block in the main thread");
    CHECK(pthread_create(&t, NULL, big_thread, (void *)addr) == 0 && pthread_join(t, NULL) == 0, "thread");
    CHECK(rl_close(h) == 0, "rl_close");
    free(path);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *big = strf("%s/librt_static_tls_big.so", dir), *reloc = strf("%s/librt_static_tls_reloc.so", dir);
    char *other = strf("%s/librt_tls_ie_other.so", dir);

    if (argc > 2 && strcmp(argv[2], "tunable") == 0) {
        tunable(dir);
        CHECKS_DONE();
    }
    CHECK(system_stubs() == 0, "no object for a block before the first open");
    threads_for(dir, "librt_static_tls.so", RL_NOW);
    threads_for(dir, "librt_static_tls_desc.so", RL_LAZY);
    /* Without DF_STATIC_TLS: its TPOFF relocations say it. */
    threads_for(dir, "librt_static_tls_noflag.so", RL_NOW);
    from_memory(dir, "librt_static_tls.so");
    cycles(dir, "librt_static_tls.so");

    REFUSED_FROM_FILE(big, "static TLS", "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=");
    REFUSED_FROM_MEMORY(big, "big-in-memory", "static TLS", "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=");
    REFUSED_FROM_FILE(reloc, "static TLS", "relocated");
    /* (Its dependency is searched for: the first search maps the loader cache.) */
    CHECK(rl_open(other, RL_NOW) == NULL, "initial-exec access to another relink-loaded library's TLS is refused");
    EXPECT_ERROR_SHOW("static TLS", "librt_tls_ie_other.so", "rt_probe", "librt_tls_gd.so");
    CHECK(!is_mapped(other) && !maps_mention("/librt_tls_gd.so") && system_stubs() == 0, "nothing left mapped");
    CHECKS_DONE();
}
