/* Symbol versioning: libver.so has foo@VER_1 (1), foo@@VER_2 (2), bar@@VER_1.
 * libconsumer_old.so was linked against a VER_1-only libver.so,
 * libconsumer_new.so against the current one, libconsumer_future.so against a
 * build with foo@@VER_3 that is not installed. argv[1]: fixture dir. */
#include "check.h"

typedef int (*int_fn)(void);

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *ver = strf("%s/libver.so", dir);
    char *old_c = strf("%s/libconsumer_old.so", dir);
    char *new_c = strf("%s/libconsumer_new.so", dir);
    char *future_c = strf("%s/libconsumer_future.so", dir);
    rl_handle *h, *ho, *hn, *hf;
    int_fn foo, foo1, foo2, bar;

    h = rl_open(ver, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", ver);

    foo = SYM(h, int_fn, "foo");
    CHECK(foo() == 2, "rl_sym(\"foo\") gives the default version foo@@VER_2, got %d", foo());

    foo1 = (int_fn)rl_vsym(h, "foo", "VER_1");
    CHECK(foo1 != NULL, "rl_vsym(foo, VER_1)");
    CHECK(foo1() == 1, "foo@VER_1() = %d", foo1());

    foo2 = (int_fn)rl_vsym(h, "foo", "VER_2");
    CHECK(foo2 != NULL, "rl_vsym(foo, VER_2)");
    CHECK(foo2() == 2, "foo@@VER_2() = %d", foo2());
    CHECK(foo2 == foo, "rl_sym and rl_vsym(VER_2) agree");

    bar = (int_fn)rl_vsym(h, "bar", "VER_1");
    CHECK(bar != NULL && bar() == 7, "rl_vsym(bar, VER_1)");
    CHECK(SYM(h, int_fn, "bar") == bar, "rl_sym(bar) is bar@@VER_1");

    CHECK(rl_vsym(h, "foo", "VER_3") == NULL, "nonexistent version");
    EXPECT_ERROR("foo", "VER_3", "libver.so");
    CHECK(rl_vsym(h, "bar", "VER_2") == NULL, "bar has no VER_2 definition");
    EXPECT_ERROR("bar", "VER_2", "libver.so");
    CHECK(rl_vsym(h, "nonexistent_fn", "VER_1") == NULL, "nonexistent symbol");
    EXPECT_ERROR("nonexistent_fn");
    CHECK(rl_sym(h, "foo_v1") == NULL, "foo_v1 is local (version script local: *)");
    EXPECT_ERROR("foo_v1");

    ho = rl_open(old_c, RL_NOW);
    CHECK(ho != NULL, "rl_open(%s)", old_c);
    CHECK(SYM(ho, int_fn, "consumer_foo")() == 1,
          "a library linked against the VER_1-only build binds foo@VER_1");
    CHECK(SYM(ho, int_fn, "consumer_bar")() == 7, "consumer_bar");
    CHECK(SYM(ho, int_fn, "foo")() == 2, "rl_sym through the consumer still gives foo@@VER_2");

    hn = rl_open(new_c, RL_LAZY);
    CHECK(hn != NULL, "rl_open(%s)", new_c);
    CHECK(SYM(hn, int_fn, "consumer_foo")() == 2, "a library linked against the current build binds foo@@VER_2");

    hf = rl_open(future_c, RL_NOW);
    CHECK(hf == NULL, "libconsumer_future.so needs foo@VER_3, which libver.so lacks");
    EXPECT_ERROR("VER_3");
    CHECK(!is_mapped(future_c), "the failed library is not left mapped");

    CHECK(rl_close(hn) == 0, "close new consumer");
    CHECK(rl_close(ho) == 0, "close old consumer");
    CHECK(is_mapped(ver), "libver still open through its own handle");
    CHECK(rl_close(h) == 0, "close libver");
    CHECK(!is_mapped(ver) && !is_mapped(old_c) && !is_mapped(new_c), "all unmapped");

    CHECKS_DONE();
}
