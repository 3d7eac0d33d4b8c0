/* Symbols no library defines: provided by an RL_HOOK_AFTER hook (global and
 * per-open) and by rl_define; rl_undefine makes the next open fail naming
 * the symbol. A before hook wins over the host's own definition of
 * hk_host_fn; an after hook and rl_define do not.
 * argv[1]: fixture dir with libhk_provide.so. */
#include "check.h"

int hk_host_fn(void);

int hk_host_fn(void)
{
    return 1;
}

static int fake_host_fn(void)
{
    return 2;
}

static int provided_by_hook(int x)
{
    return 100 * x;
}

static int provided_by_define(int x)
{
    return 1000 * x;
}

static int var_by_hook = 7;
static int var_by_define = 8;

struct ctx {
    int asked_provided;      /* "hk_provided" */
    int asked_host_fn;       /* "hk_host_fn" */
    int asked_defined_other; /* names some loaded object defines (malloc & co.) */
    int version_was_null;
    int answer_host_fn;
};

static void *after_hook(void *user, const char *name, const char *version, const char *requester)
{
    struct ctx *c = user;
    (void)requester;
    if (strcmp(name, "hk_provided") == 0) {
        c->asked_provided++;
        c->version_was_null = version == NULL;
        return (void *)provided_by_hook;
    }
    if (strcmp(name, "hk_provided_var") == 0)
        return &var_by_hook;
    if (strcmp(name, "hk_host_fn") == 0) {
        c->asked_host_fn++;
        return c->answer_host_fn ? (void *)fake_host_fn : NULL;
    }
    if (strcmp(name, "__cxa_finalize") == 0)
        c->asked_defined_other++;
    return NULL;
}

static void *before_host_hook(void *user, const char *name, const char *version, const char *requester)
{
    struct ctx *c = user;
    (void)version;
    (void)requester;
    if (strcmp(name, "hk_host_fn") == 0) {
        c->asked_host_fn++;
        return (void *)fake_host_fn;
    }
    return NULL;
}

typedef int (*int_fn)(int);
typedef int (*void_fn)(void);

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *lib = strf("%s/libhk_provide.so", dir);
    struct ctx c;
    rl_open_opts opts;
    rl_handle *h;

    /* Nobody provides hk_provided. */
    h = rl_open(lib, RL_NOW);
    CHECK(h == NULL, "libhk_provide.so must not load without a provider");
    EXPECT_ERROR("hk_provided", "libhk_provide.so");
    CHECK(!is_mapped(lib), "not left mapped");

    /* A global after hook provides it (and is not asked about defined names). */
    memset(&c, 0, sizeof c);
    CHECK(rl_hook_add(after_hook, &c, RL_HOOK_AFTER) == 0, "rl_hook_add(AFTER)");
    h = rl_open(lib, RL_NOW);
    CHECK(h != NULL, "loads with a global after hook");
    CHECK(SYM(h, int_fn, "hk_use")(3) == 301, "hk_use(3) calls the hook's function");
    CHECK(SYM(h, void_fn, "hk_read_var")() == 7, "hk_read_var() reads the hook's variable");
    CHECK(c.asked_provided == 1 && c.version_was_null, "asked once for hk_provided, version NULL");
    CHECK(c.asked_host_fn == 0, "an after hook is not asked for hk_host_fn, which the host defines");
    CHECK(c.asked_defined_other == 0, "an after hook is not asked for __cxa_finalize, which libc defines");
    CHECK(SYM(h, void_fn, "hk_call_host")() == 1, "hk_host_fn is the host's");
    CHECK(rl_close(h) == 0, "close");

    /* An after hook that would answer for hk_host_fn does not override the host. */
    c.answer_host_fn = 1;
    h = rl_open(lib, RL_NOW);
    CHECK(h != NULL, "loads");
    CHECK(SYM(h, void_fn, "hk_call_host")() == 1, "after hook: the host's definition is used");
    CHECK(c.asked_host_fn == 0, "after hook not asked for hk_host_fn");
    CHECK(rl_close(h) == 0, "close");
    CHECK(rl_hook_remove(after_hook, &c) == 0, "rl_hook_remove");

    h = rl_open(lib, RL_NOW);
    CHECK(h == NULL, "fails again once the hook is removed");
    EXPECT_ERROR("hk_provided", "libhk_provide.so");

    /* Per-open after hook; lazily bound (at the first call) too. */
    memset(&c, 0, sizeof c);
    memset(&opts, 0, sizeof opts);
    opts.size = sizeof opts;
    opts.after = after_hook;
    opts.after_user = &c;
    h = rl_open_ex(lib, NULL, 0, RL_NOW, &opts);
    CHECK(h != NULL, "loads with a per-open after hook");
    CHECK(SYM(h, int_fn, "hk_use")(2) == 201, "hk_use(2) with the per-open after hook");
    CHECK(SYM(h, void_fn, "hk_read_var")() == 7, "hk_read_var() with the per-open after hook");
    CHECK(rl_close(h) == 0, "close");
    memset(&c, 0, sizeof c);
    h = rl_open_ex(lib, NULL, 0, RL_LAZY, &opts);
    CHECK(h != NULL, "loads RL_LAZY with a per-open after hook");
    CHECK(c.asked_provided == 0, "RL_LAZY: hk_provided not asked for at open");
    CHECK(SYM(h, int_fn, "hk_use")(4) == 401, "RL_LAZY: hk_use(4)");
    CHECK(c.asked_provided == 1, "RL_LAZY: asked at the first call");
    CHECK(rl_close(h) == 0, "close");

    /* rl_define. */
    CHECK(rl_define("hk_provided", (void *)provided_by_define) == 0, "rl_define(hk_provided)");
    CHECK(rl_define("hk_provided_var", &var_by_define) == 0, "rl_define(hk_provided_var)");
    h = rl_open(lib, RL_NOW);
    CHECK(h != NULL, "loads with rl_define");
    CHECK(SYM(h, int_fn, "hk_use")(3) == 3001, "hk_use(3) calls the defined function");
    CHECK(SYM(h, void_fn, "hk_read_var")() == 8, "hk_read_var() reads the defined variable");
    CHECK(rl_close(h) == 0, "close");
    /* Defined names come before the after hooks. */
    memset(&c, 0, sizeof c);
    CHECK(rl_hook_add(after_hook, &c, RL_HOOK_AFTER) == 0, "rl_hook_add(AFTER)");
    h = rl_open(lib, RL_NOW);
    CHECK(h != NULL, "loads");
    CHECK(SYM(h, int_fn, "hk_use")(1) == 1001, "rl_define wins over an after hook");
    CHECK(c.asked_provided == 0, "the after hook is not asked for a defined name");
    CHECK(rl_close(h) == 0, "close");
    CHECK(rl_hook_remove(after_hook, &c) == 0, "rl_hook_remove");
    /* Redefining replaces the address. */
    CHECK(rl_define("hk_provided", (void *)provided_by_hook) == 0, "redefine");
    h = rl_open(lib, RL_NOW);
    CHECK(h != NULL && SYM(h, int_fn, "hk_use")(1) == 101, "the redefinition is used");
    /* Bindings made with it stay after rl_undefine. */
    CHECK(rl_undefine("hk_provided") == 0, "rl_undefine(hk_provided)");
    CHECK(SYM(h, int_fn, "hk_use")(5) == 501, "an open library keeps its binding");
    CHECK(rl_close(h) == 0, "close");
    h = rl_open(lib, RL_NOW);
    CHECK(h == NULL, "fails once hk_provided is undefined");
    EXPECT_ERROR("hk_provided", "libhk_provide.so");
    CHECK(!is_mapped(lib), "not left mapped");
    CHECK(rl_undefine("hk_provided") == -1, "undefining twice fails");
    EXPECT_ERROR("hk_provided");
    CHECK(rl_undefine("hk_provided_var") == 0, "rl_undefine(hk_provided_var)");
    /* rl_define does not override a definition the host has. */
    CHECK(rl_define("hk_provided", (void *)provided_by_define) == 0, "define again");
    CHECK(rl_define("hk_provided_var", &var_by_define) == 0, "define again");
    CHECK(rl_define("hk_host_fn", (void *)fake_host_fn) == 0, "rl_define(hk_host_fn)");
    h = rl_open(lib, RL_NOW);
    CHECK(h != NULL, "loads");
    CHECK(SYM(h, void_fn, "hk_call_host")() == 1, "rl_define: the host's own hk_host_fn is used");

    /* A before hook wins over the host's definition. */
    CHECK(rl_close(h) == 0, "close");
    memset(&c, 0, sizeof c);
    CHECK(rl_hook_add(before_host_hook, &c, RL_HOOK_BEFORE) == 0, "rl_hook_add(BEFORE)");
    h = rl_open(lib, RL_NOW);
    CHECK(h != NULL, "loads");
    CHECK(SYM(h, void_fn, "hk_call_host")() == 2, "global before hook beats the host's definition");
    CHECK(c.asked_host_fn == 1, "asked once");
    CHECK(rl_close(h) == 0, "close");
    CHECK(rl_hook_remove(before_host_hook, &c) == 0, "rl_hook_remove");
    memset(&opts, 0, sizeof opts);
    opts.size = sizeof opts;
    opts.before = before_host_hook;
    opts.before_user = &c;
    h = rl_open_ex(lib, NULL, 0, RL_NOW, &opts);
    CHECK(h != NULL, "loads");
    CHECK(SYM(h, void_fn, "hk_call_host")() == 2, "per-open before hook beats the host's definition");
    CHECK(rl_close(h) == 0, "close");
    h = rl_open(lib, RL_NOW);
    CHECK(h != NULL && SYM(h, void_fn, "hk_call_host")() == 1, "without hooks: the host's definition");
    CHECK(rl_close(h) == 0, "close");
    CHECK(rl_undefine("hk_provided") == 0 && rl_undefine("hk_provided_var") == 0 &&
          rl_undefine("hk_host_fn") == 0, "undefine all");
    CHECK(rl_hook_add(after_hook, &c, 3) == -1, "a bad phase is refused");
    EXPECT_ERROR("phase");
    CHECKS_DONE();
}
