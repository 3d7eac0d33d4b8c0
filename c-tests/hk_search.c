/* rl_open_opts.search and rl_open_opts.size. libhk_sp_user.so leaves
 * hk_sp_value undefined; libhk_sp_provider.so, opened RL_LOCAL, defines it.
 * argv[1]: fixture dir. */
#include <stddef.h>

#include "check.h"

static int fake_value(void)
{
    return 50;
}

static void *provide_hook(void *user, const char *name, const char *version, const char *requester)
{
    (void)user;
    (void)version;
    (void)requester;
    return strcmp(name, "hk_sp_value") == 0 ? (void *)fake_value : NULL;
}

static int vetoes;

static int veto_all(void *user, rl_reloc *r)
{
    (void)user;
    vetoes++;
    r->veto = "the relocation callback was read";
    return 1;
}

typedef int (*use_fn)(void);

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *user = strf("%s/libhk_sp_user.so", dir);
    char *prov = strf("%s/libhk_sp_provider.so", dir);
    rl_handle *hp, *hu, *self, *bogus[1];
    rl_open_opts opts;
    struct {
        rl_open_opts o;
        char future[32];
    } bigger;

    hp = rl_open(prov, RL_NOW | RL_LOCAL);
    CHECK(hp != NULL, "rl_open(provider, RL_LOCAL)");

    /* Without search: the RL_LOCAL provider is invisible. */
    hu = rl_open(user, RL_NOW);
    CHECK(hu == NULL, "libhk_sp_user.so fails without search");
    EXPECT_ERROR("hk_sp_value", "libhk_sp_user.so");
    memset(&opts, 0, sizeof opts);
    opts.size = sizeof opts;
    hu = rl_open_ex(user, NULL, 0, RL_NOW, &opts);
    CHECK(hu == NULL, "rl_open_ex without search fails too");
    EXPECT_ERROR("hk_sp_value", "libhk_sp_user.so");
    CHECK(!is_mapped(user), "not left mapped");

    /* With search = {provider}. */
    opts.search = &hp;
    opts.search_len = 1;
    hu = rl_open_ex(user, NULL, 0, RL_NOW, &opts);
    CHECK(hu != NULL, "rl_open_ex with search = {provider}");
    CHECK(SYM(hu, use_fn, "hk_sp_use")() == 42, "hk_sp_use() = 2 * hk_sp_value()");
    /* The provider stays loaded while the library bound to it is. */
    CHECK(rl_close(hp) == 0, "close the provider's handle");
    CHECK(is_mapped(prov), "the provider stays mapped while libhk_sp_user.so uses it");
    CHECK(SYM(hu, use_fn, "hk_sp_use")() == 42, "still callable");
    CHECK(rl_close(hu) == 0, "close user");
    CHECK(!is_mapped(prov) && !is_mapped(user), "both unloaded");

    /* Lazily bound through search. */
    hp = rl_open(prov, RL_NOW | RL_LOCAL);
    CHECK(hp != NULL, "reopen provider");
    hu = rl_open_ex(user, NULL, 0, RL_LAZY, &opts);
    CHECK(hu != NULL, "rl_open_ex(RL_LAZY) with search");
    CHECK(SYM(hu, use_fn, "hk_sp_use")() == 42, "RL_LAZY through search");
    CHECK(rl_close(hu) == 0, "close user");

    /* A handle that is not open is refused. */
    bogus[0] = (rl_handle *)(uintptr_t)0x7777;
    opts.search = bogus;
    hu = rl_open_ex(user, NULL, 0, RL_NOW, &opts);
    CHECK(hu == NULL, "search with an invalid handle is refused");
    EXPECT_SOME_ERROR();
    /* The global-scope handle is accepted (and adds nothing). */
    self = rl_open(NULL, RL_NOW);
    opts.search = &self;
    hu = rl_open_ex(user, NULL, 0, RL_NOW, &opts);
    CHECK(hu == NULL, "search = {global scope} does not find the RL_LOCAL provider");
    EXPECT_ERROR("hk_sp_value");

    /* size covering only up to after_user: later fields are ignored. */
    memset(&opts, 0, sizeof opts);
    opts.size = offsetof(rl_open_opts, after_user) + sizeof opts.after_user;
    opts.before = provide_hook;
    opts.search = bogus;    /* would be refused if read */
    opts.search_len = 1;
    opts.on_relocation = veto_all; /* would veto if read */
    hu = rl_open_ex(user, NULL, 0, RL_NOW, &opts);
    CHECK(hu != NULL, "rl_open_ex with size = offsetof(after_user) + 8");
    CHECK(vetoes == 0, "the relocation callback beyond size is not called");
    CHECK(SYM(hu, use_fn, "hk_sp_use")() == 100, "the before hook within size is used");
    CHECK(rl_close(hu) == 0, "close");

    /* size covering only `size` and `before`: before_user and the rest are ignored. */
    opts.size = offsetof(rl_open_opts, before_user);
    opts.before_user = (void *)0x1;
    hu = rl_open_ex(user, NULL, 0, RL_NOW, &opts);
    CHECK(hu != NULL, "rl_open_ex with size = offsetof(before_user)");
    CHECK(SYM(hu, use_fn, "hk_sp_use")() == 100, "before hook used");
    CHECK(rl_close(hu) == 0, "close");

    /* size = 8: nothing but size: plain open (fails: no provider). */
    opts.size = sizeof opts.size;
    hu = rl_open_ex(user, NULL, 0, RL_NOW, &opts);
    CHECK(hu == NULL && vetoes == 0, "size = 8: no hook, no callback");
    EXPECT_ERROR("hk_sp_value");

    /* The full size reads every field. */
    opts.size = sizeof opts;
    opts.search = &hp;
    opts.before_user = NULL;
    hu = rl_open_ex(user, NULL, 0, RL_NOW, &opts);
    CHECK(hu == NULL && vetoes > 0, "full size: the relocation callback is read and vetoes");
    EXPECT_ERROR("the relocation callback was read", "libhk_sp_user.so");

    /* A caller built against a later, larger rl_open_opts (zeroes past the end). */
    memset(&bigger, 0, sizeof bigger);
    bigger.o.size = sizeof bigger;
    bigger.o.search = &hp;
    bigger.o.search_len = 1;
    hu = rl_open_ex(user, NULL, 0, RL_NOW, &bigger.o);
    CHECK(hu != NULL, "a larger size is accepted");
    CHECK(SYM(hu, use_fn, "hk_sp_use")() == 42, "search used");
    CHECK(rl_close(hu) == 0, "close");

    /* size 0 is rejected with an error, whatever else is set. */
    memset(&opts, 0, sizeof opts);
    opts.size = 0;
    opts.search = &hp;
    opts.search_len = 1;
    vetoes = 0;
    hu = rl_open_ex(user, NULL, 0, RL_NOW, &opts);
    CHECK(hu == NULL, "size 0 is rejected");
    EXPECT_ERROR("size");
    CHECK(!is_mapped(user), "nothing mapped");
    hu = rl_open_ex(prov, NULL, 0, RL_NOW, &opts);
    CHECK(hu == NULL, "size 0 is rejected even for a library that needs nothing");
    EXPECT_ERROR("size");

    /* opts == NULL: a plain open. */
    hu = rl_open_ex(prov, NULL, 0, RL_NOW, NULL);
    CHECK(hu == hp, "rl_open_ex(opts = NULL) returns the loaded provider");
    CHECK(rl_close(hu) == 0 && rl_close(hp) == 0, "close provider");
    CHECK(!is_mapped(prov), "provider unloaded");
    CHECK(rl_close(self) == 0, "close self");
    CHECKS_DONE();
}
