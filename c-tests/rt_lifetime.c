/* C++ object lifetimes in a plugin loaded through relink. rl_close runs the
 * destructor of its static object. A thread_local object touched by a thread
 * that is still alive when the plugin is closed keeps the plugin mapped; when
 * the thread exits its destructor runs (on intact memory), nothing crashes,
 * and the plugin is unmapped afterwards. argv[1]: fixture dir. */
#include <pthread.h>
#include <time.h>

#include "check.h"

#define MAX_LOG 64

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *log_lines[MAX_LOG];
static int log_n;

void rt_host_log(const char *what)
{
    pthread_mutex_lock(&log_mu);
    if (log_n < MAX_LOG)
        log_lines[log_n++] = strdup(what);
    pthread_mutex_unlock(&log_mu);
}

static int log_count(const char *what)
{
    int i, n = 0;
    pthread_mutex_lock(&log_mu);
    for (i = 0; i < log_n; i++)
        n += strcmp(log_lines[i], what) == 0;
    pthread_mutex_unlock(&log_mu);
    return n;
}

static char *log_text(void)
{
    static char buf[4096];
    int i;
    buf[0] = '\0';
    pthread_mutex_lock(&log_mu);
    for (i = 0; i < log_n; i++) {
        strncat(buf, log_lines[i], sizeof buf - strlen(buf) - 2);
        strcat(buf, " ");
    }
    pthread_mutex_unlock(&log_mu);
    return buf;
}

static pthread_barrier_t touched, release;
static int (*touch)(void);
static int touch_results[2];

static void *toucher(void *arg)
{
    (void)arg;
    touch_results[0] = touch();
    touch_results[1] = touch();
    pthread_barrier_wait(&touched);
    pthread_barrier_wait(&release);
    return NULL;
}

static int wait_unmapped(const char *path)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    int i;
    for (i = 0; i < 200; i++) {
        if (!is_mapped(path))
            return 1;
        nanosleep(&ts, NULL);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/librt_lifetime.so", dir);
    rl_handle *h;
    pthread_t t;

    /* The static object: constructed at open, destroyed by rl_close. */
    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    CHECK(log_n == 1 && log_count("static_ctor") == 1, "after rl_open: %s", log_text());
    CHECK(SYM(h, int (*)(void), "rtl_static_ok")() == 1, "the static object is alive");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECK(log_n == 2 && strcmp(log_lines[1], "static_dtor") == 0, "rl_close runs the static destructor: %s",
          log_text());
    CHECK(!is_mapped(path), "unmapped after rl_close");

    /* The thread_local object of a thread that outlives rl_close. */
    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s) again", path);
    CHECK(log_n == 3 && strcmp(log_lines[2], "static_ctor") == 0, "constructed again: %s", log_text());
    touch = SYM(h, int (*)(void), "rtl_touch");
    CHECK(pthread_barrier_init(&touched, NULL, 2) == 0 && pthread_barrier_init(&release, NULL, 2) == 0, "barriers");
    CHECK(pthread_create(&t, NULL, toucher, NULL) == 0, "pthread_create");
    pthread_barrier_wait(&touched);
    CHECK(touch_results[0] == 1 && touch_results[1] == 2, "the thread's own thread_local: %d %d", touch_results[0],
          touch_results[1]);
    CHECK(log_count("tl_ctor") == 1 && log_count("tl_dtor") == 0, "constructed once in that thread: %s", log_text());

    CHECK(rl_close(h) == 0, "rl_close while the thread's thread_local is alive");
    CHECK(is_mapped(path), "a pending thread_local destructor keeps the plugin mapped after rl_close");
    CHECK(log_count("tl_dtor") == 0, "the thread_local is not destroyed before its thread exits: %s", log_text());

    pthread_barrier_wait(&release);
    CHECK(pthread_join(t, NULL) == 0, "join");
    CHECK(log_count("tl_dtor") == 1, "the thread_local destructor ran once, on intact memory: %s", log_text());
    CHECK(log_count("tl_dtor_corrupt") == 0 && log_count("static_dtor_corrupt") == 0, "no corrupt object: %s",
          log_text());
    CHECK(wait_unmapped(path), "the plugin is unmapped once the destructor has run");
    CHECK(log_count("static_dtor") == 2 && log_count("static_ctor") == 2, "static destructor ran for the second load: %s",
          log_text());
    printf("log: %s\n", log_text());
    CHECKS_DONE();
}
