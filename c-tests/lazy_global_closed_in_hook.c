/* A lookup hook that closes the last handle on an RL_GLOBAL library while a lazy binding is
 * searching the global scope (the library is in it): the binding still completes through the
 * scope it started with, whose objects stay mapped until it is done, and a later open unmaps
 * the closed library.
 * argv[1]: fixture dir with liblazy_many.so (calling liblazy_many_dep.so through its PLT)
 * and libghost.so. */
#include "lazy_many.h"

static rl_handle *ghost;
static int closed;

static void *closing_hook(void *user, const char *name, const char *version, const char *requester)
{
    (void)user;
    (void)version;
    (void)requester;
    if (ghost != NULL && strcmp(name, "lm_f1") == 0) {
        CHECK(rl_close(ghost) == 0, "close libghost.so inside the hook");
        ghost = NULL;
        closed++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *ghost_path = strf("%s/libghost.so", dir);
    ghost = rl_open(ghost_path, RL_NOW | RL_GLOBAL);
    CHECK(ghost != NULL, "open libghost.so RL_GLOBAL");
    CHECK(is_mapped(ghost_path), "libghost.so is mapped");
    /* The global scope now ends with libghost.so: every lookup through it reads its tables. */
    CHECK(rl_hook_add(closing_hook, NULL, RL_HOOK_BEFORE) == 0, "rl_hook_add");

    int (*rest)(void);
    rl_handle *h = open_lazy_many(argc, argv, &rest);
    CHECK(closed == 1, "the hook closed libghost.so during the first binding (%d)", closed);
    CHECK(rl_hook_remove(closing_hook, NULL) == 0, "rl_hook_remove");
    CHECK(rest() == 35, "the other slots bind after the global scope changed");
    CHECK(rl_sym(RL_DEFAULT, "ghost_value") == NULL, "ghost_value left the global scope");

    /* A later open frees what the binding kept. */
    rl_handle *other = rl_open(strf("%s/liblazy_many_dep.so", dir), RL_NOW);
    CHECK(other != NULL, "open liblazy_many_dep.so again");
    CHECK(!is_mapped(ghost_path), "libghost.so is unmapped after a later open");
    CHECK(rl_close(other) == 0, "close it");
    CHECK(rl_close(h) == 0, "close liblazy_many.so");
    CHECKS_DONE();
}
