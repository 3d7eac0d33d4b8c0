/* A lookup hook may call rl_sym, rl_vsym, rl_error and rl_addr (relink.h),
 * including for a name nothing defines.
 *   argv[2] = "plain": the hook only calls them.
 *   argv[2] = "dlopen": the hook first has the system loader load a library
 *     (libhk_sp_provider.so, through dlopen), so the host's object list
 *     changes while rl_open_ex is binding.
 * argv[1]: fixture dir with libhk_clock_a.so and libhk_sp_provider.so. */
#include <dlfcn.h>

#include "check.h"

static rl_handle *self;
static const char *dir;
static int dlopen_first;

struct seen {
    int calls;
    int found_malloc;
    int missing_is_null;
    int missing_error_named;
    int addr_ok;
};

static void *hook(void *user, const char *name, const char *version, const char *requester)
{
    struct seen *s = user;
    const char *err;
    rl_addr_info info;
    (void)version;
    (void)requester;
    if (strcmp(name, "time") != 0)
        return NULL;
    s->calls++;
    if (dlopen_first) {
        char *p = strf("%s/libhk_sp_provider.so", dir);
        if (dlopen(p, RTLD_NOW | RTLD_LOCAL) == NULL)
            fprintf(stderr, "dlopen(%s): %s\n", p, dlerror());
        free(p);
    }
    s->found_malloc = rl_sym(self, "malloc") != NULL && rl_vsym(self, "malloc", "GLIBC_2.2.5") != NULL;
    s->missing_is_null = rl_sym(self, "hk_reentrant_missing_name") == NULL;
    err = rl_error();
    s->missing_error_named = err != NULL && strstr(err, "hk_reentrant_missing_name") != NULL;
    s->addr_ok = rl_addr((void *)hook, &info) == 0; /* the host's own code: not relink's */
    return NULL;
}

int main(int argc, char **argv)
{
    char *lib;
    struct seen s;
    rl_open_opts opts;
    rl_handle *h;

    dir = fixture_dir(argc, argv);
    dlopen_first = argc > 2 && strcmp(argv[2], "dlopen") == 0;
    lib = strf("%s/libhk_clock_a.so", dir);
    self = rl_open(NULL, RL_NOW);
    CHECK(self != NULL, "rl_open(NULL)");
    memset(&s, 0, sizeof s);
    memset(&opts, 0, sizeof opts);
    opts.size = sizeof opts;
    opts.before = hook;
    opts.before_user = &s;
    h = rl_open_ex(lib, NULL, 0, RL_NOW, &opts);
    CHECK(h != NULL, "rl_open_ex with a hook calling rl_sym");
    CHECK(s.calls == 1, "the hook ran once for time, got %d", s.calls);
    CHECK(s.found_malloc, "rl_sym/rl_vsym from the hook find malloc");
    CHECK(s.missing_is_null && s.missing_error_named, "rl_sym from the hook reports a missing name");
    CHECK(s.addr_ok, "rl_addr from the hook");
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
