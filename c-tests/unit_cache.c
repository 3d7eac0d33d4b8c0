/* The unit cache (rl_open_opts.cache_dir): one step of a test per run, each in a
 * fresh process. argv[1]: fixture dir; argv[2]: cache dir; argv[3]: the step:
 *
 *   seed HEX       links cache_seed.o (a hit or a miss, the test tells from the
 *                  RELINK_DEBUG report and the entries) and checks that seed()
 *                  returns HEX; then that its data holds its own addresses, its
 *                  constructor ran, and that after rl_close no descriptor is left
 *                  open and nothing of the cache is mapped
 *   import         links cache_import.o with libcache_provider.so: use_provided() = 7
 *   import-data    the same, cache_provided being data now: the unit has its address
 *   import-none    the same, libcache_provider.so without cache_provided: the error
 *                  names the input and the symbol
 *   never          units that are never cached: a -fno-pic object (its own address
 *                  in a 32-bit field), a -fPIE one reading stdout (placed near it),
 *                  one with initial-exec TLS, and objects given in memory
 */
#include "check.h"

static rl_open_opts opts;

/* rl_link of `obj` and `other` (an object or a shared object; or none). */
static rl_handle *link1(const char *dir, const char *obj, const char *other)
{
    rl_input in[2] = {{strf("%s/%s", dir, obj), NULL, 0, NULL, 0}, {other ? strf("%s/%s", dir, other) : NULL, NULL, 0, NULL, 0}};
    return rl_link(in, other ? 2 : 1, RL_NOW, &opts);
}

static void seed(const char *dir, const char *cache, unsigned expect)
{
    int fds = count_fds();
    rl_handle *h = link1(dir, "cache_seed.o", NULL);
    CHECK(h != NULL, "rl_link(cache_seed.o)");
    CHECK((unsigned)SYM(h, int (*)(void), "seed")() == expect, "seed() returns %#x", expect);
    CHECK(SYM(h, int (*)(void), "was_constructed")() == 1, "the constructor ran");
    CHECK(SYM(h, int (*)(int), "call_table")(1) == 41, "a table of the unit's own functions (RELATIVE relocations)");
    CHECK(*SYM(h, int *(*)(void), "counter_addr")() == 41, "the unit's data");
    CHECK((unsigned)SYM(h, int (*)(int), "call_table")(0) == expect, "the table's first entry");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECK(count_fds() == fds, "no descriptor left open: %d before, %d after", fds, count_fds());
    CHECK(!maps_mention(cache), "nothing of the cache mapped after rl_close");
}

static void import(const char *dir, const char *step)
{
    rl_handle *h = link1(dir, "cache_import.o", "libcache_provider.so");
    if (strcmp(step, "import-none") == 0) {
        CHECK(h == NULL, "cache_provided is defined nowhere");
        EXPECT_ERROR("cache_import.o", "cache_provided");
        return;
    }
    CHECK(h != NULL, "rl_link(cache_import.o, libcache_provider.so)");
    if (strcmp(step, "import") == 0)
        CHECK(SYM(h, int (*)(void), "use_provided")() == 7, "use_provided() through the shared-object input");
    else
        CHECK(SYM(h, void *(*)(void), "provided_address")() == rl_sym(h, "cache_provided"),
              "the address of the data cache_provided (not of a stub)");
    CHECK(rl_close(h) == 0, "rl_close");
}

static void never(const char *dir)
{
    const char *objs[][2] = {{"cache_seed_nopic.o", NULL}, {"cache_stdout.o", NULL}, {"obj_tls_fpie.o", "obj_tls_other_fpie.o"}};
    size_t i, len;
    char *image;
    rl_handle *h;
    for (i = 0; i < sizeof objs / sizeof objs[0]; i++) {
        h = link1(dir, objs[i][0], objs[i][1]);
        CHECK(h != NULL, "rl_link(%s)", objs[i][0]);
        CHECK(rl_close(h) == 0, "rl_close(%s)", objs[i][0]);
    }
    image = read_file_or_die(strf("%s/cache_seed.o", dir), &len);
    h = rl_open_ex("cache_seed.o (memory)", image, len, RL_NOW, &opts);
    CHECK(h != NULL && (unsigned)SYM(h, int (*)(void), "seed")() == 0x5eed1234, "rl_open_ex of an object in memory");
    CHECK(rl_close(h) == 0, "rl_close");
    {
        rl_input in[2] = {{NULL, image, len, "cache_seed.o (memory)", 0}, {strf("%s/cache_import.o", dir), NULL, 0, NULL, 0}};
        rl_input lib = {strf("%s/libcache_provider.so", dir), NULL, 0, NULL, 0};
        rl_input all[3] = {in[0], in[1], lib};
        h = rl_link(all, 3, RL_NOW, &opts);
        CHECK(h != NULL, "rl_link with an input in memory");
        CHECK(rl_close(h) == 0, "rl_close");
    }
    free(image);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv), *step;
    CHECK(argc >= 4, "usage: unit_cache DIR CACHE STEP [HEX]");
    opts.size = sizeof opts;
    opts.cache_dir = argv[2];
    step = argv[3];
    if (strcmp(step, "seed") == 0) {
        CHECK(argc == 5, "seed needs the value");
        seed(dir, argv[2], (unsigned)strtoul(argv[4], NULL, 16));
    } else if (strncmp(step, "import", 6) == 0) {
        import(dir, step);
    } else if (strcmp(step, "never") == 0) {
        never(dir);
    } else {
        CHECK(0, "unknown step %s", step);
    }
    CHECKS_DONE();
}
