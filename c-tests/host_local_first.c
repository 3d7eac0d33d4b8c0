/* relink's first call comes after the host opened libraries with the system loader: objects
 * it loaded at startup (the program's dependencies) are in the global scope, the vDSO is not,
 * and of the libraries opened later, those opened RTLD_LOCAL are not while those opened
 * RTLD_GLOBAL are. argv[1]: fixture dir. */
#include <dlfcn.h>
#include <math.h>

#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    void *local_def = dlopen(strf("%s/libscope_local_def.so", dir), RTLD_NOW | RTLD_LOCAL);
    CHECK(local_def != NULL, "dlopen RTLD_LOCAL: %s", dlerror());
    void *global_def = dlopen(strf("%s/libscope_global_def.so", dir), RTLD_NOW | RTLD_GLOBAL);
    CHECK(global_def != NULL, "dlopen RTLD_GLOBAL: %s", dlerror());

    rl_handle *global = rl_open(NULL, RL_NOW), *h;
    CHECK(global != NULL, "rl_open(NULL)");
    CHECK(rl_sym(global, "only_in_global") == dlsym(global_def, "only_in_global"),
          "the global scope has what the host opened RTLD_GLOBAL");
    CHECK(rl_sym(global, "only_in_local") == NULL, "the global scope lacks what the host opened RTLD_LOCAL");
    EXPECT_ERROR("only_in_local");
    CHECK(rl_sym(global, "cbrt") != NULL && rl_sym(global, "cbrt") == dlsym(RTLD_DEFAULT, "cbrt"),
          "a library the program was linked with (libm) is in the global scope");
    CHECK(dlsym(RTLD_DEFAULT, "__vdso_clock_gettime") == NULL, "the system loader does not find the vDSO's symbols");
    CHECK(rl_sym(global, "__vdso_clock_gettime") == NULL, "neither does the global scope");
    rl_error();

    h = rl_open(strf("%s/libscope_uses_local.so", dir), RL_NOW);
    CHECK(h == NULL, "a symbol only an RTLD_LOCAL host library defines is not bound");
    EXPECT_ERROR("only_in_local");
    h = rl_open(strf("%s/libscope_uses_global.so", dir), RL_NOW);
    CHECK(h != NULL, "a library using a symbol of an RTLD_GLOBAL host library opens");
    CHECK(SYM(h, int (*)(void), "call_global")() == 9, "and binds it");
    CHECK(rl_close(h) == 0, "rl_close");
    volatile double x = 27.0;
    CHECK(fabs(cbrt(x) - 3.0) < 1e-9, "libm is used");
    CHECKS_DONE();
}
