/* libcross_lazy_dep.so: the targets of libcross_lazy.so's lazily bound calls. */
struct big {
    long v[6];
};

double mix(long a0, double d0, long a1, double d1, long a2, double d2, long a3, double d3, long a4, double d4,
           long a5, double d5, long a6, double d6, long a7, double d7, long a8, double d8, long a9, double d9)
{
    long a[10] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9};
    double d[10] = {d0, d1, d2, d3, d4, d5, d6, d7, d8, d9};
    double r = 0;
    for (int i = 0; i < 10; i++)
        r += (double)(i + 1) * (double)a[i] * (2 * i + 1) + (double)(i + 1) * (2 * i + 2) * d[i];
    return r;
}

struct big make_big(long n, double x)
{
    struct big b;
    for (int i = 0; i < 6; i++)
        b.v[i] = n * (i + 1) + (long)(x * 4);
    return b;
}

/* Single and double precision arguments mixed: with Arm's hard-float calling convention a
 * single goes into the free half of a d register that a double skipped. */
double fmix(float f0, double d0, float f1, float f2, double d1, float f3, double d2, float f4, double d3, float f5,
            double d4, float f6, double d5, float f7, float f8, double d6)
{
    float f[9] = {f0, f1, f2, f3, f4, f5, f6, f7, f8};
    double d[7] = {d0, d1, d2, d3, d4, d5, d6};
    double r = 0;
    for (int i = 0; i < 9; i++)
        r += (double)(i + 1) * f[i];
    for (int i = 0; i < 7; i++)
        r += (double)(i + 20) * d[i];
    return r;
}

#ifdef __i386__
/* Arguments in %eax, %edx and %ecx (regparm): the lazy-binding trampoline must keep them. */
__attribute__((regparm(3))) long weigh3(long a, long b, long c)
{
    return a + 10 * b + 100 * c;
}
#endif
