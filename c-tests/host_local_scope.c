/* Objects the host opened RTLD_LOCAL with the system loader are not in relink's global scope,
 * those it opened RTLD_GLOBAL are, as for dlopen: libuses_global.so binds only_in_global from a
 * library the host dlopen()ed RTLD_GLOBAL; libuses_local.so cannot bind only_in_local from one
 * opened RTLD_LOCAL; liblinks_local.so, which names that library in DT_NEEDED, reuses it and
 * binds through its own dependencies. argv[1]: fixture dir. */
#include <dlfcn.h>

#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    rl_handle *global = rl_open(NULL, RL_NOW), *h;
    void *local_def, *global_def;

    local_def = dlopen(strf("%s/libscope_local_def.so", dir), RTLD_NOW | RTLD_LOCAL);
    CHECK(local_def != NULL, "dlopen RTLD_LOCAL: %s", dlerror());
    global_def = dlopen(strf("%s/libscope_global_def.so", dir), RTLD_NOW | RTLD_GLOBAL);
    CHECK(global_def != NULL, "dlopen RTLD_GLOBAL: %s", dlerror());

    CHECK(rl_sym(global, "only_in_global") == dlsym(global_def, "only_in_global"),
          "the global scope has what the host opened RTLD_GLOBAL");
    CHECK(rl_sym(global, "only_in_local") == NULL, "the global scope lacks what the host opened RTLD_LOCAL");
    EXPECT_ERROR("only_in_local");

    h = rl_open(strf("%s/libscope_uses_global.so", dir), RL_NOW);
    CHECK(h != NULL, "a library using a symbol of an RTLD_GLOBAL host library opens");
    CHECK(SYM(h, int (*)(void), "call_global")() == 9, "and binds it");
    CHECK(rl_close(h) == 0, "rl_close");

    h = rl_open(strf("%s/libscope_uses_local.so", dir), RL_NOW);
    CHECK(h == NULL, "a symbol only an RTLD_LOCAL host library defines is not bound");
    EXPECT_ERROR("only_in_local");

    h = rl_open(strf("%s/libscope_links_local.so", dir), RL_NOW);
    CHECK(h != NULL, "a library that needs the RTLD_LOCAL one by name opens");
    CHECK(SYM(h, int (*)(void), "call_local")() == 7, "and binds through its own dependency");
    CHECK(rl_close(h) == 0, "rl_close");

    dlclose(global_def);
    dlclose(local_def);
    CHECKS_DONE();
}
