/* Units mixed with shared libraries: an object bound to a shared-object input
 * (which the unit keeps loaded), a library opened RL_GLOBAL earlier that the
 * unit binds to (kept loaded by the unit), a library opened later binding to
 * an RL_GLOBAL unit's export (keeping the unit loaded); hooks, relocation
 * callbacks and events apply to units. argv[1]: fixture dir. */
#include "check.h"

static int maps, unmaps, relocs, hooked;
static char seen_requester[512];

static void on_event(void *user, int event, const char *path, void *base, rl_handle *h)
{
    (void)user, (void)base, (void)h;
    if (strstr(path, "mix_user.o")) {
        if (event == RL_EVENT_MAP)
            maps++;
        else
            unmaps++;
    }
}

static int on_reloc(void *user, rl_reloc *r)
{
    (void)user;
    if (strcmp(r->name, "mix_dep_value") == 0) {
        relocs++;
        snprintf(seen_requester, sizeof seen_requester, "%s", r->requester);
    }
    return 0;
}

static int fake_provided(void) { return 123; }

static void *before(void *user, const char *name, const char *version, const char *requester)
{
    (void)user, (void)version, (void)requester;
    if (strcmp(name, "mix_provided") == 0) {
        hooked++;
        return (void *)fake_provided;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *dep = strf("%s/libmix_dep.so", dir), *provider = strf("%s/libmix_provider.so", dir), *late = strf("%s/libmix_late.so", dir);
    rl_input in[2] = {{strf("%s/mix_user.o", dir), NULL, 0, NULL, 0}, {dep, NULL, 0, NULL, 0}};
    rl_handle *p, *u, *l;
    int (*total)(void), (*from_provider)(void), (*late_value)(void);
    rl_open_opts opts;

    CHECK(rl_on_event(on_event, NULL) == 0, "rl_on_event");
    p = rl_open(provider, RL_NOW | RL_GLOBAL);
    CHECK(p != NULL, "open the provider RL_GLOBAL");
    u = rl_link(in, 2, RL_NOW | RL_GLOBAL, NULL);
    CHECK(u != NULL, "rl_link(mix_user.o, libmix_dep.so)");
    CHECK(maps == 1, "a map event for the unit");
    total = SYM(u, int (*)(void), "mix_total");
    from_provider = SYM(u, int (*)(void), "mix_from_provider");
    CHECK(total() == 42, "bound to the shared-object input (%d)", total());
    CHECK(from_provider() == 9, "bound to a library of the global scope");
    CHECK(rl_sym(u, "mix_dep_value") != NULL, "the shared-object input is in the unit's scope");
    CHECK(is_mapped(dep), "the shared-object input is loaded");

    /* The unit keeps what it bound to loaded. */
    CHECK(rl_close(p) == 0, "close the provider's handle");
    CHECK(is_mapped(provider) && from_provider() == 9, "the provider stays: the unit is bound to it");

    /* A library opened later binds to the RL_GLOBAL unit's export, and keeps the unit. */
    l = rl_open(late, RL_NOW);
    CHECK(l != NULL, "open a library that needs the unit's export");
    late_value = SYM(l, int (*)(void), "late_value");
    CHECK(late_value() == 42, "bound to the unit (%d)", late_value());
    CHECK(rl_close(u) == 0, "close the unit's handle");
    CHECK(unmaps == 0 && late_value() == 42 && total() == 42, "the unit stays while a library is bound to it");
    CHECK(rl_close(l) == 0, "close the late library");
    CHECK(unmaps == 1, "now the unit is unloaded");
    CHECK(!is_mapped(dep) && !is_mapped(provider) && !is_mapped(late), "and everything it held");

    /* Per-link options: a lookup hook and a relocation callback apply to the unit. */
    memset(&opts, 0, sizeof opts);
    opts.size = sizeof opts;
    opts.before = before;
    opts.on_relocation = on_reloc;
    p = rl_open(provider, RL_NOW | RL_GLOBAL);
    u = rl_link(in, 2, RL_NOW, &opts);
    CHECK(u != NULL, "rl_link with options");
    from_provider = SYM(u, int (*)(void), "mix_from_provider");
    CHECK(hooked == 1 && from_provider() == 123, "the before hook redirected the unit's reference");
    CHECK(relocs >= 1 && strstr(seen_requester, "mix_user.o"), "the relocation callback saw the unit's relocations (%d, %s)", relocs,
          seen_requester);
    CHECK(rl_close(u) == 0 && rl_close(p) == 0, "close");
    CHECK(rl_off_event(on_event, NULL) == 0, "rl_off_event");
    CHECKS_DONE();
}
