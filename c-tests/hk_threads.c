/* Global hooks added and removed while other threads open libraries: 4
 * threads loop rl_open / rl_sym / call / rl_close on libhk_mt<i>.so for about
 * a second while the main thread adds and removes an RL_HOOK_BEFORE hook
 * (which redirects hk_mt_a and hk_mt_b), an RL_HOOK_AFTER hook, an event
 * callback and an rl_define. hk_mt_value() is 11 unhooked and 22 hooked; an
 * RL_NOW open binds both references with one set of hooks, so 12 or 21 is a
 * torn open. argv[1]: fixture dir. */
#include <pthread.h>
#include <time.h>

#include "check.h"

#define THREADS 4

int hk_mt_a(void);
int hk_mt_b(void);

int hk_mt_a(void)
{
    return 1;
}

int hk_mt_b(void)
{
    return 1;
}

static int hooked_a(void)
{
    return 2;
}

static int hooked_b(void)
{
    return 2;
}

static int hook_calls, after_calls, events;

static void *before_hook(void *user, const char *name, const char *version, const char *requester)
{
    (void)user;
    (void)version;
    if (strstr(requester, "libhk_mt") == NULL)
        return NULL;
    __atomic_fetch_add(&hook_calls, 1, __ATOMIC_RELAXED);
    if (strcmp(name, "hk_mt_a") == 0)
        return (void *)hooked_a;
    if (strcmp(name, "hk_mt_b") == 0)
        return (void *)hooked_b;
    return NULL;
}

static void *after_hook(void *user, const char *name, const char *version, const char *requester)
{
    (void)user;
    (void)name;
    (void)version;
    (void)requester;
    __atomic_fetch_add(&after_calls, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void on_event(void *user, int event, const char *path, void *base, rl_handle *h)
{
    (void)user;
    (void)event;
    (void)path;
    (void)base;
    (void)h;
    __atomic_fetch_add(&events, 1, __ATOMIC_RELAXED);
}

static const char *dir;
static int stop;
static pthread_barrier_t start;

struct result {
    long opens, hooked, unhooked, torn_lazy;
};

static struct result results[THREADS];

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    char *path = strf("%s/libhk_mt%d.so", dir, id);
    struct result *r = &results[id];

    pthread_barrier_wait(&start);
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        /* Threads 0 and 1 bind at open; 2 and 3 alternate with lazy binding. */
        int lazy = id >= 2 && (r->opens & 1);
        rl_handle *h = rl_open(path, lazy ? RL_LAZY : RL_NOW);
        int v;
        CHECK(h != NULL, "thread %d: rl_open(%s)", id, path);
        v = SYM(h, int (*)(void), "hk_mt_value")();
        if (v == 22)
            r->hooked++;
        else if (v == 11)
            r->unhooked++;
        else if (lazy && (v == 12 || v == 21))
            r->torn_lazy++;
        else
            CHECK(0, "thread %d (%s): hk_mt_value() = %d: neither hooked (22) nor unhooked (11)", id,
                  lazy ? "RL_LAZY" : "RL_NOW", v);
        r->opens++;
        CHECK(rl_close(h) == 0, "thread %d: rl_close", id);
    }
    free(path);
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    pthread_t t[THREADS];
    long toggles = 0, total = 0, hooked = 0, unhooked = 0;
    double t0;
    int i, dummy = 0;

    dir = fixture_dir(argc, argv);
    pthread_barrier_init(&start, NULL, THREADS + 1);
    for (i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) == 0, "pthread_create");
    pthread_barrier_wait(&start);
    t0 = now();
    while (now() - t0 < 1.0) {
        CHECK(rl_hook_add(before_hook, NULL, RL_HOOK_BEFORE) == 0, "rl_hook_add(BEFORE)");
        CHECK(rl_hook_add(after_hook, &dummy, RL_HOOK_AFTER) == 0, "rl_hook_add(AFTER)");
        CHECK(rl_define("hk_mt_unused_name", &dummy) == 0, "rl_define");
        CHECK(rl_on_event(on_event, NULL) == 0, "rl_on_event");
        usleep(200);
        CHECK(rl_hook_remove(before_hook, NULL) == 0, "rl_hook_remove(BEFORE)");
        CHECK(rl_hook_remove(after_hook, &dummy) == 0, "rl_hook_remove(AFTER)");
        CHECK(rl_undefine("hk_mt_unused_name") == 0, "rl_undefine");
        CHECK(rl_off_event(on_event, NULL) == 0, "rl_off_event");
        usleep(200);
        toggles++;
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(t[i], NULL) == 0, "pthread_join");
        printf("thread %d: %ld opens, %ld hooked, %ld unhooked, %ld torn lazy\n", i, results[i].opens,
               results[i].hooked, results[i].unhooked, results[i].torn_lazy);
        CHECK(results[i].opens > 10, "thread %d made progress", i);
        total += results[i].opens;
        hooked += results[i].hooked;
        unhooked += results[i].unhooked;
    }
    printf("%ld hook toggles, %ld opens, %d before-hook calls, %d after-hook calls, %d events\n", toggles, total,
           hook_calls, after_calls, events);
    CHECK(hooked > 0 && unhooked > 0, "both outcomes were seen (%ld hooked, %ld unhooked)", hooked, unhooked);

    /* Afterwards nothing is hooked. */
    for (i = 0; i < THREADS; i++) {
        char *path = strf("%s/libhk_mt%d.so", dir, i);
        rl_handle *h = rl_open(path, RL_NOW);
        CHECK(h != NULL && SYM(h, int (*)(void), "hk_mt_value")() == 11, "libhk_mt%d.so unhooked at the end", i);
        CHECK(rl_close(h) == 0 && !is_mapped(path), "closed");
        free(path);
    }
    CHECKS_DONE();
}
