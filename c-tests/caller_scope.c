/* Lookups that depend on who calls, as glibc's do (it takes the caller from
 * the return address of dlsym/dlopen):
 * - rl_sym(RL_NEXT, name) finds the next definition after the calling object
 *   in its lookup order: for a relink-loaded library, the scope of the
 *   library whose rl_open loaded it; for the host's objects, the host
 *   objects after it, then relink's global scope;
 * - rl_sym(RL_DEFAULT, name) searches the global scope, then the calling
 *   library's own group, and keeps what it finds loaded for the caller;
 * - rl_open from inside a library uses that library's DT_RUNPATH and $ORIGIN;
 * - code no loader knows is treated as the program's (RL_NEXT refused).
 * The program is linked against libhost_next.so. argv[1]: fixture dir. */
#include "check.h"

#include <dlfcn.h>
#include <sys/mman.h>

void *host_next(const char *name);

int next_value(void)
{
    return 0;
}

typedef int (*int_fn)(void);
typedef int (*finds_fn)(const char *);

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *top_path = strf("%s/libnext_top.so", dir);
    int_fn f;

    /* From the program. */
    f = (int_fn)rl_sym(RL_NEXT, "next_value");
    CHECK(f != NULL && f() == 10, "RL_NEXT from the program: the next host object's definition");
    f = (int_fn)rl_sym(RL_DEFAULT, "next_value");
    CHECK(f == next_value, "RL_DEFAULT from the program: the global scope, the program first");
    CHECK(rl_sym(RL_NEXT, "printf") == dlsym(RTLD_NEXT, "printf"), "RL_NEXT agrees with RTLD_NEXT");
    CHECK(rl_vsym(RL_NEXT, "printf", "GLIBC_2.2.5") == dlvsym(RTLD_NEXT, "printf", "GLIBC_2.2.5"),
          "rl_vsym too");
    CHECK(rl_sym(RL_DEFAULT, "no_such_symbol_anywhere") == NULL, "RL_DEFAULT miss");
    EXPECT_ERROR("caller_scope: undefined symbol: no_such_symbol_anywhere");

    /* From a host library: nothing after it defines next_value. */
    CHECK(host_next("next_value") == NULL, "RL_NEXT from the last definition");
    EXPECT_ERROR("libhost_next.so: undefined symbol: next_value");

    /* From relink-loaded libraries: the scope of libnext_top.so, which
     * loaded the other two (top, mid, base). */
    rl_handle *top = rl_open(top_path, RL_NOW);
    CHECK(top != NULL, "rl_open(%s)", top_path);
    CHECK(SYM(top, int_fn, "next_after_top")() == 2, "after top: mid");
    CHECK(SYM(top, int_fn, "next_after_mid")() == 3, "after mid: base");
    CHECK(SYM(top, int_fn, "next_after_base")() == -1, "after base: nothing");
    EXPECT_ERROR("libnext_base.so: undefined symbol: next_value");
    CHECK(host_next("next_value") == NULL, "RL_LOCAL libraries are not after the host's objects");
    EXPECT_ERROR("next_value");
    /* RL_GLOBAL: relink's global scope follows the host objects. */
    CHECK(rl_open(top_path, RL_NOW | RL_GLOBAL) == top, "promote to RL_GLOBAL");
    f = (int_fn)host_next("next_value");
    CHECK(f != NULL && f() == 1, "RL_NEXT from the host's last definition reaches relink's global scope");
    CHECK(rl_close(top) == 0 && rl_close(top) == 0, "close");
    CHECK(!is_mapped(top_path), "RL_NEXT pins nothing");

    /* RL_DEFAULT from relink-loaded libraries: the global scope, then their own group. */
    char *user_path = strf("%s/libdef_user.so", dir), *prov_path = strf("%s/libprovider.so", dir);
    rl_handle *user = rl_open(user_path, RL_NOW);
    CHECK(user != NULL, "rl_open(%s)", user_path);
    finds_fn user_finds = SYM(user, finds_fn, "def_user_finds");
    finds_fn dep_finds = SYM(user, finds_fn, "def_dep_finds");
    CHECK(user_finds("dep_only_value") == 22, "the root finds its dependency's definition");
    CHECK(dep_finds("user_only_value") == 21, "the dependency finds the root's: its group");
    CHECK(user_finds("next_value") == 0, "the global scope first: the program's next_value");
    CHECK(rl_sym(RL_DEFAULT, "dep_only_value") == NULL, "not in the global scope for the program");
    EXPECT_ERROR("undefined symbol: dep_only_value");
    rl_handle *prov = rl_open(prov_path, RL_NOW | RL_GLOBAL);
    CHECK(prov != NULL, "rl_open(%s, RL_GLOBAL)", prov_path);
    CHECK(user_finds("provided_value") == 99, "an RL_GLOBAL library's definition");
    CHECK(rl_close(prov) == 0, "close the provider");
    CHECK(is_mapped(prov_path), "kept loaded for the library that looked it up");
    CHECK(rl_close(user) == 0, "close the user");
    CHECK(!is_mapped(prov_path) && !is_mapped(user_path), "both unloaded with it");

    /* Found through RL_DEFAULT from the program, which is never unloaded: the
     * definition never is either, as with the system loader. */
    char *simple = strf("%s/libsimple.so", dir), *simple_dl = strf("%s/libsimple_dl.so", dir);
    rl_handle *g = rl_open(simple, RL_NOW | RL_GLOBAL);
    CHECK(g != NULL && rl_sym(RL_DEFAULT, "simple_triple") == rl_sym(g, "simple_triple"), "RL_DEFAULT finds it");
    CHECK(rl_close(g) == 0 && is_mapped(simple), "still loaded after its last close");
    void *dh = dlopen(simple_dl, RTLD_NOW | RTLD_GLOBAL);
    CHECK(dh != NULL && dlsym(RTLD_DEFAULT, "simple_bump") != NULL, "the system loader's copy");
    CHECK(dlclose(dh) == 0 && is_mapped(simple_dl), "the system loader keeps it too");

    /* rl_open from inside a library: its DT_RUNPATH ($ORIGIN/sub) and $ORIGIN. */
    char *loader_path = strf("%s/plugins/libloader.so", dir);
    rl_handle *loader = rl_open(loader_path, RL_NOW);
    CHECK(loader != NULL, "rl_open(%s)", loader_path);
    rl_handle *(*lopen)(const char *) = SYM(loader, rl_handle * (*)(const char *), "loader_open");
    CHECK(rl_open("libleaf.so", RL_NOW) == NULL, "libleaf.so is not in the program's search path");
    EXPECT_ERROR("libleaf.so: cannot open shared object file");
    rl_handle *leaf = lopen("libleaf.so");
    CHECK(leaf != NULL && SYM(leaf, int_fn, "dst_value")() == 31, "found through the library's DT_RUNPATH");
    rl_handle *leaf2 = lopen("$ORIGIN/sub2/libleaf2.so");
    CHECK(leaf2 != NULL && SYM(leaf2, int_fn, "dst_value")() == 32, "$ORIGIN is the library's directory");
    CHECK(lopen("${ORIGIN}/sub2/libleaf2.so") == leaf2, "${ORIGIN} too");
    CHECK(rl_open("$ORIGIN/plugins/sub2/libleaf2.so", RL_NOW) == leaf2, "and the program's own from the program");
    for (int i = 0; i < 3; i++)
        CHECK(rl_close(leaf2) == 0, "close libleaf2.so");
    CHECK(rl_close(leaf) == 0 && rl_close(loader) == 0, "close");

    /* Code no loader knows (a page of machine code that calls its third
     * argument with the first two): the program's view, RL_NEXT refused. */
    static const unsigned char code[] = {
        0x48, 0x83, 0xec, 0x08, /* sub $8, %rsp */
        0xff, 0xd2,             /* call *%rdx */
        0x48, 0x83, 0xc4, 0x08, /* add $8, %rsp */
        0xc3,                   /* ret */
    };
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED, "mmap");
    memcpy(page, code, sizeof code);
    CHECK(mprotect(page, 4096, PROT_READ | PROT_EXEC) == 0, "mprotect");
    void *(*via)(rl_handle *, const char *, void *(*)(rl_handle *, const char *)) =
        (void *(*)(rl_handle *, const char *, void *(*)(rl_handle *, const char *)))page;
    CHECK(via(RL_NEXT, "printf", rl_sym) == NULL, "RL_NEXT from unknown code");
    EXPECT_ERROR("RL_NEXT used in code not dynamically loaded");
    CHECK(via(RL_DEFAULT, "printf", rl_sym) == dlsym(RTLD_DEFAULT, "printf"), "RL_DEFAULT from unknown code");
    munmap(page, 4096);
    CHECKS_DONE();
}
