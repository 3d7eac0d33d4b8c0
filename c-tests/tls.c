/* Thread-local variables in a loaded library, including in a thread that
 * existed before the library was loaded. argv[1]: fixture dir. */
#include <pthread.h>

#include "check.h"

static rl_handle *h;
static pthread_barrier_t loaded, done;

struct result {
    int bump1, bump2, zeroed;
    int *addr;
    void *sym_addr;
};

static void use_tls(struct result *r)
{
    int (*bump)(void) = SYM(h, int (*)(void), "tls_bump");
    int *(*addr)(void) = SYM(h, int *(*)(void), "tls_addr");
    int (*zsum)(void) = SYM(h, int (*)(void), "tls_zeroed_sum");
    r->bump1 = bump();
    r->bump2 = bump();
    r->zeroed = zsum();
    r->addr = addr();
    r->sym_addr = rl_sym(h, "tls_counter");
}

static void *early_thread(void *arg)
{
    pthread_barrier_wait(&loaded);
    use_tls(arg);
    pthread_barrier_wait(&done);
    return NULL;
}

static void *late_thread(void *arg)
{
    use_tls(arg);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/libtls.so", dir);
    struct result main_r, early_r, late_r;
    pthread_t early, late;

    CHECK(pthread_barrier_init(&loaded, NULL, 2) == 0 && pthread_barrier_init(&done, NULL, 2) == 0, "barriers");
    CHECK(pthread_create(&early, NULL, early_thread, &early_r) == 0, "pthread_create");

    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    use_tls(&main_r);
    CHECK(main_r.bump1 == 6 && main_r.bump2 == 7, "main: tls_counter starts at its initializer 5: %d %d",
          main_r.bump1, main_r.bump2);
    CHECK(main_r.zeroed == 0, "main: .tbss starts zeroed");
    CHECK(main_r.sym_addr == main_r.addr, "rl_sym of a TLS variable gives the calling thread's copy");

    pthread_barrier_wait(&loaded);
    pthread_barrier_wait(&done);
    CHECK(pthread_join(early, NULL) == 0, "join");
    CHECK(early_r.bump1 == 6 && early_r.bump2 == 7, "thread started before loading: %d %d", early_r.bump1,
          early_r.bump2);
    CHECK(early_r.zeroed == 0, "early thread: .tbss zeroed");
    CHECK(early_r.addr != main_r.addr, "each thread has its own copy");
    CHECK(early_r.sym_addr == early_r.addr, "rl_sym in the early thread");

    CHECK(pthread_create(&late, NULL, late_thread, &late_r) == 0, "pthread_create");
    CHECK(pthread_join(late, NULL) == 0, "join");
    CHECK(late_r.bump1 == 6 && late_r.bump2 == 7, "thread started after loading: %d %d", late_r.bump1,
          late_r.bump2);
    CHECK(late_r.addr != main_r.addr, "its own copy");

    CHECK(*main_r.addr == 7, "main thread's value untouched by the others");
    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(path), "unmapped");
    CHECKS_DONE();
}
