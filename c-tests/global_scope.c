/* RL_GLOBAL: libuser.so has an undefined reference to provided_value(),
 * defined by libprovider.so (and its copy libprovider_copy.so).
 * argv[1]: fixture dir. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *user = strf("%s/libuser.so", dir);
    char *prov = strf("%s/libprovider.so", dir);
    char *prov_copy = strf("%s/libprovider_copy.so", dir);
    rl_handle *self, *hu, *hp, *hp2;
    void *pv;

    self = rl_open(NULL, RL_NOW);
    CHECK(self != NULL, "rl_open(NULL)");
    CHECK(rl_sym(self, "provided_value") == NULL, "not in the global scope yet");
    EXPECT_ERROR("provided_value");

    /* A: nobody provides it. */
    hu = rl_open(user, RL_NOW);
    CHECK(hu == NULL, "libuser must fail before libprovider is loaded");
    EXPECT_ERROR("provided_value", "libuser.so");
    CHECK(!is_mapped(user), "failed libuser is not left mapped");

    /* B: provider loaded RL_LOCAL: still invisible to others. */
    hp = rl_open(prov, RL_NOW | RL_LOCAL);
    CHECK(hp != NULL, "rl_open(provider, RL_LOCAL)");
    pv = SYM(hp, void *, "provided_value");
    hu = rl_open(user, RL_NOW);
    CHECK(hu == NULL, "libuser must fail while libprovider is only RL_LOCAL");
    EXPECT_ERROR("provided_value");
    CHECK(!is_mapped(user), "failed libuser is not left mapped");
    CHECK(rl_sym(self, "provided_value") == NULL, "RL_LOCAL library is not in the global scope");
    EXPECT_ERROR("provided_value");

    /* C: reopening with RL_GLOBAL promotes it. */
    hp2 = rl_open(prov, RL_NOW | RL_GLOBAL);
    CHECK(hp2 == hp, "same handle when reopened RL_GLOBAL");
    CHECK(rl_sym(self, "provided_value") == pv, "now found through the global scope");
    hu = rl_open(user, RL_NOW);
    CHECK(hu != NULL, "libuser loads once libprovider is RL_GLOBAL");
    CHECK(SYM(hu, int (*)(void), "user_value")() == 100, "user_value() = provided_value() + 1");
    CHECK(rl_close(hu) == 0, "close user");
    CHECK(rl_close(hp2) == 0, "close provider (1 of 2)");
    CHECK(rl_close(hp) == 0, "close provider (2 of 2)");
    CHECK(!is_mapped(prov) && !is_mapped(user), "both unmapped");

    /* D: gone from the global scope with its last close. */
    CHECK(rl_sym(self, "provided_value") == NULL, "unloaded library left the global scope");
    EXPECT_ERROR("provided_value");
    hu = rl_open(user, RL_NOW);
    CHECK(hu == NULL, "libuser fails again once libprovider is unloaded");
    EXPECT_ERROR("provided_value");

    /* E: first opened RL_GLOBAL directly. */
    hp = rl_open(prov_copy, RL_LAZY | RL_GLOBAL);
    CHECK(hp != NULL, "rl_open(provider copy, RL_GLOBAL)");
    hu = rl_open(user, RL_NOW);
    CHECK(hu != NULL, "libuser loads against the RL_GLOBAL copy");
    CHECK(SYM(hu, int (*)(void), "user_value")() == 100, "user_value()");
    CHECK(rl_close(hu) == 0, "close user");
    CHECK(rl_close(hp) == 0, "close provider copy");
    CHECK(!is_mapped(prov_copy) && !is_mapped(user), "both unmapped");

    CHECK(rl_close(self) == 0, "close the global-scope handle");
    CHECKS_DONE();
}
