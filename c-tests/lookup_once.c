/* Each distinct symbol an object references is looked up once, however many relocations name
 * it: a lookup hook (consulted at every lookup) sees strlen once for a library that references
 * it through a GOT entry and a data pointer (and a call), while a relocation callback sees each
 * of those relocations. argv[1]: fixture dir holding liblookup_once.so. */
#include "check.h"

static int strlen_lookups, strlen_relocs;

static void *count_lookups(void *user, const char *name, const char *version, const char *requester)
{
    (void)user;
    (void)version;
    if (strcmp(name, "strlen") == 0 && strstr(requester, "liblookup_once.so"))
        strlen_lookups++;
    return NULL;
}

static int count_relocs(void *user, rl_reloc *r)
{
    (void)user;
    if (strcmp(r->name, "strlen") == 0)
        strlen_relocs++;
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/liblookup_once.so", dir);
    rl_open_opts o;
    rl_handle *h;

    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.before = count_lookups;
    o.on_relocation = count_relocs;
    h = rl_open_ex(path, NULL, 0, RL_NOW, &o);
    CHECK(h != NULL, "rl_open_ex(%s)", path);
    CHECK(strlen_relocs >= 2, "the relocation callback saw %d relocations against strlen, expected at least 2",
          strlen_relocs);
    CHECK(strlen_lookups == 1, "strlen was looked up %d times for %d relocations; expected once", strlen_lookups,
          strlen_relocs);
    CHECK(SYM(h, size_t (*)(const char *), "call_strlen")("four") == 4, "call_strlen works");
    CHECK(rl_close(h) == 0, "rl_close");
    free(path);
    CHECKS_DONE();
}
