/* rl_open's flags are checked as glibc's dlopen checks its mode, by every way to open: bits
 * other than RL_LAZY, RL_NOW, RL_NOLOAD, RL_DEEPBIND, RL_GLOBAL and RL_NODELETE are refused
 * ("invalid mode parameter"), and so is a mode with neither RL_LAZY nor RL_NOW ("invalid mode
 * for dlopen()"). An RL_NOLOAD open of a library that is not loaded returns NULL without an
 * error, as with glibc; one of a file that does not exist is an error.
 * argv[1]: fixture dir holding libsimple.so. */
#include "check.h"

static const int bad_modes[] = {0, RL_NOLOAD, RL_GLOBAL | RL_NODELETE, -1, RL_NOW | 0x10,
                                RL_LAZY | 0x20, RL_NOW | 0x10000, RL_NOW | (int)0x80000000u};

static int binding_missing(int mode)
{
    return (mode & (RL_LAZY | RL_NOW)) == 0;
}

static const char *expected(int mode)
{
    const int known = RL_LAZY | RL_NOW | RL_NOLOAD | RL_DEEPBIND | RL_GLOBAL | RL_NODELETE;
    return (mode & ~known) != 0 ? "invalid mode parameter" : "invalid mode for dlopen()";
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *simple = strf("%s/libsimple.so", dir);
    char *missing = strf("%s/libno_such_library.so", dir);
    size_t len, i;
    char *image = read_file_or_die(simple, &len);
    rl_open_opts opts;
    rl_handle *h, *self;

    memset(&opts, 0, sizeof opts);
    opts.size = sizeof opts;
    for (i = 0; i < sizeof bad_modes / sizeof bad_modes[0]; i++) {
        int mode = bad_modes[i];
        CHECK(binding_missing(mode) || strcmp(expected(mode), "invalid mode parameter") == 0,
              "table entry %zu refused for a reason", i);
        CHECK(rl_open(NULL, mode) == NULL, "rl_open(NULL, %#x) must fail", mode);
        EXPECT_ERROR(expected(mode));
        CHECK(rl_open(simple, mode) == NULL, "rl_open(libsimple.so, %#x) must fail", mode);
        EXPECT_ERROR(expected(mode), "libsimple.so");
        CHECK(rl_open_mem(image, len, "mem-simple", mode) == NULL, "rl_open_mem(%#x) must fail", mode);
        EXPECT_ERROR(expected(mode), "mem-simple");
        CHECK(rl_open_ex(simple, NULL, 0, mode, &opts) == NULL, "rl_open_ex(path, %#x) must fail", mode);
        EXPECT_ERROR(expected(mode), "libsimple.so");
        CHECK(rl_open_ex("ex-mem", image, len, mode, NULL) == NULL, "rl_open_ex(image, %#x) must fail", mode);
        EXPECT_ERROR(expected(mode), "ex-mem");
        CHECK(!is_mapped(simple), "nothing loaded by a refused mode (%#x)", mode);
    }

    /* Every valid bit together is accepted. */
    self = rl_open(NULL, RL_LAZY | RL_NOW | RL_NOLOAD | RL_DEEPBIND | RL_GLOBAL | RL_NODELETE);
    CHECK(self != NULL, "rl_open(NULL) with every valid flag");
    CHECK(SYM(self, void *, "rl_open") != NULL, "the global scope handle works");
    CHECK(rl_close(self) == 0, "close the global scope handle");

    /* RL_NOLOAD misses are not errors. */
    CHECK(rl_error() == NULL, "no error pending");
    CHECK(rl_open(simple, RL_NOW | RL_NOLOAD) == NULL, "RL_NOLOAD of a library not loaded");
    CHECK(rl_error() == NULL, "an RL_NOLOAD miss sets no error");
    CHECK(rl_open("libsimple.so", RL_LAZY | RL_NOLOAD) == NULL, "RL_NOLOAD by name (found through LD_LIBRARY_PATH)");
    CHECK(rl_error() == NULL, "an RL_NOLOAD miss by name sets no error");
    CHECK(rl_open_ex(simple, NULL, 0, RL_NOW | RL_NOLOAD, &opts) == NULL, "rl_open_ex RL_NOLOAD miss");
    CHECK(rl_error() == NULL, "an rl_open_ex RL_NOLOAD miss sets no error");
    CHECK(rl_open_mem(image, len, "mem-simple", RL_NOW | RL_NOLOAD) == NULL, "rl_open_mem RL_NOLOAD");
    CHECK(rl_error() == NULL, "an rl_open_mem RL_NOLOAD miss sets no error");
    CHECK(!is_mapped(simple), "RL_NOLOAD loads nothing");

    /* A file that does not exist is an error, RL_NOLOAD or not (as with glibc). */
    CHECK(rl_open(missing, RL_NOW | RL_NOLOAD) == NULL, "RL_NOLOAD of a missing file");
    EXPECT_ERROR("libno_such_library.so");
    CHECK(rl_open("libno_such_library.so", RL_NOW | RL_NOLOAD) == NULL, "RL_NOLOAD of a name not found");
    EXPECT_ERROR("libno_such_library.so");

    /* Loaded: RL_NOLOAD finds it. */
    h = rl_open(simple, RL_NOW);
    CHECK(h != NULL, "rl_open(libsimple.so)");
    CHECK(rl_open(simple, RL_NOW | RL_NOLOAD) == h, "RL_NOLOAD finds the loaded library");
    CHECK(rl_close(h) == 0 && rl_close(h) == 0, "close both references");
    CHECK(!is_mapped(simple), "unloaded");

    free(image);
    free(missing);
    free(simple);
    CHECKS_DONE();
}
