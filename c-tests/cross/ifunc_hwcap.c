/* IFUNC resolvers in a relink-loaded library get what glibc passes on the target machine
 * (on aarch64: AT_HWCAP with _IFUNC_ARG_HWCAP set, and a pointer to __ifunc_arg_t; on i386
 * nothing, as on x86_64: the resolver's argument is not checked there); the library records
 * them and the program compares with its own auxiliary vector. The plain
 * IFUNC cases (PLT, data, IRELATIVE) run from ../ifunc.c. */
#include <sys/auxv.h>

#include "check.h"

int main(int argc, char **argv)
{
    const char *path = strf("%s/libcross_ifunc.so", fixture_dir(argc, argv));
    rl_handle *h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    int (*pick)(int) = SYM(h, int (*)(int), "pick");
    unsigned long *seen = SYM(h, unsigned long *, "resolver_seen");
    CHECK(pick(3) == 3 * 3 || pick(3) == 3 + 3, "pick runs one of its implementations");
#if defined(__aarch64__)
    unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    CHECK(seen[0] == (hwcap | (1UL << 62)), "first argument %#lx, want AT_HWCAP %#lx | _IFUNC_ARG_HWCAP", seen[0], hwcap);
    CHECK(seen[1] == 24 && seen[2] == hwcap && seen[3] == hwcap2, "__ifunc_arg_t {%lu, %#lx, %#lx}", seen[1], seen[2],
          seen[3]);
#elif defined(__i386__)
    (void)seen;
#else
    CHECK(seen[0] == getauxval(AT_HWCAP), "first argument %#lx, want AT_HWCAP %#lx", seen[0], getauxval(AT_HWCAP));
#endif
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
