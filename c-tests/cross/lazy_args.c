/* Lazy binding through the target machine's PLT and relink's trampoline: calls with more
 * integer and floating-point arguments than there are argument registers (so some go on the
 * stack), single and double precision mixed, a struct returned through memory (the indirect
 * result register on aarch64), a variadic call with doubles into the C library and, on i386, a
 * regparm call (arguments in %eax, %edx, %ecx), each bound on its first call, with a lookup
 * hook that uses the floating-point registers. */
#include "check.h"

struct big {
    long v[6];
};

typedef double (*mix_fn)(long, double, long, double, long, double, long, double, long, double, long, double, long,
                         double, long, double, long, double, long, double);
typedef double (*fmix_fn)(float, double, float, float, double, float, double, float, double, float, double, float,
                          double, float, float, double);
typedef struct big (*big_fn)(long, double);
typedef int (*fmt_fn)(char *, size_t, double, double, long);
typedef int (*count_fn)(void);

/* A lookup hook consulted by every binding: its floating-point work overwrites the registers
 * that carry the bound call's floating-point arguments, unless the trampoline keeps them. */
static volatile double hook_sink;
static void *fp_hook(void *user, const char *name, const char *version, const char *requester)
{
    (void)user, (void)version, (void)requester;
    double a[8];
    for (int i = 0; i < 8; i++)
        a[i] = hook_sink + (double)strlen(name) * (i + 3);
    hook_sink = ((a[0] * a[1] + a[2]) / (a[3] + 1)) * ((a[4] - a[5]) * (a[6] + a[7]));
    return NULL;
}

int main(int argc, char **argv)
{
    const char *path = strf("%s/libcross_lazy.so", fixture_dir(argc, argv));
    rl_handle *h = rl_open(path, RL_LAZY);
    CHECK(h != NULL, "rl_open(%s, RL_LAZY)", path);
    mix_fn call_mix = SYM(h, mix_fn, "call_mix");
    fmix_fn call_fmix = SYM(h, fmix_fn, "call_fmix");
    big_fn call_big = SYM(h, big_fn, "call_big");
    fmt_fn call_format = SYM(h, fmt_fn, "call_format");
    count_fn bindings = SYM(h, count_fn, "unbound_slots");
    CHECK(rl_hook_add(fp_hook, NULL, RL_HOOK_BEFORE) == 0, "rl_hook_add");
    int before = bindings();
    CHECK(before >= 3, "the PLT slots are not bound before the first calls (%d unbound)", before);

    for (int round = 0; round < 2; round++) {
        double r = call_mix(1, 0.5, 2, 1.5, 3, 2.5, 4, 3.5, 5, 4.5, 6, 5.5, 7, 6.5, 8, 7.5, 9, 8.5, 10, 9.5);
        /* mix() weighs argument i by i + 1, so a register or stack slot out of place shows. */
        double want = 0;
        for (int i = 0; i < 10; i++)
            want += (double)(i + 1) * (double)(i + 1) * (2 * i + 1) + (double)(i + 1) * (2 * i + 2) * (i + 0.5);
        CHECK(r == want, "call_mix round %d = %.17g, want %.17g", round, r, want);
        /* Singles i / 2 weighed by i, doubles i / 4 weighed by i + 19 (i from 1). */
        double f = call_fmix(0.5f, 0.25, 1.0f, 1.5f, 0.5, 2.0f, 0.75, 2.5f, 1.0, 3.0f, 1.25, 3.5f, 1.5, 4.0f, 4.5f, 1.75);
        double fwant = 0;
        for (int i = 1; i <= 9; i++)
            fwant += i * (i / 2.0);
        for (int i = 1; i <= 7; i++)
            fwant += (i + 19) * (i / 4.0);
        CHECK(f == fwant, "call_fmix round %d = %.17g, want %.17g", round, f, fwant);
        struct big b = call_big(40, 2.25);
        for (int i = 0; i < 6; i++)
            CHECK(b.v[i] == 40 * (i + 1) + (long)(2.25 * 4), "call_big v[%d] = %ld", i, b.v[i]);
        char buf[128];
        int n = call_format(buf, sizeof buf, 1.25, -3.5, 77);
        CHECK(n > 0 && strcmp(buf, "1.25 -3.5 77") == 0, "call_format: \"%s\"", buf);
#ifdef __i386__
        long (*call_weigh3)(long, long, long) = SYM(h, long (*)(long, long, long), "call_weigh3");
        CHECK(call_weigh3(7, 8, 9) == 7 + 80 + 900, "call_weigh3 round %d = %ld", round, call_weigh3(7, 8, 9));
#endif
    }
    int after = bindings();
    CHECK(after < before, "first calls bound PLT slots (%d unbound before, %d after)", before, after);
    CHECK(rl_hook_remove(fp_hook, NULL) == 0, "rl_hook_remove");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
