/* Symbol lookup through each hash table style: libhash_sysv.so has only a
 * SysV .hash, libhash_gnu.so only a .gnu.hash; both export hash_sym_100 ...
 * hash_sym_399 (returning 2n+1) and hash_sym_data_100 ... hash_sym_data_399
 * (holding n). libhash_user.so NEEDED libhash_sysv.so and binds 900
 * relocations against it. argv[1]: fixture dir. */
#include "check.h"

static const char *const missing[] = {
    "hash_sym_400",      "hash_sym_99",   "hash_sym_1000", "hash_sym_10",  "hash_sym_",
    "hash_sym_data_400", "hash_sym_100x", "Hash_sym_100",  "hash_sym_0100", "ash_sym_100",
};

static void lookup_all(rl_handle *h, const char *what)
{
    char name[64];
    size_t i;
    int n;

    for (n = 100; n < 400; n++) {
        int (*fn)(void);
        int *data;
        snprintf(name, sizeof name, "hash_sym_%d", n);
        fn = (int (*)(void))rl_sym(h, name);
        CHECK(fn != NULL, "%s: rl_sym(%s)", what, name);
        CHECK(fn() == 2 * n + 1, "%s: %s() = %d", what, name, fn());
        snprintf(name, sizeof name, "hash_sym_data_%d", n);
        data = rl_sym(h, name);
        CHECK(data != NULL, "%s: rl_sym(%s)", what, name);
        CHECK(*data == n, "%s: %s = %d", what, name, *data);
    }
    for (i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        CHECK(rl_sym(h, missing[i]) == NULL, "%s: rl_sym(%s) must fail", what, missing[i]);
        EXPECT_ERROR(missing[i], what);
    }
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *sysv = strf("%s/libhash_sysv.so", dir);
    char *gnu = strf("%s/libhash_gnu.so", dir);
    char *user = strf("%s/libhash_user.so", dir);
    rl_handle *hs, *hg, *hu;
    int (**fns)(void);
    long want = 0;
    char name[64];
    int n;

    /* The SysV-only library as a dependency first. */
    hu = rl_open(user, RL_NOW);
    CHECK(hu != NULL, "rl_open(%s)", user);
    CHECK(is_mapped(sysv), "libhash_sysv.so loaded as a dependency");
    for (n = 100; n < 400; n++)
        want += 2 * n + 1 + n;
    CHECK(SYM(hu, long (*)(void), "hash_user_sum")() == want, "hash_user_sum() = %ld, want %ld",
          SYM(hu, long (*)(void), "hash_user_sum")(), want);

    hs = rl_open(sysv, RL_NOW);
    CHECK(hs != NULL && hs != hu, "rl_open(%s)", sysv);
    lookup_all(hs, "libhash_sysv.so");
    fns = SYM(hu, int (**)(void), "hash_user_fns");
    for (n = 100; n < 400; n++) {
        snprintf(name, sizeof name, "hash_sym_%d", n);
        CHECK(fns[n - 100] == (int (*)(void))rl_sym(hs, name), "libhash_user's pointer to %s is libhash_sysv's",
              name);
        snprintf(name, sizeof name, "hash_sym_data_%d", n);
        CHECK(rl_sym(hu, name) == rl_sym(hs, name), "%s through both handles", name);
    }

    hg = rl_open(gnu, RL_NOW);
    CHECK(hg != NULL && hg != hs, "rl_open(%s)", gnu);
    lookup_all(hg, "libhash_gnu.so");
    CHECK(rl_sym(hg, "hash_sym_100") != rl_sym(hs, "hash_sym_100"), "the two libraries have their own definitions");

    CHECK(rl_close(hg) == 0 && rl_close(hs) == 0, "close");
    CHECK(is_mapped(sysv), "libhash_sysv.so stays loaded for libhash_user.so");
    CHECK(rl_close(hu) == 0, "close");
    CHECK(!is_mapped(sysv) && !is_mapped(gnu) && !is_mapped(user), "all unmapped");

    CHECKS_DONE();
}
