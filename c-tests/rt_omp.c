/* An OpenMP plugin needs libgomp.so.1, which uses initial-exec (static) TLS
 * (DF_STATIC_TLS): relink refuses it at open with a message saying so, and
 * leaves nothing mapped or open. The same code built without -fopenmp loads
 * and runs. argv[1]: fixture dir. */
#include "check.h"

static void expect_refused(const char *what, int flags, const char *plugin)
{
    int fds = count_fds();
    CHECK(rl_open(what, flags) == NULL, "rl_open(%s) must be refused", what);
    EXPECT_ERROR_SHOW("static TLS", "libgomp.so.1");
    CHECK(!maps_mention("/libgomp.so"), "libgomp left mapped after the refusal of %s", what);
    CHECK(plugin == NULL || !is_mapped(plugin), "%s left mapped", plugin);
    CHECK(count_fds() == fds, "file descriptors: %d before, %d after", fds, count_fds());
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *omp = strf("%s/librt_omp.so", dir), *plain = strf("%s/librt_omp_serial.so", dir);
    rl_handle *h;
    double sum;

    CHECK(!maps_mention("/libgomp.so"), "the host has no libgomp");
    expect_refused(omp, RL_NOW, omp);
    expect_refused(omp, RL_LAZY, omp);
    expect_refused("libgomp.so.1", RL_NOW, NULL);
    CHECK(rl_open(omp, RL_NOW | RL_NOLOAD) == NULL, "not loaded after all");
    CHECK(rl_error() == NULL, "an RL_NOLOAD miss is no error");

    h = rl_open(plain, RL_NOW);
    CHECK(h != NULL, "the same code without OpenMP loads");
    sum = SYM(h, double (*)(int), "rt_omp_sum")(1000);
    CHECK(sum == 500500.0, "rt_omp_sum(1000) = %g", sum);
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
