/* libcross_sve_dep.so: a function taking and returning SVE vectors (variant PCS). */
#include <arm_sve.h>

svfloat64_t sve_scale_add(svfloat64_t a, svfloat64_t b, double k)
{
    return svmla_n_f64_x(svptrue_b64(), a, b, k);
}
