/* A lazily bound call resolves through the global scope as it is at the first call: a provider
 * opened RL_GLOBAL after the caller's library is found, as with glibc.
 * argv[1]: fixture dir holding liblate_user.so (-z lazy, calls late_fn) and liblate_prov.so. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *user_path = strf("%s/liblate_user.so", dir);
    char *prov_path = strf("%s/liblate_prov.so", dir);
    rl_handle *user, *prov;

    user = rl_open(user_path, RL_LAZY);
    CHECK(user != NULL, "RL_LAZY open of %s with late_fn still undefined", user_path);
    prov = rl_open(prov_path, RL_NOW | RL_GLOBAL);
    CHECK(prov != NULL, "rl_open(%s, RL_GLOBAL)", prov_path);
    CHECK(SYM(user, int (*)(void), "call_late")() == 202, "late_fn bound at its first call to the later RL_GLOBAL provider");
    CHECK(rl_close(user) == 0 && rl_close(prov) == 0, "rl_close");
    free(user_path);
    free(prov_path);
    CHECKS_DONE();
}
