/* First calls through PLT slots of a library opened RL_LAZY neither ask the system loader
 * anything nor wait for it: they go through while another thread sits inside glibc's
 * dl_iterate_phdr (holding the lock glibc's loader takes to list its objects). An alarm ends
 * the program if they wait. argv[1]: directory of liblazy_many.so. */
#include "check.h"
#include "lazy_many.h"

#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int inside, release;

static int hold(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)info, (void)size, (void)data;
    pthread_mutex_lock(&mu);
    inside = 1;
    pthread_cond_broadcast(&cv);
    while (!release)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return 1;
}

static void *holder(void *arg)
{
    (void)arg;
    dl_iterate_phdr(hold, NULL);
    return NULL;
}

static void timeout(int sig)
{
    (void)sig;
    static const char msg[] = "lazy first calls waited for the system loader's lock\n";
    write(2, msg, sizeof msg - 1);
    _exit(1);
}

int main(int argc, char **argv)
{
    int (*rest)(void);
    rl_handle *h = open_lazy_many(argc, argv, &rest);

    pthread_t t;
    CHECK(pthread_create(&t, NULL, holder, NULL) == 0, "pthread_create");
    pthread_mutex_lock(&mu);
    while (!inside)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    signal(SIGALRM, timeout);
    alarm(10);
    int sum = rest();
    alarm(0);
    CHECK(sum == 2 + 3 + 4 + 5 + 6 + 7 + 8, "lm_f2 ... lm_f8 through their PLT slots: %d", sum);

    pthread_mutex_lock(&mu);
    release = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    CHECK(pthread_join(t, NULL) == 0, "join");
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
