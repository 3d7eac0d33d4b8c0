/* Thread-exit code still sees the exiting thread's TLS of a relink-loaded
 * library: a pthread key destructor of the plugin reads the values the thread
 * stored in its __thread variables and frees the memory they point to. 200
 * threads must not grow the heap (no block re-created and leaked at thread
 * exit). argv[1]: fixture dir. */
#include <malloc.h>
#include <pthread.h>

#include "check.h"

#define THREADS 200
#define WARMUP 20

static void (*use)(int);

static void *worker(void *arg)
{
    use((int)(intptr_t)arg);
    return NULL;
}

static void run_threads(int from, int n)
{
    int i;
    for (i = from; i < from + n; i++) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, worker, (void *)(intptr_t)(i % 100 + 10)) == 0, "pthread_create");
        CHECK(pthread_join(t, NULL) == 0, "join");
    }
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/librt_tls_exit.so", dir);
    rl_handle *h = rl_open(path, RL_NOW);
    void (*stats)(int *, int *, int *);
    int n, bad, first;
    size_t heap0, heap1;

    CHECK(h != NULL, "rl_open(%s)", path);
    use = SYM(h, void (*)(int), "rte_use");
    stats = SYM(h, void (*)(int *, int *, int *), "rte_stats");

    run_threads(0, WARMUP);
    stats(&n, &bad, &first);
    CHECK(n == WARMUP, "the key destructor ran for %d of %d threads", n, WARMUP);
    CHECK(bad == 0,
          "%d of %d thread-exit destructors saw other values than the thread stored (the first saw rte_value = %d, "
          "its initial value is 5)",
          bad, n, first);

    malloc_trim(0);
    heap0 = mallinfo2().uordblks;
    run_threads(WARMUP, THREADS);
    malloc_trim(0);
    heap1 = mallinfo2().uordblks;
    printf("heap in use: %zu bytes before %d threads, %zu after\n", heap0, THREADS, heap1);
    stats(&n, &bad, &first);
    CHECK(n == WARMUP + THREADS && bad == 0, "destructors: %d, wrong values: %d", n, bad);
    CHECK(heap1 < heap0 + 64 * 1024, "%d threads grew the heap by %zu bytes (16 KiB of TLS each)", THREADS,
          heap1 - heap0);
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
