/* Versions of the host's objects, whose version tables relink reads the first time something
 * needs them: the program links libver.so (foo@VER_1 returns 1, foo@@VER_2 returns 2,
 * bar@@VER_1); lookups through the global scope and through a handle on it find each version,
 * a library relink loads binds to the version it was linked against, and one needing a
 * version libver.so lacks is refused. argv[1]: fixture dir. */
#include "check.h"
#include <dlfcn.h>

typedef int (*int_fn)(void);

int bar(void);

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *ver = strf("%s/libver.so", dir);
    char *old_c = strf("%s/libconsumer_old.so", dir);
    char *future_c = strf("%s/libconsumer_future.so", dir);
    CHECK(bar() == 7, "the program calls libver.so");

    int_fn foo1 = (int_fn)rl_vsym(RL_DEFAULT, "foo", "VER_1");
    CHECK(foo1 != NULL && foo1 == (int_fn)dlvsym(RTLD_DEFAULT, "foo", "VER_1"), "foo@VER_1 as glibc finds it");
    CHECK(foo1 && foo1() == 1, "foo@VER_1 returns 1");
    int_fn foo2 = (int_fn)rl_vsym(RL_DEFAULT, "foo", "VER_2");
    CHECK(foo2 != NULL && foo2() == 2, "foo@@VER_2 returns 2");
    CHECK((int_fn)rl_sym(RL_DEFAULT, "foo") == foo2, "rl_sym(foo) is the default version");
    CHECK(rl_vsym(RL_DEFAULT, "foo", "VER_3") == NULL, "libver.so has no VER_3");
    EXPECT_ERROR("foo", "VER_3");
    CHECK(rl_vsym(RL_DEFAULT, "bar", "VER_2") == NULL, "bar has no VER_2 definition");
    EXPECT_ERROR("bar", "VER_2");

    rl_handle *h = rl_open(ver, RL_NOW);
    CHECK(h != NULL, "rl_open(%s), the host's object", ver);
    CHECK(rl_vsym(h, "foo", "VER_1") == (void *)foo1, "rl_vsym(foo, VER_1) through the handle");
    CHECK(rl_vsym(h, "bar", "VER_1") == (void *)bar, "rl_vsym(bar, VER_1) through the handle");

    rl_handle *ho = rl_open(old_c, RL_NOW);
    CHECK(ho != NULL, "rl_open(%s)", old_c);
    CHECK(ho && SYM(ho, int_fn, "consumer_foo")() == 1, "a library linked against VER_1 binds the host's foo@VER_1");

    CHECK(rl_open(future_c, RL_NOW) == NULL, "libconsumer_future.so needs foo@VER_3, which the host's libver.so lacks");
    EXPECT_ERROR("VER_3", "libver.so");

    CHECK(rl_close(ho) == 0, "close the consumer");
    CHECK(rl_close(h) == 0, "close the host's object");
    CHECKS_DONE();
}
