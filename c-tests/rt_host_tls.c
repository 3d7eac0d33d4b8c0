/* Plugins reaching a thread-local variable of the host program (static TLS,
 * glibc's) through each access model: initial exec, general dynamic, TLS
 * descriptors. Each thread gets its own copy, the one the host sees.
 * argv[1]: fixture dir; argv[2..]: library file names. */
#include <pthread.h>

#include "check.h"

__thread int rt_host_tls = 77;

struct access {
    int (*read)(void);
    int *(*addr)(void);
};

static void *in_thread(void *arg)
{
    struct access *a = arg;
    int ok = a->read() == 77 && a->addr() == &rt_host_tls;
    rt_host_tls = 5;
    ok = ok && a->read() == 5;
    return ok ? arg : NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    int i;

    CHECK(argc > 2, "usage: rt_host_tls DIR LIB...");
    for (i = 2; i < argc; i++) {
        char *path = strf("%s/%s", dir, argv[i]);
        rl_handle *h = rl_open(path, RL_NOW);
        struct access a;
        pthread_t t;
        void *res = NULL;

        CHECK(h != NULL, "rl_open(%s)", path);
        a.read = SYM(h, int (*)(void), "rt_tls_read");
        a.addr = SYM(h, int *(*)(void), "rt_tls_addr");
        rt_host_tls = 100 + i;
        CHECK(a.addr() == &rt_host_tls, "%s: the address of the host's variable in the main thread", argv[i]);
        CHECK(a.read() == 100 + i, "%s: its value", argv[i]);
        CHECK(pthread_create(&t, NULL, in_thread, &a) == 0 && pthread_join(t, &res) == 0, "thread");
        CHECK(res != NULL, "%s: another thread's own copy", argv[i]);
        CHECK(a.read() == 100 + i, "%s: the main thread's copy is unchanged", argv[i]);
        CHECK(rl_close(h) == 0, "rl_close");
        free(path);
    }
    CHECKS_DONE();
}
