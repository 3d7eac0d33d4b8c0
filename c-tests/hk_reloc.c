/* Relocation callbacks (rl_open_opts.on_relocation): what a callback sees for
 * a known fixture (requester, name, version, r_type, place, value), a callback
 * that replaces one relocation's value, eagerly and at a lazy first call, and a
 * callback that vetoes the load (in the library or in its dependency): NULL
 * from rl_open_ex with the message and the file in rl_error(), nothing left
 * mapped, no descriptor leaked. argv[1]: fixture dir with libhk_reloc.so,
 * which needs libhk_rdep.so. */
#include "check.h"

#define R_X86_64_64 1
#define R_X86_64_GLOB_DAT 6
#define R_X86_64_JUMP_SLOT 7

struct rec {
    char requester[PATH_MAX];
    unsigned r_type;
    char name[128];
    char version[64];
    int has_version;
    void *place;
    size_t value;
};

struct rctx {
    int n;
    struct rec recs[256];
    /* Veto the first relocation against veto_name (from a requester ending with veto_from). */
    const char *veto_name;
    const char *veto_from;
    const char *veto_msg;
    /* Replace the value of redirect_name's relocation of type redirect_type. */
    const char *redirect_name;
    unsigned redirect_type;
    size_t redirect_to;
};

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int on_reloc(void *user, rl_reloc *r)
{
    struct rctx *c = user;
    if (c->n < (int)(sizeof c->recs / sizeof c->recs[0])) {
        struct rec *e = &c->recs[c->n++];
        snprintf(e->requester, sizeof e->requester, "%s", r->requester);
        snprintf(e->name, sizeof e->name, "%s", r->name);
        e->has_version = r->version != NULL;
        snprintf(e->version, sizeof e->version, "%s", r->version ? r->version : "");
        e->r_type = r->r_type;
        e->place = r->place;
        e->value = r->value;
    }
    if (c->veto_name != NULL && strcmp(r->name, c->veto_name) == 0 &&
        (c->veto_from == NULL || ends_with(r->requester, c->veto_from))) {
        r->veto = c->veto_msg;
        return 1;
    }
    if (c->redirect_name != NULL && strcmp(r->name, c->redirect_name) == 0 && r->r_type == c->redirect_type)
        r->value = c->redirect_to;
    return 0;
}

/* The records for (requester, name, r_type); *out = the last one. */
static int count_recs(struct rctx *c, const char *requester, const char *name, unsigned type, struct rec **out)
{
    int i, n = 0;
    for (i = 0; i < c->n; i++) {
        struct rec *e = &c->recs[i];
        if (strcmp(e->requester, requester) == 0 && strcmp(e->name, name) == 0 && e->r_type == type) {
            n++;
            if (out)
                *out = e;
        }
    }
    return n;
}

static int host_mul(int a, int b)
{
    return a * b;
}

static int host_var = 4242;

/* Is addr inside the relink-loaded object loaded from path? */
static int inside(const void *addr, const char *path)
{
    rl_addr_info info;
    return rl_addr(addr, &info) && info.fname != NULL && strcmp(info.fname, path) == 0;
}

typedef int (*add_fn)(int, int);
typedef int (*read_fn)(void);

static rl_open_opts opts_for(struct rctx *c)
{
    rl_open_opts o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.on_relocation = on_reloc;
    o.relocation_user = c;
    return o;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *lib = strf("%s/libhk_reloc.so", dir);
    char *dep = strf("%s/libhk_rdep.so", dir);
    static struct rctx c;
    rl_open_opts o;
    rl_handle *h, *self;
    struct rec *e = NULL;
    void *var, *add, *var_ptr_slot, *real_malloc;
    const char *dep_name = NULL;
    int fds, i;

    self = rl_open(NULL, RL_NOW);
    CHECK(self != NULL, "rl_open(NULL)");
    real_malloc = rl_sym(self, "malloc");
    CHECK(real_malloc != NULL, "malloc in the global scope");

    /* 1: what the callback sees (RL_NOW: every symbolic relocation at open). */
    memset(&c, 0, sizeof c);
    o = opts_for(&c);
    h = rl_open_ex(lib, NULL, 0, RL_NOW, &o);
    CHECK(h != NULL, "rl_open_ex(%s) with an observing callback", lib);
    var = SYM(h, void *, "hk_rdep_var");
    add = SYM(h, void *, "hk_rdep_add");
    var_ptr_slot = SYM(h, void *, "hk_var_ptr");

    CHECK(count_recs(&c, lib, "hk_rdep_var", R_X86_64_GLOB_DAT, &e) == 1, "one GLOB_DAT against hk_rdep_var");
    CHECK(!e->has_version, "hk_rdep_var is unversioned: version NULL");
    CHECK(e->value == (size_t)var, "GLOB_DAT value is &hk_rdep_var");
    CHECK(inside(e->place, lib), "GLOB_DAT place is in libhk_reloc.so's GOT");
    CHECK(*(void **)e->place == var, "the GOT entry holds the value shown");

    CHECK(count_recs(&c, lib, "hk_rdep_var", R_X86_64_64, &e) == 1, "one R_X86_64_64 against hk_rdep_var");
    CHECK(!e->has_version, "version NULL");
    CHECK(e->place == var_ptr_slot, "R_X86_64_64 place is &hk_var_ptr");
    CHECK(e->value == (size_t)var, "R_X86_64_64 value is &hk_rdep_var + 0");

    CHECK(count_recs(&c, lib, "hk_rdep_add", R_X86_64_JUMP_SLOT, &e) == 1, "one JUMP_SLOT against hk_rdep_add");
    CHECK(!e->has_version, "version NULL");
    CHECK(e->value == (size_t)add, "JUMP_SLOT value is hk_rdep_add");
    CHECK(inside(e->place, lib), "JUMP_SLOT place is in libhk_reloc.so");

    CHECK(count_recs(&c, lib, "malloc", R_X86_64_JUMP_SLOT, &e) == 1, "one JUMP_SLOT against malloc");
    CHECK(e->has_version && strcmp(e->version, "GLIBC_2.2.5") == 0, "malloc's version is GLIBC_2.2.5, got %s",
          e->has_version ? e->version : "NULL");
    CHECK(e->value == (size_t)real_malloc, "malloc's value is the C library's malloc");

    /* The dependency's own relocations are shown too, with its path as requester. */
    for (i = 0; i < c.n; i++)
        if (strcmp(c.recs[i].name, "strlen") == 0)
            dep_name = c.recs[i].requester;
    CHECK(dep_name != NULL, "the dependency's strlen relocation was shown");
    CHECK(strcmp(canonical(dep_name), canonical(dep)) == 0, "its requester is libhk_rdep.so: %s", dep_name);
    CHECK(count_recs(&c, lib, "strlen", R_X86_64_JUMP_SLOT, NULL) == 0, "libhk_reloc.so has no strlen reference");
    CHECK(SYM(h, read_fn, "hk_read_var")() == 7, "hk_read_var()");
    CHECK(SYM(h, add_fn, "hk_add")(3, 4) == 7, "hk_add(3, 4) unchanged");
    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(lib) && !is_mapped(dep), "unloaded");

    /* 2: replace values: hk_rdep_add's JUMP_SLOT -> host_mul; hk_rdep_var's
     * R_X86_64_64 -> host_var (its GLOB_DAT is left alone). */
    memset(&c, 0, sizeof c);
    c.redirect_name = "hk_rdep_add";
    c.redirect_type = R_X86_64_JUMP_SLOT;
    c.redirect_to = (size_t)host_mul;
    o = opts_for(&c);
    h = rl_open_ex(lib, NULL, 0, RL_NOW, &o);
    CHECK(h != NULL, "open with a redirecting callback");
    CHECK(SYM(h, add_fn, "hk_add")(3, 4) == 12, "hk_add(3, 4) now multiplies");
    CHECK(SYM(h, add_fn, "hk_rdep_add")(3, 4) == 7, "hk_rdep_add itself is intact");
    CHECK(rl_close(h) == 0, "close");

    memset(&c, 0, sizeof c);
    c.redirect_name = "hk_rdep_var";
    c.redirect_type = R_X86_64_64;
    c.redirect_to = (size_t)&host_var;
    o = opts_for(&c);
    h = rl_open_ex(lib, NULL, 0, RL_NOW, &o);
    CHECK(h != NULL, "open with a data-redirecting callback");
    CHECK(*SYM(h, int **, "hk_var_ptr") == &host_var, "hk_var_ptr points at the host's variable");
    CHECK(SYM(h, read_fn, "hk_read_var")() == 7, "the GLOB_DAT reference still reads hk_rdep_var");
    CHECK(rl_close(h) == 0, "close");

    /* 3: RL_LAZY: the PLT relocation is shown at the first call, and may be redirected then. */
    memset(&c, 0, sizeof c);
    c.redirect_name = "hk_rdep_add";
    c.redirect_type = R_X86_64_JUMP_SLOT;
    c.redirect_to = (size_t)host_mul;
    o = opts_for(&c);
    h = rl_open_ex(lib, NULL, 0, RL_LAZY, &o);
    CHECK(h != NULL, "open RL_LAZY with a redirecting callback");
    CHECK(count_recs(&c, lib, "hk_rdep_add", R_X86_64_JUMP_SLOT, NULL) == 0, "RL_LAZY: the slot is not shown at open");
    CHECK(count_recs(&c, lib, "hk_rdep_var", R_X86_64_GLOB_DAT, NULL) == 1, "RL_LAZY: data is bound at open");
    CHECK(SYM(h, add_fn, "hk_add")(5, 6) == 30, "RL_LAZY: redirected at the first call");
    CHECK(count_recs(&c, lib, "hk_rdep_add", R_X86_64_JUMP_SLOT, &e) == 1, "RL_LAZY: shown at the first call");
    CHECK(e->value == (size_t)SYM(h, void *, "hk_rdep_add"), "RL_LAZY: the value shown is the one relink computed");
    CHECK(inside(e->place, lib), "RL_LAZY: place in libhk_reloc.so");
    CHECK(SYM(h, add_fn, "hk_add")(2, 2) == 4 && count_recs(&c, lib, "hk_rdep_add", R_X86_64_JUMP_SLOT, NULL) == 1,
          "RL_LAZY: shown once");
    CHECK(rl_close(h) == 0, "close");

    /* 4: veto in the library itself. */
    fds = count_fds();
    memset(&c, 0, sizeof c);
    c.veto_name = "hk_rdep_add";
    c.veto_msg = "hk test refuses hk_rdep_add";
    o = opts_for(&c);
    h = rl_open_ex(lib, NULL, 0, RL_NOW, &o);
    CHECK(h == NULL, "a vetoed load returns NULL");
    EXPECT_ERROR("hk test refuses hk_rdep_add", "libhk_reloc.so");
    CHECK(!is_mapped(lib) && !is_mapped(dep), "nothing of a vetoed load stays mapped");
    CHECK(count_fds() == fds, "no descriptor leaked (%d before, %d after)", fds, count_fds());
    CHECK(rl_open(lib, RL_NOW | RL_NOLOAD) == NULL && rl_open(dep, RL_NOW | RL_NOLOAD) == NULL,
          "neither object is registered");
    CHECK(rl_error() == NULL, "an RL_NOLOAD miss is no error");

    /* ... in the dependency (relocated first), with its path in the message. */
    memset(&c, 0, sizeof c);
    c.veto_name = "strlen";
    c.veto_from = "libhk_rdep.so";
    c.veto_msg = "no strlen for the dependency";
    o = opts_for(&c);
    h = rl_open_ex(lib, NULL, 0, RL_NOW, &o);
    CHECK(h == NULL, "a load vetoed in the dependency returns NULL");
    EXPECT_ERROR("no strlen for the dependency", "libhk_rdep.so");
    CHECK(!is_mapped(lib) && !is_mapped(dep), "nothing stays mapped");
    CHECK(count_fds() == fds, "no descriptor leaked");

    /* ... without a message, from memory. */
    {
        size_t len;
        char *image = read_file_or_die(lib, &len);
        memset(&c, 0, sizeof c);
        c.veto_name = "malloc";
        o = opts_for(&c);
        h = rl_open_ex("hk-reloc-in-memory", image, len, RL_NOW, &o);
        free(image);
        CHECK(h == NULL, "a vetoed in-memory load returns NULL");
        EXPECT_ERROR("hk-reloc-in-memory");
        CHECK(!is_mapped(dep), "its dependency is not left mapped");
        CHECK(count_fds() == fds, "no descriptor leaked");
    }

    /* Many vetoed loads leak neither mappings nor descriptors, and a normal load works after. */
    for (i = 0; i < 50; i++) {
        memset(&c, 0, sizeof c);
        c.veto_name = "hk_rdep_var";
        c.veto_msg = "again";
        o = opts_for(&c);
        CHECK(rl_open_ex(lib, NULL, 0, i % 2 ? RL_LAZY : RL_NOW, &o) == NULL, "vetoed (%d)", i);
        EXPECT_ERROR("again", "libhk_reloc.so");
    }
    CHECK(count_fds() == fds && !is_mapped(lib) && !is_mapped(dep), "after 50 vetoed loads: clean");
    h = rl_open(lib, RL_NOW);
    CHECK(h != NULL && SYM(h, add_fn, "hk_add")(1, 2) == 3, "opens normally after vetoed loads");
    CHECK(rl_close(h) == 0, "close");
    CHECK(rl_close(self) == 0, "close self");
    CHECKS_DONE();
}
