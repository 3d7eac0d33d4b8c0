/* liba.so NEEDED sub/libb.so and sub/libd.so; libb.so NEEDED
 * sub/libc_chain.so; all found through DT_RUNPATH $ORIGIN entries.
 * argv[1]: fixture dir (LD_LIBRARY_PATH=<dir>/chain/sub). */
#include "check.h"

/* Executable mappings of the host's libc. */
static int libc_text_mappings(void)
{
    char *maps = read_maps(), *save = NULL, *line;
    int n = 0;
    for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strstr(line, " r-xp ") && strstr(line, "/libc.so.6"))
            n++;
    free(maps);
    return n;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *a = strf("%s/chain/liba.so", dir);
    char *b = strf("%s/chain/sub/libb.so", dir);
    char *c = strf("%s/chain/sub/libc_chain.so", dir);
    char *d = strf("%s/chain/sub/libd.so", dir);
    char *decoy = strf("%s/chain/libb.so", dir);
    int libc_maps = libc_text_mappings();
    char *dup;
    rl_handle *h, *h2, *hc;
    int (*chain_a)(int);
    int (*only_in_b)(void);
    int (*chain_c)(int);

    CHECK(!is_mapped(a) && !is_mapped(b) && !is_mapped(c) && !is_mapped(d), "nothing loaded yet");
    CHECK(libc_maps == 1, "the host has one executable libc mapping (%d)", libc_maps);

    h = rl_open(a, RL_NOW);
    CHECK(h != NULL, "rl_open(%s, RL_NOW)", a);
    CHECK(is_mapped(a), "%s mapped", a);
    CHECK(is_mapped(b), "dependency %s mapped (found via $ORIGIN/sub)", b);
    CHECK(is_mapped(c), "second-level dependency %s mapped", c);
    CHECK(is_mapped(d), "second direct dependency %s mapped", d);
    CHECK(!is_mapped(decoy), "%s is not in any RUNPATH and must not be loaded", decoy);
    CHECK(libc_text_mappings() == libc_maps, "libc.so.6 is reused from the host, not loaded again");

    chain_a = SYM(h, int (*)(int), "chain_a");
    CHECK(chain_a(5) == 170, "chain_a(5) = %d, want (5*3+2)*10 = 170", chain_a(5));

    only_in_b = SYM(h, int (*)(void), "only_in_b");
    CHECK(only_in_b() == 4242, "only_in_b() through liba's handle = %d", only_in_b());
    chain_c = SYM(h, int (*)(int), "chain_c");
    CHECK(chain_c(7) == 21, "chain_c(7) through liba's handle = %d", chain_c(7));

    CHECK(SYM(h, int (*)(void), "dup_sym")() == 'd',
          "rl_sym searches the dependencies breadth-first: libd.so (depth 1) before libc_chain.so (depth 2)");
    CHECK(SYM(h, int (*)(void), "call_dup_sym")() == 'd', "liba's own reference binds breadth-first too");

    CHECK(setenv("RELINK_CHAIN_ENV", "from-host", 1) == 0, "setenv");
    CHECK(strcmp(SYM(h, const char *(*)(const char *), "chain_getenv")("RELINK_CHAIN_ENV"), "from-host") == 0,
          "the library's getenv sees the host's environment (one libc)");
    dup = SYM(h, char *(*)(const char *), "chain_strdup")("allocated by the library");
    CHECK(strcmp(dup, "allocated by the library") == 0, "strdup");
    free(dup);

    CHECK(rl_sym(h, "no_such_symbol_in_chain") == NULL, "missing symbol");
    EXPECT_ERROR("no_such_symbol_in_chain", "liba.so");

    /* The same file reached by its soname through LD_LIBRARY_PATH. */
    hc = rl_open("libc_chain.so", RL_NOW);
    CHECK(hc != NULL, "rl_open(\"libc_chain.so\") of an already loaded dependency");
    CHECK(hc != h, "libc_chain.so has its own handle");
    CHECK(SYM(hc, int (*)(int), "chain_c") == chain_c, "same chain_c through both handles");
    CHECK(rl_sym(hc, "chain_a") == NULL, "liba is not in libc_chain's scope");
    EXPECT_ERROR("chain_a");

    h2 = rl_open(a, RL_LAZY);
    CHECK(h2 == h, "reopening gives the same handle (%p vs %p)", (void *)h2, (void *)h);
    CHECK(rl_close(h2) == 0, "close the extra reference");
    CHECK(is_mapped(a) && chain_a(1) == 50, "still loaded and usable after one of two closes");

    CHECK(rl_close(hc) == 0, "close libc_chain handle");
    CHECK(is_mapped(c), "libc_chain still needed by libb");
    CHECK(chain_a(2) == 80, "chain still works");

    CHECK(rl_close(h) == 0, "last close of liba");
    CHECK(!is_mapped(a), "liba unmapped after last close");
    CHECK(!is_mapped(b), "libb unmapped with its only user");
    CHECK(!is_mapped(c), "libc_chain unmapped with its only user");
    CHECK(!is_mapped(d), "libd unmapped with its only user");
    CHECK(libc_text_mappings() == libc_maps, "the host's libc is still mapped");

    h = rl_open(a, RL_LAZY);
    CHECK(h != NULL, "load again after a full unload");
    chain_a = SYM(h, int (*)(int), "chain_a");
    CHECK(chain_a(1) == 50, "chain_a(1) = %d", chain_a(1));
    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(a) && !is_mapped(b) && !is_mapped(c) && !is_mapped(d), "all unmapped again");

    CHECKS_DONE();
}
