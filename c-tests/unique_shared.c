/* STB_GNU_UNIQUE definitions are process-wide, as with glibc's unique-symbol table: every
 * reference to such a name, and rl_sym through any handle, gets the first definition bound, even
 * across RL_LOCAL libraries that each define it (a static in an inline function, a template's
 * static member). One the host's objects already have comes first: a library the host dlopen()ed
 * RTLD_LOCAL, or the host's libstdc++.
 * argv[1]: fixture dir holding libunique_a.so and libunique_b.so (copies of unique.cpp),
 * libunique_hosted.so and libunique_c.so (unique.cpp with its counter renamed hosted_counter),
 * libnumpunct.so and libnumpunct_deep.so (unique_numpunct.cpp). The program is linked with
 * libstdc++. */
#include <dlfcn.h>

#include "check.h"

#define COUNTER "_ZZ14shared_countervE1c"
#define HOSTED_COUNTER "_ZZ14hosted_countervE1c"
#define NUMPUNCT_ID "_ZNSt7__cxx118numpunctIcE2idE"

typedef int (*bump_fn)(void);
typedef int *(*counter_fn)(void);

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *a = strf("%s/libunique_a.so", dir), *b = strf("%s/libunique_b.so", dir);
    char *hosted = strf("%s/libunique_hosted.so", dir), *c = strf("%s/libunique_c.so", dir);
    char *np = strf("%s/libnumpunct.so", dir), *np_deep = strf("%s/libnumpunct_deep.so", dir);
    rl_handle *ha, *hb, *hc, *hn, *hd;
    void *gh, *stdcxx_id;
    bump_fn host_bump;

    /* Two RL_LOCAL libraries, neither in the other's scope. */
    ha = rl_open(a, RL_NOW | RL_LOCAL);
    CHECK(ha != NULL, "rl_open(libunique_a.so)");
    hb = rl_open(b, RL_LAZY | RL_LOCAL);
    CHECK(hb != NULL, "rl_open(libunique_b.so)");
    CHECK(SYM(ha, bump_fn, "unique_bump")() == 1, "a counts");
    CHECK(SYM(hb, bump_fn, "unique_bump")() == 2, "b shares a's counter");
    CHECK(SYM(ha, bump_fn, "unique_bump")() == 3, "and a sees b's count");
    CHECK(SYM(ha, counter_fn, "unique_counter")() == SYM(hb, counter_fn, "unique_counter")(), "one variable");
    CHECK(SYM(hb, void *, COUNTER) == SYM(ha, void *, COUNTER), "rl_sym gives the first definition through either handle");
    CHECK(SYM(hb, void *, COUNTER) == (void *)SYM(ha, counter_fn, "unique_counter")(), "the one the code uses");

    /* The host's own definition comes first. */
    gh = dlopen(hosted, RTLD_NOW | RTLD_LOCAL);
    CHECK(gh != NULL, "dlopen(libunique_hosted.so): %s", dlerror());
    host_bump = (bump_fn)dlsym(gh, "unique_bump");
    CHECK(host_bump != NULL && host_bump() == 1, "the host's copy counts");
    hc = rl_open(c, RL_NOW | RL_LOCAL);
    CHECK(hc != NULL, "rl_open(libunique_c.so)");
    CHECK(SYM(hc, bump_fn, "unique_bump")() == 2, "relink's copy uses the host's counter");
    CHECK(host_bump() == 3, "and the host sees its count");
    CHECK(SYM(hc, void *, HOSTED_COUNTER) == dlsym(gh, HOSTED_COUNTER), "rl_sym gives the host's definition");

    /* libstdc++'s, through rl_sym and with the library's own scope first (RL_DEEPBIND). */
    stdcxx_id = dlsym(RTLD_DEFAULT, NUMPUNCT_ID);
    CHECK(stdcxx_id != NULL, "the host's libstdc++ defines " NUMPUNCT_ID);
    hn = rl_open(np, RL_NOW);
    CHECK(hn != NULL, "rl_open(libnumpunct.so)");
    CHECK(SYM(hn, void *, NUMPUNCT_ID) == stdcxx_id, "rl_sym gives libstdc++'s definition");
    CHECK(SYM(hn, const void *(*)(void), "numpunct_id")() == stdcxx_id, "the library's code uses it");
    hd = rl_open(np_deep, RL_NOW | RL_DEEPBIND);
    CHECK(hd != NULL, "rl_open(libnumpunct_deep.so, RL_DEEPBIND)");
    CHECK(SYM(hd, const void *(*)(void), "numpunct_id")() == stdcxx_id, "RL_DEEPBIND too");

    free(a);
    free(b);
    free(hosted);
    free(c);
    free(np);
    free(np_deep);
    CHECKS_DONE();
}
