/* Objects linked with -z nodlopen (DF_1_NOOPEN) are refused by rl_open and
 * rl_open_mem, as root or as a new dependency, with glibc's message; one the
 * program was linked against (loaded already) is handed out as it is.
 * argv[1]: fixture dir holding libnoopen.so, libnoopen_user.so (needs it),
 * libnoopen_linked.so (the program needs it) and libnoopen_linked_user.so. */
#include "check.h"

int noopen_linked_value(void);

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *noopen = strf("%s/libnoopen.so", dir);
    char *user = strf("%s/libnoopen_user.so", dir);
    size_t len;
    char *image = read_file_or_die(noopen, &len);
    rl_handle *h;

    CHECK(rl_open(noopen, RL_NOW) == NULL, "rl_open of a -z nodlopen library fails");
    EXPECT_ERROR_SHOW("libnoopen.so: shared object cannot be dlopen()ed");
    CHECK(!is_mapped(noopen), "nothing left mapped");
    CHECK(rl_open(noopen, RL_LAZY | RL_GLOBAL) == NULL, "whatever the flags");
    EXPECT_ERROR("libnoopen.so: shared object cannot be dlopen()ed");

    CHECK(rl_open_mem(image, len, "noopen-mem.so", RL_NOW) == NULL, "rl_open_mem of it fails too");
    EXPECT_ERROR("noopen-mem.so: shared object cannot be dlopen()ed");
    free(image);

    CHECK(rl_open(user, RL_NOW) == NULL, "a library needing it fails");
    EXPECT_ERROR_SHOW("libnoopen_user.so", "libnoopen.so: shared object cannot be dlopen()ed");
    CHECK(!is_mapped(user) && !is_mapped(noopen), "neither is left mapped");

    /* Loaded with the program: found, not opened. */
    CHECK(noopen_linked_value() == 5, "the program's own -z nodlopen library");
    h = rl_open("libnoopen_linked.so", RL_NOW);
    CHECK(h != NULL, "rl_open of a -z nodlopen library loaded already");
    CHECK(SYM(h, int (*)(void), "noopen_linked_value") == noopen_linked_value, "it is the program's copy");
    CHECK(rl_close(h) == 0, "close");
    h = rl_open(strf("%s/libnoopen_linked_user.so", dir), RL_NOW);
    CHECK(h != NULL, "a library needing a -z nodlopen library loaded already");
    CHECK(SYM(h, int (*)(void), "noopen_user_value")() == 6, "binds to it");
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
