/* An OpenMP plugin loads through rl_open although libgomp.so.1 uses
 * initial-exec TLS (DF_STATIC_TLS): relink gives libgomp's block static TLS.
 * Parallel loops give the right sums from the main thread and from threads
 * created before and after the open, every thread of a team runs with its own
 * thread number, RL_LAZY and rl_open_mem work too.
 * libgomp is opened RL_NODELETE, as a program that uses it keeps it: with
 * glibc's dlclose as well, unloading libgomp while its idle worker threads
 * exist crashes them.
 * argv[1]: fixture dir; OMP_NUM_THREADS=4 in the environment. */
#include <pthread.h>

#include "check.h"

#define TEAM 4

static double (*sum)(int);
static pthread_barrier_t loaded;

static void check_sums(const char *who)
{
    int n;
    for (n = 1; n <= 10000; n *= 10) {
        double s = sum(n);
        CHECK(s == (double)n * (n + 1) / 2, "%s: rt_omp_sum(%d) = %.0f", who, n, s);
    }
}

static void *early(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&loaded);
    check_sums("a thread from before the open");
    return NULL;
}

static void *late(void *arg)
{
    (void)arg;
    check_sums("a thread from after the open");
    return NULL;
}

static void use(rl_handle *h, const char *what)
{
    int distinct = 0, n;
    sum = SYM(h, double (*)(int), "rt_omp_sum");
    check_sums(what);
    CHECK(SYM(h, int (*)(void), "rt_omp_max_threads")() == TEAM, "%s: omp_get_max_threads() follows OMP_NUM_THREADS",
          what);
    n = SYM(h, int (*)(int *), "rt_omp_team")(&distinct);
    CHECK(n == TEAM && distinct == TEAM, "%s: %d threads ran the parallel region, %d distinct thread numbers", what, n,
          distinct);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *omp = strf("%s/librt_omp.so", dir);
    rl_handle *gomp, *h;
    pthread_t t[2];
    size_t modid = 0;
    size_t len;
    char *image;

    CHECK(!maps_mention("/libgomp.so"), "the host has no libgomp");
    CHECK(pthread_barrier_init(&loaded, NULL, 2) == 0, "barrier");
    CHECK(pthread_create(&t[0], NULL, early, NULL) == 0, "pthread_create");

    gomp = rl_open("libgomp.so.1", RL_NOW | RL_NODELETE);
    CHECK(gomp != NULL, "rl_open(libgomp.so.1)");
    CHECK(rl_info(gomp, NULL, NULL, &modid) == 0 && modid != 0, "libgomp has a TLS module id");
    h = rl_open(omp, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", omp);
    use(h, "RL_NOW");
    pthread_barrier_wait(&loaded);
    CHECK(pthread_create(&t[1], NULL, late, NULL) == 0, "pthread_create");
    CHECK(pthread_join(t[0], NULL) == 0 && pthread_join(t[1], NULL) == 0, "join");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECK(!is_mapped(omp), "the plugin is unloaded");

    h = rl_open(omp, RL_LAZY);
    CHECK(h != NULL, "rl_open(%s, RL_LAZY)", omp);
    use(h, "RL_LAZY");
    CHECK(rl_close(h) == 0, "rl_close");

    image = read_file_or_die(omp, &len);
    h = rl_open_mem(image, len, "omp-in-memory", RL_NOW);
    free(image);
    CHECK(h != NULL, "rl_open_mem(%s)", omp);
    use(h, "from memory");
    CHECK(rl_close(h) == 0, "rl_close");

    CHECK(rl_close(gomp) == 0, "rl_close(libgomp)");
    CHECK(maps_mention("/libgomp.so"), "libgomp stays loaded (RL_NODELETE)");
    printf("OpenMP sums right with a team of %d\n", TEAM);
    CHECKS_DONE();
}
