/* Eight threads use relink at once for a given time: each opens, looks up, calls and closes real
 * libraries from files and from memory (libz with RL_NOW and RL_LAZY, libsqlite3), opens the
 * global scope, asks rl_addr and rl_iterate_phdr, and adds and removes a lookup hook that a
 * library it opens needs. Every result is checked. A watchdog ends the process with a report
 * when no thread has finished an operation for WATCHDOG seconds (a deadlock).
 * argv: fixture dir, seconds. */
#include "check.h"

#include <pthread.h>
#include <time.h>

#define THREADS 8
#define WATCHDOG 30

static const char *dir;
static char *zimage, *zfile, *sqlite_file, *hooked_file;
static size_t zlen;
static rl_handle *simple;
static int (*simple_triple)(int);
static int stop;
static unsigned long done[THREADS];
static const char *doing[THREADS] = {"-", "-", "-", "-", "-", "-", "-", "-"};

static int provided(int x)
{
    return 2 * x;
}

static void *hook(void *user, const char *name, const char *version, const char *requester)
{
    (void)version;
    (void)requester;
    return user != NULL && strcmp(name, "stress_provided") == 0 ? (void *)provided : NULL;
}

static void check_zlib(rl_handle *h, int id)
{
    unsigned long (*bound)(unsigned long) = SYM(h, unsigned long (*)(unsigned long), "compressBound");
    int (*compress)(unsigned char *, unsigned long *, const unsigned char *, unsigned long) =
        SYM(h, int (*)(unsigned char *, unsigned long *, const unsigned char *, unsigned long), "compress");
    int (*uncompress)(unsigned char *, unsigned long *, const unsigned char *, unsigned long) =
        SYM(h, int (*)(unsigned char *, unsigned long *, const unsigned char *, unsigned long), "uncompress");
    unsigned char in[512], packed[1024], out[512];
    unsigned long plen = sizeof packed, olen = sizeof out;
    int i;
    for (i = 0; i < (int)sizeof in; i++)
        in[i] = (unsigned char)(i * id % 7);
    CHECK(strncmp(SYM(h, const char *(*)(void), "zlibVersion")(), "1.", 2) == 0, "zlibVersion");
    CHECK(bound(sizeof in) >= sizeof in, "compressBound");
    CHECK(compress(packed, &plen, in, sizeof in) == 0, "compress");
    CHECK(uncompress(out, &olen, packed, plen) == 0 && olen == sizeof in && memcmp(in, out, olen) == 0, "round trip");
}

static int count_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    CHECK(info->dlpi_name != NULL && info->dlpi_phnum > 0, "rl_iterate_phdr record");
    ++*(int *)data;
    return 0;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    unsigned seed = (unsigned)id * 2654435761u;
    void *user = &done[id];

    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        int op = (int)(rand_r(&seed) % 8);
        rl_handle *h;
        rl_addr_info ai;
        int n = 0;
        switch (op) {
        case 0:
        case 1:
            __atomic_store_n(&doing[id], op ? "libz from a file, RL_LAZY" : "libz from a file, RL_NOW", __ATOMIC_RELAXED);
            h = rl_open(zfile, op ? RL_LAZY : RL_NOW);
            CHECK(h != NULL, "thread %d: %s", id, __atomic_load_n(&doing[id], __ATOMIC_RELAXED));
            check_zlib(h, id);
            CHECK(rl_close(h) == 0, "close");
            break;
        case 2:
            __atomic_store_n(&doing[id], "libz from memory", __ATOMIC_RELAXED);
            h = rl_open_mem(zimage, zlen, "libz-from-memory.so", (id & 1) ? RL_LAZY : RL_NOW);
            CHECK(h != NULL, "thread %d: %s", id, __atomic_load_n(&doing[id], __ATOMIC_RELAXED));
            check_zlib(h, id);
            memset(&ai, 0, sizeof ai);
            CHECK(rl_addr((void *)SYM(h, void *, "compress"), &ai) && ai.sname != NULL && strcmp(ai.sname, "compress") == 0,
                  "rl_addr on compress");
            CHECK(rl_close(h) == 0, "close");
            break;
        case 3:
            __atomic_store_n(&doing[id], "libsqlite3", __ATOMIC_RELAXED);
            h = rl_open(sqlite_file, (id & 1) ? RL_NOW : RL_LAZY);
            CHECK(h != NULL, "thread %d: %s", id, __atomic_load_n(&doing[id], __ATOMIC_RELAXED));
            CHECK(SYM(h, int (*)(void), "sqlite3_libversion_number")() >= 3000000, "sqlite3_libversion_number");
            CHECK(rl_close(h) == 0, "close");
            break;
        case 4:
            __atomic_store_n(&doing[id], "the global scope", __ATOMIC_RELAXED);
            h = rl_open(NULL, RL_NOW);
            CHECK(h != NULL, "rl_open(NULL)");
            CHECK(SYM(h, size_t (*)(const char *), "strlen")("stress") == 6, "strlen through the global scope");
            CHECK(rl_sym(h, "stress_no_such_symbol") == NULL, "missing symbol");
            CHECK(rl_error() != NULL, "its message");
            CHECK(rl_close(h) == 0, "close");
            break;
        case 5:
            __atomic_store_n(&doing[id], "rl_addr", __ATOMIC_RELAXED);
            memset(&ai, 0, sizeof ai);
            CHECK(rl_addr((void *)simple_triple, &ai) && strcmp(ai.sname, "simple_triple") == 0, "rl_addr");
            CHECK(rl_addr(&ai, &ai) == 0, "rl_addr on the stack");
            CHECK(simple_triple(id) == 3 * id, "simple_triple");
            break;
        case 6:
            __atomic_store_n(&doing[id], "rl_iterate_phdr", __ATOMIC_RELAXED);
            CHECK(rl_iterate_phdr(count_object, &n) == 0 && n >= 3, "rl_iterate_phdr: %d objects", n);
            break;
        default:
            __atomic_store_n(&doing[id], "a lookup hook", __ATOMIC_RELAXED);
            CHECK(rl_hook_add(hook, user, RL_HOOK_AFTER) == 0, "rl_hook_add");
            h = rl_open(hooked_file, RL_NOW);
            CHECK(h != NULL, "thread %d: open with a hook", id);
            CHECK(SYM(h, int (*)(int), "stress_hooked")(id) == 2 * id + 1, "the hook's function");
            CHECK(rl_close(h) == 0, "close");
            CHECK(rl_hook_remove(hook, user) == 0, "rl_hook_remove");
            break;
        }
        __atomic_fetch_add(&done[id], 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void *watchdog(void *arg)
{
    unsigned long last = 0;
    int still = 0, i;
    (void)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        unsigned long now = 0;
        sleep(1);
        for (i = 0; i < THREADS; i++)
            now += __atomic_load_n(&done[i], __ATOMIC_RELAXED);
        still = now == last ? still + 1 : 0;
        last = now;
        if (still >= WATCHDOG) {
            fflush(stdout);
            fprintf(stderr, "watchdog: no operation finished for %d seconds (deadlock?)\n", WATCHDOG);
            for (i = 0; i < THREADS; i++)
                fprintf(stderr, "  thread %d: %lu operations, now in: %s\n", i, __atomic_load_n(&done[i], __ATOMIC_RELAXED),
                        __atomic_load_n(&doing[i], __ATOMIC_RELAXED));
            _exit(3);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th[THREADS], dog;
    int seconds = argc > 2 ? atoi(argv[2]) : 20, i;
    unsigned long total = 0;

    dir = fixture_dir(argc, argv);
    zfile = "/usr/lib/x86_64-linux-gnu/libz.so.1";
    sqlite_file = "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0";
    hooked_file = strf("%s/libstress_hooked.so", dir);
    zimage = read_file_or_die(zfile, &zlen);
    simple = rl_open(strf("%s/libsimple.so", dir), RL_NOW);
    CHECK(simple != NULL, "libsimple.so");
    simple_triple = SYM(simple, int (*)(int), "simple_triple");

    CHECK(pthread_create(&dog, NULL, watchdog, NULL) == 0, "watchdog");
    for (i = 0; i < THREADS; i++)
        CHECK(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) == 0, "pthread_create");
    sleep((unsigned)seconds);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(th[i], NULL) == 0, "join");
        total += done[i];
    }
    CHECK(pthread_join(dog, NULL) == 0, "join the watchdog");
    CHECK(rl_close(simple) == 0, "close libsimple.so");
    CHECK(rl_open(hooked_file, RL_NOW | RL_NOLOAD) == NULL, "the hooked library is unloaded");
    CHECK(rl_error() == NULL, "an RL_NOLOAD miss is no error");
    printf("%d threads, %d s: %lu operations\n", THREADS, seconds, total);
    CHECKS_DONE();
}
