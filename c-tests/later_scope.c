/* An object already loaded also looks its lazy bindings up in the scope of every later open that
 * pulls it in, as glibc extends its l_scope: liblater_shared.so, opened RL_LAZY as a dependency of
 * liblater_first.so, calls functions only liblater_second.so (opened later, RL_LOCAL, needing it
 * too) defines. It used to die with "symbol lookup error" (and jump to 0 for the weak one). Its
 * first opener's scope still comes first, and a library bound this way stays loaded with it.
 * argv[1]: fixture dir. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *first = strf("%s/liblater_first.so", dir);
    char *second = strf("%s/liblater_second.so", dir);
    char *shared = strf("%s/liblater_shared.so", dir);
    rl_handle *h1, *h2, *hs;
    int (*calls_later)(void), (*calls_weak)(void), (*calls_both)(void);

    h1 = rl_open(first, RL_LAZY);
    CHECK(h1 != NULL, "rl_open(liblater_first.so, RL_LAZY)");
    hs = rl_open(shared, RL_LAZY | RL_NOLOAD);
    CHECK(hs != NULL, "liblater_shared.so came with it");
    calls_later = SYM(hs, int (*)(void), "shared_calls_later");
    calls_weak = SYM(hs, int (*)(void), "shared_calls_weak");
    calls_both = SYM(hs, int (*)(void), "shared_calls_both");

    h2 = rl_open(second, RL_LAZY | RL_LOCAL);
    CHECK(h2 != NULL, "rl_open(liblater_second.so, RL_LAZY | RL_LOCAL)");
    CHECK(calls_later() == 20, "the reused object binds to what the later open brought");
    CHECK(calls_weak() == 30, "a weak reference too");
    CHECK(calls_both() == 1, "its first opener's scope comes first");

    CHECK(rl_close(h2) == 0, "close liblater_second.so");
    CHECK(is_mapped(second), "liblater_second.so stays: liblater_shared.so is bound to it");
    CHECK(calls_later() == 20 && calls_weak() == 30, "and the bindings still work");
    CHECK(rl_close(hs) == 0 && rl_close(h1) == 0, "close the rest");
    CHECK(!is_mapped(first) && !is_mapped(second) && !is_mapped(shared), "everything unloaded");

    free(first);
    free(second);
    free(shared);
    CHECKS_DONE();
}
