/* An IFUNC resolver run by rl_sym calls rl_sym itself while another thread
 * is committing an open (waiting to write the registry). The resolver must
 * run without relink's lock: otherwise its lookup waits for the writer, which
 * waits for the lookup. argv[1]: fixture dir with libifunc_reenter.so and
 * libsimple.so. */
#include <pthread.h>
#include <signal.h>

#include "check.h"

static rl_handle *lib;
static char *other;
static rl_handle *other_handle;
static pthread_t opener;

static void *open_other(void *arg)
{
    (void)arg;
    other_handle = rl_open(other, RL_NOW);
    return NULL;
}

void reenter_hook(void)
{
    int *plain;
    CHECK(pthread_create(&opener, NULL, open_other, NULL) == 0, "pthread_create");
    /* Let the other thread map its library and queue up to commit it. */
    usleep(200000);
    plain = SYM(lib, int *, "reenter_plain");
    CHECK(*plain == 5, "lookup from inside the resolver");
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    int (*fn)(void);
    /* A deadlock ends the test with SIGALRM. */
    alarm(30);
    other = strf("%s/libsimple.so", dir);
    lib = rl_open(strf("%s/libifunc_reenter.so", dir), RL_NOW);
    CHECK(lib != NULL, "rl_open");
    fn = SYM(lib, int (*)(void), "reenter_fn");
    CHECK(fn() == 99, "the resolver's choice");
    CHECK(pthread_join(opener, NULL) == 0, "pthread_join");
    CHECK(other_handle != NULL, "the other thread's open");
    CHECK(rl_close(other_handle) == 0 && rl_close(lib) == 0, "rl_close");
    CHECKS_DONE();
}
