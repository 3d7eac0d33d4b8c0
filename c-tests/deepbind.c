/* RL_DEEPBIND: libdeep1.so and libdeep2.so are copies of one library that
 * defines which_impl() and shared_var, also defined by this program.
 * argv[1]: fixture dir. */
#include "check.h"

const char *which_impl(void)
{
    return "host";
}

int shared_var = 1;

int host_only_fn(void)
{
    return 77;
}

typedef const char *(*str_fn)(void);

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *p1 = strf("%s/libdeep1.so", dir);
    char *p2 = strf("%s/libdeep2.so", dir);
    rl_handle *h1, *h2;
    const char *r;

    h1 = rl_open(p1, RL_NOW);
    CHECK(h1 != NULL, "rl_open(%s)", p1);
    r = SYM(h1, str_fn, "deep_which")();
    CHECK(strcmp(r, "host") == 0, "without RL_DEEPBIND the global scope (host) wins: got %s", r);
    CHECK(SYM(h1, int (*)(void), "deep_shared_var")() == 1, "data: host's shared_var wins");
    r = SYM(h1, str_fn, "which_impl")();
    CHECK(strcmp(r, "lib") == 0, "rl_sym on the handle searches the library itself: got %s", r);
    CHECK(SYM(h1, int (*)(void), "deep_call_host_only")() == 77, "host-only symbol");

    h2 = rl_open(p2, RL_NOW | RL_DEEPBIND);
    CHECK(h2 != NULL, "rl_open(%s, RL_DEEPBIND)", p2);
    CHECK(h2 != h1, "different files, different handles");
    r = SYM(h2, str_fn, "deep_which")();
    CHECK(strcmp(r, "lib") == 0, "with RL_DEEPBIND the library's own definition wins: got %s", r);
    CHECK(SYM(h2, int (*)(void), "deep_shared_var")() == 2, "data: the library's own shared_var wins");
    CHECK(SYM(h2, int (*)(void), "deep_call_host_only")() == 77,
          "with RL_DEEPBIND symbols the library lacks still come from the global scope");

    r = SYM(h1, str_fn, "deep_which")();
    CHECK(strcmp(r, "host") == 0, "the first copy is unaffected: got %s", r);
    CHECK(strcmp(which_impl(), "host") == 0 && shared_var == 1, "host unaffected");

    CHECK(rl_close(h2) == 0, "close deepbind copy");
    CHECK(rl_close(h1) == 0, "close normal copy");
    CHECK(!is_mapped(p1) && !is_mapped(p2), "both unmapped");
    CHECKS_DONE();
}
