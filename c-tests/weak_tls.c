/* A library whose weak reference to a thread-local variable stays undefined loads, as with glibc,
 * and sees the variable's address as NULL, in every thread, through general-dynamic
 * (R_X86_64_DTPMOD64/DTPOFF64) and descriptor (R_X86_64_TLSDESC) accesses alike; when a
 * dependency defines the variable, the same code reads it.
 * argv[1]: fixture dir; argv[2..]: libraries to open, each followed by the expected result of
 * weak_tls_read() ("-1": undefined). */
#include <pthread.h>

#include "check.h"

struct lib {
    rl_handle *h;
    int expected;
    const char *name;
};

static void check_lib(const struct lib *l, const char *where)
{
    int (*present)(void) = SYM(l->h, int (*)(void), "weak_tls_present");
    int (*read)(void) = SYM(l->h, int (*)(void), "weak_tls_read");
    CHECK(present() == (l->expected != -1), "%s: weak_tls_present() in %s", l->name, where);
    CHECK(read() == l->expected, "%s: weak_tls_read() in %s = %d, expected %d", l->name, where, read(), l->expected);
}

static void *thread_main(void *arg)
{
    check_lib(arg, "a second thread");
    return NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    int i, mode;
    pthread_t th;

    CHECK(argc > 3 && argc % 2 == 0, "usage: weak_tls DIR (LIB EXPECTED)...");
    for (mode = 0; mode < 2; mode++) {
        int flags = mode == 0 ? RL_NOW : RL_LAZY;
        for (i = 2; i + 1 < argc; i += 2) {
            char *path = strf("%s/%s", dir, argv[i]);
            struct lib l = {rl_open(path, flags), atoi(argv[i + 1]), argv[i]};
            CHECK(l.h != NULL, "rl_open(%s, %s)", argv[i], mode == 0 ? "RL_NOW" : "RL_LAZY");
            check_lib(&l, "the main thread");
            CHECK(pthread_create(&th, NULL, thread_main, &l) == 0, "pthread_create");
            CHECK(pthread_join(th, NULL) == 0, "pthread_join");
            CHECK(rl_close(l.h) == 0, "rl_close(%s)", argv[i]);
            CHECK(!is_mapped(path), "%s unloaded", argv[i]);
            free(path);
        }
    }
    CHECKS_DONE();
}
