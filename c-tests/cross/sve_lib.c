/* libcross_sve.so: calls an SVE function of libcross_sve_dep.so through its PLT, with whole
 * vectors in z0 and z1 (wider than the q registers a lazy-binding trampoline saves). */
#include <arm_sve.h>

svfloat64_t sve_scale_add(svfloat64_t a, svfloat64_t b, double k);

double sve_sum(const double *a, const double *b, double k, int *lanes)
{
    svbool_t all = svptrue_b64();
    svfloat64_t r = sve_scale_add(svld1_f64(all, a), svld1_f64(all, b), k);
    *lanes = (int)svcntd();
    return svaddv_f64(all, r);
}
