/* libcross_lazy.so: calls into libcross_lazy_dep.so and the C library through its PLT. */
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <link.h>

struct big {
    long v[6];
};

double mix(long, double, long, double, long, double, long, double, long, double, long, double, long, double, long,
           double, long, double, long, double);
struct big make_big(long, double);
double fmix(float, double, float, float, double, float, double, float, double, float, double, float, double, float,
            float, double);

double call_mix(long a0, double d0, long a1, double d1, long a2, double d2, long a3, double d3, long a4, double d4,
                long a5, double d5, long a6, double d6, long a7, double d7, long a8, double d8, long a9, double d9)
{
    return mix(a0, d0, a1, d1, a2, d2, a3, d3, a4, d4, a5, d5, a6, d6, a7, d7, a8, d8, a9, d9);
}

double call_fmix(float f0, double d0, float f1, float f2, double d1, float f3, double d2, float f4, double d3,
                 float f5, double d4, float f6, double d5, float f7, float f8, double d6)
{
    return fmix(f0, d0, f1, f2, d1, f3, d2, f4, d3, f5, d4, f6, d5, f7, f8, d6);
}

struct big call_big(long n, double x)
{
    return make_big(n, x);
}

int call_format(char *buf, size_t size, double a, double b, long c)
{
    return snprintf(buf, size, "%g %g %ld", a, b, c);
}

#ifdef __i386__
__attribute__((regparm(3))) long weigh3(long, long, long);

long call_weigh3(long a, long b, long c)
{
    return weigh3(a, b, c);
}
#endif

/* The words DT_PLTGOT starts with, reserved for the dynamic linker: three, two on RISC-V. */
#ifdef __riscv
#define GOT_RESERVED 2
#else
#define GOT_RESERVED 3
#endif

/* The PLT's GOT slots (DT_PLTGOT, after its reserved words) that still point into this
 * object (at PLT0: not bound yet). Bound slots point into libcross_lazy_dep.so or the C
 * library. */
extern ElfW(Dyn) _DYNAMIC[];
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
static char last_byte __attribute__((used));

int unbound_slots(void)
{
    uintptr_t base = (uintptr_t)__ehdr_start, got = 0, relsz = 0, relent = sizeof(ElfW(Rela));
    for (ElfW(Dyn) *d = _DYNAMIC; d->d_tag != DT_NULL; d++) {
        if (d->d_tag == DT_PLTGOT)
            got = d->d_un.d_ptr;
        else if (d->d_tag == DT_PLTRELSZ)
            relsz = d->d_un.d_val;
        else if (d->d_tag == DT_PLTREL && d->d_un.d_val == DT_REL)
            relent = sizeof(ElfW(Rel));
    }
    if (got < base)
        got += base;
    int n = 0;
    for (size_t i = 0; i < relsz / relent; i++) {
        uintptr_t v = ((uintptr_t *)got)[GOT_RESERVED + i];
        if (v >= base && v < (uintptr_t)&last_byte)
            n++;
    }
    return n;
}
