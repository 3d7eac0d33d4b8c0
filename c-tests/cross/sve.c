/* A PLT call with SVE vector arguments from a library opened RL_LAZY: relink binds it at load
 * (the callee is marked variant PCS), so the vectors reach it whole. */
#include "check.h"

int main(int argc, char **argv)
{
    double a[64], b[64], want = 0;
    const char *path = strf("%s/libcross_sve.so", fixture_dir(argc, argv));
    rl_handle *h = rl_open(path, RL_LAZY);
    CHECK(h != NULL, "rl_open(%s, RL_LAZY)", path);
    double (*sum)(const double *, const double *, double, int *) =
        SYM(h, double (*)(const double *, const double *, double, int *), "sve_sum");
    for (int i = 0; i < 64; i++) {
        a[i] = i + 1;
        b[i] = 1000 * (i + 1);
    }
    int lanes = 0;
    double got = sum(a, b, 0.5, &lanes);
    for (int i = 0; i < lanes; i++)
        want += a[i] + 0.5 * b[i];
    CHECK(lanes >= 2 && got == want, "sum over %d lanes = %g, want %g", lanes, got, want);
    printf("%d lanes\n", lanes);
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
