/* librelink.so loaded with dlopen rather than at startup: its per-thread state is then in
 * static TLS that glibc gives a library loaded later, initialized in threads that already
 * exist. Lookups through a handle with a lookup table (its hits and misses use that state),
 * rl_error() after a miss, and lazy binding work, in the main thread and in a thread started
 * before the dlopen. The program is not linked with librelink.
 * argv[1]: fixture dir with librelink.so, libsimple.so and libsymtab_user.so (which needs
 * libsimple.so and calls it through a PLT slot). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures, checks;
#define EXPECT(cond, what)                                                   \
    do {                                                                     \
        __atomic_fetch_add(&checks, 1, __ATOMIC_RELAXED);                    \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, what); \
            __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);              \
        }                                                                    \
    } while (0)

static void *(*rl_open_)(const char *, int);
static void *(*rl_sym_)(void *, const char *);
static const char *(*rl_error_)(void);
static int (*rl_close_)(void *);
static char simple_path[4096], user_path[4096];

static void exercise(const char *who)
{
    void *h = rl_open_(simple_path, 0x2);
    EXPECT(h != NULL, who);
    void *triple = rl_sym_(h, "simple_triple");
    EXPECT(triple != NULL, "simple_triple found");
    for (int i = 0; i < 20000; i++)
        if (rl_sym_(h, "simple_triple") != triple) {
            EXPECT(0, "the same address every time");
            break;
        }
    EXPECT(rl_sym_(h, "simple_nope") == NULL, "a miss");
    const char *e = rl_error_();
    EXPECT(e != NULL && strstr(e, "libsimple.so: undefined symbol: simple_nope") != NULL, "rl_error after the miss");
    EXPECT(rl_error_() == NULL, "read once");

    void *u = rl_open_(user_path, 0x1);
    EXPECT(u != NULL, "rl_open libsymtab_user.so lazily");
    int (*user)(int) = (int (*)(int))rl_sym_(u, "symtab_user");
    EXPECT(user != NULL && user(2) == 7, "a call bound lazily");
    EXPECT(rl_close_(u) == 0 && rl_close_(h) == 0, "rl_close");
}

static pthread_barrier_t loaded;

static void *early_thread(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&loaded);
    exercise("rl_open in a thread started before the dlopen");
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char relink[4096];
    snprintf(relink, sizeof relink, "%s/librelink.so", argv[1]);
    snprintf(simple_path, sizeof simple_path, "%s/libsimple.so", argv[1]);
    snprintf(user_path, sizeof user_path, "%s/libsymtab_user.so", argv[1]);
    EXPECT(dlopen(relink, RTLD_NOLOAD | RTLD_NOW) == NULL, "librelink.so is not loaded at startup");

    pthread_t t;
    pthread_barrier_init(&loaded, NULL, 2);
    pthread_create(&t, NULL, early_thread, NULL);
    void *lib = dlopen(relink, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    rl_open_ = (void *(*)(const char *, int))dlsym(lib, "rl_open");
    rl_sym_ = (void *(*)(void *, const char *))dlsym(lib, "rl_sym");
    rl_error_ = (const char *(*)(void))dlsym(lib, "rl_error");
    rl_close_ = (int (*)(void *))dlsym(lib, "rl_close");
    EXPECT(rl_open_ && rl_sym_ && rl_error_ && rl_close_, "the exports");
    exercise("rl_open in the main thread");
    pthread_barrier_wait(&loaded);
    pthread_join(t, NULL);
    if (failures)
        return 1;
    printf("%d checks passed\n", checks);
    return 0;
}
